-- Models (src/ml): training with time-ordered backtests, storage, deployment
-- and prediction.

CREATE TABLE models (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  project        text NOT NULL,
  station_id     integer NOT NULL,
  algorithm      text NOT NULL CHECK (algorithm IN ('seasonal_naive', 'ridge', 'random_forest', 'gbdt')),
  grain          text NOT NULL CHECK (grain IN ('daily', 'hourly')),
  horizon        interval NOT NULL CHECK (horizon > interval '0'),
  feature_set    text NOT NULL,
  features       text[] NOT NULL,
  target_mode    text NOT NULL CHECK (target_mode IN ('raw', 'ratio', 'lag')),
  hyperparams    jsonb NOT NULL,
  metrics        jsonb NOT NULL,
  train_rows     integer NOT NULL,
  train_seconds  double precision NOT NULL,
  matrix_bytes   bigint NOT NULL,
  train_from     date NOT NULL,
  train_to       date NOT NULL,
  hour_shares    double precision[],
  levels         double precision[],
  blob           bytea,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX models_project ON models (project, id);
COMMENT ON TABLE models IS 'Trained models: what they saw, their backtest metrics and the model itself.';
COMMENT ON COLUMN models.id IS 'Model id.';
COMMENT ON COLUMN models.project IS 'Forecasting target, by default "<station> <line> <grain> <horizon>".';
COMMENT ON COLUMN models.station_id IS 'The station (stations.id).';
COMMENT ON COLUMN models.algorithm IS 'seasonal_naive, ridge, random_forest or gbdt.';
COMMENT ON COLUMN models.grain IS 'Grain of the target (daily; hourly values come from the two-stage split).';
COMMENT ON COLUMN models.horizon IS 'Features use only observations at least this old.';
COMMENT ON COLUMN models.feature_set IS 'Feature definition, e.g. "daily 7 days v2" (v2: the features of 0.2.0, seongsu.feature_columns()).';
COMMENT ON COLUMN models.features IS 'Feature columns, in model order.';
COMMENT ON COLUMN models.target_mode IS 'raw (passengers), ratio (passengers / level28, multiplied back) or lag (seasonal naive).';
COMMENT ON COLUMN models.hyperparams IS 'Hyper-parameters used (after search).';
COMMENT ON COLUMN models.metrics IS 'Backtest metrics: per fold (window, rmse, mae, mape, smape, r2, bias, n) and mean, residual quantiles, search results.';
COMMENT ON COLUMN models.train_rows IS 'Rows of the final fit.';
COMMENT ON COLUMN models.train_seconds IS 'Wall time of training, backtests included.';
COMMENT ON COLUMN models.matrix_bytes IS 'Size of the training matrix held in memory.';
COMMENT ON COLUMN models.train_from IS 'First day of the training data.';
COMMENT ON COLUMN models.train_to IS 'Last day of the training data.';
COMMENT ON COLUMN models.hour_shares IS 'Hour-of-day shares, 8 day types x 24 hours (calendar_features day_type: 0 working Monday, 1 working Tuesday-Thursday, 2 working Friday, 3 Saturday, 4 Sunday, 5 public holiday, 6 day off in a 설날/추석 block, 7 special day), for the two-stage hourly forecast.';
COMMENT ON COLUMN models.levels IS 'Crowd-level thresholds in passengers per hour: 보통 from [1], 혼잡 from [2], 매우혼잡 from [3] (the 50th, 80th and 95th percentiles of the station''s hourly passengers over the last training year, or hyperparams.levels); NULL without hour shares.';
COMMENT ON COLUMN models.blob IS 'The model: SSML magic, format version, CRC-32 (NULL for seasonal_naive).';
-- Stored uncompressed: a model is read whole on a backend's first prediction,
-- and pglz decompression of a 2 MB forest costs more than reading it.
ALTER TABLE models ALTER COLUMN blob SET STORAGE EXTERNAL;
COMMENT ON COLUMN models.created_at IS 'When it was trained.';

CREATE TABLE deployments (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  project   text NOT NULL,
  model_id  bigint NOT NULL REFERENCES models(id),
  action    text NOT NULL CHECK (action IN ('deploy', 'rollback')),
  reason    text,
  at        timestamptz NOT NULL DEFAULT now(),
  deployed_by text NOT NULL DEFAULT current_user
);
CREATE INDEX deployments_project ON deployments (project, id);
COMMENT ON TABLE deployments IS 'Append-only history of deployments; a project''s live model is its latest row.';
COMMENT ON COLUMN deployments.id IS 'Order of events.';
COMMENT ON COLUMN deployments.project IS 'The project.';
COMMENT ON COLUMN deployments.model_id IS 'The model made live.';
COMMENT ON COLUMN deployments.action IS 'deploy or rollback.';
COMMENT ON COLUMN deployments.reason IS 'Why: the automatic comparison (the new model''s last backtest fold against the live model scored on the same days), manual, or rollback.';
COMMENT ON COLUMN deployments.at IS 'When.';
COMMENT ON COLUMN deployments.deployed_by IS 'Who: the role that trained, deployed, rolled back or set the champion alias.';

CREATE VIEW deployed_models AS
  SELECT DISTINCT ON (d.project) d.project, d.model_id, m.station_id, m.algorithm, m.grain, m.horizon,
         (m.metrics->'mean'->>'rmse')::float8 AS backtest_rmse, d.at AS deployed_at
  FROM deployments d JOIN models m ON m.id = d.model_id
  ORDER BY d.project, d.id DESC;
COMMENT ON VIEW deployed_models IS 'The live model of every project.';

CREATE FUNCTION train(station text DEFAULT '성수', line text DEFAULT '2호선', algorithm text DEFAULT 'auto',
  grain text DEFAULT 'daily', horizon interval DEFAULT '7 days', hyperparams jsonb DEFAULT '{}',
  search jsonb DEFAULT NULL, train_from date DEFAULT NULL, train_to date DEFAULT NULL,
  project text DEFAULT NULL, force boolean DEFAULT false, snapshot bigint DEFAULT NULL)
  RETURNS TABLE (model_id bigint, algorithm text, metrics jsonb, deployed boolean, run_id bigint)
  AS 'MODULE_PATHNAME', 'train' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION train(text, text, text, text, interval, jsonb, jsonb, date, date, text, boolean, bigint) IS
  'Train seasonal_naive, ridge, random_forest, gbdt or auto (all; the best is the candidate) with expanding-window backtests on the data as of a snapshot (a new one of the current data, recorded as metrics.snapshot_id and runs.snapshot_id, or the one given), store the models, and deploy the best when it beats the live one (not when trained on a given snapshot); run_id is the call''s run in seongsu.runs (NULL with seongsu.track_runs off).';

CREATE FUNCTION deploy(model_id bigint) RETURNS void
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE p text;
BEGIN
  SELECT m.project INTO p FROM @extschema@.models m WHERE m.id = deploy.model_id;
  IF p IS NULL THEN
    RAISE EXCEPTION 'model % does not exist', model_id USING ERRCODE = 'no_data_found';
  END IF;
  INSERT INTO @extschema@.deployments (project, model_id, action, reason) VALUES (p, model_id, 'deploy', 'manual');
END $$;
COMMENT ON FUNCTION deploy(bigint) IS 'Make a model the live one of its project (takes effect in every session at once).';

CREATE FUNCTION rollback(project text) RETURNS bigint
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE cur bigint; prev bigint;
BEGIN
  SELECT d.model_id INTO cur FROM @extschema@.deployments d WHERE d.project = $1 ORDER BY d.id DESC LIMIT 1;
  IF cur IS NULL THEN
    RAISE EXCEPTION 'project "%" has no deployed model', project USING ERRCODE = 'no_data_found';
  END IF;
  SELECT d.model_id INTO prev FROM @extschema@.deployments d
   WHERE d.project = $1 AND d.model_id <> cur ORDER BY d.id DESC LIMIT 1;
  IF prev IS NULL THEN
    RAISE EXCEPTION 'project "%" has no earlier model to roll back to', project USING ERRCODE = 'no_data_found';
  END IF;
  INSERT INTO @extschema@.deployments (project, model_id, action, reason)
  VALUES ($1, prev, 'rollback', format('rolled back from model %s', cur));
  RETURN prev;
END $$;
COMMENT ON FUNCTION rollback(text) IS 'Make the previously deployed model live again; returns its id.';

CREATE FUNCTION evaluate(model_id bigint, from_date date, to_date date)
  RETURNS TABLE (day date, actual double precision, predicted double precision)
  AS 'MODULE_PATHNAME', 'evaluate' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION evaluate(bigint, date, date) IS
  'Score a stored model on the observed days of a range (at most 20 years, within 400 days of the station''s observations), with features from observations at least its horizon old (no refit).';

CREATE FUNCTION model_explain(model_id bigint) RETURNS jsonb
  AS 'MODULE_PATHNAME', 'model_explain' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION model_explain(bigint) IS 'Feature importances (split gain, or |coefficient x sd| for ridge) and ridge coefficients.';

CREATE FUNCTION predict_daily(day date, station text DEFAULT '성수', line text DEFAULT '2호선')
  RETURNS double precision AS 'MODULE_PATHNAME', 'predict_daily' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION predict_daily(date, text, text) IS
  'Expected passengers (boardings + alightings) on a KST day, from the deployed model with the shortest horizon whose inputs exist (else the longest, filled recursively); days within 400 days of the station''s observations.';

CREATE FUNCTION predict_crowd(ts timestamptz, station text DEFAULT '성수', line text DEFAULT '2호선')
  RETURNS double precision AS 'MODULE_PATHNAME', 'predict_crowd' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION predict_crowd(timestamptz, text, text) IS
  'Expected passengers in the KST hour containing ts: the service day''s forecast times the hour''s share for its day type.';

CREATE FUNCTION crowd_level(ts timestamptz, station text DEFAULT '성수', line text DEFAULT '2호선')
  RETURNS text AS 'MODULE_PATHNAME', 'crowd_level' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION crowd_level(timestamptz, text, text) IS
  '여유, 보통, 혼잡 or 매우혼잡 for the hour containing ts, by the thresholds stored with the model (models.levels).';

CREATE FUNCTION forecast(station text DEFAULT '성수', line text DEFAULT '2호선',
  from_ts timestamptz DEFAULT now(), to_ts timestamptz DEFAULT now() + interval '7 days')
  RETURNS TABLE (ts timestamptz, passengers double precision, lower double precision,
                 upper double precision, level text, recursive boolean)
  AS 'MODULE_PATHNAME', 'forecast' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION forecast(text, text, timestamptz, timestamptz) IS
  'Hourly forecast with a 90% interval from backtest residuals and the crowd level; recursive marks hours whose inputs were themselves forecast. At most 9,600 hours, within 400 days of the station''s observations.';

GRANT SELECT ON models, deployments, deployed_models TO seongsu_reader;
GRANT INSERT ON models, deployments TO seongsu_operator;
GRANT EXECUTE ON FUNCTION evaluate(bigint, date, date), model_explain(bigint),
  predict_daily(date, text, text), predict_crowd(timestamptz, text, text),
  crowd_level(timestamptz, text, text), forecast(text, text, timestamptz, timestamptz) TO seongsu_reader;
REVOKE ALL ON FUNCTION train(text, text, text, text, interval, jsonb, jsonb, date, date, text, boolean, bigint),
  deploy(bigint), rollback(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION train(text, text, text, text, interval, jsonb, jsonb, date, date, text, boolean, bigint),
  deploy(bigint), rollback(text) TO seongsu_operator;
