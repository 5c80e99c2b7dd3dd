-- daily_seongsu on Supabase: supautils' after-create script (docs/supabase.md).
--
-- supautils runs <supautils.extension_custom_scripts_path>/daily_seongsu/after-create.sql
-- as its superuser right after CREATE EXTENSION daily_seongsu; `make install`
-- puts this file at $(pg_config --sharedir)/daily_seongsu/after-create.sql,
-- so a link from that path to the installed folder is enough.  Without
-- supautils, a superuser runs it by hand after CREATE EXTENSION.  It may be
-- run again (after creating one of the roles, say); each grant is made only
-- when its role exists:
--   postgres              seongsu_reader, seongsu_operator and seongsu_api_user
--                         WITH ADMIN OPTION (on PostgreSQL 16 and later a
--                         CREATEROLE role may grant only roles it administers),
--                         USAGE on schema seongsu and EXECUTE on
--                         seongsu.set_secret (to store keys from the SQL
--                         editor; nobody but the owner reads them back);
--   anon, authenticated   seongsu_api_user: the functions of schema seongsu_api;
--   service_role          seongsu_operator: import, ingest, train, deploy, read.
-- (supautils replaces the names of the extension, its schema and version
-- written between at-signs in this file: there are none.)
DO $after_create$
DECLARE
  r text;
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'daily_seongsu') THEN
    RAISE EXCEPTION 'extension daily_seongsu is not installed in database %', pg_catalog.current_database()
      USING ERRCODE = 'undefined_object',
            HINT = 'Run this script after CREATE EXTENSION daily_seongsu, in the same database.';
  END IF;
  IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'postgres') THEN
    GRANT seongsu_reader, seongsu_operator, seongsu_api_user TO postgres WITH ADMIN OPTION;
    GRANT USAGE ON SCHEMA seongsu TO postgres;
    GRANT EXECUTE ON FUNCTION seongsu.set_secret(text, text) TO postgres;
  END IF;
  FOREACH r IN ARRAY ARRAY['anon', 'authenticated'] LOOP
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r) THEN
      EXECUTE pg_catalog.format('GRANT seongsu_api_user TO %I', r);
    END IF;
  END LOOP;
  IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'service_role') THEN
    GRANT seongsu_operator TO service_role;
  END IF;
END
$after_create$;
