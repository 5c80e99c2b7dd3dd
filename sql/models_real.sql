-- Models on the real data (../shared/data, staged by test/check.sh and
-- passed as regress.data_dir): what the fixtures of models.sql cannot
-- show.  Every algorithm one day ahead with 8 expanding folds beats
-- same-day-last-week, auto's choice is deployed, trained on more than 2,500
-- days since 2015; over the test year (2024-06 .. 2025-05, no refit) its
-- RMSE is under 12,000 passengers a day; hours come from Seoul Metro's
-- 2023 counts (two-stage); beyond the last observation the model fills
-- recursively.
SET client_min_messages = warning;
SELECT current_setting('regress.data_dir') AS d \gset
TRUNCATE seongsu.ridership_daily, seongsu.ridership_hourly;
SELECT seongsu.import_file('card_subway_month', :'d' || '/seongsu/card_subway_month_2015-01_2021-07.csv') +
       seongsu.import_file('card_subway_month', :'d' || '/seongsu/card_subway_month_2022-2024_selected_months.csv') +
       seongsu.import_file('ridership_daily', :'d' || '/seongsu/daily_2022-11_2025-05.csv') +
       seongsu.import_file('seoulmetro_hourly', :'d' || '/seongsu/seoulmetro_hourly_2023-01_2023-04.csv') > 0 AS loaded;

CREATE TEMP TABLE h1 AS
SELECT * FROM seongsu.train(algorithm => 'auto', horizon => '1 day', train_to => '2024-05-31', force => true);
SELECT algorithm, jsonb_array_length(metrics->'folds') AS folds,
       (metrics->'mean'->>'n')::int = (SELECT sum((f->'metrics'->>'n')::int) FROM jsonb_array_elements(metrics->'folds') f) AS n_pooled,
       metrics->>'target_mode' AS target_mode,
       (metrics->'mean'->>'rmse')::float8 < (SELECT (metrics->'mean'->>'rmse')::float8 FROM h1 WHERE algorithm = 'seasonal_naive') AS beats_naive
FROM h1 ORDER BY model_id;
-- auto's rule: the ensemble unless a member beats it on all folds but at
-- most one (wins_to_replace: 7 of 8; all of them with fewer folds).
SELECT (SELECT algorithm FROM h1 WHERE deployed) =
         coalesce((SELECT mem->>'algorithm' FROM h1 e, jsonb_array_elements(e.metrics->'ensemble'->'members') mem
                    WHERE e.algorithm = 'ensemble' AND (mem->>'fold_wins')::int >= (e.metrics->'ensemble'->>'wins_to_replace')::int ORDER BY (mem->>'rmse')::float8 LIMIT 1),
                  'ensemble') AS auto_rule;
SELECT m.train_from, m.train_to, m.train_rows > 2500 AS rows_ok, m.matrix_bytes > 0 AS bytes_ok,
       array_length(m.hour_shares, 1) AS shares, m.levels[1] < m.levels[2] AND m.levels[2] < m.levels[3] AS levels_increase
FROM seongsu.models m JOIN h1 ON h1.model_id = m.id WHERE h1.algorithm = 'gbdt';

-- Test year (no refit): the best model beats same-day-last-week by far.
SELECT h1.algorithm, count(*) AS days,
       round(sqrt(avg((actual - predicted) ^ 2))::numeric, -2) < 12000 AS rmse_under_12k
FROM h1, seongsu.evaluate(h1.model_id, '2024-06-01', '2025-05-31') GROUP BY 1, h1.model_id ORDER BY h1.model_id;

-- A past day uses the deployed model with real lags, and equals evaluate();
-- its 08:00 hour is the day x the Tuesday share (two-stage), and the rush
-- hour is 매우혼잡 on the station's own thresholds.
SELECT round(seongsu.predict_daily('2024-09-03')::numeric) =
       round((SELECT predicted FROM seongsu.evaluate((SELECT model_id FROM seongsu.deployed_models), '2024-09-03', '2024-09-03'))::numeric) AS same_as_evaluate;
SELECT round(seongsu.predict_crowd('2024-09-03 08:30+09')::numeric) =
       round((seongsu.predict_daily('2024-09-03') * (SELECT hour_shares[1 * 24 + 8 + 1] FROM seongsu.models WHERE id = (SELECT model_id FROM seongsu.deployed_models)))::numeric) AS two_stage;
SELECT seongsu.crowd_level('2024-09-03 08:30+09') AS rush_hour, seongsu.crowd_level('2024-09-03 04:30+09') AS before_first_train;
-- Beyond the last observation (2025-05-31) the 1-day model fills recursively.
SELECT count(*) AS hours, bool_and(recursive) AS all_recursive, bool_and(lower <= passengers AND passengers <= upper) AS in_interval
FROM seongsu.forecast('성수', '2호선', '2025-06-03 00:00+09', '2025-06-09 23:00+09');
