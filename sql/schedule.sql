-- seongsu.schedule_ingestion needs pg_cron in the current database.  The
-- regression database (contrib_regression) has no pg_cron extension; the test
-- cluster preloads pg_cron for cron.database_name = 'postgres' (TAP test
-- test/t/012_schedule.pl covers the jobs themselves).
SET client_min_messages = warning;
\set VERBOSITY default
\set SHOW_CONTEXT never
SELECT count(*) AS jobs_before FROM seongsu.jobs \gset

-- a clear error, with DETAIL and HINT, from both functions
SELECT seongsu.schedule_ingestion();
SELECT seongsu.unschedule_ingestion();

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
