-- Predictions keep each station's inputs and models per backend (and model
-- images in shared memory).  These statement triggers mark the caches that
-- read the table stale in the writing backend at once, and send
-- PostgreSQL's own relcache invalidation for the table, which reaches every
-- other backend at commit (and a standby's at replay) (src/invalidation.c).
-- ENABLE ALWAYS: they also fire for logical replication and
-- session_replication_role = replica loads.
CREATE FUNCTION data_changed_trigger() RETURNS trigger
  AS 'MODULE_PATHNAME', 'data_changed_trigger' LANGUAGE C;
COMMENT ON FUNCTION data_changed_trigger() IS
  'Statement trigger: the prediction caches that read the table are stale in this backend at once, and in every other once the transaction commits (relcache invalidation).';
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['ridership_daily', 'holidays', 'weather_daily', 'weather_forecast',
                           'models', 'deployments', 'stations'] LOOP
    EXECUTE format('CREATE TRIGGER data_changed BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.%I
                    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.data_changed_trigger()', t);
    EXECUTE format('ALTER TABLE @extschema@.%I ENABLE ALWAYS TRIGGER data_changed', t);
  END LOOP;
END $$;

CREATE FUNCTION model_cache()
  RETURNS TABLE (model_id bigint, bytes bigint, backends integer, hits bigint, current boolean)
  AS 'MODULE_PATHNAME', 'model_cache' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION model_cache() IS
  'The model images held in the shared model cache (seongsu.model_cache_size): bytes, backends predicting from each, times a backend took it from there, and whether it is of the model''s current blob (a rewritten blob is another entry).';
GRANT EXECUTE ON FUNCTION model_cache() TO seongsu_reader;
