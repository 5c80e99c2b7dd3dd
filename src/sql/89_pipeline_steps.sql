-- The pipeline's steps (docs/pipeline.md): what each of ingest, quality,
-- features, monitor, retrain, promote and publish does for a station as of a
-- day (pipeline_do), the step of a run (pipeline_step, which the runner of
-- src/ingest/pipeline_job.c calls as the role that asked for the run),
-- scheduling with pg_cron, and simulate_pipeline.

-- The live record of a model as of a day: its issued forecasts (any
-- horizon) of the window_days days up to as_of against the actuals.
CREATE FUNCTION pipeline_live_record(station_id integer, model_id bigint, as_of date, window_days integer)
  RETURNS TABLE (n bigint, mape double precision, rmse double precision, bias double precision)
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT count(*), 100 * avg(abs(p.predicted - r.passengers) / r.passengers),
         sqrt(avg((p.predicted - r.passengers) ^ 2)), avg((p.predicted - r.passengers) / r.passengers)
    FROM (SELECT DISTINCT ON (l.as_of, l.target_day) l.target_day, l.predicted   -- once, whatever role issued it
            FROM @extschema@.prediction_log l
           WHERE l.station_id = $1 AND l.model_id = $2 AND l.grain = 'daily' AND l.as_of < l.target_day
             AND l.target_day <= $3 AND l.target_day > $3 - $4 AND l.predicted IS NOT NULL
           ORDER BY l.as_of, l.target_day, l.role) p
    JOIN @extschema@.ridership_daily r ON r.station_id = $1 AND r.day = p.target_day
   WHERE r.passengers > 0
$$;
COMMENT ON FUNCTION pipeline_live_record(integer, bigint, date, integer) IS
  'A model''s issued daily forecasts for the window_days days up to as_of against the actuals: count, MAPE (%), RMSE and mean relative error (bias).';

-- Step 1: the ingestion jobs of a run as of its day (source, from, to, options).
CREATE FUNCTION pipeline_ingest_plan(station_id integer, as_of date, sources jsonb)
  RETURNS TABLE (source text, from_date date, to_date date, options jsonb)
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  today date := (now() AT TIME ZONE 'Asia/Seoul')::date;
  last_daily date;
  all_sources boolean := sources IS NULL OR sources = 'null';
BEGIN
  SELECT max(r.day) INTO last_daily FROM @extschema@.ridership_daily r WHERE r.station_id = $1 AND r.day < as_of;
  FOR source IN SELECT i.name FROM @extschema@.ingestion_sources() i
                 WHERE all_sources OR sources ? i.name ORDER BY i.ordinal LOOP
    options := '{}';
    CASE source
      WHEN 'seoul_daily' THEN
        -- published about 3 days late and sometimes revised: the last 10
        -- days, and every day since the latest one held (at most a year)
        from_date := greatest(least(as_of - 10, coalesce(last_daily + 1, as_of - 10)), as_of - 366);
        to_date := as_of - 1;
      WHEN 'seoul_hour_profile' THEN
        -- the previous month, once it is not held yet
        from_date := (date_trunc('month', as_of) - interval '1 month')::date;
        to_date := from_date;
        CONTINUE WHEN all_sources AND EXISTS (SELECT 1 FROM @extschema@.hour_profile h
                                               WHERE h.station_id = $1 AND h.month = from_date);
      WHEN 'kma_asos_hourly', 'openmeteo_daily' THEN
        from_date := as_of - 7;
        to_date := as_of - 1;
      WHEN 'kasi_holidays' THEN
        -- the current month and the next 12, while fewer than 365 days ahead are known
        from_date := date_trunc('month', as_of)::date;
        to_date := (date_trunc('month', as_of) + interval '13 months' - interval '1 day')::date;
        CONTINUE WHEN all_sources AND coalesce((SELECT max(h.day) FROM @extschema@.holidays h), '-infinity') >= as_of + 365;
      WHEN 'kma_forecast' THEN
        -- forecasts exist only for now: runs as of a past day skip them
        CONTINUE WHEN as_of <> today;
        from_date := as_of;
        to_date := as_of;
        options := jsonb_build_object('base_time', '0500');
      WHEN 'openmeteo_forecast' THEN
        CONTINUE WHEN as_of <> today;
        from_date := as_of;
        to_date := as_of;
      ELSE
        CONTINUE;
    END CASE;
    IF from_date <= to_date THEN
      RETURN NEXT;
    END IF;
  END LOOP;
END
$$;
COMMENT ON FUNCTION pipeline_ingest_plan(integer, date, jsonb) IS
  'The ingestion jobs a pipeline run as of a day queues (sources NULL: every source; forecasts only as of today; holidays and the monthly hour profile only when missing).';

-- The instant a run as of a day evaluates its alerts at: now for today, the
-- day's last second (KST) for a past day.
CREATE FUNCTION pipeline_at(as_of date) RETURNS timestamptz
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN $1 >= (now() AT TIME ZONE 'Asia/Seoul')::date THEN now()
              ELSE (($1 + 1)::timestamp AT TIME ZONE 'Asia/Seoul') - interval '1 second' END
$$;
COMMENT ON FUNCTION pipeline_at(date) IS 'When a run as of a day evaluates its alerts: now for today, else the day''s last second in KST.';

-- Step 1, ingest: queue the plan's jobs and run each at once in this
-- transaction (seongsu.run_job); a source left to its default whose API key
-- is not set is skipped and said so.  When a job fails the outcome is
-- 'error' with SQLSTATE SSP03 (transient errors only: the run retries) or
-- SSP02, recorded rather than raised so that the failed jobs stay.
CREATE FUNCTION pipeline_ingest(station_id integer, as_of date, o jsonb) RETURNS jsonb
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  j record;
  id bigint;
  r record;
  jobs jsonb := '[]';
  rows bigint := 0;
  failures text[] := '{}';
  transient boolean := true;
BEGIN
  FOR j IN SELECT * FROM @extschema@.pipeline_ingest_plan(station_id, as_of, o->'sources') LOOP
    BEGIN
      id := @extschema@.enqueue(j.source, j.from_date, j.to_date, j.options);
    EXCEPTION WHEN OTHERS THEN
      IF o->'sources' <> 'null' THEN
        RAISE;
      END IF;
      jobs := jobs || jsonb_build_object('source', j.source, 'skipped', SQLERRM);
      CONTINUE;
    END;
    SELECT * INTO r FROM @extschema@.run_job(id);
    jobs := jobs || jsonb_build_object('source', j.source, 'job_id', id, 'from', j.from_date, 'to', j.to_date,
                                       'state', r.state, 'rows_written', r.rows_written, 'error', r.error);
    rows := rows + coalesce(r.rows_written, 0);
    IF r.state <> 'done' THEN
      failures := failures || format('%s (job %s): %s', j.source, id, r.error);
      transient := transient AND r.transient;
    END IF;
  END LOOP;
  IF cardinality(failures) > 0 THEN
    -- recorded, not raised: the failed jobs and their ingest_log rows stay
    RETURN jsonb_build_object('outcome', 'error', 'sqlstate', CASE WHEN transient THEN 'SSP03' ELSE 'SSP02' END,
                              'message', 'ingestion failed: ' || array_to_string(failures, '; '),
                              'hint', CASE WHEN transient THEN 'The failures were transient: the run retries after the job back-off (seongsu.job_retry_delay).'
                                           ELSE 'See seongsu.jobs and seongsu.ingest_log; fix the cause and call seongsu.resume_pipeline.' END,
                              'jobs', jobs, 'rows_written', rows);
  END IF;
  RETURN jsonb_build_object('outcome', 'continue', 'jobs', jobs, 'rows_written', rows);
END
$$;
COMMENT ON FUNCTION pipeline_ingest(integer, date, jsonb) IS
  'Pipeline step ingest: queue and run the jobs of seongsu.pipeline_ingest_plan in this transaction; outcome error with SQLSTATE SSP03 (transient) or SSP02 when one fails.';

-- Step 2, quality: the gate over the 35 days to as_of (the window the
-- quality alert rule reads); a failure stops the run and raises the alert.
CREATE FUNCTION pipeline_quality(station text, line text, as_of date, o jsonb) RETURNS jsonb
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  msg text;
  lines text;
  raised jsonb := '[]';
BEGIN
  BEGIN
    PERFORM @extschema@.assert_quality(station, line, as_of - 34, as_of, false, as_of);
  EXCEPTION WHEN SQLSTATE 'SSQ01' THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, lines = PG_EXCEPTION_DETAIL;
    IF (o->>'alerts')::boolean THEN
      SELECT coalesce(jsonb_agg(a.id ORDER BY a.id), '[]') INTO raised
        FROM @extschema@.evaluate_alerts(@extschema@.pipeline_at(as_of)) a WHERE a.resolved_at IS NULL;
    END IF;
    RETURN jsonb_build_object('outcome', 'stop', 'reason', msg, 'failing', string_to_array(lines, E'\n'),
                              'window', jsonb_build_array(as_of - 34, as_of), 'alerts_raised', raised);
  END;
  RETURN jsonb_build_object('outcome', 'continue', 'window', jsonb_build_array(as_of - 34, as_of));
END
$$;
COMMENT ON FUNCTION pipeline_quality(text, text, date, jsonb) IS
  'Pipeline step quality: seongsu.assert_quality over as_of - 34 .. as_of; on failure the run stops and seongsu.evaluate_alerts raises the quality alert.';

-- The live model of a project, or NULL.
CREATE FUNCTION pipeline_champion(project text) RETURNS bigint
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$ SELECT d.model_id FROM @extschema@.deployed_models d WHERE d.project = $1 $$;
COMMENT ON FUNCTION pipeline_champion(text) IS 'The deployed model (champion) of a project, or NULL.';

-- Steps 3-7 and the quality gate by name, for a run (or a simulated day):
-- returns the step's detail, whose outcome is continue, stop or (ingest) error.  trained:
-- the retrain step's detail (promote reads it).
CREATE FUNCTION pipeline_do(step text, station text, line text, as_of date, options jsonb, trained jsonb DEFAULT NULL)
  RETURNS jsonb
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  o jsonb := @extschema@.pipeline_options(options);
  pol jsonb := o->'policy';
  horizon interval := (o->>'horizon')::interval;
  project text := @extschema@.pipeline_project(station, line, (o->>'horizon')::interval);
  sid integer;
  champ bigint;
  chal bigint;
  m @extschema@.models;
  live record;
  n bigint;
  decision boolean;
  reason text;
  raised jsonb := '[]';
  drift jsonb;
  snap bigint;
  t record;
  champ_live record;
  wfrom date;
  chal_rmse double precision;
  champ_rmse double precision;
  age integer;
  latest_to date;
  margin double precision := (o->>'promote_margin')::double precision;
BEGIN
  SELECT s.id INTO sid FROM @extschema@.stations s WHERE s.name = pipeline_do.station AND s.line = pipeline_do.line;
  IF sid IS NULL THEN
    RAISE EXCEPTION 'station "%" on line "%" is unknown', station, line USING ERRCODE = 'undefined_object';
  END IF;
  champ := @extschema@.pipeline_champion(project);
  CASE step
  WHEN 'ingest' THEN
    RETURN @extschema@.pipeline_ingest(sid, as_of, o);
  WHEN 'quality' THEN
    RETURN @extschema@.pipeline_quality(station, line, as_of, o);
  WHEN 'features' THEN
    SELECT * INTO t FROM @extschema@.build_features(station, line, (as_of - 35)::timestamp AT TIME ZONE 'Asia/Seoul',
                                                    (as_of - 1)::timestamp AT TIME ZONE 'Asia/Seoul', 'daily', horizon);
    RETURN jsonb_build_object('outcome', 'continue', 'feature_set', t.feature_set, 'rows_written', t.rows_written,
                              'window', jsonb_build_array(as_of - 35, as_of - 1));
  WHEN 'monitor' THEN
    SELECT * INTO live FROM @extschema@.pipeline_live_record(sid, champ, as_of, (pol->>'window_days')::integer);
    chal := CASE WHEN champ IS NOT NULL THEN @extschema@.model_for_alias(project, 'challenger') END;
    IF (o->>'alerts')::boolean THEN
      IF as_of >= (now() AT TIME ZONE 'Asia/Seoul')::date THEN
        SELECT jsonb_object_agg(d.status, d.n) INTO drift
          FROM (SELECT dd.status, count(*) AS n FROM @extschema@.drift(station, line, '28 days') dd GROUP BY dd.status) d;
      END IF;
      SELECT coalesce(jsonb_agg(a.id ORDER BY a.id), '[]') INTO raised
        FROM @extschema@.evaluate_alerts(@extschema@.pipeline_at(as_of)) a WHERE a.resolved_at IS NULL;
    END IF;
    RETURN jsonb_build_object('outcome', 'continue', 'champion', champ, 'challenger', chal,
                              'live', jsonb_build_object('n', live.n, 'mape', round(live.mape::numeric, 3),
                                                         'rmse', round(live.rmse::numeric, 1), 'bias', round(live.bias::numeric, 4)),
                              'drift', drift, 'alerts_raised', raised);
  WHEN 'retrain' THEN
    SELECT * INTO m FROM @extschema@.models x WHERE x.id = champ;
    SELECT * INTO live FROM @extschema@.pipeline_live_record(sid, champ, as_of, (pol->>'window_days')::integer);
    age := as_of - m.train_to;
    -- the newest data any model of the project was trained on (a challenger
    -- that was not promoted counts: no retraining every day behind it)
    SELECT max(x.train_to) INTO latest_to FROM @extschema@.models x WHERE x.project = @extschema@.pipeline_project(station, line, (o->>'horizon')::interval) AND x.train_to < as_of;
    IF (pol->>'never')::boolean THEN
      decision := false; reason := 'the policy never retrains (never)';
    ELSIF (pol->>'force')::boolean THEN
      decision := true; reason := 'forced (policy force)';
    ELSIF champ IS NULL THEN
      decision := true; reason := format('project %s has no champion', project);
    ELSIF as_of - latest_to < (pol->>'min_model_age_days')::integer THEN
      decision := false; reason := format('the latest model of the project has data to %s, %s days before %s: younger than min_model_age_days %s',
                                          latest_to, as_of - latest_to, as_of, pol->>'min_model_age_days');
    ELSIF age > (pol->>'max_model_age_days')::integer THEN
      decision := true; reason := format('the champion %s has data to %s, %s days before %s: older than max_model_age_days %s',
                                         champ, m.train_to, age, as_of, pol->>'max_model_age_days');
    ELSIF live.n >= 7 AND live.mape > (pol->>'accuracy_ratio')::double precision * (m.metrics->'mean'->>'mape')::double precision THEN
      decision := true; reason := format('live MAPE %s%% over %s forecasts is more than accuracy_ratio %s times the backtest MAPE %s%%',
                                         round(live.mape::numeric, 2), live.n, pol->>'accuracy_ratio',
                                         round((m.metrics->'mean'->>'mape')::numeric, 2));
    ELSIF live.n >= 7 AND abs(live.bias) > (pol->>'drift_threshold')::double precision THEN
      decision := true; reason := format('live forecasts are off by %s%% on average (drift_threshold %s%%)',
                                         round(100 * live.bias::numeric, 1), round(100 * (pol->>'drift_threshold')::numeric, 1));
    ELSIF (pol->>'new_holiday_year')::boolean AND extract(year FROM as_of) > extract(year FROM m.train_to) THEN
      decision := true; reason := format('a new holiday calendar year (%s) since the champion''s data (to %s)',
                                         extract(year FROM as_of), m.train_to);
    ELSE
      decision := false;
      reason := format('within policy: champion %s has data to %s (%s days), live MAPE %s%% over %s forecasts (backtest %s%%), bias %s%%',
                       champ, m.train_to, age, coalesce(round(live.mape::numeric, 2)::text, '-'), live.n,
                       round((m.metrics->'mean'->>'mape')::numeric, 2), coalesce(round(100 * live.bias::numeric, 1)::text, '-'));
    END IF;
    IF NOT decision THEN
      RETURN jsonb_build_object('outcome', 'continue', 'retrain', false, 'reason', reason, 'champion', champ);
    END IF;
    -- trained on a snapshot of the data to the day before: recorded, not deployed (promote decides)
    snap := @extschema@.snapshot(station, line, NULL, as_of - 1);
    SELECT r.model_id, r.algorithm, r.run_id, (r.metrics->'mean'->>'rmse')::double precision AS rmse INTO t
      FROM @extschema@.train(station, line, coalesce(o->'train'->>'algorithm', 'auto'), 'daily', horizon,
                             coalesce(o->'train'->'hyperparams', '{}'), o->'train'->'search',
                             (o->'train'->>'train_from')::date, as_of - 1, project, false, snap) r
     ORDER BY (r.metrics->'mean'->>'rmse')::double precision NULLS LAST, r.model_id LIMIT 1;
    PERFORM @extschema@.set_alias(project, 'challenger', t.model_id, format('trained by the pipeline as of %s: %s', as_of, reason));
    RETURN jsonb_build_object('outcome', 'continue', 'retrain', true, 'reason', reason, 'champion', champ,
                              'model_id', t.model_id, 'algorithm', t.algorithm, 'run_id', t.run_id, 'snapshot_id', snap,
                              'backtest_rmse', round(t.rmse::numeric, 1));
  WHEN 'promote' THEN
    chal := (trained->>'model_id')::bigint;
    IF chal IS NULL THEN
      RETURN jsonb_build_object('outcome', 'continue', 'deployed', false, 'reason', 'nothing was trained', 'champion', champ);
    END IF;
    wfrom := as_of - (o->>'promote_window_days')::integer;
    IF champ IS NULL THEN
      decision := true; reason := format('first model of project %s', project);
    ELSE
      -- both models over the same recent days (the challenger has seen them;
      -- the champion only those after its train_to): the margin guards
      -- against the challenger's in-sample advantage
      SELECT sqrt(avg((c.predicted - c.actual) ^ 2)), sqrt(avg((h.predicted - h.actual) ^ 2)), count(*)
        INTO chal_rmse, champ_rmse, n
        FROM @extschema@.evaluate(chal, wfrom, as_of - 1) c
        JOIN @extschema@.evaluate(champ, wfrom, as_of - 1) h ON h.day = c.day
       WHERE c.actual IS NOT NULL AND c.predicted IS NOT NULL AND h.predicted IS NOT NULL;
      decision := n > 0 AND chal_rmse < champ_rmse * (1 - margin);
      reason := format('challenger %s RMSE %s vs champion %s RMSE %s on %s..%s (%s days); promoted only when better by %s%%',
                       chal, coalesce(round(chal_rmse::numeric, 1)::text, 'none'), champ,
                       coalesce(round(champ_rmse::numeric, 1)::text, 'none'), wfrom, as_of - 1, n,
                       round(100 * margin::numeric, 1));
      -- the shadow live record, where the challenger has one: not worse than the champion's
      SELECT * INTO live FROM @extschema@.pipeline_live_record(sid, chal, as_of, (pol->>'window_days')::integer);
      IF live.n >= 7 THEN
        SELECT * INTO champ_live FROM @extschema@.pipeline_live_record(sid, champ, as_of, (pol->>'window_days')::integer);
        reason := reason || format('; shadow record: challenger MAPE %s%% over %s forecasts, champion %s%%',
                                   round(live.mape::numeric, 2), live.n, round(champ_live.mape::numeric, 2));
        IF live.mape > champ_live.mape THEN
          decision := false;
          reason := reason || ' (worse: kept in the shadow)';
        END IF;
      END IF;
    END IF;
    IF decision AND NOT (o->>'promote')::boolean THEN
      decision := false; reason := reason || '; not deployed: option promote is false';
    END IF;
    IF decision THEN
      PERFORM @extschema@.set_alias(project, 'champion', chal, left('pipeline: ' || reason, 1000));
      -- the champion is no longer anyone's challenger
      PERFORM @extschema@.set_alias(project, 'challenger', NULL, format('pipeline: model %s promoted as of %s', chal, as_of));
    END IF;
    RETURN jsonb_build_object('outcome', 'continue', 'deployed', decision, 'reason', reason, 'champion', champ,
                              'challenger', chal, 'challenger_rmse', round(chal_rmse::numeric, 1),
                              'champion_rmse', round(champ_rmse::numeric, 1));
  WHEN 'publish' THEN
    n := @extschema@.publish_forecast(station, line, as_of, (o->>'days')::integer);
    RETURN jsonb_build_object('outcome', 'continue', 'rows_written', n, 'champion', champ);
  ELSE
    RAISE EXCEPTION 'unknown pipeline step "%"', step USING ERRCODE = 'invalid_parameter_value';
  END CASE;
END
$$;
COMMENT ON FUNCTION pipeline_do(text, text, text, date, jsonb, jsonb) IS
  'Run one pipeline step for a station as of a day with the given options (docs/pipeline.md); returns its detail, whose outcome is continue or stop.';

-- A step of a run: pipeline_do with the run's station, day and options
-- (the runner calls it as the role that asked for the run).
CREATE FUNCTION pipeline_step(run_id bigint, step text) RETURNS jsonb
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  p @extschema@.pipelines;
BEGIN
  SELECT * INTO p FROM @extschema@.pipelines r WHERE r.id = pipeline_step.run_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'pipeline run % does not exist', run_id USING ERRCODE = 'no_data_found';
  END IF;
  RETURN @extschema@.pipeline_do(step, p.station, p.line, p.as_of, p.options,
                                 (SELECT s.detail FROM @extschema@.pipeline_steps s
                                   WHERE s.run_id = pipeline_step.run_id AND s.step = 'retrain'));
END
$$;
COMMENT ON FUNCTION pipeline_step(bigint, text) IS
  'Run one step of a pipeline run (the runner''s; as the role that asked for the run); returns its detail.';

-- pg_cron: the job that runs the pipeline of a station.
CREATE FUNCTION pipeline_cron_name(station text, line text) RETURNS text
  LANGUAGE sql IMMUTABLE
  SET search_path = pg_catalog, pg_temp
AS $$ SELECT format('seongsu_pipeline %s %s', station, line) $$;
COMMENT ON FUNCTION pipeline_cron_name(text, text) IS 'The pg_cron job name of a station''s scheduled pipeline.';

-- Create or update the pg_cron job that runs a station's pipeline
-- (default every day at 07:30 KST, after the morning's data); returns its id.
CREATE FUNCTION schedule_pipeline(cron text DEFAULT '30 22 * * *', station text DEFAULT '성수',
                                  line text DEFAULT '2호선', options jsonb DEFAULT '{}')
  RETURNS bigint
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  o jsonb;
  worker_db text := pg_catalog.current_setting('seongsu.database', true);
BEGIN
  IF cron IS NULL OR station IS NULL OR line IS NULL THEN
    RAISE EXCEPTION 'cron, station and line must not be null' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  o := @extschema@.pipeline_options(coalesce(options, '{}'));
  IF options ? 'as_of' THEN
    RAISE EXCEPTION 'a scheduled pipeline cannot have option "as_of"'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'Each scheduled run acts as of its own day (today in KST).',
            HINT = 'Leave as_of out; run a past day with seongsu.run_pipeline or seongsu.simulate_pipeline.';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM @extschema@.stations s WHERE s.name = schedule_pipeline.station AND s.line = schedule_pipeline.line) THEN
    RAISE EXCEPTION 'station "%" on line "%" is unknown', station, line
      USING ERRCODE = 'undefined_object', HINT = 'Stations come from imported or ingested ridership; see seongsu.stations.';
  END IF;
  PERFORM @extschema@.require_pg_cron();
  IF NOT coalesce((o->>'sync')::boolean, false) AND worker_db IS NOT NULL AND worker_db <> ''
     AND worker_db <> pg_catalog.current_database() THEN
    RAISE WARNING 'the ingestion worker runs in database %, not in %', worker_db, pg_catalog.current_database()
      USING DETAIL = 'The scheduled runs will be queued here but no worker will run them.',
            HINT = 'Set seongsu.database to this database and restart, or schedule with options {"sync": true}.';
  END IF;
  -- cron.schedule with a job name replaces the current user's job of that name
  RETURN cron.schedule(@extschema@.pipeline_cron_name(station, line), cron,
                       format('SELECT @extschema@.run_pipeline(%L, %L, %L::pg_catalog.jsonb)', station, line, coalesce(options, '{}')));
END
$$;
COMMENT ON FUNCTION schedule_pipeline(text, text, text, jsonb) IS
  'Create or update the pg_cron job (named "seongsu_pipeline <station> <line>"; schedule in UTC, default 22:30 = 07:30 KST) that runs seongsu.run_pipeline with these options; returns its pg_cron job id.  Needs pg_cron in this database (feature_not_supported otherwise).';

-- Remove the pg_cron job of a station's pipeline; returns whether there was one.
CREATE FUNCTION unschedule_pipeline(station text DEFAULT '성수', line text DEFAULT '2호선') RETURNS boolean
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM @extschema@.require_pg_cron();
  IF NOT EXISTS (SELECT 1 FROM cron.job c WHERE c.jobname = @extschema@.pipeline_cron_name(station, line)
                                           AND c.username = current_user) THEN
    RETURN false;
  END IF;
  RETURN cron.unschedule(@extschema@.pipeline_cron_name(station, line));
END
$$;
COMMENT ON FUNCTION unschedule_pipeline(text, text) IS
  'Remove the pg_cron job of seongsu.schedule_pipeline for a station (the current user''s); false when there was none.';

-- One strategy of simulate_pipeline: from a champion trained on the data to
-- from_date - 1, each day the retrain (and promote) steps by the policy in
-- o, then publish; returns what happened (the caller rolls it all back).
CREATE FUNCTION pipeline_simulate_one(station text, line text, from_date date, to_date date, o jsonb) RETURNS jsonb
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  sid integer := (SELECT s.id FROM @extschema@.stations s WHERE s.name = $1 AND s.line = $2);
  project text := @extschema@.pipeline_project(station, line, (o->>'horizon')::interval);
  d date;
  r jsonb;
  p jsonb;
  first bigint;
  trained integer := 0;
  deployed integer := 0;
  retrain_days jsonb := '[]';
  acc record;
BEGIN
  -- the period's forecasts are the simulation's own
  DELETE FROM @extschema@.prediction_log l WHERE l.station_id = sid AND l.as_of BETWEEN from_date - 1 AND to_date;
  SELECT t.model_id INTO first
    FROM @extschema@.train(station, line, coalesce(o->'train'->>'algorithm', 'auto'), 'daily', (o->>'horizon')::interval,
                           coalesce(o->'train'->'hyperparams', '{}'), o->'train'->'search', (o->'train'->>'train_from')::date,
                           from_date - 1, project, false, @extschema@.snapshot(station, line, NULL, from_date - 1)) t
   ORDER BY (t.metrics->'mean'->>'rmse')::double precision NULLS LAST, t.model_id LIMIT 1;
  PERFORM @extschema@.set_alias(project, 'champion', first, 'simulate_pipeline: the starting champion');
  d := from_date;
  WHILE d <= to_date LOOP
    r := @extschema@.pipeline_do('retrain', station, line, d, o);
    IF (r->>'retrain')::boolean THEN
      trained := trained + 1;
      retrain_days := retrain_days || to_jsonb(d);
      p := @extschema@.pipeline_do('promote', station, line, d, o, r);
      IF (p->>'deployed')::boolean THEN
        deployed := deployed + 1;
      END IF;
    END IF;
    PERFORM @extschema@.pipeline_do('publish', station, line, d, o);
    d := d + 1;
  END LOOP;
  SELECT count(*) AS n, 100 * avg(abs(l.predicted - r.passengers) / r.passengers) AS mape,
         sqrt(avg((l.predicted - r.passengers) ^ 2)) AS rmse
    INTO acc
    FROM @extschema@.prediction_log l
    JOIN @extschema@.ridership_daily r ON r.station_id = l.station_id AND r.day = l.target_day
   WHERE l.station_id = sid AND l.role = 'champion' AND l.grain = 'daily' AND l.horizon_days = 1
     AND l.as_of BETWEEN from_date AND to_date AND l.predicted IS NOT NULL AND r.passengers > 0;
  RETURN jsonb_build_object('models_trained', trained, 'deploys', deployed, 'retrain_days', retrain_days,
                            'live', jsonb_build_object('n', acc.n, 'mape', round(acc.mape::numeric, 3),
                                                       'rmse', round(acc.rmse::numeric, 1)));
END
$$;
COMMENT ON FUNCTION pipeline_simulate_one(text, text, date, date, jsonb) IS
  'seongsu.simulate_pipeline''s: replay one retraining policy over a period; the caller rolls its writes back.';

-- Replay daily runs over a past period against the stored data (the
-- retrain, promote and publish steps as of each day; no fetch, no alert)
-- for the policy in options and, for comparison, "never retrain" and
-- "retrain daily" (options.compare, default both); nothing is kept.
CREATE FUNCTION simulate_pipeline(from_date date, to_date date, options jsonb DEFAULT '{}',
                                  station text DEFAULT '성수', line text DEFAULT '2호선')
  RETURNS jsonb
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  compare jsonb := coalesce(options->'compare', '["never", "daily"]');
  o jsonb;
  strategy text;
  result jsonb;
  report jsonb;
BEGIN
  IF from_date IS NULL OR to_date IS NULL OR NOT isfinite(from_date) OR NOT isfinite(to_date) OR to_date < from_date THEN
    RAISE EXCEPTION 'from_date and to_date must be finite dates, from_date first' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF to_date - from_date >= 731 THEN
    RAISE EXCEPTION 'a simulation covers at most 731 days, this one %', to_date - from_date + 1
      USING ERRCODE = 'program_limit_exceeded', HINT = 'Simulate a year or two at a time.';
  END IF;
  IF jsonb_typeof(compare) <> 'array' OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(compare) c WHERE c NOT IN ('never', 'daily')) THEN
    RAISE EXCEPTION 'option "compare" must be an array of "never" and "daily"' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  o := @extschema@.pipeline_options(coalesce(options, '{}') - 'compare' - 'sync' - 'sources' - 'as_of')
       || jsonb_build_object('alerts', false);
  IF NOT EXISTS (SELECT 1 FROM @extschema@.stations s WHERE s.name = simulate_pipeline.station AND s.line = simulate_pipeline.line) THEN
    RAISE EXCEPTION 'station "%" on line "%" is unknown', station, line USING ERRCODE = 'undefined_object';
  END IF;
  report := jsonb_build_object('station', station, 'line', line, 'from', from_date, 'to', to_date,
                               'days', to_date - from_date + 1, 'policy', o->'policy', 'train', o->'train');
  FOR strategy IN SELECT 'policy' UNION ALL SELECT c FROM jsonb_array_elements_text(compare) c LOOP
    BEGIN
      result := @extschema@.pipeline_simulate_one(station, line, from_date, to_date,
                  CASE strategy WHEN 'never' THEN jsonb_set(o, '{policy,never}', 'true')
                                WHEN 'daily' THEN jsonb_set(jsonb_set(o, '{policy,force}', 'true'), '{policy,never}', 'false')
                                ELSE o END);
      RAISE EXCEPTION USING ERRCODE = 'SSPSM';  -- roll back what the strategy wrote
    EXCEPTION WHEN SQLSTATE 'SSPSM' THEN
      report := report || jsonb_build_object(CASE strategy WHEN 'policy' THEN 'policy_result'
                                                           WHEN 'never' THEN 'never_retrain' ELSE 'retrain_daily' END, result);
    END;
  END LOOP;
  RETURN report;
END
$$;
COMMENT ON FUNCTION simulate_pipeline(date, date, jsonb, text, text) IS
  'Replay a daily pipeline over [from_date, to_date] against the stored data (retrain, promote, publish as of each day, from a champion trained to from_date - 1) for the policy in options and for "never retrain" and "retrain daily"; returns a report (models trained, deploys, one-day-ahead live accuracy of each).  Nothing is kept.';

REVOKE ALL ON pipelines, pipeline_steps, pipeline_runs FROM PUBLIC;
GRANT SELECT ON pipelines, pipeline_steps, pipeline_runs TO seongsu_reader;
GRANT EXECUTE ON FUNCTION pipeline_step_names(), pipeline_project(text, text, interval), pipeline_cron_name(text, text),
  wait_for_pipeline(bigint, interval) TO seongsu_reader;
GRANT EXECUTE ON FUNCTION run_pipeline(text, text, jsonb), resume_pipeline(bigint), run_job(bigint),
  pipeline_options(jsonb), pipeline_step(bigint, text), pipeline_do(text, text, text, date, jsonb, jsonb),
  pipeline_ingest(integer, date, jsonb), pipeline_quality(text, text, date, jsonb), pipeline_ingest_plan(integer, date, jsonb),
  pipeline_live_record(integer, bigint, date, integer), pipeline_at(date), pipeline_champion(text),
  schedule_pipeline(text, text, text, jsonb), unschedule_pipeline(text, text),
  simulate_pipeline(date, date, jsonb, text, text) TO seongsu_operator;
