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
COMMENT ON COLUMN prediction_log.role IS 'champion (a deployed model) or challenger (the model its project''s challenger alias names: seongsu.model_for_alias).';
COMMENT ON COLUMN prediction_log.model_id IS 'The model that made the forecast (models.id; kept when the model is deleted).';
COMMENT ON COLUMN prediction_log.grain IS 'daily (the service day''s passengers) or hourly (one hour: the day times the hour''s share).';
COMMENT ON COLUMN prediction_log.target_day IS 'The service day forecast (the day an hourly row belongs to: hours 00-03 belong to the day before).';
COMMENT ON COLUMN prediction_log.target_hour IS 'Start of the hour forecast (hourly rows only).';
COMMENT ON COLUMN prediction_log.horizon_days IS 'target_day - as_of: how many days ahead the forecast was issued.';
COMMENT ON COLUMN prediction_log.predicted IS 'Expected passengers (boardings + alightings); NULL when the model could not answer.';
COMMENT ON COLUMN prediction_log.lower IS 'Lower end of the 90% interval (the model''s 5th percentile of backtest relative residuals).';
COMMENT ON COLUMN prediction_log.upper IS 'Upper end of the 90% interval (the 95th percentile).';
COMMENT ON COLUMN prediction_log.level IS 'Crowd level of an hourly row (여유, 보통, 혼잡, 매우혼잡) by the model''s thresholds.';

-- The challenger of a project is the model its 'challenger' alias names
-- (seongsu.set_alias, seongsu.model_for_alias in 75_tracking.sql): the one
-- place that defines it.  publish_forecast, live_accuracy, drift, the
-- alerts and the dashboard all ask there.

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
      LEFT JOIN ridership_daily r ON p.grain = 'daily' AND r.station_id = p.station_id AND r.day = p.target_day
      LEFT JOIN ridership_hourly h ON p.grain = 'hourly' AND h.station_id = p.station_id AND h.ts = p.target_hour
     CROSS JOIN LATERAL (SELECT coalesce(r.passengers, h.passengers)::double precision AS actual) a
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

-- The residual_bias and residual_cusum rows of a model (see drift): from
-- n residuals, their sum of r - q50 and of z, the CUSUMs at the end, and
-- the model's sigma.
CREATE FUNCTION residual_drift_rows(model_id bigint, role text, n integer, sum_r double precision,
                                    sum_z double precision, s_hi double precision, s_lo double precision,
                                    sigma double precision)
  RETURNS TABLE (model_id bigint, role text, kind text, name text, value double precision,
                 n_reference integer, n_recent integer, status text)
  LANGUAGE sql IMMUTABLE
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT $1, $2, 'residual', 'residual_bias', CASE WHEN n > 0 THEN sum_r / n END, NULL::integer, n,
         CASE WHEN n < 7 OR NOT sigma > 0 THEN 'insufficient'
              WHEN abs(sum_z / n) * sqrt(n) > 3 THEN 'alert'
              WHEN abs(sum_z / n) * sqrt(n) > 2 THEN 'warn' ELSE 'ok' END
  UNION ALL
  SELECT $1, $2, 'residual', 'residual_cusum', CASE WHEN n > 0 AND sigma > 0 THEN greatest(s_hi, s_lo) END, NULL, n,
         CASE WHEN n < 7 OR NOT sigma > 0 THEN 'insufficient'
              WHEN greatest(s_hi, s_lo) > 5 THEN 'alert'
              WHEN greatest(s_hi, s_lo) > 3 THEN 'warn' ELSE 'ok' END
$$;
COMMENT ON FUNCTION residual_drift_rows(bigint, text, integer, double precision, double precision, double precision,
                                        double precision, double precision) IS
  'Internal (drift): the residual_bias and residual_cusum rows of a model from its sums.';

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
  r record;
  m_id bigint;
  m_role text;
  m_sigma double precision;
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
  -- the latest forecast issued for each target day of the window with an
  -- actual, per model, in day order: one pass, the sums reset per model
  FOR r IN
    SELECT x.model_id, x.role, x.target_day, x.rel, x.q50, (x.q95 - x.q05) / (2 * 1.6449) AS sigma
      FROM (SELECT DISTINCT ON (mm.model_id, mm.role, p.target_day) mm.model_id, mm.role, mm.k, mm.horizon, p.target_day,
                   d.passengers / p.predicted - 1 AS rel,
                   (mo.metrics->'relative_residual_quantiles'->>'q05')::double precision AS q05,
                   (mo.metrics->'relative_residual_quantiles'->>'q50')::double precision AS q50,
                   (mo.metrics->'relative_residual_quantiles'->>'q95')::double precision AS q95
              FROM (SELECT mn.model_id, mn.role, mn.horizon,
                           row_number() OVER (ORDER BY mn.role = 'challenger', mn.horizon, mn.model_id) AS k
                      FROM @extschema@.monitored_models(sid) mn) mm
              JOIN @extschema@.models mo ON mo.id = mm.model_id
              LEFT JOIN @extschema@.prediction_log p
                ON p.station_id = sid AND p.grain = 'daily' AND p.role = mm.role AND p.model_id = mm.model_id
               AND p.target_day > last_day - days AND p.predicted > 0
              LEFT JOIN @extschema@.ridership_daily d ON d.station_id = sid AND d.day = p.target_day
             ORDER BY mm.model_id, mm.role, p.target_day, p.horizon_days) x
     ORDER BY x.k, x.target_day
  LOOP
    IF m_id IS DISTINCT FROM r.model_id OR m_role IS DISTINCT FROM r.role THEN
      IF m_id IS NOT NULL THEN
        RETURN QUERY SELECT * FROM @extschema@.residual_drift_rows(m_id, m_role, n, sum_r, sum_z, s_hi, s_lo, m_sigma);
      END IF;
      m_id := r.model_id; m_role := r.role; m_sigma := r.sigma;
      n := 0; sum_z := 0; sum_r := 0; s_hi := 0; s_lo := 0;
    END IF;
    IF r.rel IS NOT NULL THEN
      n := n + 1;
      sum_r := sum_r + (r.rel - r.q50);
      IF r.sigma > 0 THEN
        sum_z := sum_z + (r.rel - r.q50) / r.sigma;
        s_hi := greatest(0, s_hi + (r.rel - r.q50) / r.sigma - 0.5);
        s_lo := greatest(0, s_lo - (r.rel - r.q50) / r.sigma - 0.5);
      END IF;
    END IF;
  END LOOP;
  IF m_id IS NOT NULL THEN
    RETURN QUERY SELECT * FROM @extschema@.residual_drift_rows(m_id, m_role, n, sum_r, sum_z, s_hi, s_lo, m_sigma);
  END IF;
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
          SELECT @extschema@.model_for_alias(d.project, 'challenger'), 'challenger', d.project, d.horizon, 2
            FROM @extschema@.deployed_models d WHERE d.station_id = monitored_models.station_id AND d.grain = 'daily') x
   WHERE x.model_id IS NOT NULL
   ORDER BY x.k, x.horizon, x.model_id
$$;
COMMENT ON FUNCTION monitored_models(integer) IS
  'The models monitored for a station: its deployed daily models (role champion) and the model aliased challenger in each of their projects (role challenger).';

-- The quality rule's memo: check_quality takes 50-100 ms even over a few
-- weeks, more than every other rule together, so evaluate_alerts keeps the
-- error checks that failed per station, with the day and a fingerprint of
-- what those checks read (the station's daily and hourly rows of the window
-- and the holidays, by row version), and runs check_quality again only when
-- one of them changed.
CREATE TABLE alert_quality_state (
  station_id   integer PRIMARY KEY,
  today        date NOT NULL,
  fingerprint  text NOT NULL,
  failing      jsonb NOT NULL
);
COMMENT ON TABLE alert_quality_state IS 'Internal (evaluate_alerts): per station, the error-severity quality checks that failed at the last evaluation, the day and the fingerprint of the rows they read; check_quality runs again when either changes.';
COMMENT ON COLUMN alert_quality_state.station_id IS 'The station (stations.id).';
COMMENT ON COLUMN alert_quality_state.today IS 'The KST day of that evaluation.';
COMMENT ON COLUMN alert_quality_state.fingerprint IS 'md5 of the versions (xmin, ctid) of the station''s rows of the 35-day window and of the holidays.';
COMMENT ON COLUMN alert_quality_state.failing IS 'The failing error checks: [{"subject", "detail"}, ...].';

-- The fingerprint of what the error-severity quality checks read for a
-- station over the 35 days to today.
CREATE FUNCTION quality_fingerprint(station_id integer, today date) RETURNS text
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT md5(concat_ws('|',
    (SELECT string_agg(d.xmin::text || d.ctid::text, ',' ORDER BY d.day) FROM @extschema@.ridership_daily d
      WHERE d.station_id = quality_fingerprint.station_id AND d.day >= today - 35 AND d.day <= today),
    (SELECT string_agg(h.xmin::text || h.ctid::text, ',' ORDER BY h.ts) FROM @extschema@.ridership_hourly h
      WHERE h.station_id = quality_fingerprint.station_id
        AND h.ts >= (today - 35)::timestamp AT TIME ZONE 'Asia/Seoul' AND h.ts < (today + 2)::timestamp AT TIME ZONE 'Asia/Seoul'),
    (SELECT count(*) || ':' || coalesce(sum(hashtext(x.xmin::text || x.ctid::text)), 0) FROM @extschema@.holidays x)))
$$;
COMMENT ON FUNCTION quality_fingerprint(integer, date) IS
  'Internal (evaluate_alerts): md5 of the row versions the error-severity quality checks of a station read over the 35 days to today.';

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
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  day0 date := ("at" AT TIME ZONE 'Asia/Seoul')::date;
  -- live MAPE above this multiple of the model's mean backtest MAPE raises an accuracy alert
  accuracy_multiple CONSTANT double precision := 1.5;
  firing @extschema@.alerts[];
  quality @extschema@.alerts[] := '{}';
  a @extschema@.alerts;
  sta record;
  fp text;
  failing jsonb;
BEGIN
  IF "at" IS NULL OR NOT isfinite("at") THEN
    RAISE EXCEPTION 'at must be a finite time' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('seongsu.evaluate_alerts'));
  -- an error-severity data-quality check fails over the last 35 days (check_quality
  -- runs again only when what it reads, or the day, changed: alert_quality_state)
  FOR sta IN
    SELECT s.id, s.name, s.line FROM @extschema@.stations s
     WHERE s.id IN (SELECT d.station_id FROM @extschema@.deployed_models d WHERE d.grain = 'daily')
     ORDER BY s.id
  LOOP
    fp := @extschema@.quality_fingerprint(sta.id, day0);
    SELECT q.failing INTO failing FROM @extschema@.alert_quality_state q
     WHERE q.station_id = sta.id AND q.today = day0 AND q.fingerprint = fp;
    IF NOT FOUND THEN
      SELECT coalesce(jsonb_agg(jsonb_build_object(
               'subject', format('%s %s: %s', sta.name, sta.line, q.check_name),
               'detail', format('%s (observed %s, expected %s)', q.detail, coalesce(q.observed::text, 'nothing'), q.expected))
               ORDER BY q.check_name), '[]')
        INTO failing
        FROM @extschema@.check_quality(sta.name, sta.line, day0 - 34, day0, day0) q
       WHERE q.severity = 'error' AND q.status = 'fail';
      INSERT INTO @extschema@.alert_quality_state AS q (station_id, today, fingerprint, failing)
      VALUES (sta.id, day0, fp, failing)
      ON CONFLICT (station_id) DO UPDATE SET today = excluded.today, fingerprint = excluded.fingerprint, failing = excluded.failing;
    END IF;
    quality := quality || ARRAY(SELECT ROW(NULL, NULL, NULL, 'critical', 'quality', e->>'subject', e->>'detail')::@extschema@.alerts
                                  FROM jsonb_array_elements(failing) e);
  END LOOP;
  WITH monitored AS (
    SELECT st.id AS station_id, st.name, st.line, m.model_id, m.role, m.project
      FROM @extschema@.stations st
     CROSS JOIN LATERAL @extschema@.monitored_models(st.id) m
     WHERE st.id IN (SELECT d.station_id FROM @extschema@.deployed_models d WHERE d.grain = 'daily')
  ), stations_monitored AS (
    SELECT DISTINCT m.station_id, m.name, m.line FROM monitored m
  ), drifts AS MATERIALIZED (       -- once per station, whatever the joins below
    SELECT s.station_id, d.* FROM stations_monitored s CROSS JOIN LATERAL @extschema@.drift(s.name, s.line, '28 days') d
  ), found(severity, kind, subject, detail) AS (
    -- a source that has delivered before and is now behind its publication delay
    SELECT 'warning', 'stale_source', f.source,
           CASE WHEN f.expected_delay_days < 0
                THEN format('Holidays are known through %s: fewer than %s days ahead of %s.',
                            f.latest_day, -f.expected_delay_days, day0)
                ELSE format('Latest day %s is %s days before %s; at most %s expected.',
                            f.latest_day, f.days_behind, day0, f.expected_delay_days) END
      FROM @extschema@.source_freshness(day0) f
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
    -- the quality checks found above
    SELECT q.severity, q.kind, q.subject, q.detail FROM unnest(quality) q
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
      FROM drifts d
      JOIN monitored m ON m.station_id = d.station_id AND m.model_id = d.model_id AND m.role = d.role
     WHERE d.status = 'alert' AND d.kind IN ('feature', 'residual')
     GROUP BY m.project, m.role, m.model_id
    UNION ALL
    -- a station that has been published for has no forecast as of yesterday or today
    SELECT 'warning', 'missing_forecast', format('%s %s', s.name, s.line),
           format('The latest forecast was published as of %s; none as of %s or later.', p.as_of, day0 - 1)
      FROM stations_monitored s
     CROSS JOIN LATERAL (SELECT max(pl.as_of) AS as_of FROM @extschema@.prediction_log pl
                          WHERE pl.station_id = s.station_id AND pl.role = 'champion') p
     WHERE p.as_of < day0 - 1
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
-- has no sample now.  docs/monitoring.md shows how to scrape it.  (PL/pgSQL
-- so that a scraper's session plans the query once.)
CREATE FUNCTION metrics() RETURNS text
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET jit = off
AS $$
BEGIN
  RETURN (
  WITH today(d) AS (SELECT (now() AT TIME ZONE 'Asia/Seoul')::date),
  monitored AS (
    SELECT st.id AS station_id, st.name, st.line, m.model_id, m.role, m.project
      FROM @extschema@.stations st
     CROSS JOIN LATERAL @extschema@.monitored_models(st.id) m
     WHERE st.id IN (SELECT d.station_id FROM @extschema@.deployed_models d WHERE d.grain = 'daily')
  ),
  drifts AS MATERIALIZED (        -- the inputs' drift, once per station
    SELECT s.station_id, f.* FROM (SELECT DISTINCT mm.station_id, mm.name, mm.line FROM monitored mm) s
     CROSS JOIN LATERAL @extschema@.feature_drift(s.name, s.line, 28) f
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
    SELECT 'seongsu_drift_psi_max', 'seongsu_drift_psi_max', @extschema@.prometheus_labels('project', m.project), max(d.psi)
      FROM drifts d
      JOIN monitored m ON m.station_id = d.station_id AND m.model_id = d.model_id AND m.role = d.role
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
    FROM fam f);
END
$$;
COMMENT ON FUNCTION metrics() IS
  'Health of the service in the Prometheus text exposition format: seongsu_up, seongsu_worker_up, source staleness, ingestion requests and latency, jobs, model age, live MAPE, input drift, open alerts and forecast age.  See docs/monitoring.md for scraping it.';

-- 7. The dashboard ----------------------------------------------------------

-- Text for HTML: &, <, >, " and ' as character references.
CREATE FUNCTION html_escape(value text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT replace(replace(replace(replace(replace(value, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;') $$;
COMMENT ON FUNCTION html_escape(text) IS 'Internal (dashboard): text with &, <, >, " and '' escaped for HTML.';

-- A passenger count as HTML text: 98,530 (or – when unknown).
CREATE FUNCTION html_count(value double precision) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT coalesce(to_char(round(value), 'FM999,999,999,990'), '–') $$;
COMMENT ON FUNCTION html_count(double precision) IS 'Internal (dashboard): a count with thousands separators, – when NULL.';

-- The colour of a crowd level.
CREATE FUNCTION level_colour(level text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT CASE level WHEN '여유' THEN '#3a9d5d' WHEN '보통' THEN '#e8b923' WHEN '혼잡' THEN '#f0801a'
                          WHEN '매우혼잡' THEN '#d63a2f' ELSE '#c8ccd2' END $$;
COMMENT ON FUNCTION level_colour(text) IS 'Internal (dashboard): the colour of 여유, 보통, 혼잡 and 매우혼잡 (grey when unknown).';

-- One self-contained HTML page for a station: the next 7 days' forecast
-- (daily totals with intervals, hourly crowd levels), recent actuals against
-- the issued forecasts, live accuracy and drift, the latest models, data
-- quality and source freshness, open alerts and the latest jobs and
-- publications.  Inline CSS and SVG only: no script, nothing fetched; every
-- text from the database is escaped.  today fixes the day the page is for
-- (default: the KST date): the forecast shown is the latest published as of
-- that day or before.
-- A run's parameters in one short line for the dashboard: key=value in key
-- order, without the options every run has (folds), at most 120 characters.
CREATE FUNCTION params_summary(params jsonb) RETURNS text
  LANGUAGE sql IMMUTABLE
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN length(s) > 120 THEN left(s, 119) || '…' ELSE s END
    FROM (SELECT coalesce(string_agg(format('%s=%s', e.key, CASE jsonb_typeof(e.value) WHEN 'string' THEN e.value #>> '{}'
                                                                ELSE e.value::text END), ', ' ORDER BY e.key), '') AS s
            FROM jsonb_each(CASE WHEN jsonb_typeof(params) = 'object' THEN params ELSE '{}' END) e
           WHERE e.key <> 'folds') x
$$;
COMMENT ON FUNCTION params_summary(jsonb) IS 'Internal (dashboard): a run''s parameters as one short line (key=value, folds left out, at most 120 characters).';

CREATE FUNCTION dashboard_page(station text, line text, today date, for_public boolean)
  RETURNS text
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET jit = off
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  day0 date := coalesce(today, (now() AT TIME ZONE 'Asia/Seoul')::date);
  sid integer := @extschema@.quality_scope(station, line, NULL, NULL);
  title text := @extschema@.html_escape(format('%s %s', station, line));
  pub date;
  last_obs date;
  top double precision;
  latest_run bigint;
  chart_from date;
  chart_to date;
  html text;
  part text;
  wd CONSTANT text[] := ARRAY['월', '화', '수', '목', '금', '토', '일'];
BEGIN
  SELECT max(p.as_of) INTO pub FROM @extschema@.prediction_log p
   WHERE p.station_id = sid AND p.role = 'champion' AND p.as_of <= day0;
  SELECT max(d.day) INTO last_obs FROM @extschema@.ridership_daily d WHERE d.station_id = sid;

  html := '<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8">'
    || '<meta name="viewport" content="width=device-width, initial-scale=1">'
    || '<title>' || title || ' · daily_seongsu</title><style>'
    || ':root{--ink:#1d2330;--muted:#5f6b7a;--line:#dde1e6;--card:#fff;--bg:#f3f5f8;--accent:#2f5bd3;--act:#1d2330}'
    || '*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--ink);'
    || 'font:15px/1.45 system-ui,-apple-system,"Apple SD Gothic Neo","Noto Sans KR","Noto Sans CJK KR","Malgun Gothic","NanumGothic",sans-serif}'
    || 'main{max-width:1080px;margin:0 auto;padding:12px}header h1{font-size:1.4rem;margin:.3em 0}'
    || '.muted{color:var(--muted);font-size:.85rem}section{background:var(--card);border-radius:10px;'
    || 'padding:12px 14px;margin:12px 0;box-shadow:0 1px 2px rgba(0,0,0,.06)}h2{font-size:1.08rem;margin:.1em 0 .5em}'
    || 'h3{font-size:.95rem;margin:.8em 0 .3em}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:12px}'
    || '.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:.84rem}'
    || 'th,td{padding:4px 6px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}'
    || 'th{color:var(--muted);font-weight:600;white-space:nowrap}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}'
    || '.b{display:inline-block;padding:0 7px;border-radius:9px;font-size:.78rem;font-weight:600;white-space:nowrap}'
    || '.ok,.pass,.sent{background:#e3f4e8;color:#1e6b3a}.warn,.warning,.pending{background:#fff3d6;color:#7a5200}'
    || '.alert,.fail,.failed,.critical{background:#fde3e1;color:#9b1c13}.insufficient,.info,.skipped{background:#eceff3;color:#4a5563}'
    || '.legend{display:flex;flex-wrap:wrap;gap:10px;font-size:.85rem;margin:.4em 0}.legend i{display:inline-block;width:12px;height:12px;'
    || 'border-radius:3px;margin-right:4px;vertical-align:-1px}svg{display:block;width:100%;height:auto}'
    || '.chart{overflow-x:auto}.chart svg{min-width:560px}'
    || 'svg text{font-size:13px;fill:var(--muted)}.empty{color:var(--muted);font-style:italic}'
    || '</style></head><body><main>'
    || '<header><h1>' || title || ' 혼잡도 예보</h1><p class="muted">'
    || @extschema@.html_escape(format('Today %s (KST) · latest observed day %s · forecast published as of %s',
                                      day0, coalesce(last_obs::text, 'none'), coalesce(pub::text, 'none')))
    || '</p></header>';

  -- 1. the next 7 days: daily totals with their 90% intervals, hourly levels
  html := html || '<section id="forecast"><h2>다음 7일 예보 · Next 7 days</h2>';
  IF pub IS NULL THEN
    html := html || '<p class="empty">No forecast has been published for this station: SELECT seongsu.publish_forecast();</p>';
  ELSE
    SELECT max(coalesce(p.upper, p.predicted)) INTO top FROM @extschema@.prediction_log p
     WHERE p.station_id = sid AND p.role = 'champion' AND p.as_of = pub AND p.grain = 'daily';
    top := greatest(coalesce(top, 1), 1);
    SELECT '<svg id="forecast-daily" viewBox="0 0 700 230" role="img" aria-label="daily forecast">'
           || string_agg(format('<rect x="%s" y="%s" width="64" height="%s" rx="4" fill="#2f5bd3" fill-opacity=".85">'
                                || '<title>%s</title></rect>',
                                20 + k * 96, 190 - round(coalesce(p.predicted, 0) / top * 160),
                                round(coalesce(p.predicted, 0) / top * 160),
                                @extschema@.html_escape(format('%s: %s passengers (90%%: %s – %s)', p.target_day,
                                  @extschema@.html_count(p.predicted), @extschema@.html_count(p.lower), @extschema@.html_count(p.upper))))
                         || CASE WHEN p.lower IS NOT NULL AND p.upper IS NOT NULL
                                 THEN format('<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="#1d2330" stroke-width="1.5"/>',
                                             52 + k * 96, 52 + k * 96, 190 - round(p.upper / top * 160), 190 - round(p.lower / top * 160))
                                 ELSE '' END
                         || format('<text x="%s" y="%s" text-anchor="middle" style="fill:#1d2330;font-weight:600">%s</text>',
                                   52 + k * 96, 182 - round(coalesce(p.upper, p.predicted, 0) / top * 160),
                                   @extschema@.html_escape(coalesce(to_char(p.predicted / 1000, 'FM9990.0') || 'k', '–')))
                         || format('<text x="%s" y="208" text-anchor="middle">%s</text><text x="%s" y="224" text-anchor="middle">%s</text>',
                                   52 + k * 96, to_char(p.target_day, 'MM-DD'), 52 + k * 96,
                                   wd[extract(isodow FROM p.target_day)::integer]),
                         '' ORDER BY p.target_day)
           || '</svg>'
      INTO part
      FROM (SELECT pl.*, (row_number() OVER (ORDER BY pl.target_day) - 1)::integer AS k
              FROM @extschema@.prediction_log pl
             WHERE pl.station_id = sid AND pl.role = 'champion' AND pl.as_of = pub AND pl.grain = 'daily'
             ORDER BY pl.target_day LIMIT 7) p;
    html := html || '<h3>Passengers per day (bars) and 90% interval</h3><div class="chart">' || coalesce(part, '') || '</div>';
    -- hourly levels: one row per day, one cell per service hour (04 .. 03)
    SELECT '<svg id="forecast-hourly" viewBox="0 0 700 ' || (30 + 26 * count(DISTINCT p.target_day)) || '" role="img" aria-label="hourly crowd levels">'
           || (SELECT string_agg(format('<text x="%s" y="15" text-anchor="middle">%s</text>', 80 + h * 25 + 12, lpad(((h + 4) % 24)::text, 2, '0')), '')
                 FROM generate_series(0, 23, 3) h)
           || string_agg(format('<rect x="%s" y="%s" width="23" height="22" rx="3" fill="%s"><title>%s</title></rect>',
                                80 + p.slot * 25, 22 + p.k * 26, @extschema@.level_colour(p.level),
                                @extschema@.html_escape(format('%s %s:00 · %s · %s passengers', p.target_day,
                                  to_char(p.target_hour AT TIME ZONE 'Asia/Seoul', 'HH24'), coalesce(p.level, '–'),
                                  @extschema@.html_count(p.predicted))))
                         || CASE WHEN p.slot = 0
                                 THEN format('<text x="4" y="%s">%s %s</text>', 37 + p.k * 26, to_char(p.target_day, 'MM-DD'),
                                             wd[extract(isodow FROM p.target_day)::integer])
                                 ELSE '' END,
                         '' ORDER BY p.k, p.slot)
           || '</svg>'
      INTO part
      FROM (SELECT pl.*, (dense_rank() OVER (ORDER BY pl.target_day) - 1)::integer AS k,
                   ((extract(epoch FROM pl.target_hour - (pl.target_day::timestamp AT TIME ZONE 'Asia/Seoul')) / 3600)::integer - 4) AS slot
              FROM @extschema@.prediction_log pl
             WHERE pl.station_id = sid AND pl.role = 'champion' AND pl.as_of = pub AND pl.grain = 'hourly'
               AND pl.target_day <= pub + 7) p;
    html := html || '<h3>Hourly crowd level</h3><div class="legend">'
      || (SELECT string_agg(format('<span><i style="background:%s"></i>%s</span>', @extschema@.level_colour(l), l), '' ORDER BY o)
            FROM unnest(ARRAY['여유', '보통', '혼잡', '매우혼잡']) WITH ORDINALITY AS u(l, o))
      || '</div>' || coalesce('<div class="chart">' || part || '</div>', '<p class="empty">The model has no hour shares: no hourly forecast.</p>');
  END IF;
  html := html || '</section>';

  -- 2. recent actuals against the forecasts issued for them (the latest issued per day)
  chart_to := (SELECT max(l.window_to) FROM @extschema@.live_accuracy l WHERE l.station_id = sid AND l.grain = 'daily');
  chart_from := chart_to - 55;
  html := html || '<section id="actuals"><h2>실측 vs 예보 · Actuals against issued forecasts</h2>';
  IF chart_to IS NULL THEN
    html := html || '<p class="empty">No issued forecast has an actual yet.</p>';
  ELSE
    WITH pts AS (
      SELECT d.day, r.passengers::double precision AS actual, f.predicted, f.lower, f.upper
        FROM generate_series(chart_from, chart_to, interval '1 day') g(t)
       CROSS JOIN LATERAL (SELECT g.t::date AS day) d
        LEFT JOIN @extschema@.ridership_daily r ON r.station_id = sid AND r.day = d.day
        LEFT JOIN LATERAL (SELECT pl.predicted, pl.lower, pl.upper FROM @extschema@.prediction_log pl
                            WHERE pl.station_id = sid AND pl.role = 'champion' AND pl.grain = 'daily' AND pl.target_day = d.day
                            ORDER BY pl.horizon_days LIMIT 1) f ON true
    ), bounds AS (
      SELECT coalesce(min(least(p.actual, p.lower, p.predicted)), 0) * 0.95 AS lo,
             coalesce(max(greatest(p.actual, p.upper, p.predicted)), 1) * 1.02 AS hi
        FROM pts p
    ), xy AS (
      SELECT p.*, b.lo, b.hi,
             round((60 + (p.day - chart_from) * 11.4)::numeric, 1) AS x,
             round((210 - (p.actual - b.lo) / greatest(b.hi - b.lo, 1) * 190)::numeric, 1) AS ya,
             round((210 - (p.predicted - b.lo) / greatest(b.hi - b.lo, 1) * 190)::numeric, 1) AS yp,
             round((210 - (p.lower - b.lo) / greatest(b.hi - b.lo, 1) * 190)::numeric, 1) AS yl,
             round((210 - (p.upper - b.lo) / greatest(b.hi - b.lo, 1) * 190)::numeric, 1) AS yu
        FROM pts p CROSS JOIN bounds b
    )
    SELECT '<svg id="actuals-chart" viewBox="0 0 700 240" role="img" aria-label="actuals against forecasts">'
           || format('<text x="4" y="24">%s</text><text x="4" y="214">%s</text>', @extschema@.html_count(max(xy.hi)), @extschema@.html_count(max(xy.lo)))
           || '<polygon fill="#2f5bd3" fill-opacity=".15" stroke="none" points="'
           || coalesce(string_agg(xy.x || ',' || xy.yu, ' ' ORDER BY xy.day) FILTER (WHERE xy.yu IS NOT NULL AND xy.yl IS NOT NULL) || ' '
                       || string_agg(xy.x || ',' || xy.yl, ' ' ORDER BY xy.day DESC) FILTER (WHERE xy.yu IS NOT NULL AND xy.yl IS NOT NULL), '')
           || '"/><polyline fill="none" stroke="#2f5bd3" stroke-width="2" stroke-dasharray="5 3" points="'
           || coalesce(string_agg(xy.x || ',' || xy.yp, ' ' ORDER BY xy.day) FILTER (WHERE xy.yp IS NOT NULL), '')
           || '"/><polyline fill="none" stroke="#1d2330" stroke-width="2" points="'
           || coalesce(string_agg(xy.x || ',' || xy.ya, ' ' ORDER BY xy.day) FILTER (WHERE xy.ya IS NOT NULL), '')
           || '"/>'
           || format('<text x="60" y="232">%s</text><text x="690" y="232" text-anchor="end">%s</text>', chart_from, chart_to)
           || '</svg>'
      INTO part FROM xy;
    html := html || '<div class="chart">' || part || '</div><div class="legend"><span><i style="background:#1d2330"></i>actual</span>'
      || '<span><i style="background:#2f5bd3"></i>forecast (latest issued)</span>'
      || '<span><i style="background:#2f5bd3;opacity:.2"></i>90% interval</span></div>';
  END IF;
  html := html || '</section>';

  -- 3. live accuracy (champion and challenger side by side) and drift
  SELECT string_agg(format('<tr><td>%s</td><td><span class="b %s">%s</span></td><td class="n">%s</td><td class="n">%s</td>'
                           || '<td class="n">%s</td><td class="n">%s</td><td class="n">%s</td><td class="n">%s</td><td class="n">%s</td></tr>',
                           @extschema@.html_escape(coalesce(l.project, 'model ' || l.model_id)),
                           CASE WHEN l.role = 'champion' THEN 'ok' ELSE 'info' END, l.role,
                           l.window_days || 'd', l.n, @extschema@.html_count(l.rmse),
                           coalesce(to_char(l.mape, 'FM990.00') || '%', '–'), @extschema@.html_count(l.bias),
                           coalesce(to_char(100 * l.coverage, 'FM990') || '%', '–'),
                           coalesce(to_char(l.mape_ratio, 'FM990.00') || '×', '–')),
                    '' ORDER BY l.project, l.window_days, l.role)
    INTO part
    FROM @extschema@.live_accuracy l
    JOIN @extschema@.monitored_models(sid) m ON m.model_id = l.model_id AND m.role = l.role
   WHERE l.station_id = sid AND l.grain = 'daily' AND l.horizon_days IS NULL;
  html := html || '<div class="grid"><section id="accuracy"><h2>실시간 정확도 · Live accuracy</h2>'
    || CASE WHEN part IS NULL THEN '<p class="empty">No issued forecast of the current models has an actual yet.</p>'
            ELSE '<div class="scroll"><table><tr><th>project</th><th>role</th><th>window</th><th>n</th><th>RMSE</th><th>MAPE</th>'
                 || '<th>bias</th><th>in 90%</th><th>/ backtest</th></tr>' || part || '</table></div>' END
    || '</section>';
  SELECT string_agg(format('<tr><td>%s</td><td>%s</td><td>%s</td><td class="n">%s</td><td><span class="b %s">%s</span></td></tr>',
                           d.model_id, @extschema@.html_escape(d.kind), @extschema@.html_escape(d.name),
                           coalesce(to_char(d.value, 'FM9990.000'), '–'),
                           CASE WHEN d.kind = 'level' THEN 'info' ELSE d.status END, d.status),
                    '' ORDER BY d.kind = 'level', d.status = 'ok', d.value DESC NULLS LAST)
    INTO part
    FROM (SELECT dd.*, row_number() OVER (PARTITION BY dd.kind = 'level' ORDER BY dd.status = 'ok', dd.value DESC NULLS LAST) AS r
            FROM @extschema@.drift(station, line, '28 days') dd WHERE dd.role = 'champion') d
   WHERE d.kind = 'residual' OR d.r <= 8;
  html := html || '<section id="drift"><h2>드리프트 · Drift (28 days)</h2>'
    || CASE WHEN part IS NULL THEN '<p class="empty">No deployed model to compare.</p>'
            ELSE '<div class="scroll"><table><tr><th>model</th><th>kind</th><th>input</th><th>PSI / value</th><th>status</th></tr>'
                 || part || '</table></div><p class="muted">PSI of the inputs against the training window (same time of year); '
                 || 'level inputs follow the station''s growth and raise no alert.</p>' END
    || '</section></div>';

  -- 4. model comparison: the latest train() runs of the station's
  -- projects (seongsu.runs), and the candidates of the latest finished one
  -- that stored a model (its algorithms side by side)
  SELECT string_agg(format('<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td class="n">%s</td><td class="n">%s</td>'
                           '<td><span class="b %s">%s</span> %s</td><td>%s</td></tr>',
                           r.run_id, to_char(r.started_at AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD HH24:MI'),
                           @extschema@.html_escape(r.project),
                           @extschema@.html_escape(r.algorithm || coalesce(' → ' || nullif(m.algorithm, r.algorithm), '')),
                           @extschema@.html_escape(@extschema@.params_summary(r.params)),
                           @extschema@.html_count((r.metrics->'mean'->>'rmse')::double precision),
                           coalesce(to_char((r.metrics->'mean'->>'mape')::double precision, 'FM990.00') || '%', '–'),
                           CASE r.status WHEN 'finished' THEN 'ok' WHEN 'running' THEN 'pending' WHEN 'cancelled' THEN 'warn' ELSE 'failed' END,
                           r.status,
                           CASE WHEN EXISTS (SELECT 1 FROM @extschema@.deployed_models d WHERE d.model_id = r.model_id)
                                THEN '<span class="b ok">champion</span>'
                                WHEN EXISTS (SELECT 1 FROM @extschema@.monitored_models(sid) mm WHERE mm.model_id = r.model_id AND mm.role = 'challenger')
                                THEN '<span class="b info">challenger</span>' ELSE '' END,
                           CASE WHEN for_public THEN ''
                                ELSE @extschema@.html_escape(left(coalesce(r.tags->>'seongsu.error',
                                                                           'reproduces run ' || (r.tags->>'seongsu.reproduces_run'),
                                                                           'reproduces model ' || (r.tags->>'seongsu.reproduces_model'),
                                                                           r.notes, ''), 160)) END),
                    '' ORDER BY r.run_id DESC)
    INTO part
    FROM (SELECT * FROM @extschema@.runs ru
           WHERE ru.parent_run_id IS NULL
             AND (ru.project IN (SELECT mo.project FROM @extschema@.models mo WHERE mo.station_id = sid)
                  OR (ru.station = dashboard_page.station AND ru.line = dashboard_page.line))
           ORDER BY ru.run_id DESC LIMIT 10) r
    LEFT JOIN @extschema@.models m ON m.id = r.model_id;
  html := html || '<section id="models"><h2>모델 비교 · Latest runs</h2>'
    || CASE WHEN part IS NULL THEN '<p class="empty">No model has been trained for this station.</p>'
            ELSE '<div class="scroll"><table><tr><th>run</th><th>started (KST)</th><th>project</th><th>algorithm</th><th>params</th>'
                 || '<th>backtest RMSE</th><th>MAPE</th><th>status</th><th>note</th></tr>' || part || '</table></div>' END;
  SELECT string_agg(format('<tr><td>%s</td><td>%s</td><td>%s</td><td class="n">%s</td><td class="n">%s</td><td>%s</td></tr>',
                           c.run_id, @extschema@.html_escape(c.algorithm), @extschema@.html_escape(@extschema@.params_summary(c.params)),
                           @extschema@.html_count((c.metrics->'mean'->>'rmse')::double precision),
                           coalesce(to_char((c.metrics->'mean'->>'mape')::double precision, 'FM990.00') || '%', '–'),
                           CASE WHEN c.model_id = p.model_id THEN '<span class="b ok">best</span>' ELSE '' END),
                    '' ORDER BY (c.metrics->'mean'->>'rmse')::double precision NULLS LAST, c.run_id),
         min(p.run_id)
    INTO part, latest_run
    FROM (SELECT ru.run_id, ru.model_id FROM @extschema@.runs ru
           WHERE ru.parent_run_id IS NULL AND ru.status = 'finished'
             AND (ru.project IN (SELECT mo.project FROM @extschema@.models mo WHERE mo.station_id = sid)
                  OR (ru.station = dashboard_page.station AND ru.line = dashboard_page.line))
           ORDER BY ru.run_id DESC LIMIT 1) p
    JOIN @extschema@.runs c ON c.parent_run_id = p.run_id AND c.model_id IS NOT NULL;
  html := html || CASE WHEN part IS NULL THEN ''
                       ELSE format('<h3>Candidates of run %s (each algorithm''s best, refit)</h3>', latest_run)
                            || '<div class="scroll"><table><tr><th>run</th><th>algorithm</th><th>params</th><th>backtest RMSE</th>'
                            || '<th>MAPE</th><th></th></tr>' || part || '</table></div>' END
    || '</section>';

  -- 5. data quality (the last 91 days) and source freshness
  SELECT string_agg(format('<tr><td>%s</td><td><span class="b %s">%s</span></td><td>%s</td></tr>',
                           @extschema@.html_escape(q.check_name), q.status, q.status,
                           CASE WHEN for_public THEN '' ELSE @extschema@.html_escape(q.detail) END),
                    '' ORDER BY q.status = 'pass', q.check_name)
    INTO part
    FROM @extschema@.check_quality(station, line, day0 - 90, day0, day0) q
   WHERE q.check_name NOT LIKE 'staleness:%';
  html := html || '<div class="grid"><section id="quality"><h2>데이터 품질 · Data quality (91 days)</h2>'
    || '<div class="scroll"><table><tr><th>check</th><th>status</th><th>detail</th></tr>' || coalesce(part, '') || '</table></div></section>';
  IF for_public THEN
    -- the public page (seongsu_api.dashboard) ends here: sources, alerts and
    -- jobs describe the operation, not the forecasts
    RETURN html || '</div><footer class="muted">daily_seongsu · seongsu_api.dashboard() · '
      || @extschema@.html_escape(format('generated %s KST', to_char(now() AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD HH24:MI')))
      || '</footer></main></body></html>';
  END IF;
  SELECT string_agg(format('<tr><td>%s</td><td>%s</td><td class="n">%s</td><td><span class="b %s">%s</span></td></tr>',
                           @extschema@.html_escape(f.source), coalesce(f.latest_day::text, '–'),
                           CASE WHEN f.days_behind < 0 THEN format('%s ahead', -f.days_behind) ELSE coalesce(f.days_behind::text, '–') END,
                           CASE WHEN f.latest_day IS NULL THEN 'info' WHEN f.stale THEN 'warn' ELSE 'ok' END,
                           CASE WHEN f.latest_day IS NULL THEN 'no data' WHEN f.stale THEN 'stale' ELSE 'fresh' END),
                    '' ORDER BY f.source)
    INTO part
    FROM @extschema@.source_freshness(day0) f;
  html := html || '<section id="freshness"><h2>데이터 신선도 · Source freshness</h2>'
    || '<div class="scroll"><table><tr><th>source</th><th>latest day</th><th>days behind</th><th></th></tr>' || part
    || '</table></div></section></div>';

  -- 6. open alerts, the latest jobs and publications
  SELECT string_agg(format('<tr><td><span class="b %s">%s</span></td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>',
                           a.severity, a.severity, @extschema@.html_escape(a.kind), @extschema@.html_escape(a.subject),
                           @extschema@.html_escape(a.detail), to_char(a.raised_at AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD HH24:MI')),
                    '' ORDER BY a.severity, a.raised_at DESC)
    INTO part
    FROM @extschema@.alerts a WHERE a.resolved_at IS NULL;
  html := html || '<section id="alerts"><h2>알림 · Open alerts</h2>'
    || CASE WHEN part IS NULL THEN '<p class="empty">No open alert.</p>'
            ELSE '<div class="scroll"><table><tr><th>severity</th><th>kind</th><th>subject</th><th>detail</th><th>raised (KST)</th></tr>'
                 || part || '</table></div>' END
    || '</section>';
  -- the last pipeline runs of the station (seongsu.pipeline_runs, src/sql/88_pipeline.sql)
  SELECT string_agg(format('<tr><td>%s</td><td>%s</td><td><span class="b %s">%s</span></td><td class="n">%s</td><td>%s</td><td>%s</td><td>%s</td><td class="n">%s</td></tr>',
                           p.run_id, p.as_of,
                           CASE p.state WHEN 'succeeded' THEN 'ok' WHEN 'failed' THEN 'fail' WHEN 'stopped' THEN 'warn' ELSE 'pending' END,
                           p.state, coalesce(to_char(p.duration, 'HH24:MI:SS'), '–'),
                           @extschema@.html_escape(coalesce(p.summary, '')),
                           @extschema@.html_escape(CASE WHEN p.retrained THEN 'yes: ' ELSE 'no: ' END || coalesce(p.retrain_reason, '–')),
                           @extschema@.html_escape(CASE WHEN p.deployed THEN format('model %s: ', p.deployed_model_id) ELSE '' END
                                                   || coalesce(p.promote_reason, '–')),
                           coalesce(p.published_rows::text, '–')),
                    '' ORDER BY p.run_id DESC)
    INTO part
    FROM (SELECT * FROM @extschema@.pipeline_runs pr
           WHERE pr.station = dashboard_page.station AND pr.line = dashboard_page.line
           ORDER BY pr.run_id DESC LIMIT 7) p;
  html := html || '<section id="pipeline"><h2>파이프라인 · Pipeline runs</h2>'
    || CASE WHEN part IS NULL THEN '<p class="empty">No pipeline run yet (seongsu.run_pipeline, seongsu.schedule_pipeline).</p>'
            ELSE '<div class="scroll"><table><tr><th>run</th><th>as of</th><th>state</th><th>took</th><th>steps</th><th>retrain</th><th>promote</th><th>published</th></tr>'
                 || part || '</table></div>' END
    || '</section>';
  SELECT string_agg(format('<tr><td>%s</td><td>%s</td><td>%s</td><td><span class="b %s">%s</span></td><td>%s</td><td>%s</td></tr>',
                           r.what, @extschema@.html_escape(r.name), @extschema@.html_escape(r.scope), r.state, r.state,
                           coalesce(to_char(r.at AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD HH24:MI'), '–'),
                           @extschema@.html_escape(coalesce(r.note, ''))),
                    '' ORDER BY r.at DESC NULLS LAST)
    INTO part
    FROM (
      (SELECT 'job ' || j.id AS what, j.source AS name, format('%s..%s', j.from_date, j.to_date) AS scope,
              CASE j.state WHEN 'done' THEN 'ok' WHEN 'failed' THEN 'fail' ELSE 'pending' END AS state,
              coalesce(j.finished_at, j.started_at, j.created_at) AS at,
              coalesce(left(j.last_error, 200), format('%s rows', j.rows_written)) AS note
         FROM @extschema@.jobs j ORDER BY j.id DESC LIMIT 8)
      UNION ALL
      (SELECT 'publication', p.role, format('as of %s', p.as_of), 'ok', max(p.issued_at), format('%s rows', count(*))
         FROM @extschema@.prediction_log p WHERE p.station_id = sid
        GROUP BY p.as_of, p.role ORDER BY p.as_of DESC, p.role LIMIT 4)
    ) r;
  html := html || '<section id="runs"><h2>최근 실행 · Latest jobs and publications</h2>'
    || CASE WHEN part IS NULL THEN '<p class="empty">Nothing has run yet.</p>'
            ELSE '<div class="scroll"><table><tr><th>run</th><th>what</th><th>scope</th><th>state</th><th>at (KST)</th><th>note</th></tr>'
                 || part || '</table></div>' END
    || '</section>';

  RETURN html || '<footer class="muted">daily_seongsu · seongsu.dashboard() · '
    || @extschema@.html_escape(format('generated %s KST', to_char(now() AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD HH24:MI')))
    || '</footer></main></body></html>';
END
$$;
COMMENT ON FUNCTION dashboard_page(text, text, date, boolean) IS
  'Internal (seongsu.dashboard, seongsu_api.dashboard): the dashboard page; for_public leaves out what describes the operation rather than the forecasts (quality details, run notes and errors, source freshness, alerts, pipeline runs, jobs).';

CREATE FUNCTION dashboard(station text DEFAULT '성수', line text DEFAULT '2호선', today date DEFAULT NULL)
  RETURNS text
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT @extschema@.dashboard_page(station, line, today, false) $$;
COMMENT ON FUNCTION dashboard(text, text, date) IS
  'One self-contained HTML page for a station (inline CSS and SVG, no script, nothing fetched): the next 7 days'' forecast with hourly crowd levels and intervals, recent actuals against the issued forecasts, live accuracy and drift, the latest runs and their candidates (model comparison), data quality and source freshness, open alerts, the latest jobs and publications.  today (default: the KST date) picks the latest forecast published as of then.';

-- 8. Privileges: readers see everything here; operators publish and
-- evaluate, through the functions only (they write as the owner).
GRANT SELECT ON prediction_log, live_accuracy, alerts, alert_outbox, ingest_counters, alert_quality_state TO seongsu_reader;
GRANT EXECUTE ON FUNCTION feature_drift(text, text, integer), drift(text, text, interval),
  residual_drift_rows(bigint, text, integer, double precision, double precision, double precision, double precision, double precision),
  source_freshness(date), monitored_models(integer), alert_payload(alerts), quality_fingerprint(integer, date), prometheus_escape(text),
  prometheus_labels(text[]), prometheus_value(double precision), metrics(), html_escape(text),
  html_count(double precision), level_colour(text), params_summary(jsonb), dashboard_page(text, text, date, boolean),
  dashboard(text, text, date) TO seongsu_reader;
REVOKE ALL ON FUNCTION publish_forecast(text, text, date, integer), evaluate_alerts(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION publish_forecast(text, text, date, integer), evaluate_alerts(timestamptz) TO seongsu_operator;
