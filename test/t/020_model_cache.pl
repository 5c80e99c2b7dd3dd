# Prediction's per-backend model cache, cancellation and corrupt models:
#  - a session that has the deployed model cached (predict_daily) sees another
#    session's deploy at its next call (the new model's prediction, equal to
#    evaluate() of that model in a fresh session), and its rollback (the
#    original value again); predict_crowd follows the new model's hour shares;
#  - a change of the observations the prediction reads (committed by another
#    session) is seen by the session with the warm cache, and undone again;
#    a year's forecast there (reusing the outputs of days whose feature row
#    did not change) equals a new session's;
#    an uncommitted one is not, a prepared one is not until COMMIT PREPARED
#    (from yet another session);
#  - a session's own uncommitted write is seen, a cache filled inside a
#    transaction that is rolled back is not kept, and a cache filled under a
#    REPEATABLE READ snapshot older than the last commit is not kept;
#  - a long seongsu.train is cancelled by pg_cancel_backend within seconds,
#    with "canceling statement due to user request", no model stored, and the
#    server and the session usable afterwards;
#  - a deployed model whose stored blob is truncated gives, in a new session
#    (its own cache empty; the shared image of another version), ERROR XX001 (data_corrupted) from predict_daily; the server
#    stays up and a rollback serves again;
#  - a write with session_replication_role = replica (a bulk load) is seen
#    by a warm session (the caches' triggers are ENABLE ALWAYS);
#  - a new session's answer for a day another has answered is the same;
#    after DROP / CREATE EXTENSION (model ids start over) a warm session and
#    a new one predict with the new install's model;
#  - the shared model cache: a new session predicts from the image another
#    read (same value, one more hit, a reference held until it exits); a
#    rewritten model row is another version (the truncated blob above is
#    caught although the model was cached); through a 4 kB cache six models
#    predicted in turn all give evaluate()'s value.
# On the core fixtures (test/fixtures/seongsu.sql), with or without the real
# data folder: the caches do not depend on what the numbers are.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use SeongsuTest qw(load_fixtures close_to);

my $DAY = '2024-09-03';

my $node = PostgreSQL::Test::Cluster->new('model_cache');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'daily_seongsu'\nmax_prepared_transactions = 2\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION daily_seongsu');

my $loaded = load_fixtures($node, 'postgres');
cmp_ok($loaded, '>', 1900, "core fixtures loaded ($loaded days of Seongsu ridership)");

# Every algorithm and the ensemble, one day ahead; auto's choice is deployed.
my %id;
my $deployed;
for my $row (split /\n/, $node->safe_psql('postgres', q{
  SELECT model_id, algorithm, deployed FROM seongsu.train(algorithm => 'auto', horizon => '1 day',
         train_to => '2024-05-31', force => true) ORDER BY model_id}))
{
	my ($mid, $alg, $dep) = split /\|/, $row;
	$id{$alg} = $mid;
	$deployed = $mid if $dep eq 't';
}
is(scalar(keys %id), 5, 'train(auto) stored five models (the ensemble too)');
ok(defined $deployed, "one of them is deployed (model $deployed)");
my $project = $node->safe_psql('postgres', "SELECT project FROM seongsu.models WHERE id = $deployed");
is($project, '성수 2호선 daily 1 days', 'project name');
# The model session B deploys: ridge, unless ridge is the deployed one (then gbdt).
my $other = $id{ridge} != $deployed ? $id{ridge} : $id{gbdt};
note("deployed model $deployed, the other model $other");

# Predicted value of a model for $DAY, from evaluate() in a fresh session.
sub evaluated
{
	my ($mid) = @_;
	return $node->safe_psql('postgres', "SELECT predicted FROM seongsu.evaluate($mid, '$DAY', '$DAY')");
}
# The hour share of 08:00 on a Tuesday (day type 1) of a model.
sub share_0800
{
	my ($mid) = @_;
	return $node->safe_psql('postgres', "SELECT hour_shares[1 * 24 + 8 + 1] FROM seongsu.models WHERE id = $mid");
}

# ------------------------------------------------------------ deploy / rollback
my $A = $node->background_psql('postgres');
my $B = $node->background_psql('postgres');
$_->set_query_timer_restart() for ($A, $B);
my $p_daily = "SELECT seongsu.predict_daily('$DAY')";
my $p_crowd = "SELECT seongsu.predict_crowd('$DAY 08:30+09')";

my $v0 = $A->query_safe($p_daily);
ok(close_to($v0, evaluated($deployed)), "A: predict_daily = evaluate(deployed model $deployed) ($v0)");
my $c0 = $A->query_safe($p_crowd);
ok(close_to($c0, $v0 * share_0800($deployed)), 'A: predict_crowd = daily x the deployed model\'s share');
is($A->query_safe($p_daily), $v0, 'A: same value again (cached model)');

$B->query_safe("SELECT seongsu.deploy($other)");
my $v1 = $A->query_safe($p_daily);
my $e1 = evaluated($other);
ok(close_to($v1, $e1), "A after B's deploy($other): predict_daily = evaluate($other) ($v1 vs $e1)");
isnt($v1, $v0, 'A: the value changed with the deployment');
ok(close_to($A->query_safe($p_crowd), $v1 * share_0800($other)),
	'A: predict_crowd uses the new model (its daily value and hour shares)');
is($node->safe_psql('postgres', 'SELECT model_id FROM seongsu.deployed_models'), $other,
	'deployed_models shows the new model');

is($B->query_safe("SELECT seongsu.rollback('$project')"), $deployed, "B: rollback returns model $deployed");
my $v2 = $A->query_safe($p_daily);
ok(close_to($v2, $v0), "A after B's rollback: the original value again ($v2)");
ok(close_to($A->query_safe($p_crowd), $c0), 'A: predict_crowd back to the original value');

# ------------------------------------------------------------ data changes
# lag_1d of $DAY is the day before: B commits a change to it; A (warm) sees it.
my $prev = '2024-09-02';
my $bump_sql = "UPDATE seongsu.ridership_daily SET boardings = boardings + 20000 "
  . "WHERE station_id = (SELECT id FROM seongsu.stations WHERE name = '성수' AND line = '2호선') AND day = '$prev'";
(my $unbump_sql = $bump_sql) =~ s/\+ 20000/- 20000/;
$B->query_safe("UPDATE seongsu.ridership_daily SET boardings = boardings + 20000 "
	  . "WHERE station_id = (SELECT id FROM seongsu.stations WHERE name = '성수' AND line = '2호선') AND day = '$prev'");
my $v3 = $A->query_safe($p_daily);
my $e3 = evaluated($deployed);
ok(close_to($v3, $e3), "A after B changed $prev: predict_daily = evaluate() on the new data ($v3 vs $e3)");
isnt($v3, $v0, 'A: the value changed with the data');
$B->query_safe("UPDATE seongsu.ridership_daily SET boardings = boardings - 20000 "
	  . "WHERE station_id = (SELECT id FROM seongsu.stations WHERE name = '성수' AND line = '2호선') AND day = '$prev'");
ok(close_to($A->query_safe($p_daily), $v0), 'A after B undid the change: the original value again');
# A year's forecast: after a write that changes nothing, and after one that
# changes the rows of the days after $prev only, A (warm, reusing the
# outputs of days whose feature row is unchanged) gives exactly what a new
# session computes from scratch.
my $year = "SELECT sum(passengers) FROM seongsu.forecast('성수', '2호선', '2024-06-01 00:00+09', '2025-05-31 23:00+09')";
my $f0 = $A->query_safe($year);
$B->query_safe('UPDATE seongsu.holidays SET name = name WHERE false');
is($A->query_safe($year), $f0, 'A: the same year after a write that changes nothing');
$B->query_safe("UPDATE seongsu.ridership_daily SET boardings = boardings + 20000 "
	  . "WHERE station_id = (SELECT id FROM seongsu.stations WHERE name = '성수' AND line = '2호선') AND day = '$prev'");
my $f1 = $A->query_safe($year);
isnt($f1, $f0, "A: the year changed with $prev");
is($f1, $node->safe_psql('postgres', $year), 'A: the year equals a new session\'s');
$B->query_safe("UPDATE seongsu.ridership_daily SET boardings = boardings - 20000 "
	  . "WHERE station_id = (SELECT id FROM seongsu.stations WHERE name = '성수' AND line = '2호선') AND day = '$prev'");
is($A->query_safe($year), $f0, 'A after the change was undone: the first year again');
# An uncommitted change of B is not seen by A.
$B->query_safe('BEGIN');
$B->query_safe("UPDATE seongsu.ridership_daily SET boardings = boardings + 20000 "
	  . "WHERE station_id = (SELECT id FROM seongsu.stations WHERE name = '성수' AND line = '2호선') AND day = '$prev'");
ok(close_to($A->query_safe($p_daily), $v0), 'A does not see B\'s uncommitted change');
# B predicts inside its writing transaction (from its own uncommitted row):
# nothing it computes may reach another session through a shared memo.
ok(close_to($B->query_safe("SELECT seongsu.predict_daily('$DAY', '성수', '2호선')"), $e3),
	'B sees its own uncommitted change');
ok(close_to($node->safe_psql('postgres', $p_daily), $v0), 'a new session still predicts from committed data');
$B->query_safe('ROLLBACK');
ok(close_to($A->query_safe($p_daily), $v0), 'A after B\'s ROLLBACK: the original value');
# A change committed with two-phase commit: seen once COMMIT PREPARED ran.
$B->query_safe('BEGIN');
$B->query_safe("UPDATE seongsu.ridership_daily SET boardings = boardings + 20000 "
	  . "WHERE station_id = (SELECT id FROM seongsu.stations WHERE name = '성수' AND line = '2호선') AND day = '$prev'");
$B->query_safe("PREPARE TRANSACTION 'ds_2pc'");
ok(close_to($A->query_safe($p_daily), $v0), 'A does not see B\'s prepared change');
$node->safe_psql('postgres', "COMMIT PREPARED 'ds_2pc'");
ok(close_to($A->query_safe($p_daily), $e3), 'A after COMMIT PREPARED (another session): the changed value');
$B->query_safe("UPDATE seongsu.ridership_daily SET boardings = boardings - 20000 "
	  . "WHERE station_id = (SELECT id FROM seongsu.stations WHERE name = '성수' AND line = '2호선') AND day = '$prev'");
ok(close_to($A->query_safe($p_daily), $v0), 'A after B undid it: the original value');
# A bulk load that fires no ordinary trigger (session_replication_role =
# replica, as pg_restore --data-only or a replication tool): the triggers are
# ENABLE ALWAYS, so A (warm) still sees it.
$B->query_safe('SET session_replication_role = replica');
$B->query_safe($bump_sql);
$B->query_safe('RESET session_replication_role');
ok(close_to($A->query_safe($p_daily), $e3), 'A after a write with session_replication_role = replica: the changed value');
$B->query_safe($unbump_sql);
ok(close_to($A->query_safe($p_daily), $v0), 'A after that was undone: the original value');

# Transactions of the predicting session itself: the cache is neither used nor
# kept by a transaction that wrote watched data or holds a transaction-long
# snapshot.
my $bump = "UPDATE seongsu.ridership_daily SET boardings = boardings + 20000 "
  . "WHERE station_id = (SELECT id FROM seongsu.stations WHERE name = '성수' AND line = '2호선') AND day = '$prev'";
(my $unbump = $bump) =~ s/\+ 20000/- 20000/;
{

	# Own uncommitted change, warm cache: the transaction's predictions should see it.
	$A->query_safe('BEGIN');
	$A->query_safe($bump);
	my $own = $A->query_safe($p_daily);
	my $own_eval = $A->query_safe("SELECT predicted FROM seongsu.evaluate($deployed, '$DAY', '$DAY')");
	ok(close_to($own, $own_eval), "A sees its own uncommitted change ($own vs evaluate() $own_eval in the same transaction)");
	$A->query_safe('ROLLBACK');

	# Cold cache filled inside a transaction that is then rolled back.
	my $D = $node->background_psql('postgres');
	$D->query_safe('BEGIN');
	$D->query_safe($bump);
	$D->query_safe($p_daily);
	$D->query_safe('ROLLBACK');
	my $after = $D->query_safe($p_daily);
	ok(close_to($after, $v0), "after ROLLBACK the session predicts from the data that exist ($after, expected $v0)");
	$D->quit;

	# Cold cache filled under a REPEATABLE READ snapshot older than a commit.
	my $E = $node->background_psql('postgres');
	$E->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
	$E->query_safe('SELECT count(*) FROM seongsu.models');    # takes the snapshot
	$B->query_safe($bump);
	$E->query_safe($p_daily);
	$E->query_safe('COMMIT');
	my $rr = $E->query_safe($p_daily);
	my $rr_eval = evaluated($deployed);
	ok(close_to($rr, $rr_eval), "after COMMIT of a REPEATABLE READ transaction the session sees committed data ($rr vs $rr_eval)");
	$E->quit;
	$B->query_safe($unbump);
}
ok(close_to($A->query_safe($p_daily), $v0), 'A: the original value after these transactions');

# ------------------------------------------------------------ cancellation
my $models_before = $node->safe_psql('postgres', 'SELECT count(*) FROM seongsu.models');
my $C = $node->background_psql('postgres', on_error_stop => 0);
$C->set_query_timer_restart();
my $cpid = $C->query_safe('SELECT pg_backend_pid()');
$C->query_until(qr/train started/, q{
\echo train started
SELECT count(*) FROM seongsu.train(algorithm => 'random_forest', horizon => '1 day', train_to => '2024-05-31',
       hyperparams => '{"n_trees": 5000}', force => true);
});
# Wait until the statement has been running for a second (it is training).
my $running = 0;
for (my $i = 0; $i < 600; $i++)
{
	$running = $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE pid = $cpid AND state = 'active' "
		  . "AND query LIKE '%n_trees%' AND now() - query_start > interval '1 second'");
	last if $running;
	usleep(100_000);
}
is($running, '1', 'the long train() is running');
my $t0 = time;
is($node->safe_psql('postgres', "SELECT pg_cancel_backend($cpid)"), 't', 'pg_cancel_backend sent');
my ($out, $failed) = $C->query('SELECT 1');
my $waited = time - $t0;
ok($failed, 'the cancelled statement reported an error');
like($C->{stderr}, qr/ERROR:  canceling statement due to user request/, 'error: canceling statement due to user request');
cmp_ok($waited, '<', 10, sprintf('cancelled within %.2f s', $waited));
is($out, '1', 'the cancelled session still runs queries');
$C->{stderr} = '';
is($C->query_safe('SELECT pg_backend_pid()'), $cpid, 'same backend (not terminated)');
$C->quit;
is($node->safe_psql('postgres', 'SELECT count(*) FROM seongsu.models'), $models_before, 'no model stored by the cancelled train');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'server fine after the cancel');
ok(close_to($node->safe_psql('postgres', $p_daily), $v0), 'prediction fine after the cancel');

# ------------------------------------------------------------ shared model cache
# A model read by one backend is kept in shared memory: a new backend
# predicts from it with the same value, holds a reference while it lives
# and drops it at exit.
my $N = $node->background_psql('postgres');
$node->safe_psql('postgres', 'UPDATE seongsu.holidays SET name = name WHERE false');
my ($hits, $holders) = split /\|/, $node->safe_psql('postgres',
	"SELECT hits, backends FROM seongsu.model_cache() WHERE model_id = $deployed AND current");
like($hits, qr/^\d+$/, "model $deployed is in the shared model cache ($hits hits, $holders sessions hold it)");
ok(close_to($N->query_safe($p_daily), $v0), 'a new session predicts the same value from the shared model');
is($node->safe_psql('postgres', "SELECT hits - $hits, backends - $holders FROM seongsu.model_cache() WHERE model_id = $deployed"),
	'1|1', 'it took the model from the shared cache and holds one reference');
$N->quit;
ok($node->poll_query_until('postgres', "SELECT backends FROM seongsu.model_cache() WHERE model_id = $deployed", $holders),
	'the reference is dropped when that session exits');

# ------------------------------------------------------------ corrupt blob
# Deploy the random forest, have a session predict with it (so it is in the
# shared model cache), truncate its stored blob, predict in a new session:
# the rewritten row is another version: the shared image is not used.
my $rf = $id{random_forest};
$rf = $id{gbdt} if $rf == $deployed;
$B->query_safe("SELECT seongsu.deploy($rf)");
ok(close_to($node->safe_psql('postgres', $p_daily), evaluated($rf)), "a new session predicts with model $rf");
is($node->safe_psql('postgres', "SELECT current FROM seongsu.model_cache() WHERE model_id = $rf"), 't',
	"model $rf is in the shared model cache");
my $W = $node->background_psql('postgres', on_error_stop => 0);
ok(close_to($W->query_safe("SELECT sum(passengers) FROM seongsu.forecast('성수', '2호선', '$DAY 00:00+09', '$DAY 23:00+09')"),
	$node->safe_psql('postgres', "SELECT sum(passengers) FROM seongsu.forecast('성수', '2호선', '$DAY 00:00+09', '$DAY 23:00+09')")),
	"session W forecasts with model $rf too, and keeps it cached");
$B->query_safe("UPDATE seongsu.models SET blob = substring(blob from 1 for 100) WHERE id = $rf");
is($node->safe_psql('postgres', "SELECT current FROM seongsu.model_cache() WHERE model_id = $rf"), 'f',
	'the rewritten row is another version: the shared image is no longer current');
is($node->safe_psql('postgres', "SELECT length(blob) FROM seongsu.models WHERE id = $rf"), '100', "model $rf truncated to 100 bytes");
my ($ret, $stdout, $stderr) = $node->psql('postgres', "\\set VERBOSITY verbose\n$p_daily");
isnt($ret, 0, 'predict_daily with a truncated deployed model fails');
like($stderr, qr/ERROR:  XX001: model $rf is corrupt/, 'ERROR XX001 (data_corrupted) naming the model');
note("error: $stderr");
# W had the model in its own cache: the write to its row makes W read it again.
($out, $failed) = $W->query($p_daily);
ok($failed, 'W (warm) fails too: its cached copy of the rewritten model is not used');
like($W->{stderr}, qr/ERROR:  model $rf is corrupt/, 'W: model corrupt');
$W->quit;
# The same error class through predict_crowd, forecast and evaluate.
for my $q ($p_crowd, "SELECT count(*) FROM seongsu.forecast('성수', '2호선', '$DAY 00:00+09', '$DAY 23:00+09')",
	"SELECT count(*) FROM seongsu.evaluate($rf, '$DAY', '$DAY')")
{
	($ret, $stdout, $stderr) = $node->psql('postgres', "\\set VERBOSITY verbose\n$q");
	like($stderr, qr/ERROR:  XX001:/, "XX001 from: $q");
}
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'server still up after the corrupt blob');
is($B->query_safe("SELECT seongsu.rollback('$project')"), $deployed, 'rollback from the corrupt model');
ok(close_to($node->safe_psql('postgres', $p_daily), $v0), 'a new session predicts again after the rollback');
ok(close_to($A->query_safe($p_daily), $v0), 'A (warm) predicts the same');

# ------------------------------------------------------------ new sessions, reinstall
# A new session answers a day another session has answered with the same value.
ok(close_to($node->safe_psql('postgres', $p_crowd), $A->query_safe($p_crowd)),
	'a new session\'s predict_crowd equals the warm session\'s');
is($node->safe_psql('postgres', "SELECT seongsu.crowd_level('$DAY 08:30+09')"),
	$A->query_safe("SELECT seongsu.crowd_level('$DAY 08:30+09')"), 'and so does crowd_level');
# After DROP / CREATE EXTENSION model ids start over: A's cached models and
# inputs must not answer for the new install's models of the same ids.
$B->query_safe('DROP EXTENSION daily_seongsu CASCADE');
$B->query_safe('CREATE EXTENSION daily_seongsu');
load_fixtures($node, 'postgres');
# the new model gets the id of the model A has cached
$B->query_safe("SELECT setval(pg_get_serial_sequence('seongsu.models', 'id'), $deployed - 1, true)")
	if $deployed > 1;
my $new = $B->query_safe(q{SELECT model_id FROM seongsu.train(algorithm => 'ridge', horizon => '1 day',
         train_to => '2023-12-31', force => true) WHERE deployed});
is($new, $deployed, "the reinstall's model has id $deployed, the id of the model A has cached");
my $e_new = evaluated($new);
ok(close_to($A->query_safe("SELECT predicted FROM seongsu.evaluate($new, '$DAY', '$DAY')"), $e_new),
	"A after the reinstall: evaluate($new) is the new install's model");
ok(close_to($A->query_safe($p_daily), $e_new), "A after the reinstall: predict_daily = evaluate($new) of the new install ($e_new)");
ok(close_to($node->safe_psql('postgres', $p_daily), $e_new), 'a new session too');

$A->quit;
$B->quit;

# ------------------------------------------------------------ a small shared model cache
# With room for about three small models, deploying and predicting with six
# in turn evicts the least recently used unreferenced ones: every prediction
# still equals evaluate() of its model, and the pool is never overfilled.
$node->append_conf('postgresql.conf', "seongsu.model_cache_size = 4kB\n");
$node->restart;
my @small;
for my $k (1 .. 6)
{
	my $to = 20 + $k;
	push @small, $node->safe_psql('postgres', qq{SELECT model_id FROM seongsu.train(algorithm => 'ridge', horizon => '1 day',
	         train_to => '2023-12-$to', force => true, hyperparams => '{"alpha": $k}')});
}
my $bad = 0;
for my $round (1 .. 2)
{
	for my $mid (@small)
	{
		$node->safe_psql('postgres', "SELECT seongsu.deploy($mid)");
		$bad++ unless close_to($node->safe_psql('postgres', $p_daily), evaluated($mid));
	}
}
is($bad, 0, 'six models predicted in turn through a 4 kB shared cache: every value equals evaluate() of its model');
my ($n_cached, $bytes) = split /\|/, $node->safe_psql('postgres', 'SELECT count(*), coalesce(sum(bytes), 0) FROM seongsu.model_cache()');
note("shared cache after the rounds: $n_cached models, $bytes bytes");
ok($n_cached >= 1 && $n_cached < 6 && $bytes <= 4096, "the cache holds some of them within 4 kB ($n_cached, $bytes bytes)");

my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|server process .* was terminated|PANIC/, 'no backend crashed');
$node->stop;
done_testing();
