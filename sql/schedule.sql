-- seongsu.schedule_ingestion needs pg_cron in the current database.  The
-- regression database (contrib_regression) has no pg_cron extension; the
-- server may preload pg_cron for another database (test/check.sh's cluster:
-- cron.database_name = 'postgres') or not at all (TAP test
-- test/t/012_schedule.pl covers the jobs themselves).
SET client_min_messages = warning;
\set VERBOSITY default
\set SHOW_CONTEXT never
SELECT count(*) AS jobs_before FROM seongsu.jobs \gset

-- a clear error from both functions, with a HINT, and a DETAIL that says
-- why for this server: pg_cron not loaded, or loaded for another database
CREATE FUNCTION pg_temp.cron_error(q text) RETURNS TABLE (error text, detail_fits_server boolean, hint text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  d text;
  cron_db text := (SELECT setting FROM pg_settings WHERE name = 'cron.database_name');
BEGIN
  EXECUTE q;
EXCEPTION WHEN feature_not_supported THEN
  GET STACKED DIAGNOSTICS error = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
  detail_fits_server := d = CASE
    WHEN cron_db IS NULL THEN
      format('The pg_cron extension is not installed in database %s, and the pg_cron library is not loaded.', current_database())
    ELSE format('The pg_cron extension is not installed in database %s; pg_cron runs jobs only in database %s (cron.database_name).  '
                'From there, cron.schedule_in_database can run the commands of seongsu.ingestion_schedule() in this database.',
                current_database(), cron_db) END;
  RETURN NEXT;
END $$;
SELECT * FROM pg_temp.cron_error('SELECT seongsu.schedule_ingestion()');
SELECT * FROM pg_temp.cron_error('SELECT seongsu.unschedule_ingestion()');

-- the error code is feature_not_supported (0A000)
DO $$
BEGIN
  PERFORM seongsu.schedule_ingestion();
EXCEPTION WHEN feature_not_supported THEN
  RAISE WARNING 'caught %: %', SQLSTATE, SQLERRM;
END
$$;

-- nothing was created on the way
SELECT count(*) - :jobs_before AS jobs_queued FROM seongsu.jobs;

-- the jobs it would create (cron schedules in UTC; dates computed in KST when run)
SELECT job_name, schedule FROM seongsu.ingestion_schedule();
SELECT job_name, command FROM seongsu.ingestion_schedule(3, 2, 6) WHERE job_name IN ('seongsu_seoul_daily', 'seongsu_kasi_holidays');

-- bad arguments are refused before pg_cron is looked for
SELECT seongsu.schedule_ingestion(0);
SELECT seongsu.schedule_ingestion(10, NULL);
SELECT * FROM seongsu.ingestion_schedule(holiday_months => 61);

-- executable by seongsu_operator (and the owner), not by PUBLIC
SELECT p.proname,
       bool_or(a.grantee = 0) AS public_may_execute,
       bool_or(a.grantee = 'seongsu_operator'::regrole) AS operator_may_execute
FROM pg_proc p, aclexplode(p.proacl) a
WHERE p.pronamespace = 'seongsu'::regnamespace
  AND p.proname IN ('ingestion_schedule', 'require_pg_cron', 'schedule_ingestion', 'unschedule_ingestion')
  AND a.privilege_type = 'EXECUTE'
GROUP BY p.proname ORDER BY p.proname;
-- every one of them pins its search_path
SELECT p.proname, p.proconfig FROM pg_proc p
WHERE p.pronamespace = 'seongsu'::regnamespace
  AND p.proname IN ('ingestion_schedule', 'require_pg_cron', 'schedule_ingestion', 'unschedule_ingestion')
ORDER BY p.proname;
