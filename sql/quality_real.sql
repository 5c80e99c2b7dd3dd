-- Data quality on the real files (../shared/data, staged by test/check.sh
-- and passed as regress.data_dir): the gaps of daily_2022-11_2025-05.csv,
-- the whole report, COVID-19 found as a level shift, the gate passing, and
-- the end of KASI's calendar (2027).  quality.sql checks the same functions
-- on the core fixtures.
SET client_min_messages = warning;
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

-- Staleness and the holiday horizon depend on as_of: KASI data end in 2027,
-- so from 2027-10-03 on fewer than 90 days of holiday calendar remain.
SELECT q.as_of, c.check_name, c.status, c.observed, c.detail
  FROM (VALUES (date '2025-06-03'), ('2027-10-02'), ('2027-10-03'), ('2030-01-01')) q(as_of),
       seongsu.check_quality(as_of => q.as_of) c
 WHERE c.check_name IN ('holiday_horizon', 'staleness:seoul_daily')
 ORDER BY q.as_of, c.check_name;
