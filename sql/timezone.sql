-- Results never depend on the session TimeZone: the same import under UTC and
-- America/New_York gives identical instants, and KST wall-clock hours.
SET client_min_messages = warning;
TRUNCATE seongsu.ridership_hourly CASCADE;

SET TimeZone = 'America/New_York';
SELECT seongsu.import_text('ridership_hourly',
E'service_date,line,station,hour,passengers\n2024-03-09,2호선,성수,8,100\n2024-03-09,2호선,성수,1,7\n2024-11-02,2호선,성수,23,9\n') AS ny_rows;
SELECT md5(string_agg(extract(epoch FROM ts)::text || ':' || passengers, ',' ORDER BY ts)) AS ny_digest
FROM seongsu.ridership_hourly \gset
SELECT to_char(ts AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD HH24:MI') AS kst, service_day FROM seongsu.ridership_hourly ORDER BY ts;

TRUNCATE seongsu.ridership_hourly CASCADE;
SET TimeZone = 'UTC';
SELECT seongsu.import_text('ridership_hourly',
E'service_date,line,station,hour,passengers\n2024-03-09,2호선,성수,8,100\n2024-03-09,2호선,성수,1,7\n2024-11-02,2호선,성수,23,9\n') AS utc_rows;
SELECT md5(string_agg(extract(epoch FROM ts)::text || ':' || passengers, ',' ORDER BY ts)) = :'ny_digest' AS same_instants
FROM seongsu.ridership_hourly;
SELECT to_char(ts AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD HH24:MI') AS kst, service_day FROM seongsu.ridership_hourly ORDER BY ts;
-- 2024-03-09 08:00 KST is 2024-03-08 23:00 UTC
SELECT ts = '2024-03-08 23:00:00+00' AS kst_offset_right FROM seongsu.ridership_hourly WHERE passengers = 100;
RESET TimeZone;
