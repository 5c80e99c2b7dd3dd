-- Experiment tracking and the model registry: a run per train() call and a
-- child per candidate, their metrics equal to the models', metric histories,
-- backtest predictions and importances that recompute to what the models
-- say, compare_runs, tags, failed and cancelled runs kept although their
-- transaction is gone, versions and aliases moving with deploy and
-- rollback, privileges and bad input.  (Data: what models left loaded.)
SET client_min_messages = warning;

-- An error as SQLSTATE, message, detail (unless it shows a whole row) and
-- hint; a run or model id (they depend on the tests before) shown as a name.
CREATE FUNCTION pg_temp.error_of(q text, id bigint DEFAULT NULL, name text DEFAULT NULL, detail boolean DEFAULT true) RETURNS text
  LANGUAGE plpgsql AS $$
DECLARE
  st text; msg text; det text; hin text; r text;
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, hin = PG_EXCEPTION_HINT;
  r := concat_ws(E'\n', st || ': ' || msg, 'DETAIL: ' || nullif(det, '') || CASE WHEN detail THEN '' END,
                 'HINT: ' || nullif(hin, ''));
  RETURN CASE WHEN id IS NULL THEN r ELSE regexp_replace(r, '\m' || id || '\M', name, 'g') END;
END $$;

-- One auto call: 5 models (the ensemble too), one run; hyper-parameters
-- small enough to be quick; both target modes, and gbdt with early stopping
-- (so that it records learning curves).
CREATE TEMP TABLE a1 AS
SELECT * FROM seongsu.train(algorithm => 'auto', horizon => '1 day', train_from => '2019-01-01', train_to => '2024-05-31',
                            project => 'track', force => true,
                            hyperparams => '{"n_trees": 20, "n_estimators": 80, "learning_rate": 0.3, "early_stopping_rounds": 10, "target": "auto"}');
SELECT count(*) AS models, count(DISTINCT run_id) AS runs, bool_and(run_id IS NOT NULL) AS has_run FROM a1;
SELECT run_id AS a1_run FROM a1 LIMIT 1 \gset

-- Runs of the call: 1 + one child per candidate (seasonal_naive 1; the others
-- raw and ratio, target auto, at three half-lives each; the ensemble 1).
SELECT count(DISTINCT params->>'half_life') AS half_lives FROM seongsu.runs WHERE parent_run_id = :a1_run AND algorithm = 'gbdt';
SELECT count(*) FILTER (WHERE parent_run_id IS NULL) AS parent,
       count(*) FILTER (WHERE parent_run_id = :a1_run) AS children,
       count(*) FILTER (WHERE parent_run_id = :a1_run AND algorithm = 'seasonal_naive') AS naive,
       count(*) FILTER (WHERE parent_run_id = :a1_run AND params->>'target' = 'ratio') AS ratio,
       count(*) FILTER (WHERE parent_run_id = :a1_run AND params->>'target' = 'raw') AS raw,
       bool_and(status = 'finished' AND finished_at >= started_at) AS all_finished
FROM seongsu.runs WHERE run_id = :a1_run OR parent_run_id = :a1_run;

-- The call's run: what was asked, the model auto chose (the one deployed)
-- with its metrics and parameters exactly as stored, the range trained on.
SELECT r.project, r.station, r.line, r.grain, r.horizon, r.algorithm, r.search IS NULL AS no_search,
       r.model_id = (SELECT model_id FROM a1 WHERE deployed) AS best_model,
       r.metrics = m.metrics AS metrics_as_stored, r.params = m.hyperparams AS params_as_stored,
       r.train_from = m.train_from AND r.train_to = m.train_to AS range_as_stored,
       r.db_user = current_user AS db_user, r.tags,
       r.snapshot_id = (m.metrics->>'snapshot_id')::bigint AND r.snapshot_id IN (SELECT snapshot_id FROM seongsu.snapshots) AS snapshot,
       r.extension_version = (SELECT extversion FROM pg_extension WHERE extname = 'daily_seongsu') AS version,
       r.build ~ '^[A-Za-z0-9._+-]+$' AS build
FROM seongsu.runs r JOIN seongsu.models m ON m.id = r.model_id WHERE r.run_id = :a1_run;

-- Each model is one child's: its metrics per fold and mean, and every
-- effective hyper-parameter (defaults included) as stored with the model.
SELECT a.algorithm, count(r.*) AS runs,
       bool_and(r.metrics->'folds' = m.metrics->'folds' AND r.metrics->'mean' = m.metrics->'mean') AS metrics_equal,
       bool_and(r.params = m.hyperparams) AS params_equal,
       bool_and(CASE a.algorithm WHEN 'seasonal_naive' THEN true
                                 WHEN 'ensemble' THEN r.params->'members'->2->'params' ? 'max_depth' AND r.params->'members'->2->'params' ? 'half_life'
                                 ELSE r.params ? 'max_depth' AND r.params ? 'learning_rate' AND r.params ? 'half_life' END) AS every_param
FROM a1 a JOIN seongsu.models m ON m.id = a.model_id
LEFT JOIN seongsu.runs r ON r.model_id = a.model_id AND r.parent_run_id = :a1_run
GROUP BY a.algorithm ORDER BY a.algorithm;

-- run_metrics: per fold (step 1..k) and mean (step 0), the values of the
-- metrics document, and nothing else but gbdt's curves.
SELECT count(*) AS checked,
       count(*) FILTER (WHERE (SELECT rm.value FROM seongsu.run_metrics rm
                               WHERE rm.run_id = r.run_id AND rm.key = k.key AND rm.step = f.ord)
                              IS DISTINCT FROM (f.x->'metrics'->>k.key)::float8) AS mismatches
FROM seongsu.runs r CROSS JOIN LATERAL jsonb_array_elements(r.metrics->'folds') WITH ORDINALITY f(x, ord)
CROSS JOIN (VALUES ('rmse'), ('mae'), ('mape'), ('smape'), ('r2'), ('bias')) k(key)
WHERE r.parent_run_id = :a1_run OR r.run_id = :a1_run;
SELECT count(*) AS checked,
       count(*) FILTER (WHERE (SELECT rm.value FROM seongsu.run_metrics rm
                               WHERE rm.run_id = r.run_id AND rm.key = 'mean_' || k.key AND rm.step = 0)
                              IS DISTINCT FROM (r.metrics->'mean'->>k.key)::float8) AS mismatches
FROM seongsu.runs r CROSS JOIN (VALUES ('rmse'), ('mae'), ('mape'), ('smape'), ('r2'), ('bias')) k(key)
WHERE r.parent_run_id = :a1_run OR r.run_id = :a1_run;
SELECT count(*) AS other_rows FROM seongsu.run_metrics rm JOIN seongsu.runs r ON r.run_id = rm.run_id
WHERE (r.parent_run_id = :a1_run OR r.run_id = :a1_run) AND rm.key NOT LIKE 'valid_loss_fold%'
  AND NOT (rm.step BETWEEN 1 AND jsonb_array_length(r.metrics->'folds') AND rm.key IN ('rmse', 'mae', 'mape', 'smape', 'r2', 'bias'))
  AND NOT (rm.step = 0 AND rm.key IN ('mean_rmse', 'mean_mae', 'mean_mape', 'mean_smape', 'mean_r2', 'mean_bias'));
-- The call's run has its best candidate's histories.
SELECT (SELECT array_agg((key, step, value) ORDER BY key, step) FROM seongsu.run_metrics WHERE run_id = :a1_run) =
       (SELECT array_agg((m.key, m.step, m.value) ORDER BY m.key, m.step) FROM seongsu.run_metrics m JOIN seongsu.runs c ON c.run_id = m.run_id
        WHERE c.parent_run_id = :a1_run AND c.model_id = (SELECT model_id FROM seongsu.runs WHERE run_id = :a1_run)) AS best_histories;
-- gbdt's learning curves: one per fold, a value per round grown (at most
-- n_estimators, steps 1..n without gaps), only for gbdt.
SELECT r.algorithm, r.params->>'target' AS target, count(DISTINCT rm.key) AS curves,
       bool_and(n.rounds BETWEEN 1 AND 80 AND n.last = n.rounds) AS rounds_ok
FROM seongsu.runs r JOIN seongsu.run_metrics rm ON rm.run_id = r.run_id AND rm.key LIKE 'valid_loss_fold%'
JOIN LATERAL (SELECT count(*) AS rounds, max(step) AS last FROM seongsu.run_metrics x
              WHERE x.run_id = r.run_id AND x.key = rm.key) n ON true
WHERE r.parent_run_id = :a1_run GROUP BY 1, 2 ORDER BY 1, 2;
-- Each curve is the one early stopping watched: a curve cut short (fewer
-- than n_estimators rounds) ends early_stopping_rounds after its minimum.
SELECT count(*) AS curves, count(*) FILTER (WHERE c.rounds < 80) AS stopped_early,
       count(*) FILTER (WHERE c.rounds = 80 OR c.best = c.rounds - 10) AS stopped_after_best
FROM (SELECT rm.run_id, rm.key, count(*) AS rounds, (array_agg(rm.step ORDER BY rm.value, rm.step))[1] AS best
      FROM seongsu.run_metrics rm JOIN seongsu.runs r ON r.run_id = rm.run_id
      WHERE r.parent_run_id = :a1_run AND rm.key LIKE 'valid_loss_fold%' GROUP BY 1, 2) c;
SELECT count(*) AS curves_of_others FROM seongsu.runs r JOIN seongsu.run_metrics rm ON rm.run_id = r.run_id
WHERE r.parent_run_id = :a1_run AND r.algorithm <> 'gbdt' AND rm.key LIKE 'valid_loss%';

-- Backtest predictions: every test day of every fold, the observed
-- passengers, and an RMSE per fold that recomputes to the run's metrics.
SELECT count(*) AS folds_checked,
       bool_and(p.predicted = (f.x->'metrics'->>'n')::int) AS predicted_days,
       bool_and(p.days = (SELECT count(*) FROM seongsu.ridership_daily d JOIN seongsu.stations s ON s.id = d.station_id
                           WHERE s.name = r.station AND s.line = r.line
                             AND d.day BETWEEN (f.x->>'test_from')::date AND (f.x->>'test_to')::date)) AS every_day_of_block,
       bool_and(p.first = (f.x->>'test_from')::date AND p.last = (f.x->>'test_to')::date) AS windows,
       bool_and(abs(p.rmse - (f.x->'metrics'->>'rmse')::float8) <= 1e-5 * p.rmse) AS rmse_recomputes
FROM seongsu.runs r, jsonb_array_elements(r.metrics->'folds') WITH ORDINALITY f(x, ord),
     LATERAL (SELECT count(*) AS days, count(predicted) AS predicted, min(day) AS first, max(day) AS last,
                     sqrt(avg((actual - predicted) ^ 2)) AS rmse
              FROM seongsu.run_predictions q WHERE q.run_id = r.run_id AND q.fold = f.ord) p
WHERE r.parent_run_id = :a1_run;
SELECT count(*) AS actual_not_observed
FROM seongsu.run_predictions q JOIN seongsu.runs r ON r.run_id = q.run_id
JOIN seongsu.stations s ON s.name = r.station AND s.line = r.line
LEFT JOIN seongsu.ridership_daily d ON d.station_id = s.id AND d.day = q.day
WHERE r.parent_run_id = :a1_run AND q.actual IS DISTINCT FROM (d.boardings + d.alightings)::float8;

-- Importances: the stored models', as model_explain gives them (ridge's coefficients too).
SELECT r.algorithm, count(*) AS features,
       bool_and(abs(i.importance - (e.x->'importances'->>i.feature)::float8) <= 1e-5 * greatest(i.importance, 1e-9)) AS as_explained,
       bool_and(CASE WHEN r.algorithm = 'ridge'
                     THEN abs(i.coefficient - (e.x->'coefficients'->>i.feature)::float8) <= 1e-8 * greatest(abs(i.coefficient), 1)
                     ELSE i.coefficient IS NULL END) AS coefficients,
       round(sum(i.importance)::numeric, 6) AS total
FROM seongsu.runs r JOIN seongsu.run_importances i ON i.run_id = r.run_id,
     LATERAL (SELECT seongsu.model_explain(r.model_id) AS x) e
WHERE r.parent_run_id = :a1_run GROUP BY r.algorithm ORDER BY r.algorithm;

-- A grid search: one child per point and target mode, the search point
-- recorded, as many as the search report lists.
CREATE TEMP TABLE g1 AS
SELECT * FROM seongsu.train(algorithm => 'ridge', horizon => '1 day', train_from => '2019-01-01', train_to => '2024-05-31',
                            project => 'track', force => true,
                            search => '{"params": {"alpha": [0.1, 10, 1000]}, "folds": 2}');
SELECT (SELECT count(*) FROM seongsu.runs WHERE parent_run_id = g1.run_id) AS children,
       jsonb_array_length(g1.metrics->'search') AS search_report,
       (SELECT count(DISTINCT search) FROM seongsu.runs WHERE parent_run_id = g1.run_id) AS points,
       (SELECT search FROM seongsu.runs WHERE run_id = g1.run_id) AS call_search,
       (SELECT bool_and(params->>'folds' = '2' AND jsonb_array_length(metrics->'folds') = 2)
          FROM seongsu.runs WHERE parent_run_id = g1.run_id) AS two_folds
FROM g1;

-- compare_runs: side by side, differs where the runs differ.
SELECT r1.run_id AS ratio_run FROM seongsu.runs r1 WHERE r1.parent_run_id = :a1_run AND r1.algorithm = 'ridge' AND r1.params->>'target' = 'ratio'
   AND r1.params->>'half_life' = '0' \gset
SELECT r1.run_id AS raw_run FROM seongsu.runs r1 WHERE r1.parent_run_id = :a1_run AND r1.algorithm = 'ridge' AND r1.params->>'target' = 'raw'
   AND r1.params->>'half_life' = '0' \gset
SELECT kind, key, differs FROM seongsu.compare_runs(ARRAY[:ratio_run, :raw_run])
WHERE kind IN ('run', 'data', 'code', 'param') ORDER BY kind, key;
SELECT count(*) AS metrics, count(*) FILTER (WHERE differs) AS differing,
       bool_and(differs = (value_by_run->:'ratio_run' IS DISTINCT FROM value_by_run->:'raw_run')) AS flags_right,
       bool_and(value_by_run ? :'ratio_run' AND value_by_run ? :'raw_run') AS both_runs
FROM seongsu.compare_runs(ARRAY[:ratio_run, :raw_run]) WHERE kind = 'metric';
SELECT value_by_run->>:'ratio_run' = (SELECT metrics->'mean'->>'rmse' FROM seongsu.runs WHERE run_id = :ratio_run) AS value_is_runs
FROM seongsu.compare_runs(ARRAY[:ratio_run, :raw_run]) WHERE key = 'mean.rmse';
SELECT count(*) FILTER (WHERE differs) AS differing, count(*) > 40 AS many_keys
FROM seongsu.compare_runs(ARRAY[:a1_run, :a1_run]);
SELECT pg_temp.error_of(format('SELECT * FROM seongsu.compare_runs(ARRAY[%s, -1, -2])', :a1_run));
SELECT pg_temp.error_of('SELECT * FROM seongsu.compare_runs(''{}'')');
SELECT pg_temp.error_of('SELECT seongsu.set_tag(NULL, ''purpose'', ''x'')');
SELECT pg_temp.error_of(format('SELECT * FROM seongsu.compare_runs(ARRAY[%s, NULL])', :a1_run));
SELECT pg_temp.error_of('SELECT * FROM seongsu.compare_runs((SELECT array_agg(i) FROM generate_series(1, 101) i))');

-- Tags: text values; NULL removes one; seongsu.* is the extension's.
SELECT seongsu.set_tag(:a1_run, 'purpose', 'regression test');
SELECT seongsu.set_tag(:a1_run, 'owner', 'kim'::varchar);
SELECT seongsu.set_tag(:a1_run, 'owner', NULL);
SELECT seongsu.set_note(:a1_run, 'auto, small trees');
SELECT tags, notes FROM seongsu.runs WHERE run_id = :a1_run;
SELECT kind, key, value_by_run->>:'a1_run' AS value FROM seongsu.compare_runs(ARRAY[:a1_run]) WHERE kind = 'tag';
SELECT pg_temp.error_of('SELECT seongsu.set_tag(-1, ''score'', 5)');
SELECT pg_temp.error_of('SELECT seongsu.set_tag(-1, ''score'', ''{"a": 1}''::jsonb)');
SELECT pg_temp.error_of(format('SELECT seongsu.set_tag(%s, ''seongsu.error'', ''none'')', :a1_run));
SELECT pg_temp.error_of('SELECT seongsu.set_tag(-1, ''purpose'', ''x'')');
SELECT pg_temp.error_of(format('SELECT seongsu.set_tag(%s, '''', ''x'')', :a1_run));
SELECT pg_temp.error_of(format('SELECT seongsu.set_tag(%s, ''long'', repeat(''x'', 8001))', :a1_run));
SELECT pg_temp.error_of('SELECT seongsu.set_note(-1, ''x'')');
-- A tags document of other values is refused by the table too.
SELECT pg_temp.error_of(format('UPDATE seongsu.runs SET tags = ''{"n": 5}'' WHERE run_id = %s', :a1_run), detail => false);

-- A run that fails after it started keeps its row, failed with the error,
-- though its transaction is rolled back; the time it started is now (not
-- shifted by the session's TimeZone).
BEGIN;
SELECT count(*) FROM seongsu.train(algorithm => 'ridge', horizon => '1 day', train_from => '2030-01-01', project => 'track-fail', force => true);
ROLLBACK;
SELECT status, tags->>'seongsu.sqlstate' AS sqlstate, tags->>'seongsu.error' AS error, algorithm, params->>'alpha' AS alpha,
       train_from, model_id, abs(extract(epoch FROM started_at - now())) < 600 AS started_now,
       finished_at >= started_at AS ended
FROM seongsu.runs WHERE project = 'track-fail';
SELECT count(*) AS models FROM seongsu.models WHERE project = 'track-fail';
-- Side by side with a finished run: what differs in what it was and read.
SELECT kind, key, differs FROM seongsu.compare_runs(ARRAY[:a1_run, (SELECT run_id FROM seongsu.runs WHERE project = 'track-fail')])
WHERE kind IN ('run', 'data', 'code') ORDER BY kind, key;
SELECT count(*) FILTER (WHERE kind = 'metric') AS metrics_of_one,
       bool_and(differs) FILTER (WHERE kind = 'metric') AS metric_missing_differs
FROM seongsu.compare_runs(ARRAY[:a1_run, (SELECT run_id FROM seongsu.runs WHERE project = 'track-fail')]);
-- Arguments refused before any data is read are no run.
SELECT count(*) FROM seongsu.train(algorithm => 'ridge', project => 'track-refused', hyperparams => '{"alpha": -1}');
SELECT count(*) AS refused_runs FROM seongsu.runs WHERE project = 'track-refused';

-- A cancelled call (statement_timeout) is a cancelled run.  The timeout
-- falls in the boosting loop, after the quality gate and the data load:
-- 300 ms, times the server's regress.time_scale where it runs slower
-- (test/valgrind.sh: under valgrind).
SELECT set_config('statement_timeout',
                  300 * coalesce(nullif(current_setting('regress.time_scale', true), ''), '1')::int || 'ms', false) AS timeout \gset
SELECT count(*) FROM seongsu.train(algorithm => 'gbdt', horizon => '1 day', project => 'track-cancel', force => true,
                                   hyperparams => '{"n_estimators": 100000, "early_stopping_rounds": 0}');
RESET statement_timeout;
SELECT status, tags->>'seongsu.sqlstate' AS sqlstate, tags->>'seongsu.error' AS error
FROM seongsu.runs WHERE project = 'track-cancel';

-- Without tracking (seongsu.track_runs, superuser-only) no run, but the model is still versioned.
SET seongsu.track_runs = off;
CREATE TEMP TABLE off1 AS
SELECT * FROM seongsu.train(algorithm => 'ridge', horizon => '1 day', train_from => '2019-01-01', train_to => '2024-05-31',
                            project => 'track', force => true);
RESET seongsu.track_runs;
SELECT run_id IS NULL AS no_run_id, (SELECT count(*) FROM seongsu.runs WHERE model_id = off1.model_id) AS runs,
       (SELECT run_id IS NULL FROM seongsu.model_versions WHERE model_id = off1.model_id) AS version_without_run
FROM off1;

-- The registry: versions 1, 2, ... of the project in the order stored, each
-- with the child run that made it; the deployed one is the champion.
SELECT v.version, m.algorithm, v.deployed, v.aliases,
       v.run_id = (SELECT r.run_id FROM seongsu.runs r WHERE r.model_id = v.model_id AND r.parent_run_id IS NOT NULL) AS made_by_run
FROM seongsu.model_versions v JOIN seongsu.models m ON m.id = v.model_id
WHERE v.project = 'track' ORDER BY v.version;
SELECT array_agg(v.model_id ORDER BY v.version) = array_agg(v.model_id ORDER BY v.model_id) AS in_order
FROM seongsu.model_versions v WHERE v.project = 'track';

-- Aliases: champion is the deployed model and moves with deploy and rollback;
-- set_alias('champion') deploys; challenger is set and removed.
SELECT model_id AS a_ridge FROM a1 WHERE algorithm = 'ridge' \gset
SELECT model_id AS a_gbdt FROM a1 WHERE algorithm = 'gbdt' \gset
SELECT model_id AS a_rf FROM a1 WHERE algorithm = 'random_forest' \gset
SELECT seongsu.model_for_alias('track', 'champion') = (SELECT model_id FROM seongsu.deployed_models WHERE project = 'track') AS champion_is_deployed;
SELECT seongsu.model_for_alias('track', 'challenger') AS no_challenger;
SELECT seongsu.set_alias('track', 'challenger', :a_ridge, 'shadow test');
SELECT seongsu.model_for_alias('track', 'challenger') = :a_ridge AS challenger_set;
SELECT seongsu.deploy(:a_gbdt);
SELECT seongsu.model_for_alias('track', 'champion') = :a_gbdt AS deploy_moves_champion;
SELECT seongsu.set_alias('track', 'champion', :a_rf, 'promoted by hand');
SELECT (SELECT model_id FROM seongsu.deployed_models WHERE project = 'track') = :a_rf AS set_alias_deploys,
       seongsu.model_for_alias('track', 'champion') = :a_rf AS champion_rf;
SELECT seongsu.rollback('track') = :a_gbdt AS rolled_back;
SELECT seongsu.model_for_alias('track', 'champion') = :a_gbdt AS rollback_moves_champion;
SELECT m.algorithm, v.aliases, v.deployed FROM seongsu.model_versions v JOIN seongsu.models m ON m.id = v.model_id
WHERE v.project = 'track' AND v.model_id IN (:a_ridge, :a_gbdt, :a_rf) ORDER BY v.version;
SELECT seongsu.set_alias('track', 'challenger', NULL, 'shadow test over');
SELECT seongsu.model_for_alias('track', 'challenger') AS challenger_removed;
-- Every move, who made it and why.
SELECT h.alias, h.action, m.algorithm, h.set_by = current_user AS by_me, replace(h.reason, :'a_rf', '<random_forest>') AS reason
FROM seongsu.alias_history h LEFT JOIN seongsu.models m ON m.id = h.model_id
WHERE h.project = 'track' AND (h.reason NOT LIKE 'first model%' AND h.reason NOT LIKE 'RMSE%' OR h.reason IS NULL)
ORDER BY h.at, h.alias = 'champion', h.action, h.reason;

-- Bad aliases.
SELECT model_id AS other FROM seongsu.train(algorithm => 'seasonal_naive', horizon => '1 day', train_from => '2024-01-01',
                                            project => 'track-other', force => true) \gset
SELECT pg_temp.error_of(format('SELECT seongsu.set_alias(''track'', ''staging'', %s)', :a_ridge));
SELECT pg_temp.error_of(format('SELECT seongsu.set_alias(''track'', ''challenger'', %s)', :other), :other, '<other>');
SELECT pg_temp.error_of(format('SELECT seongsu.set_alias(''track'', ''champion'', %s)', :other), :other, '<other>');
SELECT pg_temp.error_of(format('SELECT seongsu.set_alias(''no such project'', ''challenger'', %s)', :a_ridge));
SELECT pg_temp.error_of('SELECT seongsu.set_alias(''track'', ''challenger'', -1)');
SELECT pg_temp.error_of('SELECT seongsu.set_alias(''track'', ''champion'', NULL)');
SELECT pg_temp.error_of('SELECT seongsu.set_alias(''track'', NULL, 1)');
SELECT pg_temp.error_of('SELECT seongsu.model_for_alias(''track'', ''production'')');
SELECT pg_temp.error_of('SELECT seongsu.model_for_alias(''no such project'', ''champion'')');
SELECT model_id = :a_gbdt AS champion_unchanged FROM seongsu.deployed_models WHERE project = 'track';

-- Training as a job: the options are train's arguments by name, checked at
-- enqueue (their JSON form, then as train checks them before reading data).
SELECT pg_temp.error_of($$SELECT seongsu.enqueue('train', '2019-01-01', '2024-05-31', '{"algoritm": "ridge"}')$$);
SELECT pg_temp.error_of($$SELECT seongsu.enqueue('train', '2019-01-01', '2024-05-31', '{"horizon": 7}')$$);
SELECT pg_temp.error_of($$SELECT seongsu.enqueue('train', '2019-01-01', '2024-05-31', '{"hyperparams": [1]}')$$);
SELECT pg_temp.error_of($$SELECT seongsu.enqueue('train', '2019-01-01', '2024-05-31', '{"force": "yes"}')$$);
SELECT pg_temp.error_of($$SELECT seongsu.enqueue('train', '2019-01-01', '2024-05-31', '{"algorithm": "xgboost"}')$$);
SELECT pg_temp.error_of($$SELECT seongsu.enqueue('train', '2019-01-01', '2024-05-31', '{"horizon": "1 hour"}')$$);
SELECT pg_temp.error_of($$SELECT seongsu.enqueue('train', '2019-01-01', '2024-05-31', '{"horizon": "soon"}')$$);
SELECT pg_temp.error_of($$SELECT seongsu.enqueue('train', '2019-01-01', '2024-05-31', '{"hyperparams": {"alpha": -1}}')$$);
SELECT pg_temp.error_of($$SELECT seongsu.enqueue('train', '2024-05-31', '2019-01-01', '{}')$$);
SELECT pg_temp.error_of($$SELECT seongsu.train_check(search => '{"params": {"alpha": [1, 2]}, "method": "g"}')$$);
-- to_date defaults to today (KST); the role that enqueued is kept.
SELECT seongsu.enqueue('train', '2019-01-01') AS today_job \gset
SELECT to_date = (now() AT TIME ZONE 'Asia/Seoul')::date AS to_today, enqueued_by = current_user AS enqueued_by, options
FROM seongsu.jobs WHERE id = :today_job;
DELETE FROM seongsu.jobs WHERE id = :today_job;
-- Run in a session (run_pending_jobs: the caller's transaction, the worker's
-- code): one done with its run finished, one failed with its run failed.
SELECT count(*) AS other_pending FROM seongsu.jobs WHERE state = 'pending';
SELECT seongsu.enqueue('train', '2019-01-01', '2024-05-31',
  '{"algorithm": "ridge", "horizon": "1 day", "project": "track-job", "force": true, "hyperparams": {"alpha": 10}}') AS job_ok \gset
SELECT seongsu.enqueue('train', '2030-01-01', '2030-12-31', '{"algorithm": "ridge", "horizon": "1 day", "project": "track-job-fail"}') AS job_fail \gset
SELECT seongsu.run_pending_jobs() AS ran;
SELECT id = :job_ok AS first, state, rows_written, last_error FROM seongsu.jobs WHERE id IN (:job_ok, :job_fail) ORDER BY id;
SELECT r.project, r.status, r.algorithm, r.params->>'alpha' AS alpha, r.train_from, r.train_to,
       (SELECT count(*) FROM seongsu.runs c WHERE c.parent_run_id = r.run_id) AS children,
       r.model_id = (SELECT id FROM seongsu.models m WHERE m.project = r.project) AS model, r.tags->>'seongsu.error' AS error
FROM seongsu.runs r WHERE r.project IN ('track-job', 'track-job-fail') AND r.parent_run_id IS NULL ORDER BY r.project;

-- Privileges: readers read runs, only train and the functions write them.
CREATE ROLE ss_track_reader NOLOGIN IN ROLE seongsu_reader;
CREATE ROLE ss_track_op NOLOGIN IN ROLE seongsu_operator;
SET ROLE ss_track_reader;
SELECT count(*) > 0 AS reads_runs FROM seongsu.runs;
SELECT count(*) > 0 AS compares FROM seongsu.compare_runs(ARRAY[:a1_run]);
SELECT pg_temp.error_of(format('SELECT seongsu.set_tag(%s, ''k'', ''v'')', :a1_run));
RESET ROLE;
SET ROLE ss_track_op;
SELECT seongsu.set_tag(:a1_run, 'reviewed_by', current_user);
SELECT pg_temp.error_of($$INSERT INTO seongsu.runs (project, station, line, grain, horizon, algorithm, params, status,
  started_at, extension_version, build, db_user) VALUES ('x', 'x', 'x', 'daily', '1 day', 'x', '{}', 'running', now(), 'x', 'x', 'x')$$);
SELECT pg_temp.error_of(format('UPDATE seongsu.runs SET status = ''failed'' WHERE run_id = %s', :a1_run));
SELECT pg_temp.error_of('INSERT INTO seongsu.model_registry (model_id, project, version) VALUES (1, ''x'', 99)');
SELECT seongsu.set_alias('track', 'challenger', :a_ridge, 'by the operator');
RESET ROLE;
SELECT tags->>'reviewed_by' AS reviewed_by FROM seongsu.runs WHERE run_id = :a1_run;
SELECT set_by, reason FROM seongsu.alias_history WHERE project = 'track' AND alias = 'challenger' ORDER BY at DESC, reason LIMIT 1;
SELECT count(*) AS public_grants FROM information_schema.role_table_grants
WHERE grantee = 'PUBLIC' AND table_schema = 'seongsu'
  AND table_name IN ('runs', 'run_metrics', 'run_predictions', 'run_importances', 'model_registry', 'alias_events');
DROP ROLE ss_track_reader;
DROP ROLE ss_track_op;
