-- Security: nothing is granted to PUBLIC, every SQL function pins its
-- search_path, and a role that puts its own functions, operators or types
-- on the search_path can neither make the extension's code call them
-- (search_path hijack: superuser for the attacker) nor poison the shared
-- prediction caches that every other user reads.  Self-contained: a
-- synthetic station of its own.
SET client_min_messages = warning;

-- Nothing of the extension is granted to PUBLIC.
SELECT p.oid::regprocedure AS public_function
FROM pg_proc p
WHERE p.pronamespace IN ('seongsu'::regnamespace, 'seongsu_api'::regnamespace)
  AND EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a WHERE a.grantee = 0);
SELECT c.oid::regclass AS public_relation
FROM pg_class c
WHERE c.relnamespace IN ('seongsu'::regnamespace, 'seongsu_api'::regnamespace)
  AND EXISTS (SELECT 1 FROM aclexplode(c.relacl) a WHERE a.grantee = 0);
-- Every SQL and PL/pgSQL function (and every SECURITY DEFINER one) sets search_path.
SELECT p.oid::regprocedure AS search_path_not_set
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
WHERE p.pronamespace IN ('seongsu'::regnamespace, 'seongsu_api'::regnamespace)
  AND (l.lanname IN ('sql', 'plpgsql') OR p.prosecdef)
  AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%');

-- Synthetic data for station 보안역, made before any trap is on the path;
-- its Open-Meteo weather of 2024 replaces whatever earlier tests stored.
DELETE FROM seongsu.weather_daily WHERE source = 'open-meteo' AND day BETWEEN '2024-01-01' AND '2024-12-31';
SELECT 'date,line,station,boardings,alightings' || E'\n' ||
       string_agg(format('%s,2호선,보안역,%s,%s', to_char(d, 'YYYY-MM-DD'), b, b + 900), E'\n' ORDER BY d) AS daily
FROM (SELECT d::date AS d,
             30000 + 9000 * (extract(isodow FROM d) < 6)::int + ((d::date - date '2022-01-01') * 37 % 1009) AS b
      FROM generate_series(date '2022-01-01', date '2024-12-31', interval '1 day') d) s \gset
SELECT 'service_date,line,station,hour,passengers' || E'\n' ||
       string_agg(format('%s,2호선,보안역,%s,%s', to_char(d, 'YYYY-MM-DD'), h, 500 + 100 * h), E'\n' ORDER BY d, h) AS hourly
FROM generate_series(date '2024-11-01', date '2024-12-31', interval '1 day') d, generate_series(5, 23) h \gset
SELECT 'date,temperature_2m_mean_c,precipitation_sum_mm,rain_sum_mm,snowfall_sum_cm' || E'\n' ||
       string_agg(format('%s,%s,0.0,0.0,0.0', to_char(d, 'YYYY-MM-DD'), 10 + (d::date - date '2024-01-01') % 7), E'\n') AS weather
FROM generate_series(date '2024-01-01', date '2024-12-31', interval '1 day') d \gset
SELECT '{"response":{"header":{"resultCode":"00","resultMsg":"NORMAL SERVICE."},"body":{"items":{"item":'
       '{"dateKind":"01","dateName":"성탄절","isHoliday":"Y","locdate":20241225,"seq":1}},'
       '"numOfRows":100,"pageNo":1,"totalCount":1}}}' AS kasi \gset

-- The attacker: an ordinary role with a schema of functions, aggregates,
-- operators and types named like the ones the extension uses; each calls
-- trap.payload(), which counts the call and, when the caller is a
-- superuser, makes the attacker one.
CREATE ROLE ss_mallory NOSUPERUSER NOLOGIN;
CREATE SCHEMA trap AUTHORIZATION ss_mallory;
SET ROLE ss_mallory;
CREATE SEQUENCE trap.calls;
GRANT USAGE ON SCHEMA trap TO PUBLIC;
GRANT USAGE, UPDATE ON SEQUENCE trap.calls TO PUBLIC;
CREATE FUNCTION trap.payload() RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
  PERFORM nextval('trap.calls');
  RAISE WARNING 'trap called by %', current_query();
  BEGIN
    EXECUTE 'ALTER ROLE ss_mallory SUPERUSER';
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END;
  RETURN true;
END $$;
DO $$
DECLARE
  t text;
  f record;
  o record;
  n integer := 0;
BEGIN
  -- set-returning unnest() for every element type the extension sends as an array
  FOREACH t IN ARRAY ARRAY['date', 'integer', 'bigint', 'smallint', 'text', 'double precision',
                           'timestamp with time zone', 'boolean'] LOOP
    EXECUTE format('CREATE FUNCTION trap.unnest(%1$s[]) RETURNS SETOF %1$s LANGUAGE plpgsql '
                   'SET search_path = pg_catalog AS $f$ BEGIN PERFORM trap.payload(); '
                   'RETURN QUERY SELECT pg_catalog.unnest($1); END $f$', t);
  END LOOP;
  -- plain functions, with their own signatures
  FOR f IN SELECT * FROM (VALUES
      ('now', '', 'timestamp with time zone', 'pg_catalog.now()'),
      ('clock_timestamp', '', 'timestamp with time zone', 'pg_catalog.clock_timestamp()'),
      ('make_interval', 'days integer', 'interval', 'pg_catalog.make_interval(days => $1)'),
      ('to_timestamp', 'double precision', 'timestamp with time zone', 'pg_catalog.to_timestamp($1)'),
      ('to_timestamp', 'bigint', 'timestamp with time zone', 'pg_catalog.to_timestamp($1)'),
      ('coalesce_', 'jsonb', 'jsonb', '$1')) AS v(name, args, result, body) LOOP
    EXECUTE format('CREATE FUNCTION trap.%I(%s) RETURNS %s LANGUAGE plpgsql SET search_path = pg_catalog '
                   'AS $f$ BEGIN PERFORM trap.payload(); RETURN %s; END $f$', f.name, f.args, f.result, f.body);
  END LOOP;
  -- aggregates
  FOREACH t IN ARRAY ARRAY['date', 'timestamp with time zone', 'bigint', 'integer'] LOOP
    EXECUTE format('CREATE FUNCTION trap.agg_%s(%2$s, %2$s) RETURNS %2$s LANGUAGE plpgsql '
                   'SET search_path = pg_catalog AS $f$ BEGIN PERFORM trap.payload(); '
                   'RETURN CASE WHEN $1 OPERATOR(pg_catalog.>) $2 THEN $1 ELSE $2 END; END $f$', pg_catalog.md5(t), t);
    EXECUTE format('CREATE AGGREGATE trap.max(%s) (SFUNC = trap.agg_%s, STYPE = %1$s)', t, pg_catalog.md5(t));
    EXECUTE format('CREATE AGGREGATE trap.min(%s) (SFUNC = trap.agg_%s, STYPE = %1$s)', t, pg_catalog.md5(t));
  END LOOP;
  -- operators, with the exact argument types of the extension's expressions
  FOR o IN SELECT * FROM (VALUES
      ('=', 'integer', 'integer', 'boolean'), ('=', 'bigint', 'bigint', 'boolean'),
      ('=', 'text', 'text', 'boolean'), ('=', 'date', 'date', 'boolean'),
      ('<=', 'date', 'date', 'boolean'), ('>=', 'date', 'date', 'boolean'),
      ('<', 'date', 'date', 'boolean'), ('>', 'date', 'date', 'boolean'),
      ('<=', 'timestamp with time zone', 'timestamp with time zone', 'boolean'),
      ('>=', 'timestamp with time zone', 'timestamp with time zone', 'boolean'),
      ('<', 'timestamp with time zone', 'timestamp with time zone', 'boolean'),
      ('+', 'date', 'integer', 'date'), ('-', 'date', 'date', 'integer'), ('-', 'date', 'integer', 'date'),
      ('+', 'integer', 'integer', 'integer'), ('*', 'integer', 'integer', 'integer'),
      ('+', 'bigint', 'bigint', 'bigint'), ('*', 'bigint', 'integer', 'bigint'),
      ('-', 'bigint', 'integer', 'bigint'), ('/', 'bigint', 'integer', 'bigint'),
      ('/', 'numeric', 'integer', 'numeric'), ('*', 'numeric', 'integer', 'numeric'),
      ('-', 'timestamp with time zone', 'timestamp with time zone', 'interval'),
      ('-', 'timestamp with time zone', 'interval', 'timestamp with time zone'),
      ('->', 'jsonb', 'text', 'jsonb'), ('->>', 'jsonb', 'text', 'text')) AS v(op, l, r, result) LOOP
    n := n + 1;
    EXECUTE format('CREATE FUNCTION trap.op_%s(%s, %s) RETURNS %s LANGUAGE plpgsql SET search_path = pg_catalog '
                   'AS $f$ BEGIN PERFORM trap.payload(); RETURN $1 OPERATOR(pg_catalog.%s) $2; END $f$',
                   n, o.l, o.r, o.result, o.op);
    EXECUTE format('CREATE OPERATOR trap.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = trap.op_%s)', o.op, o.l, o.r, n);
  END LOOP;
  -- types: domains whose check calls the payload
  FOREACH t IN ARRAY ARRAY['int8', 'int4', 'int2', 'float8', 'text', 'date', 'timestamptz', 'jsonb', 'bool', 'time', 'numeric'] LOOP
    EXECUTE format('CREATE DOMAIN trap.%I AS pg_catalog.%I CHECK (trap.payload())', t, t);
  END LOOP;
END $$;
RESET ROLE;
SELECT count(*) AS traps FROM pg_proc WHERE pronamespace = 'trap'::regnamespace;

-- A superuser session whose search_path puts the traps first runs the
-- extension's functions: imports, features, training, prediction,
-- quality, and a job (enqueue + run_pending_jobs + wait_for_job; its URL
-- refuses the connection, so the job fails and is recorded).
SET seongsu.open_meteo_archive_url = 'http://127.0.0.1:1';
SET seongsu.max_attempts = 1;
SET seongsu.job_max_attempts = 1;
SET search_path = trap, public, pg_catalog;
SELECT seongsu.import_text('ridership_daily', :'daily') AS daily_rows;
SELECT seongsu.import_text('ridership_hourly', :'hourly') AS hourly_rows;
SELECT seongsu.import_text('openmeteo_daily', :'weather') AS weather_rows;
SELECT seongsu.import_text('kasi_holidays', :'kasi') AS holiday_rows;
SELECT seongsu.import_text('ridership_daily', :'daily') AS again_rows;
SELECT (seongsu.calendar_features('2024-12-25 08:00+09')).holiday_name LIKE '%성탄절%' AS christmas;
SELECT count(*) AS feature_rows FROM seongsu.features('보안역', '2호선', '2024-01-01', '2024-12-31', 'daily', '1 day');
SELECT rows_written > 0 AS stored FROM seongsu.build_features('보안역', '2호선', '2024-12-01', '2024-12-31');
SELECT model_id AS trained, algorithm, deployed FROM seongsu.train('보안역', '2호선', 'ridge', horizon => '1 day', force => true) \gset
SELECT :'algorithm' AS algorithm, :'deployed' AS deployed;
SELECT seongsu.predict_daily('2024-06-05', '보안역', '2호선') > 0 AS daily_ok,
       seongsu.predict_crowd('2024-12-03 08:30+09', '보안역', '2호선') > 0 AS hourly_ok,
       seongsu.crowd_level('2024-12-03 08:30+09', '보안역', '2호선') IS NOT NULL AS level_ok;
SELECT count(*) AS forecast_hours FROM seongsu.forecast('보안역', '2호선', '2025-01-01 00:00+09', '2025-01-01 23:00+09');
SELECT count(*) AS evaluated FROM seongsu.evaluate(:trained, '2024-12-01', '2024-12-31');
SELECT seongsu.model_explain(:trained) ? 'importances' AS explained;
SELECT count(*) > 0 AS checked FROM seongsu.check_quality('보안역', '2호선');
SELECT seongsu.enqueue('openmeteo_daily', '2024-12-01', '2024-12-02') AS job \gset
SELECT seongsu.run_pending_jobs() AS ran;
SELECT seongsu.wait_for_job(:job, '10 seconds') AS job_state;
RESET search_path;
RESET seongsu.open_meteo_archive_url;
RESET seongsu.max_attempts;
RESET seongsu.job_max_attempts;
-- None of the traps ran: the attacker is still an ordinary role.
SELECT rolsuper AS mallory_is_superuser FROM pg_roles WHERE rolname = 'ss_mallory';
SELECT is_called AS a_trap_was_called FROM trap.calls;

-- A reader who owns a schema puts a division operator on its path that
-- turns the model's horizon (extract(epoch FROM horizon) / 86400) into
-- seven times the truth, and asks first for a prediction of a new model.
-- Another session, a superuser's, must get the true value: nothing the
-- reader's session loads into the shared caches was read under its path.
CREATE ROLE ss_reader NOLOGIN;
GRANT seongsu_reader TO ss_reader;
CREATE SCHEMA evil AUTHORIZATION ss_reader;
SET ROLE ss_reader;
CREATE FUNCTION evil.div(numeric, integer) RETURNS numeric LANGUAGE sql
  AS 'SELECT ($1 OPERATOR(pg_catalog./) $2) OPERATOR(pg_catalog.*) 7';
CREATE OPERATOR evil./ (LEFTARG = numeric, RIGHTARG = integer, FUNCTION = evil.div);
RESET ROLE;
SELECT model_id AS poison_model FROM seongsu.train('보안역', '2호선', 'ridge', horizon => '1 day',
  hyperparams => '{"alpha": 3}', force => true) \gset
SELECT seongsu.deploy(:poison_model);
-- the truth, in a transaction that writes (it neither reads nor fills the caches)
\c
SET client_min_messages = warning;
BEGIN;
SELECT pg_current_xact_id() IS NOT NULL AS writes;
SELECT seongsu.predict_daily('2024-06-05', '보안역', '2호선') AS truth \gset
COMMIT;
\c
SET client_min_messages = warning;
SET ROLE ss_reader;
SET search_path = evil, pg_catalog;
SELECT seongsu.predict_daily('2024-06-05', '보안역', '2호선') = :truth AS reader_gets_truth;
\c
SET client_min_messages = warning;
SELECT seongsu.predict_daily('2024-06-05', '보안역', '2호선') = :truth AS next_session_gets_truth;

DROP SCHEMA trap CASCADE;
DROP SCHEMA evil CASCADE;
DROP ROLE ss_mallory;
DROP ROLE ss_reader;
