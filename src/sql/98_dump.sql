-- pg_dump keeps the data: every table and sequence of the schema is a
-- configuration table of the extension, whose rows pg_dump writes (and
-- pg_restore loads after CREATE EXTENSION).  Rows this script seeds itself
-- (holidays with source 'seed') are left out, so a restore does not add
-- them twice.  Upgrade scripts that add a table mark it the same way.
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT c.oid::pg_catalog.regclass AS rel, c.relkind, c.relname
           FROM pg_catalog.pg_class c
           WHERE c.relnamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
             AND c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'S']::pg_catalog."char"[])
           ORDER BY c.relkind, c.relname LOOP
    PERFORM pg_catalog.pg_extension_config_dump(r.rel,
      CASE WHEN r.relname OPERATOR(pg_catalog.=) 'holidays' THEN 'WHERE source <> ''seed''' ELSE '' END);
  END LOOP;
END
$$;
