-- seongsu.schedule_ingestion needs pg_cron in the current database.  The
-- regression database (contrib_regression) has no pg_cron extension; the
-- server may preload pg_cron for another database (test/check.sh's cluster:
-- cron.database_name = 'postgres') or not at all (TAP test
-- test/t/012_schedule.pl covers the jobs themselves).
SET client_min_messages = warning;
\set VERBOSITY default
\set SHOW_CONTEXT never
SELECT count(*) AS jobs_before FROM seongsu.jobs \gset

-- The error of a call as rows: SQLSTATE, message, DETAIL and HINT, with the
-- running server's major version written <major> in the HINT, which names
-- the pg_cron package of the running major (15 on one CI leg, 17 on the
-- other); a package of another major would show as it is.  The DETAIL's
-- reason depends on the server (the pg_cron library not loaded, or loaded
-- for another database): the one pg_settings says is written <why, on this
-- server>; any other shows as it is.
CREATE FUNCTION pg_temp.error_of(call text) RETURNS TABLE (field text, value text)
  LANGUAGE plpgsql AS $$
DECLARE
  st text;
  msg text;
  det text;
  hin text;
  major text := (current_setting('server_version_num')::integer / 10000)::text;
  cron_db text := (SELECT setting FROM pg_settings WHERE name = 'cron.database_name');
  why text := CASE WHEN cron_db IS NULL THEN ', and the pg_cron library is not loaded.'
                   ELSE format('; pg_cron runs jobs only in database %s (cron.database_name).  From there, '
                               'cron.schedule_in_database can run the commands of seongsu.ingestion_schedule() in this database.',
                               cron_db) END;
BEGIN
  EXECUTE call;
  RETURN QUERY VALUES ('error', 'none');
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
                          hin = PG_EXCEPTION_HINT;
  RETURN QUERY VALUES ('sqlstate', st), ('message', msg), ('detail', replace(det, why, ' <why, on this server>')),
    ('hint', replace(replace(replace(hin, 'PostgreSQL ' || major || ' (', 'PostgreSQL <major> ('),
                             'postgresql-' || major || '-cron', 'postgresql-<major>-cron'),
                     'pg_cron_' || major || ' ', 'pg_cron_<major> '));
END
$$;

-- a clear error, with DETAIL and HINT, from both functions
SELECT * FROM pg_temp.error_of('SELECT seongsu.schedule_ingestion()');
SELECT * FROM pg_temp.error_of('SELECT seongsu.unschedule_ingestion()');

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
SELECT seongsu.schedule_ingestion(run_details_days => 0);
SELECT * FROM seongsu.ingestion_schedule(run_details_days => NULL);

-- the last job deletes pg_cron's history of these seven jobs, the scheduling
-- user's only, older than run_details_days (default 14)
SELECT command FROM seongsu.ingestion_schedule() WHERE job_name = 'seongsu_purge_run_details';
SELECT command FROM seongsu.ingestion_schedule(run_details_days => 3) WHERE job_name = 'seongsu_purge_run_details';

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
