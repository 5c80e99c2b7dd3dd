-- daily_seongsu 0.1.0 -> 0.2.0 (ALTER EXTENSION daily_seongsu UPDATE).
-- Written by hand, part by part in the order of src/sql; test/t/060_upgrade.pl
-- proves that 0.1.0 updated by this script equals a fresh install of 0.2.0
-- (docs/releasing.md).  Rows are kept as they are; the one change existing
-- rows could violate (the new CHECKs on seongsu.jobs) is checked first and
-- stops the update with a message naming the rows.
\echo Use "ALTER EXTENSION daily_seongsu UPDATE TO '0.2.0'" to load this file. \quit

-- 40_ingest: jobs and ingest_log are written only through enqueue,
-- cancel_job and the runners; the jobs table checks what enqueue checks.

-- 0.1.0 let seongsu_operator write seongsu.jobs directly, so rows may break
-- the rules 0.2.0 adds as CHECKs (enqueue always kept them).  Such rows are
-- not changed or deleted here: the update stops and names them.
DO $$
DECLARE
  bad bigint[];
BEGIN
  SELECT pg_catalog.array_agg(j.id ORDER BY j.id) INTO bad
    FROM @extschema@.jobs j
   WHERE pg_catalog.jsonb_typeof(j.options) OPERATOR(pg_catalog.<>) 'object'
      OR NOT pg_catalog.isfinite(j.from_date) OR NOT pg_catalog.isfinite(j.to_date)
      OR (pg_catalog.isfinite(j.from_date) AND pg_catalog.isfinite(j.to_date)
          AND (j.to_date OPERATOR(pg_catalog.-) j.from_date) OPERATOR(pg_catalog.>=) 7305);
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'cannot update daily_seongsu to 0.2.0: % rows of seongsu.jobs break the checks 0.2.0 adds',
                    pg_catalog.cardinality(bad)
      USING ERRCODE = 'check_violation',
            DETAIL = pg_catalog.format('Jobs %s have options that are not a JSON object, an infinite date, or more than 7305 days; 0.2.0 refuses such rows (seongsu.enqueue never made them).',
                                       pg_catalog.array_to_string(bad[1:20], ', ')
                                       || CASE WHEN pg_catalog.cardinality(bad) > 20 THEN ', ...' ELSE '' END),
            HINT = 'Delete these jobs (or correct their options and dates), then run ALTER EXTENSION daily_seongsu UPDATE again.';
  END IF;
END
$$;

ALTER TABLE jobs RENAME CONSTRAINT jobs_source_check TO jobs_source_known;
ALTER TABLE jobs RENAME CONSTRAINT jobs_check TO jobs_dates_ordered;
ALTER TABLE jobs
  ADD CONSTRAINT jobs_options_object CHECK (jsonb_typeof(options) = 'object'),
  ADD CONSTRAINT jobs_dates_finite CHECK (isfinite(from_date) AND isfinite(to_date)),
  ADD CONSTRAINT jobs_span_within_cap CHECK (NOT isfinite(from_date) OR NOT isfinite(to_date)
                                             OR to_date - from_date < 7305);
COMMENT ON TABLE jobs IS 'Ingestion jobs: one source over a date range.  The worker (or seongsu.run_pending_jobs) runs them; a run writes all its rows or none.  Written only through seongsu.enqueue, seongsu.cancel_job and the runners.';
COMMENT ON CONSTRAINT jobs_source_known ON jobs IS 'The source is one seongsu.enqueue knows.';
COMMENT ON CONSTRAINT jobs_options_object ON jobs IS 'Options are a JSON object.';
COMMENT ON CONSTRAINT jobs_dates_finite ON jobs IS 'A job covers finite dates (no infinity, no -infinity).';
COMMENT ON CONSTRAINT jobs_dates_ordered ON jobs IS 'to_date is not before from_date.';
COMMENT ON CONSTRAINT jobs_span_within_cap ON jobs IS 'A job covers at most 7305 days (20 years); enqueue several for more.  The runner checks this again when it claims a job.';
COMMENT ON COLUMN jobs.state IS 'pending, running, done or failed (a cancelled job is failed).';
COMMENT ON COLUMN jobs.attempts IS 'How many times a runner has started the job: a job interrupted by a crash is started again, and one that failed on a transient error only runs again after a back-off, up to seongsu.job_max_attempts runs.';
COMMENT ON COLUMN jobs.next_attempt_at IS 'The job is not started before this time (after a transient failure: now + seongsu.job_retry_delay, doubling each run, at most 1 hour).';
COMMENT ON COLUMN jobs.last_error IS 'Why the job failed (URLs redacted), "cancelled by <role>", or "not run: ..." for a job that fails the checks when claimed; on a pending job, why its last run failed before the job-level retry.';
COMMENT ON TABLE ingest_log IS 'One row per HTTP request made by an ingestion job; purged after seongsu.log_ttl_days.  Written only by the runners.';

CREATE FUNCTION cancel_job(job_id bigint) RETURNS text
  AS 'MODULE_PATHNAME', 'cancel_job' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION cancel_job(bigint) IS
  'Mark a pending or running job failed with last_error "cancelled by <role>" and return ''cancelled''; a running job stops within about a second and writes none of its rows (its requests are logged).  A job that has already ended is left as it is and its state (done or failed) returned.';

REVOKE INSERT, UPDATE, DELETE ON jobs FROM seongsu_operator;
REVOKE INSERT, DELETE ON ingest_log FROM seongsu_operator;
REVOKE ALL ON FUNCTION cancel_job(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cancel_job(bigint) TO seongsu_operator;

-- 42_secrets: new in 0.2.0 (as in src/sql/42_secrets.sql).
CREATE TABLE secrets (
  name        text PRIMARY KEY CHECK (name IN ('seoul_api_key', 'data_go_kr_key')),
  value       text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE secrets IS 'API keys stored with seongsu.set_secret.  Only the extension''s owner can read it; it is granted to nobody and in no view.';
COMMENT ON COLUMN secrets.name IS 'seoul_api_key or data_go_kr_key.';
COMMENT ON COLUMN secrets.value IS 'The key as issued (the decoded data.go.kr key); percent-encoded when it goes into a URL.';
COMMENT ON COLUMN secrets.updated_at IS 'When it was last stored.';
REVOKE ALL ON secrets FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.secrets', '');

CREATE FUNCTION set_secret(name text, value text) RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF set_secret.name IS NULL OR set_secret.name NOT IN ('seoul_api_key', 'data_go_kr_key') THEN
    -- the name is not repeated: a key passed as the name by mistake must not reach the log
    RAISE EXCEPTION 'unknown secret name'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'The secrets are seoul_api_key and data_go_kr_key.';
  END IF;
  IF set_secret.value IS NULL OR set_secret.value = '' THEN
    DELETE FROM @extschema@.secrets s WHERE s.name = set_secret.name;
    RETURN;
  END IF;
  IF set_secret.value ~ '[[:cntrl:][:space:]]' OR pg_catalog.length(set_secret.value) > 1024 THEN
    RAISE EXCEPTION 'the value of secret % is not a key', set_secret.name
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'A key is at most 1024 characters, without spaces or control characters.',
            HINT = 'Give the key as issued (the decoded data.go.kr key), without quotes or line breaks.';
  END IF;
  INSERT INTO @extschema@.secrets AS s (name, value) VALUES (set_secret.name, set_secret.value)
    ON CONFLICT ON CONSTRAINT secrets_pkey
    DO UPDATE SET value = excluded.value, updated_at = pg_catalog.now();
END
$$;
COMMENT ON FUNCTION set_secret(text, text) IS
  'Store the API key seoul_api_key or data_go_kr_key (NULL or '''' removes it).  Only the extension''s owner may call it, unless the owner grants EXECUTE (e.g. to Supabase''s postgres role); nobody else can read the keys back.';
REVOKE ALL ON FUNCTION set_secret(text, text) FROM PUBLIC;

-- 45_schedule: a job that purges pg_cron's history of the ingestion jobs
-- (a new argument, run_details_days: the two functions that take the
-- arguments are made anew), and the hint names the running major's package.
DROP FUNCTION schedule_ingestion(integer, integer, integer);
DROP FUNCTION ingestion_schedule(integer, integer, integer);

CREATE FUNCTION ingestion_schedule(seoul_daily_days integer DEFAULT 10,
                                   observation_days integer DEFAULT 7,
                                   holiday_months integer DEFAULT 12,
                                   run_details_days integer DEFAULT 14)
  RETURNS TABLE (job_name text, schedule text, command text)
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  -- "today" in KST, evaluated when the job runs
  kst CONSTANT text := 'pg_catalog.now() AT TIME ZONE ''Asia/Seoul''';
  -- the jobs whose run details the last job deletes (itself included)
  names text[] := ARRAY[]::text[];
BEGIN
  IF seoul_daily_days IS NULL OR seoul_daily_days NOT BETWEEN 1 AND 366 THEN
    RAISE EXCEPTION 'seoul_daily_days must be between 1 and 366'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('The value given was %s.', coalesce(seoul_daily_days::text, 'NULL'));
  END IF;
  IF observation_days IS NULL OR observation_days NOT BETWEEN 1 AND 366 THEN
    RAISE EXCEPTION 'observation_days must be between 1 and 366'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('The value given was %s.', coalesce(observation_days::text, 'NULL'));
  END IF;
  IF holiday_months IS NULL OR holiday_months NOT BETWEEN 1 AND 60 THEN
    RAISE EXCEPTION 'holiday_months must be between 1 and 60'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('The value given was %s.', coalesce(holiday_months::text, 'NULL'));
  END IF;
  IF run_details_days IS NULL OR run_details_days NOT BETWEEN 1 AND 366 THEN
    RAISE EXCEPTION 'run_details_days must be between 1 and 366'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('The value given was %s.', coalesce(run_details_days::text, 'NULL'));
  END IF;

  -- Seoul daily ridership appears about 3 days late and is sometimes revised:
  -- re-fetch the last seoul_daily_days days every morning at 07:00 KST.
  job_name := 'seongsu_seoul_daily';
  schedule := '0 22 * * *';
  command := format('SELECT @extschema@.enqueue(%L, (%s)::date - %s, (%s)::date - 1)',
                    'seoul_daily', kst, seoul_daily_days, kst);
  names := names || job_name;
  RETURN NEXT;

  -- KMA issues its short-term forecast at 02, 05, ..., 23 h KST (out about
  -- 10 minutes later): 15 minutes after each issue (the same hours in UTC,
  -- 9 h being a multiple of 3), fetch the latest one, named by its base
  -- date and base_time.
  job_name := 'seongsu_kma_forecast';
  schedule := '15 2-23/3 * * *';
  command := format('SELECT @extschema@.enqueue(%L, b::date, NULL, '
                    'pg_catalog.jsonb_build_object(%L, pg_catalog.to_char(b, %L))) '
                    'FROM (SELECT pg_catalog.date_trunc(%L, k) - pg_catalog.make_interval(hours => '
                    '(pg_catalog.date_part(%L, k)::integer + 1) %% 3) AS b '
                    'FROM (SELECT (%s) - interval %L AS k) AS now_kst) AS latest_issue',
                    'kma_forecast', 'base_time', 'HH24MI', 'hour', 'hour', kst, '10 minutes');
  names := names || job_name;
  RETURN NEXT;

  -- Open-Meteo's forecast, on the same 3-hour rhythm.
  job_name := 'seongsu_openmeteo_forecast';
  schedule := '15 2-23/3 * * *';
  command := format('SELECT @extschema@.enqueue(%L, (%s)::date)', 'openmeteo_forecast', kst);
  names := names || job_name;
  RETURN NEXT;

  -- Observations up to yesterday, every morning at 06:00 KST.  KMA ASOS serves
  -- the previous day; the Open-Meteo archive fills recent days in with a delay
  -- of a few days, so the last observation_days days are fetched again (an
  -- unchanged row is not rewritten).
  job_name := 'seongsu_kma_asos_hourly';
  schedule := '0 21 * * *';
  command := format('SELECT @extschema@.enqueue(%L, (%s)::date - %s, (%s)::date - 1)',
                    'kma_asos_hourly', kst, observation_days, kst);
  names := names || job_name;
  RETURN NEXT;

  job_name := 'seongsu_openmeteo_daily';
  schedule := '10 21 * * *';
  command := format('SELECT @extschema@.enqueue(%L, (%s)::date - %s, (%s)::date - 1)',
                    'openmeteo_daily', kst, observation_days, kst);
  names := names || job_name;
  RETURN NEXT;

  -- Holidays: the current month and the next holiday_months months, at 05:00
  -- KST on the 2nd of each month (KASI adds holidays months in advance).
  job_name := 'seongsu_kasi_holidays';
  schedule := '0 20 1 * *';
  command := format('SELECT @extschema@.enqueue(%L, pg_catalog.date_trunc(%L, %s)::date, '
                    '(pg_catalog.date_trunc(%L, %s) + pg_catalog.make_interval(months => %s) - interval %L)::date)',
                    'kasi_holidays', 'month', kst, 'month', kst, holiday_months + 1, '1 day');
  names := names || job_name;
  RETURN NEXT;

  -- pg_cron's history of these jobs, every night at 03:30 KST: the runs
  -- that ended run_details_days ago or earlier (a run that never ended:
  -- that started then).  Only the jobs of the user who schedules them
  -- (row-level security hides the others' jobs, except from a superuser).
  job_name := 'seongsu_purge_run_details';
  names := names || job_name;
  schedule := '30 18 * * *';
  command := format('DELETE FROM cron.job_run_details d USING cron.job j '
                    'WHERE j.jobid OPERATOR(pg_catalog.=) d.jobid '
                    'AND j.jobname OPERATOR(pg_catalog.=) ANY (%L::pg_catalog.text[]) '
                    'AND j.username OPERATOR(pg_catalog.=) CURRENT_USER '
                    'AND coalesce(d.end_time, d.start_time) OPERATOR(pg_catalog.<) '
                    '(pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.make_interval(days => %s))',
                    names, run_details_days);
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION ingestion_schedule(integer, integer, integer, integer) IS
  'The pg_cron jobs seongsu.schedule_ingestion creates: job name, cron schedule (UTC) and SQL command; the last one deletes the rows of cron.job_run_details of these jobs older than run_details_days.';

CREATE OR REPLACE FUNCTION require_pg_cron() RETURNS void
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  cron_db text := (SELECT s.setting FROM pg_catalog.pg_settings s WHERE s.name = 'cron.database_name');
  -- the running server's major version names the package to install
  major integer := pg_catalog.current_setting('server_version_num')::integer / 10000;
  detail text;
BEGIN
  IF pg_catalog.to_regnamespace('cron') IS NOT NULL THEN
    -- (to_regprocedure itself fails without USAGE on the schema)
    IF NOT pg_catalog.has_schema_privilege('cron', 'USAGE') THEN
      RAISE EXCEPTION 'permission denied for schema cron'
        USING ERRCODE = 'insufficient_privilege',
              DETAIL = format('Role %I may not schedule pg_cron jobs.', current_user),
              HINT = format('A superuser can run: GRANT USAGE ON SCHEMA cron TO %I;', current_user);
    END IF;
    IF pg_catalog.to_regprocedure('cron.schedule(text,text,text)') IS NOT NULL THEN
      RETURN;
    END IF;
  END IF;
  IF cron_db IS NULL THEN
    detail := format('The pg_cron extension is not installed in database %I, and the pg_cron library is not loaded.',
                     pg_catalog.current_database());
  ELSIF cron_db <> pg_catalog.current_database() THEN
    detail := format('The pg_cron extension is not installed in database %I; pg_cron runs jobs only in database %I (cron.database_name).  From there, cron.schedule_in_database can run the commands of seongsu.ingestion_schedule() in this database.',
                     pg_catalog.current_database(), cron_db);
  ELSE
    detail := format('The pg_cron extension is not installed in database %I.', pg_catalog.current_database());
  END IF;
  RAISE EXCEPTION 'scheduled ingestion needs pg_cron'
    USING ERRCODE = 'feature_not_supported',
          DETAIL = detail,
          HINT = format('Install pg_cron for PostgreSQL %s (the postgresql-%s-cron package on Debian and Ubuntu, pg_cron_%s on PGDG RPM systems), set shared_preload_libraries = ''pg_cron'' (next to daily_seongsu) and cron.database_name = ''%s'' in postgresql.conf, restart the server, then run CREATE EXTENSION pg_cron in this database.  Without pg_cron, call seongsu.enqueue from any scheduler.',
                        major, major, major, pg_catalog.current_database());
END
$$;

CREATE FUNCTION schedule_ingestion(seoul_daily_days integer DEFAULT 10,
                                   observation_days integer DEFAULT 7,
                                   holiday_months integer DEFAULT 12,
                                   run_details_days integer DEFAULT 14)
  RETURNS SETOF bigint
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  j record;
  worker_db text := pg_catalog.current_setting('seongsu.database', true);
BEGIN
  -- bad arguments first, then the missing pg_cron
  PERFORM 1 FROM @extschema@.ingestion_schedule(seoul_daily_days, observation_days, holiday_months, run_details_days);
  PERFORM @extschema@.require_pg_cron();
  IF worker_db IS NOT NULL AND worker_db <> '' AND worker_db <> pg_catalog.current_database() THEN
    RAISE WARNING 'the ingestion worker runs in database %, not in %', worker_db, pg_catalog.current_database()
      USING DETAIL = 'The scheduled jobs will be queued here but no worker will run them.',
            HINT = format('Set seongsu.database = ''%s'' and restart, or schedule SELECT seongsu.run_pending_jobs() too.',
                          pg_catalog.current_database());
  END IF;
  -- cron.schedule with a job name replaces the current user's job of that
  -- name, so calling this again updates the jobs instead of adding new ones.
  FOR j IN SELECT * FROM @extschema@.ingestion_schedule(seoul_daily_days, observation_days, holiday_months,
                                                        run_details_days) LOOP
    RETURN NEXT cron.schedule(j.job_name, j.schedule, j.command);
  END LOOP;
END
$$;
COMMENT ON FUNCTION schedule_ingestion(integer, integer, integer, integer) IS
  'Create or update the pg_cron jobs (named seongsu_<source>) that enqueue the daily, forecast, observation and holiday fetches, and seongsu_purge_run_details, which keeps their cron.job_run_details rows for run_details_days; returns the pg_cron job ids.  Needs pg_cron in this database.';

REVOKE ALL ON FUNCTION ingestion_schedule(integer, integer, integer, integer),
  schedule_ingestion(integer, integer, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ingestion_schedule(integer, integer, integer, integer),
  schedule_ingestion(integer, integer, integer, integer) TO seongsu_operator;

-- Ingestion scheduled with 0.1.0 keeps running as it was; the user running
-- the update, if they scheduled it, also gets the purge job (what
-- schedule_ingestion now adds).  Other users' schedules are theirs to redo.
DO $$
DECLARE
  purge record;
  others text;
BEGIN
  IF pg_catalog.to_regnamespace('cron') IS NULL OR NOT pg_catalog.has_schema_privilege('cron', 'USAGE')
     OR pg_catalog.to_regprocedure('cron.schedule(text,text,text)') IS NULL THEN
    RETURN;
  END IF;
  SELECT s.* INTO purge FROM @extschema@.ingestion_schedule() s
   WHERE s.job_name OPERATOR(pg_catalog.=) 'seongsu_purge_run_details';
  IF EXISTS (SELECT 1 FROM cron.job c
              WHERE c.username OPERATOR(pg_catalog.=) CURRENT_USER
                AND c.jobname OPERATOR(pg_catalog.=) ANY (SELECT s.job_name FROM @extschema@.ingestion_schedule() s))
     AND NOT EXISTS (SELECT 1 FROM cron.job c
                      WHERE c.username OPERATOR(pg_catalog.=) CURRENT_USER
                        AND c.jobname OPERATOR(pg_catalog.=) purge.job_name) THEN
    PERFORM cron.schedule(purge.job_name, purge.schedule, purge.command);
    RAISE NOTICE 'scheduled the pg_cron job %, which deletes old cron.job_run_details rows of the ingestion jobs',
                 purge.job_name;
  END IF;
  -- (a superuser sees every user's jobs)
  SELECT pg_catalog.string_agg(DISTINCT pg_catalog.quote_ident(c.username), ', ') INTO others
    FROM cron.job c
   WHERE c.username OPERATOR(pg_catalog.<>) CURRENT_USER
     AND c.jobname OPERATOR(pg_catalog.=) ANY (SELECT s.job_name FROM @extschema@.ingestion_schedule() s);
  IF others IS NOT NULL THEN
    RAISE NOTICE 'roles % scheduled ingestion with pg_cron', others
      USING HINT = 'Each of them can run SELECT seongsu.schedule_ingestion(...) again to add the job that purges its cron.job_run_details.';
  END IF;
END
$$;

-- 60_features: the feature columns are listed once, in C; calendar_features
-- and features keep their columns (the list equals 0.1.0's declarations).
CREATE FUNCTION feature_columns()
  RETURNS TABLE (ordinal integer, name text, type text, in_model boolean, in_calendar boolean, description text)
  AS 'MODULE_PATHNAME', 'feature_columns' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION feature_columns() IS
  'Every column of seongsu.features, in order: its SQL type, whether models learn from it, whether seongsu.calendar_features returns it, and what it is.';
COMMENT ON FUNCTION calendar_features(timestamptz) IS
  'Calendar of the KST day and hour of ts: weekday, holidays (substitute, temporary), blocks of days off, bridge days, distances to days off and holidays (capped at 30), season encodings, day type (0 Mon, 1 Tue-Thu, 2 Fri, 3 Sat, 4 Sun/holiday); the columns are described by seongsu.feature_columns().';
COMMENT ON FUNCTION features(text, text, timestamptz, timestamptz, text, interval) IS
  'Every feature row of a station in [from_ts, to_ts] (one per KST day or hour), using only observations at or before ts - horizon; seongsu.feature_columns() describes each column.';
COMMENT ON FUNCTION time_lag(double precision, timestamptz, interval) IS
  'Window function: the value of the row whose ts is exactly ts - lag (NULL when there is no such row); lag >= 0, no months. Use OVER (PARTITION BY ... ORDER BY ts).';
COMMENT ON FUNCTION time_avg(double precision, timestamptz, interval, interval) IS
  'Window function: mean of the non-NULL values with ts in [ts - from_offset, ts - to_offset] (NULL when none); from_offset >= to_offset >= 0, no months. Use OVER (PARTITION BY ... ORDER BY ts).';

CREATE OR REPLACE FUNCTION build_features(station text DEFAULT '성수', line text DEFAULT '2호선',
  from_ts timestamptz DEFAULT NULL, to_ts timestamptz DEFAULT NULL,
  grain text DEFAULT 'daily', horizon interval DEFAULT '1 day')
  RETURNS TABLE (feature_set integer, rows_written bigint)
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  sid integer;
  fs integer;
  lo timestamptz := from_ts;
  hi timestamptz := to_ts;
  n bigint;
  secs bigint := extract(epoch FROM horizon)::bigint;
  set_name text := format('%s %s v1', grain,
                          CASE WHEN secs % 86400 = 0 THEN (secs / 86400) || ' days' ELSE (secs / 3600) || ' hours' END);
BEGIN
  SELECT s.id INTO sid FROM @extschema@.stations s WHERE s.name = station AND s.line = build_features.line;
  IF sid IS NULL THEN
    RAISE EXCEPTION 'station "%" on line "%" is unknown', station, line
      USING ERRCODE = 'undefined_object', HINT = 'Stations come from imported or ingested ridership; see seongsu.stations.';
  END IF;
  IF lo IS NULL OR hi IS NULL THEN
    IF grain = 'hourly' THEN
      SELECT coalesce(lo, min(h.ts)), coalesce(hi, max(h.ts)) INTO lo, hi FROM @extschema@.ridership_hourly h WHERE h.station_id = sid;
    ELSE
      SELECT coalesce(lo, (min(d.day)::timestamp AT TIME ZONE 'Asia/Seoul')),
             coalesce(hi, (max(d.day)::timestamp AT TIME ZONE 'Asia/Seoul'))
        INTO lo, hi FROM @extschema@.ridership_daily d WHERE d.station_id = sid;
    END IF;
  END IF;
  IF lo IS NULL THEN
    RAISE EXCEPTION 'station "%" on line "%" has no % observations', station, line, grain
      USING ERRCODE = 'no_data_found';
  END IF;
  INSERT INTO @extschema@.feature_sets (name, grain, horizon, columns)
  SELECT set_name, grain, horizon, array_agg(c.name ORDER BY c.ordinal)
    FROM @extschema@.feature_columns() c
  ON CONFLICT (name) DO NOTHING;
  SELECT f.id INTO fs FROM @extschema@.feature_sets f WHERE f.name = set_name;
  INSERT INTO @extschema@.feature_rows AS r (feature_set, station_id, ts, row)
  SELECT fs, sid, x.ts, to_jsonb(x) - 'ts'
    FROM @extschema@.features(station, line, lo, hi, grain, horizon) x
  ON CONFLICT (feature_set, station_id, ts) DO UPDATE SET row = EXCLUDED.row, built_at = now()
   WHERE r.row IS DISTINCT FROM EXCLUDED.row;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN QUERY SELECT fs, n;
END
$$;

GRANT EXECUTE ON FUNCTION feature_columns() TO seongsu_reader;

-- 70_models: comments on the bounds 0.2.0 enforces.
COMMENT ON FUNCTION evaluate(bigint, date, date) IS
  'Score a stored model on the observed days of a range (at most 20 years, within 400 days of the station''s observations), with features from observations at least its horizon old (no refit).';
COMMENT ON FUNCTION predict_daily(date, text, text) IS
  'Expected passengers (boardings + alightings) on a KST day, from the deployed model with the shortest horizon whose inputs exist (else the longest, filled recursively); days within 400 days of the station''s observations.';
COMMENT ON FUNCTION forecast(text, text, timestamptz, timestamptz) IS
  'Hourly forecast with a 90% interval from backtest residuals and the crowd level; recursive marks hours whose inputs were themselves forecast. At most 9,600 hours, within 400 days of the station''s observations.';

-- 80_cache: the triggers fire BEFORE the statement, and ALWAYS.
COMMENT ON FUNCTION data_changed_trigger() IS
  'Statement trigger: the prediction caches that read the table are stale in this backend at once, and in every other once the transaction commits (relcache invalidation).';
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['ridership_daily', 'holidays', 'weather_daily', 'weather_forecast',
                           'models', 'deployments', 'stations'] LOOP
    EXECUTE format('DROP TRIGGER data_changed ON @extschema@.%I', t);
    EXECUTE format('CREATE TRIGGER data_changed BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.%I
                    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.data_changed_trigger()', t);
    EXECUTE format('ALTER TABLE @extschema@.%I ENABLE ALWAYS TRIGGER data_changed', t);
  END LOOP;
END $$;
COMMENT ON FUNCTION model_cache() IS
  'The model images held in the shared model cache (seongsu.model_cache_size): bytes, backends predicting from each, times a backend took it from there, and whether it is of the model''s current blob (a rewritten blob is another entry).';

-- 98_dump: every table and sequence is a configuration table, as in a fresh
-- install (the same statement as src/sql/98_dump.sql).
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT c.oid::pg_catalog.regclass AS rel, c.relkind, c.relname
           FROM pg_catalog.pg_class c
           WHERE c.relnamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
             AND c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'S']::pg_catalog."char"[])
           ORDER BY c.relkind, c.relname LOOP
    PERFORM pg_catalog.pg_extension_config_dump(r.rel,
      CASE WHEN r.relname OPERATOR(pg_catalog.=) 'holidays' THEN 'WHERE source <> ''seed''' ELSE '' END);
  END LOOP;
END
$$;

-- 99_privileges: nothing is granted to PUBLIC.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA @extschema@ FROM PUBLIC;
