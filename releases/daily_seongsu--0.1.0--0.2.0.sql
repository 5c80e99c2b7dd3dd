-- daily_seongsu 0.1.0 -> 0.2.0 (ALTER EXTENSION daily_seongsu UPDATE).
-- Written by hand, part by part in the order of src/sql; test/t/060_upgrade.pl
-- proves that 0.1.0 updated by this script equals a fresh install of 0.2.0
-- (docs/releasing.md).  Rows are kept as they are; the one change existing
-- rows could violate (the new CHECKs on seongsu.jobs) is checked first and
-- stops the update with a message naming the rows.
\echo Use "ALTER EXTENSION daily_seongsu UPDATE TO '0.2.0'" to load this file. \quit

-- 20_import: the import kinds are listed once, in C; import_kinds() shows them.
CREATE FUNCTION import_kinds()
  RETURNS TABLE (ordinal integer, name text, description text, layout text)
  AS 'MODULE_PATHNAME', 'import_kinds' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION import_kinds() IS
  'Every kind import_text and import_file accept, in order: its name, what it imports into which table, and the layout it expects.';
COMMENT ON FUNCTION import_text(text, text) IS
  'Parse a whole published file of the given kind (one of seongsu.import_kinds()) and upsert it; returns rows inserted or changed.  All-or-nothing.';
REVOKE ALL ON FUNCTION import_kinds() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION import_kinds() TO seongsu_reader;

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

-- 40_ingest: the sources are listed once, in C; the jobs table's check and
-- source_status are built from ingestion_sources() (as in a fresh install).
CREATE FUNCTION ingestion_sources()
  RETURNS TABLE (ordinal integer, name text, api_key text, description text)
  AS 'MODULE_PATHNAME', 'ingestion_sources' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ingestion_sources() IS
  'Every source seongsu.enqueue accepts, in order: its name, the API key it needs (NULL: none; see seongsu.set_secret) and what it fetches.';
ALTER TABLE jobs DROP CONSTRAINT jobs_source_known;
DO $$
BEGIN
  EXECUTE pg_catalog.format('ALTER TABLE @extschema@.jobs ADD CONSTRAINT jobs_source_known CHECK (source IN (%s))',
                            (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(s.name), ', ' ORDER BY s.ordinal)
                             FROM @extschema@.ingestion_sources() s));
END
$$;
COMMENT ON CONSTRAINT jobs_source_known ON jobs IS 'The source is one seongsu.enqueue knows.';
COMMENT ON COLUMN jobs.source IS 'One of seongsu.ingestion_sources().';
REVOKE ALL ON FUNCTION ingestion_sources() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ingestion_sources() TO seongsu_reader;
CREATE OR REPLACE VIEW source_status AS
  WITH latest(source, latest_day, expected_delay) AS (
    SELECT 'seoul_daily', (SELECT max(day) FROM ridership_daily), interval '4 days'
    UNION ALL SELECT 'seoul_hour_profile', (SELECT (max(month) + interval '1 month - 1 day')::date FROM hour_profile), interval '45 days'
    UNION ALL SELECT 'kma_asos_hourly', (SELECT max((ts AT TIME ZONE 'Asia/Seoul')::date) FROM weather_hourly WHERE source LIKE 'kma%'), interval '2 days'
    UNION ALL SELECT 'kma_forecast', (SELECT max((issued_at AT TIME ZONE 'Asia/Seoul')::date) FROM weather_forecast WHERE source = 'kma-vilage'), interval '1 day'
    UNION ALL SELECT 'kasi_holidays', (SELECT max(day) FROM holidays), interval '-365 days'
    UNION ALL SELECT 'openmeteo_daily', (SELECT max(day) FROM weather_daily WHERE source = 'open-meteo'), interval '7 days'
    UNION ALL SELECT 'openmeteo_forecast', (SELECT max((issued_at AT TIME ZONE 'Asia/Seoul')::date) FROM weather_forecast WHERE source = 'open-meteo'), interval '1 day'
  )
  SELECT s.name AS source, l.latest_day, l.expected_delay,
         (now() AT TIME ZONE 'Asia/Seoul')::date - l.latest_day AS days_behind,
         l.latest_day IS NULL
           OR l.latest_day < ((now() AT TIME ZONE 'Asia/Seoul') - l.expected_delay)::date AS stale,
         (SELECT max(j.finished_at) FROM jobs j WHERE j.source = s.name AND j.state = 'done') AS last_success,
         (SELECT j.last_error FROM jobs j WHERE j.source = s.name AND j.state = 'failed'
           ORDER BY j.finished_at DESC NULLS LAST LIMIT 1) AS last_error
  FROM ingestion_sources() s LEFT JOIN latest l ON l.source = s.name
  ORDER BY s.ordinal;

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

-- 50_quality: one function per check, listed by quality_checks();
-- check_quality runs them (its signature and result are unchanged).
DROP FUNCTION quality_status(text, boolean);
CREATE TYPE quality_target AS (station_id integer, station text, line text, from_date date, to_date date, today date);
COMMENT ON TYPE quality_target IS
  'What a data-quality check looks at: stations.id, station and line as given, the days [from_date, to_date] (open ends are -infinity and infinity) and "today"; made by seongsu.make_quality_target().';

-- One row of the data-quality report.
CREATE TYPE quality_result AS (check_name text, severity text, status text, observed numeric, expected text, detail text);
COMMENT ON TYPE quality_result IS 'One row of seongsu.check_quality: a check''s name, severity, status, observed value, expectation and detail.';

-- The target of check_quality's arguments, to run one check on its own.
CREATE FUNCTION make_quality_target(station text DEFAULT '성수', line text DEFAULT '2호선',
                                    from_date date DEFAULT NULL, to_date date DEFAULT NULL, as_of date DEFAULT NULL)
  RETURNS quality_target
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT ROW(@extschema@.quality_scope(station, line, from_date, to_date), station, line,
               coalesce(from_date, '-infinity'), coalesce(to_date, 'infinity'),
               coalesce(as_of, (now() AT TIME ZONE 'Asia/Seoul')::date))::@extschema@.quality_target
  $$;
COMMENT ON FUNCTION make_quality_target(text, text, date, date, date) IS
  'The target of a data-quality check with check_quality''s arguments (same defaults and errors): seongsu.quality_outliers(seongsu.make_quality_target(as_of => ''2025-06-03'')) runs one check.';

-- A row of the report: pass when ok, otherwise fail for an error-severity
-- check and warn for the others.
CREATE FUNCTION quality_row(check_name text, severity text, ok boolean, observed numeric, expected text, detail text)
  RETURNS quality_result
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT ROW(check_name, severity, CASE WHEN ok THEN 'pass' WHEN severity = 'error' THEN 'fail' ELSE 'warn' END,
               observed, expected, detail)::@extschema@.quality_result
  $$;
COMMENT ON FUNCTION quality_row(text, text, boolean, numeric, text, text) IS
  'Internal: a row of the data-quality report whose status is pass when ok, otherwise fail for error-severity checks and warn for the others.';

-- The holidays as an array: "day = ANY (off_days)" is a hash probe
-- whatever the planner knows about the tables.
CREATE FUNCTION quality_off_days() RETURNS date[]
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT ARRAY(SELECT DISTINCT hd.day FROM @extschema@.holidays hd WHERE hd.is_holiday) $$;
COMMENT ON FUNCTION quality_off_days() IS 'Internal: the days of seongsu.holidays that are holidays, as an array.';

-- daily_rows: is there anything to check at all?
CREATE FUNCTION quality_daily_rows(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  first_day date;
  last_day date;
  n_days bigint;
  sources text;
BEGIN
  SELECT min(d.day), max(d.day), count(*) INTO first_day, last_day, n_days
    FROM @extschema@.ridership_daily d WHERE d.station_id = t.station_id AND d.day BETWEEN t.from_date AND t.to_date;
  SELECT string_agg(format('%s from %s', to_char(s.k, 'FM9,999,999,990'), s.source), ', ' ORDER BY s.source) INTO sources
    FROM (SELECT d.source, count(*) AS k FROM @extschema@.ridership_daily d
           WHERE d.station_id = t.station_id AND d.day BETWEEN t.from_date AND t.to_date GROUP BY d.source) s;
  RETURN NEXT @extschema@.quality_row('daily_rows', 'error', n_days > 0, n_days, 'at least 1 day',
    CASE WHEN n_days = 0 THEN format('No daily ridership for %s %s in the range.', t.station, t.line)
         ELSE format('%s from %s to %s (%s).', @extschema@.count_text(n_days, 'day'), first_day, last_day, sources) END);
END
$$;
COMMENT ON FUNCTION quality_daily_rows(quality_target) IS
  'Data-quality check daily_rows (error): the station has daily ridership in the range; detail: days, first and last, rows per source.';

-- missing_days: gaps between the first and last observed day.
CREATE FUNCTION quality_missing_days(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  first_day date;
  last_day date;
  n_days bigint;
  n bigint;
  m bigint;
  runs text;
BEGIN
  SELECT min(d.day), max(d.day), count(*) INTO first_day, last_day, n_days
    FROM @extschema@.ridership_daily d WHERE d.station_id = t.station_id AND d.day BETWEEN t.from_date AND t.to_date;
  SELECT coalesce(sum(g.days), 0), count(*),
         string_agg(@extschema@.day_range_text(g.gap_from, g.gap_to), ', ' ORDER BY g.gap_from) FILTER (WHERE g.k <= 5)
    INTO n, m, runs
    FROM (SELECT x.*, row_number() OVER (ORDER BY x.gap_from) AS k
            FROM @extschema@.missing_days(t.station, t.line, t.from_date, t.to_date) x) g;
  RETURN NEXT @extschema@.quality_row('missing_days', 'warning', n = 0, n, '0 days',
    CASE WHEN n_days = 0 THEN 'No observed days.'
         WHEN n = 0 THEN format('No gaps over %s..%s.', first_day, last_day)
         ELSE format('%s in %s over %s..%s: %s%s.', @extschema@.count_text(n, 'day'), @extschema@.count_text(m, 'run'),
                     first_day, last_day, runs,
                     CASE WHEN m > 5 THEN format(' and %s', @extschema@.count_text(m - 5, 'more run')) ELSE '' END) END);
END
$$;
COMMENT ON FUNCTION quality_missing_days(quality_target) IS
  'Data-quality check missing_days (warning): no day is missing between the first and the last observed day; detail: the first 5 runs (seongsu.missing_days lists them all).';

-- missing_hours: service hours 05-23 absent on service days that have hourly rows.
CREATE FUNCTION quality_missing_hours(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  m bigint;
  n bigint;
  absent_hours bigint;
  examples text;
BEGIN
  WITH per_day AS (
    SELECT h.service_day,
           array_agg(extract(hour FROM h.ts AT TIME ZONE 'Asia/Seoul')::integer) AS hours
      FROM @extschema@.ridership_hourly h
     WHERE h.station_id = t.station_id AND h.service_day BETWEEN t.from_date AND t.to_date
     GROUP BY h.service_day
  ), short AS (
    SELECT p.service_day,
           ARRAY(SELECT lpad(s::text, 2, '0') FROM generate_series(5, 23) s
                  WHERE s <> ALL (p.hours) ORDER BY s) AS absent,
           row_number() OVER (ORDER BY p.service_day) AS k
      FROM per_day p
     WHERE NOT (ARRAY(SELECT generate_series(5, 23)) <@ p.hours)
  )
  SELECT (SELECT count(*) FROM per_day), count(*), coalesce(sum(cardinality(s.absent)), 0),
         string_agg(format('%s (%s)', s.service_day, array_to_string(s.absent, ', ')), '; ' ORDER BY s.service_day)
           FILTER (WHERE s.k <= 5)
    INTO m, n, absent_hours, examples
    FROM short s;
  RETURN NEXT @extschema@.quality_row('missing_hours', 'warning', n = 0, absent_hours, '0 hours missing in 05-23',
    CASE WHEN m = 0 THEN 'No hourly ridership in the range.'
         WHEN n = 0 THEN format('%s with hourly rows, all with hours 05-23.', @extschema@.count_text(m, 'service day'))
         ELSE format('%s of %s with hourly rows miss hours: %s%s.', to_char(n, 'FM9,999,999,990'),
                     @extschema@.count_text(m, 'service day'), examples, CASE WHEN n > 5 THEN '; …' ELSE '' END) END);
END
$$;
COMMENT ON FUNCTION quality_missing_hours(quality_target) IS
  'Data-quality check missing_hours (warning): every service day with hourly rows has the hours 05-23; observed: hours missing.';

-- impossible_values: counts no station can have, zero traffic on a working
-- weekday, observations dated after today.  (Negative counts and
-- passengers <> boardings + alightings are refused by the tables' CHECKs.)
CREATE FUNCTION quality_impossible_values(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  nf CONSTANT text := 'FM9,999,999,990';
  off_days date[] := @extschema@.quality_off_days();
  n bigint;
  kinds text;
BEGIN
  WITH bad AS (
    SELECT 'Days above 1,000,000 passengers' AS kind, d.day, format('%s %s', d.day, to_char(d.passengers, nf)) AS example
      FROM @extschema@.ridership_daily d
     WHERE d.station_id = t.station_id AND d.day BETWEEN t.from_date AND t.to_date AND d.passengers > 1000000
    UNION ALL
    SELECT 'Working weekdays with 0 boardings or alightings', d.day,
           format('%s %s/%s', d.day, to_char(d.boardings, nf), to_char(d.alightings, nf))
      FROM @extschema@.ridership_daily d
     WHERE d.station_id = t.station_id AND d.day BETWEEN t.from_date AND t.to_date
       AND extract(isodow FROM d.day) < 6 AND (d.boardings = 0 OR d.alightings = 0)
       AND d.day <> ALL (off_days)
    UNION ALL
    SELECT format('Days dated after %s', t.today), d.day, d.day::text
      FROM @extschema@.ridership_daily d
     WHERE d.station_id = t.station_id AND d.day BETWEEN t.from_date AND t.to_date AND d.day > t.today
    UNION ALL
    SELECT 'Hours above 100,000 passengers', h.service_day,
           format('%s %s', to_char(h.ts AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD HH24:00'), to_char(h.passengers, nf))
      FROM @extschema@.ridership_hourly h
     WHERE h.station_id = t.station_id AND h.service_day BETWEEN t.from_date AND t.to_date AND h.passengers > 100000
    UNION ALL
    SELECT format('Hours of service days after %s', t.today), h.service_day,
           to_char(h.ts AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD HH24:00')
      FROM @extschema@.ridership_hourly h
     WHERE h.station_id = t.station_id AND h.service_day BETWEEN t.from_date AND t.to_date AND h.service_day > t.today
  ), per_kind AS (
    SELECT b.kind, count(*) AS k,
           string_agg(b.example, ', ' ORDER BY b.day, b.example) FILTER (WHERE b.rn <= 3) AS examples
      FROM (SELECT bad.*, row_number() OVER (PARTITION BY bad.kind ORDER BY bad.day, bad.example) AS rn FROM bad) b
     GROUP BY b.kind
  )
  SELECT coalesce(sum(p.k), 0),
         string_agg(format('%s: %s (%s%s)', p.kind, to_char(p.k, nf), p.examples,
                           CASE WHEN p.k > 3 THEN ', …' ELSE '' END), '; ' ORDER BY p.kind)
    INTO n, kinds FROM per_kind p;
  RETURN NEXT @extschema@.quality_row('impossible_values', 'error', n = 0, n, '0 rows',
    CASE WHEN n = 0 THEN format('No day above 1,000,000 passengers, no hour above 100,000, no working weekday with 0 boardings or alightings, nothing dated after %s.', t.today)
         ELSE kinds || '.' END);
END
$$;
COMMENT ON FUNCTION quality_impossible_values(quality_target) IS
  'Data-quality check impossible_values (error): no day above 1,000,000 passengers, no hour above 100,000, no working weekday with 0 boardings or alightings, nothing dated after today.';

-- source_agreement: CARD daily totals vs Seoul Metro all-ticket hourly sums.
CREATE FUNCTION quality_source_agreement(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  nf CONSTANT text := 'FM9,999,999,990';
  m bigint;
  median numeric;
  n bigint;
  worst text;
BEGIN
  WITH sm AS (
    SELECT h.service_day AS day, sum(h.passengers) AS p
      FROM @extschema@.ridership_hourly h
     WHERE h.station_id = t.station_id AND h.source = 'seoulmetro_hourly' AND h.service_day BETWEEN t.from_date AND t.to_date
     GROUP BY h.service_day
  ), cmp AS (
    SELECT sm.day, d.passengers AS card, sm.p, d.passengers::numeric / nullif(sm.p, 0) AS ratio
      FROM sm JOIN @extschema@.ridership_daily d ON d.station_id = t.station_id AND d.day = sm.day
  ), bad AS (
    SELECT cmp.*, row_number() OVER (ORDER BY abs(coalesce(cmp.ratio, 2) - 1) DESC, cmp.day) AS k
      FROM cmp WHERE cmp.ratio IS NULL OR abs(cmp.ratio - 1) > 0.03
  )
  SELECT (SELECT count(*) FROM cmp),
         (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY cmp.ratio) FROM cmp)::numeric,
         count(*),
         string_agg(format('%s CARD %s vs Seoul Metro %s (%s%%)', b.day, to_char(b.card, nf), to_char(b.p, nf),
                           coalesce(to_char(100 * (b.ratio - 1), 'FMSG9990.0'), 'n/a')), ', ' ORDER BY b.k) FILTER (WHERE b.k <= 3)
    INTO m, median, n, worst FROM bad b;
  RETURN NEXT @extschema@.quality_row('source_agreement', 'error', n = 0, n, '0 days with |CARD / Seoul Metro - 1| > 3%',
    CASE WHEN m = 0 THEN 'No day has both CARD daily and Seoul Metro hourly totals.'
         WHEN n = 0 THEN format('%s compared, CARD / Seoul Metro median %s.', @extschema@.count_text(m, 'day'), round(median, 4))
         ELSE format('%s of %s disagree (median ratio %s): %s%s.', to_char(n, nf), @extschema@.count_text(m, 'day'),
                     round(median, 4), worst, CASE WHEN n > 3 THEN ', …' ELSE '' END) END);
END
$$;
COMMENT ON FUNCTION quality_source_agreement(quality_target) IS
  'Data-quality check source_agreement (error): CARD daily passengers within 3% of the sum of Seoul Metro''s hourly counts on the days that have both.';

-- hourly_vs_daily: per direction, the hourly sums of a day against its daily row.
CREATE FUNCTION quality_hourly_vs_daily(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  nf CONSTANT text := 'FM9,999,999,990';
  m bigint;
  n bigint;
  worst text;
BEGIN
  WITH hs AS (
    SELECT h.service_day AS day, sum(h.boardings) AS b, sum(h.alightings) AS a, sum(h.passengers) AS p,
           count(*) = count(h.boardings) AND count(*) = count(h.alightings) AS split
      FROM @extschema@.ridership_hourly h
     WHERE h.station_id = t.station_id AND h.service_day BETWEEN t.from_date AND t.to_date
     GROUP BY h.service_day
  ), cmp AS (
    SELECT hs.day, x.what, x.daily, x.hourly, x.daily::numeric / nullif(x.hourly, 0) - 1 AS dev
      FROM hs JOIN @extschema@.ridership_daily d ON d.station_id = t.station_id AND d.day = hs.day
      CROSS JOIN LATERAL (VALUES ('boardings', d.boardings::bigint, hs.b, hs.split),
                                 ('alightings', d.alightings::bigint, hs.a, hs.split),
                                 ('passengers', d.passengers::bigint, hs.p, NOT hs.split)) x(what, daily, hourly, used)
     WHERE x.used
  ), bad AS (
    SELECT cmp.*, row_number() OVER (ORDER BY abs(coalesce(cmp.dev, 1)) DESC, cmp.day, cmp.what) AS k
      FROM cmp WHERE cmp.dev IS NULL OR abs(cmp.dev) > 0.05
  )
  SELECT (SELECT count(DISTINCT cmp.day) FROM cmp), count(DISTINCT b.day),
         string_agg(format('%s %s %s daily vs %s hourly (%s%%)', b.day, b.what, to_char(b.daily, nf), to_char(b.hourly, nf),
                           coalesce(to_char(100 * b.dev, 'FMSG9990.0'), 'n/a')), ', ' ORDER BY b.k) FILTER (WHERE b.k <= 3)
    INTO m, n, worst FROM bad b;
  RETURN NEXT @extschema@.quality_row('hourly_vs_daily', 'warning', n = 0, n, '0 days with a direction off by more than 5%',
    CASE WHEN m = 0 THEN 'No day has both hourly and daily ridership.'
         WHEN n = 0 THEN format('%s with both agree within 5%% in boardings and alightings (passengers where the hours are not split).', @extschema@.count_text(m, 'day'))
         ELSE format('%s of %s with both differ by more than 5%%: %s%s.', to_char(n, nf), @extschema@.count_text(m, 'day'), worst,
                     CASE WHEN n > 3 THEN ', …' ELSE '' END) END);
END
$$;
COMMENT ON FUNCTION quality_hourly_vs_daily(quality_target) IS
  'Data-quality check hourly_vs_daily (warning): the hourly sums of a day within 5% of its daily row, per direction (passengers where the hours are not split).';

-- outliers and holiday_outliers: each day against the median of the same
-- weekday in the 4 weeks before and after it (holidays left out, at least
-- 4 such days), as a relative deviation; a day is an outlier when that
-- deviation is more than 5 * 1.4826 * MAD from the median deviation of its
-- weekday x month over the range.  A local median rather than one per
-- weekday x month over the whole range: ridership doubled 2015-2025 and
-- Seongsu's weekends tripled, so whole-range medians flag growth, not errors.
-- One function for both rows: they split the same flagged days.
CREATE FUNCTION quality_outliers(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  nf CONSTANT text := 'FM9,999,999,990';
  pf CONSTANT text := 'FMSG9990.0';
  off_days date[] := @extschema@.quality_off_days();
  n bigint;
  worst text;
  m bigint;
  holiday_worst text;
BEGIN
  WITH obs AS (
    SELECT d.day, d.passengers::double precision AS x, extract(isodow FROM d.day)::integer AS dow,
           extract(month FROM d.day)::integer AS mon,
           d.day = ANY (off_days) AS holiday
      FROM @extschema@.ridership_daily d
     WHERE d.station_id = t.station_id AND d.day BETWEEN t.from_date AND t.to_date
  ), local AS (
    SELECT o.*, array_agg(o.x) FILTER (WHERE NOT o.holiday)
                  OVER (PARTITION BY o.dow ORDER BY o.day
                        RANGE BETWEEN interval '28 days' PRECEDING AND interval '28 days' FOLLOWING
                        EXCLUDE CURRENT ROW) AS around
      FROM obs o
  ), dev AS (
    SELECT l.day, l.x, l.dow, l.mon, l.holiday, e.m AS e, l.x / e.m - 1 AS r
      FROM local l CROSS JOIN LATERAL (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS m FROM unnest(l.around) v) e
     WHERE cardinality(l.around) >= 4 AND e.m > 0
  ), band AS MATERIALIZED (
    SELECT g.dow, g.mon, g.m,
           (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(v - g.m)) FROM unnest(g.rs) v) * 1.4826 AS s
      FROM (SELECT v.dow, v.mon, array_agg(v.r) AS rs, percentile_cont(0.5) WITHIN GROUP (ORDER BY v.r) AS m
              FROM dev v WHERE NOT v.holiday GROUP BY v.dow, v.mon HAVING count(*) >= 5) g
  ), flagged AS (
    SELECT v.day, v.x, v.e, v.r, v.holiday, (v.r - b.m) / b.s AS z,
           row_number() OVER (PARTITION BY v.holiday ORDER BY abs(v.r - b.m) / b.s DESC, v.day) AS k
      FROM dev v JOIN band b ON b.dow = v.dow AND b.mon = v.mon
     WHERE b.s > 0 AND abs(v.r - b.m) > 5 * b.s
  )
  SELECT count(*) FILTER (WHERE NOT f.holiday),
         string_agg(format('%s %s vs %s (%s%%, %s MAD)', f.day, to_char(f.x, nf), to_char(f.e, nf),
                           to_char(100 * f.r, pf), to_char(f.z, pf)), ', ' ORDER BY f.k) FILTER (WHERE NOT f.holiday AND f.k <= 5),
         count(*) FILTER (WHERE f.holiday),
         string_agg(format('%s %s vs %s (%s%%)', f.day, to_char(f.x, nf), to_char(f.e, nf), to_char(100 * f.r, pf)),
                    ', ' ORDER BY f.k) FILTER (WHERE f.holiday AND f.k <= 3)
    INTO n, worst, m, holiday_worst FROM flagged f;
  RETURN NEXT @extschema@.quality_row('outliers', 'warning', n = 0, n, '0 non-holiday days beyond 5 MAD of the same weekday ±4 weeks',
    CASE WHEN n = 0 THEN 'No non-holiday day is an outlier.'
         ELSE format('%s; worst: %s%s.', @extschema@.count_text(n, 'day'), worst, CASE WHEN n > 5 THEN ', …' ELSE '' END) END);
  RETURN NEXT @extschema@.quality_row('holiday_outliers', 'info', true, m, 'holidays are expected to be outliers',
    CASE WHEN m = 0 THEN 'No holiday is an outlier.'
         ELSE format('%s (not counted in outliers); most extreme: %s%s.', @extschema@.count_text(m, 'holiday'), holiday_worst,
                     CASE WHEN m > 3 THEN ', …' ELSE '' END) END);
END
$$;
COMMENT ON FUNCTION quality_outliers(quality_target) IS
  'Data-quality checks outliers (warning) and holiday_outliers (info): days more than 5 * 1.4826 * MAD from the median of the same weekday ±4 weeks, by their weekday x month band; holidays are counted apart.';

-- level_shift: the median of the working days (Monday-Friday, not
-- holidays) of the last 28 days against that of the 28 days before, both
-- with at least 12 working days observed.  15%: on the real data normal
-- years stay within ±10% and COVID-19 moved it by 16-18%.  Flagged days in
-- the same direction less than 28 days apart form one episode.
CREATE FUNCTION quality_level_shift(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  nf CONSTANT text := 'FM9,999,999,990';
  pf CONSTANT text := 'FMSG9990.0';
  off_days date[] := @extschema@.quality_off_days();
  n bigint;
  shift_day date;
  episode_list text;
BEGIN
  WITH wd AS (
    SELECT d.day, d.passengers::double precision AS x
      FROM @extschema@.ridership_daily d
     WHERE d.station_id = t.station_id AND d.day BETWEEN t.from_date AND t.to_date AND extract(isodow FROM d.day) < 6
       AND d.day <> ALL (off_days)
  ), frames AS (
    SELECT wd.day,
           array_agg(wd.x) OVER (ORDER BY wd.day RANGE BETWEEN interval '27 days' PRECEDING AND CURRENT ROW) AS cur,
           array_agg(wd.x) OVER (ORDER BY wd.day RANGE BETWEEN interval '55 days' PRECEDING AND interval '28 days' PRECEDING) AS prev
      FROM wd
  ), win AS MATERIALIZED (
    SELECT f.day,
           (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM unnest(f.cur) v) AS cur,
           (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM unnest(f.prev) v) AS prev
      FROM frames f
     WHERE cardinality(f.cur) >= 12 AND cardinality(f.prev) >= 12
  ), shifted AS (
    SELECT w.day, w.cur, w.prev, w.cur / nullif(w.prev, 0) - 1 AS chg
      FROM win w
  ), starts AS (
    SELECT s.*, CASE WHEN s.day - lag(s.day) OVER (ORDER BY s.day) < 28
                      AND sign(s.chg) = sign(lag(s.chg) OVER (ORDER BY s.day)) THEN 0 ELSE 1 END AS new_episode
      FROM shifted s WHERE abs(s.chg) > 0.15
  ), episodes AS (
    SELECT e.*, sum(e.new_episode) OVER (ORDER BY e.day) AS ep FROM starts e
  ), summary AS (
    SELECT ep.ep, min(ep.day) AS first_day,
           (array_agg(format('%s %s: working-day median %s vs %s in the 28 days before (%s%%)', ep.day,
                             CASE WHEN ep.chg < 0 THEN 'drop' ELSE 'jump' END, to_char(ep.cur, nf), to_char(ep.prev, nf),
                             to_char(100 * ep.chg, pf)) ORDER BY ep.day))[1] AS first_text,
           CASE WHEN min(ep.chg) < 0 THEN min(ep.chg) ELSE max(ep.chg) END AS extreme
      FROM episodes ep GROUP BY ep.ep
  )
  SELECT count(*), min(s.first_day),
         string_agg(format('%s, at most %s%%', s.first_text, to_char(100 * s.extreme, pf)), '; ' ORDER BY s.first_day)
           FILTER (WHERE s.ep <= 3)
    INTO n, shift_day, episode_list FROM summary s;
  RETURN NEXT @extschema@.quality_row('level_shift', 'warning', n = 0, n, '0 episodes of the 28-day working-day median moving more than 15%',
    CASE WHEN n = 0 THEN 'No 28-day working-day median differs by more than 15% from the 28 days before it.'
         ELSE format('%s, the first from %s: %s%s.', @extschema@.count_text(n, 'episode'), shift_day, episode_list,
                     CASE WHEN n > 3 THEN '; …' ELSE '' END) END);
END
$$;
COMMENT ON FUNCTION quality_level_shift(quality_target) IS
  'Data-quality check level_shift (warning): episodes of the 28-day working-day median moving more than 15% from the 28 days before it.';

-- weather_coverage: ridership days with a weather_daily row from any
-- source (warning below 95%), then per source (info).  Grouped by day
-- rather than joined: weather_daily has no index on day alone.
CREATE FUNCTION quality_weather_coverage(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  first_day date;
  last_day date;
  n_days bigint;
  n bigint;
  m bigint;
  share numeric;
  gaps text;
  r record;
BEGIN
  SELECT min(d.day), max(d.day), count(*) INTO first_day, last_day, n_days
    FROM @extschema@.ridership_daily d WHERE d.station_id = t.station_id AND d.day BETWEEN t.from_date AND t.to_date;
  WITH obs AS (
    SELECT u.day, bool_or(NOT u.ride) AS covered
      FROM (SELECT d.day, true AS ride FROM @extschema@.ridership_daily d
             WHERE d.station_id = t.station_id AND d.day BETWEEN t.from_date AND t.to_date
            UNION ALL
            SELECT w.day, false FROM @extschema@.weather_daily w WHERE w.day BETWEEN first_day AND last_day) u
     GROUP BY u.day
    HAVING bool_or(u.ride)
  ), runs AS (
    SELECT min(u.day) AS a, max(u.day) AS b,
           row_number() OVER (ORDER BY min(u.day)) AS k, count(*) OVER () AS runs
      FROM (SELECT o.day, o.day - (row_number() OVER (ORDER BY o.day))::integer AS grp FROM obs o WHERE NOT o.covered) u
     GROUP BY u.grp
  )
  SELECT (SELECT count(*) FROM obs WHERE obs.covered), max(runs.runs),
         string_agg(@extschema@.day_range_text(runs.a, runs.b), ', ' ORDER BY runs.a) FILTER (WHERE runs.k <= 3)
    INTO n, m, gaps FROM runs;
  share := round(100.0 * n / nullif(n_days, 0), 1);
  RETURN NEXT @extschema@.quality_row('weather_coverage', 'warning', coalesce(share >= 95, true), share, '>= 95% of ridership days',
    CASE WHEN n_days = 0 THEN 'No ridership days in the range.'
         WHEN n = n_days THEN format('All %s have daily weather.', @extschema@.count_text(n_days, 'ridership day'))
         ELSE format('%s of %s have daily weather; without: %s%s.', to_char(n, 'FM9,999,999,990'),
                     @extschema@.count_text(n_days, 'ridership day'), gaps,
                     CASE WHEN m > 3 THEN format(' and %s', @extschema@.count_text(m - 3, 'more run')) ELSE '' END) END);
  FOR r IN
    SELECT w.source, count(*) AS k, min(w.day) AS a, max(w.day) AS b
      FROM @extschema@.weather_daily w
     WHERE w.day IN (SELECT d.day FROM @extschema@.ridership_daily d
                      WHERE d.station_id = t.station_id AND d.day BETWEEN t.from_date AND t.to_date)
     GROUP BY w.source ORDER BY w.source
  LOOP
    RETURN NEXT @extschema@.quality_row('weather_coverage:' || r.source, 'info', true, round(100.0 * r.k / n_days, 1),
      'share of ridership days, %',
      format('%s of %s, between %s and %s.', to_char(r.k, 'FM9,999,999,990'), @extschema@.count_text(n_days, 'ridership day'), r.a, r.b));
  END LOOP;
END
$$;
COMMENT ON FUNCTION quality_weather_coverage(quality_target) IS
  'Data-quality checks weather_coverage (warning): at least 95% of the ridership days have daily weather; weather_coverage:<source> (info): each source''s share.';

-- holiday_years: every year with ridership needs its holidays.
CREATE FUNCTION quality_holiday_years(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  n bigint;
  years text;
BEGIN
  SELECT count(*), string_agg(ys.y::text, ', ' ORDER BY ys.y) INTO n, years
    FROM (SELECT DISTINCT extract(year FROM d.day)::integer AS y
            FROM @extschema@.ridership_daily d WHERE d.station_id = t.station_id AND d.day BETWEEN t.from_date AND t.to_date) ys
   WHERE NOT EXISTS (SELECT 1 FROM @extschema@.holidays h
                      WHERE h.is_holiday AND h.day BETWEEN make_date(ys.y, 1, 1) AND make_date(ys.y, 12, 31));
  RETURN NEXT @extschema@.quality_row('holiday_years', 'warning', n = 0, n, '0 years with ridership and no holidays',
    CASE WHEN n = 0 THEN 'Every year with ridership has holidays loaded.'
         ELSE format('No holidays loaded for %s; import the KASI responses of those years.', years) END);
END
$$;
COMMENT ON FUNCTION quality_holiday_years(quality_target) IS
  'Data-quality check holiday_years (warning): every year with ridership in the range has holidays loaded.';

-- holiday_horizon: the calendar must reach 90 days past today.
CREATE FUNCTION quality_holiday_horizon(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  latest record;
  known_through date;
  n bigint;
BEGIN
  SELECT h.day, h.name INTO latest FROM @extschema@.holidays h WHERE h.is_holiday ORDER BY h.day DESC, h.name LIMIT 1;
  SELECT count(*) INTO n FROM @extschema@.holidays h WHERE h.is_holiday AND h.day > t.today AND h.day <= t.today + 90;
  known_through := make_date(extract(year FROM latest.day)::integer, 12, 31);   -- NULL when no holiday is loaded
  RETURN NEXT @extschema@.quality_row('holiday_horizon', 'warning', n > 0 AND known_through >= t.today + 90, known_through - t.today,
    '>= 90 days of known holiday calendar and a holiday within 90 days',
    CASE WHEN latest.day IS NULL THEN 'No holidays are loaded.'
         ELSE format('Holidays known through %s (latest %s %s); %s from %s to %s.', extract(year FROM latest.day), latest.day,
                     latest.name, @extschema@.count_text(n, 'holiday'), t.today + 1, t.today + 90) END);
END
$$;
COMMENT ON FUNCTION quality_holiday_horizon(quality_target) IS
  'Data-quality check holiday_horizon (warning): the holiday calendar reaches 90 days past today and has a holiday in them; observed: days of calendar left.';

-- staleness:<source>: seongsu.source_status measured against today
-- (kasi_holidays is holiday_horizon's business).
CREATE FUNCTION quality_staleness(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT s.source, s.latest_day, extract(day FROM s.expected_delay)::integer AS delay
      FROM @extschema@.source_status s WHERE s.source <> 'kasi_holidays' ORDER BY s.source
  LOOP
    RETURN NEXT @extschema@.quality_row('staleness:' || r.source, CASE WHEN r.latest_day IS NULL THEN 'info' ELSE 'warning' END,
      r.latest_day >= t.today - r.delay, t.today - r.latest_day,
      format('<= %s behind', @extschema@.count_text(r.delay, 'day')),
      CASE WHEN r.latest_day IS NULL THEN 'No rows from this source yet.'
           WHEN r.latest_day > t.today THEN format('Latest day %s is after %s.', r.latest_day, t.today)
           ELSE format('Latest day %s, %s before %s.', r.latest_day, @extschema@.count_text(t.today - r.latest_day, 'day'), t.today) END);
  END LOOP;
END
$$;
COMMENT ON FUNCTION quality_staleness(quality_target) IS
  'Data-quality checks staleness:<source> (warning; info while a source has no rows): the latest day of each source of seongsu.source_status but kasi_holidays is at most its expected delay before today.';

-- congestion_survey: the latest survey of the station and its day types.
CREATE FUNCTION quality_congestion_survey(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  n bigint;
  first_survey text;
  last_survey text;
  m bigint;
  slots bigint;
  day_types text;
BEGIN
  WITH sv AS (
    SELECT c.survey, c.day_type, count(*) AS k
      FROM @extschema@.congestion_survey c JOIN @extschema@.stations s ON s.id = t.station_id
     WHERE c.line = s.line AND (c.station_code = s.metro_code OR c.station = s.name)
     GROUP BY c.survey, c.day_type
  )
  SELECT (SELECT count(DISTINCT sv.survey) FROM sv), (SELECT min(sv.survey) FROM sv), l.survey,
         count(sv.day_type), coalesce(sum(sv.k), 0),
         string_agg(sv.day_type, ', ' ORDER BY array_position(ARRAY['평일', '토요일', '일요일'], sv.day_type))
    INTO n, first_survey, last_survey, m, slots, day_types
    FROM (SELECT max(sv.survey) AS survey FROM sv) l LEFT JOIN sv ON sv.survey = l.survey
   GROUP BY l.survey;
  RETURN NEXT @extschema@.quality_row('congestion_survey', 'info', m = 3, n, 'a latest survey with 평일, 토요일 and 일요일',
    CASE WHEN n = 0 THEN format('No congestion survey of %s %s.', t.station, t.line)
         ELSE format('Latest survey %s with %s (%s); %s from %s to %s.', last_survey, day_types,
                     @extschema@.count_text(slots, 'slot'), @extschema@.count_text(n, 'survey'), first_survey, last_survey) END);
END
$$;
COMMENT ON FUNCTION quality_congestion_survey(quality_target) IS
  'Data-quality check congestion_survey (info): the station''s latest congestion survey has 평일, 토요일 and 일요일.';

-- The checks of check_quality, in the order of its report.
CREATE FUNCTION quality_checks() RETURNS regproc[]
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT ARRAY['@extschema@.quality_daily_rows', '@extschema@.quality_missing_days', '@extschema@.quality_missing_hours',
                 '@extschema@.quality_impossible_values', '@extschema@.quality_source_agreement',
                 '@extschema@.quality_hourly_vs_daily', '@extschema@.quality_outliers', '@extschema@.quality_level_shift',
                 '@extschema@.quality_weather_coverage', '@extschema@.quality_holiday_years',
                 '@extschema@.quality_holiday_horizon', '@extschema@.quality_staleness',
                 '@extschema@.quality_congestion_survey']::regproc[]
  $$;
COMMENT ON FUNCTION quality_checks() IS
  'The data-quality checks that seongsu.check_quality runs, in order: functions (seongsu.quality_target) RETURNS SETOF seongsu.quality_result.';

-- The data-quality report: one row per check (see README "Data quality").

CREATE OR REPLACE FUNCTION check_quality(station text DEFAULT '성수', line text DEFAULT '2호선',
                              from_date date DEFAULT NULL, to_date date DEFAULT NULL,
                              as_of date DEFAULT NULL)
  RETURNS TABLE (check_name text, severity text, status text, observed numeric, expected text, detail text)
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  sid integer := @extschema@.quality_scope(station, line, from_date, to_date);
  target @extschema@.quality_target := ROW(sid, station, line, coalesce(from_date, '-infinity'), coalesce(to_date, 'infinity'),
                                           coalesce(as_of, (now() AT TIME ZONE 'Asia/Seoul')::date));
  check_function regproc;
BEGIN
  -- regproc's text is the function's schema-qualified name (the schema is
  -- not on this function's search_path)
  FOREACH check_function IN ARRAY @extschema@.quality_checks() LOOP
    RETURN QUERY EXECUTE format('SELECT * FROM %s($1)', check_function) USING target;
  END LOOP;
END
$$;
COMMENT ON FUNCTION check_quality(text, text, date, date, date) IS
  'Data-quality report of a station over [from_date, to_date] (default: everything), one row per check; as_of fixes "today" (default: the KST date).  See README "Data quality".';

-- The quality gate for training and scheduled jobs: raise when an
-- error-severity check fails (SQLSTATE SSQ01), or only warn with force.
REVOKE ALL ON FUNCTION make_quality_target(text, text, date, date, date), quality_row(text, text, boolean, numeric, text, text),
  quality_off_days(), quality_daily_rows(quality_target), quality_missing_days(quality_target),
  quality_missing_hours(quality_target), quality_impossible_values(quality_target),
  quality_source_agreement(quality_target), quality_hourly_vs_daily(quality_target), quality_outliers(quality_target),
  quality_level_shift(quality_target), quality_weather_coverage(quality_target), quality_holiday_years(quality_target),
  quality_holiday_horizon(quality_target), quality_staleness(quality_target), quality_congestion_survey(quality_target),
  quality_checks() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION make_quality_target(text, text, date, date, date), quality_row(text, text, boolean, numeric, text, text),
  quality_off_days(), quality_daily_rows(quality_target), quality_missing_days(quality_target),
  quality_missing_hours(quality_target), quality_impossible_values(quality_target),
  quality_source_agreement(quality_target), quality_hourly_vs_daily(quality_target), quality_outliers(quality_target),
  quality_level_shift(quality_target), quality_weather_coverage(quality_target), quality_holiday_years(quality_target),
  quality_holiday_horizon(quality_target), quality_staleness(quality_target), quality_congestion_survey(quality_target),
  quality_checks() TO seongsu_reader;
REVOKE ALL ON TYPE quality_target, quality_result FROM PUBLIC;
GRANT USAGE ON TYPE quality_target, quality_result TO seongsu_reader;

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








-- ======== pipeline (issue 16): seongsu.run_pipeline and its tables (src/sql/88_pipeline.sql, 89_pipeline_steps.sql) ========
-- Jobs of source pipeline (a run of seongsu.run_pipeline) join train.
ALTER TABLE jobs DROP CONSTRAINT jobs_source_known;
DO $$
BEGIN
  EXECUTE pg_catalog.format('ALTER TABLE @extschema@.jobs ADD CONSTRAINT jobs_source_known CHECK (source IN (%s, ''train'', ''pipeline''))',
                            (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(s.name), ', ' ORDER BY s.ordinal)
                             FROM @extschema@.ingestion_sources() s));
END
$$;
COMMENT ON CONSTRAINT jobs_source_known ON jobs IS 'The source is one seongsu.enqueue knows.';
COMMENT ON COLUMN jobs.source IS 'One of seongsu.ingestion_sources(), train (seongsu.train as a job in the worker) or pipeline (a run of seongsu.run_pipeline; options {"run_id": n}).';

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
    FROM @extschema@.prediction_log p
    JOIN @extschema@.ridership_daily r ON r.station_id = p.station_id AND r.day = p.target_day
   WHERE p.station_id = $1 AND p.model_id = $2 AND p.grain = 'daily' AND p.as_of < p.target_day
     AND p.target_day <= $3 AND p.target_day > $3 - $4 AND p.predicted IS NOT NULL AND r.passengers > 0
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
    chal := CASE WHEN champ IS NOT NULL THEN @extschema@.challenger_model(project) END;
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

-- 98_dump: the new tables and sequence are configuration tables too.
SELECT pg_catalog.pg_extension_config_dump('@extschema@.pipelines', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.pipelines_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.pipeline_steps', '');
-- 99_privileges: nothing is granted to PUBLIC.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA @extschema@ FROM PUBLIC;
-- ======== end of the pipeline block ========
