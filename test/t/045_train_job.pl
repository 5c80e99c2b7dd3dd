# Training as a background job (issue 14): seongsu.enqueue('train', ...)
# runs seongsu.train in the worker, as the role that enqueued it:
#  (a) its run is visible as running from other sessions while it trains
#      (its candidates are not: they commit with the models), then the job is
#      done with its model counted and its run finished, tagged with the job;
#  (b) a training that fails leaves the job failed and its run failed with
#      the same error;
#  (c) seongsu.cancel_job stops a training in progress within seconds: the
#      job failed "cancelled by <role>", its run cancelled, no model stored,
#      and the worker free for the next job;
#  (d) a fast shutdown interrupts a training at once; at the next start the
#      run it left is failed ("the worker stopped ...") and the job runs again
#      to the end.
# Needs DS_DATA (the real data folder), as set by test/check.sh.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $data = $ENV{DS_DATA};
plan skip_all => 'DS_DATA (the real data folder) is not set' unless $data && -d $data;

my $node = PostgreSQL::Test::Cluster->new('train_job');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'daily_seongsu'\nseongsu.database = 'postgres'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION daily_seongsu');
$node->safe_psql('postgres', 'CREATE ROLE op LOGIN IN ROLE seongsu_operator');
my $loaded = $node->safe_psql('postgres', qq{
  SELECT seongsu.import_file('card_subway_month', '$data/seongsu/card_subway_month_2015-01_2021-07.csv')
       + seongsu.import_file('ridership_daily', '$data/seongsu/daily_2022-11_2025-05.csv')});
cmp_ok($loaded, '>', 3000, "real Seongsu data imported ($loaded rows)");

sub q1 { return $node->safe_psql('postgres', $_[0]); }
sub as_op { return $node->safe_psql('postgres', $_[0], extra_params => [ '-U', 'op' ]); }

# A gbdt training of about n rounds x 4 fits (raw target: 3 folds and the refit;
# its shape fixed, so no second stage with random thresholds).
sub gbdt_job
{
	my ($project, $rounds, $from) = @_;
	$from //= '2015-01-01';
	return as_op(qq{SELECT seongsu.enqueue('train', '$from', '2024-05-31',
	  '{"algorithm": "gbdt", "horizon": "1 day", "project": "$project", "force": true,
	    "hyperparams": {"n_estimators": $rounds, "early_stopping_rounds": 0, "target": "raw", "half_life": 0, "extra_trees": false}}')});
}

# The run of job $j: status | children | model | db_user | error.
sub run_of
{
	my ($j) = @_;
	return q1(qq{SELECT r.status || '|' || (SELECT count(*) FROM seongsu.runs c WHERE c.parent_run_id = r.run_id)
	  || '|' || coalesce(r.model_id::text, '') || '|' || r.db_user || '|' || coalesce(r.tags->>'seongsu.error', '')
	  FROM seongsu.runs r WHERE r.parent_run_id IS NULL AND r.tags->>'seongsu.job_id' = '$j'});
}

# ======================================================================
# (a) running while it trains, then done
# ======================================================================
my $ja = gbdt_job('job-a', 1000);
ok($node->poll_query_until('postgres',
	qq{SELECT status || '|' || (SELECT count(*) FROM seongsu.runs c WHERE c.parent_run_id = r.run_id)
	   FROM seongsu.runs r WHERE r.tags->>'seongsu.job_id' = '$ja'}, 'running|0'),
	'(a) another session sees the run running, without its candidates yet');
is(q1("SELECT state FROM seongsu.jobs WHERE id = $ja"), 'running', '(a) while the job runs');
is(q1("SELECT seongsu.wait_for_job($ja, '5 minutes')"), 'done', '(a) the job is done');
my ($status, $children, $model, $user, $error) = split /\|/, run_of($ja), -1;
is($status, 'finished', '(a) its run finished');
is($children, '1', '(a) with its one candidate (gbdt, raw target, no age decay)');
is(q1("SELECT id FROM seongsu.models WHERE project = 'job-a'"), $model, '(a) the run names the model the job stored');
is($user, 'op', '(a) trained as the role that enqueued it');
is(q1("SELECT rows_written || '|' || coalesce(last_error, '') FROM seongsu.jobs WHERE id = $ja"), '1|',
	'(a) the job counts one model');
is(q1(qq{SELECT r.metrics = m.metrics FROM seongsu.runs r JOIN seongsu.models m ON m.id = r.model_id
	WHERE r.tags->>'seongsu.job_id' = '$ja'}), 't', '(a) its metrics are the model\'s');

# ======================================================================
# (b) a training that fails
# ======================================================================
my $jb = as_op(q{SELECT seongsu.enqueue('train', '2030-01-01', '2030-12-31',
  '{"algorithm": "ridge", "horizon": "1 day", "project": "job-b"}')});
is(q1("SELECT seongsu.wait_for_job($jb, '2 minutes')"), 'failed', '(b) the job failed');
is(q1("SELECT last_error FROM seongsu.jobs WHERE id = $jb"), 'no observations in the training range',
	'(b) with train\'s error');
($status, $children, $model, $user, $error) = split /\|/, run_of($jb), -1;
is("$status|$children|$model|$error", 'failed|0||no observations in the training range',
	'(b) its run failed with the same error, no candidate, no model');
is(q1(qq{SELECT tags->>'seongsu.sqlstate' FROM seongsu.runs WHERE tags->>'seongsu.job_id' = '$jb'}), 'P0002',
	'(b) and the SQLSTATE');

# ======================================================================
# (c) cancel_job stops a training in progress
# ======================================================================
my $jc = gbdt_job('job-c', 5000);
ok($node->poll_query_until('postgres', qq{SELECT status FROM seongsu.runs WHERE tags->>'seongsu.job_id' = '$jc'},
	'running'), '(c) the long training is running');
my $t0 = time;
is(as_op("SELECT seongsu.cancel_job($jc)"), 'cancelled', '(c) an operator cancels it');
ok($node->poll_query_until('postgres', qq{SELECT status FROM seongsu.runs WHERE tags->>'seongsu.job_id' = '$jc'},
	'cancelled'), '(c) its run is cancelled');
my $stopped = time - $t0;
cmp_ok($stopped, '<', 10, sprintf('(c) within %.1f s (the training had about a minute to go)', $stopped));
($status, $children, $model, $user, $error) = split /\|/, run_of($jc), -1;
is("$status|$children|$model|$error", 'cancelled|0||cancelled by op', '(c) cancelled by op, nothing of it kept');
is(q1("SELECT state || '|' || last_error FROM seongsu.jobs WHERE id = $jc"), 'failed|cancelled by op',
	'(c) the job failed, cancelled by op');
is(q1("SELECT count(*) FROM seongsu.models WHERE project = 'job-c'"), '0', '(c) no model stored');
my $jn = as_op(q{SELECT seongsu.enqueue('train', '2023-01-01', '2024-05-31',
  '{"algorithm": "seasonal_naive", "horizon": "1 day", "project": "job-next", "force": true}')});
is(q1("SELECT seongsu.wait_for_job($jn, '1 minute')"), 'done', '(c) the worker runs the next job');

# ======================================================================
# (d) a fast shutdown mid-training, and the next start
# ======================================================================
my $jd = gbdt_job('job-d', 1500);
ok($node->poll_query_until('postgres', qq{SELECT status FROM seongsu.runs WHERE tags->>'seongsu.job_id' = '$jd'},
	'running'), '(d) training');
my $first = q1(qq{SELECT run_id FROM seongsu.runs WHERE tags->>'seongsu.job_id' = '$jd'});
$t0 = time;
$node->stop('fast');
my $stop = time - $t0;
cmp_ok($stop, '<', 10, sprintf('(d) the server stopped in %.1f s', $stop));
$node->start;
is(q1("SELECT seongsu.wait_for_job($jd, '5 minutes')"), 'done', '(d) the job ran again to the end');
is(q1(qq{SELECT status || '|' || (tags->>'seongsu.error') FROM seongsu.runs WHERE run_id = $first}),
	'failed|the worker stopped while the job ran; the job runs again', '(d) the interrupted run failed, saying why');
is(q1(qq{SELECT string_agg(status, ',' ORDER BY run_id) FROM seongsu.runs
	WHERE parent_run_id IS NULL AND tags->>'seongsu.job_id' = '$jd'}), 'failed,finished',
	'(d) and the second run finished');
is(q1("SELECT attempts || '|' || rows_written FROM seongsu.jobs WHERE id = $jd"), '2|1', '(d) on the second attempt');

$node->stop;
done_testing();
