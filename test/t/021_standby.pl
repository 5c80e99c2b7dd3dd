# Predictions on a streaming standby (a read replica, as Supabase offers),
# with the caches on: the primary's writes reach the standby's backends as
# replayed relcache invalidations, so the standby does not serve cached
# answers after the primary deploys another model or changes the data.
#  - a standby session's predict_daily equals evaluate() of the deployed model,
#    and a new standby session takes the model from the shared model cache;
#  - after the primary deploys another model (replayed), the same standby
#    session, and a new one, predict with the new model;
#  - after the primary changes the observation the prediction reads, the
#    standby's answer follows it.
# On the core fixtures (test/fixtures/seongsu.sql), with or without the real
# data folder.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SeongsuTest qw(load_fixtures close_to);

my $DAY = '2024-09-03';
my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'daily_seongsu'\n");
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION daily_seongsu');
cmp_ok(load_fixtures($primary, 'postgres'), '>', 1900, 'core fixtures loaded on the primary');
my $ridge = $primary->safe_psql('postgres', q{SELECT model_id FROM seongsu.train(algorithm => 'ridge',
  horizon => '1 day', train_to => '2024-05-31', force => true) WHERE deployed});
my $gbdt = $primary->safe_psql('postgres', q{SELECT model_id FROM seongsu.train(algorithm => 'gbdt',
  horizon => '1 day', train_to => '2024-05-31', hyperparams => '{"n_estimators": 60}', force => true)});
$primary->safe_psql('postgres', "SELECT seongsu.deploy($ridge)");

$primary->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
$standby->start;

# Wait until the standby has replayed everything the primary wrote so far.
sub caught_up
{
	$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
}
# Predicted value of a model for $DAY, from evaluate() on the primary.
sub evaluated
{
	my ($mid) = @_;
	return $primary->safe_psql('postgres', "SELECT predicted FROM seongsu.evaluate($mid, '$DAY', '$DAY')");
}

caught_up();
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');
my $p_daily = "SELECT seongsu.predict_daily('$DAY')";
my $S = $standby->background_psql('postgres');
my $v_ridge = $S->query_safe($p_daily);
ok(close_to($v_ridge, evaluated($ridge)), "standby: predict_daily = evaluate(ridge $ridge) ($v_ridge)");
is($S->query_safe($p_daily), $v_ridge, 'standby: the same again');
# The caches work on the standby: a new standby session takes the model's
# image from the shared model cache the first one filled.
my $hits = "SELECT hits FROM seongsu.model_cache() WHERE model_id = $ridge AND current";
my $h0 = $standby->safe_psql('postgres', $hits);
like($h0, qr/^\d+$/, "standby: model $ridge is in the standby's shared model cache");
ok(close_to($standby->safe_psql('postgres', $p_daily), $v_ridge), 'a new standby session predicts the same');
is($standby->safe_psql('postgres', $hits), $h0 + 1, 'it took the model from the shared cache');

$primary->safe_psql('postgres', "SELECT seongsu.deploy($gbdt)");
caught_up();
my $e_gbdt = evaluated($gbdt);
ok(close_to($S->query_safe($p_daily), $e_gbdt), "standby session after the primary deployed gbdt $gbdt: its prediction ($e_gbdt)");
ok(close_to($standby->safe_psql('postgres', $p_daily), $e_gbdt), 'a new standby session too');

# lag_1d of $DAY: the day before, changed on the primary.
$primary->safe_psql('postgres', "UPDATE seongsu.ridership_daily SET boardings = boardings + 20000
  WHERE day = date '$DAY' - 1 AND station_id = (SELECT id FROM seongsu.stations WHERE name = '성수' AND line = '2호선')");
caught_up();
my $e_changed = evaluated($gbdt);
isnt($e_changed, $e_gbdt, 'the change moves the prediction (evaluate on the primary)');
ok(close_to($S->query_safe($p_daily), $e_changed), "standby session after the data change: $e_changed");

$S->quit;
$standby->stop;
$primary->stop;
done_testing();
