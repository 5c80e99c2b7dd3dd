-- Bad input: a clear error naming line, column and value, and no row written.
SET client_min_messages = warning;
TRUNCATE seongsu.ridership_daily, seongsu.ridership_hourly CASCADE;
\set VERBOSITY default

-- unknown kind
SELECT seongsu.import_text('card_subway_year', 'x');
-- empty input and a header without the needed columns
SELECT seongsu.import_text('card_subway_month', '');
SELECT seongsu.import_text('card_subway_month', E'a,b,c\n1,2,3\n');
-- one bad line among good ones writes nothing
SELECT seongsu.import_text('card_subway_month',
E'사용일자,노선명,역명,승차총승객수,하차총승객수,등록일자\n20210701,2호선,성수,1,2,20210704\n20210702,2호선,성수,abc,2,20210704\n');
SELECT count(*) AS rows_after_bad_file FROM seongsu.ridership_daily;
-- fractional, negative, too large counts
SELECT seongsu.import_text('ridership_daily', E'date,line,station,boardings,alightings\n2024-01-02,2호선,성수,12.5,1\n');
SELECT seongsu.import_text('ridership_daily', E'date,line,station,boardings,alightings\n2024-01-02,2호선,성수,-3,1\n');
SELECT seongsu.import_text('ridership_daily', E'date,line,station,boardings,alightings\n2024-01-02,2호선,성수,99999999999,1\n');
-- impossible dates
SELECT seongsu.import_text('ridership_daily', E'date,line,station,boardings,alightings\n2023-02-29,2호선,성수,1,1\n');
SELECT seongsu.import_text('card_subway_month', E'사용일자,노선명,역명,승차총승객수,하차총승객수,등록일자\n2021070,2호선,성수,1,1,20210704\n');
-- short line, unterminated quote, empty station
SELECT seongsu.import_text('ridership_daily', E'date,line,station,boardings,alightings\n2024-01-02,2호선,성수,1\n');
SELECT seongsu.import_text('ridership_daily', E'date,line,station,boardings,alightings\n2024-01-02,"2호선,성수,1,1\n');
SELECT seongsu.import_text('ridership_daily', E'date,line,station,boardings,alightings\n2024-01-02,2호선,,1,1\n');
-- hourly: hour out of range, passengers that disagree with boardings + alightings
SELECT seongsu.import_text('ridership_hourly', E'service_date,line,station,hour,passengers\n2024-01-02,2호선,성수,24,1\n');
SELECT seongsu.import_text('ridership_hourly', E'service_date,line,station,hour,passengers,boardings,alightings\n2024-01-02,2호선,성수,8,10,4,5\n');
-- Seoul Metro: 합 계 that does not match, a 승차 row without its 하차 row, a bad 구분
SELECT seongsu.import_text('seoulmetro_hourly', E'날짜,호선,역번호,역명,구분,06시 이전,06 ~ 07,07 ~ 08,08 ~ 09,09 ~ 10,10 ~ 11,11 ~ 12,12 ~ 13,13 ~ 14,14 ~ 15,15 ~ 16,16 ~ 17,17 ~ 18,18 ~ 19,19 ~ 20,20 ~ 21,21 ~ 22,22 ~ 23,23 ~ 24,24시 이후,합 계\n2023-01-01,2호선,211,성수,승차,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,21\n');
SELECT seongsu.import_text('seoulmetro_hourly', E'날짜,호선,역번호,역명,구분,06시 이전,06 ~ 07,07 ~ 08,08 ~ 09,09 ~ 10,10 ~ 11,11 ~ 12,12 ~ 13,13 ~ 14,14 ~ 15,15 ~ 16,16 ~ 17,17 ~ 18,18 ~ 19,19 ~ 20,20 ~ 21,21 ~ 22,22 ~ 23,23 ~ 24,24시 이후,합 계\n2023-01-01,2호선,211,성수,승차,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,20\n');
SELECT seongsu.import_text('seoulmetro_hourly', E'날짜,호선,역번호,역명,구분,06시 이전,06 ~ 07,07 ~ 08,08 ~ 09,09 ~ 10,10 ~ 11,11 ~ 12,12 ~ 13,13 ~ 14,14 ~ 15,15 ~ 16,16 ~ 17,17 ~ 18,18 ~ 19,19 ~ 20,20 ~ 21,21 ~ 22,22 ~ 23,23 ~ 24,24시 이후,합 계\n2023-01-01,2호선,211,성수,환승,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,20\n');
SELECT count(*) AS hourly_rows FROM seongsu.ridership_hourly;
-- KASI: not JSON, truncated JSON, an error envelope
SELECT seongsu.import_text('kasi_holidays', 'hello');
SELECT seongsu.import_text('kasi_holidays', '{"response":{"header":{"resultCode":"00"');
SELECT seongsu.import_text('kasi_holidays', '{"response":{"header":{"resultCode":"30","resultMsg":"SERVICE_KEY_IS_NOT_REGISTERED_ERROR"}}}');
-- congestion: bad day type, bad slot
SELECT seongsu.import_text('congestion_survey', E'survey,day_type,line,station_code,station,direction,slot_start,congestion_pct\n2015,월요일,2,211,성수(2),내선,05:00,11\n');
SELECT seongsu.import_text('congestion_survey', E'survey,day_type,line,station_code,station,direction,slot_start,congestion_pct\n2015,평일,2,211,성수(2),내선,5시,11\n');
-- KMA: bad temperature value
SELECT seongsu.import_text('kma_daily', E'날짜,지점,평균기온(℃),최저기온(℃),최고기온(℃)\n2011-01-01,108,warm,-10.4,-2.9\n');

-- Inputs the import fuzz harnesses found (test/fuzz/import_tests.c has them
-- all): each is refused by the parser with its SQLSTATE and the line, not by
-- the INSERT.  The errors as rows: SQLSTATE, message, detail.
CREATE FUNCTION pg_temp.import_error(kind text, body text)
RETURNS TABLE (code text, message text, detail text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM seongsu.import_text(kind, body);
  code := '00000';
  RETURN NEXT;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
  RETURN NEXT;
END
$$;
-- a congestion slot with a long run of digits (overflowed int in the parser)
SELECT * FROM pg_temp.import_error('congestion_survey', E'survey,day_type,line,station_code,station,direction,slot_start,congestion_pct\n2015,평일,2,211,성수(2),내선,99999999999:00,11\n');
-- boardings + alightings beyond int4 (failed in the INSERT: "integer out of range")
SELECT * FROM pg_temp.import_error('ridership_daily', E'date,line,station,boardings,alightings\n2024-01-02,2호선,성수,2147483647,1\n');
SELECT * FROM pg_temp.import_error('ridership_hourly', E'service_date,line,station,hour,boardings,alightings\n2024-01-02,2호선,성수,8,2147483647,1\n');
SELECT * FROM pg_temp.import_error('seoulmetro_hourly', E'날짜,호선,역번호,역명,구분,06시 이전,06 ~ 07,07 ~ 08,08 ~ 09,09 ~ 10,10 ~ 11,11 ~ 12,12 ~ 13,13 ~ 14,14 ~ 15,15 ~ 16,16 ~ 17,17 ~ 18,18 ~ 19,19 ~ 20,20 ~ 21,21 ~ 22,22 ~ 23,23 ~ 24,24시 이후,합 계\n2023-01-01,2호선,211,성수,승차,2147483647,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2147483647\n2023-01-01,2호선,211,성수,하차,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1\n');
-- weather values outside the tables' CHECKs (failed in the INSERT on the constraint)
SELECT * FROM pg_temp.import_error('openmeteo_daily', E'date,temperature_2m_mean,precipitation_sum\n2040-01-01,1,0\n2040-01-02,99,0\n');
SELECT * FROM pg_temp.import_error('openmeteo_daily', '{"daily":{"time":["2040-01-01"],"temperature_2m_mean":[3.7],"rain_sum":[-2.5]}}');
SELECT * FROM pg_temp.import_error('kma_daily', E'일시,지점,평균기온(℃),강수량(mm)\n1990-01-01,108,1,-3\n');
SELECT * FROM pg_temp.import_error('kma_asos_hourly', E'지점,일시,기온(°C),습도(%)\n108,1990-01-01 01:00,1,150\n');
-- a CSV whose first character has lead byte 0xEF, then '{', is CSV (was taken for JSON)
SELECT * FROM pg_temp.import_error('openmeteo_daily', E'０{date,temperature_2m_mean\n2040-01-01,1\n');
SELECT (SELECT count(*) FROM seongsu.ridership_daily WHERE day = '2024-01-02') AS daily_rows,
       (SELECT count(*) FROM seongsu.ridership_hourly) AS hourly_rows,
       (SELECT count(*) FROM seongsu.weather_daily WHERE day IN ('2040-01-01', '2040-01-02', '1990-01-01')) AS weather_rows,
       (SELECT count(*) FROM seongsu.weather_hourly WHERE ts = '1990-01-01 01:00+09') AS weather_hourly_rows;

-- Files: missing file, a directory, bad encoding name, relative path outside nothing
SELECT seongsu.import_file('card_subway_month', '/nonexistent/file.csv');
SELECT seongsu.import_file('card_subway_month', '/tmp');
SELECT seongsu.import_file('card_subway_month', '/tmp/x.csv', 'KLINGON');
SELECT seongsu.import_file('card_subway_month', '');

-- Privileges: an operator may import text but not read server files; a reader may do neither.
CREATE ROLE seongsu_test_operator IN ROLE seongsu_operator;
CREATE ROLE seongsu_test_reader IN ROLE seongsu_reader;
SET ROLE seongsu_test_operator;
SELECT seongsu.import_text('ridership_daily', E'date,line,station,boardings,alightings\n2024-01-09,2호선,성수,1,2\n') AS operator_import;
SELECT seongsu.import_file('ridership_daily', '/tmp/x.csv');
SET ROLE seongsu_test_reader;
SELECT seongsu.import_text('ridership_daily', E'date,line,station,boardings,alightings\n2024-01-09,2호선,성수,1,2\n');
SELECT count(*) AS reader_can_read FROM seongsu.ridership_daily;
RESET ROLE;
DROP ROLE seongsu_test_operator;
DROP ROLE seongsu_test_reader;

-- A station that still has ridership rows cannot be deleted.
DELETE FROM seongsu.stations WHERE name = '성수';
