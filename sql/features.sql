-- Calendar and features on hand-checkable fixtures: holidays (substitute,
-- temporary, on weekends), blocks, bridges, time-aware lags with gaps, leap
-- days, the horizon rule, no leakage, late-night hours, window functions,
-- the feature store, and TimeZone independence.
-- The holidays are the core fixtures' (test/fixtures/seongsu.sql: KASI
-- responses written for the months below, fixed-date holidays elsewhere);
-- features_real checks the same answers on the real KASI files.
SET client_min_messages = warning;
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/test/fixtures/seongsu.sql
SELECT count(*) AS holidays_2014_2025 FROM seongsu.holidays WHERE day BETWEEN '2014-01-01' AND '2025-12-31';

-- 설날 2024: Fri 02-09 .. Mon 02-12 (substitute) is one block of 4 days off.
SELECT kst_date, iso_dow, is_holiday, holiday_name, is_substitute, is_day_off, block_len, block_pos, in_seollal, day_type
FROM generate_series(timestamptz '2024-02-08 12:00+09', '2024-02-13 12:00+09', '1 day') t, seongsu.calendar_features(t);
-- The same block in full (issue 12): kinds, positions from its start and
-- end, the travel days before and after it (working days up to 5 days
-- away; 02-02 is 7 days before, 02-17/18 are a weekend), the holiday
-- neighbours (holiday-specific: 02-13 follows the substitute day), holiday
-- identities (1..3 설날 1st..3rd day, 17 substitute) and hour-share day
-- types (6 in a lunar block).
SELECT kst_date, iso_dow AS dow, kind, block_len AS len, block_pos AS pos, block_pos_end AS pos_end,
       lunar_pos, lunar_pos_end, lunar_days_to AS to_lunar, lunar_days_since AS since_lunar,
       lunar_near_seollal AS near_seollal, before_holiday AS bh, after_holiday AS ah,
       before_holiday_block AS bhb, after_holiday_block AS ahb, holiday_id AS hid, day_type
FROM generate_series(timestamptz '2024-02-02 12:00+09', '2024-02-19 12:00+09', '1 day') t, seongsu.calendar_features(t);
-- 근로자의 날: May 1 on a weekday that is no holiday is a special day (kind
-- 4): not a day off, its own holiday identity (18) and day type (7); on a
-- Sunday (2022) it is just a Sunday.
SELECT kst_date, iso_dow, kind, is_special, is_day_off, is_holiday, holiday_id, day_type, day_of_month, days_to_month_end
FROM generate_series(timestamptz '2024-04-30 12:00+09', '2024-05-02 12:00+09', '1 day') t, seongsu.calendar_features(t)
UNION ALL
SELECT kst_date, iso_dow, kind, is_special, is_day_off, is_holiday, holiday_id, day_type, day_of_month, days_to_month_end
FROM seongsu.calendar_features('2022-05-01 12:00+09');
-- 추석 2017 (10 days off): 10-03 is both 개천절 and 추석 and counts as 추석's
-- first day; the temporary (16), substitute (17) and 한글날 (13) days keep
-- their own identities; 09-29 is the travel day before it.
SELECT kst_date, holiday_name, holiday_id, in_chuseok, in_seollal, lunar_pos, lunar_days_to, lunar_near_seollal
FROM generate_series(timestamptz '2017-09-29 12:00+09', '2017-10-10 12:00+09', '1 day') t, seongsu.calendar_features(t);
-- 2015-08-14 temporary holiday (seeded), Friday: a 3-day block with the weekend.
SELECT kst_date, holiday_name, is_temporary, block_len, block_pos, days_since_holiday
FROM seongsu.calendar_features('2015-08-14 09:00+09'), LATERAL (SELECT 1) x;
SELECT kst_date, is_holiday, block_len, block_pos FROM seongsu.calendar_features('2015-08-16 09:00+09');
-- 2017-10-03 carries two names; 2020-08-15 광복절 fell on a Saturday.
SELECT holiday_name, block_len FROM seongsu.calendar_features('2017-10-03 09:00+09');
SELECT iso_dow, is_weekend, is_holiday, holiday_name FROM seongsu.calendar_features('2020-08-15 09:00+09');
-- A bridge day: Wed 2024-10-02 between 10-01 (temporary holiday) and 10-03 (개천절).
SELECT kst_date, is_bridge, day_before_off, day_after_off, days_to_off, days_since_off
FROM seongsu.calendar_features('2024-10-02 09:00+09');
-- Distances on an ordinary Wednesday, and an hour after midnight KST.
SELECT kst_date, hour, days_to_off, days_since_off, days_to_holiday, days_since_holiday FROM seongsu.calendar_features('2024-06-19 23:30+09');
SELECT kst_date, hour FROM seongsu.calendar_features('2024-06-19 15:30+00');
SELECT seongsu.is_holiday('2024-02-12'), seongsu.is_holiday('2024-02-10'), seongsu.is_holiday('2024-02-13');
-- Same answers whatever the session TimeZone.
SET TimeZone = 'America/New_York';
SELECT kst_date, hour, is_holiday FROM seongsu.calendar_features('2024-02-12 08:00+09');
RESET TimeZone;

-- A fixture station: value = 1000 + day of the year, with 2024-03-05 missing.
SELECT seongsu.import_text('ridership_daily', 'date,line,station,boardings,alightings' || E'\n' ||
  string_agg(format('%s,테스트선,시험역,%s,0', to_char(d, 'YYYY-MM-DD'), 1000 + extract(doy FROM d)::int), E'\n'))
FROM generate_series(date '2023-01-01', date '2024-03-31', '1 day') d WHERE d <> '2024-03-05';

-- Lags are calendar-exact: 2024-03-12 lag 7 = 03-05 (missing, NULL, not 03-04);
-- lag 364 of the leap day 2024-02-29 = 2023-03-02 (doy 61); lag 14 of 03-12 = 02-27.
SELECT kst_date, target, lag_1d, lag_7d, lag_14d, lag_364d, missing_mask & 8 AS lag7_missing_bit
FROM seongsu.features('시험역', '테스트선', '2024-02-29', '2024-02-29', 'daily', '1 day')
UNION ALL
SELECT kst_date, target, lag_1d, lag_7d, lag_14d, lag_364d, missing_mask & 8
FROM seongsu.features('시험역', '테스트선', '2024-03-12', '2024-03-12', 'daily', '1 day');
-- Rolling 7 days ending the day before 03-08: 03-01..03-07 without 03-05 (doy 61..67 minus 65).
SELECT roll7_mean, roll7_min, roll7_max, round(roll7_std::numeric, 6) AS roll7_std,
       (1000 + (61 + 62 + 63 + 64 + 66 + 67) / 6.0) AS expected_mean
FROM seongsu.features('시험역', '테스트선', '2024-03-08', '2024-03-08', 'daily', '1 day');
-- Horizon 7 days: lags under 7 days are not produced, windows end at t - 7.
SELECT lag_1d, lag_3d, lag_7d, roll7_max, sdw4_mean,
       1000 + (61 + 54 + 47 + 40) / 4.0 AS expected_sdw4
FROM seongsu.features('시험역', '테스트선', '2024-03-08', '2024-03-08', 'daily', '7 days');

-- No leakage: change every observation after t - horizon; row t's features stay.
CREATE TEMP TABLE before AS
  SELECT to_jsonb(f) - 'target' - 'target_ratio' AS j
  FROM seongsu.features('시험역', '테스트선', '2024-03-20', '2024-03-20', 'daily', '7 days') f;
UPDATE seongsu.ridership_daily r SET boardings = boardings * 3 + 17
FROM seongsu.stations s WHERE s.id = r.station_id AND s.name = '시험역' AND r.day > date '2024-03-13';
SELECT (SELECT j FROM before) = (to_jsonb(f) - 'target' - 'target_ratio') AS features_unchanged,
       f.target AS changed_target
FROM seongsu.features('시험역', '테스트선', '2024-03-20', '2024-03-20', 'daily', '7 days') f;
-- ... while an observation at t - horizon itself does change it.
UPDATE seongsu.ridership_daily r SET boardings = 5 FROM seongsu.stations s
WHERE s.id = r.station_id AND s.name = '시험역' AND r.day = date '2024-03-13';
SELECT (SELECT j FROM before) = (to_jsonb(f) - 'target' - 'target_ratio') AS features_unchanged, lag_7d
FROM seongsu.features('시험역', '테스트선', '2024-03-20', '2024-03-20', 'daily', '7 days') f;

-- Hourly: the same hour 1 and 7 days before; after-midnight hours keep their service day.
SELECT seongsu.import_text('ridership_hourly',
E'service_date,line,station,hour,passengers\n2024-05-01,테스트선,시험역,8,100\n2024-05-01,테스트선,시험역,0,11\n2024-05-07,테스트선,시험역,8,170\n2024-05-08,테스트선,시험역,8,180\n2024-05-08,테스트선,시험역,0,12\n');
SELECT to_char(ts AT TIME ZONE 'Asia/Seoul', 'MM-DD HH24') AS kst, kst_date AS service_day, hour, target, lag_1d, lag_7d
FROM seongsu.features('시험역', '테스트선', '2024-05-08 08:00+09', '2024-05-09 00:00+09', 'hourly', '1 hour')
WHERE hour IN (0, 8);

-- Argument errors.
SELECT count(*) FROM seongsu.features('시험역', '테스트선', '2024-03-01', '2024-03-02', 'weekly', '1 day');
SELECT count(*) FROM seongsu.features('시험역', '테스트선', '2024-03-01', '2024-03-02', 'daily', '0 days');
SELECT count(*) FROM seongsu.features('시험역', '테스트선', '2024-03-01', '2024-03-02', 'daily', '1 month');
SELECT count(*) FROM seongsu.features('없는역', '테스트선', '2024-03-01', '2024-03-02', 'daily', '1 day');

-- Window functions: exact lag or NULL across the gap; trailing time averages.
SELECT r.day, r.passengers,
       seongsu.time_lag(r.passengers, r.day::timestamp AT TIME ZONE 'Asia/Seoul', '7 days') OVER w AS lag7,
       seongsu.time_avg(r.passengers, r.day::timestamp AT TIME ZONE 'Asia/Seoul', '3 days', '1 day') OVER w AS avg_prev3
FROM seongsu.ridership_daily r JOIN seongsu.stations s ON s.id = r.station_id
WHERE s.name = '시험역' AND r.day BETWEEN '2024-02-27' AND '2024-03-14'
WINDOW w AS (ORDER BY r.day) ORDER BY r.day;
SELECT seongsu.time_lag(x, t, '1 month') OVER (ORDER BY t) FROM (VALUES (1.0, now())) v(x, t);
SELECT seongsu.time_avg(x, t, '1 day', '2 days') OVER (ORDER BY t) FROM (VALUES (1.0, now())) v(x, t);

-- Feature store: idempotent.
SELECT rows_written FROM seongsu.build_features('시험역', '테스트선', '2024-03-01', '2024-03-31', 'daily', '7 days');
SELECT rows_written FROM seongsu.build_features('시험역', '테스트선', '2024-03-01', '2024-03-31', 'daily', '7 days');
SELECT name, grain, horizon, version, array_length(columns, 1) AS ncolumns FROM seongsu.feature_sets;
SELECT (row->>'lag_7d')::float8 AS stored_lag7 FROM seongsu.feature_rows WHERE ts = '2024-03-20 00:00+09';

-- Weather of the target day: observed (a KMA value before Open-Meteo's, per
-- column), else the latest issue of the day's earliest forecast target that
-- has a temperature, else
-- the climatology: the mean of every stored observation's temperature within
-- 7 days of the day of year.  Fixture days in 2031 have no real weather.
INSERT INTO seongsu.weather_daily (source, day, temp_mean_c, precip_mm, snow_cm) VALUES
  ('kma:108', '2031-07-05', 10, NULL, 0), ('open-meteo', '2031-07-05', 12, 3.5, 0);
INSERT INTO seongsu.weather_forecast (source, issued_at, target, grain, temp_c, precip_mm, snow_cm) VALUES
  ('test', '2031-07-08 05:00+09', '2031-07-10 00:00+09', 'day', 21.5, 1, 0),
  ('test', '2031-07-09 05:00+09', '2031-07-10 00:00+09', 'day', 23.25, 2, 0),
  ('test', '2031-07-09 17:00+09', '2031-07-10 12:00+09', 'day', 30, 9, 0),
  ('test', '2031-07-08 05:00+09', '2031-07-11 00:00+09', 'day', 5, 0, 0),
  ('test', '2031-07-09 05:00+09', '2031-07-11 00:00+09', 'day', NULL, 0, 0),
  ('test', '2031-07-09 05:00+09', '2031-07-12 00:00+09', 'day', NULL, 0, 0),
  ('test', '2031-07-09 05:00+09', '2031-07-12 12:00+09', 'day', 17, 4, 0);
-- the climatology computed here from the table, to compare with
-- (precipitation: each day of year's mean where it was measured, weighted
-- by the days with a temperature)
CREATE TEMP VIEW climatology_check AS
  SELECT x.day, sum(x.t) / sum(x.n) AS temp, sum(coalesce(x.p, 0) * x.n) / sum(x.n) AS precip
  FROM (SELECT d.day, extract(doy FROM w.day) AS doy, sum(w.temp_mean_c) AS t, count(*) AS n, avg(w.precip_mm) AS p
          FROM (VALUES (date '2031-07-11'), (date '2031-07-20')) d(day)
          JOIN seongsu.weather_daily w ON w.temp_mean_c IS NOT NULL
           AND ((extract(doy FROM w.day)::int - extract(doy FROM d.day)::int) % 366 + 366) % 366 IN (0, 1, 2, 3, 4, 5, 6, 7, 359, 360, 361, 362, 363, 364, 365)
         GROUP BY 1, 2) x
  GROUP BY x.day;
SELECT f.kst_date, f.weather_source,
       CASE WHEN c.day IS NULL THEN f.temp_mean_c END AS temp_mean_c, CASE WHEN c.day IS NULL THEN f.precip_mm END AS precip_mm,
       abs(f.temp_mean_c - c.temp) < 1e-9 AND abs(f.precip_mm - c.precip) < 1e-9 AS matches_climatology
FROM seongsu.features('시험역', '테스트선', '2031-07-05', '2031-07-20', 'daily', '1 day') f
LEFT JOIN climatology_check c ON c.day = f.kst_date
WHERE f.kst_date IN ('2031-07-05', '2031-07-10', '2031-07-11', '2031-07-12', '2031-07-20') ORDER BY 1;
-- A new observation changes the climatology at once (the shared sums are
-- per weather generation): an extreme July day in another year.
INSERT INTO seongsu.weather_daily (source, day, temp_mean_c) VALUES ('test', '2019-07-21', 60);
SELECT f.weather_source, abs(f.temp_mean_c - c.temp) < 1e-9 AS matches_climatology
FROM seongsu.features('시험역', '테스트선', '2031-07-20', '2031-07-20', 'daily', '1 day') f
JOIN climatology_check c ON c.day = f.kst_date;
DELETE FROM seongsu.weather_daily WHERE day = '2031-07-05' OR (day = '2019-07-21' AND source = 'test');
DELETE FROM seongsu.weather_forecast WHERE source = 'test';
DROP VIEW climatology_check;

-- More argument errors.
SELECT * FROM seongsu.calendar_features('infinity');
SELECT * FROM seongsu.build_features('없는역', '테스트선');
SELECT count(*) FROM seongsu.features('시험역', '테스트선', '-infinity', '2024-03-02', 'daily', '1 day');

-- Bounds: a range given backwards, or too long for one call, is an error
-- before anything is loaded or allocated for it; a range without a whole
-- hour in it is empty.
SELECT count(*) FROM seongsu.features('시험역', '테스트선', '2024-12-31', '2024-01-01', 'daily', '1 day');
SELECT count(*) FROM seongsu.features('시험역', '테스트선', '2024-03-01 10:00+09', '2024-03-01 09:00+09', 'hourly', '1 hour');
SELECT count(*) FROM seongsu.features('시험역', '테스트선', '0001-01-01', '4000-01-01', 'daily', '1 day');
SELECT count(*) FROM seongsu.features('시험역', '테스트선', '2024-03-01 10:10+09', '2024-03-01 10:20+09', 'hourly', '1 hour');
SELECT count(*) FROM seongsu.features('시험역', '테스트선', '2024-03-01', '2024-03-02', 'daily', '2000000000 days');

-- Window offsets look back only: a negative lag or to_offset (which would
-- read later rows) is an error, as is an offset beyond every timestamp or
-- an infinite ts; a lag past the first row is NULL.
SELECT seongsu.time_lag(x, t, '-1 day') OVER (ORDER BY t) FROM (VALUES (1.0, now()), (2.0, now() + '1 day')) v(x, t);
SELECT seongsu.time_lag(x, t, '1 day -25 hours') OVER (ORDER BY t) FROM (VALUES (1.0, now())) v(x, t);
SELECT seongsu.time_avg(x, t, '1 day', '-1 day') OVER (ORDER BY t) FROM (VALUES (1.0, now())) v(x, t);
SELECT seongsu.time_avg(x, t, '-1 day', '-2 days') OVER (ORDER BY t) FROM (VALUES (1.0, now())) v(x, t);
SELECT seongsu.time_lag(x, t, '2000000000 days') OVER (ORDER BY t) FROM (VALUES (1.0, now())) v(x, t);
SELECT seongsu.time_lag(x, t, '1 day') OVER (ORDER BY t) FROM (VALUES (1.0, 'infinity'::timestamptz)) v(x, t);
SELECT seongsu.time_lag(x, t, '100000000 days') OVER (ORDER BY t) AS lag,
       seongsu.time_avg(x, t, '100000000 days', '0') OVER (ORDER BY t) AS avg
FROM (VALUES (1.0, '4713-01-01 BC'::timestamptz), (3.0, '2024-01-01')) v(x, t);

-- Station and line names are printable text: a control character, a
-- newline or an invisible formatting character ("성\x01수" beside "성수")
-- is refused by every importer, naming the line or row, with nothing
-- written, and by the functions that take a name.
SELECT seongsu.import_text('ridership_daily', E'date,line,station,boardings,alightings\n2024-01-02,2호선,성수역,1,2\n2024-01-02,2호선,성\x01수,1,2\n');
SELECT seongsu.import_text('ridership_daily', E'date,line,station,boardings,alightings\n2024-01-02,2호선,"성\n수",1,2\n');
SELECT seongsu.import_text('ridership_hourly', E'service_date,line,station,hour,passengers\n2024-05-01,2호선,성수,8,100\n\n2024-05-01,2\x7f호선,성수,9,100\n');
SELECT seongsu.import_text('congestion_survey', E'survey,day_type,line,station_code,station,direction,slot_start,congestion_pct\n2024Q2,평일,2호선,211,성수,내선,08:00,150\n2024Q2,평일,2호선,211,성\u200b수,내선,08:30,150\n');
SELECT count(*) AS stored FROM seongsu.stations WHERE name LIKE '성%수%' AND name <> '성수';
SELECT count(*) FROM seongsu.features(E'시험\x01역', '테스트선', '2024-03-01', '2024-03-02', 'daily', '1 day');
SELECT count(*) FROM seongsu.features('시험역', E'테스트선\n', '2024-03-01', '2024-03-02', 'daily', '1 day');

-- Level, ratios and regimes on the core fixtures' station (issue 12),
-- recomputed here in SQL from the tables.  The level of day c is the mean
-- of the working days of [c-27, c]: weekdays that are neither public
-- holidays nor May 1 (근로자의 날 is a special day, not a working day).
CREATE TEMP TABLE sd AS
  SELECT d.day, d.passengers::float8 AS y,
         extract(isodow FROM d.day) < 6 AND NOT seongsu.is_holiday(d.day)
           AND to_char(d.day, 'MM-DD') <> '05-01' AS working
    FROM seongsu.ridership_daily d JOIN seongsu.stations s ON s.id = d.station_id WHERE s.name = '성수';
CREATE FUNCTION pg_temp.lvl(c date) RETURNS float8 LANGUAGE sql STABLE
  AS $$ SELECT avg(y) FROM sd WHERE working AND day BETWEEN c - 27 AND c $$;
CREATE FUNCTION pg_temp.own(d date) RETURNS float8 LANGUAGE sql STABLE
  AS $$ SELECT y / pg_temp.lvl(d - 1) FROM sd WHERE day = d $$;
CREATE TEMP TABLE f1 AS SELECT * FROM seongsu.features('성수', '2호선', '2023-01-01', '2025-05-31', 'daily', '1 day');
CREATE TEMP TABLE f7 AS SELECT * FROM seongsu.features('성수', '2호선', '2023-01-01', '2025-05-31', 'daily', '7 days');
-- 2024-05-02: the level of 04-04..05-01 leaves May 1 (a Wednesday) out.
SELECT abs(level28 - pg_temp.lvl('2024-05-01')) < 1e-9 AS level_recomputed,
       abs(level28 - (SELECT avg(y) FROM sd WHERE day BETWEEN '2024-04-04' AND '2024-05-01'
                        AND (working OR day = '2024-05-01'))) > 1e-6 AS may_1_would_change_it,
       abs(level91 - (SELECT avg(y) FROM sd WHERE working AND day BETWEEN date '2024-05-01' - 90 AND '2024-05-01')) < 1e-9 AS level91_recomputed
FROM f1 WHERE kst_date = '2024-05-02';
-- Every count column is given divided by level28 as <name>_ratio (the
-- model inputs), NULL exactly when the count or the level is; the target too.
SELECT h, count(DISTINCT kst_date) AS rows, count(*) AS values_compared,
       count(*) FILTER (WHERE (r IS NULL) <> (x IS NULL OR l IS NULL)
                           OR abs(r - x / l) > 1e-12 * greatest(1, abs(x / l))) AS wrong
FROM (SELECT 1 AS h, to_jsonb(f1) AS j, kst_date FROM f1 UNION ALL SELECT 7, to_jsonb(f7), kst_date FROM f7) f,
     LATERAL (SELECT c.name FROM seongsu.feature_columns() c
               WHERE c.name = 'target' OR EXISTS (SELECT 1 FROM seongsu.feature_columns() r WHERE r.name = c.name || '_ratio')) c,
     LATERAL (SELECT (f.j->>(c.name || '_ratio'))::float8 AS r, (f.j->>c.name)::float8 AS x,
                     (f.j->>'level28')::float8 AS l) v
GROUP BY h ORDER BY h;
-- The model columns hold no count: every one is a calendar fact, a ratio,
-- weather or a _ratio column (no raw lag, rolling, same-weekday mean or level).
SELECT string_agg(name, ', ') AS raw_counts_in_model FROM seongsu.feature_columns()
WHERE in_model AND (name ~ '^(lag_\d+d|roll\d+_(mean|std|min|max)|sdw\w+_mean|level\d+)$');
-- Kind regimes at the cutoff 2024-04-30 (row 05-01, a special day): the
-- mean own ratio (the day / the level of the day before) of the last 4
-- Saturdays, Sundays, holidays; for the special day the last 2 May 1s on
-- working weekdays within 5 years (2023 Monday, 2020 Friday; 2021 and 2022
-- fell on a weekend); dev of 05-01 (the next row's dev_lag_1d) is its own
-- ratio against that.
SELECT abs(f.ratio_saturday - (SELECT avg(pg_temp.own(day)) FROM (SELECT day FROM sd WHERE extract(isodow FROM day) = 6
          AND NOT seongsu.is_holiday(day) AND day <= '2024-04-30' ORDER BY day DESC LIMIT 4) x)) < 1e-12 AS saturday,
       abs(f.ratio_sunday - (SELECT avg(pg_temp.own(day)) FROM (SELECT day FROM sd WHERE extract(isodow FROM day) = 7
          AND NOT seongsu.is_holiday(day) AND day <= '2024-04-30' ORDER BY day DESC LIMIT 4) x)) < 1e-12 AS sunday,
       abs(f.ratio_holiday - (SELECT avg(pg_temp.own(day)) FROM (SELECT day FROM sd WHERE seongsu.is_holiday(day)
          AND day <= '2024-04-30' ORDER BY day DESC LIMIT 4) x)) < 1e-12 AS holiday,
       abs(f.ratio_kind - (pg_temp.own('2023-05-01') + pg_temp.own('2020-05-01')) / 2) < 1e-12 AS special,
       abs(g.dev_lag_1d - pg_temp.own('2024-05-01') / f.ratio_kind) < 1e-12 AS dev_of_may_1,
       abs(g.yoy - g.level28 / (SELECT level28 FROM seongsu.features('성수', '2호선', '2023-05-04', '2023-05-04'))) < 1e-12 AS yoy
FROM f1 f JOIN f1 g ON g.kst_date = f.kst_date + 1 WHERE f.kst_date = '2024-05-01';
-- Working days have ratio_kind 1; a Saturday's is ratio_saturday.
SELECT kst_date, kind, ratio_kind = 1 AS one, ratio_kind = ratio_saturday AS is_saturday_ratio
FROM f1 WHERE kst_date IN ('2024-06-07', '2024-06-08');
-- Christmas 2024: holiday_last_own is the own ratio of Christmas 2023, and
-- holiday_last_rel that against the holiday regime the day before it.
SELECT holiday_id, abs(holiday_last_own - pg_temp.own('2023-12-25')) < 1e-12 AS last_own,
       abs(holiday_last_rel - pg_temp.own('2023-12-25') / (SELECT ratio_holiday FROM f1 WHERE kst_date = '2023-12-25')) < 1e-12 AS last_rel,
       abs(holiday_expect - ratio_holiday * holiday_last_rel) < 1e-12 AS expect
FROM f1 WHERE kst_date = '2024-12-25';
-- The same-weekday mean without holidays: Monday 2024-02-19 skips 02-12
-- (설날's substitute day) and takes 02-05, 01-29, 01-22, 01-15.
SELECT abs(sdw4_nohol_mean - (SELECT avg(y) FROM sd WHERE day IN ('2024-02-05', '2024-01-29', '2024-01-22', '2024-01-15'))) < 1e-9 AS nohol,
       abs(sdw4_mean - (SELECT avg(y) FROM sd WHERE day IN ('2024-02-12', '2024-02-05', '2024-01-29', '2024-01-22'))) < 1e-9 AS all_days
FROM f1 WHERE kst_date = '2024-02-19';
-- No leakage: a row for day t uses only observations at least the horizon
-- old.  Change every observation after t - horizon (rolled back; the
-- latest cutoff first, so that each change is after every later row's
-- cutoff); the rows of May 1 and the day after the 설날 block, 1 and 7
-- days ahead, stay.
BEGIN;
CREATE TEMP TABLE leak_before ON COMMIT DROP AS
  SELECT h, t, (SELECT to_jsonb(f) - 'target' - 'target_ratio'
                  FROM seongsu.features('성수', '2호선', t, t, 'daily', make_interval(days => h)) f) AS j
    FROM (VALUES (1, date '2024-02-13'), (7, date '2024-02-13'), (1, date '2024-05-02'), (7, date '2024-05-01')) v(h, t);
CREATE FUNCTION pg_temp.leak(h int, t date) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  UPDATE seongsu.ridership_daily d SET boardings = d.boardings * 3 + 17
    FROM seongsu.stations s WHERE s.id = d.station_id AND s.name = '성수' AND d.day > t - h;
  RETURN (SELECT j FROM leak_before b WHERE b.h = leak.h AND b.t = leak.t) =
         (SELECT to_jsonb(f) - 'target' - 'target_ratio'
            FROM seongsu.features('성수', '2호선', t, t, 'daily', make_interval(days => h)) f);
END $$;
WITH o AS MATERIALIZED (SELECT * FROM leak_before ORDER BY t - h DESC)
SELECT h, t, pg_temp.leak(h, t) AS unchanged FROM o;
-- ... while changing the observation at t - horizon itself changes the row.
UPDATE seongsu.ridership_daily d SET boardings = d.boardings + 1000
  FROM seongsu.stations s WHERE s.id = d.station_id AND s.name = '성수' AND d.day = '2024-02-12';
SELECT (SELECT j FROM leak_before WHERE h = 1 AND t = '2024-02-13') =
       (SELECT to_jsonb(f) - 'target' - 'target_ratio' FROM seongsu.features('성수', '2호선', '2024-02-13', '2024-02-13') f) AS unchanged;
ROLLBACK;
-- A row does not depend on the range asked for (the history loaded).
SELECT count(*) AS rows, count(*) FILTER (WHERE to_jsonb(a) <> to_jsonb(b)) AS differ
FROM seongsu.features('성수', '2호선', '2024-12-20', '2024-12-31') a
JOIN f1 b USING (kst_date);
DROP TABLE sd, f1, f7;

-- The feature columns are listed once, in C (feature_columns()): the output
-- columns of features() and calendar_features() are exactly that list, in
-- order, with its types, and the model columns are its in_model ones.
WITH c AS (SELECT * FROM seongsu.feature_columns()),
     f AS (SELECT a.name, pg_catalog.format_type(a.type, NULL) AS type, a.ord - 6 AS ordinal
           FROM pg_proc p, unnest(p.proargnames, p.proallargtypes) WITH ORDINALITY AS a(name, type, ord)
           WHERE p.oid = 'seongsu.features(text, text, timestamptz, timestamptz, text, interval)'::regprocedure
             AND a.ord > 6),
     k AS (SELECT a.name, pg_catalog.format_type(a.type, NULL) AS type, a.ord - 1 AS ord
           FROM pg_proc p, unnest(p.proargnames, p.proallargtypes) WITH ORDINALITY AS a(name, type, ord)
           WHERE p.oid = 'seongsu.calendar_features(timestamptz)'::regprocedure AND a.ord > 1)
SELECT (SELECT count(*) FROM c) AS columns,
       (SELECT count(*) FROM c WHERE in_model) AS model_columns,
       (SELECT count(*) FROM c FULL JOIN f USING (ordinal) WHERE c.name IS DISTINCT FROM f.name OR c.type IS DISTINCT FROM f.type) AS features_differ,
       (SELECT count(*) FROM (SELECT name, type, row_number() OVER (ORDER BY ordinal) AS ord FROM c WHERE in_calendar) cc
          FULL JOIN k USING (ord) WHERE cc.name IS DISTINCT FROM k.name OR cc.type IS DISTINCT FROM k.type) AS calendar_differ;
SELECT name FROM seongsu.feature_columns() WHERE description IS NULL OR description = '';
