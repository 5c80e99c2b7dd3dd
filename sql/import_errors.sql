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
