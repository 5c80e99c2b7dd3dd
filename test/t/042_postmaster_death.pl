# kill -9 of the postmaster during a long backfill (issue 11, item 8): the
# orphaned worker stops fetching at once, so the server starts again (pg_ctl
# start) within 5 s — while an orphan stays attached to the old shared
# memory a new postmaster refuses to start ("pre-existing shared memory block
# is still in use").  The job then runs again and ends done.
# Uses the replay server's synthetic series (no data folder needed).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time usleep);
use SeongsuTest qw(start_replay set_faults served reset_served replay_urls);

my $base = start_replay(seoul_key => 'SEOULKEY', dgk_key => 'DGKKEY');
my $WORKER = 'daily_seongsu ingest';

my $node = PostgreSQL::Test::Cluster->new('pm_death');
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
# The postmaster to kill is this script's child, so that it is reaped once
# dead: a zombie postmaster would keep its pid alive in postmaster.pid and
# make every restart fail on machines whose init does not reap orphans.
my $postmaster = IPC::Run::start([ 'postgres', '-D', $node->data_dir ], '<', \undef, '>>', $node->logfile, '2>&1');
END { eval { $postmaster->kill_kill } if $postmaster; }
$node->wait_for_log(qr/database system is ready to accept connections/);
ok(1, 'the server runs');
$node->safe_psql('postgres', 'CREATE EXTENSION daily_seongsu');

# True while process pid runs (a zombie has let go of everything).
sub running
{
	my ($pid) = @_;
	return 0 unless kill(0, $pid);
	my $stat = slurp_file("/proc/$pid/stat");
	return $stat !~ /^\d+ \(.*\) Z/;
}

# 300 days, 100 ms a request, 2 at a time: about 15 s of fetching.
set_faults($base, { match => 'CardSubwayStatsNew', fault => 'latency', ms => 100 });
reset_served($base);
my $job = $node->safe_psql('postgres', "SELECT seongsu.enqueue('seoul_daily', '2016-01-01', '2016-10-26')");
my $deadline = time + 60;
usleep(20_000) while served($base, 'CardSubwayStatsNew') < 20 && time < $deadline;
is($node->safe_psql('postgres', "SELECT state FROM seongsu.jobs WHERE id = $job"), 'running', 'the backfill is fetching');
my $worker = $node->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = '$WORKER'");
like($worker, qr/^\d+$/, "the worker (pid $worker)");

my $t0 = time;
$postmaster->signal('KILL');
$postmaster->finish;
my $started = 0;
while (!$started && time < $t0 + 60)
{
	$started = $node->start(fail_ok => 1);
	usleep(100_000) unless $started;
}
my $elapsed = time - $t0;
ok($started, 'the server starts again after kill -9 of the postmaster');
cmp_ok($elapsed, '<', 5, sprintf('within 5 s (%.1f s)', $elapsed));
ok(!running($worker), 'the orphaned worker is gone');
my $at_restart = served($base, 'CardSubwayStatsNew');
cmp_ok($at_restart, '<', 300, "it stopped fetching ($at_restart of 300 requests served)");

# The new worker resets the job and runs it again, quickly now.
set_faults($base);
ok($node->poll_query_until('postgres', "SELECT state = 'done' FROM seongsu.jobs WHERE id = $job"), 'the job ends done');
is($node->safe_psql('postgres', "SELECT attempts || ' ' || rows_written FROM seongsu.jobs WHERE id = $job"),
	'2 ' . 300 * 607, 'run again after the restart, every row written');

$node->stop;
done_testing();
