-- The pipeline (docs/pipeline.md) on the core fixtures (성수, 2020-01-01 ..
-- 2025-05-31), in the session ({"sync": true}) and as a job run by
-- seongsu.run_pending_jobs (no worker here); "today" is always given as
-- options.as_of.  Fetching is covered by test/t/080_pipeline.pl: here the
-- runs ingest nothing ("sources": []).  pg_regress runs in PST8PDT.
SET client_min_messages = warning;
SET DateStyle = 'ISO, YMD';
\set VERBOSITY default
\set SHOW_CONTEXT never
TRUNCATE seongsu.ridership_daily, seongsu.ridership_hourly, seongsu.hour_profile, seongsu.weather_daily,
  seongsu.weather_hourly, seongsu.weather_forecast, seongsu.congestion_survey, seongsu.jobs, seongsu.ingest_log,
  seongsu.deployments, seongsu.models, seongsu.prediction_log, seongsu.alerts, seongsu.alert_outbox,
  seongsu.pipelines CASCADE;
DELETE FROM seongsu.holidays WHERE source <> 'seed';
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/test/fixtures/seongsu.sql
SELECT s.id AS sid FROM seongsu.stations s WHERE s.line = '2호선' AND s.name = '성수' \gset
\set opts '"sync": true, "sources": [], "train": {"algorithm": "ridge"}'

-- The error of a call: SQLSTATE, message and hint.
CREATE FUNCTION pg_temp.error_of(call text) RETURNS TABLE (code text, message text, hint text)
  LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE call;
  RETURN QUERY SELECT 'none'::text, NULL::text, NULL::text;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
  -- ids as N (they depend on the tests before)
  message := regexp_replace(message, '\m[0-9]+\M', 'N', 'g');
  hint := regexp_replace(hint, '\m[0-9]+\M', 'N', 'g');
  RETURN NEXT;
END $$;

-- 1. A first run as of 2025-05-01: every step runs once and succeeds; with
-- no champion the policy trains one, which promote deploys, and publish
-- writes the forecasts as of the day.
SELECT seongsu.run_pipeline('성수', '2호선', format('{%s, "as_of": "2025-05-01"}', :'opts')::jsonb) AS r1 \gset
SELECT seongsu.wait_for_pipeline(:r1, '0 seconds') AS state;
SELECT step, state, attempts, error IS NULL AS no_error, detail->>'outcome' AS outcome
FROM seongsu.pipeline_steps WHERE run_id = :r1 ORDER BY ordinal;
SELECT state, as_of, summary, retrained, retrain_reason, trained_model_id IS NOT NULL AS trained, deployed,
       deployed_model_id = trained_model_id AS deployed_what_was_trained, promote_reason, duration >= interval '0' AS timed
FROM seongsu.pipeline_runs WHERE run_id = :r1;
-- the champion is the model trained, on the data to the day before, on a snapshot
SELECT d.model_id = r.trained_model_id AS champion_is_trained, m.train_to, m.algorithm,
       (s.detail->>'snapshot_id')::bigint = (m.metrics->>'snapshot_id')::bigint AS trained_on_the_snapshot
FROM seongsu.deployed_models d, seongsu.pipeline_runs r, seongsu.models m, seongsu.pipeline_steps s
WHERE d.project = '성수 2호선 daily 7 days' AND r.run_id = :r1 AND m.id = r.trained_model_id
  AND s.run_id = :r1 AND s.step = 'retrain';
-- publish wrote what prediction_log holds as of the day
SELECT r.published_rows = (SELECT count(*) FROM seongsu.prediction_log p WHERE p.as_of = '2025-05-01') AS published_all,
       r.published_rows > 0 AS published
FROM seongsu.pipeline_runs r WHERE r.run_id = :r1;
-- the features of the 35 days before it are in the feature store
SELECT (s.detail->>'rows_written')::integer AS feature_rows,
       (SELECT count(*) FROM seongsu.feature_rows f JOIN seongsu.feature_sets fs ON fs.id = f.feature_set
         WHERE fs.name = 'daily 7 days v2' AND f.station_id = :sid
           AND f.ts BETWEEN '2025-03-27 00:00+09' AND '2025-04-30 00:00+09') AS stored
FROM seongsu.pipeline_steps s WHERE s.run_id = :r1 AND s.step = 'features';

-- 2. The next day: the champion is younger than min_model_age_days, so
-- the policy says no (and why); nothing is trained or deployed.
SELECT count(*) AS models_before FROM seongsu.models \gset
SELECT model_id AS champ1 FROM seongsu.deployed_models WHERE project = '성수 2호선 daily 7 days' \gset
SELECT seongsu.run_pipeline('성수', '2호선', format('{%s, "as_of": "2025-05-02"}', :'opts')::jsonb) AS r2 \gset
SELECT state, retrained, regexp_replace(retrain_reason, 'champion [0-9]+', 'champion N') AS retrain_reason, deployed, promote_reason
FROM seongsu.pipeline_runs WHERE run_id = :r2;
SELECT count(*) = :models_before AS nothing_trained FROM seongsu.models;

-- 3. The policy's other rules, each with its reason: the champion older
-- than max_model_age_days; live accuracy worse than the backtest by the
-- ratio; live forecasts off by more than the drift threshold; force;
-- never; within policy; a model of the project trained on data younger
-- than min_model_age_days (the challenger the first of these runs trained).
-- (Each as of 2025-05-20, nothing promoted.)
CREATE TEMP TABLE policy_runs AS
SELECT p.k, p.policy, seongsu.run_pipeline('성수', '2호선',
  format('{%s, "as_of": "2025-05-20", "promote": false, "policy": %s}', :'opts', p.policy)::jsonb) AS id
FROM (VALUES (1, '{"max_model_age_days": 10}'), (2, '{"accuracy_ratio": 0.01, "min_model_age_days": 0}'),
             (3, '{"drift_threshold": 0, "min_model_age_days": 0}'), (4, '{"force": true}'),
             (5, '{"never": true, "force": true}'), (6, '{"min_model_age_days": 0}'), (7, '{}')) p(k, policy);
SELECT p.policy, r.retrained, regexp_replace(r.retrain_reason, '[0-9.-]+', 'N', 'g') AS reason
FROM policy_runs p JOIN seongsu.pipeline_runs r ON r.run_id = p.id ORDER BY p.k;
-- the live record the accuracy and drift rules read: the champion's forecasts
-- of the 28 days to as_of, computed here from prediction_log and the actuals
SELECT l.n = (SELECT count(*) FROM seongsu.prediction_log p JOIN seongsu.ridership_daily r
               ON r.station_id = p.station_id AND r.day = p.target_day
             WHERE p.grain = 'daily' AND p.role = 'champion' AND p.target_day BETWEEN '2025-04-23' AND '2025-05-20') AS same_n,
       l.n > 0 AS scored
FROM seongsu.pipeline_live_record(:sid, (SELECT model_id FROM seongsu.deployed_models WHERE project = '성수 2호선 daily 7 days'),
                                  '2025-05-20', 28) l;
-- "promote": false kept every challenger out
SELECT count(*) FILTER (WHERE r.retrained) AS trained, count(*) FILTER (WHERE r.deployed) AS deployed,
       (SELECT model_id FROM seongsu.deployed_models WHERE project = '성수 2호선 daily 7 days') = :champ1 AS champion_kept
FROM policy_runs p JOIN seongsu.pipeline_runs r ON r.run_id = p.id;
-- the new holiday year: a champion whose data end in 2024, a run in 2025
-- (the other rules out of the way)
SELECT model_id AS old_model FROM seongsu.train('성수', '2호선', 'ridge', train_to => '2024-12-20', force => true) \gset
SELECT seongsu.deploy(:old_model);
SELECT seongsu.run_pipeline('성수', '2호선', format('{%s, "as_of": "2025-01-03", "promote": false, "policy": {"min_model_age_days": 0, "accuracy_ratio": 1000, "drift_threshold": 100}}', :'opts')::jsonb) AS r3 \gset
SELECT state, retrained, regexp_replace(retrain_reason, '[0-9-]+', 'N', 'g') AS reason FROM seongsu.pipeline_runs WHERE run_id = :r3;
SELECT seongsu.rollback('성수 2호선 daily 7 days') = :champ1 AS champion_back;
DELETE FROM seongsu.prediction_log WHERE as_of > '2025-05-02';

-- 4. Promote: the challenger against the champion on the challenger's last
-- backtest fold, deployed only when better by the margin.  A seasonal
-- naive challenger is worse than the ridge champion: not deployed.
SELECT model_id AS champ FROM seongsu.deployed_models WHERE project = '성수 2호선 daily 7 days' \gset
SELECT seongsu.run_pipeline('성수', '2호선', '{"sync": true, "sources": [], "as_of": "2025-05-21", "train": {"algorithm": "seasonal_naive"}, "policy": {"force": true}}') AS r4 \gset
SELECT r.state, r.retrained, r.deployed, (SELECT model_id FROM seongsu.deployed_models WHERE project = '성수 2호선 daily 7 days') = :champ AS champion_kept,
       seongsu.model_for_alias('성수 2호선 daily 7 days', 'challenger') = r.trained_model_id AS challenger_named
FROM seongsu.pipeline_runs r WHERE r.run_id = :r4;
-- the comparison as recorded equals the one recomputed here from
-- seongsu.evaluate over the 28 days before as_of
SELECT (s.detail->>'challenger_rmse')::numeric = round(x.chal, 1) AS challenger_rmse_recomputed,
       (s.detail->>'champion_rmse')::numeric = round(x.champ, 1) AS champion_rmse_recomputed,
       x.n AS days, x.chal >= 0.98 * x.champ AS not_better_by_margin
FROM seongsu.pipeline_steps s
CROSS JOIN LATERAL (SELECT sqrt(avg((c.predicted - c.actual) ^ 2))::numeric AS chal, sqrt(avg((h.predicted - h.actual) ^ 2))::numeric AS champ, count(*) AS n
                      FROM seongsu.evaluate((s.detail->>'challenger')::bigint, '2025-04-23', '2025-05-20') c
                      JOIN seongsu.evaluate(:champ, '2025-04-23', '2025-05-20') h ON h.day = c.day
                     WHERE c.predicted IS NOT NULL AND h.predicted IS NOT NULL) x
WHERE s.run_id = :r4 AND s.step = 'promote';
-- a ridge challenger trained on three more weeks of data, with no margin: deployed when better
SELECT seongsu.run_pipeline('성수', '2호선', '{"sync": true, "sources": [], "as_of": "2025-05-22", "promote_margin": 0, "train": {"algorithm": "ridge"}, "policy": {"force": true}}') AS r5 \gset
SELECT r.deployed = ((s.detail->>'challenger_rmse')::float8 < (s.detail->>'champion_rmse')::float8) AS deployed_iff_better,
       (SELECT model_id FROM seongsu.deployed_models WHERE project = '성수 2호선 daily 7 days')
         = CASE WHEN r.deployed THEN r.trained_model_id ELSE :champ END AS champion_as_decided
FROM seongsu.pipeline_runs r JOIN seongsu.pipeline_steps s ON s.run_id = r.run_id AND s.step = 'promote'
WHERE r.run_id = :r5;

-- 5. The quality gate: an impossible day stops the run at quality; nothing
-- after it runs, the champion and the published forecasts are unchanged,
-- and the quality alert is raised.
SELECT model_id AS champ FROM seongsu.deployed_models WHERE project = '성수 2호선 daily 7 days' \gset
SELECT count(*) AS published_before, coalesce(sum(hashtext(p::text)), 0) AS published_hash FROM seongsu.prediction_log p \gset
SELECT boardings AS orig_b FROM seongsu.ridership_daily WHERE station_id = :sid AND day = '2025-05-24' \gset
UPDATE seongsu.ridership_daily SET boardings = 2000000 WHERE station_id = :sid AND day = '2025-05-24';
SELECT seongsu.run_pipeline('성수', '2호선', format('{%s, "as_of": "2025-05-26", "policy": {"force": true}}', :'opts')::jsonb) AS r6 \gset
SELECT seongsu.wait_for_pipeline(:r6) AS state;
SELECT summary, retrained, deployed, published_rows, error FROM seongsu.pipeline_runs WHERE run_id = :r6;
SELECT s.detail->'failing' AS failing, s.detail->'window' AS checked FROM seongsu.pipeline_steps s WHERE s.run_id = :r6 AND s.step = 'quality';
SELECT (SELECT model_id FROM seongsu.deployed_models WHERE project = '성수 2호선 daily 7 days') = :champ AS champion_unchanged,
       count(*) = :published_before AND coalesce(sum(hashtext(p::text)), 0) = :published_hash AS published_unchanged
FROM seongsu.prediction_log p;
SELECT a.kind, regexp_replace(a.subject, 'model [0-9]+', 'model N') AS subject, a.resolved_at IS NULL AS open
FROM seongsu.alerts a WHERE a.id = ANY ((SELECT alerts_raised FROM seongsu.pipeline_runs WHERE run_id = :r6)::bigint[]);

-- 6. Resume from the failed step: still bad, it stops again (quality tried
-- twice, ingest not redone); fixed, it runs to the end.
SELECT seongsu.resume_pipeline(:r6) = :r6 AS same_run;
SELECT state, summary FROM seongsu.pipeline_runs WHERE run_id = :r6;
UPDATE seongsu.ridership_daily SET boardings = :orig_b WHERE station_id = :sid AND day = '2025-05-24';
SELECT seongsu.resume_pipeline(:r6) = :r6 AS same_run;
SELECT step, state, attempts FROM seongsu.pipeline_steps WHERE run_id = :r6 ORDER BY ordinal;
SELECT state, retrained, published_rows > 0 AS published FROM seongsu.pipeline_runs WHERE run_id = :r6;

-- A step that fails records the error with its SQLSTATE, DETAIL and HINT;
-- resuming reruns it, not the steps before.
SELECT seongsu.run_pipeline('성수', '2호선', '{"sync": true, "sources": [], "as_of": "2025-05-27", "train": {"algorithm": "bogus"}, "policy": {"force": true}}') AS r7 \gset
SELECT state, summary, error FROM seongsu.pipeline_runs WHERE run_id = :r7;
SELECT detail->>'sqlstate' AS sqlstate, detail->>'hint' IS NOT NULL AS has_hint FROM seongsu.pipeline_steps WHERE run_id = :r7 AND step = 'retrain';
SELECT seongsu.resume_pipeline(:r7) = :r7 AS same_run;
SELECT string_agg(format('%s:%s/%s', step, state, attempts), ' ' ORDER BY ordinal) AS steps FROM seongsu.pipeline_steps WHERE run_id = :r7;

-- 7. As a job: queued (no worker here), a second run of the station is
-- refused while it is active; seongsu.run_pending_jobs runs it like the
-- worker would, and the job records it.
SELECT seongsu.run_pipeline('성수', '2호선', '{"sources": [], "as_of": "2025-05-28"}') AS r8 \gset
SELECT state, job_id IS NOT NULL AS has_job FROM seongsu.pipeline_runs WHERE run_id = :r8;
SELECT * FROM pg_temp.error_of($$SELECT seongsu.run_pipeline('성수', '2호선', '{"sources": [], "as_of": "2025-05-28"}')$$);
SELECT j.source, j.state, j.options = jsonb_build_object('run_id', :r8) AS options FROM seongsu.jobs j WHERE j.id = (SELECT job_id FROM seongsu.pipelines WHERE id = :r8);
SELECT seongsu.run_pending_jobs() AS ran;
SELECT seongsu.wait_for_pipeline(:r8) AS state;
SELECT j.state, j.last_error FROM seongsu.jobs j WHERE j.id = (SELECT job_id FROM seongsu.pipelines WHERE id = :r8);
-- cancelling a queued run's job ends the run failed
SELECT seongsu.run_pipeline('성수', '2호선', '{"sources": [], "as_of": "2025-05-29"}') AS r9 \gset
SELECT seongsu.cancel_job((SELECT job_id FROM seongsu.pipelines WHERE id = :r9)) AS cancelled;
SELECT state, error LIKE 'cancelled by %' AS cancelled FROM seongsu.pipeline_runs WHERE run_id = :r9;

-- 8. Errors.
SELECT * FROM pg_temp.error_of($$SELECT seongsu.run_pipeline('성수', '2호선', '{"colour": "red"}')$$);
SELECT * FROM pg_temp.error_of($$SELECT seongsu.run_pipeline('성수', '2호선', '{"policy": {"max_age": 3}}')$$);
SELECT * FROM pg_temp.error_of($$SELECT seongsu.run_pipeline('성수', '2호선', '{"sources": ["nowhere"]}')$$);
SELECT * FROM pg_temp.error_of($$SELECT seongsu.run_pipeline('성수', '2호선', '{"train": {"train_to": "2025-01-01"}}')$$);
SELECT * FROM pg_temp.error_of($$SELECT seongsu.run_pipeline('성수', '2호선', '{"as_of": "someday"}')$$);
SELECT * FROM pg_temp.error_of($$SELECT seongsu.run_pipeline('성수', '2호선', '{"days": 99}')$$);
SELECT * FROM pg_temp.error_of($$SELECT seongsu.run_pipeline('없는역', '2호선', '{}')$$);
SELECT * FROM pg_temp.error_of($$SELECT seongsu.run_pipeline(NULL, '2호선', '{}')$$);
SELECT * FROM pg_temp.error_of(format('SELECT seongsu.resume_pipeline(%s)', :r8));
SELECT * FROM pg_temp.error_of($$SELECT seongsu.resume_pipeline(-1)$$);
SELECT * FROM pg_temp.error_of($$SELECT seongsu.wait_for_pipeline(-1)$$);
SELECT * FROM pg_temp.error_of($$SELECT seongsu.enqueue('pipeline', '2025-05-01')$$);
SELECT * FROM pg_temp.error_of(format('SELECT seongsu.run_job(%s)', (SELECT job_id FROM seongsu.pipelines WHERE id = :r8)));
SELECT * FROM pg_temp.error_of($$SELECT seongsu.schedule_pipeline(options => '{"as_of": "2025-05-01"}')$$);
-- no pg_cron in this database: feature_not_supported, with a hint
SELECT code, hint IS NOT NULL AS has_hint FROM pg_temp.error_of($$SELECT seongsu.schedule_pipeline('0 22 * * *')$$);
SELECT code, hint IS NOT NULL AS has_hint FROM pg_temp.error_of($$SELECT seongsu.unschedule_pipeline()$$);

-- 9. Privileges: a reader sees the runs but cannot start one or call the
-- runner's bookkeeping; an operator runs a pipeline in its session (its
-- steps run as the operator).
CREATE ROLE seongsu_test_pipe_reader IN ROLE seongsu_reader;
CREATE ROLE seongsu_test_pipe_op IN ROLE seongsu_operator;
SET ROLE seongsu_test_pipe_reader;
SELECT count(*) > 0 AS reads_runs FROM seongsu.pipeline_runs;
SELECT code FROM pg_temp.error_of($$SELECT seongsu.run_pipeline('성수', '2호선', '{"sync": true, "sources": []}')$$);
SET ROLE seongsu_test_pipe_op;
SELECT code FROM pg_temp.error_of($$SELECT seongsu.pipeline_create('성수', '2호선', '{}', 'x')$$);
SELECT code FROM pg_temp.error_of(format($$SELECT seongsu.pipeline_end_step(%s, 'ingest', 'continue', '{}', NULL)$$, :r8));
SELECT code FROM pg_temp.error_of($$INSERT INTO seongsu.pipelines (station_id, station, line, as_of, requested_by) VALUES (1, 'a', 'b', '2025-01-01', 'x')$$);
SELECT seongsu.run_pipeline('성수', '2호선', '{"sync": true, "sources": [], "as_of": "2025-05-30", "train": {"algorithm": "ridge"}}') AS r10 \gset
RESET ROLE;
SELECT state, requested_by, summary FROM seongsu.pipeline_runs WHERE run_id = :r10;
SELECT count(*) AS public_grants FROM information_schema.role_routine_grants
WHERE grantee = 'PUBLIC' AND routine_schema = 'seongsu' AND routine_name LIKE '%pipeline%';
DROP ROLE seongsu_test_pipe_reader, seongsu_test_pipe_op;

-- 10. The same run gives the same answers under another TimeZone.
SET TimeZone = 'Pacific/Kiritimati';
SELECT seongsu.run_pipeline('성수', '2호선', '{"sync": true, "sources": [], "as_of": "2025-05-31", "policy": {"never": true}}') AS r11 \gset
SELECT state, summary FROM seongsu.pipeline_runs WHERE run_id = :r11;
SELECT s.detail->'window' AS window FROM seongsu.pipeline_steps s WHERE s.run_id = :r11 AND s.step IN ('quality', 'features') ORDER BY s.ordinal;
RESET TimeZone;

-- 11. simulate_pipeline: three weeks of daily runs by a policy, against
-- "never retrain" and "retrain daily"; nothing kept, the same report twice.
SELECT count(*) AS models_before, (SELECT count(*) FROM seongsu.prediction_log) AS log_before,
       (SELECT count(*) FROM seongsu.deployments) AS deployments_before FROM seongsu.models \gset
SELECT seongsu.simulate_pipeline('2025-04-01', '2025-04-21', '{"train": {"algorithm": "ridge"}, "days": 1, "policy": {"max_model_age_days": 7}}') AS report \gset
SELECT :'report'::jsonb - 'policy_result' - 'never_retrain' - 'retrain_daily' AS report_head;
SELECT k, v->'models_trained' AS trained, v->'deploys' AS deploys, (v->'deploys')::int <= (v->'models_trained')::int AS deploys_le_trained,
       (v->'live'->>'n')::int AS forecasts, (v->'live'->>'mape')::numeric > 0 AS has_mape
FROM jsonb_each(:'report'::jsonb) e(k, v) WHERE k IN ('policy_result', 'never_retrain', 'retrain_daily') ORDER BY k;
SELECT seongsu.simulate_pipeline('2025-04-01', '2025-04-21', '{"train": {"algorithm": "ridge"}, "days": 1, "policy": {"max_model_age_days": 7}}') = :'report'::jsonb AS same_report;
SELECT count(*) = :models_before AS models_kept, (SELECT count(*) FROM seongsu.prediction_log) = :log_before AS log_kept,
       (SELECT count(*) FROM seongsu.deployments) = :deployments_before AS deployments_kept FROM seongsu.models;
SELECT * FROM pg_temp.error_of($$SELECT seongsu.simulate_pipeline('2025-04-21', '2025-04-01')$$);
SELECT * FROM pg_temp.error_of($$SELECT seongsu.simulate_pipeline('2020-01-01', '2025-04-01')$$);

-- 12. The dashboard shows the station's last pipeline runs (at most 7, newest
-- first, each with its state and steps), and the public page does not.
SELECT (regexp_match(seongsu.dashboard('성수', '2호선', '2025-05-31'), '<section id="pipeline">.*?</section>'))[1] AS panel \gset
SELECT array(SELECT (m)[1]::bigint FROM regexp_matches(:'panel', '<tr><td>([0-9]+)</td>', 'g') m)
         = array(SELECT run_id FROM seongsu.pipeline_runs WHERE station = '성수' AND line = '2호선' ORDER BY run_id DESC LIMIT 7)
         AS newest_runs_listed,
       (SELECT bool_and(strpos(:'panel', format('>%s</span>', state)) > 0 AND strpos(:'panel', summary) > 0)
          FROM (SELECT * FROM seongsu.pipeline_runs WHERE station = '성수' ORDER BY run_id DESC LIMIT 7) r) AS states_and_steps,
       strpos(seongsu_api.dashboard('성수', '2호선', '2025-05-31'), 'id="pipeline"') = 0 AS not_on_the_public_page;

-- 13. Options and arguments of the wrong shape, each refused with its SQLSTATE and hint.
SELECT * FROM pg_temp.error_of($$SELECT seongsu.run_pipeline('성수', '2호선', '[]')$$);
SELECT * FROM pg_temp.error_of($$SELECT seongsu.run_pipeline('성수', '2호선', '{"policy": [1]}')$$);
SELECT * FROM pg_temp.error_of($$SELECT seongsu.run_pipeline('성수', '2호선', '{"train": 3}')$$);
SELECT * FROM pg_temp.error_of($$SELECT seongsu.run_pipeline('성수', '2호선', '{"policy": {"max_model_age_days": "a week"}}')$$);
SELECT * FROM pg_temp.error_of(format('SELECT seongsu.wait_for_pipeline(%s, %L)', :r8, '-1 second'));
SELECT * FROM pg_temp.error_of($$SELECT seongsu.schedule_pipeline(NULL)$$);
SELECT * FROM pg_temp.error_of($$SELECT seongsu.simulate_pipeline('2025-04-01', '2025-04-07', '{"compare": ["sometimes"]}')$$);
