-- API keys (src/ingest/secrets.c): stored by the extension's owner with
-- seongsu.set_secret in a table nobody else can read, looked up by the
-- worker and run_pending_jobs as the owner.  A supabase_vault secret of the
-- same name comes next, the deprecated settings seongsu.seoul_api_key and
-- seongsu.data_go_kr_key last.  The alert webhook's URL, which may carry a
-- token, may be stored the same way (alert_webhook_url; the setting
-- seongsu.alert_webhook_url comes last).

CREATE TABLE secrets (
  name        text PRIMARY KEY CHECK (name IN ('seoul_api_key', 'data_go_kr_key', 'alert_webhook_url')),
  value       text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE secrets IS 'API keys stored with seongsu.set_secret.  Only the extension''s owner can read it; it is granted to nobody and in no view.';
COMMENT ON COLUMN secrets.name IS 'seoul_api_key, data_go_kr_key or alert_webhook_url.';
COMMENT ON COLUMN secrets.value IS 'The key as issued (the decoded data.go.kr key); percent-encoded when it goes into a URL.';
COMMENT ON COLUMN secrets.updated_at IS 'When it was last stored.';
REVOKE ALL ON secrets FROM PUBLIC;
-- pg_dump: a dump by the owner (or a superuser) holds the keys; anybody
-- else's fails at this table (permission denied), if not before, unless it
-- leaves the rows out with --exclude-table-data=seongsu.secrets.
SELECT pg_catalog.pg_extension_config_dump('@extschema@.secrets', '');

-- Store (or, with NULL or '', remove) an API key.  Checked before the
-- table is touched, so that no constraint error can print the value.
CREATE FUNCTION set_secret(name text, value text) RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF set_secret.name IS NULL OR set_secret.name NOT IN ('seoul_api_key', 'data_go_kr_key', 'alert_webhook_url') THEN
    -- the name is not repeated: a key passed as the name by mistake must not reach the log
    RAISE EXCEPTION 'unknown secret name'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'The secrets are seoul_api_key, data_go_kr_key and alert_webhook_url.';
  END IF;
  IF set_secret.value IS NULL OR set_secret.value = '' THEN
    DELETE FROM @extschema@.secrets s WHERE s.name = set_secret.name;
    RETURN;
  END IF;
  IF set_secret.value ~ '[[:cntrl:][:space:]]' OR pg_catalog.length(set_secret.value) > 1024 THEN
    RAISE EXCEPTION 'the value of secret % is not a key', set_secret.name
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'A key is at most 1024 characters, without spaces or control characters.',
            HINT = 'Give the key as issued (the decoded data.go.kr key), without quotes or line breaks.';
  END IF;
  INSERT INTO @extschema@.secrets AS s (name, value) VALUES (set_secret.name, set_secret.value)
    ON CONFLICT ON CONSTRAINT secrets_pkey
    DO UPDATE SET value = excluded.value, updated_at = pg_catalog.now();
END
$$;
COMMENT ON FUNCTION set_secret(text, text) IS
  'Store the API key seoul_api_key or data_go_kr_key, or the alert webhook''s URL alert_webhook_url (NULL or '''' removes it).  Only the extension''s owner may call it, unless the owner grants EXECUTE (e.g. to Supabase''s postgres role); nobody else can read the keys back.';
REVOKE ALL ON FUNCTION set_secret(text, text) FROM PUBLIC;
