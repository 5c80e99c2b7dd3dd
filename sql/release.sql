-- The release metadata agree (docs/releasing.md): META.json follows the PGXN
-- Meta Spec 1.0.0 and names the control file's default_version, which is
-- the version installed and created here; the installed versions are the
-- releases/ install scripts plus the default, each with an update path to
-- it.  The files are read from the checkout (make installcheck runs psql
-- there).  Each check prints 'ok' or what is wrong.
\set meta `cat META.json`
\set control `cat daily_seongsu.control`
\set top `ls`
\set releases `ls releases`

-- META.json is JSON with the keys the spec requires
SELECT pg_typeof(:'meta'::jsonb) AS meta_json;
SELECT coalesce(string_agg(k, ', '), 'ok') AS required_keys_missing
FROM unnest(ARRAY['name', 'abstract', 'version', 'maintainer', 'license', 'provides', 'meta-spec']) k
WHERE NOT :'meta'::jsonb ? k;

-- their types and forms (spec 1.0.0; versions are SemVer)
WITH m(j) AS (SELECT :'meta'::jsonb),
checks(problem) AS (
  SELECT 'name is not daily_seongsu' FROM m WHERE j->>'name' IS DISTINCT FROM 'daily_seongsu'
  UNION ALL SELECT 'abstract is not a non-empty string' FROM m
    WHERE jsonb_typeof(j->'abstract') IS DISTINCT FROM 'string' OR j->>'abstract' = ''
  UNION ALL SELECT 'maintainer is not a string or an array of strings' FROM m
    WHERE NOT (jsonb_typeof(j->'maintainer') = 'string'
               OR (jsonb_typeof(j->'maintainer') = 'array' AND jsonb_array_length(j->'maintainer') > 0
                   AND NOT jsonb_path_exists(j->'maintainer', '$[*] ? (@.type() != "string")')))
  UNION ALL SELECT 'license is not one of the spec''s names' FROM m
    WHERE j->>'license' IS NULL OR j->>'license' NOT IN ('agpl_3', 'apache_1_1', 'apache_2_0', 'artistic_1',
      'artistic_2', 'bsd', 'freebsd', 'gfdl_1_2', 'gfdl_1_3', 'gpl_1', 'gpl_2', 'gpl_3', 'lgpl_2_1', 'lgpl_3_0',
      'mit', 'mozilla_1_0', 'mozilla_1_1', 'openssl', 'perl_5', 'postgresql', 'qpl_1_0', 'ssleay', 'sun', 'zlib',
      'open_source', 'restricted', 'unrestricted', 'unknown')
  UNION ALL SELECT 'meta-spec version is not 1.0.x' FROM m
    WHERE coalesce(j->'meta-spec'->>'version', '') !~ '^1\.0\.[0-9]+$'
  UNION ALL SELECT 'version is not SemVer' FROM m
    WHERE coalesce(j->>'version', '') !~ '^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+)?$'
  UNION ALL SELECT 'provides.daily_seongsu lacks file or version' FROM m
    WHERE NOT coalesce(j->'provides'->'daily_seongsu' ?& ARRAY['file', 'version'], false)
  UNION ALL SELECT format('provides.daily_seongsu.%s names %s, which is not in the checkout', f, j->'provides'->'daily_seongsu'->>f)
    FROM m, unnest(ARRAY['file', 'docfile']) f
    WHERE j->'provides'->'daily_seongsu' ? f
      AND NOT (j->'provides'->'daily_seongsu'->>f) = ANY (string_to_array(:'top', E'\n'))
  UNION ALL SELECT 'release_status is not stable, testing or unstable' FROM m
    WHERE j ? 'release_status' AND j->>'release_status' NOT IN ('stable', 'testing', 'unstable')
)
SELECT coalesce(string_agg(problem, '; '), 'ok') AS meta_json_form FROM checks;

-- one version everywhere: META.json, its provides entry, the control file,
-- the installed control file, the version created here
WITH v(meta, provides, control, installed, created) AS (
  SELECT :'meta'::jsonb->>'version',
         :'meta'::jsonb->'provides'->'daily_seongsu'->>'version',
         substring(:'control' FROM '(?n)^default_version = ''([^'']*)'''),
         (SELECT default_version FROM pg_available_extensions WHERE name = 'daily_seongsu'),
         (SELECT extversion FROM pg_extension WHERE extname = 'daily_seongsu'))
SELECT CASE WHEN meta = provides AND meta = control AND meta = installed AND meta = created THEN 'ok'
            ELSE format('META.json %s, its provides %s, daily_seongsu.control %s, installed %s, created %s',
                        meta, provides, control, installed, created) END AS versions_agree
FROM v;

-- the installed versions: the frozen releases and the default (not frozen:
-- its script is built from src/sql), each with an update path to the default
WITH frozen AS (
  SELECT substring(f FROM '^daily_seongsu--([^-]+(-[^-]+)?)\.sql$') AS version
  FROM unnest(string_to_array(:'releases', E'\n')) f
  WHERE f !~ '^daily_seongsu--.+--.+\.sql$'),
wanted AS (SELECT version FROM frozen
           UNION SELECT default_version FROM pg_available_extensions WHERE name = 'daily_seongsu'),
installed AS (SELECT version FROM pg_available_extension_versions WHERE name = 'daily_seongsu')
SELECT coalesce((SELECT string_agg(format('%s %s', version, problem), '; ' ORDER BY version) FROM (
  SELECT version, 'is in releases/ but not installed' FROM (SELECT version FROM wanted EXCEPT SELECT version FROM installed) a
  UNION ALL SELECT version, 'is installed but not in releases/' FROM (SELECT version FROM installed EXCEPT SELECT version FROM wanted) b
  UNION ALL SELECT version, 'is frozen in releases/ and also the default version' FROM frozen
    WHERE version = (SELECT default_version FROM pg_available_extensions WHERE name = 'daily_seongsu')
  UNION ALL SELECT p.source, 'has no update path to ' || p.target
    FROM pg_extension_update_paths('daily_seongsu') p, pg_available_extensions e
    WHERE e.name = 'daily_seongsu' AND p.target = e.default_version AND p.source IN (SELECT version FROM frozen)
      AND p.path IS NULL) x(version, problem)), 'ok') AS installed_versions;
