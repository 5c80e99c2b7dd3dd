-- Monitoring: forecasts as issued (publish_forecast), their live accuracy,
-- drift, alerts (raised once, resolved when the condition clears), metrics
-- and the dashboard page, on a synthetic station of its own.  "Today" is
-- given to every function that needs one; pg_regress runs in PST8PDT.
SET client_min_messages = warning;
SET DateStyle = 'ISO, YMD';

-- A clean slate: no other station, model, job or weather left by the tests
-- before (they would raise alerts of their own).
TRUNCATE seongsu.ridership_daily, seongsu.ridership_hourly, seongsu.hour_profile, seongsu.weather_daily,
  seongsu.weather_hourly, seongsu.weather_forecast, seongsu.congestion_survey, seongsu.jobs, seongsu.ingest_log,
  seongsu.deployments, seongsu.models, seongsu.prediction_log, seongsu.alerts, seongsu.alert_outbox CASCADE;
-- The holidays are the core fixtures' (test/fixtures, loaded by the fixtures
-- test) and, so that they are known a year ahead of the test's "today", May 2026.
SELECT seongsu.import_text('kasi_holidays', $json${"response": {"header": {"resultCode": "00", "resultMsg": "NORMAL SERVICE."},
  "body": {"items": {"item": {"dateKind": "01", "dateName": "어린이날", "isHoliday": "Y", "locdate": 20260505, "seq": 1}},
           "numOfRows": 100, "pageNo": 1, "totalCount": 1}}}$json$) AS may_2026;
SELECT count(*) > 0 AS holidays FROM seongsu.holidays WHERE day BETWEEN '2023-01-01' AND '2025-12-31';

-- 모니터역: two years of a weekly pattern with pseudo-random noise (from
-- md5 of the day, so always the same), hourly counts for the hour shares,
-- and daily weather.
SELECT 'date,line,station,boardings,alightings' || E'\n' ||
       string_agg(format('%s,2호선,모니터역,%s,%s', to_char(d, 'YYYY-MM-DD'), b, b + 900), E'\n' ORDER BY d) AS daily
FROM (SELECT d::date AS d,
             30000 + 9000 * (extract(isodow FROM d) < 6)::int + ('x' || substr(md5(d::date::text), 1, 4))::bit(16)::int % 3000 AS b
      FROM generate_series(date '2023-01-01', date '2025-03-31', interval '1 day') d) s \gset
SELECT seongsu.import_text('ridership_daily', :'daily') AS daily_rows;
SELECT 'service_date,line,station,hour,passengers' || E'\n' ||
       string_agg(format('%s,2호선,모니터역,%s,%s', to_char(d, 'YYYY-MM-DD'), h, 500 + 100 * h), E'\n' ORDER BY d, h) AS hourly
FROM generate_series(date '2025-01-01', date '2025-03-31', interval '1 day') d, generate_series(5, 23) h \gset
SELECT seongsu.import_text('ridership_hourly', :'hourly') AS hourly_rows;
SELECT 'date,temperature_2m_mean_c,precipitation_sum_mm,rain_sum_mm,snowfall_sum_cm' || E'\n' ||
       string_agg(format('%s,%s,0.0,0.0,0.0', to_char(d, 'YYYY-MM-DD'), 10 + (d::date - date '2023-01-01') % 7), E'\n') AS weather
FROM generate_series(date '2023-01-01', date '2025-03-31', interval '1 day') d \gset
SELECT seongsu.import_text('openmeteo_daily', :'weather') AS weather_rows;

-- Champion: ridge at 1 and 7 days, trained to January.
SELECT algorithm, deployed FROM seongsu.train('모니터역', '2호선', 'ridge', horizon => '1 day', train_to => '2025-01-31', force => true);
SELECT algorithm, deployed FROM seongsu.train('모니터역', '2호선', 'ridge', horizon => '7 days', train_to => '2025-01-31', force => true);
SELECT model_id AS m1 FROM seongsu.deployed_models WHERE project = '모니터역 2호선 daily 1 days' \gset
SELECT model_id AS m7 FROM seongsu.deployed_models WHERE project = '모니터역 2호선 daily 7 days' \gset
-- no model is aliased challenger
SELECT seongsu.model_for_alias('모니터역 2호선 daily 1 days', 'challenger') IS NULL AS no_challenger;

-- 1. Publishing.  A day's publication: 7 daily rows and 7 x 24 hourly ones.
SELECT seongsu.publish_forecast('모니터역', '2호선', '2025-02-01') AS first_publication;
SELECT grain, count(*), min(target_day), max(target_day), min(horizon_days), max(horizon_days),
       count(*) FILTER (WHERE level IS NOT NULL) AS with_level, count(DISTINCT model_id) AS models
FROM seongsu.prediction_log GROUP BY grain ORDER BY grain;
-- horizon 1 is the 1-day model's; horizons 2..7 the 7-day model's (its inputs do not exist by then for the 1-day one)
SELECT horizon_days, model_id = :m1 AS one_day_model, model_id = :m7 AS seven_day_model
FROM seongsu.prediction_log WHERE grain = 'daily' ORDER BY horizon_days;
-- each hourly row is the day's value times the model's hour share of the day type, with its interval
SELECT count(*) AS hourly_rows,
       count(*) FILTER (WHERE abs(h.predicted - d.predicted * m.hour_shares[seongsu_day_type.t * 24 + extract(hour FROM h.target_hour AT TIME ZONE 'Asia/Seoul')::int + 1]) < 1e-6) AS two_stage,
       count(*) FILTER (WHERE abs(h.lower - h.predicted * d.lower / d.predicted) < 1e-6 AND abs(h.upper - h.predicted * d.upper / d.predicted) < 1e-6) AS same_interval
FROM seongsu.prediction_log h
JOIN seongsu.prediction_log d ON d.grain = 'daily' AND d.as_of = h.as_of AND d.role = h.role AND d.target_day = h.target_day
JOIN seongsu.models m ON m.id = h.model_id
CROSS JOIN LATERAL (SELECT (SELECT day_type FROM seongsu.calendar_features(h.target_day::timestamp AT TIME ZONE 'Asia/Seoul')) AS t) seongsu_day_type
WHERE h.grain = 'hourly';
-- the hours of a service day run from 04:00 to 03:00 the next day
SELECT to_char(min(target_hour) AT TIME ZONE 'Asia/Seoul', 'MM-DD HH24:MI') AS first_hour,
       to_char(max(target_hour) AT TIME ZONE 'Asia/Seoul', 'MM-DD HH24:MI') AS last_hour
FROM seongsu.prediction_log WHERE grain = 'hourly' AND target_day = '2025-02-02';

-- Publishing the same as_of again changes nothing.
CREATE TEMP TABLE log_before AS SELECT * FROM seongsu.prediction_log;
SELECT seongsu.publish_forecast('모니터역', '2호선', '2025-02-01') AS republished;
SELECT count(*) AS rows_now, (SELECT count(*) FROM log_before) AS rows_before,
       (SELECT count(*) FROM (SELECT * FROM seongsu.prediction_log EXCEPT SELECT * FROM log_before) x) AS changed
FROM seongsu.prediction_log;

-- Every day of February and March; then as of the last observed day.
SELECT sum(seongsu.publish_forecast('모니터역', '2호선', d::date)) AS rows_written
FROM generate_series(date '2025-02-02', date '2025-03-31', interval '1 day') d;
SELECT count(DISTINCT as_of) AS publications, count(*) AS rows FROM seongsu.prediction_log;

-- As of the last observed day, the published values are what predict_daily
-- and forecast answer (the same models, rule and inputs).
SELECT count(*) AS days, count(*) FILTER (WHERE p.predicted = seongsu.predict_daily(p.target_day, '모니터역', '2호선')) AS equal
FROM seongsu.prediction_log p WHERE p.as_of = '2025-03-31' AND p.grain = 'daily';
SELECT count(*) AS hours, count(*) FILTER (WHERE abs(p.predicted - f.passengers) < 1e-6 AND p.level = f.level
                                           AND abs(p.lower - f.lower) < 1e-6 AND abs(p.upper - f.upper) < 1e-6) AS equal
FROM seongsu.prediction_log p
JOIN seongsu.forecast('모니터역', '2호선', '2025-04-01 04:00+09', '2025-04-08 03:00+09') f ON f.ts = p.target_hour
WHERE p.as_of = '2025-03-31' AND p.grain = 'hourly';

-- A forecast as of a past day sees nothing observed after it: republished
-- with every later day doubled (and in another TimeZone), it is the same.
BEGIN;
CREATE TEMP TABLE issued AS SELECT * FROM seongsu.prediction_log WHERE as_of = '2025-02-10';
UPDATE seongsu.ridership_daily SET boardings = 2 * boardings WHERE day > '2025-02-10';
DELETE FROM seongsu.prediction_log WHERE as_of = '2025-02-10';
SET LOCAL TimeZone = 'Pacific/Kiritimati';
SELECT seongsu.publish_forecast('모니터역', '2호선', '2025-02-10') AS republished_rows;
SELECT count(*) AS rows, count(*) FILTER (WHERE p.predicted = i.predicted AND p.lower = i.lower AND p.upper = i.upper
                                          AND p.level IS NOT DISTINCT FROM i.level AND p.model_id = i.model_id) AS same
FROM seongsu.prediction_log p
JOIN issued i ON i.as_of = p.as_of AND i.role = p.role AND i.grain = p.grain AND i.target_day = p.target_day
             AND i.target_hour IS NOT DISTINCT FROM p.target_hour;
ROLLBACK;

-- A publication whose inputs end before its days fills them recursively:
-- as of 2025-03-31 with the last 10 observed days hidden by a later as_of
-- makes no difference, and as_of after the data is the last observed day's.
BEGIN;
DELETE FROM seongsu.prediction_log WHERE as_of = '2025-04-03';
SELECT seongsu.publish_forecast('모니터역', '2호선', '2025-04-03', 3) AS rows_after_gap;
SELECT target_day, p.horizon_days, p.predicted = q.predicted AS same_as_last_observed_day
FROM seongsu.prediction_log p
JOIN seongsu.prediction_log q USING (role, grain, target_day)
WHERE p.as_of = '2025-04-03' AND q.as_of = '2025-03-31' AND p.grain = 'daily' ORDER BY target_day;
ROLLBACK;

-- Argument errors.
SELECT seongsu.publish_forecast('모니터역', '2호선', '2025-02-01', 0);
SELECT seongsu.publish_forecast('모니터역', '2호선', '2025-02-01', 32);
SELECT seongsu.publish_forecast('모니터역', '2호선', 'infinity');
SELECT seongsu.publish_forecast('없는역', '2호선', '2025-02-01');
SELECT seongsu.publish_forecast('모니터역', '2호선', '2022-06-01');
SELECT seongsu.publish_forecast(E'모니\x01터역', '2호선', '2025-02-01');
SELECT seongsu.publish_forecast('모니터역', '2호선', '2026-06-01');

-- 2. Live accuracy equals a recomputation from the log and the actuals:
-- window_to is the last observed day with a forecast, each window that many
-- days back; every model, role and horizon (and all horizons together).
SELECT grain, window_days, min(window_from), max(window_to), count(*) AS rows
FROM seongsu.live_accuracy WHERE station = '모니터역' GROUP BY grain, window_days ORDER BY grain, window_days;
CREATE TEMP TABLE recomputed AS
WITH pairs AS (
  SELECT p.role, p.model_id, p.grain, p.horizon_days, p.target_day, p.predicted::numeric AS f,
         coalesce(d.passengers, h.passengers)::numeric AS a, p.lower::numeric AS lo, p.upper::numeric AS hi
  FROM seongsu.prediction_log p
  LEFT JOIN seongsu.ridership_daily d ON p.grain = 'daily' AND d.station_id = p.station_id AND d.day = p.target_day
  LEFT JOIN seongsu.ridership_hourly h ON p.grain = 'hourly' AND h.station_id = p.station_id AND h.ts = p.target_hour
  WHERE coalesce(d.passengers, h.passengers) IS NOT NULL
), w AS (
  SELECT pairs.*, x.window_days FROM pairs CROSS JOIN (VALUES (7), (28), (91)) x(window_days)
  WHERE target_day BETWEEN date '2025-03-31' - x.window_days + 1 AND date '2025-03-31'
)
SELECT role, model_id, grain, horizon_days, window_days, count(*) AS n,
       sqrt(sum((f - a) * (f - a)) / count(*)) AS rmse, sum(abs(f - a)) / count(*) AS mae,
       100 * sum(abs(f - a) / a) / count(*) AS mape, sum(f - a) / count(*) AS bias,
       sum(CASE WHEN a >= lo AND a <= hi THEN 1 ELSE 0 END)::numeric / count(*) AS coverage
FROM w GROUP BY GROUPING SETS ((role, model_id, grain, horizon_days, window_days), (role, model_id, grain, window_days));
SELECT count(*) AS compared,
       count(*) FILTER (WHERE l.n = r.n AND abs(l.rmse - r.rmse) < 1e-6 AND abs(l.mae - r.mae) < 1e-6
                        AND abs(l.mape - r.mape) < 1e-9 AND abs(l.bias - r.bias) < 1e-6
                        AND abs(l.coverage - r.coverage) < 1e-12) AS equal,
       (SELECT count(*) FROM recomputed) AS recomputed_rows,
       (SELECT count(*) FROM seongsu.live_accuracy WHERE station = '모니터역') AS view_rows
FROM seongsu.live_accuracy l
JOIN recomputed r ON r.role = l.role AND r.model_id = l.model_id AND r.grain = l.grain
                 AND r.horizon_days IS NOT DISTINCT FROM l.horizon_days AND r.window_days = l.window_days
WHERE l.station = '모니터역';
-- the ratio to the backtest
SELECT count(*) FILTER (WHERE abs(l.mape_ratio - l.mape / (m.metrics->'mean'->>'mape')::float8) < 1e-12
                        AND abs(l.rmse_ratio - l.rmse / (m.metrics->'mean'->>'rmse')::float8) < 1e-12) AS ratios_ok,
       count(*) FILTER (WHERE l.grain = 'hourly' AND l.mape_ratio IS NULL) AS hourly_without_backtest,
       count(*) AS rows
FROM seongsu.live_accuracy l JOIN seongsu.models m ON m.id = l.model_id WHERE l.station = '모니터역';

-- 3. Drift, alerts.  As published, nothing is wrong on 2025-04-01.
SELECT kind, status, count(*) FROM seongsu.drift('모니터역', '2호선') WHERE kind <> 'level' GROUP BY kind, status ORDER BY kind, status;
SELECT * FROM seongsu.drift('모니터역', '2호선', '1 month');
SELECT * FROM seongsu.drift('모니터역', '2호선', '36 hours');
SELECT count(*) AS raised FROM seongsu.evaluate_alerts('2025-04-01 09:00+09');

-- A level shift: the last 28 days 60% higher than forecast.
CREATE TEMP TABLE original AS SELECT station_id, day, boardings, alightings FROM seongsu.ridership_daily
  WHERE day > '2025-03-03' AND station_id = (SELECT id FROM seongsu.stations WHERE name = '모니터역');
UPDATE seongsu.ridership_daily d SET boardings = round(d.boardings * 1.6), alightings = round(d.alightings * 1.6)
FROM original o WHERE d.station_id = o.station_id AND d.day = o.day;
SELECT name, status FROM seongsu.drift('모니터역', '2호선') WHERE kind = 'residual' AND model_id = :m1 ORDER BY name;
SELECT round(mape_ratio::numeric, 1) > 1.5 AS accuracy_worse FROM seongsu.live_accuracy
WHERE station = '모니터역' AND model_id = :m1 AND grain = 'daily' AND window_days = 28 AND horizon_days IS NULL;
SELECT severity, kind, regexp_replace(subject, 'model [0-9]+', 'model N') AS subject, resolved_at IS NULL AS open
FROM seongsu.evaluate_alerts('2025-04-01 09:00+09') ORDER BY kind, subject;
-- raised once: evaluating again raises nothing, and each was queued once for the webhook
SELECT count(*) AS raised_again FROM seongsu.evaluate_alerts('2025-04-01 09:00+09');
SELECT count(*) AS open, (SELECT count(*) FROM seongsu.alert_outbox) AS queued,
       (SELECT count(*) FROM seongsu.alert_outbox o JOIN seongsu.alerts a ON a.id = o.alert_id
         WHERE o.payload->'alert'->>'subject' = a.subject AND o.payload->>'text' LIKE '[WARNING] daily_seongsu %') AS payloads_ok
FROM seongsu.alerts WHERE resolved_at IS NULL;
-- the accuracy alert says why
SELECT detail ~ '^Live MAPE [0-9.]+% over 28 days to 2025-03-31 \([0-9]+ forecasts\) is [0-9.]+ times the backtest MAPE [0-9.]+% \(alert above 1.5\)\.$' AS detail_ok
FROM seongsu.alerts WHERE kind = 'accuracy' AND subject LIKE '% daily 1 days champion %';
-- the shift cleared: both resolve
UPDATE seongsu.ridership_daily d SET boardings = o.boardings, alightings = o.alightings
FROM original o WHERE d.station_id = o.station_id AND d.day = o.day;
SELECT severity, kind, regexp_replace(subject, 'model [0-9]+', 'model N') AS subject, resolved_at IS NOT NULL AS resolved
FROM seongsu.evaluate_alerts('2025-04-01 09:00+09') ORDER BY kind, subject;
SELECT count(*) AS open FROM seongsu.alerts WHERE resolved_at IS NULL;

-- A stale source, a failed job and a quality error raise, and resolve.
SELECT kind, subject, detail FROM seongsu.evaluate_alerts('2025-04-10 09:00+09') ORDER BY kind, subject;
SELECT seongsu.import_text('ridership_daily', E'date,line,station,boardings,alightings\n2025-04-09,2호선,모니터역,39000,39900') AS new_day;
SELECT seongsu.publish_forecast('모니터역', '2호선', '2025-04-09') > 0 AS published;
INSERT INTO seongsu.jobs (source, from_date, to_date, state, last_error, finished_at)
VALUES ('kasi_holidays', '2025-04-01', '2025-04-30', 'failed', 'HTTP 500 from apis.data.go.kr', '2025-04-10 08:00+09');
UPDATE seongsu.ridership_daily SET boardings = 2000000 WHERE day = '2025-04-09';
SELECT kind, regexp_replace(subject, 'model [0-9]+', 'model N') AS subject, resolved_at IS NULL AS open
FROM seongsu.evaluate_alerts('2025-04-10 09:00+09') ORDER BY kind, subject;
UPDATE seongsu.ridership_daily SET boardings = 39000 WHERE day = '2025-04-09';
INSERT INTO seongsu.jobs (source, from_date, to_date, state, finished_at)
VALUES ('kasi_holidays', '2025-04-01', '2025-04-30', 'done', '2025-04-10 08:30+09');
SELECT kind, regexp_replace(subject, 'model [0-9]+', 'model N') AS subject, resolved_at IS NULL AS open
FROM seongsu.evaluate_alerts('2025-04-10 09:00+09') ORDER BY kind, subject;
-- a cancelled job is no failure
INSERT INTO seongsu.jobs (source, from_date, to_date, state, last_error, finished_at)
VALUES ('kasi_holidays', '2025-05-01', '2025-05-31', 'failed', 'cancelled by postgres', '2025-04-10 08:40+09');
SELECT count(*) FILTER (WHERE kind = 'failed_job') AS failed_job_alerts FROM seongsu.evaluate_alerts('2025-04-10 09:00+09');
SELECT count(*) AS episodes, count(*) FILTER (WHERE resolved_at IS NULL) AS open,
       count(DISTINCT (kind, subject)) AS conditions FROM seongsu.alerts;
SELECT seongsu.evaluate_alerts('-infinity');

-- Results do not depend on the session TimeZone.
CREATE TEMP TABLE tz_results AS
SELECT current_setting('TimeZone') AS tz,
       (SELECT string_agg(format('%s %s %s', source, latest_day, days_behind), ',' ORDER BY source) FROM seongsu.source_freshness('2025-04-10')) AS freshness,
       (SELECT string_agg(format('%s %s %s', name, round(value::numeric, 9), status), ',' ORDER BY model_id, name) FROM seongsu.drift('모니터역', '2호선')) AS drift,
       (SELECT md5(string_agg(format('%s %s %s %s', model_id, window_days, horizon_days, mape), ',' ORDER BY model_id, grain, window_days, horizon_days))
          FROM seongsu.live_accuracy) AS accuracy,
       md5(regexp_replace(seongsu.dashboard('모니터역', '2호선', '2025-04-10'), 'generated [^<]*', '')) AS page;
SET TimeZone = 'Asia/Kathmandu';
INSERT INTO tz_results
SELECT current_setting('TimeZone'),
       (SELECT string_agg(format('%s %s %s', source, latest_day, days_behind), ',' ORDER BY source) FROM seongsu.source_freshness('2025-04-10')),
       (SELECT string_agg(format('%s %s %s', name, round(value::numeric, 9), status), ',' ORDER BY model_id, name) FROM seongsu.drift('모니터역', '2호선')),
       (SELECT md5(string_agg(format('%s %s %s %s', model_id, window_days, horizon_days, mape), ',' ORDER BY model_id, grain, window_days, horizon_days))
          FROM seongsu.live_accuracy),
       md5(regexp_replace(seongsu.dashboard('모니터역', '2호선', '2025-04-10'), 'generated [^<]*', ''));
RESET TimeZone;
SELECT count(DISTINCT tz) AS zones, count(DISTINCT (freshness, drift, accuracy, page)) AS distinct_results FROM tz_results;
-- and the alerts' texts (dates, times) depend on neither TimeZone nor DateStyle:
-- every condition raised afresh, in two settings
BEGIN;
DELETE FROM seongsu.alerts;
UPDATE seongsu.ridership_daily SET boardings = 2000000 WHERE day = '2025-04-09';
SELECT string_agg(format('%s|%s|%s', a.kind, a.subject, a.detail), E'\n' ORDER BY a.kind, a.subject) AS texts_default
  FROM seongsu.evaluate_alerts('2025-04-11 00:30+09') a \gset
ROLLBACK;
BEGIN;
SET LOCAL TimeZone = 'America/Anchorage';
SET LOCAL DateStyle = 'SQL, DMY';
DELETE FROM seongsu.alerts;
UPDATE seongsu.ridership_daily SET boardings = 2000000 WHERE day = '2025-04-09';
SELECT string_agg(format('%s|%s|%s', a.kind, a.subject, a.detail), E'\n' ORDER BY a.kind, a.subject) AS texts_other
  FROM seongsu.evaluate_alerts('2025-04-11 00:30+09') a \gset
ROLLBACK;
SELECT :'texts_default' = :'texts_other' AS same_texts,
       :'texts_default' ~ 'quality\|모니터역 2호선: impossible_values\|.*2025-04-09 2,039,900' AS quality_text_ok,
       :'texts_default' ~ 'stale_source\|openmeteo_daily\|Latest day 2025-03-31 is 11 days before 2025-04-11' AS stale_text_ok;

-- 4. A challenger: the model of the project aliased 'challenger' in the
-- registry (seongsu.set_alias) is published and scored beside the
-- champion; a model merely trained later is not, nor once the alias is
-- removed.
SELECT model_id AS challenger FROM seongsu.train('모니터역', '2호선', 'seasonal_naive', horizon => '1 day',
  train_to => '2025-01-31', force => true) \gset
BEGIN;
DELETE FROM seongsu.prediction_log WHERE as_of = '2025-03-20';
SELECT seongsu.publish_forecast('모니터역', '2호선', '2025-03-20') > 0 AS published;
SELECT count(*) FILTER (WHERE role = 'champion') > 0 AS champion_rows,
       count(*) FILTER (WHERE role = 'challenger') AS challenger_rows_before_the_alias
FROM seongsu.prediction_log WHERE as_of = '2025-03-20';
ROLLBACK;
SELECT seongsu.set_alias('모니터역 2호선 daily 1 days', 'challenger', :challenger, 'shadow test');
SELECT seongsu.model_for_alias('모니터역 2호선 daily 1 days', 'challenger') = :challenger AS is_challenger,
       (SELECT model_id FROM seongsu.deployed_models WHERE project = '모니터역 2호선 daily 1 days') = :m1 AS champion_kept,
       (SELECT array_agg(role ORDER BY role) FROM seongsu.monitored_models((SELECT id FROM seongsu.stations WHERE name = '모니터역'))
         WHERE model_id = :challenger) AS monitored_as;
BEGIN;
DELETE FROM seongsu.prediction_log WHERE as_of = '2025-03-20';
SELECT seongsu.publish_forecast('모니터역', '2호선', '2025-03-20') AS rows_with_challenger;
SELECT role, grain, horizon_days, model_id = :challenger AS challenger_model, count(*)
FROM seongsu.prediction_log WHERE as_of = '2025-03-20' AND horizon_days <= 2
GROUP BY role, grain, horizon_days, model_id ORDER BY role, grain, horizon_days;
-- the challenger's day-ahead forecasts are its evaluate() values (same days, no look-ahead at horizon 1)
SELECT p.predicted = e.predicted AS same_as_evaluate
FROM seongsu.prediction_log p JOIN seongsu.evaluate(:challenger, '2025-03-21', '2025-03-21') e ON e.day = p.target_day
WHERE p.as_of = '2025-03-20' AND p.role = 'challenger' AND p.grain = 'daily' AND p.horizon_days = 1;
ROLLBACK;
BEGIN;
SELECT seongsu.set_alias('모니터역 2호선 daily 1 days', 'challenger', NULL, 'shadow test over');
DELETE FROM seongsu.prediction_log WHERE as_of = '2025-03-20';
SELECT seongsu.publish_forecast('모니터역', '2호선', '2025-03-20') > 0 AS published;
SELECT count(*) FILTER (WHERE role = 'champion') > 0 AS champion_rows,
       count(*) FILTER (WHERE role = 'challenger') AS challenger_rows_without_the_alias
FROM seongsu.prediction_log WHERE as_of = '2025-03-20';
ROLLBACK;

-- 5. metrics(): a family per metric, with its samples (the exposition
-- format itself is parsed by test/t/071_metrics_format.pl).
SELECT (regexp_match(m, '\nseongsu_model_live_mape\{project="모니터역 2호선 daily 1 days",role="champion",window="28d"\} ([^\n]+)\n'))[1]::float8
       = (SELECT mape FROM seongsu.live_accuracy WHERE model_id = :m1 AND role = 'champion' AND grain = 'daily'
            AND window_days = 28 AND horizon_days IS NULL) AS live_mape_exported,
       (regexp_match(m, '\nseongsu_alerts_open\{severity="warning"\} ([^\n]+)\n'))[1]::int
       = (SELECT count(*) FROM seongsu.alerts WHERE resolved_at IS NULL AND severity = 'warning') AS open_alerts_exported,
       (SELECT count(*) FROM regexp_matches(m, '# TYPE ', 'g')) AS families,
       m ~ '\nseongsu_drift_psi_max\{project="모니터역 2호선 daily 7 days"\} [0-9.e+-]+\n' AS drift_exported
FROM seongsu.metrics() m;
SELECT seongsu.prometheus_labels('station', E'a"b\\c\nd', 'x', NULL) AS escaped,
       seongsu.prometheus_value('Infinity') AS inf, seongsu.prometheus_value('-Infinity') AS ninf,
       seongsu.prometheus_value('NaN') AS nan, seongsu.prometheus_value(NULL) AS null_value;

-- 6. The dashboard: every panel, SVG charts, no script, nothing fetched,
-- every text escaped (a station named with markup).
SELECT max(run_id) AS last_call FROM seongsu.runs WHERE parent_run_id IS NULL AND station = '모니터역' \gset
SELECT seongsu.set_note(:last_call, '<i>shadow</i> & "test"');
SELECT seongsu.dashboard('모니터역', '2호선', '2025-04-10') AS page \gset
SELECT (SELECT array_agg(x[1] ORDER BY x[1]) FROM regexp_matches(:'page', '<section id="([a-z]+)"', 'g') x) AS sections,
       (SELECT count(*) FROM regexp_matches(:'page', '<svg ', 'g')) AS charts,
       (SELECT count(*) FROM regexp_matches(:'page', '<table>', 'g')) AS tables,
       :'page' ~* '<script|https?://|src=|@import|url\(' AS fetches_or_scripts,
       (SELECT array_agg(l ORDER BY l) FROM unnest(ARRAY['여유', '보통', '혼잡', '매우혼잡']) l WHERE position(l IN :'page') > 0) AS levels;
-- source freshness: a source ahead of today (holidays known in advance)
-- reads "N ahead", not a negative number of days behind
SELECT f.source, f.days_behind,
       position(format('<tr><td>%s</td><td>%s</td><td class="n">%s ahead</td>', f.source, f.latest_day, -f.days_behind)
                IN :'page') > 0 AS shown_ahead
  FROM seongsu.source_freshness('2025-04-10') f WHERE f.days_behind < 0;
SELECT position('<td class="n">-' IN substring(:'page' from '<section id="freshness">.*?</section>')) = 0 AS no_negative_days;
-- the model comparison is the latest train() runs of the station's
-- projects (seongsu.runs: algorithm, parameters, backtest RMSE and MAPE,
-- status, role) and the candidates of the latest finished one
SELECT substring(:'page' from '<section id="models">.*?</section>') AS models \gset
SELECT (SELECT array_agg(x[1]::bigint ORDER BY x[1]::bigint DESC)
          FROM regexp_matches(:'models', '<tr><td>([0-9]+)</td><td>[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}</td>', 'g') x)
       = (SELECT array_agg(run_id ORDER BY run_id DESC) FROM seongsu.runs
           WHERE parent_run_id IS NULL AND station = '모니터역') AS the_stations_runs,
       (SELECT bool_and(position(format('<td>%s</td><td>%s</td><td>%s', r.run_id,
                                        to_char(r.started_at AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD HH24:MI'),
                                        seongsu.html_escape(r.project)) IN :'models') > 0
                        AND position(format('<td class="n">%s</td><td class="n">%s</td><td><span class="b ok">%s</span>',
                                            seongsu.html_count((r.metrics->'mean'->>'rmse')::float8),
                                            to_char((r.metrics->'mean'->>'mape')::float8, 'FM990.00') || '%', r.status) IN :'models') > 0
                        AND position(seongsu.html_escape(seongsu.params_summary(r.params)) IN :'models') > 0)
          FROM seongsu.runs r WHERE r.parent_run_id IS NULL AND r.station = '모니터역') AS each_runs_values,
       position(format('Candidates of run %s', :last_call) IN :'models') > 0 AS candidates_of_the_last_run,
       (SELECT count(*) FROM regexp_matches(:'models', '<span class="b ok">champion</span>', 'g')) AS champions,
       (SELECT count(*) FROM regexp_matches(:'models', '<span class="b info">challenger</span>', 'g')) AS challengers,
       position('&lt;i&gt;shadow&lt;/i&gt; &amp; &quot;test&quot;' IN :'models') > 0 AS note_escaped,
       position('<i>' IN :'models') = 0 AS no_raw_markup;
SELECT seongsu.params_summary('{"alpha": 1, "target": "ratio", "folds": 3}') AS summary,
       length(seongsu.params_summary((SELECT jsonb_object_agg('k' || i, repeat('x', 20)) FROM generate_series(1, 20) i))) AS capped;
SELECT seongsu.import_text('ridership_daily', E'date,line,station,boardings,alightings\n2025-03-01,2호선,"<b>역</b>&''x""",1000,1000') AS markup_station;
SELECT seongsu.dashboard('<b>역</b>&''x"', '2호선', '2025-04-10') AS page \gset
SELECT position('<b>' IN :'page') = 0 AS no_raw_markup,
       position('&lt;b&gt;역&lt;/b&gt;&amp;&#39;x&quot; 2호선' IN :'page') > 0 AS escaped_title,
       :'page' ~ 'No forecast has been published' AS says_no_forecast;
SELECT seongsu.html_escape(E'<a href="x">&\'</a>') AS escaped;
SELECT seongsu.dashboard('없는역', '2호선');

-- 7. Privileges: readers read and look; operators publish and evaluate,
-- and write the tables only through those functions.
CREATE ROLE seongsu_test_mon_reader IN ROLE seongsu_reader;
CREATE ROLE seongsu_test_mon_operator IN ROLE seongsu_operator;
SET ROLE seongsu_test_mon_reader;
SELECT count(*) > 0 AS reads_log, (SELECT count(*) > 0 FROM seongsu.alerts) AS reads_alerts,
       (SELECT count(*) > 0 FROM seongsu.live_accuracy) AS reads_accuracy,
       length(seongsu.metrics()) > 0 AS metrics, length(seongsu.dashboard('모니터역', '2호선', '2025-04-10')) > 0 AS dashboard
FROM seongsu.prediction_log;
SELECT seongsu.publish_forecast('모니터역', '2호선', '2025-04-09');
SELECT seongsu.evaluate_alerts();
RESET ROLE;
SET ROLE seongsu_test_mon_operator;
SELECT seongsu.publish_forecast('모니터역', '2호선', '2025-04-08') > 0 AS operator_publishes,
       (SELECT count(*) FROM seongsu.evaluate_alerts('2025-04-10 09:00+09')) >= 0 AS operator_evaluates;
INSERT INTO seongsu.alerts (severity, kind, subject, detail) VALUES ('warning', 'drift', 'x', 'y');
DELETE FROM seongsu.prediction_log;
UPDATE seongsu.alert_outbox SET state = 'sent';
RESET ROLE;
DROP ROLE seongsu_test_mon_reader;
DROP ROLE seongsu_test_mon_operator;
