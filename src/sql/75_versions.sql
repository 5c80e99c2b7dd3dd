-- Data versioning (src/ops/stamp.c, content*.c, snapshot.c, diff.c,
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

-- Lineage from a model: the run that stored it (a candidate's, or a
-- reproduction's), that run's train() call, the data snapshot it read
-- (runs.snapshot_id, else the model's metrics.snapshot_id) and, through
-- seongsu.lineage, the writes — ingestion jobs and imports — of its rows.
CREATE FUNCTION model_lineage(model_id bigint)
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

CREATE FUNCTION reproduce(run_id bigint)
  RETURNS TABLE (run_id bigint, model_id bigint, identical boolean, reason text)
  AS 'MODULE_PATHNAME', 'reproduce' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION reproduce(bigint) IS
  'Reproduce the model a run stored (a train() call''s best model, or the model a candidate refit) as reproduce_model does, as a run of its own: returns that run and the new model; identical only when the bytes are the same and the run was trained by this build (runs.build) and version of the extension, otherwise false with the reason.  A candidate that was only backtested stored no model: an error says what to reproduce or train instead.';

GRANT SELECT ON snapshots, snapshot_chunks TO seongsu_reader;
GRANT EXECUTE ON FUNCTION verify_snapshot(bigint), diff_snapshots(bigint, bigint), lineage(bigint), model_lineage(bigint)
  TO seongsu_reader;
REVOKE ALL ON FUNCTION snapshot(text, text, date, date), reproduce_model(bigint), reproduce(bigint),
  version_stamp(regclass), purge_history(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION snapshot(text, text, date, date), reproduce_model(bigint), reproduce(bigint),
  version_stamp(regclass) TO seongsu_operator;
