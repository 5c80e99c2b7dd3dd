-- Data quality: the checks on the core fixtures and on problems injected
-- into them, the gate, feature profiles and the text pictures.  "Today" is
-- fixed by as_of.  quality_real checks the real files (their gaps, COVID-19,
-- the end of KASI's calendar).
SET client_min_messages = warning;

-- Start from the fixtures only: other tests truncate the ridership tables
-- and add rows (weather in 2031, other stations) that the checks would report.
TRUNCATE seongsu.ridership_daily, seongsu.ridership_hourly, seongsu.hour_profile, seongsu.weather_daily,
  seongsu.weather_hourly, seongsu.weather_forecast, seongsu.congestion_survey, seongsu.jobs CASCADE;
DELETE FROM seongsu.holidays WHERE source <> 'seed';
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/test/fixtures/seongsu.sql

-- 1. Gaps: missing_days() is exactly the fixture's gaps as runs (10 days in
-- December 2022, the 15th of every month of 2023: 13 runs, 22 days).
CREATE TEMP TABLE fixture_runs AS
  SELECT min(day) AS gap_from, max(day) AS gap_to, count(*)::integer AS days
    FROM (SELECT day, day - (row_number() OVER (ORDER BY day))::integer AS grp FROM fixture_gaps) g GROUP BY grp;
SELECT count(*) AS runs, sum(days) AS days FROM seongsu.missing_days();
(SELECT * FROM seongsu.missing_days() EXCEPT SELECT * FROM fixture_runs)
UNION ALL
(SELECT * FROM fixture_runs EXCEPT SELECT * FROM seongsu.missing_days());
SELECT check_name, status, observed, detail FROM seongsu.check_quality(as_of => '2025-06-03')
 WHERE check_name IN ('daily_rows', 'missing_days');
-- clipped to the arguments: only the gaps inside them
SELECT * FROM seongsu.missing_days('성수', '2', '2023-03-01', '2023-03-31');
SELECT observed, detail FROM seongsu.check_quality('성수', '2호선', '2023-03-02', '2023-04-30', '2025-06-03')
 WHERE check_name = 'missing_days';

-- 2. The whole report on the fixtures, each observed value against its
-- recomputation from the fixture: weather from KMA up to 2023 and from
-- Open-Meteo since 2023, holidays through 2025, the last CardSubwayTime
-- month 2024-01, two surveys; no outlier, no level shift.
CREATE TEMP TABLE report AS SELECT * FROM seongsu.check_quality(as_of => '2025-06-03') WITH ORDINALITY;
CREATE TEMP TABLE recomputed (check_name text, observed numeric);
INSERT INTO recomputed VALUES
  ('daily_rows', (SELECT count(*) FROM fixture_daily)), ('missing_days', (SELECT count(*) FROM fixture_gaps)),
  ('missing_hours', 0), ('impossible_values', 0), ('source_agreement', 0), ('hourly_vs_daily', 0), ('outliers', 0),
  ('level_shift', 0), ('weather_coverage', 100.0),
  ('weather_coverage:kma:108', round(100.0 * (SELECT count(*) FROM fixture_daily WHERE day < '2024-01-01')
                                     / (SELECT count(*) FROM fixture_daily), 1)),
  ('weather_coverage:open-meteo', round(100.0 * (SELECT count(*) FROM fixture_daily WHERE day >= '2023-01-01')
                                        / (SELECT count(*) FROM fixture_daily), 1)),
  ('holiday_years', 0), ('holiday_horizon', date '2025-12-31' - date '2025-06-03'),
  ('staleness:kma_asos_hourly', NULL), ('staleness:kma_forecast', NULL), ('staleness:openmeteo_forecast', NULL),
  ('staleness:openmeteo_daily', date '2025-06-03' - date '2025-05-31'),
  ('staleness:seoul_daily', date '2025-06-03' - date '2025-05-31'),
  ('staleness:seoul_hour_profile', date '2025-06-03' - date '2024-01-31'), ('congestion_survey', 2);
SELECT r.check_name, r.severity, r.status,
       CASE WHEN c.check_name IS NOT NULL THEN r.observed IS NOT DISTINCT FROM c.observed END AS observed_ok
  FROM report r LEFT JOIN recomputed c USING (check_name) ORDER BY r.ordinality;
-- holiday_outliers counts holidays only: at most the holidays with ridership.
SELECT observed <= (SELECT count(*) FROM fixture_daily WHERE off) AS holidays_only FROM report WHERE check_name = 'holiday_outliers';
-- Details that name what they measured.
SELECT detail = format('%s days compared, CARD / Seoul Metro median %s.', count(*), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ratio)::numeric, 4))
         AS source_agreement_detail
  FROM (SELECT d.passengers::numeric / sum(h.passengers) AS ratio
          FROM seongsu.ridership_daily d JOIN seongsu.ridership_hourly h ON h.service_day = d.day AND h.source = 'seoulmetro_hourly'
         GROUP BY d.day, d.passengers) x, report WHERE check_name = 'source_agreement' GROUP BY detail;
SELECT check_name, detail FROM report WHERE check_name IN ('weather_coverage', 'holiday_horizon', 'congestion_survey') ORDER BY ordinality;
-- The same report whatever the session's TimeZone.
SET TimeZone = 'America/New_York';
SELECT md5(string_agg(q::text, '|')) AS ny FROM seongsu.check_quality(as_of => '2025-06-03') q \gset
SET TimeZone = 'Asia/Seoul';
SELECT md5(string_agg(q::text, '|')) = :'ny' AS same_in_seoul FROM seongsu.check_quality(as_of => '2025-06-03') q;
RESET TimeZone;
-- The gate passes on the fixtures.
SELECT seongsu.assert_quality(as_of => '2025-06-03') AS gate;

-- 3. Injected problems, rolled back afterwards: zero boardings on a
-- working Tuesday, 2,000,000 alightings on the Wednesday after, CARD halved
-- on a day with Seoul Metro hours, a missing month, two missing hours,
-- no KMA weather for 2020, and a 40% drop of March and April 2022.
BEGIN;
UPDATE seongsu.ridership_daily SET boardings = 0 WHERE day = '2024-03-05';
UPDATE seongsu.ridership_daily SET alightings = 2000000 WHERE day = '2024-03-06';
UPDATE seongsu.ridership_daily SET boardings = boardings / 2, alightings = alightings / 2 WHERE day = '2024-04-10';
DELETE FROM seongsu.ridership_daily WHERE day BETWEEN '2021-06-01' AND '2021-06-30';
DELETE FROM seongsu.ridership_hourly WHERE ts IN ('2024-02-01 05:00+09', '2024-02-01 06:00+09');
DELETE FROM seongsu.weather_daily WHERE source = 'kma:108' AND day < '2021-01-01';
UPDATE seongsu.ridership_daily SET boardings = round(boardings * 0.6), alightings = round(alightings * 0.6)
 WHERE day BETWEEN '2022-03-01' AND '2022-04-30';
CREATE TEMP TABLE injected AS SELECT * FROM seongsu.check_quality(as_of => '2025-06-03') WITH ORDINALITY;
SELECT check_name, severity, status, observed FROM injected
 WHERE status <> 'pass' AND check_name NOT LIKE 'staleness:%' AND check_name NOT IN ('outliers', 'level_shift')
 ORDER BY check_name;
-- (the three changed days of 2024 have Seoul Metro hours: each disagrees
-- with them) and what each names: the gaps with June 2021, the day missing
-- hours 05 and 06, the two impossible days, the halved day, the share of
-- days with weather, the worst outlier; the level shifts are the drop of
-- March 2022 and the recovery in May.
SELECT (SELECT detail LIKE '%2021-06-01..2021-06-30 (30 days)%' FROM injected WHERE check_name = 'missing_days') AS gap_named,
       (SELECT detail LIKE '%2024-02-01 (05, 06)%' FROM injected WHERE check_name = 'missing_hours') AS hours_named,
       (SELECT detail LIKE '%2024-03-06 %' AND detail LIKE '%2024-03-05 0/%' FROM injected WHERE check_name = 'impossible_values') AS days_named,
       (SELECT detail LIKE '%2024-04-10 CARD %' FROM injected WHERE check_name = 'source_agreement') AS disagreement_named,
       (SELECT observed FROM injected WHERE check_name = 'weather_coverage')
       = (SELECT round(100.0 * count(*) FILTER (WHERE day >= '2021-01-01') / count(*), 1) FROM seongsu.ridership_daily) AS weather_share,
       (SELECT substring(detail FROM 'worst: ([0-9-]+)') FROM injected WHERE check_name = 'outliers') AS worst_outlier;
SELECT observed AS episodes,
       substring(detail FROM 'the first from ([0-9-]+)')::date BETWEEN '2022-03-01' AND '2022-03-31' AS drop_in_march,
       substring(detail FROM '; (2022-[0-9-]+) jump')::date BETWEEN '2022-05-01' AND '2022-05-31' AS jump_in_may
  FROM injected WHERE check_name = 'level_shift';
-- The gate: an error (SSQ01) whose DETAIL is every failed error-severity
-- check, one a line, or a warning with force.
SAVEPOINT gate;
\set VERBOSITY terse
SELECT seongsu.assert_quality(as_of => '2025-06-03');
ROLLBACK TO gate;
DO $$
DECLARE
  d text;
BEGIN
  PERFORM seongsu.assert_quality(as_of => '2025-06-03');
EXCEPTION WHEN SQLSTATE 'SSQ01' THEN
  GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
  RAISE WARNING 'caught SQLSTATE %; DETAIL lists the failed checks: %', SQLSTATE,
    d = (SELECT string_agg(format('%s: observed %s, expected %s. %s', check_name, observed, expected, detail), E'\n' ORDER BY ordinality)
           FROM injected WHERE severity = 'error' AND status = 'fail');
END
$$;
SELECT seongsu.assert_quality(as_of => '2025-06-03', force => true) AS forced;
\set VERBOSITY default
-- only the range asked about counts
SELECT seongsu.assert_quality(from_date => '2020-01-01', to_date => '2023-12-31', as_of => '2025-06-03') AS gate_2020_2023;
ROLLBACK;

-- Staleness and the holiday horizon depend on as_of: the holidays end in
-- 2025, so from 2025-10-03 on fewer than 90 days of holiday calendar remain;
-- the ridership ends 2025-05-31, 4 days late from 2025-06-05 on.
SELECT q.as_of, c.check_name, c.status, c.observed, c.detail
  FROM (VALUES (date '2025-06-03'), ('2025-06-05'), ('2025-10-02'), ('2025-10-03'), ('2026-01-01')) q(as_of),
       seongsu.check_quality(as_of => q.as_of) c
 WHERE c.check_name IN ('holiday_horizon', 'staleness:seoul_daily')
 ORDER BY q.as_of, c.check_name;
-- Ridership dated after as_of is impossible.
SELECT status, observed, detail FROM seongsu.check_quality(as_of => '2025-05-29') WHERE check_name = 'impossible_values';

-- 4. Arguments.
SELECT (SELECT array_agg(q ORDER BY q::text) FROM seongsu.check_quality('성수', '2', as_of => '2025-06-03') q)
       = (SELECT array_agg(q ORDER BY q::text) FROM seongsu.check_quality('성수', '2호선', as_of => '2025-06-03') q) AS same_with_line_2;
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
       (SELECT array_agg(feature) FROM seongsu.profile(from_date => '2024-02-01', to_date => '2024-02-07', grain => 'hourly'))
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
-- The station's pictures are sparkline() of the same numbers: days, ISO-week
-- means when there are more days than the width, the mean of each hour.
SELECT seongsu.daily_sparkline(from_date => '2024-03-01', to_date => '2024-03-14') AS two_weeks,
       seongsu.daily_sparkline(from_date => '2024-03-01', to_date => '2024-03-14')
       = seongsu.sparkline(ARRAY(SELECT passengers::float8 FROM seongsu.ridership_daily
                                  WHERE day BETWEEN '2024-03-01' AND '2024-03-14' ORDER BY day)) AS of_the_days;
SELECT length(seongsu.daily_sparkline(from_date => '2020-01-01', to_date => '2025-05-31')) AS weekly_width,
       seongsu.daily_sparkline(from_date => '2020-01-01', to_date => '2025-05-31', width => 40)
       = seongsu.sparkline(ARRAY(SELECT avg(d.passengers)::float8
                                   FROM generate_series(timestamp '2020-01-01', '2025-05-31', '1 day') c(day)
                                   LEFT JOIN seongsu.ridership_daily d ON d.day = c.day::date
                                  GROUP BY date_trunc('week', c.day) ORDER BY date_trunc('week', c.day)), 40) AS of_the_weeks;
SELECT seongsu.hourly_profile_sparkline(from_date => '2024-02-01', to_date => '2024-04-30') AS seoulmetro_2024,
       seongsu.hourly_profile_sparkline(from_date => '2024-02-01', to_date => '2024-04-30')
       = seongsu.sparkline(ARRAY(SELECT avg(h.passengers)::float8 FROM generate_series(0, 23) hr
                                   LEFT JOIN seongsu.ridership_hourly h ON extract(hour FROM h.ts AT TIME ZONE 'Asia/Seoul') = hr
                                    AND h.service_day BETWEEN '2024-02-01' AND '2024-04-30'
                                  GROUP BY hr ORDER BY hr), 24) AS of_the_hours,
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
                        ('성수', '02', NULL, '2021-12-31', '2030-01-01')) v(station, line, from_date, to_date, as_of);
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
-- and with the injected problems of 3 (and a year without holidays)
BEGIN;
UPDATE seongsu.ridership_daily SET boardings = 0 WHERE day = '2024-03-05';
UPDATE seongsu.ridership_daily SET alightings = 2000000 WHERE day = '2024-03-06';
UPDATE seongsu.ridership_daily SET boardings = boardings / 2, alightings = alightings / 2 WHERE day = '2024-04-10';
DELETE FROM seongsu.ridership_daily WHERE day BETWEEN '2021-06-01' AND '2021-06-30';
DELETE FROM seongsu.ridership_hourly WHERE ts IN ('2024-02-01 05:00+09', '2024-02-01 06:00+09');
DELETE FROM seongsu.weather_daily WHERE source = 'kma:108' AND day < '2021-01-01';
UPDATE seongsu.ridership_daily SET boardings = round(boardings * 0.6), alightings = round(alightings * 0.6)
 WHERE day BETWEEN '2022-03-01' AND '2022-04-30';
DELETE FROM seongsu.holidays WHERE day BETWEEN '2021-01-01' AND '2021-12-31';
SELECT station, line, from_date, to_date, as_of, same_rows FROM one_by_one;
ROLLBACK;
-- One check by hand, and make_quality_target's target and errors.
SELECT * FROM seongsu.quality_holiday_horizon(seongsu.make_quality_target(as_of => '2025-10-03'));
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
SELECT string_agg(format('%s %s %s', check_name, status, observed), '; ' ORDER BY check_name) AS outliers_in_report
  FROM report WHERE check_name IN ('outliers', 'holiday_outliers') \gset
SET ROLE seongsu_test_quality_reader;
SELECT count(*) AS rows,
       string_agg(format('%s %s %s', check_name, status, observed), '; ' ORDER BY check_name) = :'outliers_in_report' AS as_in_the_report
  FROM seongsu.quality_outliers(seongsu.make_quality_target(as_of => '2025-06-03'));
RESET ROLE;
DROP ROLE seongsu_test_quality_reader;
DROP ROLE seongsu_test_quality_nobody;
