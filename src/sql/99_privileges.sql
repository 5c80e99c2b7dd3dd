-- Nothing is granted to PUBLIC: CREATE FUNCTION gives PUBLIC the right to
-- execute by default, so take it back from every function of the schema
-- and of schema seongsu_api (the roles' grants above stay).  Trigger
-- functions need no grant.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA @extschema@ FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA seongsu_api FROM PUBLIC;
