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
SELECT seongsu.wait_for_job(:job, '0.1 seconds');
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
SELECT seongsu.wait_for_job(:job2, '0.2 seconds');
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
SHOW seongsu.seoul_api_key;
SELECT count(*) AS visible_key_settings FROM pg_settings WHERE name LIKE 'seongsu.%key%';
SELECT current_setting('seongsu.data_go_kr_key');
SET seongsu.seoul_api_key = 'x';
SET seongsu.seoul_api_url = 'http://evil.example/';
RESET ROLE;
DROP ROLE seongsu_test_op;
SELECT current_setting('seongsu.seoul_api_key') = 'TOPSECRET-KEY-123' AS superuser_can_read;
RESET seongsu.seoul_api_key;
