-- daily_seongsu 0.1.0 -> 0.2.0 (ALTER EXTENSION daily_seongsu UPDATE).
-- Written by hand, part by part in the order of src/sql; test/t/060_upgrade.pl
-- proves that 0.1.0 updated by this script equals a fresh install of 0.2.0
-- (docs/releasing.md).  Rows are kept as they are; the one change existing
-- rows could violate (the new CHECKs on seongsu.jobs) is checked first and
-- stops the update with a message naming the rows.
\echo Use "ALTER EXTENSION daily_seongsu UPDATE TO '0.2.0'" to load this file. \quit

-- 00_setup (supabase): role seongsu_api_user, which may use schema
-- seongsu_api (96_api below); made only when missing (roles are
-- cluster-wide), as the install script does.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'seongsu_api_user') THEN
    CREATE ROLE seongsu_api_user NOLOGIN;
  END IF;
END
$$;
-- a reader may call the API too (so may the operator, e.g. Supabase's service_role)
GRANT seongsu_api_user TO seongsu_reader;

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
COMMENT ON TABLE jobs IS 'Ingestion jobs: one source over a date range (or train: a seongsu.train call over train_from..train_to).  The worker (or seongsu.run_pending_jobs) runs them; a run writes all its rows or none.  Written only through seongsu.enqueue, seongsu.cancel_job and the runners.';
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
-- source_status are built from ingestion_sources() (as in a fresh install),
-- the check with train beside them (training jobs, src/sql/75_tracking.sql).
CREATE FUNCTION ingestion_sources()
  RETURNS TABLE (ordinal integer, name text, api_key text, description text)
  AS 'MODULE_PATHNAME', 'ingestion_sources' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ingestion_sources() IS
  'Every source seongsu.enqueue accepts, in order: its name, the API key it needs (NULL: none; see seongsu.set_secret) and what it fetches.';
ALTER TABLE jobs DROP CONSTRAINT jobs_source_known;
DO $$
BEGIN
  EXECUTE pg_catalog.format('ALTER TABLE @extschema@.jobs ADD CONSTRAINT jobs_source_known CHECK (source IN (%s, ''train''))',
                            (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(s.name), ', ' ORDER BY s.ordinal)
                             FROM @extschema@.ingestion_sources() s));
END
$$;
COMMENT ON CONSTRAINT jobs_source_known ON jobs IS 'The source is one seongsu.enqueue knows.';
COMMENT ON COLUMN jobs.source IS 'One of seongsu.ingestion_sources(), or train (seongsu.train as a job in the worker).';
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
  name        text PRIMARY KEY CHECK (name IN ('seoul_api_key', 'data_go_kr_key', 'alert_webhook_url')),
  value       text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE secrets IS 'API keys stored with seongsu.set_secret.  Only the extension''s owner can read it; it is granted to nobody and in no view.';
COMMENT ON COLUMN secrets.name IS 'seoul_api_key, data_go_kr_key or alert_webhook_url.';
COMMENT ON COLUMN secrets.value IS 'The key as issued (the decoded data.go.kr key); percent-encoded when it goes into a URL.';
COMMENT ON COLUMN secrets.updated_at IS 'When it was last stored.';
REVOKE ALL ON secrets FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.secrets', '');

CREATE FUNCTION set_secret(name text, value text) RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF set_secret.name IS NULL OR set_secret.name NOT IN ('seoul_api_key', 'data_go_kr_key', 'alert_webhook_url') THEN
    -- the name is not repeated: a key passed as the name by mistake must not reach the log
    RAISE EXCEPTION 'unknown secret name'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'The secrets are seoul_api_key, data_go_kr_key and alert_webhook_url.';
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
  'Store the API key seoul_api_key or data_go_kr_key, or the alert webhook''s URL alert_webhook_url (NULL or '''' removes it).  Only the extension''s owner may call it, unless the owner grants EXECUTE (e.g. to Supabase''s postgres role); nobody else can read the keys back.';
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

-- ======================================================================
-- What the tracking, versioning, monitoring and supabase branches added
-- (merged 2026-12-05), in the order of src/sql.  New columns of existing
-- tables are added without a default, filled, then given the default: an
-- ADD COLUMN with a default leaves the rows a "missing value" a fresh
-- install has not (pg_upgrade carries it over; pg_dump --binary-upgrade
-- shows it).  0.1.0 recorded no role for jobs and deployments: their rows
-- get the role running the update (what the default would give them).

-- 40_ingest (tracking): training jobs, and the role that enqueued a job
-- (a training job trains as that role).
ALTER TABLE jobs ADD COLUMN enqueued_by text;
UPDATE jobs SET enqueued_by = current_user;
ALTER TABLE jobs ALTER COLUMN enqueued_by SET DEFAULT current_user, ALTER COLUMN enqueued_by SET NOT NULL;
COMMENT ON COLUMN jobs.options IS 'Source options, e.g. {"station": "108"}, {"nx": 61, "ny": 126}, {"base_time": "0500"} (kma_forecast: issue time on from_date); for train the arguments of seongsu.train, e.g. {"algorithm": "gbdt", "horizon": "1 day", "hyperparams": {...}} (from_date and to_date are train_from and train_to).';
COMMENT ON COLUMN jobs.rows_written IS 'Rows inserted or changed by the job (train: models stored).';
COMMENT ON COLUMN jobs.enqueued_by IS 'The role that enqueued the job: a training job trains as this role.';

-- 70_models (tracking, versioning): who moved a deployment; train takes a
-- snapshot and returns its run (another signature and result: dropped and
-- made anew, with its comment and grants).
ALTER TABLE deployments ADD COLUMN deployed_by text;
UPDATE deployments SET deployed_by = current_user;
ALTER TABLE deployments ALTER COLUMN deployed_by SET DEFAULT current_user, ALTER COLUMN deployed_by SET NOT NULL;
COMMENT ON COLUMN deployments.deployed_by IS 'Who: the role that trained, deployed, rolled back or set the champion alias.';

DROP FUNCTION train(text, text, text, text, interval, jsonb, jsonb, date, date, text, boolean);
CREATE FUNCTION train(station text DEFAULT '성수', line text DEFAULT '2호선', algorithm text DEFAULT 'auto',
  grain text DEFAULT 'daily', horizon interval DEFAULT '7 days', hyperparams jsonb DEFAULT '{}',
  search jsonb DEFAULT NULL, train_from date DEFAULT NULL, train_to date DEFAULT NULL,
  project text DEFAULT NULL, force boolean DEFAULT false, snapshot bigint DEFAULT NULL)
  RETURNS TABLE (model_id bigint, algorithm text, metrics jsonb, deployed boolean, run_id bigint)
  AS 'MODULE_PATHNAME', 'train' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION train(text, text, text, text, interval, jsonb, jsonb, date, date, text, boolean, bigint) IS
  'Train seasonal_naive, ridge, random_forest, gbdt or auto (all; the best is the candidate) with expanding-window backtests on the data as of a snapshot (a new one of the current data, recorded as metrics.snapshot_id and runs.snapshot_id, or the one given), store the models, and deploy the best when it beats the live one (not when trained on a given snapshot); run_id is the call''s run in seongsu.runs (NULL with seongsu.track_runs off).';
REVOKE ALL ON FUNCTION train(text, text, text, text, interval, jsonb, jsonb, date, date, text, boolean, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION train(text, text, text, text, interval, jsonb, jsonb, date, date, text, boolean, bigint)
  TO seongsu_operator;

-- 75_tracking: new in 0.2.0 (as in src/sql/75_tracking.sql).
-- Experiment tracking and the model registry (src/train/track.c,
-- track_writer.c): every train() call is a run with one child run per
-- candidate it backtested; metric histories, backtest predictions and
-- feature importances are kept with them; each stored model is a version
-- of its project, with the aliases champion (the deployed model) and
-- challenger (scored in the champion's shadow).  Runs are written only by
-- train (as the extension's owner) and by set_tag / set_note.

CREATE TABLE runs (
  run_id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  parent_run_id     bigint REFERENCES runs (run_id),
  project           text NOT NULL,
  station           text NOT NULL,
  line              text NOT NULL,
  grain             text NOT NULL,
  horizon           interval NOT NULL,
  algorithm         text NOT NULL,
  params            jsonb NOT NULL CHECK (jsonb_typeof(params) = 'object'),
  search            jsonb,
  train_from        date,
  train_to          date,
  status            text NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'cancelled')),
  started_at        timestamptz NOT NULL,
  finished_at       timestamptz,
  metrics           jsonb,
  model_id          bigint REFERENCES models (id) ON DELETE SET NULL,
  snapshot_id       bigint,
  extension_version text NOT NULL,
  build             text NOT NULL,
  db_user           text NOT NULL,
  tags              jsonb NOT NULL DEFAULT '{}'
                    CONSTRAINT runs_tags_text CHECK (jsonb_typeof(tags) = 'object'
                      AND NOT jsonb_path_exists(tags, '$.* ? (@.type() != "string")')),
  notes             text,
  CONSTRAINT runs_ended CHECK ((status = 'running') = (finished_at IS NULL))
);
CREATE INDEX runs_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;
CREATE INDEX runs_project ON runs (project, run_id);
CREATE INDEX runs_model ON runs (model_id) WHERE model_id IS NOT NULL;
COMMENT ON TABLE runs IS 'Experiment tracking: one run per seongsu.train() call (parent_run_id NULL) and one child run per candidate it backtested (algorithm x target mode x search point).  Written by train only (as the extension''s owner); a run that failed or was cancelled keeps its own row, written in a transaction of its own.';
COMMENT ON CONSTRAINT runs_tags_text ON runs IS 'Tags are a JSON object of text values.';
COMMENT ON CONSTRAINT runs_ended ON runs IS 'A run has ended (finished_at set) unless it is running.';
COMMENT ON COLUMN runs.run_id IS 'Run id; train() returns the call''s run as run_id.';
COMMENT ON COLUMN runs.parent_run_id IS 'For a candidate, the run of the train() call that backtested it; NULL for the call''s own run.';
COMMENT ON COLUMN runs.project IS 'The project (models.project).';
COMMENT ON COLUMN runs.station IS 'Station name as given to train.';
COMMENT ON COLUMN runs.line IS 'Line name as given to train.';
COMMENT ON COLUMN runs.grain IS 'daily.';
COMMENT ON COLUMN runs.horizon IS 'Horizon in days.';
COMMENT ON COLUMN runs.algorithm IS 'The call''s algorithm as asked (auto or one); a candidate''s own algorithm.';
COMMENT ON COLUMN runs.params IS 'Every effective hyper-parameter, defaults included (with target and folds): a candidate''s; for a finished call those of its best model, while running or after a failure those asked for (with the defaults when one algorithm was asked).';
COMMENT ON COLUMN runs.search IS 'The call''s search specification; a candidate''s search point (the parameters it sets).';
COMMENT ON COLUMN runs.train_from IS 'First day trained on (as asked, until the data are read).';
COMMENT ON COLUMN runs.train_to IS 'Last day trained on (as asked, until the data are read).';
COMMENT ON COLUMN runs.status IS 'running, finished, failed or cancelled (a cancel or statement_timeout); the error is in tags seongsu.error and seongsu.sqlstate.';
COMMENT ON COLUMN runs.started_at IS 'When the run started.';
COMMENT ON COLUMN runs.finished_at IS 'When it ended.';
COMMENT ON COLUMN runs.metrics IS 'Backtest metrics as models.metrics: per fold and mean (a call''s: its best model''s, with the search report).';
COMMENT ON COLUMN runs.model_id IS 'The model made: a call''s best (lowest mean backtest RMSE; deployed when it beat the live one), a candidate''s when it won its algorithm and was refit and stored (NULL once the model is deleted).';
COMMENT ON COLUMN runs.snapshot_id IS 'The data snapshot the run read (data versioning).';
COMMENT ON COLUMN runs.extension_version IS 'The extension''s version (pg_extension.extversion).';
COMMENT ON COLUMN runs.build IS 'The source revision the library was built from (git describe --always --dirty at build time; "unknown" outside a git checkout).';
COMMENT ON COLUMN runs.db_user IS 'The role that trained (for a training job, the role that enqueued it).';
COMMENT ON COLUMN runs.tags IS 'Text tags (seongsu.set_tag); seongsu.* tags are the extension''s: seongsu.job_id, seongsu.error, seongsu.sqlstate.';
COMMENT ON COLUMN runs.notes IS 'Free text (seongsu.set_note).';

CREATE TABLE run_metrics (
  run_id  bigint NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  key     text NOT NULL,
  step    integer NOT NULL,
  value   double precision,
  PRIMARY KEY (run_id, key, step)
);
COMMENT ON TABLE run_metrics IS 'Metric histories: rmse, mae, mape, smape, r2 and bias per backtest fold (step 1..k) and mean_<metric> (step 0), as in the run''s metrics; valid_loss_fold<k> per boosting round (step 1..) for gbdt, the mean validation loss on the fold''s early-stopping rows (in the target''s units: passengers, or the ratio to level28).  A call''s run has its best candidate''s.';
COMMENT ON COLUMN run_metrics.run_id IS 'The run.';
COMMENT ON COLUMN run_metrics.key IS 'Metric name.';
COMMENT ON COLUMN run_metrics.step IS 'Fold (1..k), 0 for means, or boosting round.';
COMMENT ON COLUMN run_metrics.value IS 'Value; NULL where it is undefined (e.g. mape with a zero actual).';

CREATE TABLE run_predictions (
  run_id     bigint NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  fold       integer NOT NULL,
  day        date NOT NULL,
  actual     double precision NOT NULL,
  predicted  double precision,
  PRIMARY KEY (run_id, fold, day)
);
COMMENT ON TABLE run_predictions IS 'Backtest predictions of every candidate run: each fold''s test days with the actual and predicted passengers, for residual plots without a re-run.';
COMMENT ON COLUMN run_predictions.run_id IS 'The candidate''s run.';
COMMENT ON COLUMN run_predictions.fold IS 'Backtest fold, 1 = earliest.';
COMMENT ON COLUMN run_predictions.day IS 'KST service day.';
COMMENT ON COLUMN run_predictions.actual IS 'Observed passengers.';
COMMENT ON COLUMN run_predictions.predicted IS 'Predicted passengers by the model fitted on every day before the fold (NULL when seasonal_naive had no lag).';

CREATE TABLE run_importances (
  run_id       bigint NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  feature      text NOT NULL,
  importance   double precision NOT NULL,
  coefficient  double precision,
  PRIMARY KEY (run_id, feature)
);
COMMENT ON TABLE run_importances IS 'Feature importances of the model a candidate run stored, as seongsu.model_explain gives them (split gain share, or |coefficient x sd| share for ridge), with ridge''s coefficients.';
COMMENT ON COLUMN run_importances.run_id IS 'The candidate''s run (runs.model_id is the model).';
COMMENT ON COLUMN run_importances.feature IS 'Feature column (models.features).';
COMMENT ON COLUMN run_importances.importance IS 'Share of the importance; they sum to 1.';
COMMENT ON COLUMN run_importances.coefficient IS 'Ridge: the coefficient in the feature''s own units; NULL for trees.';

CREATE TABLE model_registry (
  model_id  bigint PRIMARY KEY REFERENCES models (id) ON DELETE CASCADE,
  project   text NOT NULL,
  version   integer NOT NULL CHECK (version > 0),
  run_id    bigint REFERENCES runs (run_id),
  UNIQUE (project, version)
);
COMMENT ON TABLE model_registry IS 'Each model train stored, numbered within its project (1, 2, ...); see seongsu.model_versions.';
COMMENT ON COLUMN model_registry.model_id IS 'The model.';
COMMENT ON COLUMN model_registry.project IS 'Its project.';
COMMENT ON COLUMN model_registry.version IS 'Version within the project, in the order the models were stored.';
COMMENT ON COLUMN model_registry.run_id IS 'The candidate run it was refit from (NULL when tracking was off).';

CREATE TABLE alias_events (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  project   text NOT NULL,
  alias     text NOT NULL CHECK (alias IN ('challenger')),
  model_id  bigint REFERENCES models (id),
  reason    text,
  set_by    text NOT NULL DEFAULT current_user,
  at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alias_events_project ON alias_events (project, alias, id);
COMMENT ON TABLE alias_events IS 'Append-only history of the aliases other than champion (whose moves are seongsu.deployments): a project''s alias names its latest row''s model (none when that is NULL).  Written by seongsu.set_alias.';
COMMENT ON COLUMN alias_events.id IS 'Order of events.';
COMMENT ON COLUMN alias_events.project IS 'The project.';
COMMENT ON COLUMN alias_events.alias IS 'challenger.';
COMMENT ON COLUMN alias_events.model_id IS 'The model the alias moved to; NULL: the alias was removed.';
COMMENT ON COLUMN alias_events.reason IS 'Why, as given to set_alias.';
COMMENT ON COLUMN alias_events.set_by IS 'Who.';
COMMENT ON COLUMN alias_events.at IS 'When.';

CREATE VIEW model_aliases AS
  SELECT d.project, 'champion'::text AS alias, d.model_id, d.deployed_at AS set_at
  FROM deployed_models d
  UNION ALL
  SELECT e.project, e.alias, e.model_id, e.at
  FROM (SELECT DISTINCT ON (project, alias) project, alias, model_id, at
        FROM alias_events ORDER BY project, alias, id DESC) e
  WHERE e.model_id IS NOT NULL;
COMMENT ON VIEW model_aliases IS 'Every project''s aliases now: champion (the deployed model) and challenger.';

CREATE VIEW alias_history AS
  SELECT d.at, d.project, 'champion'::text AS alias, d.model_id, d.action, d.deployed_by AS set_by, d.reason
  FROM deployments d
  UNION ALL
  SELECT e.at, e.project, e.alias, e.model_id, CASE WHEN e.model_id IS NULL THEN 'remove' ELSE 'set' END,
         e.set_by, e.reason
  FROM alias_events e;
COMMENT ON VIEW alias_history IS 'Every alias move, who made it, when and why: champion moves are deployments (deploy, rollback, train''s automatic deploy, set_alias ''champion''), challenger moves set_alias calls.';

CREATE VIEW model_versions AS
  SELECT g.project, g.version, g.model_id, g.run_id, m.created_at,
         ARRAY(SELECT a.alias FROM model_aliases a
               WHERE a.project = g.project AND a.model_id = g.model_id ORDER BY a.alias) AS aliases,
         EXISTS (SELECT 1 FROM deployed_models d WHERE d.project = g.project AND d.model_id = g.model_id) AS deployed
  FROM model_registry g JOIN models m ON m.id = g.model_id;
COMMENT ON VIEW model_versions IS 'The registry: every stored model as a version of its project, the run that made it, its aliases and whether it is deployed (the champion).';

-- Compare runs side by side: kind run (algorithm, status, ...), data (what
-- was trained on), code (version and build), param, metric (mean.* and
-- fold<k>.*) and tag; a value missing from a run counts as JSON null.
CREATE FUNCTION compare_runs(run_ids bigint[])
  RETURNS TABLE (kind text, key text, value_by_run jsonb, differs boolean)
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
  ids bigint[];
  missing bigint[];
BEGIN
  IF run_ids IS NULL OR cardinality(run_ids) = 0 OR array_position(run_ids, NULL) IS NOT NULL THEN
    RAISE EXCEPTION 'compare_runs needs an array of run ids without nulls'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'For example seongsu.compare_runs(ARRAY[12, 15]); train() returns its run as run_id.';
  END IF;
  SELECT array_agg(DISTINCT i ORDER BY i) INTO ids FROM unnest(run_ids) AS u(i);
  IF cardinality(ids) > 100 THEN
    RAISE EXCEPTION 'compare_runs compares at most 100 runs, not %', cardinality(ids)
      USING ERRCODE = 'program_limit_exceeded', HINT = 'Compare fewer runs at a time.';
  END IF;
  SELECT array_agg(u.i ORDER BY u.i) INTO missing FROM unnest(ids) AS u(i)
   WHERE NOT EXISTS (SELECT 1 FROM @extschema@.runs r WHERE r.run_id = u.i);
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'unknown run id: %', array_to_string(missing, ', ')
      USING ERRCODE = 'no_data_found',
            DETAIL = format('%s of the %s runs to compare are not in seongsu.runs.', cardinality(missing), cardinality(ids)),
            HINT = 'Run ids are those of seongsu.runs; train() returns its run as run_id.';
  END IF;
  RETURN QUERY
  WITH r AS (SELECT * FROM @extschema@.runs WHERE run_id = ANY (ids)),
  v (kind, ord, key, run_id, value) AS (
    SELECT 'run', 1, x.key, r.run_id, x.value FROM r, LATERAL (VALUES
      ('algorithm', to_jsonb(r.algorithm)), ('status', to_jsonb(r.status)),
      ('parent_run_id', to_jsonb(r.parent_run_id)), ('model_id', to_jsonb(r.model_id)),
      ('search', r.search), ('db_user', to_jsonb(r.db_user))) AS x(key, value)
    UNION ALL
    SELECT 'data', 2, x.key, r.run_id, x.value FROM r, LATERAL (VALUES
      ('project', to_jsonb(r.project)), ('station', to_jsonb(r.station)), ('line', to_jsonb(r.line)),
      ('grain', to_jsonb(r.grain)), ('horizon', to_jsonb(extract(day FROM r.horizon)::int)),
      ('train_from', to_jsonb(r.train_from)), ('train_to', to_jsonb(r.train_to)),
      ('snapshot_id', to_jsonb(r.snapshot_id))) AS x(key, value)
    UNION ALL
    SELECT 'code', 3, x.key, r.run_id, x.value FROM r, LATERAL (VALUES
      ('extension_version', to_jsonb(r.extension_version)), ('build', to_jsonb(r.build))) AS x(key, value)
    UNION ALL
    SELECT 'param', 4, p.key, r.run_id, p.value FROM r, jsonb_each(r.params) AS p
    UNION ALL
    SELECT 'metric', 5, 'mean.' || m.key, r.run_id, m.value FROM r, jsonb_each(r.metrics -> 'mean') AS m
    UNION ALL
    SELECT 'metric', 5, format('fold%s.%s', f.ord, m.key), r.run_id, m.value
    FROM r, jsonb_array_elements(r.metrics -> 'folds') WITH ORDINALITY AS f(x, ord), jsonb_each(f.x -> 'metrics') AS m
    UNION ALL
    SELECT 'tag', 6, t.key, r.run_id, t.value FROM r, jsonb_each(r.tags) AS t
  ),
  keys AS (SELECT DISTINCT v.kind, v.ord, v.key FROM v)
  SELECT k.kind, k.key,
         jsonb_object_agg(u.id::text, coalesce(v.value, 'null'::jsonb) ORDER BY u.id),
         count(DISTINCT coalesce(v.value, 'null'::jsonb)) > 1
  FROM keys k CROSS JOIN unnest(ids) AS u(id)
  LEFT JOIN v ON v.kind = k.kind AND v.key = k.key AND v.run_id = u.id
  GROUP BY k.kind, k.ord, k.key
  ORDER BY k.ord, k.key;
END $$;
COMMENT ON FUNCTION compare_runs(bigint[]) IS
  'Runs side by side: params, metrics (mean and per fold), data (project, range, snapshot), code (version, build), tags; value_by_run maps each run id to its value, differs says whether they differ.';

-- A run's tag: text only; NULL removes it; seongsu.* names are reserved.
CREATE FUNCTION set_tag(run_id bigint, key text, value text) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF run_id IS NULL OR key IS NULL THEN
    RAISE EXCEPTION 'run_id and key must not be null' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF key = '' OR length(key) > 250 THEN
    RAISE EXCEPTION 'a tag name has 1 to 250 characters'
      USING ERRCODE = 'invalid_parameter_value', DETAIL = format('The name given has %s.', length(key));
  END IF;
  IF starts_with(key, 'seongsu.') THEN
    RAISE EXCEPTION 'tag "%" is reserved', key
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'Tags named seongsu.* are written by the extension: seongsu.job_id, seongsu.error, seongsu.sqlstate.',
            HINT = 'Choose a name that does not start with "seongsu.".';
  END IF;
  IF length(value) > 8000 THEN
    RAISE EXCEPTION 'a tag value has at most 8000 characters'
      USING ERRCODE = 'invalid_parameter_value', DETAIL = format('The value given has %s.', length(value)),
            HINT = 'Keep long text in the run''s notes (seongsu.set_note).';
  END IF;
  UPDATE @extschema@.runs r
     SET tags = CASE WHEN value IS NULL THEN r.tags - key ELSE r.tags || jsonb_build_object(key, value) END
   WHERE r.run_id = set_tag.run_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'run % does not exist', run_id
      USING ERRCODE = 'no_data_found', HINT = 'Run ids are those of seongsu.runs; train() returns its run as run_id.';
  END IF;
END $$;
COMMENT ON FUNCTION set_tag(bigint, text, text) IS
  'Set a text tag of a run (NULL removes it); names seongsu.* are the extension''s.';

-- A value of any other type comes here (text literals and NULL go to the
-- text function): tags are text, say so.
CREATE FUNCTION set_tag(run_id bigint, key text, value anyelement) RETURNS void
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RAISE EXCEPTION 'tag values are text, not %', pg_typeof(value)
    USING ERRCODE = 'datatype_mismatch',
          DETAIL = format('The value given for tag "%s" of run %s is of type %s.', key, run_id, pg_typeof(value)),
          HINT = format('Pass it as text: seongsu.set_tag(%s, %L, %L).', run_id, key, value::text);
END $$;
COMMENT ON FUNCTION set_tag(bigint, text, anyelement) IS 'Refuses a tag value that is not text, with how to pass it.';

CREATE FUNCTION set_note(run_id bigint, note text) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  UPDATE @extschema@.runs r SET notes = note WHERE r.run_id = set_note.run_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'run % does not exist', run_id
      USING ERRCODE = 'no_data_found', HINT = 'Run ids are those of seongsu.runs; train() returns its run as run_id.';
  END IF;
END $$;
COMMENT ON FUNCTION set_note(bigint, text) IS 'Set (or with NULL clear) the notes of a run.';

-- Aliases: champion is the deployed model (set_alias 'champion' deploys;
-- deploy and rollback move it); challenger is a model scored in the
-- champion's shadow.  No other alias exists.
CREATE FUNCTION set_alias(project text, alias text, model_id bigint, reason text DEFAULT NULL) RETURNS void
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  owner_project text;
BEGIN
  IF project IS NULL OR alias IS NULL THEN
    RAISE EXCEPTION 'project and alias must not be null' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF alias NOT IN ('champion', 'challenger') THEN
    RAISE EXCEPTION 'unknown model alias "%"', alias
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'A project has two aliases: champion (its deployed model) and challenger (a model scored in the champion''s shadow).',
            HINT = 'Use ''champion'' or ''challenger''.';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM @extschema@.models m WHERE m.project = set_alias.project) THEN
    RAISE EXCEPTION 'project "%" has no models', project
      USING ERRCODE = 'no_data_found', HINT = 'Projects are those of seongsu.model_versions.';
  END IF;
  IF model_id IS NULL THEN
    IF alias = 'champion' THEN
      RAISE EXCEPTION 'the champion cannot be removed'
        USING ERRCODE = 'invalid_parameter_value',
              DETAIL = 'The champion is the project''s deployed model: predictions use it.',
              HINT = format('Make another model champion (seongsu.set_alias(%L, ''champion'', model_id)) or roll back (seongsu.rollback(%L)).', project, project);
    END IF;
    INSERT INTO @extschema@.alias_events (project, alias, model_id, reason)
    VALUES (set_alias.project, set_alias.alias, NULL, set_alias.reason);
    RETURN;
  END IF;
  SELECT m.project INTO owner_project FROM @extschema@.models m WHERE m.id = set_alias.model_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'model % does not exist', model_id
      USING ERRCODE = 'no_data_found', HINT = 'Models are those of seongsu.model_versions.';
  END IF;
  IF owner_project <> project THEN
    RAISE EXCEPTION 'model % belongs to project "%", not "%"', model_id, owner_project, project
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'An alias names a model of its own project.',
            HINT = format('Pick a model of project %L from seongsu.model_versions.', project);
  END IF;
  IF alias = 'champion' THEN
    INSERT INTO @extschema@.deployments (project, model_id, action, reason)
    VALUES (set_alias.project, set_alias.model_id, 'deploy', coalesce(set_alias.reason, 'set_alias champion'));
  ELSE
    INSERT INTO @extschema@.alias_events (project, alias, model_id, reason)
    VALUES (set_alias.project, set_alias.alias, set_alias.model_id, set_alias.reason);
  END IF;
END $$;
COMMENT ON FUNCTION set_alias(text, text, bigint, text) IS
  'Point a project''s alias at one of its models: champion deploys it (as seongsu.deploy), challenger names the model scored in its shadow (NULL removes the challenger); every move is in seongsu.alias_history with who and why.';

CREATE FUNCTION model_for_alias(project text, alias text) RETURNS bigint
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF alias NOT IN ('champion', 'challenger') THEN
    RAISE EXCEPTION 'unknown model alias "%"', alias
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'A project has two aliases: champion (its deployed model) and challenger (a model scored in the champion''s shadow).',
            HINT = 'Use ''champion'' or ''challenger''.';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM @extschema@.models m WHERE m.project = model_for_alias.project) THEN
    RAISE EXCEPTION 'project "%" has no models', project
      USING ERRCODE = 'no_data_found', HINT = 'Projects are those of seongsu.model_versions.';
  END IF;
  RETURN (SELECT a.model_id FROM @extschema@.model_aliases a
          WHERE a.project = model_for_alias.project AND a.alias = model_for_alias.alias);
END $$;
COMMENT ON FUNCTION model_for_alias(text, text) IS
  'The model a project''s alias names (champion: the deployed model; challenger: the one scored in its shadow), NULL when none.';

-- Training as a job (seongsu.enqueue('train', ...)): the runner ends a
-- job's run when the training could not (owner only).
CREATE FUNCTION end_job_run(job_id bigint, status text, reason text) RETURNS integer
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  n integer;
BEGIN
  UPDATE @extschema@.runs r
     SET status = end_job_run.status, finished_at = coalesce(r.finished_at, clock_timestamp()),
         tags = r.tags || jsonb_build_object('seongsu.error', end_job_run.reason)
   WHERE r.parent_run_id IS NULL AND r.tags ->> 'seongsu.job_id' = end_job_run.job_id::text
     AND r.status <> 'finished';
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
COMMENT ON FUNCTION end_job_run(bigint, text, text) IS
  'The job runner''s: a training job''s run that has not finished ends failed or cancelled with the job''s reason.';

CREATE FUNCTION train_check(station text DEFAULT '성수', line text DEFAULT '2호선', algorithm text DEFAULT 'auto',
  grain text DEFAULT 'daily', horizon interval DEFAULT '7 days', hyperparams jsonb DEFAULT '{}',
  search jsonb DEFAULT NULL, train_from date DEFAULT NULL, train_to date DEFAULT NULL,
  project text DEFAULT NULL, force boolean DEFAULT false)
  RETURNS void AS 'MODULE_PATHNAME', 'train_check' LANGUAGE C STABLE;
COMMENT ON FUNCTION train_check(text, text, text, text, interval, jsonb, jsonb, date, date, text, boolean) IS
  'Raise the error train would raise for these arguments before reading any data (enqueue checks training jobs with it).';

GRANT SELECT ON runs, run_metrics, run_predictions, run_importances, model_registry, alias_events,
  model_aliases, alias_history, model_versions TO seongsu_reader;
GRANT INSERT ON alias_events TO seongsu_operator;
GRANT EXECUTE ON FUNCTION compare_runs(bigint[]), model_for_alias(text, text) TO seongsu_reader;
GRANT EXECUTE ON FUNCTION set_tag(bigint, text, text), set_tag(bigint, text, anyelement), set_note(bigint, text),
  set_alias(text, text, bigint, text),
  train_check(text, text, text, text, interval, jsonb, jsonb, date, date, text, boolean) TO seongsu_operator;

-- The models 0.1.0 stored are the first versions of their projects, in the
-- order they were stored, made by no tracked run (as train numbers them).
INSERT INTO model_registry (model_id, project, version, run_id)
SELECT m.id, m.project, pg_catalog.row_number() OVER (PARTITION BY m.project ORDER BY m.id), NULL
  FROM models m;

-- 75_versions: new in 0.2.0 (as in src/sql/75_versions.sql).  The rows
-- 0.1.0 wrote keep their ingested_at (now() of the writing transaction) as
-- their version stamp: every one is earlier than any stamp taken from now
-- on, so the data as of any later instant are the rows as they are, and
-- seongsu.snapshot() hashes them as it would the same rows in a fresh
-- install (TAP 060 checks that).
-- Data versioning (src/ops/stamp.c, content.c, snapshot.c, diff.c,
-- lineage.c; the feature loaders read through src/features/asof.c): the
-- revision history of the observed data that training reads, content-
-- addressed snapshots of it, their differences and lineage.
--
-- Versions.  Every row of a versioned table carries in ingested_at the
-- version stamp of the transaction that wrote it: seongsu.version_stamp(),
-- the clock time of that transaction's first write to a versioned table
-- (taken while it holds the table's write lock, which it keeps to commit).
-- A revision (UPDATE that changes a value, DELETE, TRUNCATE) moves the
-- previous version to <table>_history with valid_to = the reviser's stamp;
-- a version was current during [ingested_at, valid_to).  Rows that do not
-- change are not touched (the importers skip them; an UPDATE that changes
-- nothing keeps its stamp and adds no history).
--
-- "As of T" is: the rows with ingested_at <= T, plus the history rows with
-- ingested_at <= T < valid_to.  seongsu.snapshot() reads the data as of
-- T = the clock when it starts, after waiting for every transaction then
-- holding a write lock on a versioned table to end: any version stamped at
-- or before T comes from a transaction that held its lock at T, so it has
-- ended by then, and the snapshot sees it exactly when it committed; later
-- writers get later stamps.  So the data as of T never changes afterwards,
-- and reading it again (train on a snapshot, reproduce, diff) gives exactly
-- what the snapshot hashed.

CREATE FUNCTION version_stamp(tbl regclass) RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'version_stamp' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION version_stamp(regclass) IS
  'The version stamp of this transaction''s writes to the versioned table tbl: the clock time of its first write to a versioned table (the default of ingested_at; revisions use it as valid_to).';

-- BEFORE UPDATE: a changed row gets this transaction's stamp; an unchanged
-- one keeps its own (columns named in the trigger's arguments, generated
-- ones, are not compared: they follow from the others).
CREATE FUNCTION version_restamp() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF (to_jsonb(NEW) - 'ingested_at'::text - coalesce(TG_ARGV, '{}'::text[]))
     IS NOT DISTINCT FROM (to_jsonb(OLD) - 'ingested_at'::text - coalesce(TG_ARGV, '{}'::text[])) THEN
    NEW.ingested_at := OLD.ingested_at;
  ELSE
    NEW.ingested_at := @extschema@.version_stamp(TG_RELID);
  END IF;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION version_restamp() IS
  'Trigger: an UPDATE that changes a versioned row stamps it with this transaction''s version stamp; one that changes nothing keeps the row''s stamp.';

-- AFTER UPDATE OR DELETE: the previous version goes to the history, unless
-- it was written by this same transaction (it was never anyone's version).
CREATE FUNCTION version_keep() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  valid_to timestamptz := CASE WHEN TG_OP = 'DELETE' THEN @extschema@.version_stamp(TG_RELID) ELSE NEW.ingested_at END;
BEGIN
  IF OLD.ingested_at < valid_to THEN
    EXECUTE format('INSERT INTO %I.%I SELECT ($1).*, $2', TG_TABLE_SCHEMA, TG_TABLE_NAME || '_history')
      USING OLD, valid_to;
  END IF;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION version_keep() IS
  'Trigger: keep the version a revision (UPDATE that changed it, DELETE) replaces in <table>_history, with valid_to = the reviser''s version stamp.';

-- BEFORE TRUNCATE: every row is a version that ends now.
CREATE FUNCTION version_keep_all() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  EXECUTE format('INSERT INTO %I.%I SELECT t.*, $1 FROM %I.%I t WHERE t.ingested_at < $1',
                 TG_TABLE_SCHEMA, TG_TABLE_NAME || '_history', TG_TABLE_SCHEMA, TG_TABLE_NAME)
    USING @extschema@.version_stamp(TG_RELID);
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION version_keep_all() IS
  'Trigger: TRUNCATE of a versioned table keeps every row it removes in <table>_history.';

-- The versioned tables: what the feature loaders read for training
-- (ridership, hour profiles, weather observations and forecasts,
-- holidays).  Each gets its history table (the same columns, plain, and
-- valid_to), the stamp as default, the triggers (ENABLE ALWAYS: replicated
-- and session_replication_role = replica writes are versioned too) and a
-- BRIN index on ingested_at, through which a snapshot finds what changed
-- since the chunk digests it keeps (seongsu.snapshot_chunks) without
-- reading the rest; BRIN costs a bulk load almost nothing.
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT * FROM (VALUES
      ('ridership_daily', 'station_id, day', ARRAY['passengers']),
      ('ridership_hourly', 'station_id, ts', ARRAY[]::text[]),
      ('hour_profile', 'station_id, month, hour', ARRAY[]::text[]),
      ('weather_daily', 'day, source', ARRAY[]::text[]),
      ('weather_forecast', 'target, source, issued_at', ARRAY[]::text[]),
      ('holidays', 'day, name', ARRAY[]::text[])) AS v(name, key, generated) LOOP
    EXECUTE format('CREATE TABLE @extschema@.%I (LIKE @extschema@.%I INCLUDING COMMENTS)', t.name || '_history', t.name);
    EXECUTE format('ALTER TABLE @extschema@.%I ADD COLUMN valid_to timestamptz NOT NULL', t.name || '_history');
    EXECUTE format('COMMENT ON TABLE @extschema@.%I IS %L', t.name || '_history',
                   format('Earlier versions of seongsu.%s rows: each was current from ingested_at until valid_to (written only by the versioning triggers).', t.name));
    EXECUTE format('COMMENT ON COLUMN @extschema@.%I.valid_to IS %L', t.name || '_history',
                   'The version stamp of the revision (update, delete or truncate) that replaced this version.');
    EXECUTE format('COMMENT ON COLUMN @extschema@.%I.ingested_at IS %L', t.name || '_history',
                   'The version stamp of the write that made this version: it was current from then until valid_to.');
    EXECUTE format('CREATE INDEX %I ON @extschema@.%I (%s)', t.name || '_history_key', t.name || '_history', t.key);
    EXECUTE format('CREATE INDEX %I ON @extschema@.%I (valid_to)', t.name || '_history_valid_to', t.name || '_history');
    EXECUTE format('CREATE INDEX %I ON @extschema@.%I USING brin (ingested_at) WITH (autosummarize = on)',
                   t.name || '_ingested_at', t.name);
    EXECUTE format('ALTER TABLE @extschema@.%I ALTER COLUMN ingested_at SET DEFAULT @extschema@.version_stamp(%L::regclass)',
                   t.name, '@extschema@.' || t.name);
    EXECUTE format('COMMENT ON COLUMN @extschema@.%I.ingested_at IS %L', t.name,
                   'The version stamp of the write that made this version of the row (seongsu.version_stamp(); leave it to its default).');
    EXECUTE format('CREATE TRIGGER version_restamp BEFORE UPDATE ON @extschema@.%I FOR EACH ROW '
                   'EXECUTE FUNCTION @extschema@.version_restamp(%s)', t.name,
                   (SELECT string_agg(quote_literal(g), ', ') FROM unnest(t.generated) g));
    EXECUTE format('CREATE TRIGGER version_keep AFTER UPDATE OR DELETE ON @extschema@.%I FOR EACH ROW '
                   'EXECUTE FUNCTION @extschema@.version_keep()', t.name);
    EXECUTE format('CREATE TRIGGER version_keep_all BEFORE TRUNCATE ON @extschema@.%I FOR EACH STATEMENT '
                   'EXECUTE FUNCTION @extschema@.version_keep_all()', t.name);
    EXECUTE format('ALTER TABLE @extschema@.%I ENABLE ALWAYS TRIGGER version_restamp', t.name);
    EXECUTE format('ALTER TABLE @extschema@.%I ENABLE ALWAYS TRIGGER version_keep', t.name);
    EXECUTE format('ALTER TABLE @extschema@.%I ENABLE ALWAYS TRIGGER version_keep_all', t.name);
    EXECUTE format('GRANT SELECT ON @extschema@.%I TO seongsu_reader', t.name || '_history');
  END LOOP;
END
$$;

CREATE TABLE snapshots (
  snapshot_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  scope        jsonb NOT NULL,
  content_hash text NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
  row_counts   jsonb NOT NULL,
  as_of        timestamptz NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  purged_at    timestamptz
);
CREATE INDEX snapshots_content ON snapshots (content_hash);
COMMENT ON TABLE snapshots IS 'Content-addressed versions of what training reads for a station (seongsu.snapshot); written only by the functions.';
COMMENT ON COLUMN snapshots.snapshot_id IS 'Snapshot id.';
COMMENT ON COLUMN snapshots.scope IS 'What it covers: station and line (null: every station, every line), from_date and to_date as given (null: unbounded).';
COMMENT ON COLUMN snapshots.content_hash IS 'SHA-256 (hex) of the canonical serialization of the content (README "Data versioning"); the same content has the same hash and the same snapshot row.';
COMMENT ON COLUMN snapshots.row_counts IS 'Rows per table in the content.';
COMMENT ON COLUMN snapshots.as_of IS 'The content is the data as of this instant, read through the revision history.';
COMMENT ON COLUMN snapshots.created_at IS 'When the snapshot row was made.';
COMMENT ON COLUMN snapshots.purged_at IS 'When seongsu.purge_history removed history it needs: it can no longer be read back.';

CREATE TABLE snapshot_chunks (
  table_name  text NOT NULL,
  station_id  integer NOT NULL,
  as_of       timestamptz NOT NULL,
  months      integer[] NOT NULL,
  row_counts  bigint[] NOT NULL,
  digests     bytea NOT NULL
);
CREATE INDEX snapshot_chunks_key ON snapshot_chunks (table_name, station_id, as_of);
COMMENT ON TABLE snapshot_chunks IS 'Cache of seongsu.snapshot: the SHA-256 digest of every month of a table''s rows of a station (0: tables without stations) as of as_of, valid until a version of that month is stamped later.  Written only by the functions; safe to delete.';
COMMENT ON COLUMN snapshot_chunks.table_name IS 'The versioned table.';
COMMENT ON COLUMN snapshot_chunks.station_id IS 'The station (stations.id), 0 for weather and holidays.';
COMMENT ON COLUMN snapshot_chunks.as_of IS 'The digests are of the data as of this instant.';
COMMENT ON COLUMN snapshot_chunks.months IS 'The months that have rows, as year * 12 + month - 1 of the rows'' first key column (KST), ascending.';
COMMENT ON COLUMN snapshot_chunks.row_counts IS 'Rows of each month.';
COMMENT ON COLUMN snapshot_chunks.digests IS 'The 32-byte SHA-256 digest of each month''s rows, concatenated.';

CREATE FUNCTION snapshot(station text DEFAULT '성수', line text DEFAULT '2호선',
  from_date date DEFAULT NULL, to_date date DEFAULT NULL) RETURNS bigint
  AS 'MODULE_PATHNAME', 'snapshot' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION snapshot(text, text, date, date) IS
  'The content-addressed version of what training reads for a station over [from_date, to_date] (null station: every station of the line, null line: every line): its id in seongsu.snapshots, the same id for the same content.';

CREATE FUNCTION verify_snapshot(snapshot_id bigint) RETURNS boolean
  AS 'MODULE_PATHNAME', 'verify_snapshot' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION verify_snapshot(bigint) IS
  'Read the snapshot''s data again as of its instant, through the history, and tell whether it hashes to its content_hash.';

CREATE FUNCTION diff_snapshots(a bigint, b bigint)
  RETURNS TABLE (table_name text, key text, change text, old jsonb, new jsonb)
  AS 'MODULE_PATHNAME', 'diff_snapshots' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION diff_snapshots(bigint, bigint) IS
  'The rows added, changed and removed from snapshot a to snapshot b (read through the history), with their content before and after.';

CREATE FUNCTION lineage(snapshot_id bigint)
  RETURNS TABLE (table_name text, source text, written_at timestamptz, rows bigint,
                 first_day date, last_day date, job_id bigint)
  AS 'MODULE_PATHNAME', 'lineage' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION lineage(bigint) IS
  'Where the snapshot''s rows come from: per table, source and write (version stamp), the rows and their KST days, and the ingestion job that wrote them (null for imports and other writes).';

CREATE FUNCTION purge_history(older_than timestamptz) RETURNS bigint
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  n bigint := 0;
  k bigint;
  t text;
BEGIN
  IF older_than IS NULL OR NOT isfinite(older_than) OR older_than > now() THEN
    RAISE EXCEPTION 'older_than must be a finite instant in the past'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'History that ended before it is deleted: it must lie between the first versions and now().',
            HINT = 'Give e.g. now() - interval ''2 years''.';
  END IF;
  FOREACH t IN ARRAY ARRAY['ridership_daily', 'ridership_hourly', 'hour_profile', 'weather_daily',
                           'weather_forecast', 'holidays'] LOOP
    EXECUTE format('DELETE FROM @extschema@.%I WHERE valid_to <= $1', t || '_history') USING older_than;
    GET DIAGNOSTICS k = ROW_COUNT;
    n := n + k;
  END LOOP;
  UPDATE @extschema@.snapshots s SET purged_at = now() WHERE s.as_of < older_than AND s.purged_at IS NULL;
  DELETE FROM @extschema@.snapshot_chunks c WHERE c.as_of < older_than;
  RETURN n;
END
$$;
COMMENT ON FUNCTION purge_history(timestamptz) IS
  'Delete the history versions that ended before older_than; snapshots as of an earlier instant can no longer be read back and are marked purged.  Returns the versions deleted.';

CREATE FUNCTION reproduce_model(model_id bigint)
  RETURNS TABLE (model_id bigint, new_model_id bigint, identical boolean, reason text)
  AS 'MODULE_PATHNAME', 'reproduce_model' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION reproduce_model(bigint) IS
  'Refit a model with its stored hyper-parameters on the data of the snapshot it recorded (metrics.snapshot_id), store the result as a new model (not deployed), and compare it with the original byte for byte.';

GRANT SELECT ON snapshots, snapshot_chunks TO seongsu_reader;
GRANT EXECUTE ON FUNCTION verify_snapshot(bigint), diff_snapshots(bigint, bigint), lineage(bigint) TO seongsu_reader;
REVOKE ALL ON FUNCTION snapshot(text, text, date, date), reproduce_model(bigint), version_stamp(regclass),
  purge_history(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION snapshot(text, text, date, date), reproduce_model(bigint), version_stamp(regclass)
  TO seongsu_operator;

-- 85_monitoring: new in 0.2.0 (as in src/sql/85_monitoring.sql).
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
          SELECT @extschema@.challenger_model(d.project), 'challenger', d.project, d.horizon, 2
            FROM @extschema@.deployed_models d WHERE d.station_id = monitored_models.station_id AND d.grain = 'daily') x
   WHERE x.model_id IS NOT NULL
   ORDER BY x.k, x.horizon, x.model_id
$$;
COMMENT ON FUNCTION monitored_models(integer) IS
  'The models monitored for a station: its deployed daily models (role champion) and the challenger of each of their projects (role challenger).';

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

-- 8. Privileges: readers see everything here; operators publish and
-- evaluate, through the functions only (they write as the owner).
GRANT SELECT ON prediction_log, live_accuracy, alerts, alert_outbox, ingest_counters, alert_quality_state TO seongsu_reader;
GRANT EXECUTE ON FUNCTION challenger_model(text), feature_drift(text, text, integer), drift(text, text, interval),
  residual_drift_rows(bigint, text, integer, double precision, double precision, double precision, double precision, double precision),
  source_freshness(date), monitored_models(integer), alert_payload(alerts), quality_fingerprint(integer, date), prometheus_escape(text),
  prometheus_labels(text[]), prometheus_value(double precision), metrics(), html_escape(text),
  html_count(double precision), level_colour(text) TO seongsu_reader;
REVOKE ALL ON FUNCTION publish_forecast(text, text, date, integer), evaluate_alerts(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION publish_forecast(text, text, date, integer), evaluate_alerts(timestamptz) TO seongsu_operator;

-- The counters start from the requests ingest_log still holds (those older
-- than seongsu.log_ttl_days were purged), as the trigger would have
-- counted them.
INSERT INTO ingest_counters AS c (source, outcome, requests, latency_seconds_sum)
SELECT l.source,
       CASE WHEN l.error IS NULL THEN 'success' WHEN l.http_status IS NULL THEN 'no_response' ELSE 'error' END,
       count(*), coalesce(sum(l.latency_ms), 0) / 1000
  FROM ingest_log l
 GROUP BY 1, 2;

-- 96_api (supabase): new in 0.2.0 (as in src/sql/96_api.sql).
-- The API surface for PostgREST (Supabase): schema seongsu_api holds only
-- what is safe for anonymous callers, under the names and arguments of the
-- seongsu functions they wrap; role seongsu_api_user may use it and nothing
-- else (docs/supabase.md).
--
-- Each wrapper is SECURITY DEFINER (it runs as the extension's owner, who
-- reads the tables; the caller needs no right on schema seongsu), pins its
-- search_path and names everything with its schema.  Before any prediction
-- is loaded it checks the asked days against the API's reach, which is
-- tighter than the reader's 400 days: from the station's first observed day
-- to 62 days after its last (set in api_window), the two months a station's kept
-- prediction inputs serve without reloading (src/serve/inputs.c); forecast
-- returns at most 1,000 hours per call (Supabase's default max-rows) and
-- pages through longer ranges.  The caches stay sound: what the owner
-- computes under the pinned path is what every other role with the right to
-- read the tables would compute (src/invalidation.c, WatchUsable).
--
-- To add a wrapper: one SQL function here that calls api_window or
-- api_check first, before the GRANT at the end of this file.

CREATE SCHEMA seongsu_api;
COMMENT ON SCHEMA seongsu_api IS
  'Predictions, forecasts and a data-quality summary for PostgREST''s anon and authenticated roles (grant them seongsu_api_user): bounded, no table access.';

-- Internal: the days the API answers for a station, [first_day, last_day],
-- and its last observed day; raises for an unknown station (without
-- repeating the names, which the caller chose) or one without ridership.
CREATE FUNCTION api_window(station text, line text, OUT first_day date, OUT last_day date, OUT observed date)
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  sid integer;
BEGIN
  SELECT s.id INTO sid FROM @extschema@.stations s WHERE s.line = api_window.line AND s.name = api_window.station;
  IF sid IS NULL THEN
    RAISE EXCEPTION 'unknown station'
      USING ERRCODE = 'undefined_object',
            DETAIL = 'No station of that name on that line has ridership data.',
            HINT = 'Spell the station and line as the published data do, e.g. 성수 and 2호선.';
  END IF;
  SELECT min(d.day), max(d.day) INTO first_day, observed
    FROM @extschema@.ridership_daily d WHERE d.station_id = sid;
  IF observed IS NULL THEN
    RAISE EXCEPTION 'the station has no daily ridership to predict from'
      USING ERRCODE = 'no_data_found',
            HINT = 'The operator imports or ingests its ridership first.';
  END IF;
  last_day := observed + 62;    -- the API's reach ahead: the only place it is set
END
$$;
COMMENT ON FUNCTION api_window(text, text) IS
  'Internal (seongsu_api): the days the API answers for a station, from its first observed day to 62 days after its last, and its last observed day.';

-- Internal: a day as YYYY-MM-DD (any year, or infinity), whatever the DateStyle.
CREATE FUNCTION api_day_text(day date) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  SET DateStyle = 'ISO, YMD'
  AS $$ SELECT day::text $$;
COMMENT ON FUNCTION api_day_text(date) IS 'Internal (seongsu_api): a day as YYYY-MM-DD (any year, or infinity), whatever the DateStyle.';

-- Internal: ERROR (22008) unless the days [first_day, last_day] are within the API's reach.
CREATE FUNCTION api_check(station text, line text, first_day date, last_day date) RETURNS void
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  w record;
BEGIN
  SELECT * INTO w FROM @extschema@.api_window(station, line);
  IF last_day > w.last_day THEN
    RAISE EXCEPTION 'cannot predict %: it is more than % days after the last observation',
                    @extschema@.api_day_text(last_day), w.last_day - w.observed
      USING ERRCODE = 'datetime_field_overflow',
            DETAIL = format('seongsu_api answers days up to %s days after the station''s observations, which end on %s.',
                            w.last_day - w.observed, @extschema@.api_day_text(w.observed)),
            HINT = format('Ask about days from %s to %s.', @extschema@.api_day_text(w.first_day),
                          @extschema@.api_day_text(w.last_day));
  END IF;
  IF first_day < w.first_day THEN
    RAISE EXCEPTION 'cannot predict %: it is before the first observation', @extschema@.api_day_text(first_day)
      USING ERRCODE = 'datetime_field_overflow',
            DETAIL = format('seongsu_api answers days from the station''s first observed day, %s.',
                            @extschema@.api_day_text(w.first_day)),
            HINT = format('Ask about days from %s to %s.', @extschema@.api_day_text(w.first_day),
                          @extschema@.api_day_text(w.last_day));
  END IF;
END
$$;
COMMENT ON FUNCTION api_check(text, text, date, date) IS
  'Internal (seongsu_api): raise datetime_field_overflow unless [first_day, last_day] is within the station''s API reach (api_window).';

-- Internal: the KST service day of an instant (hours 00-03 belong to the day before), as predictions count it.
CREATE FUNCTION api_service_day(ts timestamptz) RETURNS date
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT ((ts AT TIME ZONE 'Asia/Seoul') - interval '4 hours')::date $$;
COMMENT ON FUNCTION api_service_day(timestamptz) IS
  'Internal (seongsu_api): the KST service day of an instant (hours 00-03 belong to the day before).';

-- Internal: check a forecast call of the API and return the hours of its
-- page (none past the last page): the whole hours of [from_ts, to_ts], as
-- seongsu.forecast counts them, page_size at a time.
CREATE FUNCTION api_forecast_page(station text, line text, from_ts timestamptz, to_ts timestamptz,
                                  page integer, page_size integer)
  RETURNS TABLE (page_from timestamptz, page_to timestamptz)
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  h0 bigint;
  h1 bigint;
  first_hour bigint;
BEGIN
  IF NOT isfinite(from_ts) OR NOT isfinite(to_ts) OR to_ts < from_ts THEN
    RAISE EXCEPTION 'from_ts and to_ts must be finite, with to_ts not before from_ts'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF page < 1 THEN
    RAISE EXCEPTION 'page must be at least 1'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Pages count from 1; each holds page_size hours of [from_ts, to_ts].';
  END IF;
  IF page_size < 1 OR page_size > 1000 THEN
    RAISE EXCEPTION 'page_size must be between 1 and 1000'
      USING ERRCODE = 'invalid_parameter_value',    -- PostgREST: 400 (54000 would be a 500)
            DETAIL = format('The value given was %s.', page_size),
            HINT = 'A page holds at most 1,000 hours, Supabase''s default max-rows; ask for the next page (page => 2, ...) for more.';
  END IF;
  PERFORM @extschema@.api_check(station, line, @extschema@.api_service_day(from_ts), @extschema@.api_service_day(to_ts));
  h0 := ceil(extract(epoch FROM from_ts) / 3600);
  h1 := floor(extract(epoch FROM to_ts) / 3600);
  first_hour := h0 + (page - 1)::bigint * page_size;
  IF first_hour > h1 THEN
    RETURN;
  END IF;
  page_from := to_timestamp(first_hour * 3600);
  page_to := to_timestamp(least(first_hour + page_size - 1, h1) * 3600);
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION api_forecast_page(text, text, timestamptz, timestamptz, integer, integer) IS
  'Internal (seongsu_api): check a forecast call (finite range within the API reach, page >= 1, page_size 1-1000) and return the first and last hour of its page, or no row past the last page.';

-- The wrappers take the seongsu function's arguments and check them first.

-- A day's passengers (seongsu.predict_daily) within the API's reach.
CREATE FUNCTION seongsu_api.predict_daily(day date, station text DEFAULT '성수', line text DEFAULT '2호선')
  RETURNS double precision
  LANGUAGE sql STABLE STRICT SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT @extschema@.api_check(predict_daily.station, predict_daily.line, predict_daily.day, predict_daily.day);
  SELECT @extschema@.predict_daily(predict_daily.day, predict_daily.station, predict_daily.line);
$$;
COMMENT ON FUNCTION seongsu_api.predict_daily(date, text, text) IS
  'seongsu.predict_daily for days from the station''s first observation to 62 days after its last.';

-- An hour's passengers (seongsu.predict_crowd) within the API's reach.
CREATE FUNCTION seongsu_api.predict_crowd(ts timestamptz, station text DEFAULT '성수', line text DEFAULT '2호선')
  RETURNS double precision
  LANGUAGE sql STABLE STRICT SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT @extschema@.api_check(predict_crowd.station, predict_crowd.line,
                               @extschema@.api_service_day(predict_crowd.ts), @extschema@.api_service_day(predict_crowd.ts));
  SELECT @extschema@.predict_crowd(predict_crowd.ts, predict_crowd.station, predict_crowd.line);
$$;
COMMENT ON FUNCTION seongsu_api.predict_crowd(timestamptz, text, text) IS
  'seongsu.predict_crowd for service days from the station''s first observation to 62 days after its last.';

-- An hour's crowd level (seongsu.crowd_level) within the API's reach.
CREATE FUNCTION seongsu_api.crowd_level(ts timestamptz, station text DEFAULT '성수', line text DEFAULT '2호선')
  RETURNS text
  LANGUAGE sql STABLE STRICT SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT @extschema@.api_check(crowd_level.station, crowd_level.line,
                               @extschema@.api_service_day(crowd_level.ts), @extschema@.api_service_day(crowd_level.ts));
  SELECT @extschema@.crowd_level(crowd_level.ts, crowd_level.station, crowd_level.line);
$$;
COMMENT ON FUNCTION seongsu_api.crowd_level(timestamptz, text, text) IS
  'seongsu.crowd_level for service days from the station''s first observation to 62 days after its last.';

-- One page of seongsu.forecast within the API's reach.  (PL/pgSQL: its
-- plans are kept for the session; a SQL body is planned again in every
-- statement, ten times the cost of a warm page.)
CREATE FUNCTION seongsu_api.forecast(station text DEFAULT '성수', line text DEFAULT '2호선',
  from_ts timestamptz DEFAULT now(), to_ts timestamptz DEFAULT now() + interval '7 days',
  page integer DEFAULT 1, page_size integer DEFAULT 1000)
  RETURNS TABLE (ts timestamptz, passengers double precision, lower double precision,
                 upper double precision, level text, recursive boolean)
  LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  p record;
BEGIN
  SELECT * INTO p FROM @extschema@.api_forecast_page(station, line, from_ts, to_ts, page, page_size);
  IF FOUND THEN
    -- in the order seongsu.forecast gives them: by hour
    RETURN QUERY SELECT * FROM @extschema@.forecast(station, line, p.page_from, p.page_to);
  END IF;
END
$$;
COMMENT ON FUNCTION seongsu_api.forecast(text, text, timestamptz, timestamptz, integer, integer) IS
  'seongsu.forecast one page at a time: page n holds hours (n-1) x page_size .. n x page_size - 1 of [from_ts, to_ts] (page_size at most 1,000, Supabase''s default max-rows; no row past the last page); the range lies within the station''s first observation and 62 days after its last.';

-- A summary of seongsu.check_quality for the public: each check's name,
-- severity and status over the station's last 365 observed days, without
-- the observed values, expectations and details (days missing, counts,
-- sources' last fetch times), which describe the rows and the ingestion
-- rather than the forecasts.  The year bounds the work of a call (the
-- whole history costs about four times more).
CREATE FUNCTION seongsu_api.quality_summary(station text DEFAULT '성수', line text DEFAULT '2호선')
  RETURNS TABLE (check_name text, severity text, status text)
  LANGUAGE sql STABLE STRICT SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT q.check_name, q.severity, q.status
    FROM @extschema@.api_window(quality_summary.station, quality_summary.line) w,
         LATERAL @extschema@.check_quality(quality_summary.station, quality_summary.line, w.observed - 364, w.observed)
           WITH ORDINALITY AS q(check_name, severity, status, observed, expected, detail, n)
   ORDER BY q.n;
$$;
COMMENT ON FUNCTION seongsu_api.quality_summary(text, text) IS
  'Name, severity (error, warning, info) and status (pass, warn, fail) of each seongsu.check_quality check over the station''s last 365 observed days.';

GRANT USAGE ON SCHEMA seongsu_api TO seongsu_api_user;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA seongsu_api FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA seongsu_api TO seongsu_api_user;

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

-- 99_privileges: nothing is granted to PUBLIC (in schema seongsu_api neither).
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA @extschema@ FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA seongsu_api FROM PUBLIC;

-- ===================================================================
-- Integration of tracking, versioning and monitoring (branch integ):
-- reproduce(run_id), lineage from a model, the challenger of monitoring
-- through tracking's alias, the model comparison on the dashboard and
-- seongsu_api.dashboard.  Assumes the blocks of 75_tracking, 75_versions,
-- 85_monitoring and 96_api above it; each statement is the one of src/sql,
-- written to be right whether those blocks carry the merged or this
-- branch's versions (CREATE OR REPLACE, DROP IF EXISTS).
-- ===================================================================

-- 75_versions: reproduce(run_id).
CREATE OR REPLACE FUNCTION reproduce(run_id bigint)
  RETURNS TABLE (run_id bigint, model_id bigint, identical boolean, reason text)
  AS 'MODULE_PATHNAME', 'reproduce' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION reproduce(bigint) IS
  'Reproduce the model a run stored (a train() call''s best model, or the model a candidate refit) as reproduce_model does, as a run of its own: returns that run and the new model; identical only when the bytes are the same and the run was trained by this build (runs.build) and version of the extension, otherwise false with the reason.  A candidate that was only backtested stored no model: an error says what to reproduce or train instead.';
REVOKE ALL ON FUNCTION reproduce(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION reproduce(bigint) TO seongsu_operator;

-- 75_versions: lineage from a model (model -> run -> call -> snapshot -> writes).
CREATE OR REPLACE FUNCTION model_lineage(model_id bigint)
  RETURNS TABLE (run_id bigint, call_run_id bigint, snapshot_id bigint, table_name text,
                 source text, written_at timestamptz, rows bigint, first_day date, last_day date, job_id bigint)
  LANGUAGE plpgsql STABLE STRICT SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  m record;
BEGIN
  SELECT g.run_id, coalesce(r.parent_run_id, r.run_id) AS call_run_id,
         coalesce(r.snapshot_id, (md.metrics ->> 'snapshot_id')::bigint) AS snapshot_id
    INTO m
    FROM @extschema@.models md
    LEFT JOIN @extschema@.model_registry g ON g.model_id = md.id
    LEFT JOIN @extschema@.runs r ON r.run_id = g.run_id
   WHERE md.id = model_lineage.model_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'model % does not exist', model_lineage.model_id
      USING ERRCODE = 'no_data_found', HINT = 'See seongsu.models for the trained models.';
  END IF;
  IF m.snapshot_id IS NULL THEN
    RAISE EXCEPTION 'model % records no data snapshot', model_lineage.model_id
      USING ERRCODE = 'object_not_in_prerequisite_state',
            DETAIL = 'Neither its run nor its metrics name the snapshot it was trained on: it was trained before training recorded the data it read.',
            HINT = 'Retrain it; models trained now record their snapshot.';
  END IF;
  RETURN QUERY
    SELECT m.run_id, m.call_run_id, m.snapshot_id, l.table_name, l.source, l.written_at,
           l.rows, l.first_day, l.last_day, l.job_id
    FROM @extschema@.lineage(m.snapshot_id) l;
END
$$;
COMMENT ON FUNCTION model_lineage(bigint) IS
  'Where a model comes from: the run that stored it, that run''s train() call, the data snapshot it read, and per table, source and write the rows of that snapshot with the ingestion job that wrote them (null for imports and other writes), as seongsu.lineage gives them.';

GRANT EXECUTE ON FUNCTION model_lineage(bigint) TO seongsu_reader;

-- 85_monitoring: the challenger is tracking's alias (model_for_alias), not
-- a heuristic of its own: monitored_models reads it, challenger_model goes.
CREATE OR REPLACE FUNCTION monitored_models(station_id integer)
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
COMMENT ON COLUMN prediction_log.role IS 'champion (a deployed model) or challenger (the model its project''s challenger alias names: seongsu.model_for_alias).';
DROP FUNCTION IF EXISTS challenger_model(text);

-- 85_monitoring: the dashboard's model comparison reads seongsu.runs (the
-- latest calls of the station's projects and the candidates of the last);
-- the page itself follows below, with seongsu_api.dashboard.
-- A run's parameters in one short line for the dashboard: key=value in key
-- order, without the options every run has (folds), at most 120 characters.
CREATE OR REPLACE FUNCTION params_summary(params jsonb) RETURNS text
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

GRANT EXECUTE ON FUNCTION params_summary(jsonb) TO seongsu_reader;

-- 85_monitoring: the page is dashboard_page(station, line, today, for_public)
-- (with the last pipeline runs, issue 16); seongsu.dashboard calls it for
-- operators, seongsu_api.dashboard for the public.
CREATE OR REPLACE FUNCTION dashboard_page(station text, line text, today date, for_public boolean)
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

CREATE OR REPLACE FUNCTION dashboard(station text DEFAULT '성수', line text DEFAULT '2호선', today date DEFAULT NULL)
  RETURNS text
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT @extschema@.dashboard_page(station, line, today, false) $$;
COMMENT ON FUNCTION dashboard(text, text, date) IS
  'One self-contained HTML page for a station (inline CSS and SVG, no script, nothing fetched): the next 7 days'' forecast with hourly crowd levels and intervals, recent actuals against the issued forecasts, live accuracy and drift, the latest runs and their candidates (model comparison), data quality and source freshness, open alerts, the latest jobs and publications.  today (default: the KST date) picks the latest forecast published as of then.';

GRANT EXECUTE ON FUNCTION dashboard_page(text, text, date, boolean), dashboard(text, text, date) TO seongsu_reader;

-- 96_api: seongsu_api.dashboard, the public page.
-- The station's dashboard page (seongsu.dashboard) for the public: the
-- forecast, actuals against issued forecasts, live accuracy, drift, the
-- model comparison and the data-quality checks' statuses, without what
-- describes the operation rather than the forecasts (quality details, run
-- notes and errors, source freshness, alerts, jobs).  today, when given,
-- lies within the API's reach; the page's own windows are fixed (7 days
-- ahead, 8 weeks back, 91 days of checks, 10 runs), so a call's work is
-- bounded.  PL/pgSQL: the arguments are checked before any page is built.
CREATE OR REPLACE FUNCTION seongsu_api.dashboard(station text DEFAULT '성수', line text DEFAULT '2호선', today date DEFAULT NULL)
  RETURNS text
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF station IS NULL OR line IS NULL THEN
    RAISE EXCEPTION 'station and line must not be null'
      USING ERRCODE = 'null_value_not_allowed', HINT = 'Leave them out for 성수 on 2호선.';
  END IF;
  IF today IS NULL THEN
    PERFORM @extschema@.api_window(station, line);
  ELSE
    PERFORM @extschema@.api_check(station, line, today, today);
  END IF;
  RETURN @extschema@.dashboard_page(station, line, today, true);
END
$$;
COMMENT ON FUNCTION seongsu_api.dashboard(text, text, date) IS
  'seongsu.dashboard for the public: the forecast, actuals, live accuracy, drift, model comparison and the quality checks'' statuses (no quality details, run notes, sources, alerts or jobs); today, when given, within the station''s first observation and 62 days after its last.';

GRANT EXECUTE ON FUNCTION seongsu_api.dashboard(text, text, date) TO seongsu_api_user;

-- As 99_privileges: nothing of this block is granted to PUBLIC.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA @extschema@ FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA seongsu_api FROM PUBLIC;
-- end of the integ block
-- 60_features (issue 12, feature half): the feature rows have new columns
-- (kind of day and special days, 설날/추석 blocks and travel days, holiday
-- neighbours and identity, level91, year-on-year growth, kind ratios, devs,
-- every count divided by the level), so features() and calendar_features(),
-- whose result columns come from feature_columns(), are made anew from it
-- as in a fresh install; build_features stores them as feature sets "v2".
DROP FUNCTION calendar_features(timestamptz);
DROP FUNCTION features(text, text, timestamptz, timestamptz, text, interval);
DO $$
DECLARE
  cols text;
  cal text;
BEGIN
  SELECT pg_catalog.string_agg(pg_catalog.format('%I %s', c.name, c.type), ', ' ORDER BY c.ordinal),
         pg_catalog.string_agg(pg_catalog.format('OUT %I %s', c.name, c.type), ', ' ORDER BY c.ordinal)
           FILTER (WHERE c.in_calendar)
    INTO cols, cal
    FROM @extschema@.feature_columns() c;
  EXECUTE pg_catalog.format('CREATE FUNCTION @extschema@.calendar_features(ts timestamptz, %s) RETURNS record '
                            'AS %L, %L LANGUAGE C STABLE STRICT', cal, 'MODULE_PATHNAME', 'calendar_features');
  EXECUTE pg_catalog.format('CREATE FUNCTION @extschema@.features(station text, line text, from_ts timestamptz, '
                            'to_ts timestamptz, grain text DEFAULT %L, horizon interval DEFAULT %L) RETURNS TABLE (%s) '
                            'AS %L, %L LANGUAGE C STABLE STRICT', 'daily', '1 day', cols, 'MODULE_PATHNAME', 'features');
END
$$;
COMMENT ON FUNCTION calendar_features(timestamptz) IS
  'Calendar of the KST day and hour of ts: weekday, kind of day (working, Saturday, Sunday, public holiday, special day such as May 1), holidays (substitute, temporary, election, which holiday), blocks of days off and 설날/추석 blocks with positions and travel days, bridge days, holiday neighbours, distances to days off and holidays, day of month, season encodings, hour-share day type; the columns are described by seongsu.feature_columns().';
COMMENT ON FUNCTION features(text, text, timestamptz, timestamptz, text, interval) IS
  'Every feature row of a station in [from_ts, to_ts] (one per KST day or hour), using only observations at or before ts - horizon; seongsu.feature_columns() describes each column.';

-- Materialize features into the store; idempotent (unchanged rows are not rewritten).
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
  set_name text := format('%s %s v2', grain,
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
  INSERT INTO @extschema@.feature_sets (name, grain, horizon, version, columns)
  SELECT set_name, grain, horizon, 2, array_agg(c.name ORDER BY c.ordinal)
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
COMMENT ON FUNCTION build_features(text, text, timestamptz, timestamptz, text, interval) IS
  'Materialize seongsu.features rows into seongsu.feature_rows under a feature set named like "daily 7 days v2" (v2: the feature code of 0.2.0); returns rows inserted or changed (0 when nothing changed).';
REVOKE ALL ON FUNCTION calendar_features(timestamptz),
  features(text, text, timestamptz, timestamptz, text, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION calendar_features(timestamptz),
  features(text, text, timestamptz, timestamptz, text, interval) TO seongsu_reader;

-- 70_models (issue 12, feature half): models trained on the 0.2.0 features
-- name their feature set "v2"; hour shares have 8 day types.
COMMENT ON COLUMN models.feature_set IS 'Feature definition, e.g. "daily 7 days v2" (v2: the features of 0.2.0, seongsu.feature_columns()).';
COMMENT ON COLUMN models.hour_shares IS 'Hour-of-day shares, 8 day types x 24 hours (calendar_features day_type: 0 working Monday, 1 working Tuesday-Thursday, 2 working Friday, 3 Saturday, 4 Sunday, 5 public holiday, 6 day off in a 설날/추석 block, 7 special day), for the two-stage hourly forecast.';
-- 70_models (issue 12, learning): ensemble is a model algorithm (one blob of
-- format 3 holding its members), and train's comment describes the new
-- backtest and auto's rule.
ALTER TABLE models DROP CONSTRAINT models_algorithm_check;
ALTER TABLE models ADD CONSTRAINT models_algorithm_check
  CHECK (algorithm IN ('seasonal_naive', 'ridge', 'random_forest', 'gbdt', 'ensemble'));
COMMENT ON COLUMN models.algorithm IS 'seasonal_naive, ridge, random_forest, gbdt or ensemble (the inverse-MSE weighted mean of a ridge, a random_forest and a gbdt, stored as one blob).';
COMMENT ON FUNCTION train(text, text, text, text, interval, jsonb, jsonb, date, date, text, boolean, bigint) IS
  'Train seasonal_naive, ridge, random_forest, gbdt, ensemble or auto (all five; the candidate is the ensemble unless a member beats it on all backtest folds but at most one) with expanding-window backtests over the last two years (8 folds, each fitted on every day before it) on the data as of a snapshot (a new one of the current data, recorded as metrics.snapshot_id and runs.snapshot_id, or the one given), store the models, and deploy the best when it beats the live one (not when trained on a given snapshot); run_id is the call''s run in seongsu.runs (NULL with seongsu.track_runs off).';
-- 75_tracking (issue 12): the fold metrics' mean is pooled; learning curves only with early stopping.
COMMENT ON TABLE run_metrics IS 'Metric histories: rmse, mae, mape, smape, r2 and bias per backtest fold (step 1..k) and mean_<metric> (step 0: pooled over every fold''s scored days), as in the run''s metrics; valid_loss_fold<k> per boosting round (step 1..) for a gbdt with early_stopping_rounds, the mean validation loss on the fold''s early-stopping rows (in the target''s units: passengers, or the ratio to level28).  A call''s run has its best candidate''s.';



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

-- 98_dump: the new tables and sequence are configuration tables too.
SELECT pg_catalog.pg_extension_config_dump('@extschema@.pipelines', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.pipelines_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.pipeline_steps', '');
-- 99_privileges: nothing is granted to PUBLIC.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA @extschema@ FROM PUBLIC;
-- ======== end of the pipeline block ========
