-- Ingestion API: argument checks, keys, a job run in this session against an
-- unreachable server, and the secrecy of the API keys.
SET client_min_messages = warning;

-- argument errors
SELECT seongsu.enqueue('seoul_weekly', '2024-01-01');
SELECT seongsu.enqueue(NULL, '2024-01-01');
SELECT seongsu.enqueue('openmeteo_daily', '2024-01-02', '2024-01-01');
SELECT seongsu.enqueue('openmeteo_daily', '2000-01-01', '2024-01-01');
SELECT seongsu.enqueue('openmeteo_daily', '2024-01-01', NULL, '[1, 2]');
SELECT seongsu.enqueue('openmeteo_daily', 'infinity', NULL);
-- sources that need a key refuse to queue without it (none is set here)
SELECT seongsu.enqueue('seoul_daily', '2024-01-01');
SELECT seongsu.enqueue('kasi_holidays', '2024-01-01');

-- A keyless job against a closed port: each request retried, the run failed
-- with no rows; a failure on transient errors only is retried at the job
-- level after seongsu.job_retry_delay (here 1 hour), up to
-- seongsu.job_max_attempts runs, then the job fails.
-- A job left pending: its error, DETAIL (why) and whether its HINT (who
-- would run it) fits this server: without the worker (no
-- shared_preload_libraries) it says there is none; with it, that the worker
-- serves seongsu.database only, not this database.
CREATE FUNCTION pg_temp.still_pending(job bigint, t interval)
  RETURNS TABLE (error text, detail text, hint_fits_server boolean)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  h text;
BEGIN
  PERFORM seongsu.wait_for_job(job, t);
EXCEPTION WHEN query_canceled THEN  -- (wait_for_job gives up with 57014)
  GET STACKED DIAGNOSTICS error = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  hint_fits_server := h = CASE WHEN EXISTS (SELECT FROM pg_stat_activity WHERE backend_type = 'daily_seongsu ingest')
    THEN format('The worker runs the jobs of database "%s" only; run this database''s jobs with SELECT seongsu.run_pending_jobs().',
                current_setting('seongsu.database'))
    ELSE 'No ingestion worker is running (shared_preload_libraries lacks daily_seongsu); run the job with SELECT seongsu.run_pending_jobs().' END;
  RETURN NEXT;
END $$;
SET seongsu.open_meteo_archive_url = 'http://127.0.0.1:9/';
SET seongsu.max_attempts = 3;
SET seongsu.retry_base_ms = 1;
SET seongsu.http_timeout_ms = 2000;
SET seongsu.job_max_attempts = 2;
SET seongsu.job_retry_delay = '1h';
SELECT seongsu.enqueue('openmeteo_daily', '2024-01-01', '2024-01-31') AS job \gset
SELECT state, attempts FROM seongsu.jobs WHERE id = :job;
SELECT seongsu.run_pending_jobs() AS ran;
SELECT state, attempts, requests, rows_written, finished_at IS NULL AS unfinished,
       next_attempt_at > now() + interval '59 minutes' AND next_attempt_at < now() + interval '61 minutes' AS retry_in_an_hour,
       regexp_replace(last_error, 'request failed: .*\(gave', 'request failed: ... (gave') AS last_error
FROM seongsu.jobs WHERE id = :job;
SELECT seongsu.run_pending_jobs() AS not_due_yet;
SELECT * FROM pg_temp.still_pending(:job, '0.1 seconds');
UPDATE seongsu.jobs SET next_attempt_at = now() WHERE id = :job;  -- (the owner skips the wait)
SELECT seongsu.run_pending_jobs() AS ran;
SELECT seongsu.wait_for_job(:job, '1 second');
SELECT state, attempts, requests, rows_written,
       regexp_replace(last_error, 'request failed: .*\(gave', 'request failed: ... (gave') AS last_error
FROM seongsu.jobs WHERE id = :job;
SELECT attempt, http_status, rows_written, url FROM seongsu.ingest_log WHERE job_id = :job ORDER BY id;
SELECT count(*) AS rows_written_by_failed_job FROM seongsu.weather_daily
WHERE ingested_at >= (SELECT started_at FROM seongsu.jobs WHERE id = :job);
SELECT seongsu.run_pending_jobs() AS nothing_left;
SET seongsu.job_max_attempts = 1;

-- wait_for_job: unknown job, and a pending job this database's worker does not serve
SELECT seongsu.wait_for_job(-1);
SELECT seongsu.enqueue('openmeteo_forecast', '2024-01-01') AS job2 \gset
SELECT * FROM pg_temp.still_pending(:job2, '0.2 seconds');
SELECT seongsu.run_pending_jobs(-1);
DELETE FROM seongsu.jobs;

-- The jobs table refuses what enqueue refuses, whoever writes it.
\set VERBOSITY terse
INSERT INTO seongsu.jobs (source, from_date, to_date) VALUES ('openmeteo_daily', '-infinity', 'infinity');
INSERT INTO seongsu.jobs (source, from_date, to_date) VALUES ('openmeteo_daily', '2024-01-01', 'infinity');
INSERT INTO seongsu.jobs (source, from_date, to_date) VALUES ('openmeteo_daily', '1900-01-01', '2100-12-31');
INSERT INTO seongsu.jobs (source, from_date, to_date) VALUES ('openmeteo_daily', '2024-01-02', '2024-01-01');
INSERT INTO seongsu.jobs (source, from_date, to_date) VALUES ('seoul_weekly', '2024-01-01', '2024-01-01');
INSERT INTO seongsu.jobs (source, from_date, to_date, options) VALUES ('openmeteo_daily', '2024-01-01', '2024-01-01', '[1]');
INSERT INTO seongsu.jobs (source, from_date, to_date) VALUES ('openmeteo_daily', '2004-01-01', '2023-12-31') RETURNING to_date - from_date + 1 AS days;
UPDATE seongsu.jobs SET to_date = '2100-12-31';
DELETE FROM seongsu.jobs;
\set VERBOSITY default
-- A row that fails the checks anyway (written before the table had them, or
-- past a lowered cap) is marked failed when claimed, and never run.
BEGIN;
ALTER TABLE seongsu.jobs DROP CONSTRAINT jobs_span_within_cap, DROP CONSTRAINT jobs_source_known,
  DROP CONSTRAINT jobs_dates_finite;
INSERT INTO seongsu.jobs (source, from_date, to_date) VALUES ('openmeteo_daily', '1900-01-01', '2100-12-31');
INSERT INTO seongsu.jobs (source, from_date, to_date) VALUES ('seoul_weekly', '2024-01-01', '2024-01-01');
INSERT INTO seongsu.jobs (source, from_date, to_date) VALUES ('openmeteo_daily', '-infinity', 'infinity');
SELECT seongsu.run_pending_jobs() AS ran;
SELECT source, from_date, to_date, state, attempts, requests, last_error FROM seongsu.jobs ORDER BY id;
SELECT count(*) AS requests_logged FROM seongsu.ingest_log WHERE job_id IN (SELECT id FROM seongsu.jobs);
ROLLBACK;

-- Operators write jobs only through the functions: enqueue, cancel_job and
-- the runners (which write jobs and ingest_log as the extension's owner).
CREATE ROLE seongsu_test_jobs_op IN ROLE seongsu_operator;
CREATE ROLE seongsu_test_jobs_reader IN ROLE seongsu_reader;
SET ROLE seongsu_test_jobs_op;
INSERT INTO seongsu.jobs (source, from_date, to_date) VALUES ('openmeteo_daily', '2024-01-01', '2024-01-01');
UPDATE seongsu.jobs SET state = 'pending';
DELETE FROM seongsu.jobs;
INSERT INTO seongsu.ingest_log (job_id, source, url, attempt) VALUES (1, 'openmeteo_daily', 'x', 1);
DELETE FROM seongsu.ingest_log;
SELECT seongsu.enqueue('openmeteo_daily', '2024-02-01') AS cancelled \gset
SELECT seongsu.cancel_job(:cancelled);
SELECT state, last_error, finished_at IS NOT NULL AS finished FROM seongsu.jobs WHERE id = :cancelled;
SELECT seongsu.cancel_job(:cancelled) AS again;
SELECT seongsu.cancel_job(-1);
SELECT seongsu.enqueue('openmeteo_daily', '2024-03-01') AS opjob \gset
SELECT seongsu.run_pending_jobs() AS ran_by_operator;
SELECT state, attempts, requests FROM seongsu.jobs WHERE id = :opjob;
SELECT count(*) AS logged FROM seongsu.ingest_log WHERE job_id = :opjob;
SELECT seongsu.cancel_job(:opjob) AS already_ended;
SET ROLE seongsu_test_jobs_reader;
SELECT seongsu.cancel_job(:opjob);
SELECT seongsu.enqueue('openmeteo_daily', '2024-03-01');
RESET ROLE;
DROP ROLE seongsu_test_jobs_op, seongsu_test_jobs_reader;
DELETE FROM seongsu.jobs;
RESET seongsu.job_max_attempts;
RESET seongsu.job_retry_delay;

-- Keys: superuser-only, never shown to others.
SET seongsu.seoul_api_key = 'TOPSECRET-KEY-123';
CREATE ROLE seongsu_test_op IN ROLE seongsu_operator;
SET ROLE seongsu_test_op;
-- (the error's wording differs between PostgreSQL versions: its SQLSTATE is shown)
DO $$
DECLARE v text;
BEGIN
  EXECUTE 'SHOW seongsu.seoul_api_key' INTO v;
  RAISE WARNING 'SHOW seongsu.seoul_api_key gave %', v;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE WARNING 'SHOW seongsu.seoul_api_key: %', SQLSTATE;
END $$;
SELECT count(*) AS visible_key_settings FROM pg_settings WHERE name LIKE 'seongsu.%key%';
DO $$
BEGIN
  RAISE WARNING 'current_setting gave %', pg_catalog.current_setting('seongsu.data_go_kr_key');
EXCEPTION WHEN insufficient_privilege THEN
  RAISE WARNING 'current_setting(''seongsu.data_go_kr_key''): %', SQLSTATE;
END $$;
SET seongsu.seoul_api_key = 'x';
SET seongsu.seoul_api_url = 'http://evil.example/';
RESET ROLE;
DROP ROLE seongsu_test_op;
SELECT current_setting('seongsu.seoul_api_key') = 'TOPSECRET-KEY-123' AS superuser_can_read;
RESET seongsu.seoul_api_key;

-- Stored keys (seongsu.set_secret): only the owner stores them, nobody
-- else reads them, and a bad call never prints the value.
SELECT seongsu.set_secret('seoul_key', 'NOT-A-NAME-123');
SELECT seongsu.set_secret(NULL, 'NOT-A-NAME-123');
SELECT seongsu.set_secret('seoul_api_key', E'STORED-KEY\n');
SELECT seongsu.set_secret('seoul_api_key', 'STORED KEY');
SELECT seongsu.set_secret('seoul_api_key', 'STORED-SEOUL-KEY-1');
SELECT seongsu.set_secret('data_go_kr_key', 'STORED+DGK/KEY==');
SELECT seongsu.set_secret('seoul_api_key', 'STORED-SEOUL-KEY-2');
SELECT name, value IN ('STORED-SEOUL-KEY-2', 'STORED+DGK/KEY==') AS stored FROM seongsu.secrets ORDER BY name;
-- a source with a stored key queues (no setting is involved)
SELECT seongsu.enqueue('seoul_daily', '2024-01-01') > 0 AS queued_with_stored_key;
CREATE ROLE seongsu_test_op2 IN ROLE seongsu_operator;
CREATE ROLE seongsu_test_reader IN ROLE seongsu_reader;
SET ROLE seongsu_test_op2;
SELECT seongsu.set_secret('seoul_api_key', 'OPERATOR-KEY');
SELECT * FROM seongsu.secrets;
SELECT seongsu.enqueue('kasi_holidays', '2024-01-01') > 0 AS operator_queues_with_stored_key;
SET ROLE seongsu_test_reader;
SELECT * FROM seongsu.secrets;
SELECT seongsu.set_secret('seoul_api_key', NULL);
RESET ROLE;
-- the table is granted to nobody, in no view, and marked for pg_dump
SELECT count(*) AS grants_on_secrets FROM pg_class c, aclexplode(c.relacl) a
WHERE c.oid = 'seongsu.secrets'::regclass AND a.grantee <> c.relowner;
SELECT count(*) AS views_reading_secrets FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = 'seongsu.secrets'::regclass;
SELECT 'seongsu.secrets'::regclass = ANY (extconfig) AS dumped_with_extension
FROM pg_extension WHERE extname = 'daily_seongsu';
SELECT count(*) AS execute_grants_on_set_secret
FROM pg_proc p, aclexplode(p.proacl) a
WHERE p.oid = 'seongsu.set_secret(text, text)'::regprocedure AND a.grantee <> p.proowner;
-- NULL or '' removes a key
SELECT seongsu.set_secret('seoul_api_key', NULL), seongsu.set_secret('data_go_kr_key', '');
SELECT count(*) AS stored_keys FROM seongsu.secrets;
SELECT seongsu.enqueue('seoul_daily', '2024-01-01');
-- A key in a setting still works, with a WARNING (once per session) naming the safer way.
SET seongsu.seoul_api_key = 'SETTING-KEY-123';
SELECT seongsu.enqueue('seoul_daily', '2024-01-01') > 0 AS queued_with_setting;
SELECT seongsu.enqueue('seoul_daily', '2024-01-02') > 0 AS warned_once;
RESET seongsu.seoul_api_key;

-- Job options reach URLs only in their documented forms.
SELECT seongsu.enqueue('kma_asos_hourly', '2024-01-01', NULL, '{"station": "108&numOfRows=1"}');
SELECT seongsu.enqueue('kma_asos_hourly', '2024-01-01', NULL, '{"station": "108.5"}');
SELECT seongsu.enqueue('kma_asos_hourly', '2024-01-01', NULL, '{"station": 1234567}');
SELECT seongsu.enqueue('kma_asos_hourly', '2024-01-01', NULL, '{"station": true}');
SELECT seongsu.enqueue('kma_asos_hourly', '2024-01-01', NULL, '{"stn": "108"}');
SELECT seongsu.enqueue('kma_forecast', '2024-01-01', NULL, '{"nx": 0}');
SELECT seongsu.enqueue('kma_forecast', '2024-01-01', NULL, '{"nx": 61, "ny": "126#"}');
SELECT seongsu.enqueue('kma_forecast', '2024-01-01', NULL, '{"ny": 301}');
SELECT seongsu.enqueue('kma_forecast', '2024-01-01', NULL, '{"base_time": "05:00"}');
SELECT seongsu.enqueue('kma_forecast', '2024-01-01', NULL, '{"base_time": "2400"}');
SELECT seongsu.enqueue('openmeteo_daily', '2024-01-01', NULL, '{"latitude": 91}');
SELECT seongsu.enqueue('openmeteo_daily', '2024-01-01', NULL, '{"latitude": "37.5&daily=x"}');
SELECT seongsu.enqueue('openmeteo_daily', '2024-01-01', NULL, '{"longitude": "1e2"}');
SELECT seongsu.enqueue('openmeteo_forecast', '2024-01-01', NULL, '{"longitude": -180.5}');
SELECT seongsu.enqueue('openmeteo_forecast', '2024-01-01', NULL, '{"station": "108"}');
SELECT seongsu.enqueue('seoul_daily', '2024-01-01', NULL, '{"nx": 61}');
SELECT seongsu.enqueue('openmeteo_daily', '2024-01-01', NULL, '{"latitude": 37.5445, "longitude": "-127.0565"}') > 0 AS decimal_ok;
SELECT seongsu.set_secret('data_go_kr_key', 'DGK-KEY');
SELECT seongsu.enqueue('kma_asos_hourly', '2024-01-01', NULL, '{"station": 108}') > 0 AS digits_ok;
SELECT seongsu.enqueue('kma_forecast', '2024-01-01', NULL, '{"nx": "61", "ny": 126, "base_time": "0500"}') > 0 AS forecast_ok;
SELECT seongsu.set_secret('data_go_kr_key', NULL);
DELETE FROM seongsu.jobs;
DROP ROLE seongsu_test_op2;
DROP ROLE seongsu_test_reader;

-- The sources and the import kinds are listed once, in C
-- (ingestion_sources(), import_kinds()); the SQL objects built from the
-- lists and the hints that name them agree with them.
SELECT count(*) > 0 AS has_sources, bool_and(description <> '') AS described,
       bool_and(api_key IS NULL OR api_key IN ('seoul_api_key', 'data_go_kr_key')) AS keys_known
FROM seongsu.ingestion_sources();
SELECT count(*) > 0 AS has_kinds, bool_and(description <> '' AND layout <> '') AS described
FROM seongsu.import_kinds();
-- the jobs table accepts exactly the sources, train and pipeline, the status view has one row
-- for each (in order, each measured), and the schedule's enqueue jobs name
-- no other (its last job purges pg_cron's history and enqueues nothing)
SELECT array_agg(t.m[1] ORDER BY t.o) = (SELECT array_agg(name ORDER BY ordinal) || '{train,pipeline}' FROM seongsu.ingestion_sources())
         AS check_agrees
FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([^'']*)''', 'g') WITH ORDINALITY AS t(m, o)
WHERE c.conrelid = 'seongsu.jobs'::regclass AND c.conname = 'jobs_source_known';
SELECT array_agg(source) = (SELECT array_agg(name ORDER BY ordinal) FROM seongsu.ingestion_sources()) AS status_agrees,
       count(*) FILTER (WHERE expected_delay IS NULL) AS unmeasured
FROM seongsu.source_status;
SELECT (regexp_match(command, 'enqueue\(''([^'']*)'''))[1] AS unknown_scheduled_source
FROM seongsu.ingestion_schedule()
WHERE command ~ 'enqueue\('          -- the purge of cron.job_run_details enqueues nothing
EXCEPT SELECT name FROM seongsu.ingestion_sources();
-- the errors for an unknown source or kind list them all; every kind is one import_text knows
CREATE FUNCTION pg_temp.error_of(statement text) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
  state text;
  hint text;
BEGIN
  EXECUTE statement;
  RETURN NULL;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, hint = PG_EXCEPTION_HINT;
  RETURN ARRAY[state, hint];
END
$$;
SELECT (pg_temp.error_of($$SELECT seongsu.enqueue('seoul_weekly', '2024-01-01')$$))[2]
       = 'Sources are ' || regexp_replace(string_agg(name, ', ' ORDER BY ordinal), ', ([^,]*)$', ' and \1') || '; train runs seongsu.train as a job.'
         AS source_hint_agrees
FROM seongsu.ingestion_sources();
SELECT (pg_temp.error_of($$SELECT seongsu.enqueue('seoul_daily', '2024-01-01')$$))[2]
       LIKE '%; ' || regexp_replace(string_agg(name, ', ' ORDER BY ordinal), ', ([^,]*)$', ' and \1') || ' need no key.'
         AS keyless_hint_agrees
FROM seongsu.ingestion_sources() WHERE api_key IS NULL;
SELECT (pg_temp.error_of($$SELECT seongsu.import_text('weekly', '')$$))[2]
       = 'Valid kinds are: ' || string_agg(name, ', ' ORDER BY ordinal) || '.' AS kind_hint_agrees
FROM seongsu.import_kinds();
SELECT name AS kind_unknown_to_import_text
FROM seongsu.import_kinds()
WHERE (pg_temp.error_of(format('SELECT seongsu.import_text(%L, %L)', name, '')))[1] NOT IN ('22P04', '22P02');
