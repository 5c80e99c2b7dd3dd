-- Predictions cache the station's inputs and models per backend; these
-- triggers mark the caches stale when a writing transaction commits.
CREATE FUNCTION data_changed_trigger() RETURNS trigger
  AS 'MODULE_PATHNAME', 'data_changed_trigger' LANGUAGE C;
COMMENT ON FUNCTION data_changed_trigger() IS
  'Statement trigger: bumps the shared data generation at commit so per-backend prediction caches reload.';
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['ridership_daily', 'holidays', 'weather_daily', 'weather_forecast',
                           'models', 'deployments', 'stations'] LOOP
    EXECUTE format('CREATE TRIGGER data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.%I
                    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.data_changed_trigger()', t);
  END LOOP;
END $$;
