-- The core tests' data set (test/fixtures/seongsu.sql: holidays, daily and
-- hourly ridership, hour profiles, weather, congestion surveys), loaded
-- through the importers into empty tables and compared with what the
-- loader generated: every day and hour as written, late-night hours on the
-- previous service day, Seoul Metro's 합 계, KASI's three item shapes,
-- weather per source; loading it again changes nothing.
SET client_min_messages = warning;
TRUNCATE seongsu.ridership_daily, seongsu.ridership_hourly, seongsu.hour_profile, seongsu.weather_daily,
  seongsu.weather_hourly, seongsu.weather_forecast, seongsu.congestion_survey CASCADE;
DELETE FROM seongsu.holidays WHERE source <> 'seed';
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/test/fixtures/seongsu.sql
SELECT s.id AS sid, s.metro_code FROM seongsu.stations s WHERE s.line = '2호선' AND s.name = '성수' \gset
-- Seoul Metro's 역번호 211 (and CARD's 역ID 0211) is the station's code.
SELECT :'metro_code' AS metro_code;

-- Rows upserted per kind: each day, hour, month, survey slot and holiday once.
SELECT kind, sum(rows) AS rows, count(*) AS calls FROM fixture_loads GROUP BY kind ORDER BY kind;

-- Daily: every generated day stored as generated, nothing else; the gaps are
-- the generator's; CARD's rows carry their 등록일자, the other layout none.
SELECT count(*) AS days, min(f.day), max(f.day),
       count(*) FILTER (WHERE r.boardings = f.boardings AND r.alightings = f.alightings
                          AND r.passengers = f.boardings + f.alightings) AS as_generated
  FROM fixture_daily f LEFT JOIN seongsu.ridership_daily r ON r.station_id = :sid AND r.day = f.day;
SELECT count(*) AS not_generated FROM seongsu.ridership_daily r
 WHERE NOT EXISTS (SELECT 1 FROM fixture_daily f WHERE f.day = r.day);
SELECT (SELECT count(*) FROM fixture_gaps) AS gap_days,
       (SELECT count(*) FROM generate_series(date '2020-01-01', date '2025-05-31', interval '1 day') d
         WHERE NOT EXISTS (SELECT 1 FROM seongsu.ridership_daily r WHERE r.day = d::date)) AS days_without_row;
SELECT source, count(*), min(day), max(day), bool_and(registered_on = day + 3) AS registered_3_days_later,
       bool_and(registered_on IS NULL) AS unregistered
  FROM seongsu.ridership_daily GROUP BY source ORDER BY source;

-- Seoul Metro hourly: each slot at its instant (06시 이전 at 05:00, 24시 이후
-- at 00:00 of the next calendar day, both of the service day), boardings and
-- alightings as generated, so a service day's hours add up to its 합 계.
SELECT count(*) AS slots,
       count(*) FILTER (WHERE h.boardings = b.n AND h.alightings = a.n AND h.passengers = b.n + a.n
                          AND h.service_day = b.day) AS as_generated
  FROM fixture_hourly b
  JOIN fixture_hourly a ON a.day = b.day AND a.slot = b.slot AND NOT a.boarding
  LEFT JOIN seongsu.ridership_hourly h ON h.station_id = :sid AND h.source = 'seoulmetro_hourly'
   AND h.ts = (b.day + make_interval(hours => 5 + b.slot))::timestamp AT TIME ZONE 'Asia/Seoul'
 WHERE b.boarding;
SELECT to_char(ts AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD HH24:MI') AS kst, service_day,
       boardings = (SELECT n FROM fixture_hourly WHERE day = '2024-03-01' AND boarding
                     AND hour = extract(hour FROM h.ts AT TIME ZONE 'Asia/Seoul')) AS boardings_ok
  FROM seongsu.ridership_hourly h
 WHERE service_day = '2024-03-01' AND extract(hour FROM ts AT TIME ZONE 'Asia/Seoul') NOT BETWEEN 6 AND 22
 ORDER BY ts;
SELECT bool_and(h.b = s.b AND h.a = s.a) AS sums_are_hap_gye
  FROM (SELECT service_day, sum(boardings) AS b, sum(alightings) AS a FROM seongsu.ridership_hourly
         WHERE source = 'seoulmetro_hourly' GROUP BY 1) h
  JOIN (SELECT day, sum(n) FILTER (WHERE boarding) AS b, sum(n) FILTER (WHERE NOT boarding) AS a
          FROM fixture_hourly GROUP BY 1) s ON s.day = h.service_day;
-- Combined passengers: hours 0 and 1 fall on the next calendar day.
SELECT to_char(ts AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD HH24:MI') AS kst, service_day, boardings IS NULL AS combined_only
  FROM seongsu.ridership_hourly
 WHERE source = 'ridership_hourly' AND service_day = '2023-11-07' AND extract(hour FROM ts AT TIME ZONE 'Asia/Seoul') < 6
 ORDER BY ts;
SELECT count(*) AS rows, count(DISTINCT service_day) AS days FROM seongsu.ridership_hourly WHERE source = 'ridership_hourly';

-- CardSubwayTime: 24 slots a month, 04시-05시 .. 03시-04시 as hours 4 .. 3.
SELECT month, count(*) AS hours,
       bool_and(boardings = 700 * pg_temp.fixture_hour_weight(hour, true, false)
                AND alightings = 650 * pg_temp.fixture_hour_weight(hour, false, false)) AS as_generated
  FROM seongsu.hour_profile GROUP BY month ORDER BY month;

-- KASI: the list of 2024-02 with its substitute day, the single object of
-- 2024-03, nothing for the "" of 2024-11, 10-03 twice in 2017, the seeded
-- temporary holiday 2015-08-14 (missing from KASI's data).
SELECT day, name, kind, source FROM seongsu.holidays
 WHERE day BETWEEN '2024-02-01' AND '2024-03-31' OR day BETWEEN '2024-11-01' AND '2024-11-30'
    OR day IN ('2015-08-14', '2017-10-03')
 ORDER BY day, name;
-- Per kind: 12 years x 8 fixed-date holidays = 96, less the 6 of them in the
-- six months written by hand, which add 12 public, 2 substitute and 3
-- temporary holidays; and the seed.
SELECT kind, source, count(*) FROM seongsu.holidays GROUP BY kind, source ORDER BY kind, source;

-- Weather: KMA's two layouts (precipitation only in the newer one), Open-Meteo.
SELECT source, count(*), min(day), max(day),
       bool_and(temp_mean_c = pg_temp.fixture_temp(day) + CASE source WHEN 'open-meteo' THEN 0.3 ELSE 0 END) AS temps_ok,
       count(precip_mm) AS with_precip,
       bool_and(precip_mm IS NULL OR precip_mm = pg_temp.fixture_rain(day)) AS precip_ok
  FROM seongsu.weather_daily GROUP BY source ORDER BY source;

-- Congestion: 2 surveys x 3 day types x 2 directions x 19 hourly slots.
SELECT survey, day_type, count(*) AS slots FROM seongsu.congestion_survey
 GROUP BY survey, day_type ORDER BY survey, array_position(ARRAY['평일', '토요일', '일요일'], day_type);

-- Idempotent: the same data again upserts nothing and changes no row.
SELECT pg_current_xact_id()::text::bigint AS before_reload \gset
\i :abs_srcdir/test/fixtures/seongsu.sql
SELECT sum(rows) AS rows_upserted_again FROM fixture_loads;
SELECT (SELECT count(*) FROM seongsu.ridership_daily WHERE xmin::text::bigint >= :before_reload % 4294967296)
     + (SELECT count(*) FROM seongsu.ridership_hourly WHERE xmin::text::bigint >= :before_reload % 4294967296)
     + (SELECT count(*) FROM seongsu.holidays WHERE xmin::text::bigint >= :before_reload % 4294967296)
     + (SELECT count(*) FROM seongsu.weather_daily WHERE xmin::text::bigint >= :before_reload % 4294967296) AS rows_rewritten;
