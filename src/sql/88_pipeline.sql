-- The pipeline (docs/pipeline.md): ingest -> quality -> features -> monitor
-- -> retrain -> promote -> publish for one station, as a job of source
-- 'pipeline' that the worker runs step by step (src/ingest/pipeline_job.c),
-- or in the caller's session with {"sync": true}.  Each step is a row of
-- pipeline_steps; a step's work and its 'succeeded' commit together, so a
-- run interrupted anywhere resumes at the first step that did not succeed.
--
-- The steps are SQL (pipeline_step, 89_pipeline_steps.sql) run as the role that asked for
-- the run; the bookkeeping (pipeline_create, pipeline_begin_step,
-- pipeline_end_step, ...) is run by the C runner as the extension's owner
-- and granted to nobody.

CREATE TABLE pipelines (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  station_id    integer NOT NULL,
  station       text NOT NULL,
  line          text NOT NULL,
  as_of         date NOT NULL CHECK (isfinite(as_of)),
  options       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(options) = 'object'),
  state         text NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'running', 'retrying', 'succeeded', 'stopped', 'failed')),
  job_id        bigint,
  requested_by  text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  finished_at   timestamptz,
  error         text
);
-- one active run per station: a second run_pipeline is refused (55006)
CREATE UNIQUE INDEX pipelines_one_active ON pipelines (station_id) WHERE state IN ('queued', 'running', 'retrying');
CREATE INDEX pipelines_station ON pipelines (station_id, id);
COMMENT ON TABLE pipelines IS 'Pipeline runs (seongsu.run_pipeline): one row per run; at most one queued, running or retrying run per station.  Written only by the pipeline runner.';
COMMENT ON COLUMN pipelines.id IS 'Run id, returned by seongsu.run_pipeline.';
COMMENT ON COLUMN pipelines.station_id IS 'The station (stations.id).';
COMMENT ON COLUMN pipelines.station IS 'Station name as given.';
COMMENT ON COLUMN pipelines.line IS 'Line name as given.';
COMMENT ON COLUMN pipelines.as_of IS 'The KST day the run acts as of (options.as_of, default today in KST).';
COMMENT ON COLUMN pipelines.options IS 'The options given (sources, sync, as_of, horizon, days, train, policy, promote_margin, alerts).';
COMMENT ON COLUMN pipelines.state IS 'queued, running, retrying (a step failed on a transient error; the job runs again after its back-off), succeeded, stopped (a gate held it; nothing downstream ran) or failed.';
COMMENT ON COLUMN pipelines.job_id IS 'The job of source pipeline that runs it (NULL: run in the session with {"sync": true}).';
COMMENT ON COLUMN pipelines.requested_by IS 'The role that asked for the run (or resumed it): its steps run as this role.';
COMMENT ON COLUMN pipelines.created_at IS 'When the run was asked for.';
COMMENT ON COLUMN pipelines.started_at IS 'When its first step started.';
COMMENT ON COLUMN pipelines.finished_at IS 'When it succeeded, stopped or failed.';
COMMENT ON COLUMN pipelines.error IS 'Why it failed or stopped: the step and its error.';

CREATE TABLE pipeline_steps (
  run_id       bigint NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
  step         text NOT NULL CHECK (step IN ('ingest', 'quality', 'features', 'monitor', 'retrain', 'promote', 'publish')),
  ordinal      integer NOT NULL CHECK (ordinal BETWEEN 1 AND 7),
  state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'succeeded', 'stopped', 'failed', 'skipped')),
  started_at   timestamptz,
  finished_at  timestamptz,
  attempts     integer NOT NULL DEFAULT 0,
  detail       jsonb,
  error        text,
  PRIMARY KEY (run_id, step),
  UNIQUE (run_id, ordinal)
);
COMMENT ON TABLE pipeline_steps IS 'The steps of each pipeline run, in order: ingest, quality, features, monitor, retrain, promote, publish.  Written only by the pipeline runner.';
COMMENT ON COLUMN pipeline_steps.run_id IS 'The run (pipelines.id).';
COMMENT ON COLUMN pipeline_steps.step IS 'ingest, quality, features, monitor, retrain, promote or publish.';
COMMENT ON COLUMN pipeline_steps.ordinal IS 'Its place in the run, 1..7.';
COMMENT ON COLUMN pipeline_steps.state IS 'pending, running, succeeded, stopped (the quality gate held the run), failed, or skipped (a step after a stop).';
COMMENT ON COLUMN pipeline_steps.started_at IS 'When its last attempt started.';
COMMENT ON COLUMN pipeline_steps.finished_at IS 'When its last attempt ended.';
COMMENT ON COLUMN pipeline_steps.attempts IS 'How many times it was started (a crash, a transient failure or seongsu.resume_pipeline start it again).';
COMMENT ON COLUMN pipeline_steps.detail IS 'What it did: jobs and rows (ingest), failing checks (quality), rows (features), live accuracy and alerts (monitor), the policy''s decision and reason (retrain), the comparison and decision (promote), rows published (publish).';
COMMENT ON COLUMN pipeline_steps.error IS 'Why its last attempt failed, with the SQLSTATE.';

-- The names of the steps, in order.
CREATE FUNCTION pipeline_step_names() RETURNS text[]
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
AS $$ SELECT ARRAY['ingest', 'quality', 'features', 'monitor', 'retrain', 'promote', 'publish']::text[] $$;
COMMENT ON FUNCTION pipeline_step_names() IS 'The pipeline''s steps, in the order they run.';

-- The options a run takes and their defaults (docs/pipeline.md), merged
-- with the given ones; raises for an unknown option or a bad value.
CREATE FUNCTION pipeline_options(options jsonb) RETURNS jsonb
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  defaults CONSTANT jsonb := jsonb_build_object(
    'sources', NULL, 'sync', false, 'as_of', NULL, 'horizon', '7 days', 'days', 7, 'alerts', true,
    'train', jsonb_build_object('algorithm', 'auto'), 'promote_margin', 0.02, 'promote_window_days', 28, 'promote', true,
    'policy', jsonb_build_object('max_model_age_days', 28, 'min_model_age_days', 7, 'accuracy_ratio', 1.5,
                                 'drift_threshold', 0.10, 'window_days', 28, 'new_holiday_year', true,
                                 'force', false, 'never', false));
  o jsonb;
  k text;
  v jsonb;
  h interval;
BEGIN
  IF options IS NULL OR jsonb_typeof(options) <> 'object' THEN
    RAISE EXCEPTION 'pipeline options must be a JSON object'
      USING ERRCODE = 'invalid_parameter_value', HINT = 'For example ''{"as_of": "2025-05-20", "sources": ["seoul_daily"]}''.';
  END IF;
  FOR k IN SELECT jsonb_object_keys(options) LOOP
    IF NOT defaults ? k THEN
      RAISE EXCEPTION 'a pipeline has no option "%"', k
        USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Options are sources, sync, as_of, horizon, days, alerts, train, promote, promote_margin, promote_window_days and policy (docs/pipeline.md).';
    END IF;
  END LOOP;
  IF options ? 'policy' AND jsonb_typeof(options->'policy') <> 'object' THEN
    RAISE EXCEPTION 'option "policy" must be a JSON object' USING ERRCODE = 'invalid_parameter_value',
      HINT = 'For example {"policy": {"max_model_age_days": 14}}.';
  END IF;
  FOR k IN SELECT jsonb_object_keys(coalesce(options->'policy', '{}')) LOOP
    IF NOT defaults->'policy' ? k THEN
      RAISE EXCEPTION 'the retraining policy has no setting "%"', k
        USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Settings are max_model_age_days, min_model_age_days, accuracy_ratio, drift_threshold, window_days, new_holiday_year, force and never.';
    END IF;
  END LOOP;
  o := defaults || (options - 'policy')
       || jsonb_build_object('policy', (defaults->'policy') || coalesce(options->'policy', '{}'));
  IF jsonb_typeof(o->'train') <> 'object' THEN
    RAISE EXCEPTION 'option "train" must be a JSON object of seongsu.train''s arguments' USING ERRCODE = 'invalid_parameter_value',
      HINT = 'For example {"train": {"algorithm": "ridge"}}.';
  END IF;
  FOR k IN SELECT jsonb_object_keys(o->'train') LOOP
    IF k NOT IN ('algorithm', 'hyperparams', 'search', 'train_from') THEN
      RAISE EXCEPTION 'option "train" has no argument "%"', k
        USING ERRCODE = 'invalid_parameter_value',
              HINT = 'The retrain step passes algorithm, hyperparams, search and train_from to seongsu.train; the rest it sets itself.';
    END IF;
  END LOOP;
  o := jsonb_set(o, '{train}', (defaults->'train') || (o->'train'));
  IF o->'sources' <> 'null' AND (jsonb_typeof(o->'sources') <> 'array'
       OR EXISTS (SELECT 1 FROM jsonb_array_elements(o->'sources') s
                   WHERE jsonb_typeof(s) <> 'string'
                      OR s #>> '{}' NOT IN (SELECT i.name FROM @extschema@.ingestion_sources() i))) THEN
    RAISE EXCEPTION 'option "sources" must be an array of source names'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = format('Sources are those of seongsu.ingestion_sources(): %s; [] ingests nothing.',
                          (SELECT string_agg(i.name, ', ' ORDER BY i.ordinal) FROM @extschema@.ingestion_sources() i));
  END IF;
  BEGIN
    IF o->'as_of' <> 'null' THEN
      PERFORM (o->>'as_of')::date;
      IF NOT isfinite((o->>'as_of')::date) THEN RAISE EXCEPTION USING ERRCODE = 'invalid_datetime_format'; END IF;
    END IF;
    h := (o->>'horizon')::interval;
  EXCEPTION WHEN data_exception THEN
    RAISE EXCEPTION 'option "as_of" must be a date and "horizon" an interval'
      USING ERRCODE = 'invalid_parameter_value', HINT = 'For example {"as_of": "2025-05-20", "horizon": "1 day"}.';
  END;
  IF h <= interval '0' OR jsonb_typeof(o->'days') <> 'number' OR (o->>'days')::numeric NOT BETWEEN 1 AND 35
     OR jsonb_typeof(o->'promote_margin') <> 'number' OR (o->>'promote_margin')::numeric NOT BETWEEN 0 AND 0.5
     OR jsonb_typeof(o->'promote_window_days') <> 'number' OR (o->>'promote_window_days')::numeric NOT BETWEEN 7 AND 366
     OR jsonb_typeof(o->'sync') <> 'boolean' OR jsonb_typeof(o->'alerts') <> 'boolean' OR jsonb_typeof(o->'promote') <> 'boolean' THEN
    RAISE EXCEPTION 'pipeline options out of range'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'horizon is a positive interval, days a number 1..35, promote_margin a number 0..0.5, promote_window_days a number 7..366; sync, alerts and promote are true or false.';
  END IF;
  FOR k, v IN SELECT * FROM jsonb_each(o->'policy') LOOP
    IF (k IN ('new_holiday_year', 'force', 'never') AND jsonb_typeof(v) <> 'boolean')
       OR (k NOT IN ('new_holiday_year', 'force', 'never') AND (jsonb_typeof(v) <> 'number' OR v::text::numeric < 0)) THEN
      RAISE EXCEPTION 'retraining policy setting "%" must be %', k,
            CASE WHEN k IN ('new_holiday_year', 'force', 'never') THEN 'true or false' ELSE 'a number >= 0' END
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
  END LOOP;
  RETURN o;
END
$$;
COMMENT ON FUNCTION pipeline_options(jsonb) IS
  'A pipeline run''s options with every default filled in (docs/pipeline.md lists them); raises invalid_parameter_value for an unknown or bad one.';

-- The project of a run: the station's daily models at the run's horizon.
CREATE FUNCTION pipeline_project(station text, line text, horizon interval) RETURNS text
  LANGUAGE sql IMMUTABLE
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT format('%s %s daily %s', station, line,
                CASE WHEN extract(epoch FROM horizon)::bigint % 86400 = 0
                     THEN (extract(epoch FROM horizon)::bigint / 86400) || ' days'
                     ELSE (extract(epoch FROM horizon)::bigint / 3600) || ' hours' END)
$$;
COMMENT ON FUNCTION pipeline_project(text, text, interval) IS
  'The project a pipeline run trains and promotes in: "<station> <line> daily <horizon>", as seongsu.train names it.';

-- Runner (owner): a new run and its seven pending steps.
CREATE FUNCTION pipeline_create(station text, line text, options jsonb, requested_by text) RETURNS bigint
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  o jsonb := @extschema@.pipeline_options(options);
  sid integer;
  run bigint;
  other bigint;
BEGIN
  IF station IS NULL OR line IS NULL THEN
    RAISE EXCEPTION 'station and line must not be null' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  SELECT s.id INTO sid FROM @extschema@.stations s WHERE s.name = pipeline_create.station AND s.line = pipeline_create.line;
  IF sid IS NULL THEN
    RAISE EXCEPTION 'station "%" on line "%" is unknown', station, line
      USING ERRCODE = 'undefined_object',
            HINT = 'Stations come from imported or ingested ridership; see seongsu.stations.';
  END IF;
  SELECT p.id INTO other FROM @extschema@.pipelines p
   WHERE p.station_id = sid AND p.state IN ('queued', 'running', 'retrying');
  IF other IS NOT NULL THEN
    RAISE EXCEPTION 'pipeline run % of station "%" on line "%" is still active', other, station, line
      USING ERRCODE = 'object_in_use',
            DETAIL = 'Two runs for the same station never run at once.',
            HINT = format('Wait for it with SELECT seongsu.wait_for_pipeline(%s), or cancel its job with seongsu.cancel_job.', other);
  END IF;
  INSERT INTO @extschema@.pipelines (station_id, station, line, as_of, options, requested_by)
  VALUES (sid, station, line, coalesce((o->>'as_of')::date, (now() AT TIME ZONE 'Asia/Seoul')::date), options, requested_by)
  RETURNING id INTO run;
  INSERT INTO @extschema@.pipeline_steps (run_id, step, ordinal)
  SELECT run, s.step, s.ordinal FROM unnest(@extschema@.pipeline_step_names()) WITH ORDINALITY s(step, ordinal);
  RETURN run;
EXCEPTION WHEN unique_violation THEN
  RAISE EXCEPTION 'another pipeline run of station "%" on line "%" is active', station, line
    USING ERRCODE = 'object_in_use', DETAIL = 'Two runs for the same station never run at once.',
          HINT = 'Wait for it with seongsu.wait_for_pipeline (seongsu.pipeline_runs shows it).';
END
$$;
COMMENT ON FUNCTION pipeline_create(text, text, jsonb, text) IS
  'The pipeline runner''s: a new queued run and its pending steps (refused with object_in_use while the station has an active run).';

-- Runner (owner): a failed or stopped run queued again from its first unfinished step.
CREATE FUNCTION pipeline_reopen(run_id bigint, requested_by text) RETURNS jsonb
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  p @extschema@.pipelines;
BEGIN
  SELECT * INTO p FROM @extschema@.pipelines r WHERE r.id = pipeline_reopen.run_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'pipeline run % does not exist', run_id USING ERRCODE = 'no_data_found';
  END IF;
  IF p.state NOT IN ('failed', 'stopped') THEN
    RAISE EXCEPTION 'pipeline run % is %, not failed or stopped', run_id, p.state
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = CASE WHEN p.state = 'succeeded' THEN 'Start a new run with seongsu.run_pipeline.'
                        ELSE format('Wait for it with SELECT seongsu.wait_for_pipeline(%s).', run_id) END;
  END IF;
  BEGIN
    UPDATE @extschema@.pipelines r SET state = 'queued', finished_at = NULL, error = NULL, job_id = NULL,
           requested_by = pipeline_reopen.requested_by
     WHERE r.id = pipeline_reopen.run_id;
  EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'another pipeline run of station "%" on line "%" is active', p.station, p.line
      USING ERRCODE = 'object_in_use', HINT = 'Resume this run when that one has finished.';
  END;
  UPDATE @extschema@.pipeline_steps s SET state = 'pending'
   WHERE s.run_id = pipeline_reopen.run_id AND s.state IN ('failed', 'stopped', 'skipped', 'running');
  RETURN p.options;
END
$$;
COMMENT ON FUNCTION pipeline_reopen(bigint, text) IS
  'The pipeline runner''s: queue a failed or stopped run again; its succeeded steps stay done.';

-- Runner (owner): the job that runs a queued run.
CREATE FUNCTION pipeline_attach_job(run_id bigint, job_id bigint) RETURNS void
  LANGUAGE sql
  SET search_path = pg_catalog, pg_temp
AS $$ UPDATE @extschema@.pipelines SET job_id = $2 WHERE id = $1 $$;
COMMENT ON FUNCTION pipeline_attach_job(bigint, bigint) IS 'The pipeline runner''s: record the job that runs a run.';

-- Runner (owner): the next step to run (marked running, one attempt more),
-- or NULL when none is left; the run is running from its first step on.
CREATE FUNCTION pipeline_begin_step(run_id bigint) RETURNS text
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  s text;
  st text;
BEGIN
  SELECT p.state INTO st FROM @extschema@.pipelines p WHERE p.id = pipeline_begin_step.run_id FOR UPDATE;
  IF st IS NULL OR st NOT IN ('queued', 'running', 'retrying') THEN
    RETURN NULL;
  END IF;
  UPDATE @extschema@.pipelines p SET state = 'running', started_at = coalesce(p.started_at, clock_timestamp())
   WHERE p.id = pipeline_begin_step.run_id;
  UPDATE @extschema@.pipeline_steps ps
     SET state = 'running', attempts = ps.attempts + 1, started_at = clock_timestamp(), finished_at = NULL, error = NULL
   WHERE (ps.run_id, ps.ordinal) = (SELECT x.run_id, x.ordinal FROM @extschema@.pipeline_steps x
                                      WHERE x.run_id = pipeline_begin_step.run_id AND x.state <> 'succeeded'
                                      ORDER BY x.ordinal LIMIT 1)
  RETURNING ps.step INTO s;
  IF s IS NULL THEN
    UPDATE @extschema@.pipelines p SET state = 'succeeded', finished_at = clock_timestamp()
     WHERE p.id = pipeline_begin_step.run_id;
  END IF;
  RETURN s;
END
$$;
COMMENT ON FUNCTION pipeline_begin_step(bigint) IS
  'The pipeline runner''s: mark the run''s first unfinished step running and return it (NULL: the run is over; it succeeded when every step did).';

-- Runner (owner): record how a step ended and return the run's state.
-- outcome: 'continue' (succeeded), 'stop' (a gate held the run), 'failed',
-- or 'retry' (failed on a transient error, and the job runs again).
CREATE FUNCTION pipeline_end_step(run_id bigint, step text, outcome text, detail jsonb, error text) RETURNS text
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  ord integer;
  st text;
BEGIN
  UPDATE @extschema@.pipeline_steps s
     SET state = CASE outcome WHEN 'continue' THEN 'succeeded' WHEN 'stop' THEN 'stopped' ELSE 'failed' END,
         finished_at = clock_timestamp(), detail = pipeline_end_step.detail, error = pipeline_end_step.error
   WHERE s.run_id = pipeline_end_step.run_id AND s.step = pipeline_end_step.step
  RETURNING s.ordinal INTO ord;
  IF outcome = 'stop' THEN
    UPDATE @extschema@.pipeline_steps s SET state = 'skipped'
     WHERE s.run_id = pipeline_end_step.run_id AND s.ordinal > ord;
  END IF;
  UPDATE @extschema@.pipelines p
     SET state = CASE outcome WHEN 'continue' THEN 'running' WHEN 'stop' THEN 'stopped'
                              WHEN 'retry' THEN 'retrying' ELSE 'failed' END,
         finished_at = CASE WHEN outcome IN ('stop', 'failed') THEN clock_timestamp() END,
         error = CASE WHEN outcome = 'continue' THEN NULL
                      WHEN outcome = 'stop' THEN format('%s: %s', pipeline_end_step.step, detail->>'reason')
                      ELSE format('%s: %s', pipeline_end_step.step, pipeline_end_step.error) END
   WHERE p.id = pipeline_end_step.run_id
  RETURNING p.state INTO st;
  RETURN st;
END
$$;
COMMENT ON FUNCTION pipeline_end_step(bigint, text, text, jsonb, text) IS
  'The pipeline runner''s: record a step''s outcome (continue, stop, failed, retry) and return the run''s new state.';

-- Runner (owner): a run whose job ended without it (cancelled, or failed while recording) ends failed.
CREATE FUNCTION pipeline_abandon(run_id bigint, reason text) RETURNS void
  LANGUAGE sql
  SET search_path = pg_catalog, pg_temp
AS $$
  UPDATE @extschema@.pipeline_steps SET state = 'failed', finished_at = clock_timestamp(), error = $2
   WHERE run_id = $1 AND state = 'running';
  UPDATE @extschema@.pipelines SET state = 'failed', finished_at = clock_timestamp(), error = $2
   WHERE id = $1 AND state IN ('queued', 'running', 'retrying');
$$;
COMMENT ON FUNCTION pipeline_abandon(bigint, text) IS
  'The pipeline runner''s: end an active run failed (its job was cancelled or could not run it).';

-- Wait for a run to end: succeeded, stopped or failed.
CREATE FUNCTION wait_for_pipeline(run_id bigint, timeout interval DEFAULT '10 minutes') RETURNS text
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  deadline timestamptz := clock_timestamp() + timeout;
  st text;
  job_state text;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'wait_for_pipeline cannot see the worker''s progress in a % transaction', upper(current_setting('transaction_isolation'))
      USING ERRCODE = 'active_sql_transaction', HINT = 'Call it in a READ COMMITTED transaction.';
  END IF;
  IF timeout IS NULL OR timeout < interval '0' THEN
    RAISE EXCEPTION 'timeout must be a non-negative interval' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  LOOP
    SELECT p.state, j.state INTO st, job_state
      FROM @extschema@.pipelines p LEFT JOIN @extschema@.jobs j ON j.id = p.job_id
     WHERE p.id = wait_for_pipeline.run_id;
    IF st IS NULL THEN
      RAISE EXCEPTION 'pipeline run % does not exist', run_id USING ERRCODE = 'no_data_found';
    END IF;
    IF st IN ('succeeded', 'stopped', 'failed') THEN
      RETURN st;
    END IF;
    IF clock_timestamp() >= deadline THEN
      RAISE EXCEPTION 'pipeline run % is still %', run_id, st
        USING ERRCODE = 'query_canceled',
              DETAIL = CASE WHEN st = 'retrying' THEN 'A step failed on a transient error; its job runs again at seongsu.jobs.next_attempt_at.' END,
              HINT = CASE WHEN NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.backend_type = 'daily_seongsu ingest')
                          THEN 'No worker is running (shared_preload_libraries lacks daily_seongsu): run it with SELECT seongsu.run_pending_jobs(), or ask for runs with {"sync": true}.'
                          ELSE 'The worker is busy; wait longer, or look at seongsu.pipeline_runs and seongsu.jobs.' END;
    END IF;
    PERFORM pg_sleep(0.05);
  END LOOP;
END
$$;
COMMENT ON FUNCTION wait_for_pipeline(bigint, interval) IS
  'Wait until a pipeline run ends and return succeeded, stopped (a gate held it) or failed; query_canceled after timeout.';

-- One row per run: state, duration, step states, what was trained and deployed, the alerts it raised.
CREATE VIEW pipeline_runs AS
  SELECT p.id AS run_id, p.station, p.line, p.as_of, p.state, p.requested_by, p.job_id,
         p.created_at, p.started_at, p.finished_at,
         coalesce(p.finished_at, CASE WHEN p.started_at IS NOT NULL THEN now() END) - p.started_at AS duration,
         s.steps,
         s.summary,
         (s.retrain->>'retrain')::boolean AS retrained,
         s.retrain->>'reason' AS retrain_reason,
         (s.retrain->>'model_id')::bigint AS trained_model_id,
         (s.promote->>'deployed')::boolean AS deployed,
         CASE WHEN (s.promote->>'deployed')::boolean THEN (s.promote->>'challenger')::bigint END AS deployed_model_id,
         s.promote->>'reason' AS promote_reason,
         (s.publish->>'rows_written')::bigint AS published_rows,
         s.alerts_raised,
         p.error
    FROM pipelines p
   CROSS JOIN LATERAL (
     SELECT jsonb_object_agg(x.step, x.state ORDER BY x.ordinal) AS steps,
            string_agg(format('%s:%s', x.step, x.state), ' ' ORDER BY x.ordinal) AS summary,
            max(x.detail::text) FILTER (WHERE x.step = 'retrain')::jsonb AS retrain,
            max(x.detail::text) FILTER (WHERE x.step = 'promote')::jsonb AS promote,
            max(x.detail::text) FILTER (WHERE x.step = 'publish')::jsonb AS publish,
            ARRAY(SELECT DISTINCT a::bigint FROM pipeline_steps y, jsonb_array_elements_text(y.detail->'alerts_raised') a
                   WHERE y.run_id = p.id ORDER BY 1) AS alerts_raised
       FROM pipeline_steps x WHERE x.run_id = p.id) s;
COMMENT ON VIEW pipeline_runs IS
  'One row per pipeline run: state, duration, the steps'' states (steps: jsonb; summary: "ingest:succeeded quality:stopped ..."), whether it retrained and why, the model trained, whether it was deployed and why, forecast rows published, the alerts it raised, and the error.';

CREATE FUNCTION run_pipeline(station text DEFAULT '성수', line text DEFAULT '2호선', options jsonb DEFAULT '{}')
  RETURNS bigint AS 'MODULE_PATHNAME', 'run_pipeline' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION run_pipeline(text, text, jsonb) IS
  'Queue a pipeline run (ingest, quality, features, monitor, retrain, promote, publish) for the worker, or run it in this session with {"sync": true}; returns its id (seongsu.wait_for_pipeline, seongsu.pipeline_runs).  Refused (object_in_use) while the station has an active run.  Options: docs/pipeline.md.';

CREATE FUNCTION resume_pipeline(run_id bigint) RETURNS bigint
  AS 'MODULE_PATHNAME', 'resume_pipeline' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION resume_pipeline(bigint) IS
  'Queue a failed or stopped pipeline run again (in this session when it was run with {"sync": true}) from its first step that did not succeed; its succeeded steps are not redone.  Returns the run id.';

CREATE FUNCTION run_job(job_id bigint, OUT state text, OUT rows_written bigint, OUT transient boolean, OUT error text)
  AS 'MODULE_PATHNAME', 'run_job' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION run_job(bigint) IS
  'Run one pending ingestion or training job now, in this session and transaction, and return how it ended (done or failed; transient: failed on transient errors only).  A failure is final: there is no job-level retry.';
