-- Observed data.  All instants are timestamptz; days are KST calendar days.

CREATE TABLE stations (
  id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  line       text NOT NULL CHECK (line <> ''),
  name       text NOT NULL CHECK (name <> ''),
  metro_code text,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (line, name)
);
COMMENT ON TABLE stations IS 'One row per (line, station) as the sources spell them.';
COMMENT ON COLUMN stations.id IS 'Surrogate key referenced by the ridership tables.';
COMMENT ON COLUMN stations.line IS 'Line label, normalized so that "2" and "2호선" are the same line ("2호선").';
COMMENT ON COLUMN stations.name IS 'Station name as the sources spell it (e.g. 성수).';
COMMENT ON COLUMN stations.metro_code IS 'Seoul Metro station number (e.g. 211) where a source gives it.';
COMMENT ON COLUMN stations.created_at IS 'When the station was first seen.';

-- The ridership tables reference stations.id without a foreign key: a
-- per-row RI check would triple the cost of a bulk import (measured by
-- test/bench/import_speed.sh).  Integrity holds by construction: importers
-- resolve stations in the same transaction, and this trigger refuses to
-- delete a station that still has rows.
CREATE FUNCTION station_in_use() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM @extschema@.ridership_daily WHERE station_id = OLD.id)
     OR EXISTS (SELECT 1 FROM @extschema@.ridership_hourly WHERE station_id = OLD.id)
     OR EXISTS (SELECT 1 FROM @extschema@.hour_profile WHERE station_id = OLD.id) THEN
    RAISE EXCEPTION 'station % (% %) still has ridership rows', OLD.id, OLD.line, OLD.name
      USING ERRCODE = 'foreign_key_violation',
            HINT = 'Delete its rows from ridership_daily, ridership_hourly and hour_profile first.';
  END IF;
  RETURN OLD;
END
$$ SET search_path = pg_catalog, pg_temp;
CREATE TRIGGER station_in_use BEFORE DELETE ON stations FOR EACH ROW EXECUTE FUNCTION station_in_use();

CREATE TABLE ridership_daily (
  station_id    integer NOT NULL,
  day           date NOT NULL,
  boardings     integer NOT NULL CHECK (boardings >= 0),
  alightings    integer NOT NULL CHECK (alightings >= 0),
  passengers    integer GENERATED ALWAYS AS (boardings + alightings) STORED,
  source        text NOT NULL,
  registered_on date,
  ingested_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (station_id, day)
);
COMMENT ON TABLE ridership_daily IS 'Daily transit-card boardings and alightings per station (CARD_SUBWAY_MONTH, CardSubwayStatsNew).';
COMMENT ON COLUMN ridership_daily.station_id IS 'The station (stations.id).';
COMMENT ON COLUMN ridership_daily.day IS 'Service day (KST).';
COMMENT ON COLUMN ridership_daily.boardings IS 'Passengers who entered (승차).';
COMMENT ON COLUMN ridership_daily.alightings IS 'Passengers who left (하차).';
COMMENT ON COLUMN ridership_daily.passengers IS 'boardings + alightings: the forecasting target.';
COMMENT ON COLUMN ridership_daily.source IS 'Where the row came from (import kind or API source).';
COMMENT ON COLUMN ridership_daily.registered_on IS 'The publisher''s registration date (등록일자 / REG_YMD); a later registration replaces an earlier one.';
COMMENT ON COLUMN ridership_daily.ingested_at IS 'When this version of the row was written.';

CREATE TABLE ridership_hourly (
  station_id   integer NOT NULL,
  ts           timestamptz NOT NULL CHECK (extract(epoch FROM ts)::bigint % 3600 = 0),
  service_day  date NOT NULL,
  boardings    integer CHECK (boardings >= 0),
  alightings   integer CHECK (alightings >= 0),
  passengers   integer NOT NULL CHECK (passengers >= 0),
  source       text NOT NULL,
  ingested_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (station_id, ts),
  CHECK (boardings IS NULL OR alightings IS NULL OR passengers = boardings + alightings)
);
COMMENT ON TABLE ridership_hourly IS 'Passengers per station and hour.  Hours after midnight belong to the previous service day (see service_day).';
COMMENT ON COLUMN ridership_hourly.station_id IS 'The station (stations.id).';
COMMENT ON COLUMN ridership_hourly.ts IS 'Start of the hour (KST hour boundary).';
COMMENT ON COLUMN ridership_hourly.service_day IS 'Operating day the hour belongs to: hours 00-03 KST belong to the previous calendar day.';
COMMENT ON COLUMN ridership_hourly.boardings IS 'Boardings in the hour, NULL when the source gives only the combined count.';
COMMENT ON COLUMN ridership_hourly.alightings IS 'Alightings in the hour, NULL when the source gives only the combined count.';
COMMENT ON COLUMN ridership_hourly.passengers IS 'Boardings + alightings in the hour.';
COMMENT ON COLUMN ridership_hourly.source IS 'Where the row came from.';
COMMENT ON COLUMN ridership_hourly.ingested_at IS 'When this version of the row was written.';

CREATE TABLE hour_profile (
  station_id    integer NOT NULL,
  month         date NOT NULL CHECK (extract(day FROM month) = 1),
  hour          smallint NOT NULL CHECK (hour BETWEEN 0 AND 23),
  boardings     bigint NOT NULL CHECK (boardings >= 0),
  alightings    bigint NOT NULL CHECK (alightings >= 0),
  source        text NOT NULL,
  registered_on date,
  ingested_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (station_id, month, hour)
);
COMMENT ON TABLE hour_profile IS 'CardSubwayTime: monthly sums of boardings and alightings per hour slot.';
COMMENT ON COLUMN hour_profile.station_id IS 'The station (stations.id).';
COMMENT ON COLUMN hour_profile.month IS 'First day of the month.';
COMMENT ON COLUMN hour_profile.hour IS 'Hour slot h = h:00 to h+1:00 KST (slots 0-3 are the late tail of each service day).';
COMMENT ON COLUMN hour_profile.boardings IS 'Sum of boardings in that slot over the month.';
COMMENT ON COLUMN hour_profile.alightings IS 'Sum of alightings in that slot over the month.';
COMMENT ON COLUMN hour_profile.source IS 'Where the row came from.';
COMMENT ON COLUMN hour_profile.registered_on IS 'The publisher''s work date (작업일자 / JOB_YMD).';
COMMENT ON COLUMN hour_profile.ingested_at IS 'When this version of the row was written.';

CREATE TABLE weather_daily (
  source       text NOT NULL,
  day          date NOT NULL,
  temp_mean_c  double precision,
  temp_min_c   double precision,
  temp_max_c   double precision,
  precip_mm    double precision CHECK (precip_mm >= 0),
  rain_mm      double precision CHECK (rain_mm >= 0),
  snow_cm      double precision CHECK (snow_cm >= 0),
  ingested_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, day),
  CHECK (temp_mean_c BETWEEN -60 AND 60 AND temp_min_c BETWEEN -60 AND 60 AND temp_max_c BETWEEN -60 AND 60)
);
COMMENT ON TABLE weather_daily IS 'Daily weather observations per source (KMA station 108 = Seoul, Open-Meteo at Seongsu).';
COMMENT ON COLUMN weather_daily.source IS 'kma:<station number> or open-meteo.';
COMMENT ON COLUMN weather_daily.day IS 'KST calendar day.';
COMMENT ON COLUMN weather_daily.temp_mean_c IS 'Mean temperature, °C.';
COMMENT ON COLUMN weather_daily.temp_min_c IS 'Minimum temperature, °C.';
COMMENT ON COLUMN weather_daily.temp_max_c IS 'Maximum temperature, °C.';
COMMENT ON COLUMN weather_daily.precip_mm IS 'Precipitation, mm (NULL = not reported).';
COMMENT ON COLUMN weather_daily.rain_mm IS 'Rain, mm.';
COMMENT ON COLUMN weather_daily.snow_cm IS 'Snowfall, cm.';
COMMENT ON COLUMN weather_daily.ingested_at IS 'When this version of the row was written.';

CREATE TABLE weather_hourly (
  source        text NOT NULL,
  ts            timestamptz NOT NULL CHECK (extract(epoch FROM ts)::bigint % 3600 = 0),
  temp_c        double precision CHECK (temp_c BETWEEN -60 AND 60),
  precip_mm     double precision CHECK (precip_mm >= 0),
  rain_mm       double precision CHECK (rain_mm >= 0),
  snow_cm       double precision CHECK (snow_cm >= 0),
  humidity_pct  double precision CHECK (humidity_pct BETWEEN 0 AND 100),
  wind_ms       double precision CHECK (wind_ms >= 0),
  ingested_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, ts)
);
COMMENT ON TABLE weather_hourly IS 'Hourly weather observations per source.';
COMMENT ON COLUMN weather_hourly.source IS 'kma:<station number> or open-meteo.';
COMMENT ON COLUMN weather_hourly.ts IS 'Start of the hour.';
COMMENT ON COLUMN weather_hourly.temp_c IS 'Temperature, °C.';
COMMENT ON COLUMN weather_hourly.precip_mm IS 'Precipitation in the hour, mm.';
COMMENT ON COLUMN weather_hourly.rain_mm IS 'Rain in the hour, mm.';
COMMENT ON COLUMN weather_hourly.snow_cm IS 'Snow depth or snowfall, cm.';
COMMENT ON COLUMN weather_hourly.humidity_pct IS 'Relative humidity, %.';
COMMENT ON COLUMN weather_hourly.wind_ms IS 'Wind speed, m/s.';
COMMENT ON COLUMN weather_hourly.ingested_at IS 'When this version of the row was written.';

CREATE TABLE weather_forecast (
  source        text NOT NULL,
  issued_at     timestamptz NOT NULL,
  target        timestamptz NOT NULL,
  grain         text NOT NULL CHECK (grain IN ('hour', 'day')),
  temp_c        double precision,
  temp_min_c    double precision,
  temp_max_c    double precision,
  precip_mm     double precision CHECK (precip_mm >= 0),
  snow_cm       double precision CHECK (snow_cm >= 0),
  pop_pct       double precision CHECK (pop_pct BETWEEN 0 AND 100),
  humidity_pct  double precision CHECK (humidity_pct BETWEEN 0 AND 100),
  wind_ms       double precision CHECK (wind_ms >= 0),
  pty           smallint,
  sky           smallint,
  ingested_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, grain, issued_at, target)
);
COMMENT ON TABLE weather_forecast IS 'Weather forecasts: one row per issue time and target hour (or day).';
COMMENT ON COLUMN weather_forecast.source IS 'kma-vilage or open-meteo.';
COMMENT ON COLUMN weather_forecast.issued_at IS 'When the forecast was issued (KMA base_date/base_time; fetch time for Open-Meteo).';
COMMENT ON COLUMN weather_forecast.target IS 'Start of the forecast hour (grain hour) or of the KST day (grain day).';
COMMENT ON COLUMN weather_forecast.grain IS 'hour or day.';
COMMENT ON COLUMN weather_forecast.temp_c IS 'Temperature (day: mean), °C.';
COMMENT ON COLUMN weather_forecast.temp_min_c IS 'Daily minimum, °C.';
COMMENT ON COLUMN weather_forecast.temp_max_c IS 'Daily maximum, °C.';
COMMENT ON COLUMN weather_forecast.precip_mm IS 'Precipitation, mm (KMA PCP text mapped to numbers, see README).';
COMMENT ON COLUMN weather_forecast.snow_cm IS 'Snow, cm (KMA SNO text mapped to numbers).';
COMMENT ON COLUMN weather_forecast.pop_pct IS 'Probability of precipitation, %.';
COMMENT ON COLUMN weather_forecast.humidity_pct IS 'Relative humidity, %.';
COMMENT ON COLUMN weather_forecast.wind_ms IS 'Wind speed, m/s.';
COMMENT ON COLUMN weather_forecast.pty IS 'KMA precipitation type: 0 none, 1 rain, 2 rain/snow, 3 snow, 4 shower.';
COMMENT ON COLUMN weather_forecast.sky IS 'KMA sky: 1 clear, 3 mostly cloudy, 4 cloudy.';
COMMENT ON COLUMN weather_forecast.ingested_at IS 'When this version of the row was written.';

CREATE TABLE holidays (
  day         date NOT NULL,
  name        text NOT NULL CHECK (name <> ''),
  kind        text NOT NULL CHECK (kind IN ('public', 'substitute', 'temporary', 'election', 'other')),
  is_holiday  boolean NOT NULL DEFAULT true,
  source      text NOT NULL,
  ingested_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (day, name)
);
COMMENT ON TABLE holidays IS 'Korean public holidays (KASI 특일정보 getRestDeInfo, or seeded rows).  A day may carry two names (2017-10-03: 개천절 and 추석).';
COMMENT ON COLUMN holidays.day IS 'The holiday.';
COMMENT ON COLUMN holidays.name IS 'dateName as KASI spells it (설날, 대체공휴일(설날), 임시공휴일, …).';
COMMENT ON COLUMN holidays.kind IS 'public, substitute (대체공휴일), temporary (임시공휴일), election (선거일) or other.';
COMMENT ON COLUMN holidays.is_holiday IS 'KASI isHoliday: a day off for everyone.';
COMMENT ON COLUMN holidays.source IS 'kasi, or seed for rows the install script adds.';
COMMENT ON COLUMN holidays.ingested_at IS 'When this version of the row was written.';

-- KASI's data lack the 2015-08-14 temporary holiday (광복 70주년, declared on
-- 2015-08-04).  It is seeded here rather than guessed by any code.
INSERT INTO holidays (day, name, kind, is_holiday, source)
VALUES ('2015-08-14', '임시공휴일', 'temporary', true, 'seed');

CREATE TABLE congestion_survey (
  survey         text NOT NULL,
  day_type       text NOT NULL CHECK (day_type IN ('평일', '토요일', '일요일')),
  line           text NOT NULL,
  station_code   text NOT NULL,
  station        text NOT NULL,
  direction      text NOT NULL,
  slot_start     time NOT NULL,
  congestion_pct numeric NOT NULL CHECK (congestion_pct >= 0 AND congestion_pct <= 400),
  ingested_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (survey, day_type, line, station_code, direction, slot_start)
);
COMMENT ON TABLE congestion_survey IS 'Seoul Metro official congestion surveys (혼잡도): % of car capacity (100% = 160 passengers per car).';
COMMENT ON COLUMN congestion_survey.survey IS 'Survey label as published (e.g. 2015, 2024-06-30).';
COMMENT ON COLUMN congestion_survey.day_type IS '평일, 토요일 or 일요일.';
COMMENT ON COLUMN congestion_survey.line IS 'Line label, normalized ("2" becomes "2호선"); 성수지선 is the Seongsu branch.';
COMMENT ON COLUMN congestion_survey.station_code IS 'Seoul Metro station number (211 = 성수).';
COMMENT ON COLUMN congestion_survey.station IS 'Station name as the survey spells it.';
COMMENT ON COLUMN congestion_survey.direction IS '내선/외선 (circle line) or 상선/하선.';
COMMENT ON COLUMN congestion_survey.slot_start IS 'Start of the half-hour slot.';
COMMENT ON COLUMN congestion_survey.congestion_pct IS 'Congestion, % of car capacity.';
COMMENT ON COLUMN congestion_survey.ingested_at IS 'When this version of the row was written.';

GRANT SELECT ON stations, ridership_daily, ridership_hourly, hour_profile, weather_daily,
  weather_hourly, weather_forecast, holidays, congestion_survey TO seongsu_reader;
GRANT INSERT, UPDATE ON stations, ridership_daily, ridership_hourly, hour_profile, weather_daily,
  weather_hourly, weather_forecast, holidays, congestion_survey TO seongsu_operator;
