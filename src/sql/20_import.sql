-- Importers for published files (src/ingest/import.c).  The import kinds are
-- listed once, in C (src/ingest/import_kinds.c); import_kinds() shows them.

CREATE FUNCTION import_kinds()
  RETURNS TABLE (ordinal integer, name text, description text, layout text)
  AS 'MODULE_PATHNAME', 'import_kinds' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION import_kinds() IS
  'Every kind import_text and import_file accept, in order: its name, what it imports into which table, and the layout it expects.';

CREATE FUNCTION import_text(kind text, body text) RETURNS bigint
  AS 'MODULE_PATHNAME', 'import_text' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION import_text(text, text) IS
  'Parse a whole published file of the given kind (one of seongsu.import_kinds()) and upsert it; returns rows inserted or changed.  All-or-nothing.';

CREATE FUNCTION import_file(kind text, path text, encoding text DEFAULT 'UTF8') RETURNS bigint
  AS 'MODULE_PATHNAME', 'import_file' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION import_file(text, text, text) IS
  'Like import_text, reading a server-side file (needs pg_read_server_files); encoding UHC reads CP949 files.';

REVOKE ALL ON FUNCTION import_kinds(), import_text(text, text), import_file(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION import_kinds() TO seongsu_reader;
GRANT EXECUTE ON FUNCTION import_text(text, text), import_file(text, text, text) TO seongsu_operator;
