-- Import every real published file of ../shared/data (staged by test/check.sh
-- at regress.data_dir) and check counts and spot values.
SELECT current_setting('regress.data_dir') AS d \gset
SET client_min_messages = warning;

SELECT seongsu.import_file('card_subway_month', :'d' || '/seongsu/card_subway_month_2015-01_2021-07.csv') AS card_2015_2021;
SELECT seongsu.import_file('card_subway_month', :'d' || '/seongsu/card_subway_month_2022-2024_selected_months.csv') AS card_2022_2024;
SELECT seongsu.import_file('ridership_daily', :'d' || '/seongsu/daily_2022-11_2025-05.csv') AS daily_2022_2025;
SELECT seongsu.import_file('card_subway_time', :'d' || '/seongsu/card_subway_time_2022-2024.csv') AS card_time;
SELECT seongsu.import_file('seoulmetro_hourly', :'d' || '/seongsu/seoulmetro_hourly_2023-01_2023-04.csv') AS seoulmetro;
SELECT seongsu.import_file('ridership_hourly', :'d' || '/seongsu/hourly_total_2011-2014.csv') AS hourly_2011_2014;
SELECT seongsu.import_file('congestion_survey', :'d' || '/seongsu/congestion_seoulmetro_211_2015-2024.csv') AS congestion;
SELECT seongsu.import_file('kma_daily', :'d' || '/weather/kma_daily_temp_108_2011-01_2021-03.csv') AS kma_2011_2021;
SELECT seongsu.import_file('kma_daily', :'d' || '/weather/kma_daily_108_2024.csv') AS kma_2024;
SELECT seongsu.import_file('openmeteo_daily', :'d' || '/weather/openmeteo_daily_seongsu_2022-11_2025-05.csv') AS openmeteo;

-- every KASI month, 2004-01 .. 2027-12
SELECT sum(seongsu.import_file('kasi_holidays', format('%s/holidays/kasi_getRestDeInfo/%s/%s.json', :'d', y, lpad(m::text, 2, '0')))) AS kasi_rows
FROM generate_series(2004, 2027) y, generate_series(1, 12) m;

-- The facts the foundation issue asks for.
SELECT count(DISTINCT day) AS seongsu_days, min(day), max(day)
FROM seongsu.ridership_daily r JOIN seongsu.stations s ON s.id = r.station_id
WHERE s.line = '2호선' AND s.name = '성수';
SELECT boardings, alightings, passengers, source, registered_on
FROM seongsu.ridership_daily r JOIN seongsu.stations s ON s.id = r.station_id
WHERE s.name = '성수' AND day = '2015-01-01';
SELECT passengers, boardings, alightings, service_day, source
FROM seongsu.ridership_hourly h JOIN seongsu.stations s ON s.id = h.station_id
WHERE s.name = '성수' AND ts = '2011-01-03 08:00+09';
SELECT boardings, alightings, passengers, service_day
FROM seongsu.ridership_hourly h JOIN seongsu.stations s ON s.id = h.station_id
WHERE s.name = '성수' AND ts = '2023-01-01 08:00+09';

-- Late-night hours belong to the previous service day.
SELECT to_char(ts AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD HH24:MI') AS kst, service_day, passengers
FROM seongsu.ridership_hourly h JOIN seongsu.stations s ON s.id = h.station_id
WHERE s.name = '성수' AND service_day = '2014-12-31' AND source = 'ridership_hourly'
  AND extract(hour FROM ts AT TIME ZONE 'Asia/Seoul') < 6
ORDER BY ts;
-- Seoul Metro: 06시 이전 is the 05:00 slot, 24시 이후 the next day's 00:00 slot.
SELECT to_char(ts AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD HH24:MI') AS kst, boardings, alightings
FROM seongsu.ridership_hourly h JOIN seongsu.stations s ON s.id = h.station_id
WHERE s.name = '성수' AND service_day = '2023-01-01' AND source = 'seoulmetro_hourly'
  AND extract(hour FROM ts AT TIME ZONE 'Asia/Seoul') NOT BETWEEN 6 AND 22
ORDER BY ts;
-- Seoul Metro daily sums equal the file's 합 계 column (12778 / 13719 on 2023-01-01).
SELECT sum(boardings) AS on_total, sum(alightings) AS off_total
FROM seongsu.ridership_hourly WHERE service_day = '2023-01-01' AND source = 'seoulmetro_hourly';
SELECT s.metro_code FROM seongsu.stations s WHERE s.line = '2호선' AND s.name = '성수';

-- Per-table rows and ranges.
SELECT 'ridership_hourly' AS t, count(*), min(service_day)::text, max(service_day)::text FROM seongsu.ridership_hourly
UNION ALL SELECT 'hour_profile', count(*), min(month)::text, max(month)::text FROM seongsu.hour_profile
UNION ALL SELECT 'weather_daily', count(*), min(day)::text, max(day)::text FROM seongsu.weather_daily
UNION ALL SELECT 'holidays', count(*), min(day)::text, max(day)::text FROM seongsu.holidays
UNION ALL SELECT 'congestion_survey', count(*), min(survey), max(survey) FROM seongsu.congestion_survey
ORDER BY 1;
SELECT source, count(*) FROM seongsu.weather_daily GROUP BY 1 ORDER BY 1;
SELECT hour, boardings, alightings FROM seongsu.hour_profile
WHERE month = '2022-01-01' AND hour IN (0, 4, 8, 18) ORDER BY hour;

-- KASI quirks: list, single object and "" items; 2017-10-03 twice; the seeded 2015-08-14.
SELECT day, name, kind, source FROM seongsu.holidays
WHERE day IN ('2015-08-14', '2017-10-03', '2024-02-12', '2024-03-01') ORDER BY day, name;
SELECT count(*) FROM seongsu.holidays WHERE day BETWEEN '2024-11-01' AND '2024-11-30';
SELECT kind, count(*) FROM seongsu.holidays GROUP BY 1 ORDER BY 1;

-- Idempotent: importing the same files again changes nothing.
SELECT seongsu.import_file('card_subway_month', :'d' || '/seongsu/card_subway_month_2015-01_2021-07.csv') AS again_card,
       seongsu.import_file('ridership_daily', :'d' || '/seongsu/daily_2022-11_2025-05.csv') AS again_daily,
       seongsu.import_file('ridership_hourly', :'d' || '/seongsu/hourly_total_2011-2014.csv') AS again_hourly,
       seongsu.import_file('kasi_holidays', :'d' || '/holidays/kasi_getRestDeInfo/2024/02.json') AS again_kasi;
