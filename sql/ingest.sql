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

-- A keyless job against a closed port: retried, then failed with no rows.
SET seongsu.open_meteo_archive_url = 'http://127.0.0.1:9/';
SET seongsu.max_attempts = 3;
SET seongsu.retry_base_ms = 1;
SET seongsu.http_timeout_ms = 2000;
SELECT seongsu.enqueue('openmeteo_daily', '2024-01-01', '2024-01-31') AS job \gset
SELECT state, attempts FROM seongsu.jobs WHERE id = :job;
SELECT seongsu.run_pending_jobs() AS ran;
SELECT seongsu.wait_for_job(:job, '1 second');
SELECT state, attempts, requests, rows_written,
       regexp_replace(last_error, 'request failed: .*\(gave', 'request failed: ... (gave') AS last_error
FROM seongsu.jobs WHERE id = :job;
SELECT attempt, http_status, rows_written, url FROM seongsu.ingest_log WHERE job_id = :job ORDER BY attempt;
SELECT count(*) AS rows_written_by_failed_job FROM seongsu.weather_daily
WHERE ingested_at >= (SELECT started_at FROM seongsu.jobs WHERE id = :job);
SELECT seongsu.run_pending_jobs() AS nothing_left;

-- wait_for_job: unknown job, and a pending job this database's worker does not serve
SELECT seongsu.wait_for_job(-1);
SELECT seongsu.enqueue('openmeteo_forecast', '2024-01-01') AS job2 \gset
SELECT seongsu.wait_for_job(:job2, '0.2 seconds');
SELECT seongsu.run_pending_jobs(-1);
DELETE FROM seongsu.jobs;

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
