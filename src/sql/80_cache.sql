-- Predictions cache the station's inputs and models per backend and in
-- shared memory; these triggers mark the caches stale when a writing
-- transaction commits.
CREATE FUNCTION data_changed_trigger() RETURNS trigger
  AS 'MODULE_PATHNAME', 'data_changed_trigger' LANGUAGE C;
COMMENT ON FUNCTION data_changed_trigger() IS
  'Statement trigger: bumps the shared generations of what the table feeds (data; models, weather, deployments) at commit so the prediction caches reload.';
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['ridership_daily', 'holidays', 'weather_daily', 'weather_forecast',
                           'models', 'deployments', 'stations'] LOOP
    EXECUTE format('CREATE TRIGGER data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.%I
                    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.data_changed_trigger()', t);
  END LOOP;
END $$;

CREATE FUNCTION model_cache()
  RETURNS TABLE (model_id bigint, bytes bigint, backends integer, hits bigint, current boolean)
  AS 'MODULE_PATHNAME', 'model_cache' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION model_cache() IS
  'The models held in the shared model cache (seongsu.model_cache_size): bytes, backends predicting from each, times a new backend took it from there, and whether it is of the current models generation (a write to seongsu.models makes the entries stale).';
GRANT EXECUTE ON FUNCTION model_cache() TO seongsu_reader;
