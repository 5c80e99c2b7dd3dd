# Jobs that must end, and what their log says (issue 11, items 5 and 12):
#  (a) seongsu.cancel_job by an operator: a job the worker is fetching stops
#      within about a second, writes none of its rows, and says who
#      cancelled it; the worker goes on with the next job;
#  (b) an upstream that reports list_total_count / totalCount 99,999,999,999
#      and serves empty pages past the real end: paging stops at the short
#      (seoul_daily) or empty (seoul_hour_profile) page; one that serves full
#      pages forever fails the job at the cap of 100 pages per request;
#  (c) ingest_log.at is when each response arrived, not when the log row
#      was written.
# Uses the replay server's synthetic series (no data folder needed).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use SeongsuTest qw(start_replay set_faults served reset_served replay_urls);

my $base = start_replay(seoul_key => 'SEOULKEY', dgk_key => 'DGKKEY');

my $node = PostgreSQL::Test::Cluster->new('job_control');
$node->init;
$node->append_conf('postgresql.conf', <<"EOC");
shared_preload_libraries = 'daily_seongsu'
seongsu.database = 'postgres'
seongsu.seoul_api_key = 'SEOULKEY'
seongsu.data_go_kr_key = 'DGKKEY'
@{[ replay_urls($base) ]}
seongsu.http_timeout_ms = 10000
seongsu.max_concurrency = 2
seongsu.job_max_attempts = 1
EOC
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION daily_seongsu');
$node->safe_psql('postgres', 'CREATE ROLE op LOGIN IN ROLE seongsu_operator');

sub q1 { return $node->safe_psql('postgres', $_[0]); }
sub as_op { return $node->safe_psql('postgres', $_[0], extra_params => [ '-U', 'op' ]); }

# Poll (20 ms steps, at most 60 s) until the replay server has answered n requests of route.
sub wait_served
{
	my ($route, $n) = @_;
	my $deadline = time + 60;
	usleep(20_000) while served($base, $route) < $n && time < $deadline;
	return served($base, $route);
}

# ======================================================================
# (a) cancel_job stops a running job
# ======================================================================
# 90 days, 200 ms a request, 2 at a time: about 9 s of fetching.
set_faults($base, { match => 'CardSubwayStatsNew', fault => 'latency', ms => 200 });
reset_served($base);
my $long = as_op("SELECT seongsu.enqueue('seoul_daily', '2023-01-01', '2023-03-31')");
my $seen = wait_served('CardSubwayStatsNew', 6);
cmp_ok($seen, '>=', 6, '(a) the job is fetching');
is(q1("SELECT state FROM seongsu.jobs WHERE id = $long"), 'running', '(a) and running');
my $t0 = time;
is(as_op("SELECT seongsu.cancel_job($long)"), 'cancelled', '(a) an operator cancels it');
my $at_cancel = served($base, 'CardSubwayStatsNew');
# The worker is free again once it has noticed: the next job runs at once.
my $next = as_op("SELECT seongsu.enqueue('kasi_holidays', '2024-01-01', '2024-01-31')");
is(q1("SELECT seongsu.wait_for_job($next, '60 seconds')"), 'done', '(a) the next job runs');
my $free_after = time - $t0;
cmp_ok($free_after, '<', 3, sprintf('(a) the worker was free %.1f s after the cancel (the job had ~8 s to go)', $free_after));
cmp_ok(served($base, 'CardSubwayStatsNew') - $at_cancel, '<=', 12,
	'(a) at most about a second of requests after the cancel');
is(q1("SELECT state || ' | ' || last_error FROM seongsu.jobs WHERE id = $long"), 'failed | cancelled by op',
	'(a) failed, cancelled by op');
is(q1("SELECT count(*) FROM seongsu.ridership_daily WHERE day >= '2023-01-01' AND day <= '2023-03-31'"), '0',
	'(a) none of its rows written');
# (less the 2 that may have been in flight when they were counted)
cmp_ok(q1("SELECT count(*) FROM seongsu.ingest_log WHERE job_id = $long AND http_status = 200"), '>=', $seen - 2,
	'(a) its requests are logged');
is(q1("SELECT count(*) FROM seongsu.ingest_log WHERE job_id = $long AND rows_written <> 0"), '0',
	'(a) with no rows written');
is(as_op("SELECT seongsu.cancel_job($long)"), 'failed', '(a) cancelling it again changes nothing');
is(as_op("SELECT seongsu.cancel_job($next)"), 'done', '(a) nor does cancelling a job that is done');
my ($ret, $out, $err) = $node->psql('postgres', "UPDATE seongsu.jobs SET state = 'pending' WHERE id = $long",
	extra_params => [ '-U', 'op' ]);
like($err, qr/permission denied for table jobs/, '(a) an operator cannot write jobs directly');

# ======================================================================
# (b) endless pages
# ======================================================================
set_faults($base, { match => 'CardSubwayStatsNew', fault => 'endless_pages' },
	{ match => 'CardSubwayTime', fault => 'endless_pages' },
	{ match => 'getVilageFcst', fault => 'endless_pages', mode => 'repeat' });
my $daily = as_op("SELECT seongsu.enqueue('seoul_daily', '2023-04-01', '2023-04-05')");
is(q1("SELECT seongsu.wait_for_job($daily, '20 seconds')"), 'done', '(b) seoul_daily with a total of 99,999,999,999: done');
is(q1("SELECT requests || ' ' || rows_written FROM seongsu.jobs WHERE id = $daily"), '5 ' . 5 * 607,
	'(b) one request a day (607 rows: a short page), every row written');
is(q1("SELECT count(*) FROM seongsu.ingest_log WHERE job_id = $daily AND url LIKE '%/CardSubwayStatsNew/1/1000/%'"), '5',
	'(b) only first pages asked for');

my $profile = as_op("SELECT seongsu.enqueue('seoul_hour_profile', '2023-04-01', '2023-05-31')");
is(q1("SELECT seongsu.wait_for_job($profile, '60 seconds')"), 'done', '(b) seoul_hour_profile: done');
is(q1("SELECT string_agg(regexp_replace(url, '^.*/CardSubwayTime/', '') || ':' || rows_parsed, ' ' ORDER BY url COLLATE \"C\") "
	  . "FROM seongsu.ingest_log WHERE job_id = $profile"),
	'1/1000/202304:' . 607 * 24 . ' 1/1000/202305:' . 607 * 24 . ' 1001/2000/202304:0 1001/2000/202305:0',
	'(b) two pages a month: the second is empty, and paging stops there');
is(q1("SELECT count(DISTINCT month) || ' ' || count(*) FROM seongsu.hour_profile"), '2 ' . 2 * 607 * 24,
	'(b) both months written');

my $today = q1("SELECT (now() AT TIME ZONE 'Asia/Seoul')::date");
my $forecast = as_op("SELECT seongsu.enqueue('kma_forecast', '$today')");
is(q1("SELECT seongsu.wait_for_job($forecast, '120 seconds')"), 'failed', '(b) full pages forever: failed');
my ($requests, $error) = split /\|/, q1("SELECT requests, last_error FROM seongsu.jobs WHERE id = $forecast");
is($requests, '100', '(b) after 100 pages of its one request');
like($error, qr/reports 99999999999 rows, more than 100 pages/, '(b) the error says why');
is(q1("SELECT count(*) FROM seongsu.weather_forecast"), '0', '(b) no forecast row written');
set_faults($base);

# ======================================================================
# (c) ingest_log.at: when each response arrived
# ======================================================================
# 6 days, 300 ms a request, 2 at a time: three pairs of responses ~300 ms apart.
set_faults($base, { match => 'CardSubwayStatsNew', fault => 'latency', ms => 300 });
my $timed = as_op("SELECT seongsu.enqueue('seoul_daily', '2023-05-01', '2023-05-06')");
is(q1("SELECT seongsu.wait_for_job($timed, '60 seconds')"), 'done', '(c) done');
my ($first, $spread, $last) = split /\|/, q1(
	"SELECT extract(epoch FROM min(l.at) - j.started_at), extract(epoch FROM max(l.at) - min(l.at)), "
	  . "max(l.at) <= j.finished_at FROM seongsu.ingest_log l JOIN seongsu.jobs j ON j.id = l.job_id "
	  . "WHERE l.job_id = $timed GROUP BY j.started_at, j.finished_at");
cmp_ok($first, '>=', 0.25, "(c) the first response is logged at its arrival, ${first} s after the start");
cmp_ok($spread, '>=', 0.5, "(c) the responses are logged ${spread} s apart, as they arrived");
is($last, 't', '(c) all before the job finished');
set_faults($base);

$node->stop;
done_testing();
