-- Scheduled ingestion with pg_cron: the jobs that keep the tables current.
--
-- pg_cron runs its jobs only in the database named by cron.database_name,
-- where its extension (schema cron) lives; these functions therefore work
-- only in that database, and the ingestion worker only runs the queued jobs
-- when it is also seongsu.database (otherwise call seongsu.run_pending_jobs).
-- pg_cron 1.4 reads schedules in GMT (later versions in cron.timezone, GMT by
-- default): the times below are UTC, with their KST (UTC+9) equivalent.
-- Every command computes "today" in KST, whatever the session's TimeZone.
-- pg_cron records every run in cron.job_run_details and never deletes a
-- row: a last job, scheduled with the others, deletes the rows of these
-- jobs (not of other users' or other applications' jobs) once they are
-- run_details_days old.

-- The pg_cron jobs schedule_ingestion creates: name, cron schedule (UTC), command.
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

-- Raise the error that explains how to get pg_cron when it is not installed here.
CREATE FUNCTION require_pg_cron() RETURNS void
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
COMMENT ON FUNCTION require_pg_cron() IS
  'Raise feature_not_supported with a hint when pg_cron is not installed in this database.';

-- Create (or update) the pg_cron jobs that keep the tables current; returns their pg_cron job ids.
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

-- Remove the pg_cron jobs schedule_ingestion created (the current user's); returns how many.
CREATE FUNCTION unschedule_ingestion() RETURNS integer
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  j record;
  removed integer := 0;
BEGIN
  PERFORM @extschema@.require_pg_cron();
  -- cron.job shows each user only their own jobs (row-level security).
  FOR j IN SELECT s.job_name FROM @extschema@.ingestion_schedule() s
           WHERE EXISTS (SELECT 1 FROM cron.job c WHERE c.jobname = s.job_name AND c.username = current_user) LOOP
    IF cron.unschedule(j.job_name) THEN
      removed := removed + 1;
    END IF;
  END LOOP;
  RETURN removed;
END
$$;
COMMENT ON FUNCTION unschedule_ingestion() IS
  'Remove the pg_cron jobs created by seongsu.schedule_ingestion for the current user; returns how many were removed.';

REVOKE ALL ON FUNCTION ingestion_schedule(integer, integer, integer, integer), require_pg_cron(),
  schedule_ingestion(integer, integer, integer, integer), unschedule_ingestion() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ingestion_schedule(integer, integer, integer, integer), require_pg_cron(),
  schedule_ingestion(integer, integer, integer, integer), unschedule_ingestion() TO seongsu_operator;
