-- Importers for published files (src/ingest/import.c).

CREATE FUNCTION import_text(kind text, body text) RETURNS bigint
  AS 'MODULE_PATHNAME', 'import_text' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION import_text(text, text) IS
  'Parse a whole published file of the given kind (see README) and upsert it; returns rows inserted or changed.  All-or-nothing.';

CREATE FUNCTION import_file(kind text, path text, encoding text DEFAULT 'UTF8') RETURNS bigint
  AS 'MODULE_PATHNAME', 'import_file' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION import_file(text, text, text) IS
  'Like import_text, reading a server-side file (needs pg_read_server_files); encoding UHC reads CP949 files.';

REVOKE ALL ON FUNCTION import_text(text, text), import_file(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION import_text(text, text), import_file(text, text, text) TO seongsu_operator;
