# seongsu.schedule_ingestion / unschedule_ingestion with pg_cron preloaded:
# the expected cron.job rows, idempotence, updates, privileges, removal, the
# KST date ranges the commands enqueue (whatever the session TimeZone), the
# purge of cron.job_run_details (the scheduling user's runs of these jobs
# older than run_details_days, no others), and two commands run by pg_cron
# itself.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use POSIX qw(strftime);

my $node = PostgreSQL::Test::Cluster->new('schedule');
$node->init;
$node->append_conf('postgresql.conf', <<'EOC');
shared_preload_libraries = 'daily_seongsu,pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 16
seongsu.database = 'postgres'
seongsu.seoul_api_key = 'SCHEDULE-TEST-KEY'
seongsu.data_go_kr_key = 'SCHEDULE-TEST-KEY2'
# nothing listens there: the jobs the commands queue fail quickly
seongsu.seoul_api_url = 'http://127.0.0.1:9'
seongsu.data_go_kr_url = 'http://127.0.0.1:9'
seongsu.open_meteo_url = 'http://127.0.0.1:9'
seongsu.open_meteo_archive_url = 'http://127.0.0.1:9'
seongsu.max_attempts = 1
EOC
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_cron; CREATE EXTENSION daily_seongsu');

my @INGEST = sort qw(seongsu_seoul_daily seongsu_kma_forecast seongsu_openmeteo_forecast
  seongsu_kma_asos_hourly seongsu_openmeteo_daily seongsu_kasi_holidays);
my @NAMES = sort(@INGEST, 'seongsu_purge_run_details');
sub q1 { return $node->safe_psql('postgres', $_[0]); }

my $JOBS = "SELECT string_agg(format('%s|%s|%s|%s|%s', jobname, schedule, command, database, active), E'\\n' ORDER BY jobname) "
  . "FROM cron.job WHERE jobname LIKE 'seongsu\\_%'";

# ---------------------------------------------------------------- create
my $ids = q1('SELECT string_agg(id::text, \',\' ORDER BY id) FROM seongsu.schedule_ingestion() id');
like($ids, qr/^\d+(,\d+){6}$/, 'schedule_ingestion returns 7 pg_cron job ids');
is(q1("SELECT string_agg(jobname, ' ' ORDER BY jobname) FROM cron.job"), join(' ', @NAMES), 'the 7 jobs, by name');
is(q1("SELECT string_agg(jobid::text, ',' ORDER BY jobid) FROM cron.job"), $ids, 'the returned ids are theirs');
is(q1($JOBS),
	q1("SELECT string_agg(format('%s|%s|%s|postgres|t', job_name, schedule, command), E'\\n' ORDER BY job_name) "
		  . 'FROM seongsu.ingestion_schedule()'),
	'schedules and commands are those of ingestion_schedule(), in database postgres, active');
is(q1("SELECT schedule FROM cron.job WHERE jobname = 'seongsu_seoul_daily'"), '0 22 * * *',
	'seoul_daily: daily at 22:00 UTC = 07:00 KST');
is(q1("SELECT string_agg(DISTINCT schedule, ',') FROM cron.job WHERE jobname LIKE '%forecast'"), '15 2-23/3 * * *',
	'forecasts: every 3 hours, 15 minutes after each KMA issue (02, 05, ... KST)');
is(q1("SELECT schedule FROM cron.job WHERE jobname = 'seongsu_kasi_holidays'"), '0 20 1 * *', 'holidays: monthly');
is(q1("SELECT schedule FROM cron.job WHERE jobname = 'seongsu_purge_run_details'"), '30 18 * * *',
	'the purge of cron.job_run_details: daily at 18:30 UTC = 03:30 KST');
like(q1("SELECT command FROM cron.job WHERE jobname = 'seongsu_seoul_daily'"),
	qr/^SELECT seongsu\.enqueue\('seoul_daily', .*Asia\/Seoul.* - 10, .*Asia\/Seoul.* - 1\)$/,
	'seoul_daily: the last 10 KST days');

# ---------------------------------------------------------------- idempotent, updatable
my $before = q1($JOBS);
is(q1('SELECT string_agg(id::text, \',\' ORDER BY id) FROM seongsu.schedule_ingestion() id'), $ids,
	'a second call returns the same ids');
is(q1("SELECT count(*) FROM cron.job"), '7', 'and adds no job');
is(q1($JOBS), $before, 'and changes nothing');
q1('SELECT count(*) FROM seongsu.schedule_ingestion(seoul_daily_days => 5)');
is(q1("SELECT count(*) FROM cron.job"), '7', 'other arguments: still 7 jobs');
like(q1("SELECT command FROM cron.job WHERE jobname = 'seongsu_seoul_daily'"), qr/::date - 5,/,
	'other arguments: the command is updated in place');
q1('SELECT count(*) FROM seongsu.schedule_ingestion(run_details_days => 3)');
like(q1("SELECT command FROM cron.job WHERE jobname = 'seongsu_purge_run_details'"), qr/make_interval\(days => 3\)\)$/,
	'run_details_days: the purge command is updated in place');
q1('SELECT count(*) FROM seongsu.schedule_ingestion()');
is(q1($JOBS), $before, 'back to the defaults');

# ---------------------------------------------------------------- the commands, run by hand
# KST today from the clock, before and after (to survive a midnight in between).
sub kst_today { return strftime('%Y-%m-%d', gmtime(time + 9 * 3600)); }
sub add_days
{
	my ($day, $n) = @_;
	return q1("SELECT date '$day' + $n");
}
my $k0 = kst_today();
my %cmd = map { split /\|/, $_, 2 } split /\n/,
  q1("SELECT jobname || '|' || command FROM cron.job WHERE jobname LIKE 'seongsu\\_%'");
my %job;
for my $name (@INGEST)
{
	# a session far from KST: Pacific/Kiritimati is UTC+14, America/Los_Angeles UTC-8/-7
	my $tz = $name =~ /seoul|kasi/ ? 'America/Los_Angeles' : 'Pacific/Kiritimati';
	my $id = q1("SET TimeZone = '$tz'; $cmd{$name}");
	like($id, qr/^\d+$/, "$name: the command queues a job (session TimeZone $tz)");
	$job{$name} = [ split /\|/, q1("SELECT source || '|' || from_date || '|' || to_date || '|' || options FROM seongsu.jobs WHERE id = $id") ];
}
my $k1 = kst_today();
SKIP:
{
	skip 'KST midnight passed during the test', 8 if $k0 ne $k1;
	my $today = $k0;
	is_deeply($job{seongsu_seoul_daily}, [ 'seoul_daily', add_days($today, -10), add_days($today, -1), '{}' ],
		'seoul_daily: KST today - 10 .. KST today - 1');
	is_deeply($job{seongsu_kma_asos_hourly}, [ 'kma_asos_hourly', add_days($today, -7), add_days($today, -1), '{}' ],
		'kma_asos_hourly: the last 7 KST days up to yesterday');
	is_deeply($job{seongsu_openmeteo_daily}, [ 'openmeteo_daily', add_days($today, -7), add_days($today, -1), '{}' ],
		'openmeteo_daily: the last 7 KST days up to yesterday');
	is_deeply($job{seongsu_openmeteo_forecast}, [ 'openmeteo_forecast', $today, $today, '{}' ],
		'openmeteo_forecast: KST today');
	my ($y, $m) = $today =~ /^(\d{4})-(\d\d)/;
	my $last = q1("SELECT (date '$y-$m-01' + interval '13 months' - interval '1 day')::date");
	is_deeply($job{seongsu_kasi_holidays}, [ 'kasi_holidays', "$y-$m-01", $last, '{}' ],
		'kasi_holidays: this KST month and the next 12');
	my ($src, $from, $to, $opt) = @{ $job{seongsu_kma_forecast} };
	is($src, 'kma_forecast', 'kma_forecast: source');
	# the latest issue at least 10 minutes old, in KST
	my @t = gmtime(time + 9 * 3600 - 600);
	my $h = $t[2] - (($t[2] + 1) % 3);
	my $bday = strftime('%Y-%m-%d', @t);
	if ($h < 0) { $h = 23; $bday = add_days($bday, -1); }
	is("$from $to", "$bday $bday", 'kma_forecast: base date of the latest issue');
	is($opt, sprintf('{"base_time": "%02d00"}', $h), 'kma_forecast: base_time of the latest issue (02, 05, ..., 23)');
}

# ---------------------------------------------------------------- privileges
q1('CREATE ROLE op LOGIN IN ROLE seongsu_operator; CREATE ROLE nobody LOGIN; GRANT USAGE ON SCHEMA seongsu TO nobody');
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT seongsu.schedule_ingestion()', extra_params => [ '-U', 'nobody' ]);
like($err, qr/permission denied for function schedule_ingestion/, 'PUBLIC may not schedule');
($ret, $out, $err) = $node->psql('postgres', 'SELECT seongsu.schedule_ingestion()', extra_params => [ '-U', 'op' ]);
like($err, qr/permission denied for schema cron/, 'an operator without USAGE on schema cron gets a clear error');
like($err, qr/HINT:.*GRANT USAGE ON SCHEMA cron TO op/, '... with a hint');
q1('GRANT USAGE ON SCHEMA cron TO op');
($ret, $out, $err) = $node->psql('postgres', 'SELECT count(*) FROM seongsu.schedule_ingestion()', extra_params => [ '-U', 'op' ]);
is($out, '7', 'an operator with USAGE on cron schedules the 7 jobs') or diag($err);
is(q1("SELECT count(*) FROM cron.job WHERE username = 'op'"), '7', 'as its own jobs');

# ---------------------------------------------------------------- the purge of cron.job_run_details
# Runs of the superuser's and the operator's jobs and of another job, ended
# or started long ago or lately; the purge keeps 14 days by default.
my $other = q1(q{SELECT cron.schedule('someone_elses_job', '0 0 1 1 *', 'SELECT 1')});
sub add_run
{
	my ($job, $user, $start, $end) = @_;
	return q1(qq{INSERT INTO cron.job_run_details (jobid, job_pid, database, username, command, status,
		return_message, start_time, end_time)
		SELECT jobid, 0, 'postgres', username, command, 'succeeded', 'made by the test', $start, $end
		FROM cron.job WHERE jobname = '$job' AND username = '$user' RETURNING runid});
}
my $su = q1('SELECT current_user');
my %run = (
	old        => add_run('seongsu_seoul_daily', $su, "now() - interval '20 days 1 minute'", "now() - interval '20 days'"),
	recent     => add_run('seongsu_seoul_daily', $su, "now() - interval '13 days 1 minute'", "now() - interval '13 days'"),
	unended    => add_run('seongsu_kma_forecast', $su, "now() - interval '20 days'", 'NULL'),
	unstarted  => add_run('seongsu_kma_forecast', $su, 'NULL', 'NULL'),
	other_job  => add_run('someone_elses_job', $su, "now() - interval '20 days 1 minute'", "now() - interval '20 days'"),
	op_old     => add_run('seongsu_seoul_daily', 'op', "now() - interval '20 days 1 minute'", "now() - interval '20 days'"));
my %runname = reverse %run;
sub runs_left
{
	my $in = join(',', values %run);
	return join(' ', sort map { $runname{$_} } split /\n/, q1("SELECT runid FROM cron.job_run_details WHERE runid IN ($in)"));
}
is(runs_left(), 'old op_old other_job recent unended unstarted', 'the test runs are recorded');

# pg_cron runs the superuser's purge (and, below, one of its fetches) within a minute
q1('SELECT count(*) FROM seongsu.schedule_ingestion()');
my $t0 = q1('SELECT now()');
q1("SELECT cron.alter_job(jobid, schedule => '* * * * *') FROM cron.job "
	  . "WHERE jobname IN ('seongsu_purge_run_details', 'seongsu_openmeteo_forecast') AND username = current_user");
ok($node->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM cron.job_run_details d JOIN cron.job j USING (jobid) "
		  . "WHERE j.jobname = 'seongsu_purge_run_details' AND j.username = current_user AND d.status = 'succeeded'"),
	'pg_cron ran the purge successfully (within a minute)')
  or diag(q1("SELECT string_agg(status || ' ' || coalesce(return_message, ''), E'\\n') FROM cron.job_run_details"));
is(runs_left(), 'op_old other_job recent unstarted',
	"the superuser's purge removed its own jobs' runs that ended (or, unended, started) 14 days ago, no other");
($ret, $out, $err) = $node->psql('postgres',
	q{SELECT command FROM cron.job WHERE jobname = 'seongsu_purge_run_details'}, extra_params => [ '-U', 'op' ]);
($ret, undef, $err) = $node->psql('postgres', $out, extra_params => [ '-U', 'op' ]);
is($ret, 0, "the operator's purge command runs as the operator") or diag($err);
is(runs_left(), 'other_job recent unstarted', "... and removes the operator's old run");
q1("SELECT cron.unschedule('someone_elses_job')");

($ret, $out, $err) = $node->psql('postgres', 'SELECT seongsu.unschedule_ingestion()', extra_params => [ '-U', 'op' ]);
is($out, '7', 'the operator removes its own 7 jobs');
is(q1("SELECT string_agg(jobname, ' ' ORDER BY jobname) FROM cron.job"), join(' ', @NAMES),
	"the superuser's jobs are untouched");

# ---------------------------------------------------------------- pg_cron runs a fetch (scheduled above)
ok($node->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM cron.job_run_details d JOIN cron.job j USING (jobid) "
		  . "WHERE j.jobname = 'seongsu_openmeteo_forecast' AND d.status = 'succeeded'"),
	'pg_cron ran the openmeteo_forecast command successfully (within a minute)')
  or diag(q1("SELECT string_agg(status || ' ' || coalesce(return_message, ''), E'\\n') FROM cron.job_run_details"));
cmp_ok(q1("SELECT count(*) FROM seongsu.jobs WHERE source = 'openmeteo_forecast' AND created_at >= '$t0'"), '>=', 1,
	'and it queued a job');

# ---------------------------------------------------------------- remove
is(q1('SELECT seongsu.unschedule_ingestion()'), '7', 'unschedule_ingestion removes the 7 jobs');
is(q1("SELECT count(*) FROM cron.job"), '0', 'none left');
is(q1('SELECT seongsu.unschedule_ingestion()'), '0', 'a second call removes nothing');

# ---------------------------------------------------------------- another database
q1('CREATE DATABASE other');
$node->safe_psql('other', 'CREATE EXTENSION daily_seongsu');
($ret, $out, $err) = $node->psql('other', 'SELECT seongsu.schedule_ingestion()');
like($err, qr/ERROR:  scheduled ingestion needs pg_cron/, 'in a database without pg_cron: an error');
like($err, qr/DETAIL:.*pg_cron runs jobs only in database postgres/, '... whose DETAIL names cron.database_name');
like($err, qr/HINT:.*shared_preload_libraries/, '... and a HINT');
my $major = int(q1('SHOW server_version_num') / 10000);
like($err, qr/HINT:  Install pg_cron for PostgreSQL $major \(the postgresql-$major-cron package/,
	"... naming the package for the running major ($major)");

$node->stop;
done_testing();
