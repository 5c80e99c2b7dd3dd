-- Ingestion: the job queue, the per-request log, and the functions around
-- them (src/ingest/jobs.c and job_*.c, worker.c).

-- The sources are listed once, in C (src/ingest/sources.c): the jobs table's
-- check and the source_status view are built from ingestion_sources().
CREATE FUNCTION ingestion_sources()
  RETURNS TABLE (ordinal integer, name text, api_key text, description text)
  AS 'MODULE_PATHNAME', 'ingestion_sources' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ingestion_sources() IS
  'Every source seongsu.enqueue accepts, in order: its name, the API key it needs (NULL: none; see seongsu.set_secret) and what it fetches.';

CREATE TABLE jobs (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source          text NOT NULL,
  from_date       date NOT NULL,
  to_date         date NOT NULL,
  options         jsonb NOT NULL DEFAULT '{}' CONSTRAINT jobs_options_object CHECK (jsonb_typeof(options) = 'object'),
  state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  requests        integer NOT NULL DEFAULT 0,
  rows_written    bigint NOT NULL DEFAULT 0,
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  started_at      timestamptz,
  finished_at     timestamptz,
  enqueued_by     text NOT NULL DEFAULT current_user,
  CONSTRAINT jobs_dates_finite CHECK (isfinite(from_date) AND isfinite(to_date)),
  CONSTRAINT jobs_dates_ordered CHECK (to_date >= from_date),
  -- (infinite dates cannot be subtracted; jobs_dates_finite refuses them)
  CONSTRAINT jobs_span_within_cap CHECK (NOT isfinite(from_date) OR NOT isfinite(to_date)
                                         OR to_date - from_date < 7305)
);
CREATE INDEX jobs_runnable ON jobs (next_attempt_at, id) WHERE state IN ('pending', 'running');
DO $$
BEGIN
  EXECUTE pg_catalog.format('ALTER TABLE @extschema@.jobs ADD CONSTRAINT jobs_source_known CHECK (source IN (%s, ''train'', ''pipeline''))',
                            (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(s.name), ', ' ORDER BY s.ordinal)
                             FROM @extschema@.ingestion_sources() s));
END
$$;
COMMENT ON TABLE jobs IS 'Ingestion jobs: one source over a date range (or train: a seongsu.train call over train_from..train_to).  The worker (or seongsu.run_pending_jobs) runs them; a run writes all its rows or none.  Written only through seongsu.enqueue, seongsu.cancel_job and the runners.';
COMMENT ON CONSTRAINT jobs_source_known ON jobs IS 'The source is one seongsu.enqueue knows.';
COMMENT ON CONSTRAINT jobs_options_object ON jobs IS 'Options are a JSON object.';
COMMENT ON CONSTRAINT jobs_dates_finite ON jobs IS 'A job covers finite dates (no infinity, no -infinity).';
COMMENT ON CONSTRAINT jobs_dates_ordered ON jobs IS 'to_date is not before from_date.';
COMMENT ON CONSTRAINT jobs_span_within_cap ON jobs IS 'A job covers at most 7305 days (20 years); enqueue several for more.  The runner checks this again when it claims a job.';
COMMENT ON COLUMN jobs.id IS 'Job id, returned by seongsu.enqueue.';
COMMENT ON COLUMN jobs.source IS 'One of seongsu.ingestion_sources(), train (seongsu.train as a job in the worker) or pipeline (a run of seongsu.run_pipeline; options {"run_id": n}).';
COMMENT ON COLUMN jobs.from_date IS 'First KST day (or month) to fetch.';
COMMENT ON COLUMN jobs.to_date IS 'Last KST day (or month) to fetch.';
COMMENT ON COLUMN jobs.options IS 'Source options, e.g. {"station": "108"}, {"nx": 61, "ny": 126}, {"base_time": "0500"} (kma_forecast: issue time on from_date); for train the arguments of seongsu.train, e.g. {"algorithm": "gbdt", "horizon": "1 day", "hyperparams": {...}} (from_date and to_date are train_from and train_to).';
COMMENT ON COLUMN jobs.state IS 'pending, running, done or failed (a cancelled job is failed).';
COMMENT ON COLUMN jobs.attempts IS 'How many times a runner has started the job: a job interrupted by a crash is started again, and one that failed on a transient error only runs again after a back-off, up to seongsu.job_max_attempts runs.';
COMMENT ON COLUMN jobs.next_attempt_at IS 'The job is not started before this time (after a transient failure: now + seongsu.job_retry_delay, doubling each run, at most 1 hour).';
COMMENT ON COLUMN jobs.requests IS 'HTTP requests made by the last run, retries included.';
COMMENT ON COLUMN jobs.rows_written IS 'Rows inserted or changed by the job (train: models stored).';
COMMENT ON COLUMN jobs.last_error IS 'Why the job failed (URLs redacted), "cancelled by <role>", or "not run: ..." for a job that fails the checks when claimed; on a pending job, why its last run failed before the job-level retry.';
COMMENT ON COLUMN jobs.created_at IS 'When the job was enqueued.';
COMMENT ON COLUMN jobs.started_at IS 'When its last run started.';
COMMENT ON COLUMN jobs.finished_at IS 'When it reached done or failed.';
COMMENT ON COLUMN jobs.enqueued_by IS 'The role that enqueued the job: a training job trains as this role.';

CREATE TABLE ingest_log (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id        bigint NOT NULL,
  source        text NOT NULL,
  url           text NOT NULL,
  attempt       integer NOT NULL,
  http_status   integer,
  api_code      text,
  latency_ms    double precision,
  bytes         bigint,
  rows_parsed   integer,
  rows_written  bigint,
  error         text,
  at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ingest_log_job ON ingest_log (job_id);
CREATE INDEX ingest_log_at ON ingest_log (at);
COMMENT ON TABLE ingest_log IS 'One row per HTTP request made by an ingestion job; purged after seongsu.log_ttl_days.  Written only by the runners.';
COMMENT ON COLUMN ingest_log.id IS 'Row id.';
COMMENT ON COLUMN ingest_log.job_id IS 'The job (jobs.id).';
COMMENT ON COLUMN ingest_log.source IS 'The job''s source.';
COMMENT ON COLUMN ingest_log.url IS 'The request URL with every API key replaced by ***.';
COMMENT ON COLUMN ingest_log.attempt IS '1 for the first try of this URL, 2 for its first retry, and so on.';
COMMENT ON COLUMN ingest_log.http_status IS 'HTTP status, NULL when no response arrived (timeout, connection error).';
COMMENT ON COLUMN ingest_log.api_code IS 'The API''s own result code (INFO-000, 00, 22, ...).';
COMMENT ON COLUMN ingest_log.latency_ms IS 'Time from sending the request to the end of the response.';
COMMENT ON COLUMN ingest_log.bytes IS 'Body size.';
COMMENT ON COLUMN ingest_log.rows_parsed IS 'Rows the parser produced from this response.';
COMMENT ON COLUMN ingest_log.rows_written IS 'Rows of this response inserted or changed (0 when the job failed).';
COMMENT ON COLUMN ingest_log.error IS 'What went wrong with this request, if anything.';
COMMENT ON COLUMN ingest_log.at IS 'When the response (or failure) arrived.';

-- Queue a job; the worker is woken when the transaction commits.
CREATE FUNCTION enqueue(source text, from_date date, to_date date DEFAULT NULL, options jsonb DEFAULT '{}')
  RETURNS bigint AS 'MODULE_PATHNAME', 'enqueue' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION enqueue(text, date, date, jsonb) IS
  'Queue an ingestion job for source over [from_date, to_date] (to_date defaults to from_date); returns its id.';

-- Run queued jobs in this session (same code as the worker).
CREATE FUNCTION run_pending_jobs(max_jobs integer DEFAULT NULL) RETURNS integer
  AS 'MODULE_PATHNAME', 'run_pending_jobs' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION run_pending_jobs(integer) IS
  'Run pending jobs in the calling session, for servers where the worker cannot be preloaded; returns how many ran.';

-- Cancel a pending or running job.
CREATE FUNCTION cancel_job(job_id bigint) RETURNS text
  AS 'MODULE_PATHNAME', 'cancel_job' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION cancel_job(bigint) IS
  'Mark a pending or running job failed with last_error "cancelled by <role>" and return ''cancelled''; a running job stops within about a second and writes none of its rows (its requests are logged).  A job that has already ended is left as it is and its state (done or failed) returned.';

-- Wait for a job to finish.
CREATE FUNCTION wait_for_job(job_id bigint, timeout interval DEFAULT '60 seconds') RETURNS text
  AS 'MODULE_PATHNAME', 'wait_for_job' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION wait_for_job(bigint, interval) IS
  'Wait until the job is done or failed and return that state; raises an error on timeout.';

-- Per source of ingestion_sources(): the latest observed date, the
-- publication delay, staleness.  How each source's progress is measured
-- (which rows show it, how late they are published) is said here.
CREATE VIEW source_status AS
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
COMMENT ON VIEW source_status IS
  'Per source: the latest KST day it has delivered, the publication delay to expect, and whether it is stale (kasi_holidays is stale when fewer than 365 days of future holidays are known).';

-- Readers see the queue and the log; nobody but the owner writes them: the
-- functions below write them as the extension's owner, so that every job
-- passes enqueue's checks and every log row comes from a runner.
GRANT SELECT ON jobs, ingest_log, source_status TO seongsu_reader;
GRANT EXECUTE ON FUNCTION ingestion_sources() TO seongsu_reader;
REVOKE ALL ON FUNCTION enqueue(text, date, date, jsonb), run_pending_jobs(integer),
  cancel_job(bigint), wait_for_job(bigint, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION enqueue(text, date, date, jsonb), run_pending_jobs(integer),
  cancel_job(bigint), wait_for_job(bigint, interval) TO seongsu_operator;
