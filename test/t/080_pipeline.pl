# The pipeline (docs/pipeline.md) run by the worker against the loopback
# replay server (synthetic series, "today" pinned to 2025-06-20), on the
# core fixtures (성수 2호선 to 2025-05-31):
#  (a) a run ingests the new days, publishes forecasts and records every step;
#  (b) kill -9 of the worker during a run's ingest step: after the restart
#      the run resumes at that step and ends succeeded, with no duplicate
#      job, row or forecast;
#  (c) a level shift of the station makes the policy retrain (and the
#      challenger is promoted when it beats the champion by the margin);
#  (d) a worse challenger is not promoted;
#  (e) an upstream failing on transient errors: the run is retrying, then,
#      once the upstream is back, its job's next run resumes at the ingest
#      step and succeeds;
#  (f) schedule_pipeline / unschedule_pipeline with pg_cron: one job per
#      station, updated in place, whose command queues a run;
#  (g) simulate_pipeline over the fetched days gives the same report twice
#      and keeps nothing;
#  (h) seongsu.cancel_job of a running run's job interrupts its step and
#      ends the run failed; the station can run again.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SeongsuTest qw(start_replay replay_urls set_faults load_fixtures);

my $SEOUL_KEY = 'SEOULKEY123';
my $DGK_KEY   = 'dgk+KEY/456==';
my $WORKER    = 'daily_seongsu ingest';
my $PROJECT   = '성수 2호선 daily 7 days';

my $base = start_replay(seoul_key => $SEOUL_KEY, dgk_key => $DGK_KEY, extra => [ '--today', '2025-06-20' ]);

my $node = PostgreSQL::Test::Cluster->new('pipeline');
$node->init;
$node->append_conf('postgresql.conf', <<"EOC");
shared_preload_libraries = 'daily_seongsu,pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
seongsu.database = 'postgres'
seongsu.seoul_api_key = '$SEOUL_KEY'
seongsu.data_go_kr_key = '$DGK_KEY'
@{[ replay_urls($base) ]}
seongsu.http_timeout_ms = 20000
seongsu.max_attempts = 2
seongsu.job_max_attempts = 3
seongsu.job_retry_delay = 1
restart_after_crash = on
EOC
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_cron; CREATE EXTENSION daily_seongsu');
$node->poll_query_until('postgres', "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = '$WORKER'")
  or BAIL_OUT('the worker did not start');
my $days = load_fixtures($node, 'postgres');
note("fixtures: $days days of ridership");

sub sql { return $node->safe_psql('postgres', $_[0]); }

# The first champion: ridge on the fixtures to 2025-05-31.
sql(q{SELECT count(*) FROM seongsu.train('성수', '2호선', 'ridge', train_to => '2025-05-31', force => true)});
my $champion0 = sql(qq{SELECT model_id FROM seongsu.deployed_models WHERE project = '$PROJECT'});
ok($champion0, "a first champion ($champion0)");

# ---------------------------------------------------------------- (a) a run
my $r1 = sql(q{SELECT seongsu.run_pipeline('성수', '2호선', '{"as_of": "2025-06-04", "sources": ["seoul_daily"], "train": {"algorithm": "ridge"}}')});
is(sql("SELECT seongsu.wait_for_pipeline($r1, '5 minutes')"), 'succeeded', '(a) the run succeeded in the worker');
is(sql("SELECT string_agg(format('%s:%s/%s', step, state, attempts), ' ' ORDER BY ordinal) FROM seongsu.pipeline_steps WHERE run_id = $r1"),
	'ingest:succeeded/1 quality:succeeded/1 features:succeeded/1 monitor:succeeded/1 retrain:succeeded/1 promote:succeeded/1 publish:succeeded/1',
	'(a) every step recorded, once');
is(sql(q{SELECT count(*) FROM seongsu.ridership_daily r JOIN seongsu.stations s ON s.id = r.station_id
       WHERE s.name = '성수' AND r.day BETWEEN '2025-06-01' AND '2025-06-03'}), '3', '(a) the new days were ingested');
is(sql("SELECT string_agg(format('%s %s..%s %s', j.source, j.from_date, j.to_date, j.state), ', ')
      FROM seongsu.jobs j WHERE j.source <> 'pipeline'"), 'seoul_daily 2025-05-25..2025-06-03 done',
	'(a) through a job of its own, over the last ten days before as_of');
is(sql("SELECT j.state FROM seongsu.jobs j JOIN seongsu.pipelines p ON p.job_id = j.id WHERE p.id = $r1"), 'done',
	'(a) the pipeline job is done');
my $published = sql("SELECT published_rows FROM seongsu.pipeline_runs WHERE run_id = $r1");
cmp_ok($published, '>', 0, "(a) forecasts published ($published rows)");
is(sql("SELECT count(*) FROM seongsu.prediction_log WHERE as_of = '2025-06-04' AND role = 'champion'"), $published,
	'(a) prediction_log holds them as of the run day');
is(sql("SELECT retrained FROM seongsu.pipeline_runs WHERE run_id = $r1"), 'f', '(a) a four-day-old champion is kept');

# ---------------------------------------------------------------- (b) kill -9 mid-run
set_faults($base, { match => 'CardSubwayStatsNew', fault => 'latency', ms => 1500 });
my $r2 = sql(q{SELECT seongsu.run_pipeline('성수', '2호선', '{"as_of": "2025-06-12", "sources": ["seoul_daily"], "policy": {"never": true}}')});
ok($node->poll_query_until('postgres', "SELECT state = 'running' FROM seongsu.pipeline_steps WHERE run_id = $r2 AND step = 'ingest'"),
	'(b) the ingest step is running');
my $pid = sql("SELECT pid FROM pg_stat_activity WHERE backend_type = '$WORKER'");
ok(kill('KILL', $pid), "(b) kill -9 the worker (pid $pid)");
set_faults($base);
ok($node->poll_query_until('postgres', "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = '$WORKER' AND pid <> $pid"),
	'(b) the server restarted and a new worker runs');
is(sql("SELECT seongsu.wait_for_pipeline($r2, '5 minutes')"), 'succeeded', '(b) the interrupted run ends succeeded');
is(sql("SELECT string_agg(format('%s:%s/%s', step, state, attempts), ' ' ORDER BY ordinal) FROM seongsu.pipeline_steps WHERE run_id = $r2"),
	'ingest:succeeded/2 quality:succeeded/1 features:succeeded/1 monitor:succeeded/1 retrain:succeeded/1 promote:succeeded/1 publish:succeeded/1',
	'(b) it resumed at the interrupted step; the others ran once');
is(sql("SELECT count(*) FROM seongsu.jobs WHERE source = 'seoul_daily' AND from_date = '2025-06-02'"), '1',
	'(b) one ingestion job for the run (the killed attempt left none)');
is(sql("SELECT count(*) - count(DISTINCT (station_id, day)) FROM seongsu.ridership_daily"), '0', '(b) no duplicate day');
is(sql("SELECT count(*) FROM seongsu.prediction_log WHERE as_of = '2025-06-12' AND role = 'champion'"),
	sql("SELECT published_rows FROM seongsu.pipeline_runs WHERE run_id = $r2"), '(b) the forecasts published once');
is(sql("SELECT count(*) FROM seongsu.pipelines WHERE state IN ('queued', 'running', 'retrying')"), '0', '(b) nothing left active');

# ---------------------------------------------------------------- (c) level shift
# The station's level rises by 60% from 2025-06-01 (the replay server serves
# one level, so the shift is written here, and these runs fetch nothing).
sql(q{UPDATE seongsu.ridership_daily r SET boardings = r.boardings * 16 / 10, alightings = r.alightings * 16 / 10
    FROM seongsu.stations s WHERE s.id = r.station_id AND s.name = '성수' AND r.day >= '2025-06-01'});
my $policy = '"policy": {"max_model_age_days": 1000, "min_model_age_days": 0, "new_holiday_year": false}';
my $r3 = sql(qq{SELECT seongsu.run_pipeline('성수', '2호선', '{"as_of": "2025-06-14", "sources": [], "train": {"algorithm": "ridge"}, $policy}')});
is(sql("SELECT seongsu.wait_for_pipeline($r3, '5 minutes')"), 'succeeded', '(c) the run after the shift succeeded');
my ($retrained, $reason) = split /\|/, sql("SELECT retrained, retrain_reason FROM seongsu.pipeline_runs WHERE run_id = $r3");
is($retrained, 't', '(c) the policy retrains');
like($reason, qr/live MAPE .* is more than accuracy_ratio|live forecasts are off by/, "(c) because of the live record: $reason");
my ($deployed, $chal, $chal_rmse, $champ_rmse, $why) = split /\|/,
	sql("SELECT (s.detail->>'deployed'), s.detail->>'challenger', s.detail->>'challenger_rmse', s.detail->>'champion_rmse', s.detail->>'reason'
	   FROM seongsu.pipeline_steps s WHERE s.run_id = $r3 AND s.step = 'promote'");
note("(c) promote: $why");
cmp_ok($chal_rmse, '<', 0.98 * $champ_rmse, '(c) the challenger beats the champion by the margin on the same window');
is($deployed, 'true', '(c) and is promoted');
is(sql(qq{SELECT model_id FROM seongsu.deployed_models WHERE project = '$PROJECT'}), $chal, '(c) the challenger is the champion');

# ---------------------------------------------------------------- (d) a worse challenger
my $r4 = sql(qq{SELECT seongsu.run_pipeline('성수', '2호선', '{"as_of": "2025-06-15", "sources": [], "train": {"algorithm": "seasonal_naive"}, "policy": {"force": true}}')});
is(sql("SELECT seongsu.wait_for_pipeline($r4, '5 minutes')"), 'succeeded', '(d) the run succeeded');
my ($d_retrained, $d_deployed, $d_reason) = split /\|/,
	sql("SELECT retrained, deployed, promote_reason FROM seongsu.pipeline_runs WHERE run_id = $r4");
is("$d_retrained $d_deployed", 't f', "(d) a challenger was trained and not promoted: $d_reason");
is(sql(qq{SELECT model_id FROM seongsu.deployed_models WHERE project = '$PROJECT'}), $chal, '(d) the champion is kept');

# ---------------------------------------------------------------- (e) transient failures
set_faults($base, { match => 'CardSubwayStatsNew', fault => 'http500' });
my $r5 = sql(q{SELECT seongsu.run_pipeline('성수', '2호선', '{"as_of": "2025-06-16", "sources": ["seoul_daily"], "policy": {"never": true}}')});
ok($node->poll_query_until('postgres', "SELECT state = 'retrying' FROM seongsu.pipelines WHERE id = $r5"),
	'(e) the run is retrying after the transient failures');
like(sql("SELECT error FROM seongsu.pipeline_steps WHERE run_id = $r5 AND step = 'ingest'"), qr/SQLSTATE SSP03/,
	'(e) the ingest step failed with SSP03 (transient)');
set_faults($base);
is(sql("SELECT seongsu.wait_for_pipeline($r5, '2 minutes')"), 'succeeded', '(e) once the upstream is back the run succeeds');
is(sql("SELECT string_agg(format('%s:%s/%s', step, state, attempts), ' ' ORDER BY ordinal) FROM seongsu.pipeline_steps WHERE run_id = $r5"),
	'ingest:succeeded/2 quality:succeeded/1 features:succeeded/1 monitor:succeeded/1 retrain:succeeded/1 promote:succeeded/1 publish:succeeded/1',
	'(e) ingest ran twice, the rest once');
is(sql("SELECT count(*) FILTER (WHERE state = 'failed') || ' ' || count(*) FILTER (WHERE state = 'done') FROM seongsu.jobs WHERE source = 'seoul_daily' AND to_date = '2025-06-15'"),
	'1 1', '(e) the failed fetch is recorded, and the one that succeeded');
is(sql("SELECT j.state || ' ' || j.attempts FROM seongsu.jobs j JOIN seongsu.pipelines p ON p.job_id = j.id WHERE p.id = $r5"), 'done 2',
	'(e) the pipeline job ran twice');

# ---------------------------------------------------------------- (f) pg_cron
my $opts = '{"sources": [], "policy": {"never": true}}';
my $job = sql(qq{SELECT seongsu.schedule_pipeline('30 22 * * *', '성수', '2호선', '$opts')});
is(sql(qq{SELECT seongsu.schedule_pipeline('0 23 * * *', '성수', '2호선', '$opts')}), $job, '(f) scheduling again updates the same pg_cron job');
is(sql("SELECT jobname || ' | ' || schedule FROM cron.job"), 'seongsu_pipeline 성수 2호선 | 0 23 * * *', '(f) one job, named after the station, the new schedule');
my $command = sql("SELECT command FROM cron.job WHERE jobid = $job");
like($command, qr/^SELECT seongsu\.run_pipeline\('성수', '2호선', '\{.*\}'::pg_catalog\.jsonb\)$/, "(f) its command: $command");
my $r6 = sql($command);
like(sql("SELECT seongsu.wait_for_pipeline($r6, '5 minutes')"), qr/^(succeeded|stopped)$/, '(f) the command queues a run the worker ends');
is(sql("SELECT as_of = (now() AT TIME ZONE 'Asia/Seoul')::date FROM seongsu.pipelines WHERE id = $r6"), 't', '(f) as of today in KST');
is(sql("SELECT seongsu.unschedule_pipeline('성수', '2호선')"), 't', '(f) unscheduled');
is(sql("SELECT seongsu.unschedule_pipeline('성수', '2호선')::text || ' ' || (SELECT count(*) FROM cron.job)"), 'false 0', '(f) unscheduling again finds nothing');

# ---------------------------------------------------------------- (g) simulate_pipeline
my $state = "SELECT (SELECT count(*) FROM seongsu.models) || ' ' || (SELECT count(*) FROM seongsu.prediction_log) || ' ' || (SELECT count(*) FROM seongsu.deployments)";
my $before = sql($state);
my $sim = q{SELECT seongsu.simulate_pipeline('2025-06-01', '2025-06-14', '{"train": {"algorithm": "ridge"}, "days": 1, "policy": {"max_model_age_days": 7}}')};
my $report = sql($sim);
like($report, qr/"policy_result": \{.*"models_trained": \d+/, '(g) a report');
is(sql($sim), $report, '(g) the same report twice');
is(sql($state), $before, '(g) nothing kept (models, forecasts, deployments)');
note("(g) $report");

# ---------------------------------------------------------------- (h) cancel
set_faults($base, { match => 'CardSubwayStatsNew', fault => 'latency', ms => 3000 });
my $r7 = sql(q{SELECT seongsu.run_pipeline('성수', '2호선', '{"as_of": "2025-06-18", "sources": ["seoul_daily"], "policy": {"never": true}}')});
ok($node->poll_query_until('postgres', "SELECT state = 'running' FROM seongsu.pipeline_steps WHERE run_id = $r7 AND step = 'ingest'"),
	'(h) the ingest step is running');
is(sql("SELECT seongsu.cancel_job(job_id) FROM seongsu.pipelines WHERE id = $r7"), 'cancelled', '(h) its job cancelled');
is(sql("SELECT seongsu.wait_for_pipeline($r7, '1 minute')"), 'failed', '(h) the run ends failed');
ok($node->poll_query_until('postgres', "SELECT state = 'failed' AND error LIKE 'cancelled: %' FROM seongsu.pipeline_steps WHERE run_id = $r7 AND step = 'ingest'"),
	'(h) its ingest step was interrupted (the runner recorded the cancel)');
is(sql("SELECT count(*) FROM seongsu.jobs WHERE source = 'seoul_daily' AND to_date = '2025-06-17'"), '0',
	'(h) nothing of the interrupted step was kept');
set_faults($base);
my $r8 = sql(q{SELECT seongsu.run_pipeline('성수', '2호선', '{"as_of": "2025-06-18", "sources": [], "policy": {"never": true}}')});
is(sql("SELECT seongsu.wait_for_pipeline($r8, '5 minutes')"), 'succeeded', '(h) the next run of the station runs');

done_testing();
