# DROP EXTENSION while the worker fetches a job, then CREATE EXTENSION at
# once (issue 11, item 7): the old job's results never reach the new
# installation — no rows, no log rows, and the new job that gets the same
# id keeps its own state.  The worker notices within about a second, says
# so once in the server log, stops fetching and does not restart.
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
my $WORKER = 'daily_seongsu ingest';

my $node = PostgreSQL::Test::Cluster->new('reinstall');
$node->init;
$node->append_conf('postgresql.conf', <<"EOC");
shared_preload_libraries = 'daily_seongsu'
seongsu.database = 'postgres'
seongsu.seoul_api_key = 'SEOULKEY'
seongsu.data_go_kr_key = 'DGKKEY'
@{[ replay_urls($base) ]}
seongsu.http_timeout_ms = 10000
seongsu.max_concurrency = 2
EOC
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION daily_seongsu');

sub q1 { return $node->safe_psql('postgres', $_[0]); }

# 91 days, 100 ms a request, 2 at a time: about 4.5 s of fetching.
set_faults($base, { match => 'CardSubwayStatsNew', fault => 'latency', ms => 100 });
reset_served($base);
my $old = q1("SELECT seongsu.enqueue('seoul_daily', '2016-01-01', '2016-03-31')");
my $deadline = time + 60;
usleep(20_000) while served($base, 'CardSubwayStatsNew') < 10 && time < $deadline;
is(q1("SELECT state FROM seongsu.jobs WHERE id = $old"), 'running', 'the old job is fetching');
my $worker = q1("SELECT pid FROM pg_stat_activity WHERE backend_type = '$WORKER'");

my $offset = -s $node->logfile;
q1('DROP EXTENSION daily_seongsu CASCADE');
q1('CREATE EXTENSION daily_seongsu');
my $new = q1("SELECT seongsu.enqueue('kasi_holidays', '2024-01-01', '2024-03-31')");
is($new, $old, "the new installation's first job has the old job's id ($new)");

# Wait until the worker has dealt with the old job: it says so, or (without
# the check) its rows arrive.
my $discarded = qr/job $old belongs to an installation of the extension that was dropped; its results are discarded/;
$deadline = time + 60;
while (time < $deadline)
{
	last if slurp_file($node->logfile, $offset) =~ $discarded;
	last if q1('SELECT count(*) FROM seongsu.ridership_daily') > 0;
	usleep(100_000);
}
my $log = slurp_file($node->logfile, $offset);
my @said = ($log =~ /^.*$discarded.*$/mg);
is(scalar @said, 1, 'the worker logs once that it discarded the old job') or diag($log);
cmp_ok(served($base, 'CardSubwayStatsNew'), '<', 91, 'and stopped fetching it early');

is(q1("SELECT seongsu.wait_for_job($new, '60 seconds')"), 'done', 'the new job runs');
is(q1('SELECT count(*) FROM seongsu.ridership_daily'), '0', 'no row of the old job in the new installation');
is(q1('SELECT count(*) FROM seongsu.stations'), '0', 'nor any station it saw');
is(q1("SELECT count(*) FROM seongsu.ingest_log WHERE url LIKE '%CardSubwayStatsNew%'"), '0',
	'no log row of the old job');
is(q1("SELECT source || ' ' || state || ' ' || requests || ' ' || (rows_written > 0) FROM seongsu.jobs WHERE id = $new"),
	'kasi_holidays done 3 true', 'the new job with the same id keeps its own state');
is(q1("SELECT count(*) || ' ' || count(*) FILTER (WHERE url LIKE '%getRestDeInfo%') FROM seongsu.ingest_log"), '3 3',
	'the log holds the new job\'s 3 requests only');
is(q1("SELECT pid FROM pg_stat_activity WHERE backend_type = '$WORKER'"), $worker, 'the same worker process');
unlike(slurp_file($node->logfile, $offset), qr/\Q$WORKER\E.*exited with exit code|PANIC/, 'no worker restart, no crash');

$node->stop;
done_testing();
