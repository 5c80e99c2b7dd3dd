-- Models: training with backtests, storage, deployment and rollback,
-- prediction (daily, hourly two-stage, levels, forecast), determinism, no
-- leakage through train -> predict, corrupt blobs, and argument errors, on
-- the core fixtures (test/fixtures/seongsu.sql: 성수 2호선 2020-01-01 ..
-- 2025-05-31, Seoul Metro hours 2024-02 .. 2024-04); models_real checks
-- accuracy on the real data.
SET client_min_messages = warning;
TRUNCATE seongsu.ridership_daily, seongsu.ridership_hourly;
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/test/fixtures/seongsu.sql
SELECT min(day) AS first_day, max(day) AS last_day, count(*) AS fixture_days FROM fixture_daily \gset
-- The shared model cache exists where the library is preloaded.
SELECT 'daily_seongsu' = ANY (string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''), ',')) AS preloaded \gset

-- Argument errors.
SELECT * FROM seongsu.train(algorithm => 'xgboost');
SELECT * FROM seongsu.train(algorithm => 'ridge', horizon => '0 days');
SELECT * FROM seongsu.train(algorithm => 'ridge', horizon => '-1 day');
SELECT * FROM seongsu.train(algorithm => 'ridge', grain => 'hourly');
SELECT * FROM seongsu.train(algorithm => 'ridge', train_from => '2030-01-01', force => true);
SELECT * FROM seongsu.train(algorithm => 'ridge', train_from => :'last_day'::date - 30, force => true);
SELECT * FROM seongsu.train(algorithm => 'ridge', train_from => '2024-01-01', train_to => '2023-01-01');
SELECT * FROM seongsu.train(algorithm => 'ridge', hyperparams => '{"alpha": -1}', force => true);
SELECT * FROM seongsu.train(algorithm => 'ridge', hyperparams => '{"depth_of_field": 3}', force => true);
SELECT * FROM seongsu.train(algorithm => 'gbdt', search => '{"params": {"max_depth": "deep"}}', force => true);
SELECT * FROM seongsu.train(station => '없는역', algorithm => 'ridge');
SELECT seongsu.predict_daily('2025-01-01');

-- One day ahead: every algorithm and the ensemble, backtests over 8 folds.
CREATE TEMP TABLE h1 AS
SELECT * FROM seongsu.train(algorithm => 'auto', horizon => '1 day', train_to => '2024-05-31', force => true);
SELECT h1.algorithm, jsonb_array_length(h1.metrics->'folds') AS folds,
       h1.metrics->>'target_mode' = m.target_mode AS target_mode_stored,
       (h1.metrics->'mean'->>'rmse')::float8 < (SELECT (metrics->'mean'->>'rmse')::float8 FROM h1 WHERE algorithm = 'seasonal_naive') AS beats_naive
FROM h1 JOIN seongsu.models m ON m.id = h1.model_id ORDER BY h1.model_id;
-- Each fold's n is the observed days of its test block, and the mean of
-- each metric is pooled over every fold's days (RMSE: the root of the
-- n-weighted mean of the folds' squares).
SELECT h1.algorithm,
       bool_and((f->'metrics'->>'n')::int = (SELECT count(*) FROM fixture_daily
                                              WHERE day BETWEEN (f->>'test_from')::date AND (f->>'test_to')::date)) AS n_is_days,
       sum((f->'metrics'->>'n')::int) = (h1.metrics->'mean'->>'n')::int AS n_pooled,
       abs(sqrt(sum((f->'metrics'->>'n')::int * ((f->'metrics'->>'rmse')::float8) ^ 2) / sum((f->'metrics'->>'n')::int))
           / (h1.metrics->'mean'->>'rmse')::float8 - 1) < 1e-5 AS rmse_pooled
FROM h1, jsonb_array_elements(h1.metrics->'folds') f GROUP BY h1.algorithm, h1.model_id, h1.metrics ORDER BY h1.model_id;
-- Folds are time-ordered and consecutive, each test block the day after the previous one.
SELECT bool_and((f->>'test_from')::date = prev + 1) AS consecutive, count(*) + 1 AS folds
FROM (SELECT f, lag((f->>'test_to')::date) OVER (ORDER BY ord) AS prev
      FROM h1, jsonb_array_elements(metrics->'folds') WITH ORDINALITY AS x(f, ord) WHERE algorithm = 'gbdt') s
WHERE prev IS NOT NULL;
-- The training rows are the days features() gives a target and a 28-day level.
CREATE TEMP TABLE usable AS
  SELECT kst_date, target, day_type FROM seongsu.features('성수', '2호선', :'first_day', '2024-05-31', 'daily', '1 day')
   WHERE target IS NOT NULL AND level28 > 0;
SELECT m.train_from = (SELECT min(kst_date) FROM usable) AS from_first_usable_day, m.train_to,
       m.train_rows = (SELECT count(*) FROM usable) AS rows_are_usable_days, m.matrix_bytes > 0 AS bytes_ok,
       array_length(m.hour_shares, 1) AS shares, m.levels[1] < m.levels[2] AND m.levels[2] < m.levels[3] AS levels_increase
FROM seongsu.models m JOIN h1 ON h1.model_id = m.id WHERE h1.algorithm = 'gbdt';
-- The backtest protocol: the blocks cover the last two years of the
-- training range (train_to - 729 .. train_to) in 91 or 92 days each; each
-- fold is fitted on every usable day before its block (from the first one
-- to the last one before the block: with a 1-day horizon, the day before)
-- and on none of its days.
SELECT h1.algorithm,
       min((f->>'test_from')::date) = date '2024-05-31' - 729 AS starts_two_years_back,
       max((f->>'test_to')::date) = date '2024-05-31' AS ends_at_train_to,
       bool_and((f->>'test_to')::date - (f->>'test_from')::date + 1 IN (91, 92)) AS blocks_of_91_days,
       bool_and((f->>'fit_to')::date < (f->>'test_from')::date) AS fit_before_block,
       bool_and((f->>'fit_to')::date = (f->>'test_from')::date - 1
                AND (f->>'fit_to')::date = (SELECT max(kst_date) FROM usable WHERE kst_date < (f->>'test_from')::date)) AS fit_to_day_before,
       bool_and((f->>'fit_from')::date = (SELECT min(kst_date) FROM usable)) AS fit_from_first_day,
       bool_and((f->>'fit_rows')::int = (SELECT count(*) FROM usable WHERE kst_date < (f->>'test_from')::date)) AS fit_on_every_day_before
FROM h1, jsonb_array_elements(h1.metrics->'folds') f GROUP BY h1.algorithm, h1.model_id ORDER BY h1.model_id;
-- Every candidate's backtest predictions (run_predictions) are of its
-- fold's block only, after the days it was fitted on.
CREATE TEMP TABLE bt AS
  SELECT h1.algorithm, p.fold, p.day, p.actual, p.predicted, f
    FROM h1 JOIN seongsu.runs r ON r.parent_run_id = h1.run_id AND r.model_id = h1.model_id
    JOIN seongsu.run_predictions p ON p.run_id = r.run_id
    JOIN LATERAL (SELECT x AS f FROM jsonb_array_elements(h1.metrics->'folds') WITH ORDINALITY AS y(x, k) WHERE k = p.fold) z ON true;
SELECT algorithm, count(*) AS predictions,
       bool_and(day BETWEEN (f->>'test_from')::date AND (f->>'test_to')::date AND day > (f->>'fit_to')::date) AS in_block_after_fit
FROM bt GROUP BY algorithm ORDER BY min(fold), algorithm;
-- A fold's model is exactly the model trained up to the day before its
-- block: ridge's last-fold predictions are those of a ridge trained with
-- train_to => the fold's fit_to (at the winner's half-life).
SELECT (f->>'fit_to')::date AS fold_fit_to, (f->>'test_from')::date AS fold_from, (f->>'test_to')::date AS fold_to,
       (SELECT params->>'half_life' FROM seongsu.runs r WHERE r.parent_run_id = h1.run_id AND r.model_id = h1.model_id) AS half_life
  FROM h1, jsonb_array_elements(h1.metrics->'folds') WITH ORDINALITY AS x(f, k)
 WHERE h1.algorithm = 'ridge' AND k = 8 \gset
SELECT model_id AS fold_model FROM seongsu.train(algorithm => 'ridge', horizon => '1 day', train_to => :'fold_fit_to',
  project => 'fold check', hyperparams => jsonb_build_object('half_life', :'half_life'::float8), force => true) \gset
SELECT count(*) AS days, max(abs(e.predicted / b.predicted - 1)) < 1e-9 AS same_predictions
  FROM seongsu.evaluate(:fold_model, :'fold_from', :'fold_to') e JOIN bt b ON b.day = e.day AND b.algorithm = 'ridge';
DELETE FROM seongsu.deployments WHERE project = 'fold check';

-- The ensemble: its members are the winners of ridge and random_forest and
-- gbdt's best candidate of each shape (best thresholds, random thresholds),
-- each the best of its algorithm and shape at the ensemble's target mode,
-- with the convex weights (multiples of 1/20) whose combination of their
-- backtest predictions has the least squared error, times a scale per day
-- class (below); its honest backtest predicts fold 1 with equal weights and
-- no scale and fold k with weights and scales fitted on folds 1..k-1 only.
CREATE TEMP TABLE mem AS
  SELECT x.k, x.m->>'algorithm' AS algorithm, (x.m->>'extra_trees')::bool AS extra_trees,
         (x.m->>'weight')::float8 AS weight, (x.m->>'rmse')::float8 AS rmse, r.run_id, r.model_id,
         (r.metrics->'mean'->>'rmse')::float8 AS run_rmse
    FROM h1 e, jsonb_array_elements(e.metrics->'ensemble'->'members') WITH ORDINALITY x(m, k),
         LATERAL (SELECT * FROM seongsu.runs r WHERE r.parent_run_id = e.run_id AND r.algorithm = x.m->>'algorithm'
                     AND (r.params->>'extra_trees' = '1') = (x.m->>'extra_trees')::bool
                     AND r.params->>'target' = e.metrics->>'target_mode'
                   ORDER BY (r.metrics->'mean'->>'rmse')::float8 LIMIT 1) r
   WHERE e.algorithm = 'ensemble';
SELECT k, algorithm, extra_trees, abs(rmse / run_rmse - 1) < 1e-5 AS best_of_its_shape, model_id IS NOT NULL AS stored_winner
  FROM mem ORDER BY k;
CREATE TEMP TABLE ens_grid AS
  SELECT ARRAY[a / 20.0, b / 20.0, c / 20.0, (20 - a - b - c) / 20.0] AS w
    FROM generate_series(0, 20) a, generate_series(0, 20) b, generate_series(0, 20) c WHERE a + b + c <= 20;
CREATE TEMP TABLE ens_rows AS
  SELECT p.fold, p.day, min(p.actual) AS actual, array_agg(p.predicted ORDER BY m.k) AS p
    FROM mem m JOIN seongsu.run_predictions p ON p.run_id = m.run_id GROUP BY p.fold, p.day
  HAVING count(*) = (SELECT count(*) FROM mem);
CREATE TEMP TABLE ens_w AS
 (SELECT DISTINCT ON (k.fold) k.fold, g.w
    FROM (SELECT DISTINCT fold FROM bt UNION ALL SELECT max(fold) + 1 FROM bt) k, ens_grid g,
         LATERAL (SELECT sum((g.w[1] * e.p[1] + g.w[2] * e.p[2] + g.w[3] * e.p[3] + g.w[4] * e.p[4] - e.actual) ^ 2) AS sse
                    FROM ens_rows e WHERE e.fold < k.fold) s
   WHERE k.fold > 1
   ORDER BY k.fold, s.sse)
  UNION ALL
  SELECT 1, ARRAY[0.25, 0.25, 0.25, 0.25];
SELECT count(*) AS members,
       bool_and(abs(m.weight - w.w[m.k]) < 1e-9) AS least_squares_weights,
       abs(sum(m.weight) - 1) < 1e-9 AS weights_sum_to_1
FROM mem m, ens_w w WHERE w.fold = (SELECT max(fold) FROM ens_w);
-- The day classes: 0 working day, 1 Saturday, 2 Sunday (features' kind),
-- none when the day is next to a public holiday or in a run of days off
-- holding one.  Each class's scale is the least-squares factor of the
-- weighted members over the backtest days of the class, with 30 more days
-- on which the forecast was exact (each the class's mean squared forecast).
CREATE TEMP TABLE day_class AS
  SELECT kst_date AS day, CASE WHEN kind IN (0, 1, 2) AND NOT coalesce(block_has_holiday OR before_holiday OR after_holiday
                                  OR before_holiday_block OR after_holiday_block, false) THEN kind END AS cls
    FROM seongsu.features('성수', '2호선', :'first_day', '2024-08-31', 'daily', '1 day');
CREATE TEMP TABLE ens_s AS
  SELECT w.fold, c.cls, (sum(q.p * e.actual) + 30 * sum(q.p * q.p) / count(*)) / (sum(q.p * q.p) + 30 * sum(q.p * q.p) / count(*)) AS s
    FROM ens_w w JOIN ens_rows e ON e.fold < w.fold JOIN day_class c ON c.day = e.day AND c.cls IS NOT NULL,
         LATERAL (SELECT w.w[1] * e.p[1] + w.w[2] * e.p[2] + w.w[3] * e.p[3] + w.w[4] * e.p[4] AS p) q
   GROUP BY w.fold, c.cls;
SELECT count(*) AS classes,
       bool_and(abs(s.s / (e.metrics->'ensemble'->'day_scale'->>s.cls)::float8 - 1) < 1e-5) AS scales_in_metrics,
       bool_and(abs(s.s / (m.hyperparams->'day_scale'->>s.cls)::float8 - 1) < 1e-9) AS scales_stored,
       bool_or(abs(s.s - 1) > 1e-3) AS some_scale_not_1
  FROM ens_s s, h1 e JOIN seongsu.models m ON m.id = e.model_id
 WHERE e.algorithm = 'ensemble' AND s.fold = (SELECT max(fold) FROM ens_w);
SELECT count(DISTINCT e.fold) AS folds_checked, count(*) AS days, count(*) FILTER (WHERE s.s IS NOT NULL) AS days_scaled,
       max(abs(e.predicted / ((w.w[1] * x.p[1] + w.w[2] * x.p[2] + w.w[3] * x.p[3] + w.w[4] * x.p[4]) * coalesce(s.s, 1)) - 1)) < 1e-9
         AS honest_weights_and_scales
FROM bt e JOIN ens_rows x USING (fold, day) JOIN ens_w w USING (fold) JOIN day_class c USING (day)
LEFT JOIN ens_s s ON s.fold = e.fold AND s.cls = c.cls
WHERE e.algorithm = 'ensemble';
-- auto's rule: the ensemble is deployed unless a member matches or beats it
-- on all folds but at most one (7 of 8): one of the stored models (gbdt's
-- other shape is a member only); the folds each member wins are recorded.
CREATE TEMP TABLE wins AS
  SELECT m.algorithm, (m.metrics->'mean'->>'rmse')::float8 AS rmse,
         count(*) FILTER (WHERE (mf->'metrics'->>'rmse')::float8 <= (ef->'metrics'->>'rmse')::float8) AS wins
    FROM h1 m, h1 e, jsonb_array_elements(m.metrics->'folds') WITH ORDINALITY a(mf, k),
         jsonb_array_elements(e.metrics->'folds') WITH ORDINALITY b(ef, k2)
   WHERE e.algorithm = 'ensemble' AND m.algorithm IN ('ridge', 'random_forest', 'gbdt') AND k = k2
   GROUP BY m.algorithm, m.metrics;
SELECT (SELECT algorithm FROM h1 WHERE deployed) =
         coalesce((SELECT algorithm FROM wins WHERE wins >= 7 ORDER BY rmse LIMIT 1), 'ensemble') AS auto_rule,
       (SELECT bool_and(w.wins = (mem->>'fold_wins')::int) AND count(*) = 3
          FROM wins w, h1 e, jsonb_array_elements(e.metrics->'ensemble'->'members') mem
         WHERE e.algorithm = 'ensemble' AND mem->>'algorithm' = w.algorithm
           AND abs((mem->>'rmse')::float8 / w.rmse - 1) < 1e-5) AS wins_recorded,
       (SELECT (metrics->'ensemble'->>'wins_to_replace')::int FROM h1 WHERE algorithm = 'ensemble') AS wins_to_replace,
       (SELECT algorithm FROM h1 WHERE deployed) AS deployed;
-- Hour shares, recomputed: per day type (calendar_features' day_type: 0
-- working Monday, 1 working Tuesday-Thursday, 2 working Friday, 3 Saturday,
-- 4 Sunday, 5 public holiday, 6 day off in a 설날/추석 block, 7 special
-- day), the mean share of each hour over the type's last 4 service days
-- with at least 18 hours, up to train_to (within 800 days of the latest);
-- a type without such days takes special/lunar -> holiday -> Sunday's.
CREATE TEMP TABLE shares_check AS
  WITH days AS (
    SELECT h.service_day AS day, sum(h.passengers)::float8 AS total,
           (seongsu.calendar_features((h.service_day + time '12:00') AT TIME ZONE 'Asia/Seoul')).day_type AS t
      FROM seongsu.ridership_hourly h JOIN seongsu.stations s ON s.id = h.station_id
     WHERE s.name = '성수' AND h.service_day <= '2024-05-31' GROUP BY h.service_day HAVING count(h.passengers) >= 18
  ), last4 AS (
    SELECT * FROM (SELECT d.*, row_number() OVER (PARTITION BY d.t ORDER BY d.day DESC) AS k FROM days d) x WHERE k <= 4
  ), own AS (
    SELECT l.t, hr.h, avg(coalesce((SELECT sum(h.passengers) FROM seongsu.ridership_hourly h JOIN seongsu.stations s ON s.id = h.station_id
                                     WHERE s.name = '성수' AND h.service_day = l.day
                                       AND extract(hour FROM h.ts AT TIME ZONE 'Asia/Seoul') = hr.h), 0) / l.total) AS share
      FROM last4 l, generate_series(0, 23) hr(h) GROUP BY l.t, hr.h
  )
  SELECT t.t, o.h, o.share,
         (SELECT count(DISTINCT t) FROM own) AS types_with_days
    FROM generate_series(0, 7) t(t)
    JOIN own o ON o.t = (SELECT u.c FROM unnest(CASE t.t WHEN 7 THEN ARRAY[7, 5, 4] WHEN 6 THEN ARRAY[6, 5, 4]
                                                        WHEN 5 THEN ARRAY[5, 4] ELSE ARRAY[t.t] END) WITH ORDINALITY u(c, ord)
                          WHERE u.c IN (SELECT own.t FROM own) ORDER BY u.ord LIMIT 1);
SELECT count(*) AS shares_compared, min(c.types_with_days) AS types_with_days,
       max(abs(m.hour_shares[c.t * 24 + c.h + 1] - c.share)) < 1e-12 AS shares_recomputed
  FROM shares_check c, seongsu.models m JOIN h1 ON h1.model_id = m.id WHERE h1.algorithm = 'gbdt';
-- Crowd levels: the 50th, 80th and 95th percentiles of the hourly
-- passengers (hours 05-24) implied by the last 365 training days.
SELECT max(abs(m.levels[q.k] / q.v - 1)) < 1e-9 AS levels_recomputed
  FROM seongsu.models m JOIN h1 ON h1.model_id = m.id AND h1.algorithm = 'gbdt',
       (SELECT k, percentile_cont((ARRAY[0.5, 0.8, 0.95])[k]) WITHIN GROUP (ORDER BY u.target * c.share) AS v
          FROM (SELECT * FROM usable ORDER BY kst_date DESC LIMIT 365) u
          JOIN shares_check c ON c.t = u.day_type AND (c.h >= 5 OR c.h = 0), generate_series(1, 3) k GROUP BY k) q;

-- Test year (no refit): every observed day, and every model beats
-- same-day-last-week there too.
CREATE TEMP TABLE test_year AS
  SELECT h1.algorithm, h1.model_id, count(*) AS days, sqrt(avg((actual - predicted) ^ 2)) AS rmse
    FROM h1, seongsu.evaluate(h1.model_id, '2024-06-01', '2025-05-31') GROUP BY 1, 2;
SELECT algorithm, days = (SELECT count(*) FROM fixture_daily WHERE day BETWEEN '2024-06-01' AND '2025-05-31') AS every_day,
       CASE WHEN algorithm <> 'seasonal_naive' THEN rmse < (SELECT rmse FROM test_year WHERE algorithm = 'seasonal_naive') END AS beats_naive
FROM test_year ORDER BY model_id;

-- Determinism: the same training twice gives the same model bytes.
CREATE TEMP TABLE rf1 AS SELECT model_id FROM seongsu.train(algorithm => 'random_forest', horizon => '1 day', train_to => '2024-05-31', hyperparams => '{"n_trees": 20}', force => true);
CREATE TEMP TABLE rf2 AS SELECT model_id FROM seongsu.train(algorithm => 'random_forest', horizon => '1 day', train_to => '2024-05-31', hyperparams => '{"n_trees": 20}', force => true);
SELECT (SELECT md5(blob) FROM seongsu.models WHERE id = (SELECT model_id FROM rf1)) =
       (SELECT md5(blob) FROM seongsu.models WHERE id = (SELECT model_id FROM rf2)) AS same_bytes,
       (SELECT model_id FROM rf1) <> (SELECT model_id FROM rf2) AS two_models;

-- The tree learners' shape: with no search and no shape asked, the first
-- stage's winner (of the half-lives and targets) is backtested again with
-- random thresholds at the same half-life and target (a forest as
-- extremely randomized trees: every feature, every row); the lower RMSE is
-- kept.
CREATE TEMP TABLE shape_search AS
  SELECT m.algorithm, m.id, a.x, a.ord = max(a.ord) OVER (PARTITION BY m.id) AS last
    FROM seongsu.models m, jsonb_array_elements(m.metrics->'search') WITH ORDINALITY a(x, ord)
   WHERE m.id IN ((SELECT model_id FROM rf1), (SELECT model_id FROM h1 WHERE algorithm = 'gbdt'));
SELECT s.algorithm,
       count(*) FILTER (WHERE x->'params' ? 'extra_trees') AS randomized,
       min(((x->'params') - 'half_life')::text) FILTER (WHERE last) AS randomized_shape,
       (SELECT (x->'params'->'half_life', x->>'target_mode') FROM shape_search l WHERE l.id = s.id AND last) =
       (SELECT (x->'params'->'half_life', x->>'target_mode') FROM shape_search f WHERE f.id = s.id AND NOT last
         ORDER BY (x->>'rmse')::float8 LIMIT 1) AS at_first_winner,
       (SELECT (hyperparams->>'extra_trees' = '1') = ((metrics->'mean'->>'rmse')::float8 =
                 (SELECT (x->>'rmse')::float8 FROM shape_search l WHERE l.id = s.id AND last))
                 AND (metrics->'mean'->>'rmse')::float8 = min((x->>'rmse')::float8)
          FROM seongsu.models WHERE id = s.id) AS lower_rmse_kept
FROM shape_search s GROUP BY s.algorithm, s.id ORDER BY s.algorithm;
-- A shape the caller asks for is used as given: no second stage.
CREATE TEMP TABLE et1 AS SELECT model_id FROM seongsu.train(algorithm => 'random_forest', horizon => '1 day',
  train_to => '2024-05-31', force => true, hyperparams => '{"n_trees": 20, "extra_trees": true, "bootstrap": false}');
SELECT jsonb_array_length(metrics->'search') = (SELECT count(*) FROM shape_search WHERE id = (SELECT model_id FROM rf1)) - 1
         AS one_stage,
       hyperparams->>'extra_trees' AS extra_trees, hyperparams->>'bootstrap' AS bootstrap
FROM seongsu.models WHERE id = (SELECT model_id FROM et1);

-- Grid search: every combination backtested, the winner refit.
SELECT jsonb_array_length(metrics->'search') AS tried,
       (SELECT min((x->>'rmse')::float8) FROM jsonb_array_elements(metrics->'search') x) = (metrics->'mean'->>'rmse')::float8 AS winner_is_best
FROM seongsu.train(algorithm => 'ridge', horizon => '1 day', train_to => '2024-05-31', force => true,
                   hyperparams => '{"target": "ratio"}',
                   search => '{"method": "grid", "params": {"alpha": [0.1, 10, 1000]}, "folds": 2}');

-- A much worse model is not deployed: it is compared with the live model on its last fold's days.
SELECT algorithm, deployed FROM seongsu.train(algorithm => 'ridge', horizon => '1 day', train_to => '2024-05-31',
                                              hyperparams => '{"alpha": 1e9, "target": "raw"}', force => true);
SELECT count(*) AS deployments FROM seongsu.deployments;

-- Prediction: a past day uses the deployed model with real lags, and equals evaluate().
SELECT round(seongsu.predict_daily('2024-09-03')::numeric) =
       round((SELECT predicted FROM seongsu.evaluate((SELECT model_id FROM seongsu.deployed_models), '2024-09-03', '2024-09-03'))::numeric) AS same_as_evaluate;
-- Hourly = daily x the hour's share for the day type (Tuesday = type 1).
SELECT round(seongsu.predict_crowd('2024-09-03 08:30+09')::numeric) =
       round((seongsu.predict_daily('2024-09-03') * (SELECT hour_shares[1 * 24 + 8 + 1] FROM seongsu.models WHERE id = (SELECT model_id FROM seongsu.deployed_models)))::numeric) AS two_stage;
-- 01:00 KST belongs to the previous service day.
SELECT round(seongsu.predict_crowd('2024-09-04 01:00+09')::numeric) =
       round((seongsu.predict_daily('2024-09-03') * (SELECT hour_shares[1 * 24 + 1 + 1] FROM seongsu.models WHERE id = (SELECT model_id FROM seongsu.deployed_models)))::numeric) AS late_night;
-- The level is where predict_crowd falls among the model's thresholds.
SELECT bool_and(seongsu.crowd_level(t) = CASE WHEN p < l[1] THEN '여유' WHEN p < l[2] THEN '보통' WHEN p < l[3] THEN '혼잡' ELSE '매우혼잡' END)
         AS levels_from_thresholds,
       count(DISTINCT seongsu.crowd_level(t)) AS levels_seen
  FROM generate_series(timestamptz '2024-09-03 04:30+09', '2024-09-04 03:30+09', '1 hour') t,
       LATERAL (SELECT seongsu.predict_crowd(t) AS p,
                       (SELECT levels FROM seongsu.models WHERE id = (SELECT model_id FROM seongsu.deployed_models)) AS l) x;
SELECT seongsu.crowd_level('2024-09-03 04:30+09') AS before_first_train;
-- The model these predictions read is in the shared model cache, of its
-- current blob, where the library is preloaded (without, there is none).
SELECT count(*) = CASE WHEN :'preloaded'::boolean THEN 1 ELSE 0 END AS in_shared_cache_when_preloaded
FROM seongsu.model_cache() WHERE model_id = (SELECT model_id FROM seongsu.deployed_models) AND bytes > 0 AND current;
-- Beyond the last observation (2025-05-31) the 1-day model fills recursively.
SELECT count(*) AS hours, bool_and(recursive) AS all_recursive, bool_and(lower <= passengers AND passengers <= upper) AS in_interval
FROM seongsu.forecast('성수', '2호선', '2025-06-03 00:00+09', '2025-06-09 23:00+09');
SELECT count(*) AS hours, bool_or(recursive) AS any_recursive FROM seongsu.forecast('성수', '2호선', '2025-05-20 00:00+09', '2025-05-20 23:00+09');
-- Same answers whatever the session TimeZone.
SET TimeZone = 'America/New_York';
SELECT round(seongsu.predict_crowd('2024-09-03 08:30+09')::numeric) =
       round((seongsu.predict_daily('2024-09-03') * (SELECT hour_shares[1 * 24 + 8 + 1] FROM seongsu.models WHERE id = (SELECT model_id FROM seongsu.deployed_models)))::numeric) AS two_stage_ny;
RESET TimeZone;

-- No leakage through train -> predict: changing observations after day - horizon
-- does not change the prediction for the day.
CREATE TEMP TABLE p0 AS SELECT seongsu.predict_daily('2024-09-03') AS p;
UPDATE seongsu.ridership_daily SET boardings = boardings + 5000 WHERE day >= '2024-09-03';
SELECT round((SELECT p FROM p0)::numeric, 6) = round(seongsu.predict_daily('2024-09-03')::numeric, 6) AS unchanged;
UPDATE seongsu.ridership_daily SET boardings = boardings - 5000 WHERE day >= '2024-09-03';

-- Explain: importances sum to 1; ridge has coefficients.
SELECT abs(sum(value::text::numeric) - 1) < 1e-5 AS importance_sum_is_1
FROM h1, jsonb_each((seongsu.model_explain(h1.model_id))->'importances') WHERE h1.algorithm = 'gbdt';
SELECT (seongsu.model_explain(model_id)->'coefficients') ? 'lag_7d_ratio' AS has_coefficients FROM h1 WHERE algorithm = 'ridge';

-- An ensemble predicts (evaluate, and so predict_daily when deployed) the
-- weighted sum of its members times its day class's scale, with the weights
-- and scales stored in its hyperparams; it explains as the weighted members
-- (importances summing to 1).
SELECT count(*) AS days, count(*) FILTER (WHERE c.cls IS NOT NULL) AS days_scaled,
       max(abs(e.predicted / (s.p * coalesce((em.hyperparams->'day_scale'->>c.cls)::float8, 1)) - 1)) < 1e-9 AS weighted_members_scaled
FROM seongsu.evaluate((SELECT model_id FROM h1 WHERE algorithm = 'ensemble'), '2024-06-01', '2024-08-31') e
JOIN (SELECT v.day, sum((mem->>'weight')::float8 * v.predicted) AS p
        FROM seongsu.models em, jsonb_array_elements(em.hyperparams->'members') mem,
             LATERAL seongsu.evaluate((SELECT model_id FROM h1 WHERE algorithm = mem->>'algorithm'), '2024-06-01', '2024-08-31') v
       WHERE em.id = (SELECT model_id FROM h1 WHERE algorithm = 'ensemble') GROUP BY v.day) s USING (day)
JOIN day_class c USING (day), seongsu.models em WHERE em.id = (SELECT model_id FROM h1 WHERE algorithm = 'ensemble');
SELECT abs(sum(value::text::numeric) - 1) < 1e-5 AS importance_sum_is_1, count(*) = (SELECT array_length(features, 1) FROM seongsu.models WHERE id = h1.model_id) AS every_feature
FROM h1, jsonb_each((seongsu.model_explain(h1.model_id))->'importances') WHERE h1.algorithm = 'ensemble' GROUP BY h1.model_id;
-- train(algorithm => 'ensemble') alone: one model, the same bytes as auto's
-- (the same members' searches), deployed first in its project;
-- reproduce_model refits it from its stored members.
CREATE TEMP TABLE ens AS
SELECT * FROM seongsu.train(algorithm => 'ensemble', horizon => '1 day', train_to => '2024-05-31', project => 'ensemble', force => true);
SELECT algorithm, deployed, jsonb_array_length(metrics->'ensemble'->'members') AS members,
       (SELECT md5(blob) FROM seongsu.models WHERE id = ens.model_id) =
       (SELECT md5(blob) FROM seongsu.models WHERE id = (SELECT model_id FROM h1 WHERE algorithm = 'ensemble')) AS same_as_auto
FROM ens;
SELECT identical, reason FROM seongsu.reproduce_model((SELECT model_id FROM ens));
-- auto when one member is much better than the others (ridge made useless
-- by a huge penalty, the forest a single stump): that member beats the
-- ensemble on the first fold, whose equal weights the crippled members
-- spoil, and matches it on the second (the weights fitted on the first are
-- all its own), so it is deployed instead.  Trained from 2023-03 so that
-- two folds remain.
CREATE TEMP TABLE h2 AS
SELECT * FROM seongsu.train(algorithm => 'auto', horizon => '1 day', train_from => '2023-03-01', train_to => '2024-05-31', project => 'auto rule',
                            hyperparams => '{"alpha": 1e9, "n_trees": 1, "max_depth": 1}', force => true);
SELECT (SELECT algorithm FROM h2 WHERE deployed) =
         coalesce((SELECT mem->>'algorithm' FROM h2 e, jsonb_array_elements(e.metrics->'ensemble'->'members') mem
                    WHERE e.algorithm = 'ensemble' AND (mem->>'fold_wins')::int >= (e.metrics->'ensemble'->>'wins_to_replace')::int
                      AND EXISTS (SELECT FROM h2 m WHERE m.algorithm = mem->>'algorithm'
                                    AND abs((m.metrics->'mean'->>'rmse')::float8 / (mem->>'rmse')::float8 - 1) < 1e-5)
                    ORDER BY (mem->>'rmse')::float8 LIMIT 1),
                  'ensemble') AS auto_rule,
       (SELECT string_agg(mem->>'algorithm' || CASE WHEN (mem->>'extra_trees')::bool THEN ' (random thresholds) ' ELSE ' ' END
                          || (mem->>'fold_wins'), ', ') FROM h2 e, jsonb_array_elements(e.metrics->'ensemble'->'members') mem
         WHERE e.algorithm = 'ensemble') AS fold_wins,
       (SELECT algorithm FROM h2 WHERE deployed) AS deployed;
-- A shape the caller gives holds for every member: gbdt has one shape, so
-- the ensemble has three members.
SELECT string_agg(mem->>'algorithm' || ' ' || (mem->>'extra_trees'), ', ') AS members
  FROM seongsu.train(algorithm => 'ensemble', horizon => '1 day', train_from => '2023-03-01', train_to => '2024-05-31',
                     project => 'ensemble shape', hyperparams => '{"extra_trees": true, "n_trees": 5, "n_estimators": 30}',
                     force => true) e,
       jsonb_array_elements(e.metrics->'ensemble'->'members') mem;
DELETE FROM seongsu.deployments WHERE project IN ('ensemble', 'auto rule', 'ensemble shape');

-- Deploy and roll back.
SELECT seongsu.deploy((SELECT model_id FROM h1 WHERE algorithm = 'ridge'));
SELECT algorithm FROM seongsu.deployed_models;
SELECT seongsu.rollback('성수 2호선 daily 1 days') = (SELECT model_id FROM h1 WHERE deployed) AS rolled_back_to_best;
SELECT action, reason LIKE 'rolled back from model %' AS reason_ok FROM seongsu.deployments ORDER BY id DESC LIMIT 1;
SELECT seongsu.deploy(-5);
SELECT seongsu.rollback('no such project');

-- A 7-day model joins: past days keep using the 1-day model (its inputs exist),
-- days more than 1 and up to 7 days after the last observation use the 7-day one.
SELECT algorithm, deployed FROM seongsu.train(algorithm => 'ridge', horizon => '7 days', train_to => '2024-05-31', force => true);
SELECT project, algorithm = CASE WHEN horizon = '1 day' THEN (SELECT algorithm FROM h1 WHERE deployed) ELSE 'ridge' END AS algorithm_ok, horizon
FROM seongsu.deployed_models ORDER BY horizon;
SELECT bool_or(recursive) AS recursive_5_days_ahead FROM seongsu.forecast('성수', '2호선', '2025-06-05 08:00+09', '2025-06-05 09:00+09');
SELECT bool_and(recursive) AS recursive_10_days_ahead FROM seongsu.forecast('성수', '2호선', '2025-06-10 08:00+09', '2025-06-10 09:00+09');

-- Corrupt or truncated blobs are errors (data_corrupted), never crashes.
-- (An error as "SQLSTATE: message", the live model's id written <live>.)
CREATE FUNCTION pg_temp.error_of(q text, live bigint DEFAULT NULL) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || CASE WHEN live IS NULL THEN SQLERRM ELSE replace(SQLERRM, format('model %s ', live), 'model <live> ') END;
END $$;
CREATE TEMP TABLE corrupt_ids AS SELECT 0::bigint AS id WHERE false;
DO $$
DECLARE
  src bytea := (SELECT blob FROM seongsu.models WHERE algorithm = 'gbdt' LIMIT 1);
  b bytea; nid bigint; caught int := 0; i int; pos int;
BEGIN
  PERFORM setseed(0.42);
  FOR i IN 1..150 LOOP
    b := src;
    IF i % 3 = 0 THEN
      b := substring(b FROM 1 FOR (random() * (length(b) - 1))::int);
    ELSE
      pos := (random() * (length(b) - 1))::int;
      b := set_byte(b, pos, (get_byte(b, pos) + 1 + (random() * 254)::int) % 256);
    END IF;
    INSERT INTO seongsu.models (project, station_id, algorithm, grain, horizon, feature_set, features, target_mode,
                                hyperparams, metrics, train_rows, train_seconds, matrix_bytes, train_from, train_to, blob)
    SELECT 'corrupt', station_id, algorithm, grain, horizon, feature_set, features, target_mode,
           hyperparams, metrics, train_rows, train_seconds, matrix_bytes, train_from, train_to, b
    FROM seongsu.models WHERE algorithm = 'gbdt' LIMIT 1 RETURNING id INTO nid;
    BEGIN
      PERFORM seongsu.model_explain(nid);
    EXCEPTION WHEN data_corrupted THEN
      caught := caught + 1;
    END;
  END LOOP;
  RAISE WARNING 'corruptions rejected: % of 150', caught;
END $$;
-- The last one (truncated) is named, with its length and the header's.
SELECT max(id) AS last_corrupt, length(blob) AS corrupt_bytes FROM seongsu.models
 WHERE id = (SELECT max(id) FROM seongsu.models WHERE project = 'corrupt') GROUP BY blob \gset
SELECT pg_temp.error_of(format('SELECT seongsu.model_explain(%s)', :last_corrupt))
       = format('XX001: model %s is corrupt: model length is %s bytes, its header says %s', :last_corrupt, :corrupt_bytes,
                (SELECT length(blob) FROM seongsu.models WHERE algorithm = 'gbdt' ORDER BY id LIMIT 1)) AS named_with_lengths;
DELETE FROM seongsu.models WHERE project = 'corrupt';

-- A live model that cannot be read (corrupt, or of an older format) does not
-- block retraining: the new model replaces it, and the reason says why.
INSERT INTO seongsu.models (project, station_id, algorithm, grain, horizon, feature_set, features, target_mode,
                            hyperparams, metrics, train_rows, train_seconds, matrix_bytes, train_from, train_to, blob)
SELECT 'unreadable', station_id, algorithm, grain, horizon, feature_set, features, target_mode,
       hyperparams, metrics, train_rows, train_seconds, matrix_bytes, train_from, train_to, substring(blob FROM 1 FOR 100)
FROM seongsu.models WHERE algorithm = 'ridge' LIMIT 1 RETURNING id AS unreadable_id \gset
SELECT seongsu.deploy(:unreadable_id) IS NOT NULL AS deployed_unreadable;
SELECT algorithm, deployed FROM seongsu.train(algorithm => 'ridge', horizon => '1 day', project => 'unreadable',
                                              train_to => '2024-05-31', force => true);
SELECT action, model_id > :unreadable_id AS new_model,
       reason LIKE 'live model ' || :unreadable_id || ' cannot be read: model % is corrupt: %' AS reason_ok
FROM seongsu.deployments WHERE project = 'unreadable' ORDER BY id DESC LIMIT 1;

-- What a transaction has written but not committed is never cached: a
-- deployment inserted in the same statement is seen by that statement's
-- prediction, and after the rollback the prediction is the committed one.
SELECT seongsu.predict_daily('2024-09-03') AS committed_value \gset
SELECT seongsu.predict_daily('2024-09-03') = :committed_value AS cached;
SELECT predicted AS naive_value FROM seongsu.evaluate((SELECT id FROM seongsu.models
  WHERE algorithm = 'seasonal_naive' AND horizon = '1 day' ORDER BY id LIMIT 1), '2024-09-03', '2024-09-03') \gset
SELECT :naive_value <> :committed_value AS naive_differs;
BEGIN;
WITH d AS (INSERT INTO seongsu.deployments (project, model_id, action, reason)
           SELECT project, id, 'deploy', 'uncommitted' FROM seongsu.models
           WHERE algorithm = 'seasonal_naive' AND horizon = '1 day' ORDER BY id LIMIT 1 RETURNING 1)
SELECT seongsu.predict_daily('2024-09-03') = :naive_value AS sees_its_own_deploy FROM d;
ROLLBACK;
SELECT seongsu.predict_daily('2024-09-03') = :committed_value AS committed_again;

-- Cached answers are served only to who may read what they come from.
CREATE ROLE seongsu_no_tables;
GRANT USAGE ON SCHEMA seongsu TO seongsu_no_tables;
GRANT EXECUTE ON FUNCTION seongsu.predict_daily(date, text, text) TO seongsu_no_tables;
SELECT seongsu.predict_daily('2024-09-03') = :committed_value AS warm;
SET ROLE seongsu_no_tables;
\set VERBOSITY terse
SELECT seongsu.predict_daily('2024-09-03');
\set VERBOSITY default
RESET ROLE;
DROP OWNED BY seongsu_no_tables;
DROP ROLE seongsu_no_tables;

-- Loading a station's second deployed model never evicts its first from the
-- backend's 32-model cache (it did when the cache had just wrapped round to
-- the first one's slot).  63 copies of a model fill the cache around it.
INSERT INTO seongsu.models (project, station_id, algorithm, grain, horizon, feature_set, features, target_mode,
                            hyperparams, metrics, train_rows, train_seconds, matrix_bytes, train_from, train_to, blob)
SELECT 'filler', station_id, algorithm, grain, horizon, feature_set, features, target_mode,
       hyperparams, metrics, train_rows, train_seconds, matrix_bytes, train_from, train_to, blob
FROM seongsu.models, generate_series(1, 63)
WHERE id = (SELECT min(id) FROM seongsu.models WHERE algorithm = 'ridge' AND project <> 'unreadable');
SELECT count(*) AS deployed_models FROM seongsu.deployed_models;
SELECT count(*) FROM (SELECT id FROM seongsu.models WHERE project = 'filler' ORDER BY id LIMIT 32) f,
  seongsu.evaluate(f.id, '2024-09-03', '2024-09-03');
SELECT count(*) FROM seongsu.evaluate((SELECT model_id FROM seongsu.deployed_models
  ORDER BY horizon, model_id LIMIT 1), '2024-09-03', '2024-09-03');
SELECT count(*) FROM (SELECT id FROM seongsu.models WHERE project = 'filler' ORDER BY id OFFSET 32) f,
  seongsu.evaluate(f.id, '2024-09-03', '2024-09-03');
SELECT seongsu.predict_daily('2024-09-03') = :committed_value AS first_model_intact;
DELETE FROM seongsu.models WHERE project = 'filler';

-- Prediction argument errors.
SELECT seongsu.predict_daily('infinity');
SELECT seongsu.predict_crowd('infinity');
SELECT count(*) FROM seongsu.forecast('성수', '2호선', '2025-06-02', '2025-06-01');
SELECT count(*) FROM seongsu.forecast('성수', '2호선', '2020-01-01', '2030-01-01');
SELECT count(*) FROM seongsu.evaluate((SELECT model_id FROM seongsu.deployed_models LIMIT 1), '2025-01-02', '2025-01-01');
SELECT count(*) FROM seongsu.evaluate(-1, '2025-01-01', '2025-01-02');
SELECT seongsu.model_explain(-1);

-- Bounds: a prediction reaches at most 400 days beyond the station's
-- observations (2020-01-01 .. 2025-05-31: from 2018-11-27 to 2026-07-05);
-- anything further is refused (22008) before anything is loaded for it.
\set VERBOSITY default
SELECT seongsu.predict_daily('5874897-12-31');
SELECT seongsu.predict_crowd('80000-01-01');
SELECT seongsu.crowd_level('2030-01-01 08:00+09');
SELECT seongsu.predict_daily(:'last_day'::date + 400) > 0 AS last_day_in_reach;
SELECT seongsu.predict_daily(:'last_day'::date + 401);
SELECT count(*) AS hours FROM seongsu.forecast('성수', '2호선', '2026-06-30 04:00+09', '2026-07-06 03:00+09');
SELECT count(*) FROM seongsu.forecast('성수', '2호선', '2026-06-30 04:00+09', '2026-07-06 04:00+09');
SELECT 1 AS first_day_in_reach FROM (SELECT seongsu.predict_daily(:'first_day'::date - 400)) p;
SELECT seongsu.predict_daily(:'first_day'::date - 401);
SELECT count(*) FROM seongsu.evaluate((SELECT model_id FROM seongsu.deployed_models ORDER BY horizon, model_id LIMIT 1), '2025-01-01', '2026-12-31');
SELECT count(*) FROM seongsu.evaluate((SELECT model_id FROM seongsu.deployed_models ORDER BY horizon, model_id LIMIT 1), '2018-01-01', '2020-01-31');
SELECT seongsu.predict_daily('2024-09-03', '성수', E'2호선\n');
SELECT * FROM seongsu.train(station => E'성\x01수', algorithm => 'ridge');
\set VERBOSITY terse

-- A model row whose metadata contradicts the model is corrupt (XX001,
-- naming the model and what is wrong) for predict, evaluate and explain;
-- restored, the good model loads and answers as before.
SELECT model_id AS live FROM seongsu.deployed_models ORDER BY horizon, model_id LIMIT 1 \gset
CREATE TEMP TABLE live_row AS SELECT * FROM seongsu.models WHERE id = :live;
CREATE TEMP VIEW live_check AS
  SELECT m.id, m.hour_shares = l.hour_shares AND m.target_mode = l.target_mode AND m.algorithm = l.algorithm
         AND m.horizon = l.horizon AND m.levels = l.levels AND m.metrics = l.metrics AND m.grain = l.grain AS restored
  FROM seongsu.models m JOIN live_row l ON l.id = m.id;
UPDATE seongsu.models SET hour_shares[3] = 'NaN' WHERE id = :live;
SELECT pg_temp.error_of($$SELECT seongsu.predict_daily('2024-09-03')$$, :live);
UPDATE seongsu.models SET hour_shares = (SELECT hour_shares[1:29] || 1e308::float8 || hour_shares[31:192] FROM live_row) WHERE id = :live;
SELECT pg_temp.error_of(format($$SELECT count(*) FROM seongsu.evaluate(%s, '2024-09-03', '2024-09-03')$$, :live), :live);
UPDATE seongsu.models SET hour_shares = (SELECT array_agg(x * 2) FROM unnest((SELECT hour_shares FROM live_row)) x) WHERE id = :live;
SELECT pg_temp.error_of(format('SELECT seongsu.model_explain(%s)', :live), :live);
UPDATE seongsu.models SET hour_shares = (SELECT hour_shares[1:96] FROM live_row) WHERE id = :live;
SELECT pg_temp.error_of($$SELECT seongsu.predict_crowd('2024-09-03 08:00+09')$$, :live);
UPDATE seongsu.models SET hour_shares = (SELECT hour_shares FROM live_row), target_mode = 'lag' WHERE id = :live;
SELECT pg_temp.error_of($$SELECT seongsu.predict_daily('2024-09-03')$$, :live);
UPDATE seongsu.models SET target_mode = (SELECT target_mode FROM live_row),
  algorithm = CASE algorithm WHEN 'gbdt' THEN 'ridge' ELSE 'gbdt' END WHERE id = :live;
SELECT pg_temp.error_of(format('SELECT seongsu.model_explain(%s)', :live), :live)
       = format('XX001: model <live> is corrupt: its algorithm is %s but its stored model is %s',
                CASE algorithm WHEN 'gbdt' THEN 'ridge' ELSE 'gbdt' END, algorithm) AS names_both_algorithms
  FROM live_row;
UPDATE seongsu.models SET algorithm = 'seasonal_naive', target_mode = 'lag' WHERE id = :live;
SELECT pg_temp.error_of(format('SELECT seongsu.model_explain(%s)', :live), :live);
UPDATE seongsu.models SET algorithm = (SELECT algorithm FROM live_row), target_mode = (SELECT target_mode FROM live_row),
  horizon = '1000 days' WHERE id = :live;
SELECT pg_temp.error_of(format($$SELECT count(*) FROM seongsu.evaluate(%s, '2024-09-03', '2024-09-03')$$, :live), :live);
UPDATE seongsu.models SET horizon = '1 hour' WHERE id = :live;
SELECT pg_temp.error_of($$SELECT seongsu.predict_daily('2024-09-03')$$, :live);
UPDATE seongsu.models SET horizon = (SELECT horizon FROM live_row), levels = '{3000, 2000, 1000}' WHERE id = :live;
SELECT pg_temp.error_of($$SELECT seongsu.crowd_level('2024-09-03 08:00+09')$$, :live);
UPDATE seongsu.models SET levels = (SELECT levels FROM live_row),
  metrics = jsonb_set(jsonb_set(metrics, '{relative_residual_quantiles,q05}', '5'), '{relative_residual_quantiles,q95}', '0.25')
 WHERE id = :live;
SELECT pg_temp.error_of($$SELECT count(*) FROM seongsu.forecast('성수', '2호선', '2024-09-03 00:00+09', '2024-09-03 23:00+09')$$, :live);
UPDATE seongsu.models SET metrics = jsonb_set(jsonb_set((SELECT metrics FROM live_row), '{relative_residual_quantiles,q05}', '-0.125'),
                                             '{relative_residual_quantiles,q95}', '1e308') WHERE id = :live;
SELECT pg_temp.error_of(format($$SELECT count(*) FROM seongsu.evaluate(%s, '2024-09-03', '2024-09-03')$$, :live), :live);
UPDATE seongsu.models SET metrics = jsonb_set(metrics, '{relative_residual_quantiles,q95}', '"wide"') WHERE id = :live;
SELECT pg_temp.error_of(format('SELECT seongsu.model_explain(%s)', :live), :live);
UPDATE seongsu.models SET metrics = (SELECT metrics FROM live_row), grain = 'hourly' WHERE id = :live;
SELECT pg_temp.error_of(format('SELECT seongsu.model_explain(%s)', :live), :live);
UPDATE seongsu.models SET grain = 'daily' WHERE id = :live;
SELECT restored FROM live_check;
SELECT seongsu.predict_daily('2024-09-03') = :committed_value AS good_model_loads,
       seongsu.model_explain(:live) ? 'importances' AS explained;
DROP VIEW live_check;

-- hyperparams.levels are stored as given; bad ones are errors, before any
-- data is read.
SELECT model_id AS levels_model FROM seongsu.train(algorithm => 'ridge', horizon => '1 day', train_to => '2024-05-31',
  project => 'levels', hyperparams => '{"levels": [1000.5, 2000, 3000]}', force => true) \gset
SELECT levels FROM seongsu.models WHERE id = :levels_model;
\set VERBOSITY default
SELECT * FROM seongsu.train(algorithm => 'ridge', hyperparams => '{"levels": [3000, 2000, 1000]}');
SELECT * FROM seongsu.train(algorithm => 'ridge', hyperparams => '{"levels": [1000, 2000]}');
SELECT * FROM seongsu.train(algorithm => 'ridge', hyperparams => '{"levels": [1000, "2000", 3000]}');
SELECT * FROM seongsu.train(algorithm => 'ridge', hyperparams => '{"levels": 1000}');
SELECT * FROM seongsu.train(algorithm => 'ridge', hyperparams => '{"levels": [0, 1, 2]}');
SELECT * FROM seongsu.train(algorithm => 'ridge', hyperparams => '{"target": "r"}');
\set VERBOSITY terse

-- A grid over two hyper-parameters backtests every combination (the report
-- lists each); more than 200 combinations, or a malformed search, is refused.
SELECT jsonb_array_length(metrics->'search') AS tried,
       (SELECT string_agg(format('%s/%s', x->'params'->>'alpha', x->'params'->>'seed'), ' '
                          ORDER BY (x->'params'->>'alpha')::float8, (x->'params'->>'seed')::int)
        FROM jsonb_array_elements(metrics->'search') x) AS combinations
FROM seongsu.train(algorithm => 'ridge', horizon => '1 day', train_to => '2024-05-31', project => 'grid2', force => true,
                   hyperparams => '{"target": "ratio"}',
                   search => '{"method": "grid", "params": {"alpha": [0.1, 10], "seed": [1, 2, 3]}, "folds": 2}');
\set VERBOSITY default
SELECT * FROM seongsu.train(algorithm => 'ridge',
  search => '{"params": {"alpha": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15], "seed": [1,2,3,4,5,6,7,8,9,10,11,12,13,14]}}');
\set VERBOSITY terse
SELECT * FROM seongsu.train(algorithm => 'ridge', search => '{"method": "random", "n_iter": 201, "params": {"alpha": [1, 2]}}');
SELECT * FROM seongsu.train(algorithm => 'ridge', search => '{"n_iters": 5, "params": {"alpha": [1, 2]}}');
SELECT * FROM seongsu.train(algorithm => 'ridge', search => '{"method": "g", "params": {"alpha": [1, 2]}}');
SELECT * FROM seongsu.train(algorithm => 'ridge', search => '{"folds": 2.5, "params": {"alpha": [1, 2]}}');
SELECT * FROM seongsu.train(algorithm => 'ridge', search => '{"params": {"alpha": [1, 2], "seed": 3}}');

-- A daily model's horizon is a whole number of days: '1 hour' is refused,
-- '48 hours' is the 2-day project.
\set VERBOSITY default
SELECT * FROM seongsu.train(algorithm => 'ridge', horizon => '1 hour');
SELECT * FROM seongsu.train(algorithm => 'ridge', horizon => '1 day 1 hour');
\set VERBOSITY terse
SELECT model_id AS two_days FROM seongsu.train(algorithm => 'ridge', horizon => '48 hours', train_to => '2024-05-31', force => true) \gset
SELECT project, horizon FROM seongsu.models WHERE id = :two_days;

-- A long call is cancelled promptly: evaluating a 10,000-tree forest
-- grown on a year over every observed day (1,956) walks the trees for
-- most of a second (one feature per split keeps its training short); with
-- a 100 ms statement_timeout it stops at the next check (every 64 trees),
-- not at the end.
SELECT model_id AS big FROM seongsu.train(algorithm => 'random_forest', horizon => '1 day', train_from => '2023-06-01',
  project => 'big', hyperparams => '{"n_trees": 10000, "max_features": 0.02, "target": "raw", "folds": 2}', force => true) \gset
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) = :fixture_days AS every_day FROM seongsu.evaluate(:big, :'first_day', :'last_day');
SELECT clock_timestamp() - :'t0'::timestamptz AS full_call \gset
SET statement_timeout = '100ms';
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) AS days FROM seongsu.evaluate(:big, :'first_day', :'last_day');
RESET statement_timeout;
SELECT clock_timestamp() - :'t0'::timestamptz < :'full_call'::interval / 3 AS cancelled_promptly;

DELETE FROM seongsu.deployments WHERE project IN ('levels', 'grid2', 'big', '성수 2호선 daily 2 days', 'fold check', 'ensemble', 'auto rule', 'ensemble shape');
DELETE FROM seongsu.models WHERE project IN ('levels', 'grid2', 'big', '성수 2호선 daily 2 days', 'fold check', 'ensemble', 'auto rule', 'ensemble shape');
