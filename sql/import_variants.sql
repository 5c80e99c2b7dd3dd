-- Every published variant the importers must accept, on hand-made fixtures.
SET client_min_messages = warning;
TRUNCATE seongsu.ridership_daily, seongsu.ridership_hourly, seongsu.hour_profile CASCADE;

-- CARD_SUBWAY_MONTH: quoted values, float-looking counts, trailing empty field,
-- 호선명 instead of 노선명, no 역ID column, unquoted, and a UTF-8 BOM.
SELECT seongsu.import_text('card_subway_month',
E'"사용일자","노선명","역ID","역명","승차총승객수","하차총승객수","등록일자"\n'
'"20150101","2호선","0211","성수",6120,6463,"20151217"\n'
'"20150801","2호선","0211","성수","11094.0","11991.0","20151217",""\n') AS quoted_and_float;
SELECT seongsu.import_text('card_subway_month',
E'사용일자,호선명,역ID,역명,승차총승객수,하차총승객수,등록일자\n20191101,2호선,0211,성수,40000,41000,20191104\n') AS hoseonmyeong;
SELECT seongsu.import_text('card_subway_month',
E'\uFEFF"사용일자","노선명","역명","승차총승객수","하차총승객수","등록일자",\n"20200501","2호선","성수","13561","15280","20200504",""\r\n') AS bom_crlf_no_station_id;
SELECT seongsu.import_text('card_subway_month',
E'사용일자,노선명,역명,승차총승객수,하차총승객수,등록일자\n20210701,2호선,성수,37893,41990,20210704\n\n') AS plain;
SELECT day, boardings, alightings, registered_on FROM seongsu.ridership_daily ORDER BY day;

-- Upsert: a later registration replaces, an older one does not, equal data changes nothing.
SELECT seongsu.import_text('card_subway_month',
E'사용일자,노선명,역명,승차총승객수,하차총승객수,등록일자\n20210701,2호선,성수,37900,42000,20210801\n') AS newer_registration;
SELECT seongsu.import_text('card_subway_month',
E'사용일자,노선명,역명,승차총승객수,하차총승객수,등록일자\n20210701,2호선,성수,1,1,20210702\n') AS older_registration;
SELECT seongsu.import_text('card_subway_month',
E'사용일자,노선명,역명,승차총승객수,하차총승객수,등록일자\n20210701,2호선,성수,37900,42000,20210801\n') AS same_again;
SELECT day, boardings, alightings, registered_on FROM seongsu.ridership_daily WHERE day = '2021-07-01';
-- Within one input the latest registration of a day wins.
SELECT seongsu.import_text('card_subway_month',
E'사용일자,노선명,역명,승차총승객수,하차총승객수,등록일자\n20210702,2호선,성수,5,5,20210810\n20210702,2호선,성수,7,7,20210705\n') AS dup_in_file;
SELECT day, boardings, registered_on FROM seongsu.ridership_daily WHERE day = '2021-07-02';

-- CP949 (UHC) server file, written with COPY ... ENCODING 'UHC'.
DO $$
BEGIN
  EXECUTE format($c$COPY (SELECT unnest(ARRAY['사용일자,노선명,역명,승차총승객수,하차총승객수,등록일자',
                          '20210703,2호선,성수,30000,31000,20210706',
                          '20210703,2호선,뚝섬,20000,21000,20210706']))
                 TO %L WITH (FORMAT text, ENCODING 'UHC')$c$,
                 current_setting('data_directory') || '/seongsu_cp949_fixture.csv');
END
$$;
-- a relative path is taken in the data directory
SELECT seongsu.import_file('card_subway_month', 'seongsu_cp949_fixture.csv', 'UHC') AS cp949_rows;
SELECT s.name, r.boardings FROM seongsu.ridership_daily r JOIN seongsu.stations s ON s.id = r.station_id
WHERE day = '2021-07-03' ORDER BY s.name;
-- the same bytes read as UTF-8 are rejected (invalid UTF-8), nothing written
DO $$
BEGIN
  PERFORM seongsu.import_file('card_subway_month', 'seongsu_cp949_fixture.csv');
EXCEPTION WHEN character_not_in_repertoire THEN
  RAISE WARNING 'rejected: %', regexp_replace(SQLERRM, '"[^"]*"', '<file>');
END
$$;

-- Line labels: "2" and "02" are 2호선.
SELECT seongsu.import_text('ridership_daily',
E'date,line,station,boardings,alightings\n2024-01-02,2,성수,1,2\n2024-01-03,02,성수,3,4\n') AS numeric_lines;
SELECT count(*) FROM seongsu.stations WHERE name = '성수';

-- Hourly: hours 0-3 are after midnight of the service day.
SELECT seongsu.import_text('ridership_hourly',
E'service_date,line,station,hour,passengers,day_label\n2024-02-28,2호선,성수,23,500,수\n2024-02-28,2호선,성수,0,300,수\n2024-02-28,2호선,성수,3,0,수\n2024-02-28,2호선,성수,4,10,수\n') AS hourly;
SELECT to_char(ts AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD HH24') AS kst, service_day, passengers
FROM seongsu.ridership_hourly ORDER BY ts;

-- Open-Meteo: its own CSV download with the location preamble, and an archive JSON response.
SELECT seongsu.import_text('openmeteo_daily',
E'latitude,longitude,elevation,utc_offset_seconds,timezone,timezone_abbreviation\n37.54,127.06,20.0,32400,Asia/Seoul,KST\n\ntime,temperature_2m_mean (°C),precipitation_sum (mm),rain_sum (mm),snowfall_sum (cm)\n2030-01-01,-2.5,0.3,0.0,0.21\n2030-01-02,,0.0,0.0,0.0\n') AS om_csv;
SELECT seongsu.import_text('openmeteo_daily',
'{"latitude":37.54,"longitude":127.06,"timezone":"Asia/Seoul","daily_units":{"time":"iso8601"},"daily":{"time":["2030-01-03","2030-01-04"],"temperature_2m_mean":[1.5,null],"precipitation_sum":[0.0,2.5],"rain_sum":[0.0,2.5],"snowfall_sum":[0.0,0.0]}}') AS om_json;
SELECT day, temp_mean_c, precip_mm, snow_cm FROM seongsu.weather_daily WHERE day >= '2030-01-01' ORDER BY day;

-- KMA ASOS hourly download: blank precipitation is none, ".4" is 0.4.
SELECT seongsu.import_text('kma_asos_hourly',
E'지점,지점명,일시,기온(°C),기온 QC플래그,강수량(mm),강수량 QC플래그,풍속(m/s),풍속 QC플래그,풍향(16방위),풍향 QC플래그,습도(%),습도 QC플래그,적설(cm)\n108,서울,2030-01-01 01:00,-7.2,,,9,.4,,0,,85,,\n108,서울,2030-01-01 02:00,-7.5,,1.5,,1.1,,20,,80,,3.2\n') AS asos;
SELECT source, to_char(ts AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD HH24') AS kst, temp_c, precip_mm, wind_ms, humidity_pct, snow_cm
FROM seongsu.weather_hourly ORDER BY ts;
