-- test/bench/features_speed.sql — helpers for test/bench/features_speed.sh
-- (loaded into the benchmark's throwaway cluster after CREATE EXTENSION and
-- the imports; needs the real Seongsu hourly file 2011-2014 imported).
--
--  * bench.sql_daily / bench.sql_hourly: the feature columns of
--    seongsu.features written in plain SQL with RANGE window frames.  They are
--    LANGUAGE sql STABLE single-SELECT functions, so the planner inlines them
--    (call them with constant arguments; the script checks the plan).
--  * bench.add_stations(lo, hi): synthetic stations k = lo..hi, 10 years of
--    hourly rows each, replaying the real Seongsu hours of 2011-2014.
--  * bench.cpu_seconds(): user + system CPU of this backend (from /proc).

CREATE SCHEMA bench;

-- CPU seconds of this backend; clock ticks per second given by the caller.
CREATE FUNCTION bench.cpu_seconds(ticks_per_s integer DEFAULT 100) RETURNS double precision
LANGUAGE sql VOLATILE AS $$
  SELECT (a[14]::bigint + a[15]::bigint)::float8 / ticks_per_s
    FROM (SELECT string_to_array(pg_read_file('/proc/self/stat'), ' ') AS a) s
$$;

-- One row per timed measurement.
CREATE TABLE bench.runs (
  case_name text NOT NULL,
  impl      text NOT NULL CHECK (impl IN ('ours', 'sql')),
  reps      integer NOT NULL,
  wall_s    double precision NOT NULL,
  cpu_s     double precision NOT NULL,
  sums      double precision[] NOT NULL,
  PRIMARY KEY (case_name, impl)
);

-- Plain-SQL daily features of the given stations for days [from_day, to_day].
-- One row per calendar day (like seongsu.features: a day without an
-- observation still gets its row, with target NULL).  Lags are calendar-exact
-- (a RANGE frame of exactly one day, NULL when that day is unobserved);
-- rolling windows end at t - 1 day; same-weekday windows partition by weekday.
CREATE FUNCTION bench.sql_daily(station_ids integer[], from_day date, to_day date)
RETURNS TABLE (station_id integer, ts timestamptz, kst_date date, hour integer, target float8,
  iso_dow integer, is_weekend boolean, is_holiday boolean, month integer,
  doy_sin float8, doy_cos float8, hour_sin float8, hour_cos float8,
  lag_1d float8, lag_2d float8, lag_3d float8, lag_7d float8, lag_14d float8, lag_21d float8,
  lag_28d float8, lag_364d float8,
  roll7_mean float8, roll7_std float8, roll7_min float8, roll7_max float8,
  roll28_mean float8, roll28_std float8, roll28_min float8, roll28_max float8,
  sdw4_mean float8, sdw8_mean float8, sdw4_workday_mean float8, last_year_sdw float8, level28 float8,
  target_ratio float8, lag_7d_ratio float8, sdw4_ratio float8, sdw4_workday_ratio float8,
  last_year_ratio float8, lag_1d_ratio float8)
LANGUAGE sql STABLE AS $$
WITH d AS (
  SELECT s.id AS station_id, g.day::date AS day, r.passengers::float8 AS v,
         extract(isodow FROM g.day)::integer AS dow,
         h.day IS NOT NULL AS hol
    FROM unnest(station_ids) AS s(id)
   CROSS JOIN generate_series(from_day - 422, to_day, interval '1 day') AS g(day)
    LEFT JOIN seongsu.ridership_daily r ON r.station_id = s.id AND r.day = g.day::date
    LEFT JOIN (SELECT DISTINCT day FROM seongsu.holidays WHERE is_holiday) h ON h.day = g.day::date
), f AS (
  SELECT d.*,
    max(v) OVER (w RANGE BETWEEN '1 day' PRECEDING AND '1 day' PRECEDING) AS lag_1d,
    max(v) OVER (w RANGE BETWEEN '2 days' PRECEDING AND '2 days' PRECEDING) AS lag_2d,
    max(v) OVER (w RANGE BETWEEN '3 days' PRECEDING AND '3 days' PRECEDING) AS lag_3d,
    max(v) OVER (w RANGE BETWEEN '7 days' PRECEDING AND '7 days' PRECEDING) AS lag_7d,
    max(v) OVER (w RANGE BETWEEN '14 days' PRECEDING AND '14 days' PRECEDING) AS lag_14d,
    max(v) OVER (w RANGE BETWEEN '21 days' PRECEDING AND '21 days' PRECEDING) AS lag_21d,
    max(v) OVER (w RANGE BETWEEN '28 days' PRECEDING AND '28 days' PRECEDING) AS lag_28d,
    max(v) OVER (w RANGE BETWEEN '364 days' PRECEDING AND '364 days' PRECEDING) AS lag_364d,
    avg(v) OVER w7 AS roll7_mean, stddev_samp(v) OVER w7 AS roll7_std,
    min(v) OVER w7 AS roll7_min, max(v) OVER w7 AS roll7_max,
    avg(v) OVER w28 AS roll28_mean, stddev_samp(v) OVER w28 AS roll28_std,
    min(v) OVER w28 AS roll28_min, max(v) OVER w28 AS roll28_max,
    avg(v) FILTER (WHERE NOT (dow >= 6 OR hol)) OVER w28 AS level28,
    avg(v) OVER s4 AS sdw4_mean, avg(v) OVER s8 AS sdw8_mean,
    avg(v) FILTER (WHERE NOT (dow >= 6 OR hol)) OVER s4 AS sdw4_workday_mean
  FROM d
  WINDOW w AS (PARTITION BY station_id ORDER BY day),
         w7 AS (w RANGE BETWEEN '7 days' PRECEDING AND '1 day' PRECEDING),
         w28 AS (w RANGE BETWEEN '28 days' PRECEDING AND '1 day' PRECEDING),
         s AS (PARTITION BY station_id, dow ORDER BY day),
         s4 AS (s RANGE BETWEEN '28 days' PRECEDING AND '7 days' PRECEDING),
         s8 AS (s RANGE BETWEEN '56 days' PRECEDING AND '7 days' PRECEDING)
)
SELECT station_id, day::timestamp AT TIME ZONE 'Asia/Seoul', day, 0, v,
       dow, dow >= 6, hol, extract(month FROM day)::integer,
       sin(2 * pi() * (extract(doy FROM day) - 1) / 365.25),
       cos(2 * pi() * (extract(doy FROM day) - 1) / 365.25),
       0::float8, 1::float8,
       lag_1d, lag_2d, lag_3d, lag_7d, lag_14d, lag_21d, lag_28d, lag_364d,
       roll7_mean, roll7_std, roll7_min, roll7_max, roll28_mean, roll28_std, roll28_min, roll28_max,
       sdw4_mean, sdw8_mean, sdw4_workday_mean, lag_364d, level28,
       v / nullif(level28, 0), lag_7d / nullif(level28, 0), sdw4_mean / nullif(level28, 0),
       sdw4_workday_mean / nullif(level28, 0), lag_364d / nullif(level28, 0), lag_1d / nullif(level28, 0)
  FROM f
 WHERE day BETWEEN from_day AND to_day
$$;

-- Plain-SQL hourly features of the given stations for hours [from_ts, to_ts].
-- One row per stored hour (the benchmark's synthetic series have no gaps, so
-- this is the same row set as seongsu.features; the script checks the counts).
-- Same hour of previous days: PARTITION BY station, KST hour ORDER BY ts.
CREATE FUNCTION bench.sql_hourly(station_ids integer[], from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (station_id integer, ts timestamptz, kst_date date, hour integer, target float8,
  iso_dow integer, is_weekend boolean, is_holiday boolean, month integer,
  doy_sin float8, doy_cos float8, hour_sin float8, hour_cos float8,
  lag_1d float8, lag_2d float8, lag_3d float8, lag_7d float8, lag_14d float8, lag_21d float8,
  lag_28d float8, lag_364d float8,
  roll7_mean float8, roll7_std float8, roll7_min float8, roll7_max float8,
  roll28_mean float8, roll28_std float8, roll28_min float8, roll28_max float8,
  sdw4_mean float8, sdw8_mean float8, sdw4_workday_mean float8, last_year_sdw float8, level28 float8,
  target_ratio float8, lag_7d_ratio float8, sdw4_ratio float8, sdw4_workday_ratio float8,
  last_year_ratio float8, lag_1d_ratio float8)
LANGUAGE sql STABLE AS $$
WITH d AS (
  SELECT r.station_id, r.ts, r.service_day, r.passengers::float8 AS v,
         ((extract(epoch FROM r.ts)::bigint / 3600 + 9) % 24)::integer AS hour,
         extract(isodow FROM r.service_day)::integer AS dow,
         h.day IS NOT NULL AS hol
    FROM seongsu.ridership_hourly r
    LEFT JOIN (SELECT DISTINCT day FROM seongsu.holidays WHERE is_holiday) h ON h.day = r.service_day
   WHERE r.station_id = ANY (station_ids)
     AND r.ts BETWEEN from_ts - interval '422 days' AND to_ts
), f AS (
  SELECT d.*,
    max(v) OVER (w RANGE BETWEEN '1 day' PRECEDING AND '1 day' PRECEDING) AS lag_1d,
    max(v) OVER (w RANGE BETWEEN '2 days' PRECEDING AND '2 days' PRECEDING) AS lag_2d,
    max(v) OVER (w RANGE BETWEEN '3 days' PRECEDING AND '3 days' PRECEDING) AS lag_3d,
    max(v) OVER (w RANGE BETWEEN '7 days' PRECEDING AND '7 days' PRECEDING) AS lag_7d,
    max(v) OVER (w RANGE BETWEEN '14 days' PRECEDING AND '14 days' PRECEDING) AS lag_14d,
    max(v) OVER (w RANGE BETWEEN '21 days' PRECEDING AND '21 days' PRECEDING) AS lag_21d,
    max(v) OVER (w RANGE BETWEEN '28 days' PRECEDING AND '28 days' PRECEDING) AS lag_28d,
    max(v) OVER (w RANGE BETWEEN '364 days' PRECEDING AND '364 days' PRECEDING) AS lag_364d,
    avg(v) OVER w7 AS roll7_mean, stddev_samp(v) OVER w7 AS roll7_std,
    min(v) OVER w7 AS roll7_min, max(v) OVER w7 AS roll7_max,
    avg(v) OVER w28 AS roll28_mean, stddev_samp(v) OVER w28 AS roll28_std,
    min(v) OVER w28 AS roll28_min, max(v) OVER w28 AS roll28_max,
    avg(v) FILTER (WHERE NOT (dow >= 6 OR hol)) OVER w28 AS level28,
    avg(v) OVER s4 AS sdw4_mean, avg(v) OVER s8 AS sdw8_mean,
    avg(v) FILTER (WHERE NOT (dow >= 6 OR hol)) OVER s4 AS sdw4_workday_mean
  FROM d
  WINDOW w AS (PARTITION BY station_id, hour ORDER BY ts),
         w7 AS (w RANGE BETWEEN '7 days' PRECEDING AND '1 day' PRECEDING),
         w28 AS (w RANGE BETWEEN '28 days' PRECEDING AND '1 day' PRECEDING),
         s AS (PARTITION BY station_id, hour, dow ORDER BY ts),
         s4 AS (s RANGE BETWEEN '28 days' PRECEDING AND '7 days' PRECEDING),
         s8 AS (s RANGE BETWEEN '56 days' PRECEDING AND '7 days' PRECEDING)
)
SELECT station_id, ts, service_day, hour, v,
       dow, dow >= 6, hol, extract(month FROM service_day)::integer,
       sin(2 * pi() * (extract(doy FROM service_day) - 1) / 365.25),
       cos(2 * pi() * (extract(doy FROM service_day) - 1) / 365.25),
       sin(2 * pi() * hour / 24), cos(2 * pi() * hour / 24),
       lag_1d, lag_2d, lag_3d, lag_7d, lag_14d, lag_21d, lag_28d, lag_364d,
       roll7_mean, roll7_std, roll7_min, roll7_max, roll28_mean, roll28_std, roll28_min, roll28_max,
       sdw4_mean, sdw8_mean, sdw4_workday_mean, lag_364d, level28,
       v / nullif(level28, 0), lag_7d / nullif(level28, 0), sdw4_mean / nullif(level28, 0),
       sdw4_workday_mean / nullif(level28, 0), lag_364d / nullif(level28, 0), lag_1d / nullif(level28, 0)
  FROM f
 WHERE ts BETWEEN from_ts AND to_ts
$$;

-- The replayed pattern: 208 whole weeks (1456 days, 34944 hours) of real
-- Seongsu hours from Monday 2011-01-03 00:00 KST, so weekdays stay aligned.
CREATE TABLE bench.pattern (idx integer PRIMARY KEY, v integer NOT NULL);
INSERT INTO bench.pattern
SELECT ((extract(epoch FROM r.ts) - extract(epoch FROM timestamptz '2011-01-03 00:00+09')) / 3600)::integer,
       r.passengers
  FROM seongsu.ridership_hourly r JOIN seongsu.stations s ON s.id = r.station_id
 WHERE s.name = '성수' AND s.line = '2호선'
   AND r.ts >= '2011-01-03 00:00+09' AND r.ts < timestamptz '2011-01-03 00:00+09' + interval '1456 days';

-- Synthetic stations: k, its seongsu.stations row, scale and shift (whole weeks).
CREATE TABLE bench.stations (
  k     integer PRIMARY KEY,
  id    integer NOT NULL,
  name  text NOT NULL,
  line  text NOT NULL,
  scale double precision NOT NULL,
  shift integer NOT NULL
);

-- Stations k = lo..hi with every hour of 2015-01-01 .. 2024-12-31 KST
-- (87,672 rows each): the pattern hour (shifted by k*37 weeks mod 208),
-- times the station's scale (0.2 .. 2.2), times uniform noise of +-10 %.
-- One INSERT per station, in ts order, so that a station's rows lie together
-- as they do after a per-station import (see the script's notes on layout).
CREATE FUNCTION bench.add_stations(lo integer, hi integer) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  st record;
  n bigint := 0;
  m bigint;
BEGIN
  IF (SELECT count(*) FROM bench.pattern) <> 34944 THEN
    RAISE EXCEPTION 'bench.pattern has % hours, expected 34944 (import seongsu/hourly_total_2011-2014.csv first)',
      (SELECT count(*) FROM bench.pattern);
  END IF;
  WITH ins AS (
    INSERT INTO seongsu.stations (line, name)
    SELECT 'B' || (k % 9 + 1), '벤치' || lpad(k::text, 4, '0') FROM generate_series(lo, hi) k
    RETURNING id, line, name)
  INSERT INTO bench.stations
  SELECT substr(name, 3)::integer, id, name, line,
         0.2 + 2.0 * ((substr(name, 3)::integer * 7919) % 1000) / 1000.0,
         ((substr(name, 3)::integer * 37) % 208) * 168
    FROM ins;
  PERFORM setseed(lo / 100000.0);
  FOR st IN SELECT * FROM bench.stations WHERE k BETWEEN lo AND hi ORDER BY k LOOP
    INSERT INTO seongsu.ridership_hourly (station_id, ts, service_day, passengers, source)
    SELECT st.id, t.ts,
           date '2000-01-01' + ((extract(epoch FROM t.ts)::bigint + (9 - 4) * 3600) / 86400 - 10957)::integer,
           greatest(0, round(p.v * st.scale * (0.9 + 0.2 * random())))::integer,
           'bench'
      FROM generate_series(timestamptz '2015-01-01 00:00+09', timestamptz '2024-12-31 23:00+09',
                           interval '1 hour') WITH ORDINALITY AS t(ts, i)
      JOIN bench.pattern p
        ON p.idx = ((t.i - 1 - 96 + st.shift) % 34944 + 34944) % 34944
     ORDER BY t.ts;
    GET DIAGNOSTICS m = ROW_COUNT;
    n := n + m;
  END LOOP;
  RETURN n;
END
$$;
