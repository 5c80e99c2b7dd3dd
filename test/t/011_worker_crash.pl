# The ingestion worker survives crashes and a missing extension:
#  - kill -9 of the worker in the middle of a 120-day backfill, and an
#    immediate shutdown + start in the middle of another: both jobs end done
#    with exactly the rows of a clean run (no duplicates, no gaps);
#  - started with the library preloaded but no CREATE EXTENSION, the worker
#    logs that once and waits (no crash loop), then runs a job once the
#    extension exists;
#  - DROP EXTENSION while a job runs: no crash loop, and a job runs again
#    after CREATE EXTENSION.
# The replay server serves the real data folder (DS_DATA, as set by
# test/check.sh) when there is one, else its synthetic series: nothing here
# compares with the files, only with a clean run.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use SeongsuTest qw(start_replay reset_served data_dir replay_urls);

my $data = data_dir();
my $SEOUL_KEY = 'SEOULKEY123';
my $DGK_KEY   = 'dgk+KEY/456==';
my $WORKER    = 'daily_seongsu ingest';

# The replay server, every data request delayed by 50 ms so that a backfill
# lasts long enough to be interrupted.
my $base = start_replay(data => $data, seoul_key => $SEOUL_KEY, dgk_key => $DGK_KEY,
	extra => [ '--latency-ms', '50' ]);
note($data ? "the replay server serves the real data folder $data"
	: 'no real data folder: the replay server serves its synthetic series');

# CardSubwayStatsNew requests served since the last reset.
sub served { return SeongsuTest::served($base, 'CardSubwayStatsNew'); }
sub reset_stats { reset_served($base); return; }

# Poll (20 ms steps, at most 60 s) until the replay server has served n requests.
sub wait_served
{
	my ($n) = @_;
	my $deadline = time + 60;
	while (time < $deadline)
	{
		my $s = served();
		return $s if $s >= $n;
		usleep(20_000);
	}
	return served();
}

my $conf = <<"EOC";
shared_preload_libraries = 'daily_seongsu'
seongsu.database = 'postgres'
seongsu.seoul_api_key = '$SEOUL_KEY'
seongsu.data_go_kr_key = '$DGK_KEY'
@{[ replay_urls($base) ]}
seongsu.http_timeout_ms = 10000
seongsu.max_concurrency = 2
restart_after_crash = on
EOC

# Every station's row of the backfill range (natural keys), as count:md5.
my ($FROM, $TO) = ('2023-01-01', '2023-04-30');
my $DIGEST = "SELECT count(*) || ':' || md5(string_agg(format('%s|%s|%s|%s|%s|%s', s.line, s.name, r.day, "
  . "r.boardings, r.alightings, r.registered_on), ',' ORDER BY s.line, s.name, r.day)) "
  . "FROM seongsu.ridership_daily r JOIN seongsu.stations s ON s.id = r.station_id "
  . "WHERE r.day BETWEEN '$FROM' AND '$TO'";

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', $conf);
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION daily_seongsu');

# ---------------------------------------------------------------- a clean run
my $clean = $node->safe_psql('postgres', "SELECT seongsu.enqueue('seoul_daily', '$FROM', '$TO')");
is($node->safe_psql('postgres', "SELECT seongsu.wait_for_job($clean, '180 seconds')"), 'done', 'clean run done');
my $reference = $node->safe_psql('postgres', $DIGEST);
my ($ref_rows) = split /:/, $reference;
cmp_ok($ref_rows, '>=', 100 * 607, "clean run: $ref_rows rows (607 stations x the days with data)");
is($ref_rows % 607, 0, 'clean run: 607 stations a day');
my $stations = $node->safe_psql('postgres', 'SELECT count(*) FROM seongsu.stations');
is($stations, '607', 'clean run: 607 stations');

# Start the backfill again on empty tables and interrupt it once the replay
# server has answered 30 of its 120 requests; returns the job id.
sub start_and_interrupt
{
	my ($how, $interrupt) = @_;
	$node->safe_psql('postgres', 'TRUNCATE seongsu.ridership_daily');
	reset_stats();
	my $id = $node->safe_psql('postgres', "SELECT seongsu.enqueue('seoul_daily', '$FROM', '$TO')");
	my $n = wait_served(30);
	cmp_ok($n, '>=', 30, "$how: 30 requests served before the interruption");
	is($node->safe_psql('postgres', "SELECT state FROM seongsu.jobs WHERE id = $id"), 'running',
		"$how: the job is running when interrupted");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM seongsu.ridership_daily'), '0',
		"$how: no row written while fetching");
	$interrupt->();
	return $id;
}

# Poll (100 ms steps, at most 180 s) until sql returns expected, riding out
# a server in crash recovery (failed connections, broken pipes).
sub poll_through_recovery
{
	my ($n, $sql, $expected) = @_;
	local $SIG{PIPE} = 'IGNORE';
	my $deadline = time + 180;
	while (time < $deadline)
	{
		my $out = eval { $n->safe_psql('postgres', $sql) };
		return 1 if defined $out && $out eq $expected;
		usleep(100_000);
	}
	return 0;
}

# After an interruption: the job is done, run twice, with the clean run's rows.
sub check_recovered
{
	my ($how, $id) = @_;
	ok(poll_through_recovery($node, "SELECT state FROM seongsu.jobs WHERE id = $id", 'done'),
		"$how: the job ends done");
	is($node->safe_psql('postgres', "SELECT attempts FROM seongsu.jobs WHERE id = $id"), '2',
		"$how: it was started again after the interruption");
	is($node->safe_psql('postgres', "SELECT count(*) FROM seongsu.jobs WHERE state <> 'done'"), '0',
		"$how: every job done");
	is($node->safe_psql('postgres', $DIGEST), $reference, "$how: exactly the rows of the clean run");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM seongsu.stations'), $stations,
		"$how: no station added twice");
	is($node->safe_psql('postgres', "SELECT count(*) - count(DISTINCT url) FROM seongsu.ingest_log "
		  . "WHERE job_id = $id AND error IS NULL"), '0', "$how: one successful log row per URL");
	is($node->safe_psql('postgres', "SELECT rows_written FROM seongsu.jobs WHERE id = $id"), $ref_rows,
		"$how: rows_written of the second run = all rows");
}

# ---------------------------------------------------------------- kill -9 of the worker
my $pid = $node->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = '$WORKER'");
like($pid, qr/^\d+$/, 'the worker is in pg_stat_activity');
my $log_offset = -s $node->logfile;
my $killed = start_and_interrupt('kill -9', sub {
	$pid = $node->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = '$WORKER'");
	ok(kill('KILL', $pid), "kill -9 the worker (pid $pid)");
});
check_recovered('kill -9', $killed);
like(slurp_file($node->logfile, $log_offset), qr/\Q$WORKER\E.*terminated by signal 9/,
	'kill -9: the postmaster saw the worker die');
isnt($node->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = '$WORKER'"), $pid,
	'kill -9: a new worker runs');

# ---------------------------------------------------------------- immediate shutdown
my $restarted = start_and_interrupt('immediate restart', sub {
	$node->stop('immediate');
	$node->start;
});
check_recovered('immediate restart', $restarted);
$node->stop;

# ---------------------------------------------------------------- no extension yet
my $bare = PostgreSQL::Test::Cluster->new('noext');
$bare->init;
$bare->append_conf('postgresql.conf', $conf);
$bare->start;
my $missing = qr/daily_seongsu.*(?:CREATE EXTENSION|not installed|missing)/;
$bare->wait_for_log($missing);
ok(1, 'without the extension the worker logs that it is waiting');
# Stay up: the same worker process for 25 s (a worker that exits and is
# restarted every 10 s would never get there).
ok($bare->poll_query_until('postgres',
		"SELECT now() - backend_start > interval '25 seconds' FROM pg_stat_activity WHERE backend_type = '$WORKER'"),
	'no extension: the worker stays up (25 s, same process)');
my $log = slurp_file($bare->logfile);
my @said = ($log =~ /^.*$missing.*$/mg);
is(scalar @said, 1, 'no extension: said once') or diag(join("\n", @said));
unlike($log, qr/\Q$WORKER\E.*exited with exit code/, 'no extension: the worker never exited');

$bare->safe_psql('postgres', 'CREATE EXTENSION daily_seongsu');
my $first = $bare->safe_psql('postgres', "SELECT seongsu.enqueue('seoul_daily', '2023-01-02', '2023-01-04')");
is($bare->safe_psql('postgres', "SELECT seongsu.wait_for_job($first, '60 seconds')"), 'done',
	'after CREATE EXTENSION a job runs');
is($bare->safe_psql('postgres', 'SELECT count(*) FROM seongsu.ridership_daily'), 3 * 607, 'and writes its rows');

# ---------------------------------------------------------------- DROP EXTENSION during a job
reset_stats();
my $offset = -s $bare->logfile;
my $doomed = $bare->safe_psql('postgres', "SELECT seongsu.enqueue('seoul_daily', '$FROM', '$TO')");
cmp_ok(wait_served(20), '>=', 20, 'drop: the job is fetching');
$bare->safe_psql('postgres', 'DROP EXTENSION daily_seongsu CASCADE');
$bare->wait_for_log($missing, $offset);
ok(1, 'drop: the worker notices the extension is gone');
ok($bare->poll_query_until('postgres',
		"SELECT now() - backend_start > interval '25 seconds' FROM pg_stat_activity WHERE backend_type = '$WORKER'"),
	'drop: the worker stays up (25 s, same process)');
$log = slurp_file($bare->logfile, $offset);
my @exits = ($log =~ /^.*\Q$WORKER\E.*exited with exit code.*$/mg);
cmp_ok(scalar @exits, '<=', 1, 'drop: at most one restart, no crash loop') or diag(join("\n", @exits));
@said = ($log =~ /^.*$missing.*$/mg);
is(scalar @said, 1, 'drop: said once') or diag(join("\n", @said));
unlike($log, qr/PANIC|server process .* was terminated by signal/, 'drop: no crash');

$bare->safe_psql('postgres', 'CREATE EXTENSION daily_seongsu');
my $again = $bare->safe_psql('postgres', "SELECT seongsu.enqueue('kasi_holidays', '2024-01-01', '2024-03-31')");
is($bare->safe_psql('postgres', "SELECT seongsu.wait_for_job($again, '60 seconds')"), 'done',
	'drop: after CREATE EXTENSION again a job runs');
cmp_ok($bare->safe_psql('postgres', "SELECT count(*) FROM seongsu.holidays WHERE source = 'kasi'"), '>', 0,
	'drop: and writes its rows');
$bare->stop;

done_testing();
