-- What is loaded: rows and date ranges per table.
CREATE VIEW data_summary AS
  SELECT 'stations'::text AS table_name, count(*) AS rows, NULL::date AS first_day, NULL::date AS last_day FROM stations
  UNION ALL SELECT 'ridership_daily', count(*), min(day), max(day) FROM ridership_daily
  UNION ALL SELECT 'ridership_hourly', count(*), min(service_day), max(service_day) FROM ridership_hourly
  UNION ALL SELECT 'hour_profile', count(*), min(month), (max(month) + interval '1 month - 1 day')::date FROM hour_profile
  UNION ALL SELECT 'weather_daily', count(*), min(day), max(day) FROM weather_daily
  UNION ALL SELECT 'weather_hourly', count(*), min((ts AT TIME ZONE 'Asia/Seoul')::date), max((ts AT TIME ZONE 'Asia/Seoul')::date) FROM weather_hourly
  UNION ALL SELECT 'weather_forecast', count(*), min((target AT TIME ZONE 'Asia/Seoul')::date), max((target AT TIME ZONE 'Asia/Seoul')::date) FROM weather_forecast
  UNION ALL SELECT 'holidays', count(*), min(day), max(day) FROM holidays
  UNION ALL SELECT 'congestion_survey', count(*), NULL, NULL FROM congestion_survey;
COMMENT ON VIEW data_summary IS 'Rows and KST date ranges of every observed-data table.';
GRANT SELECT ON data_summary TO seongsu_reader;
