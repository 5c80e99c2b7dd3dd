-- The anchor of snapshot_speed.sh: the content hash of seongsu.snapshot()
-- for a scope without from_date and to_date, computed in plain SQL from
-- the serialization README "Data versioning" documents (the same function
-- as in sql/versions.sql, which checks it against the C code).  Rows:
-- their content columns, each 0 (NULL) or 1 and the value's binary send
-- form (text with its length first; -0 as 0), sorted bytewise per month of
-- a station, SHA-256 per month; then SHA-256 of the header and, per table,
-- its name, a zero byte, its chunk and row counts, and per chunk the
-- station's line and name, the month, its rows and its digest.
CREATE FUNCTION pg_temp.v(b bytea) RETURNS bytea LANGUAGE sql IMMUTABLE
  AS $$ SELECT CASE WHEN b IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || b END $$;
CREATE FUNCTION pg_temp.t(s text) RETURNS bytea LANGUAGE sql IMMUTABLE
  AS $$ SELECT int4send(octet_length(s)) || convert_to(s, 'UTF8') $$;
CREATE FUNCTION pg_temp.f(x float8) RETURNS bytea LANGUAGE sql IMMUTABLE
  AS $$ SELECT float8send(CASE WHEN x = 0 THEN 0::float8 ELSE x END) $$;
CREATE FUNCTION pg_temp.m(d date) RETURNS integer LANGUAGE sql IMMUTABLE
  AS $$ SELECT (extract(year FROM d) * 12 + extract(month FROM d) - 1)::integer $$;
CREATE FUNCTION pg_temp.kst(ts timestamptz) RETURNS date LANGUAGE sql IMMUTABLE
  AS $$ SELECT (ts AT TIME ZONE 'UTC' + interval '9 hours')::date $$;
CREATE FUNCTION pg_temp.content_hash(station text, line text) RETURNS text LANGUAGE sql AS $$
WITH st AS (
  SELECT id, s.line, s.name FROM seongsu.stations s
  WHERE (content_hash.station IS NULL OR s.name = content_hash.station)
    AND (content_hash.line IS NULL OR s.line = content_hash.line)
), r(ord, tab, station_id, m, row) AS (
  SELECT 0, 'ridership_daily', station_id, pg_temp.m(day),
         pg_temp.v(date_send(day)) || pg_temp.v(int4send(boardings)) || pg_temp.v(int4send(alightings))
  FROM seongsu.ridership_daily WHERE station_id IN (SELECT id FROM st)
  UNION ALL
  SELECT 1, 'ridership_hourly', station_id, pg_temp.m(pg_temp.kst(ts)),
         pg_temp.v(timestamptz_send(ts)) || pg_temp.v(date_send(service_day)) || pg_temp.v(int4send(passengers))
  FROM seongsu.ridership_hourly WHERE station_id IN (SELECT id FROM st)
  UNION ALL
  SELECT 2, 'hour_profile', station_id, pg_temp.m(month),
         pg_temp.v(date_send(month)) || pg_temp.v(int2send(hour)) || pg_temp.v(int8send(boardings)) || pg_temp.v(int8send(alightings))
  FROM seongsu.hour_profile WHERE station_id IN (SELECT id FROM st)
  UNION ALL
  SELECT 3, 'weather_daily', 0, pg_temp.m(day),
         pg_temp.v(date_send(day)) || pg_temp.v(pg_temp.t(source)) || pg_temp.v(pg_temp.f(temp_mean_c))
         || pg_temp.v(pg_temp.f(precip_mm)) || pg_temp.v(pg_temp.f(snow_cm))
  FROM seongsu.weather_daily
  UNION ALL
  SELECT 4, 'weather_forecast', 0, pg_temp.m(pg_temp.kst(target)),
         pg_temp.v(timestamptz_send(target)) || pg_temp.v(pg_temp.t(source)) || pg_temp.v(timestamptz_send(issued_at))
         || pg_temp.v(pg_temp.f(temp_c)) || pg_temp.v(pg_temp.f(precip_mm)) || pg_temp.v(pg_temp.f(snow_cm))
  FROM seongsu.weather_forecast WHERE grain = 'day'
  UNION ALL
  SELECT 5, 'holidays', 0, pg_temp.m(day),
         pg_temp.v(date_send(day)) || pg_temp.v(pg_temp.t(name)) || pg_temp.v(pg_temp.t(kind)) || pg_temp.v(boolsend(is_holiday))
  FROM seongsu.holidays
), chunk AS (
  SELECT ord, station_id, m, count(*) AS n, sha256(string_agg(row, ''::bytea ORDER BY row)) AS digest
  FROM r GROUP BY ord, station_id, m
), tab(ord, name) AS (
  VALUES (0, 'ridership_daily'), (1, 'ridership_hourly'), (2, 'hour_profile'),
         (3, 'weather_daily'), (4, 'weather_forecast'), (5, 'holidays')
), part AS (
  SELECT tab.ord, convert_to(tab.name, 'UTF8') || '\x00'::bytea || int8send(count(c.m)) || int8send(coalesce(sum(c.n), 0)::int8)
         || coalesce(string_agg(CASE WHEN tab.ord < 3 THEN pg_temp.t(st.line) || pg_temp.t(st.name) ELSE ''::bytea END
                                || int4send(c.m) || int8send(c.n) || c.digest, ''::bytea
                                ORDER BY st.line COLLATE "C", st.name COLLATE "C", c.m), ''::bytea) AS b
  FROM tab LEFT JOIN chunk c ON c.ord = tab.ord LEFT JOIN st ON st.id = c.station_id
  GROUP BY tab.ord, tab.name
)
SELECT encode(sha256(convert_to(E'daily_seongsu snapshot v1\n', 'UTF8') || string_agg(b, ''::bytea ORDER BY ord)), 'hex')
FROM part
$$;
