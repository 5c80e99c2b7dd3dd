-- Data quality: the checks on the real data and on injected problems, the
-- gate, feature profiles and the text pictures.  "Today" is fixed by as_of.
SET client_min_messages = warning;

-- Start from the real files only: other tests truncate the ridership tables
-- and add fixtures (weather in 2030, say) that the checks would report.
TRUNCATE seongsu.ridership_daily, seongsu.ridership_hourly, seongsu.hour_profile, seongsu.weather_daily,
  seongsu.weather_hourly, seongsu.weather_forecast, seongsu.congestion_survey, seongsu.jobs CASCADE;
DELETE FROM seongsu.holidays WHERE source <> 'seed';
SELECT seongsu.import_file('ridership_daily',
         current_setting('regress.data_dir') || '/seongsu/daily_2022-11_2025-05.csv') AS daily_rows;

-- 1. daily_2022-11_2025-05.csv alone: its gaps, computed independently from
-- the file (58 runs, 96 days), are exactly missing_days().
CREATE TEMP TABLE file_gaps (gap_from date, gap_to date, days integer);
INSERT INTO file_gaps VALUES
  ('2022-12-02', '2023-01-01', 31), ('2023-01-08', '2023-01-08', 1), ('2023-01-27', '2023-01-27', 1), ('2023-02-15', '2023-02-15', 1),
  ('2023-03-06', '2023-03-06', 1), ('2023-03-25', '2023-03-25', 1), ('2023-04-13', '2023-04-13', 1), ('2023-04-15', '2023-04-16', 2),
  ('2023-04-25', '2023-04-25', 1), ('2023-05-14', '2023-05-14', 1), ('2023-06-02', '2023-06-02', 1), ('2023-06-21', '2023-06-21', 1),
  ('2023-07-10', '2023-07-10', 1), ('2023-07-29', '2023-07-29', 1), ('2023-07-31', '2023-08-01', 2), ('2023-08-10', '2023-08-10', 1),
  ('2023-08-29', '2023-08-29', 1), ('2023-09-17', '2023-09-17', 1), ('2023-10-06', '2023-10-06', 1), ('2023-10-25', '2023-10-25', 1),
  ('2023-11-13', '2023-11-13', 1), ('2023-11-15', '2023-11-16', 2), ('2023-11-25', '2023-11-25', 1), ('2023-12-14', '2023-12-14', 1),
  ('2024-01-04', '2024-01-04', 1), ('2024-01-23', '2024-01-23', 1), ('2024-02-11', '2024-02-11', 1), ('2024-03-01', '2024-03-01', 1),
  ('2024-03-03', '2024-03-04', 2), ('2024-03-13', '2024-03-13', 1), ('2024-04-01', '2024-04-01', 1), ('2024-04-20', '2024-04-20', 1),
  ('2024-05-09', '2024-05-09', 1), ('2024-05-28', '2024-05-28', 1), ('2024-06-16', '2024-06-16', 1), ('2024-06-18', '2024-06-19', 2),
  ('2024-06-28', '2024-06-28', 1), ('2024-07-17', '2024-07-17', 1), ('2024-08-05', '2024-08-05', 1), ('2024-08-24', '2024-08-24', 1),
  ('2024-09-12', '2024-09-12', 1), ('2024-10-01', '2024-10-01', 1), ('2024-10-03', '2024-10-04', 2), ('2024-10-13', '2024-10-13', 1),
  ('2024-11-01', '2024-11-01', 1), ('2024-11-20', '2024-11-20', 1), ('2024-12-09', '2024-12-09', 1), ('2024-12-28', '2024-12-28', 1),
  ('2025-01-16', '2025-01-16', 1), ('2025-01-18', '2025-01-19', 2), ('2025-01-28', '2025-01-28', 1), ('2025-02-16', '2025-02-16', 1),
  ('2025-03-07', '2025-03-07', 1), ('2025-03-26', '2025-03-26', 1), ('2025-04-14', '2025-04-14', 1), ('2025-05-03', '2025-05-03', 1),
  ('2025-05-05', '2025-05-06', 2), ('2025-05-15', '2025-05-15', 1);
SELECT count(*) AS runs, sum(days) AS days FROM seongsu.missing_days();
(SELECT * FROM seongsu.missing_days() EXCEPT SELECT * FROM file_gaps)
UNION ALL
(SELECT * FROM file_gaps EXCEPT SELECT * FROM seongsu.missing_days());
SELECT check_name, status, observed, detail FROM seongsu.check_quality(as_of => '2025-06-03')
 WHERE check_name IN ('daily_rows', 'missing_days');
-- clipped to the arguments: only the gaps inside them
SELECT * FROM seongsu.missing_days('성수', '2', '2024-03-01', '2024-03-31');
SELECT observed, detail FROM seongsu.check_quality('성수', '2호선', '2024-03-02', '2024-03-31', '2025-06-03')
 WHERE check_name = 'missing_days';

-- 2. Every real file: the whole report.
DO $$
DECLARE
  d text := current_setting('regress.data_dir');
BEGIN
  PERFORM seongsu.import_file('card_subway_month', d || '/seongsu/card_subway_month_2015-01_2021-07.csv');
  PERFORM seongsu.import_file('card_subway_month', d || '/seongsu/card_subway_month_2022-2024_selected_months.csv');
  PERFORM seongsu.import_file('card_subway_time', d || '/seongsu/card_subway_time_2022-2024.csv');
  PERFORM seongsu.import_file('seoulmetro_hourly', d || '/seongsu/seoulmetro_hourly_2023-01_2023-04.csv');
  PERFORM seongsu.import_file('ridership_hourly', d || '/seongsu/hourly_total_2011-2014.csv');
  PERFORM seongsu.import_file('congestion_survey', d || '/seongsu/congestion_seoulmetro_211_2015-2024.csv');
  PERFORM seongsu.import_file('kma_daily', d || '/weather/kma_daily_temp_108_2011-01_2021-03.csv');
  PERFORM seongsu.import_file('kma_daily', d || '/weather/kma_daily_108_2024.csv');
  PERFORM seongsu.import_file('openmeteo_daily', d || '/weather/openmeteo_daily_seongsu_2022-11_2025-05.csv');
  PERFORM seongsu.import_file('kasi_holidays', format('%s/holidays/kasi_getRestDeInfo/%s/%s.json', d, y, lpad(m::text, 2, '0')))
     FROM generate_series(2004, 2027) y, generate_series(1, 12) m;
END
$$;
SELECT * FROM seongsu.check_quality(as_of => '2025-06-03');
-- COVID-19: the first level shift is a drop in March 2020.
SELECT substring(detail FROM 'the first from ([0-9-]+)')::date AS first_shift,
       substring(detail FROM 'the first from ([0-9-]+)')::date BETWEEN '2020-02-01' AND '2020-03-31' AS covid_found
  FROM seongsu.check_quality(as_of => '2025-06-03') WHERE check_name = 'level_shift';
-- The same report whatever the session's TimeZone.
SET TimeZone = 'America/New_York';
SELECT md5(string_agg(q::text, '|')) AS ny FROM seongsu.check_quality(as_of => '2025-06-03') q \gset
SET TimeZone = 'Asia/Seoul';
SELECT md5(string_agg(q::text, '|')) = :'ny' AS same_in_seoul FROM seongsu.check_quality(as_of => '2025-06-03') q;
RESET TimeZone;
-- The gate passes on the real data.
SELECT seongsu.assert_quality(as_of => '2025-06-03') AS gate;

-- 3. Injected problems, rolled back afterwards.
BEGIN;
UPDATE seongsu.ridership_daily SET boardings = 0 WHERE day = '2024-03-05';           -- a Tuesday
UPDATE seongsu.ridership_daily SET alightings = 2000000 WHERE day = '2024-03-06';
UPDATE seongsu.ridership_daily SET boardings = boardings / 2 WHERE day = '2023-02-14';  -- CARD vs Seoul Metro
DELETE FROM seongsu.ridership_daily WHERE day BETWEEN '2019-06-01' AND '2019-06-30';  -- a missing month
DELETE FROM seongsu.ridership_hourly WHERE ts IN ('2023-02-01 05:00+09', '2023-02-01 06:00+09');
DELETE FROM seongsu.weather_daily WHERE source = 'kma:108' AND day < '2016-01-01';
SELECT check_name, severity, status, observed, detail FROM seongsu.check_quality(as_of => '2025-06-03')
 WHERE status <> 'pass' AND check_name NOT LIKE 'staleness:%' AND check_name NOT IN ('outliers', 'level_shift');
SELECT check_name, observed, substring(detail FROM 'worst: ([0-9-]+ [0-9,]+)') AS worst
  FROM seongsu.check_quality(as_of => '2025-06-03') WHERE check_name = 'outliers';
-- The gate: an error with every failed check in DETAIL, or a warning with force.
SAVEPOINT gate;
SELECT seongsu.assert_quality(as_of => '2025-06-03');
ROLLBACK TO gate;
DO $$
BEGIN
  PERFORM seongsu.assert_quality(as_of => '2025-06-03');
EXCEPTION WHEN SQLSTATE 'SSQ01' THEN
  RAISE WARNING 'caught SQLSTATE %', SQLSTATE;
END
$$;
SELECT seongsu.assert_quality(as_of => '2025-06-03', force => true) AS forced;
-- only the range asked about counts
SELECT seongsu.assert_quality(from_date => '2015-01-01', to_date => '2020-12-31', as_of => '2025-06-03') AS gate_2015_2020;
ROLLBACK;

-- Staleness and the holiday horizon depend on as_of: KASI data end in 2027,
-- so from 2027-10-03 on fewer than 90 days of holiday calendar remain.
SELECT q.as_of, c.check_name, c.status, c.observed, c.detail
  FROM (VALUES (date '2025-06-03'), ('2027-10-02'), ('2027-10-03'), ('2030-01-01')) q(as_of),
       seongsu.check_quality(as_of => q.as_of) c
 WHERE c.check_name IN ('holiday_horizon', 'staleness:seoul_daily')
 ORDER BY q.as_of, c.check_name;
-- Ridership dated after as_of is impossible.
SELECT status, observed, detail FROM seongsu.check_quality(as_of => '2025-05-29') WHERE check_name = 'impossible_values';

-- 4. Arguments.
SELECT count(*) AS same_with_line_2 FROM seongsu.check_quality('성수', '2', as_of => '2025-06-03');
SELECT * FROM seongsu.check_quality('없는역');
SELECT * FROM seongsu.check_quality(from_date => '2024-02-01', to_date => '2024-01-01');
SELECT check_name, status, observed, detail FROM seongsu.check_quality(from_date => '2010-01-01', to_date => '2010-12-31', as_of => '2025-06-03')
 WHERE check_name IN ('daily_rows', 'missing_days', 'weather_coverage');
SELECT seongsu.assert_quality(from_date => '2010-01-01', to_date => '2010-12-31', as_of => '2025-06-03');

-- 5. Profiles of seongsu.features: one row per numeric or boolean column,
-- in column order, with the same numbers as a direct computation.
CREATE TEMP VIEW feature_columns AS
  SELECT a.name, a.ord
    FROM pg_proc p, unnest(p.proallargtypes, p.proargmodes::text[], p.proargnames) WITH ORDINALITY a(t, m, name, ord)
   WHERE p.oid = 'seongsu.features(text, text, timestamptz, timestamptz, text, interval)'::regprocedure
     AND a.m = 't' AND a.t IN ('integer'::regtype, 'bigint'::regtype, 'smallint'::regtype, 'real'::regtype,
                               'double precision'::regtype, 'numeric'::regtype, 'boolean'::regtype);
SELECT (SELECT array_agg(feature) FROM seongsu.profile(from_date => '2024-01-01', to_date => '2024-12-31'))
       = (SELECT array_agg(name ORDER BY ord) FROM feature_columns) AS daily_columns,
       (SELECT array_agg(feature) FROM seongsu.profile(from_date => '2023-01-01', to_date => '2023-01-07', grain => 'hourly'))
       = (SELECT array_agg(name ORDER BY ord) FROM feature_columns) AS hourly_columns;
SELECT p.n = f.n AS n, p.nulls = f.nulls AS nulls, p.min = f.lo AND p.max = f.hi AS min_max,
       abs(p.mean - f.mu) < 1e-6 AS mean, abs(p.std - f.sd) < 1e-6 AS std, p.p50 = f.med AS median,
       p.pearson_r = 1 AND p.spearman_r = 1 AS self_correlation
  FROM seongsu.profile(from_date => '2024-01-01', to_date => '2024-12-31') p,
       (SELECT count(target) AS n, count(*) - count(target) AS nulls, min(target) AS lo, max(target) AS hi,
               avg(target) AS mu, stddev_samp(target) AS sd, percentile_cont(0.5) WITHIN GROUP (ORDER BY target) AS med
          FROM seongsu.features('성수', '2호선', '2024-01-01 00:00+09', '2024-12-31 00:00+09', 'daily', '1 day')) f
 WHERE p.feature = 'target';
SELECT * FROM seongsu.profile(grain => 'weekly');
-- a boolean as 0/1; Spearman with ties = Pearson on average ranks
SELECT abs(p.mean - m.m) < 1e-9 AS boolean_mean, abs(p.pearson_r - f.r) < 1e-9 AS pearson,
       abs(p.spearman_r - f.rho) < 1e-9 AS spearman
  FROM seongsu.profile(from_date => '2024-01-01', to_date => '2024-12-31') p,
       (SELECT avg(is_weekend::integer) AS m
          FROM seongsu.features('성수', '2호선', '2024-01-01 00:00+09', '2024-12-31 00:00+09', 'daily', '1 day')) m,
       (SELECT corr(w, target) AS r, corr(rw, rt) AS rho
          FROM (SELECT w, target, avg(rn) OVER (PARTITION BY w) AS rw, avg(rn2) OVER (PARTITION BY target) AS rt
                  FROM (SELECT is_weekend::integer AS w, target, row_number() OVER (ORDER BY is_weekend) AS rn,
                               row_number() OVER (ORDER BY target) AS rn2
                          FROM seongsu.features('성수', '2호선', '2024-01-01 00:00+09', '2024-12-31 00:00+09', 'daily', '1 day')
                         WHERE target IS NOT NULL) x) y) f
 WHERE p.feature = 'is_weekend';

-- 6. Pictures.
SELECT seongsu.sparkline('{1,2,3,4,5,6,7,8}') AS ramp,
       seongsu.sparkline('{8,NULL,1,NaN,4.5}') AS gaps,
       seongsu.sparkline('{5,5,5}') AS flat,
       seongsu.sparkline('{}') AS empty,
       seongsu.sparkline('{1,1,2,2,3,3,4,4,5,5,6,6,7,7,8,8}', 8) AS averaged,
       seongsu.sparkline('{1,3,2,4}', 2) AS pairs;
SELECT seongsu.sparkline_agg(x ORDER BY x DESC) AS agg FROM generate_series(1, 8) x;
SELECT * FROM seongsu.histogram('{1,2,2,3,3,3,4,4,4,4}', 4, 8);
SELECT * FROM seongsu.histogram('{0,1,10,10,10,10,10,10,10,10,10,10,10,10,10,10,10,10,10,10}', 2, 3);
SELECT * FROM seongsu.histogram('{7,7,NULL}', 5, 4);
SELECT count(*) AS no_buckets FROM seongsu.histogram('{NULL}');
SELECT seongsu.daily_sparkline(from_date => '2024-03-01', to_date => '2024-03-14') AS two_weeks;
SELECT length(seongsu.daily_sparkline(from_date => '2015-01-01', to_date => '2025-05-31')) AS weekly_width,
       seongsu.daily_sparkline(from_date => '2015-01-01', to_date => '2025-05-31', width => 40) AS decade;
SELECT seongsu.hourly_profile_sparkline(from_date => '2023-01-01', to_date => '2023-04-30') AS seoulmetro_2023,
       seongsu.hourly_profile_sparkline(from_date => '2020-01-01', to_date => '2020-12-31') IS NULL AS no_hours_2020;
SELECT seongsu.sparkline('{1}', 0);
SELECT seongsu.sparkline('{1}', 1001);
SELECT * FROM seongsu.histogram('{1}', 0);
SELECT * FROM seongsu.histogram('{1}', 10, -1);
SELECT seongsu.daily_sparkline(width => 5000);

-- 7. Privileges: readers may run everything here, PUBLIC nothing.
CREATE ROLE seongsu_test_quality_reader IN ROLE seongsu_reader;
CREATE ROLE seongsu_test_quality_nobody;
SELECT has_function_privilege('seongsu_test_quality_nobody', 'seongsu.check_quality(text, text, date, date, date)', 'EXECUTE') AS public_may_check,
       has_function_privilege('seongsu_test_quality_nobody', 'seongsu.sparkline(double precision[], integer)', 'EXECUTE') AS public_may_draw;
SET ROLE seongsu_test_quality_reader;
SELECT count(*) AS reader_checks FROM seongsu.check_quality(as_of => '2025-06-03');
SELECT seongsu.assert_quality(as_of => '2025-06-03') AS reader_gate, seongsu.sparkline_agg(x) AS reader_agg
  FROM unnest('{1,2}'::float8[]) x;
RESET ROLE;
DROP ROLE seongsu_test_quality_reader;
DROP ROLE seongsu_test_quality_nobody;

-- 8. One function per check: seongsu.quality_checks() lists them in the
-- order of the report, each a function (quality_target) RETURNS SETOF
-- quality_result, and every function of that shape is in the list.
SELECT x.k, x.f AS check_function,
       p.pronargs = 1 AND p.proargtypes[0] = 'seongsu.quality_target'::regtype
         AND p.prorettype = 'seongsu.quality_result'::regtype AND p.proretset AS shape
  FROM unnest(seongsu.quality_checks()) WITH ORDINALITY x(f, k) JOIN pg_proc p ON p.oid = x.f
 ORDER BY x.k;
SELECT p.oid::regprocedure AS unlisted_check
  FROM pg_proc p
 WHERE p.pronamespace = 'seongsu'::regnamespace AND p.prorettype = 'seongsu.quality_result'::regtype AND p.proretset
   AND p.oid <> ALL (seongsu.quality_checks()::oid[]);
-- Each called on its own with make_quality_target(check_quality's
-- arguments): its rows, in the list's order, are check_quality's rows.
CREATE FUNCTION pg_temp.each_check(station text, line text, from_date date, to_date date, as_of date)
  RETURNS TABLE (check_function regproc, r seongsu.quality_result)
  LANGUAGE plpgsql AS $$
DECLARE
  t seongsu.quality_target := seongsu.make_quality_target(station, line, from_date, to_date, as_of);
  f regproc;
BEGIN
  FOREACH f IN ARRAY seongsu.quality_checks() LOOP
    RETURN QUERY EXECUTE format('SELECT $2, q FROM %s($1) q', f) USING t, f;
  END LOOP;
END $$;
CREATE TEMP VIEW quality_targets AS
  SELECT * FROM (VALUES ('성수', '2호선', NULL::date, NULL::date, date '2025-06-03'),
                        ('성수', '2', '2024-03-02', '2024-03-31', '2025-06-03'),
                        ('성수', '2호선', '2010-01-01', '2010-12-31', '2025-06-03'),
                        ('성수', '2호선', '2023-01-01', NULL, '2025-05-29'),
                        ('성수', '02', NULL, '2019-12-31', '2030-01-01')) v(station, line, from_date, to_date, as_of);
CREATE TEMP VIEW one_by_one AS
  SELECT v.*, (SELECT count(*) FROM seongsu.check_quality(v.station, v.line, v.from_date, v.to_date, v.as_of)) AS report_rows,
         (SELECT string_agg(ROW(q.check_name, q.severity, q.status, q.observed, q.expected, q.detail)::seongsu.quality_result::text,
                            E'\n' ORDER BY q.n)
            FROM seongsu.check_quality(v.station, v.line, v.from_date, v.to_date, v.as_of) WITH ORDINALITY
                 q(check_name, severity, status, observed, expected, detail, n))
         IS NOT DISTINCT FROM
         (SELECT string_agg(e.r::text, E'\n' ORDER BY e.n)
            FROM pg_temp.each_check(v.station, v.line, v.from_date, v.to_date, v.as_of) WITH ORDINALITY e(f, r, n)) AS same_rows
    FROM quality_targets v;
SELECT * FROM one_by_one;
SELECT e.check_function, string_agg((e.r).check_name, ', ' ORDER BY e.n) AS check_names
  FROM pg_temp.each_check('성수', '2호선', NULL, NULL, '2025-06-03') WITH ORDINALITY e(check_function, r, n)
 GROUP BY e.check_function ORDER BY min(e.n);
-- and with the injected problems of 3
BEGIN;
UPDATE seongsu.ridership_daily SET boardings = 0 WHERE day = '2024-03-05';
UPDATE seongsu.ridership_daily SET alightings = 2000000 WHERE day = '2024-03-06';
UPDATE seongsu.ridership_daily SET boardings = boardings / 2 WHERE day = '2023-02-14';
DELETE FROM seongsu.ridership_daily WHERE day BETWEEN '2019-06-01' AND '2019-06-30';
DELETE FROM seongsu.ridership_hourly WHERE ts IN ('2023-02-01 05:00+09', '2023-02-01 06:00+09');
DELETE FROM seongsu.weather_daily WHERE source = 'kma:108' AND day < '2016-01-01';
DELETE FROM seongsu.holidays WHERE day BETWEEN '2016-01-01' AND '2016-12-31';
SELECT station, line, from_date, to_date, as_of, same_rows FROM one_by_one;
ROLLBACK;
-- One check by hand, and make_quality_target's target and errors.
SELECT * FROM seongsu.quality_holiday_horizon(seongsu.make_quality_target(as_of => '2027-10-03'));
SELECT * FROM seongsu.make_quality_target('성수', '2', '2024-03-02', NULL, '2025-06-03');
SELECT (seongsu.make_quality_target()).today = (now() AT TIME ZONE 'Asia/Seoul')::date AS today_in_seoul;
SELECT seongsu.make_quality_target('없는역');
SELECT seongsu.make_quality_target(from_date => '2024-02-01', to_date => '2024-01-01');
-- Readers may run a check on its own; PUBLIC may not, nor use the types.
CREATE ROLE seongsu_test_quality_reader IN ROLE seongsu_reader;
CREATE ROLE seongsu_test_quality_nobody;
SELECT has_function_privilege('seongsu_test_quality_nobody', 'seongsu.quality_outliers(seongsu.quality_target)', 'EXECUTE') AS public_may_check_one,
       has_function_privilege('seongsu_test_quality_nobody', 'seongsu.make_quality_target(text, text, date, date, date)', 'EXECUTE') AS public_may_target,
       has_type_privilege('seongsu_test_quality_nobody', 'seongsu.quality_target', 'USAGE') AS public_may_use_target,
       has_type_privilege('seongsu_test_quality_nobody', 'seongsu.quality_result', 'USAGE') AS public_may_use_result;
SET ROLE seongsu_test_quality_reader;
SELECT check_name, status, observed FROM seongsu.quality_outliers(seongsu.make_quality_target(as_of => '2025-06-03'));
RESET ROLE;
DROP ROLE seongsu_test_quality_reader;
DROP ROLE seongsu_test_quality_nobody;
