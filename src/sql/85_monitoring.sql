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
