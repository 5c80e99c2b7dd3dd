-- Monitoring (src/ops, docs/monitoring.md): forecasts as issued and their
-- live accuracy, drift, health metrics for Prometheus, alerts (NOTIFY and a
-- webhook the worker posts), and a dashboard page.
--
-- Days are KST service days; nothing here depends on the session TimeZone.
-- Windows of live accuracy and drift end at the latest observed day, not at
-- the clock; the functions that need "today" take it as an argument.

-- 1. Forecasts as issued ----------------------------------------------------

CREATE TABLE prediction_log (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  issued_at     timestamptz NOT NULL DEFAULT now(),
  as_of         date NOT NULL,
  station_id    integer NOT NULL,
  role          text NOT NULL CHECK (role IN ('champion', 'challenger')),
  model_id      bigint NOT NULL,
  grain         text NOT NULL CHECK (grain IN ('daily', 'hourly')),
  target_day    date NOT NULL,
  target_hour   timestamptz,
  horizon_days  integer NOT NULL CHECK (horizon_days >= 1),
  predicted     double precision,
  lower         double precision,
  upper         double precision,
  level         text CHECK (level IN ('여유', '보통', '혼잡', '매우혼잡')),
  CHECK ((grain = 'hourly') = (target_hour IS NOT NULL)),
  CHECK (target_day = as_of + horizon_days)
);
-- one row per station, role, as_of and target: publishing again changes nothing
CREATE UNIQUE INDEX prediction_log_key
  ON prediction_log (station_id, as_of, role, grain, target_day, (coalesce(target_hour, '-infinity')));
CREATE INDEX prediction_log_target ON prediction_log (station_id, grain, target_day);
COMMENT ON TABLE prediction_log IS 'Forecasts as they were issued by seongsu.publish_forecast, one row per station, role, as_of and target day (daily) or hour (hourly).  Written only by publish_forecast.';
COMMENT ON COLUMN prediction_log.id IS 'Row id.';
COMMENT ON COLUMN prediction_log.issued_at IS 'When the forecast was written (later than as_of for a back-dated publication).';
COMMENT ON COLUMN prediction_log.as_of IS 'The forecast uses observations up to this KST day only.';
COMMENT ON COLUMN prediction_log.station_id IS 'The station (stations.id).';
COMMENT ON COLUMN prediction_log.role IS 'champion (a deployed model) or challenger (seongsu.challenger_model of its project).';
COMMENT ON COLUMN prediction_log.model_id IS 'The model that made the forecast (models.id; kept when the model is deleted).';
COMMENT ON COLUMN prediction_log.grain IS 'daily (the service day''s passengers) or hourly (one hour: the day times the hour''s share).';
COMMENT ON COLUMN prediction_log.target_day IS 'The service day forecast (the day an hourly row belongs to: hours 00-03 belong to the day before).';
COMMENT ON COLUMN prediction_log.target_hour IS 'Start of the hour forecast (hourly rows only).';
COMMENT ON COLUMN prediction_log.horizon_days IS 'target_day - as_of: how many days ahead the forecast was issued.';
COMMENT ON COLUMN prediction_log.predicted IS 'Expected passengers (boardings + alightings); NULL when the model could not answer.';
COMMENT ON COLUMN prediction_log.lower IS 'Lower end of the 90% interval (the model''s 5th percentile of backtest relative residuals).';
COMMENT ON COLUMN prediction_log.upper IS 'Upper end of the 90% interval (the 95th percentile).';
COMMENT ON COLUMN prediction_log.level IS 'Crowd level of an hourly row (여유, 보통, 혼잡, 매우혼잡) by the model''s thresholds.';

-- The challenger of a project: scored in the shadow beside its live model.
-- Until a model registry names one, it is the best (by mean backtest RMSE)
-- of the project's daily models trained after its live model went live (a
-- later transaction's): the candidates that lost the comparison with the
-- live model, or were trained by hand.  NULL when there is none.  This is
-- the only place that defines it: publish_forecast, live_accuracy, drift,
-- the alerts and the dashboard all ask here.
CREATE FUNCTION challenger_model(project text) RETURNS bigint
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT m.id
    FROM @extschema@.deployed_models d
    JOIN @extschema@.models m ON m.project = d.project AND m.station_id = d.station_id
   WHERE d.project = challenger_model.project
     AND m.grain = 'daily' AND m.id <> d.model_id AND m.created_at > d.deployed_at
   ORDER BY (m.metrics->'mean'->>'rmse')::float8 NULLS LAST, m.id DESC
   LIMIT 1
$$;
COMMENT ON FUNCTION challenger_model(text) IS
  'The challenger of a project: the best (by mean backtest RMSE) of its daily models trained after its live model went live, or NULL.';

CREATE FUNCTION publish_forecast(station text DEFAULT '성수', line text DEFAULT '2호선',
                                 as_of date DEFAULT NULL, days integer DEFAULT 7)
  RETURNS bigint AS 'MODULE_PATHNAME', 'publish_forecast'
  LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION publish_forecast(text, text, date, integer) IS
  'Write the daily and hourly forecasts the champion (deployed models) and the challenger issue as of as_of (default: today in KST) for the days as_of + 1 .. as_of + days into seongsu.prediction_log, using only observations up to as_of; returns the rows written (0 when published before).';

-- 2. Live accuracy ----------------------------------------------------------

-- Each window ends at the latest target day of the station and grain that
-- has a forecast and is not after the station's last observed day (daily
-- rows) or service day with hourly rows (so it is fixed by the data, not by
-- the clock), and covers that many days back.
-- (The CTE and the OFFSET 0 keep this plan whatever the statistics say:
-- the windows found through indexes, then only their rows read.)
CREATE VIEW live_accuracy AS
  WITH ends AS MATERIALIZED (
    SELECT s.id AS station_id, g.grain, e.last_day
      FROM stations s
     CROSS JOIN (VALUES ('daily'), ('hourly')) g(grain)
     CROSS JOIN LATERAL (
       SELECT CASE WHEN g.grain = 'daily'
                   THEN (SELECT max(r.day) FROM ridership_daily r WHERE r.station_id = s.id)
                   ELSE (SELECT (max(h.ts) AT TIME ZONE 'Asia/Seoul' - interval '4 hours')::date
                           FROM ridership_hourly h WHERE h.station_id = s.id) END AS observed) o
     CROSS JOIN LATERAL (
       SELECT p.target_day AS last_day
         FROM prediction_log p
        WHERE p.station_id = s.id AND p.grain = g.grain AND p.target_day <= o.observed
        ORDER BY p.target_day DESC
        LIMIT 1) e
     WHERE (SELECT true FROM prediction_log p WHERE p.station_id = s.id LIMIT 1)
  ), scored AS (
    SELECT p.station_id, p.role, p.model_id, p.grain, p.horizon_days, p.target_day, e.last_day,
           p.predicted, p.lower, p.upper, a.actual
      FROM ends e
     CROSS JOIN LATERAL (
       SELECT * FROM prediction_log p
        WHERE p.station_id = e.station_id AND p.grain = e.grain
          AND p.target_day > e.last_day - 91 AND p.target_day <= e.last_day
       OFFSET 0) p
     CROSS JOIN LATERAL (
       SELECT CASE WHEN p.grain = 'daily'
                   THEN (SELECT r.passengers FROM ridership_daily r WHERE r.station_id = p.station_id AND r.day = p.target_day)
                   ELSE (SELECT h.passengers FROM ridership_hourly h WHERE h.station_id = p.station_id AND h.ts = p.target_hour)
              END::double precision AS actual) a
     WHERE p.predicted IS NOT NULL AND a.actual IS NOT NULL
  ), agg AS (
    SELECT s.station_id, s.role, s.model_id, s.grain, w.window_days, s.horizon_days,
           max(s.last_day) AS window_to, count(*) AS n,
           sqrt(avg((s.predicted - s.actual) ^ 2)) AS rmse,
           avg(abs(s.predicted - s.actual)) AS mae,
           100 * avg(abs(s.predicted - s.actual) / s.actual) FILTER (WHERE s.actual <> 0) AS mape,
           avg(s.predicted - s.actual) AS bias,
           avg((s.actual >= s.lower AND s.actual <= s.upper)::integer::double precision)
             FILTER (WHERE s.lower IS NOT NULL AND s.upper IS NOT NULL) AS coverage
      FROM scored s
     CROSS JOIN (VALUES (7), (28), (91)) w(window_days)
     WHERE s.target_day > s.last_day - w.window_days
     GROUP BY GROUPING SETS ((s.station_id, s.role, s.model_id, s.grain, w.window_days, s.horizon_days),
                             (s.station_id, s.role, s.model_id, s.grain, w.window_days))
  )
  SELECT a.station_id, st.name AS station, st.line, m.project, a.role, a.model_id, m.algorithm, a.grain,
         a.horizon_days, a.window_days, a.window_to - a.window_days + 1 AS window_from, a.window_to,
         a.n, a.rmse, a.mae, a.mape, a.bias, a.coverage,
         bt.rmse AS backtest_rmse, bt.mape AS backtest_mape,
         a.rmse / nullif(bt.rmse, 0) AS rmse_ratio, a.mape / nullif(bt.mape, 0) AS mape_ratio
    FROM agg a
    JOIN stations st ON st.id = a.station_id
    LEFT JOIN models m ON m.id = a.model_id
    LEFT JOIN LATERAL (
      SELECT (m.metrics->'mean'->>'rmse')::double precision AS rmse, (m.metrics->'mean'->>'mape')::double precision AS mape
       WHERE a.grain = 'daily') bt ON true;
COMMENT ON VIEW live_accuracy IS
  'Accuracy of the issued forecasts (seongsu.prediction_log) against the actuals, per station, role, model, grain and horizon in days (NULL: all horizons), over the last 7, 28 and 91 days that have both (window_to: the latest such day): n, RMSE, MAE, MAPE (%), bias (mean predicted - actual), 90% interval coverage, and the ratios to the model''s mean backtest RMSE and MAPE (daily grain).';

-- 3. Drift ------------------------------------------------------------------

CREATE FUNCTION feature_drift(station text, line text, window_days integer)
  RETURNS TABLE (model_id bigint, role text, kind text, feature text, psi double precision, bins integer,
                 n_reference integer, n_recent integer, status text)
  AS 'MODULE_PATHNAME', 'feature_drift' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION feature_drift(text, text, integer) IS
  'Internal (seongsu.drift): population stability index of each numeric model input of the champion''s and the challenger''s models between the training window (same time of year) and the last window_days observed days.';

-- Input drift (feature_drift: kind 'feature' for inputs free of the
-- station's level, 'level' for inputs in passengers) and residual drift
-- (kind 'residual') of the issued daily
-- forecasts: for each model, the latest forecast issued for each target day
-- of the recent window that has an actual; r = actual / predicted - 1,
-- standardized by the model's backtest (z = (r - q50) / sigma, sigma from
-- its 5th..95th percentile range).  residual_bias: the mean of r - q50;
-- 'alert' when |mean z| * sqrt(n) > 3, 'warn' > 2.  residual_cusum: the
-- larger of the two one-sided CUSUMs of z (k = 0.5) at the window's end;
-- 'alert' above 5, 'warn' above 3.  Fewer than 7 days: 'insufficient'.
CREATE FUNCTION drift(station text DEFAULT '성수', line text DEFAULT '2호선', "window" interval DEFAULT '28 days')
  RETURNS TABLE (model_id bigint, role text, kind text, name text, value double precision,
                 n_reference integer, n_recent integer, status text)
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  days integer;
  sid integer;
  last_day date;
  m record;
  r record;
  sigma double precision;
  n integer;
  sum_z double precision;
  sum_r double precision;
  s_hi double precision;
  s_lo double precision;
BEGIN
  IF "window" IS NULL OR extract(month FROM "window") <> 0 OR extract(year FROM "window") <> 0
     OR extract(epoch FROM "window") <> round(extract(epoch FROM "window") / 86400) * 86400 THEN
    RAISE EXCEPTION 'window must be a whole number of days'
      USING ERRCODE = 'invalid_parameter_value', HINT = 'For example ''28 days''.';
  END IF;
  days := (extract(epoch FROM "window") / 86400)::integer;
  RETURN QUERY
    SELECT f.model_id, f.role, f.kind, f.feature, f.psi, f.n_reference, f.n_recent, f.status
      FROM @extschema@.feature_drift(station, line, days) f;
  SELECT s.id INTO sid FROM @extschema@.stations s WHERE s.name = drift.station AND s.line = drift.line;
  SELECT max(d.day) INTO last_day FROM @extschema@.ridership_daily d WHERE d.station_id = sid;
  FOR m IN
    SELECT x.id, x.role, (mo.metrics->'relative_residual_quantiles'->>'q05')::double precision AS q05,
           (mo.metrics->'relative_residual_quantiles'->>'q50')::double precision AS q50,
           (mo.metrics->'relative_residual_quantiles'->>'q95')::double precision AS q95
      FROM (SELECT d.model_id AS id, 'champion'::text AS role, d.horizon, 1 AS k
              FROM @extschema@.deployed_models d WHERE d.station_id = sid AND d.grain = 'daily'
            UNION ALL
            SELECT @extschema@.challenger_model(d.project), 'challenger', d.horizon, 2
              FROM @extschema@.deployed_models d WHERE d.station_id = sid AND d.grain = 'daily') x
      JOIN @extschema@.models mo ON mo.id = x.id
     ORDER BY x.k, x.horizon, x.id
  LOOP
    sigma := (m.q95 - m.q05) / (2 * 1.6449);
    n := 0; sum_z := 0; sum_r := 0; s_hi := 0; s_lo := 0;
    FOR r IN
      SELECT DISTINCT ON (p.target_day) p.target_day, d.passengers / p.predicted - 1 AS rel
        FROM @extschema@.prediction_log p
        JOIN @extschema@.ridership_daily d ON d.station_id = p.station_id AND d.day = p.target_day
       WHERE p.station_id = sid AND p.grain = 'daily' AND p.role = m.role AND p.model_id = m.id
         AND p.target_day > last_day - days AND p.predicted > 0
       ORDER BY p.target_day, p.horizon_days
    LOOP
      n := n + 1;
      sum_r := sum_r + (r.rel - m.q50);
      IF sigma > 0 THEN
        sum_z := sum_z + (r.rel - m.q50) / sigma;
        s_hi := greatest(0, s_hi + (r.rel - m.q50) / sigma - 0.5);
        s_lo := greatest(0, s_lo - (r.rel - m.q50) / sigma - 0.5);
      END IF;
    END LOOP;
    model_id := m.id; role := m.role; kind := 'residual'; n_reference := NULL; n_recent := n;
    name := 'residual_bias';
    value := CASE WHEN n > 0 THEN sum_r / n END;
    status := CASE WHEN n < 7 OR NOT sigma > 0 THEN 'insufficient'
                   WHEN abs(sum_z / n) * sqrt(n) > 3 THEN 'alert'
                   WHEN abs(sum_z / n) * sqrt(n) > 2 THEN 'warn' ELSE 'ok' END;
    RETURN NEXT;
    name := 'residual_cusum';
    value := CASE WHEN n > 0 AND sigma > 0 THEN greatest(s_hi, s_lo) END;
    status := CASE WHEN n < 7 OR NOT sigma > 0 THEN 'insufficient'
                   WHEN greatest(s_hi, s_lo) > 5 THEN 'alert'
                   WHEN greatest(s_hi, s_lo) > 3 THEN 'warn' ELSE 'ok' END;
    RETURN NEXT;
  END LOOP;
END
$$;
COMMENT ON FUNCTION drift(text, text, interval) IS
  'Drift of a station''s champion and challenger models over the last window of observed days: per numeric input the population stability index against the training window (kind feature, or level for inputs in passengers, which follow the station''s growth), and the bias and CUSUM of the issued daily forecasts'' residuals (kind residual), each with a status (ok, warn, alert, insufficient).  See docs/monitoring.md.';

-- 4. Source freshness -------------------------------------------------------

-- Per source, the latest KST day it has delivered and how far behind
-- `today` that is, with source_status's publication delays; each latest day
-- is found through an index (per station, per weather source), so this
-- stays fast with every station of Seoul ingested.
CREATE FUNCTION source_freshness(today date)
  RETURNS TABLE (source text, latest_day date, expected_delay_days integer, days_behind integer, stale boolean)
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
  WITH RECURSIVE hourly_sources(src) AS (
    (SELECT w.source FROM @extschema@.weather_hourly w ORDER BY w.source LIMIT 1)
    UNION ALL
    SELECT (SELECT w.source FROM @extschema@.weather_hourly w WHERE w.source > h.src ORDER BY w.source LIMIT 1)
      FROM hourly_sources h WHERE h.src IS NOT NULL
  ), latest(source, latest_day, delay) AS (
    SELECT 'seoul_daily', (SELECT max((SELECT max(r.day) FROM @extschema@.ridership_daily r WHERE r.station_id = s.id))
                             FROM @extschema@.stations s), 4
    UNION ALL
    SELECT 'seoul_hour_profile', (SELECT (max((SELECT max(p.month) FROM @extschema@.hour_profile p WHERE p.station_id = s.id))
                                          + interval '1 month - 1 day')::date
                                    FROM @extschema@.stations s), 45
    UNION ALL
    SELECT 'kma_asos_hourly', (SELECT max((SELECT max(w.ts) FROM @extschema@.weather_hourly w WHERE w.source = h.src)
                                          AT TIME ZONE 'Asia/Seoul')::date
                                 FROM hourly_sources h WHERE h.src LIKE 'kma%'), 2
    UNION ALL
    SELECT 'kma_forecast', (SELECT (greatest(max(f.issued_at) FILTER (WHERE f.grain = 'hour'), max(f.issued_at) FILTER (WHERE f.grain = 'day'))
                                    AT TIME ZONE 'Asia/Seoul')::date
                              FROM @extschema@.weather_forecast f WHERE f.source = 'kma-vilage'), 1
    UNION ALL
    SELECT 'kasi_holidays', (SELECT max(h.day) FROM @extschema@.holidays h), -365
    UNION ALL
    SELECT 'openmeteo_daily', (SELECT max(w.day) FROM @extschema@.weather_daily w WHERE w.source = 'open-meteo'), 7
    UNION ALL
    SELECT 'openmeteo_forecast', (SELECT (max(f.issued_at) AT TIME ZONE 'Asia/Seoul')::date
                                    FROM @extschema@.weather_forecast f WHERE f.source = 'open-meteo'), 1
  )
  SELECT l.source, l.latest_day, l.delay, today - l.latest_day, l.latest_day IS NULL OR l.latest_day < today - l.delay
    FROM latest l
$$;
COMMENT ON FUNCTION source_freshness(date) IS
  'Per source: the latest KST day it has delivered, the publication delay to expect (as in seongsu.source_status), the days it is behind today, and whether it is stale (kasi_holidays: fewer than 365 days of future holidays known).';

-- 5. Alerts -----------------------------------------------------------------

CREATE TABLE alerts (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  raised_at    timestamptz NOT NULL DEFAULT now(),
  resolved_at  timestamptz,
  severity     text NOT NULL CHECK (severity IN ('critical', 'warning')),
  kind         text NOT NULL CHECK (kind IN ('stale_source', 'failed_job', 'quality', 'accuracy', 'drift', 'missing_forecast')),
  subject      text NOT NULL,
  detail       text NOT NULL,
  CHECK (resolved_at IS NULL OR resolved_at >= raised_at)
);
-- an alert is open once: no duplicates, whatever runs evaluate_alerts at once
CREATE UNIQUE INDEX alerts_open ON alerts (kind, subject) WHERE resolved_at IS NULL;
COMMENT ON TABLE alerts IS 'Alerts raised and resolved by seongsu.evaluate_alerts: one row per episode of a condition (kind, subject); open while resolved_at is NULL.  Written only by evaluate_alerts.';
COMMENT ON COLUMN alerts.id IS 'Alert id.';
COMMENT ON COLUMN alerts.raised_at IS 'When evaluate_alerts first found the condition.';
COMMENT ON COLUMN alerts.resolved_at IS 'When evaluate_alerts found it cleared (NULL: open).';
COMMENT ON COLUMN alerts.severity IS 'critical or warning.';
COMMENT ON COLUMN alerts.kind IS 'stale_source, failed_job, quality, accuracy, drift or missing_forecast (docs/monitoring.md lists the rules).';
COMMENT ON COLUMN alerts.subject IS 'What it is about: a source, a station and check, a project, role and model.';
COMMENT ON COLUMN alerts.detail IS 'The condition as found when raised.';

CREATE TABLE alert_outbox (
  alert_id         bigint PRIMARY KEY REFERENCES alerts(id) ON DELETE CASCADE,
  payload          jsonb NOT NULL,
  state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed', 'skipped')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  created_at       timestamptz NOT NULL DEFAULT now(),
  finished_at      timestamptz,
  http_status      integer,
  last_error       text
);
CREATE INDEX alert_outbox_due ON alert_outbox (next_attempt_at) WHERE state = 'pending';
COMMENT ON TABLE alert_outbox IS 'New alerts waiting for (or done with) the webhook: evaluate_alerts adds one row per new alert, the ingestion worker POSTs it to seongsu.alert_webhook_url (src/ingest/webhook.c).  Rows older than seongsu.log_ttl_days are purged.';
COMMENT ON COLUMN alert_outbox.alert_id IS 'The alert (alerts.id).';
COMMENT ON COLUMN alert_outbox.payload IS 'The JSON body posted: text (Slack), content (Discord) and the alert''s fields.';
COMMENT ON COLUMN alert_outbox.state IS 'pending, sent, failed (permanently, or after seongsu.max_attempts tries) or skipped (no webhook was set when the worker took it).';
COMMENT ON COLUMN alert_outbox.attempts IS 'POSTs tried.';
COMMENT ON COLUMN alert_outbox.next_attempt_at IS 'When the worker tries (again): the delay doubles from seongsu.retry_base_ms after each transient failure, at most 1 hour.';
COMMENT ON COLUMN alert_outbox.created_at IS 'When the alert was queued.';
COMMENT ON COLUMN alert_outbox.finished_at IS 'When it was sent, failed for good or skipped.';
COMMENT ON COLUMN alert_outbox.http_status IS 'HTTP status of the last try (NULL: no response).';
COMMENT ON COLUMN alert_outbox.last_error IS 'Why the last try failed (the webhook URL never appears).';

CREATE FUNCTION alert_outbox_wake() RETURNS trigger
  AS 'MODULE_PATHNAME', 'alert_outbox_wake' LANGUAGE C;
COMMENT ON FUNCTION alert_outbox_wake() IS 'Statement trigger: wake the worker when the transaction that queued alerts commits.';
CREATE TRIGGER alert_outbox_wake AFTER INSERT ON alert_outbox
  FOR EACH STATEMENT EXECUTE FUNCTION alert_outbox_wake();

-- The webhook body of an alert: "text" for Slack (with &, < and > escaped,
-- as Slack asks), "content" for Discord (at most 2,000 characters), and
-- "alert" with every field for anything else.  Times are KST.
CREATE FUNCTION alert_payload(a alerts) RETURNS jsonb
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT jsonb_build_object(
           'text', replace(replace(replace(m.msg, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'),
           'content', left(m.msg, 2000),
           'alert', jsonb_build_object(
             'id', a.id, 'severity', a.severity, 'kind', a.kind, 'subject', a.subject, 'detail', a.detail,
             'raised_at', to_char(a.raised_at AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD"T"HH24:MI:SS"+09:00"'),
             'resolved_at', to_char(a.resolved_at AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD"T"HH24:MI:SS"+09:00"')))
    FROM (SELECT format('[%s] daily_seongsu %s: %s. %s', upper(a.severity), a.kind, a.subject, a.detail) AS msg) m
$$;
COMMENT ON FUNCTION alert_payload(alerts) IS
  'The JSON an alert is posted as: text (Slack), content (Discord) and alert (every field; times in KST).';

-- The current models of each role of a station: the deployed daily models
-- (champion) and their projects' challengers.
CREATE FUNCTION monitored_models(station_id integer)
  RETURNS TABLE (model_id bigint, role text, project text, horizon interval)
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT x.model_id, x.role, x.project, x.horizon
    FROM (SELECT d.model_id, 'champion'::text AS role, d.project, d.horizon, 1 AS k
            FROM @extschema@.deployed_models d WHERE d.station_id = monitored_models.station_id AND d.grain = 'daily'
          UNION ALL
          SELECT @extschema@.challenger_model(d.project), 'challenger', d.project, d.horizon, 2
            FROM @extschema@.deployed_models d WHERE d.station_id = monitored_models.station_id AND d.grain = 'daily') x
   WHERE x.model_id IS NOT NULL
   ORDER BY x.k, x.horizon, x.model_id
$$;
COMMENT ON FUNCTION monitored_models(integer) IS
  'The models monitored for a station: its deployed daily models (role champion) and the challenger of each of their projects (role challenger).';

-- Evaluate every rule (docs/monitoring.md) as of `at`; raise each condition
-- found that has no open alert, resolve each open alert whose condition is
-- gone, and return the alerts raised and resolved.  A new alert is sent
-- with NOTIFY seongsu_alerts (its JSON) and queued for the webhook.  One
-- evaluation at a time (an advisory lock); the unique index on open alerts
-- keeps duplicates out in any case.
CREATE FUNCTION evaluate_alerts("at" timestamptz DEFAULT now())
  RETURNS SETOF alerts
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  SET jit = off
AS $$
DECLARE
  today date := ("at" AT TIME ZONE 'Asia/Seoul')::date;
  -- live MAPE above this multiple of the model's mean backtest MAPE raises an accuracy alert
  accuracy_multiple CONSTANT double precision := 1.5;
  firing @extschema@.alerts[];
  a @extschema@.alerts;
BEGIN
  IF "at" IS NULL OR NOT isfinite("at") THEN
    RAISE EXCEPTION 'at must be a finite time' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('seongsu.evaluate_alerts'));
  WITH monitored AS (
    SELECT st.id AS station_id, st.name, st.line, m.model_id, m.role, m.project
      FROM @extschema@.stations st
     CROSS JOIN LATERAL @extschema@.monitored_models(st.id) m
     WHERE st.id IN (SELECT d.station_id FROM @extschema@.deployed_models d WHERE d.grain = 'daily')
  ), stations_monitored AS (
    SELECT DISTINCT m.station_id, m.name, m.line FROM monitored m
  ), found(severity, kind, subject, detail) AS (
    -- a source that has delivered before and is now behind its publication delay
    SELECT 'warning', 'stale_source', f.source,
           CASE WHEN f.expected_delay_days < 0
                THEN format('Holidays are known through %s: fewer than %s days ahead of %s.',
                            f.latest_day, -f.expected_delay_days, today)
                ELSE format('Latest day %s is %s days before %s; at most %s expected.',
                            f.latest_day, f.days_behind, today, f.expected_delay_days) END
      FROM @extschema@.source_freshness(today) f
     WHERE f.latest_day IS NOT NULL AND f.stale
    UNION ALL
    -- the latest run of a source's jobs failed (not cancelled)
    SELECT 'warning', 'failed_job', j.source,
           format('Job %s (%s..%s) failed at %s KST: %s', j.id, j.from_date, j.to_date,
                  to_char(j.finished_at AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD HH24:MI'), left(j.last_error, 500))
      FROM (SELECT DISTINCT ON (jj.source) jj.*
              FROM @extschema@.jobs jj
             WHERE jj.state IN ('done', 'failed') AND jj.finished_at <= "at"
             ORDER BY jj.source, jj.finished_at DESC, jj.id DESC) j
     WHERE j.state = 'failed' AND j.last_error NOT LIKE 'cancelled by %'
    UNION ALL
    -- an error-severity data-quality check fails over the last 35 days
    SELECT 'critical', 'quality', format('%s %s: %s', s.name, s.line, q.check_name),
           format('%s (observed %s, expected %s)', q.detail, coalesce(q.observed::text, 'nothing'), q.expected)
      FROM stations_monitored s
     CROSS JOIN LATERAL @extschema@.check_quality(s.name, s.line, today - 34, today, today) q
     WHERE q.severity = 'error' AND q.status = 'fail'
    UNION ALL
    -- live accuracy (28 days, daily, every horizon) worse than the multiple of the backtest
    SELECT 'warning', 'accuracy', format('%s %s model %s', l.project, l.role, l.model_id),
           format('Live MAPE %s%% over %s days to %s (%s forecasts) is %s times the backtest MAPE %s%% (alert above %s).',
                  round(l.mape::numeric, 1), l.window_days, l.window_to, l.n, round(l.mape_ratio::numeric, 2),
                  round(l.backtest_mape::numeric, 1), accuracy_multiple)
      FROM @extschema@.live_accuracy l
      JOIN monitored m ON m.station_id = l.station_id AND m.model_id = l.model_id AND m.role = l.role
     WHERE l.grain = 'daily' AND l.window_days = 28 AND l.horizon_days IS NULL AND l.n >= 7
       AND l.mape_ratio > accuracy_multiple
    UNION ALL
    -- drift: a level-free input or the issued forecasts' residuals at 'alert'
    SELECT 'warning', 'drift', format('%s %s model %s', m.project, m.role, m.model_id),
           string_agg(format('%s %s = %s', d.kind, d.name, round(d.value::numeric, 3)), '; ' ORDER BY d.kind DESC, d.value DESC)
      FROM stations_monitored s
     CROSS JOIN LATERAL @extschema@.drift(s.name, s.line, '28 days') d
      JOIN monitored m ON m.station_id = s.station_id AND m.model_id = d.model_id AND m.role = d.role
     WHERE d.status = 'alert' AND d.kind IN ('feature', 'residual')
     GROUP BY m.project, m.role, m.model_id
    UNION ALL
    -- a station that has been published for has no forecast as of yesterday or today
    SELECT 'warning', 'missing_forecast', format('%s %s', s.name, s.line),
           format('The latest forecast was published as of %s; none as of %s or later.', p.as_of, today - 1)
      FROM stations_monitored s
     CROSS JOIN LATERAL (SELECT max(pl.as_of) AS as_of FROM @extschema@.prediction_log pl
                          WHERE pl.station_id = s.station_id AND pl.role = 'champion') p
     WHERE p.as_of < today - 1
  )
  SELECT coalesce(array_agg(ROW(NULL, NULL, NULL, f.severity, f.kind, f.subject, f.detail)::@extschema@.alerts), '{}')
    INTO firing FROM found f;

  -- resolve what is no longer found
  FOR a IN
    UPDATE @extschema@.alerts al SET resolved_at = greatest(now(), al.raised_at)
     WHERE al.resolved_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM unnest(firing) f WHERE f.kind = al.kind AND f.subject = al.subject)
    RETURNING al.*
  LOOP
    RETURN NEXT a;
  END LOOP;
  -- raise what is new: NOTIFY and the webhook's outbox
  FOR a IN
    INSERT INTO @extschema@.alerts AS al (severity, kind, subject, detail)
    SELECT f.severity, f.kind, f.subject, f.detail FROM unnest(firing) f
     WHERE NOT EXISTS (SELECT 1 FROM @extschema@.alerts o WHERE o.resolved_at IS NULL AND o.kind = f.kind AND o.subject = f.subject)
     ORDER BY f.kind, f.subject
    ON CONFLICT DO NOTHING
    RETURNING al.*
  LOOP
    PERFORM pg_notify('seongsu_alerts', left(json_build_object('id', a.id, 'severity', a.severity, 'kind', a.kind,
                                                               'subject', a.subject, 'detail', left(a.detail, 2000))::text, 7900));
    INSERT INTO @extschema@.alert_outbox (alert_id, payload)
    VALUES (a.id, @extschema@.alert_payload(a));
    RETURN NEXT a;
  END LOOP;
END
$$;
COMMENT ON FUNCTION evaluate_alerts(timestamptz) IS
  'Evaluate the alert rules as of at (default now): raise each new condition once (NOTIFY seongsu_alerts, and the webhook through seongsu.alert_outbox), resolve the open alerts whose condition is gone; returns the alerts raised and resolved.  See docs/monitoring.md.';

-- 6. Health metrics (Prometheus) ---------------------------------------------

-- Requests of the ingestion log counted since the extension was installed
-- (ingest_log itself is purged after seongsu.log_ttl_days): the counters
-- behind seongsu_ingest_requests_total and seongsu_ingest_latency_seconds.
CREATE TABLE ingest_counters (
  source                 text NOT NULL,
  outcome                text NOT NULL CHECK (outcome IN ('success', 'error', 'no_response')),
  requests               bigint NOT NULL,
  latency_seconds_sum    double precision NOT NULL,
  PRIMARY KEY (source, outcome)
);
COMMENT ON TABLE ingest_counters IS 'HTTP requests of the ingestion jobs counted since installation, per source and outcome (success: no error; error: an answer with an error; no_response: timeout or connection error), with their summed latency.  Kept by a trigger on seongsu.ingest_log.';
COMMENT ON COLUMN ingest_counters.source IS 'The job''s source.';
COMMENT ON COLUMN ingest_counters.outcome IS 'success, error or no_response.';
COMMENT ON COLUMN ingest_counters.requests IS 'Requests so far.';
COMMENT ON COLUMN ingest_counters.latency_seconds_sum IS 'Their summed latency, seconds.';

CREATE FUNCTION count_ingest_requests() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  INSERT INTO @extschema@.ingest_counters AS c (source, outcome, requests, latency_seconds_sum)
  SELECT n.source,
         CASE WHEN n.error IS NULL THEN 'success' WHEN n.http_status IS NULL THEN 'no_response' ELSE 'error' END,
         count(*), coalesce(sum(n.latency_ms), 0) / 1000
    FROM new_rows n
   GROUP BY 1, 2
  ON CONFLICT (source, outcome) DO UPDATE
    SET requests = c.requests + excluded.requests, latency_seconds_sum = c.latency_seconds_sum + excluded.latency_seconds_sum;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION count_ingest_requests() IS 'Statement trigger on seongsu.ingest_log: add the new requests to seongsu.ingest_counters.';
CREATE TRIGGER count_ingest_requests AFTER INSERT ON ingest_log
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_ingest_requests();

-- A label value of the exposition format: backslash, double quote and line
-- feed escaped.
CREATE FUNCTION prometheus_escape(value text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT replace(replace(replace(value, E'\\', E'\\\\'), '"', E'\\"'), E'\n', E'\\n') $$;
COMMENT ON FUNCTION prometheus_escape(text) IS 'Internal (metrics): a label value with \, " and line feeds escaped as the Prometheus text format asks.';

-- {name="value",...} from name, value pairs ('' when there are none).
CREATE FUNCTION prometheus_labels(VARIADIC pairs text[]) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce('{' || string_agg(format('%s="%s"', pairs[i], @extschema@.prometheus_escape(coalesce(pairs[i + 1], ''))), ','
                                    ORDER BY i) || '}', '')
    FROM generate_subscripts(pairs, 1) i
   WHERE i % 2 = 1
$$;
COMMENT ON FUNCTION prometheus_labels(text[]) IS 'Internal (metrics): the label set {name="value",...} of name, value pairs, values escaped.';

-- A sample value: Go's float syntax (NaN, +Inf, -Inf).
CREATE FUNCTION prometheus_value(value double precision) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT CASE WHEN value IS NULL OR value = 'NaN' THEN 'NaN' WHEN value = 'Infinity' THEN '+Inf'
                    WHEN value = '-Infinity' THEN '-Inf' ELSE value::text END $$;
COMMENT ON FUNCTION prometheus_value(double precision) IS 'Internal (metrics): a sample value as the Prometheus text format writes it.';

-- The health of the service in the Prometheus text exposition format
-- (version 0.0.4): every family with its HELP and TYPE lines, even when it
-- has no sample now.  docs/monitoring.md shows how to scrape it.
CREATE FUNCTION metrics() RETURNS text
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  SET jit = off
AS $$
  WITH today(d) AS (SELECT (now() AT TIME ZONE 'Asia/Seoul')::date),
  monitored AS (
    SELECT st.id AS station_id, st.name, st.line, m.model_id, m.role, m.project
      FROM @extschema@.stations st
     CROSS JOIN LATERAL @extschema@.monitored_models(st.id) m
     WHERE st.id IN (SELECT d.station_id FROM @extschema@.deployed_models d WHERE d.grain = 'daily')
  ),
  fam(ord, name, type, help) AS (VALUES
    (1, 'seongsu_up', 'gauge', '1: the extension answered this scrape.'),
    (2, 'seongsu_worker_up', 'gauge', '1 when the ingestion background worker is running in this cluster.'),
    (3, 'seongsu_source_staleness_days', 'gauge', 'Days between today (KST) and the latest day a source has delivered.'),
    (4, 'seongsu_ingest_requests_total', 'counter', 'HTTP requests of ingestion jobs since installation, by source and outcome.'),
    (5, 'seongsu_ingest_latency_seconds', 'summary', 'Latency of ingestion requests: quantiles over the last 24 hours, sum and count since installation.'),
    (6, 'seongsu_jobs', 'gauge', 'Ingestion jobs by state.'),
    (7, 'seongsu_model_age_days', 'gauge', 'Days since the deployed model of a project was trained.'),
    (8, 'seongsu_model_live_mape', 'gauge', 'Live MAPE (percent) of the issued daily forecasts over the last 7, 28 or 91 days with actuals, by project, role and window.'),
    (9, 'seongsu_drift_psi_max', 'gauge', 'Largest population stability index of the level-free inputs of a project''s deployed model (28 days against its training window).'),
    (10, 'seongsu_alerts_open', 'gauge', 'Open alerts by severity.'),
    (11, 'seongsu_forecast_age_days', 'gauge', 'Days between today (KST) and the as_of of a station''s latest published forecast.')
  ),
  smp(family, name, labels, value) AS (
    SELECT 'seongsu_up', 'seongsu_up', '', 1::double precision
    UNION ALL
    SELECT 'seongsu_worker_up', 'seongsu_worker_up', '',
           (SELECT count(*) FROM pg_stat_activity a WHERE a.backend_type = 'daily_seongsu ingest')::double precision
    UNION ALL
    SELECT 'seongsu_source_staleness_days', 'seongsu_source_staleness_days',
           @extschema@.prometheus_labels('source', f.source), f.days_behind
      FROM @extschema@.source_freshness((SELECT d FROM today)) f WHERE f.latest_day IS NOT NULL
    UNION ALL
    SELECT 'seongsu_ingest_requests_total', 'seongsu_ingest_requests_total',
           @extschema@.prometheus_labels('source', c.source, 'outcome', c.outcome), c.requests
      FROM @extschema@.ingest_counters c
    UNION ALL
    SELECT 'seongsu_ingest_latency_seconds', 'seongsu_ingest_latency_seconds',
           @extschema@.prometheus_labels('source', l.source, 'quantile', q.q::text), l.qs[q.k] / 1000
      FROM (SELECT i.source, percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY i.latency_ms) AS qs
              FROM @extschema@.ingest_log i
             WHERE i.at > now() - interval '24 hours' AND i.latency_ms IS NOT NULL
             GROUP BY i.source) l
     CROSS JOIN (VALUES (1, 0.5), (2, 0.9), (3, 0.99)) q(k, q)
    UNION ALL
    SELECT 'seongsu_ingest_latency_seconds', 'seongsu_ingest_latency_seconds_sum',
           @extschema@.prometheus_labels('source', c.source), sum(c.latency_seconds_sum)
      FROM @extschema@.ingest_counters c GROUP BY c.source
    UNION ALL
    SELECT 'seongsu_ingest_latency_seconds', 'seongsu_ingest_latency_seconds_count',
           @extschema@.prometheus_labels('source', c.source), sum(c.requests)
      FROM @extschema@.ingest_counters c GROUP BY c.source
    UNION ALL
    SELECT 'seongsu_jobs', 'seongsu_jobs', @extschema@.prometheus_labels('state', s.state),
           (SELECT count(*) FROM @extschema@.jobs j WHERE j.state = s.state)
      FROM (VALUES ('pending'), ('running'), ('done'), ('failed')) s(state)
    UNION ALL
    SELECT 'seongsu_model_age_days', 'seongsu_model_age_days', @extschema@.prometheus_labels('project', d.project),
           extract(epoch FROM now() - m.created_at) / 86400
      FROM @extschema@.deployed_models d JOIN @extschema@.models m ON m.id = d.model_id
    UNION ALL
    SELECT 'seongsu_model_live_mape', 'seongsu_model_live_mape',
           @extschema@.prometheus_labels('project', m.project, 'role', m.role, 'window', l.window_days || 'd'), l.mape
      FROM @extschema@.live_accuracy l
      JOIN monitored m ON m.station_id = l.station_id AND m.model_id = l.model_id AND m.role = l.role
     WHERE l.grain = 'daily' AND l.horizon_days IS NULL
    UNION ALL
    SELECT 'seongsu_drift_psi_max', 'seongsu_drift_psi_max', @extschema@.prometheus_labels('project', m.project), max(d.value)
      FROM (SELECT DISTINCT mm.station_id, mm.name, mm.line FROM monitored mm) s
     CROSS JOIN LATERAL @extschema@.drift(s.name, s.line, '28 days') d
      JOIN monitored m ON m.station_id = s.station_id AND m.model_id = d.model_id AND m.role = d.role
     WHERE d.kind = 'feature' AND d.role = 'champion'
     GROUP BY m.project
    UNION ALL
    SELECT 'seongsu_alerts_open', 'seongsu_alerts_open', @extschema@.prometheus_labels('severity', s.severity),
           (SELECT count(*) FROM @extschema@.alerts a WHERE a.resolved_at IS NULL AND a.severity = s.severity)
      FROM (VALUES ('critical'), ('warning')) s(severity)
    UNION ALL
    SELECT 'seongsu_forecast_age_days', 'seongsu_forecast_age_days',
           @extschema@.prometheus_labels('station', s.name || ' ' || s.line), (SELECT d FROM today) - p.as_of
      FROM (SELECT DISTINCT mm.station_id, mm.name, mm.line FROM monitored mm) s
     CROSS JOIN LATERAL (SELECT max(pl.as_of) AS as_of FROM @extschema@.prediction_log pl
                          WHERE pl.station_id = s.station_id AND pl.role = 'champion') p
     WHERE p.as_of IS NOT NULL
  )
  SELECT string_agg(format(E'# HELP %s %s\n# TYPE %s %s\n', f.name, f.help, f.name, f.type)
                    || coalesce((SELECT string_agg(s.name || s.labels || ' ' || @extschema@.prometheus_value(s.value) || E'\n', ''
                                                   ORDER BY s.name, s.labels)
                                   FROM smp s WHERE s.family = f.name), ''),
                    '' ORDER BY f.ord)
    FROM fam f
$$;
COMMENT ON FUNCTION metrics() IS
  'Health of the service in the Prometheus text exposition format: seongsu_up, seongsu_worker_up, source staleness, ingestion requests and latency, jobs, model age, live MAPE, input drift, open alerts and forecast age.  See docs/monitoring.md for scraping it.';
