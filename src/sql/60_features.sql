-- Features (src/features): calendar, one-pass feature rows, the feature
-- store, and time-aware window functions for users' own SQL.

CREATE FUNCTION is_holiday(day date) RETURNS boolean
  LANGUAGE sql STABLE STRICT PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT EXISTS (SELECT 1 FROM @extschema@.holidays h WHERE h.day = $1 AND h.is_holiday) $$;
COMMENT ON FUNCTION is_holiday(date) IS 'True when the day is a public holiday (weekends are not holidays; see calendar_features for days off).';

CREATE FUNCTION calendar_features(ts timestamptz,
  OUT kst_date date, OUT hour integer, OUT iso_dow integer, OUT is_weekend boolean,
  OUT is_holiday boolean, OUT holiday_name text, OUT is_substitute boolean, OUT is_temporary boolean,
  OUT is_day_off boolean, OUT is_bridge boolean, OUT block_len integer, OUT block_pos integer,
  OUT in_seollal boolean, OUT in_chuseok boolean, OUT day_before_off boolean, OUT day_after_off boolean,
  OUT days_to_off integer, OUT days_since_off integer, OUT days_to_holiday integer,
  OUT days_since_holiday integer, OUT month integer, OUT doy_sin double precision,
  OUT doy_cos double precision, OUT hour_sin double precision, OUT hour_cos double precision,
  OUT day_type integer)
  RETURNS record AS 'MODULE_PATHNAME', 'calendar_features' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION calendar_features(timestamptz) IS
  'Calendar of the KST day and hour of ts: weekday, holidays (substitute, temporary), blocks of days off, bridge days, distances to days off and holidays (capped at 30), season encodings, day type (0 Mon, 1 Tue-Thu, 2 Fri, 3 Sat, 4 Sun/holiday).';

CREATE FUNCTION features(station text, line text, from_ts timestamptz, to_ts timestamptz,
  grain text DEFAULT 'daily', horizon interval DEFAULT '1 day')
  RETURNS TABLE (
    ts timestamptz, kst_date date, hour integer, target double precision,
    iso_dow integer, is_weekend boolean, is_holiday boolean, holiday_name text,
    is_substitute boolean, is_temporary boolean, is_day_off boolean, is_bridge boolean,
    block_len integer, block_pos integer, in_seollal boolean, in_chuseok boolean,
    day_before_off boolean, day_after_off boolean, days_to_off integer, days_since_off integer,
    days_to_holiday integer, days_since_holiday integer, month integer,
    doy_sin double precision, doy_cos double precision, hour_sin double precision,
    hour_cos double precision, day_type integer,
    lag_1d double precision, lag_2d double precision, lag_3d double precision, lag_7d double precision,
    lag_14d double precision, lag_21d double precision, lag_28d double precision, lag_364d double precision,
    lag_1d_off boolean, lag_7d_off boolean,
    roll7_mean double precision, roll7_std double precision, roll7_min double precision, roll7_max double precision,
    roll28_mean double precision, roll28_std double precision, roll28_min double precision, roll28_max double precision,
    sdw4_mean double precision, sdw8_mean double precision, sdw4_workday_mean double precision,
    last_year_sdw double precision, level28 double precision,
    temp_mean_c double precision, precip_mm double precision, snow_cm double precision, weather_source text,
    covid_level double precision, missing_mask integer,
    target_ratio double precision, lag_7d_ratio double precision, sdw4_ratio double precision,
    sdw4_workday_ratio double precision, last_year_ratio double precision, lag_1d_ratio double precision)
  AS 'MODULE_PATHNAME', 'features' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION features(text, text, timestamptz, timestamptz, text, interval) IS
  'Every feature row of a station in [from_ts, to_ts] (one per KST day or hour; at most 20,000,000 rows and 833,333 days), using only observations at or before ts - horizon; see README "Features".';

CREATE FUNCTION time_lag(value double precision, ts timestamptz, lag interval) RETURNS double precision
  AS 'MODULE_PATHNAME', 'time_lag' LANGUAGE C WINDOW IMMUTABLE;
COMMENT ON FUNCTION time_lag(double precision, timestamptz, interval) IS
  'Window function: the value of the row whose ts is exactly ts - lag (NULL when there is no such row); lag >= 0, no months. Use OVER (PARTITION BY ... ORDER BY ts).';
CREATE FUNCTION time_avg(value double precision, ts timestamptz, from_offset interval, to_offset interval)
  RETURNS double precision AS 'MODULE_PATHNAME', 'time_avg' LANGUAGE C WINDOW IMMUTABLE;
COMMENT ON FUNCTION time_avg(double precision, timestamptz, interval, interval) IS
  'Window function: mean of the non-NULL values with ts in [ts - from_offset, ts - to_offset] (NULL when none); from_offset >= to_offset >= 0, no months. Use OVER (PARTITION BY ... ORDER BY ts).';

-- The feature store.
CREATE TABLE feature_sets (
  id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  grain       text NOT NULL CHECK (grain IN ('daily', 'hourly')),
  horizon     interval NOT NULL CHECK (horizon > interval '0'),
  version     integer NOT NULL DEFAULT 1,
  columns     text[] NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE feature_sets IS 'Definitions of materialized feature sets: grain, horizon, version and the column names of seongsu.features.';
COMMENT ON COLUMN feature_sets.id IS 'Feature set id.';
COMMENT ON COLUMN feature_sets.name IS 'Name, by default "<grain> <horizon> v<version>".';
COMMENT ON COLUMN feature_sets.grain IS 'daily or hourly.';
COMMENT ON COLUMN feature_sets.horizon IS 'Observations used are at least this old.';
COMMENT ON COLUMN feature_sets.version IS 'Version of the feature code that built it.';
COMMENT ON COLUMN feature_sets.columns IS 'Column names of the stored rows.';
COMMENT ON COLUMN feature_sets.created_at IS 'When it was defined.';

CREATE TABLE feature_rows (
  feature_set integer NOT NULL REFERENCES feature_sets(id) ON DELETE CASCADE,
  station_id  integer NOT NULL,
  ts          timestamptz NOT NULL,
  row         jsonb NOT NULL,
  built_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (feature_set, station_id, ts)
);
COMMENT ON TABLE feature_rows IS 'Materialized rows of seongsu.features, keyed by (feature set, station, ts).';
COMMENT ON COLUMN feature_rows.feature_set IS 'The feature set (feature_sets.id).';
COMMENT ON COLUMN feature_rows.station_id IS 'The station (stations.id).';
COMMENT ON COLUMN feature_rows.ts IS 'The row''s instant (start of the KST day or hour).';
COMMENT ON COLUMN feature_rows.row IS 'Every feature column of the row.';
COMMENT ON COLUMN feature_rows.built_at IS 'When the row was last changed.';

-- Materialize features into the store; idempotent (unchanged rows are not rewritten).
CREATE FUNCTION build_features(station text DEFAULT '성수', line text DEFAULT '2호선',
  from_ts timestamptz DEFAULT NULL, to_ts timestamptz DEFAULT NULL,
  grain text DEFAULT 'daily', horizon interval DEFAULT '1 day')
  RETURNS TABLE (feature_set integer, rows_written bigint)
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  sid integer;
  fs integer;
  lo timestamptz := from_ts;
  hi timestamptz := to_ts;
  n bigint;
  secs bigint := extract(epoch FROM horizon)::bigint;
  set_name text := format('%s %s v1', grain,
                          CASE WHEN secs % 86400 = 0 THEN (secs / 86400) || ' days' ELSE (secs / 3600) || ' hours' END);
BEGIN
  SELECT s.id INTO sid FROM @extschema@.stations s WHERE s.name = station AND s.line = build_features.line;
  IF sid IS NULL THEN
    RAISE EXCEPTION 'station "%" on line "%" is unknown', station, line
      USING ERRCODE = 'undefined_object', HINT = 'Stations come from imported or ingested ridership; see seongsu.stations.';
  END IF;
  IF lo IS NULL OR hi IS NULL THEN
    IF grain = 'hourly' THEN
      SELECT coalesce(lo, min(h.ts)), coalesce(hi, max(h.ts)) INTO lo, hi FROM @extschema@.ridership_hourly h WHERE h.station_id = sid;
    ELSE
      SELECT coalesce(lo, (min(d.day)::timestamp AT TIME ZONE 'Asia/Seoul')),
             coalesce(hi, (max(d.day)::timestamp AT TIME ZONE 'Asia/Seoul'))
        INTO lo, hi FROM @extschema@.ridership_daily d WHERE d.station_id = sid;
    END IF;
  END IF;
  IF lo IS NULL THEN
    RAISE EXCEPTION 'station "%" on line "%" has no % observations', station, line, grain
      USING ERRCODE = 'no_data_found';
  END IF;
  INSERT INTO @extschema@.feature_sets (name, grain, horizon, columns)
  SELECT set_name, grain, horizon, array_agg(a.k ORDER BY a.ord)
    FROM pg_proc p, unnest(p.proargnames) WITH ORDINALITY AS a(k, ord)
   WHERE p.oid = '@extschema@.features(text, text, timestamptz, timestamptz, text, interval)'::regprocedure
     AND a.ord > 6
  ON CONFLICT (name) DO NOTHING;
  SELECT f.id INTO fs FROM @extschema@.feature_sets f WHERE f.name = set_name;
  INSERT INTO @extschema@.feature_rows AS r (feature_set, station_id, ts, row)
  SELECT fs, sid, x.ts, to_jsonb(x) - 'ts'
    FROM @extschema@.features(station, line, lo, hi, grain, horizon) x
  ON CONFLICT (feature_set, station_id, ts) DO UPDATE SET row = EXCLUDED.row, built_at = now()
   WHERE r.row IS DISTINCT FROM EXCLUDED.row;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN QUERY SELECT fs, n;
END
$$;
COMMENT ON FUNCTION build_features(text, text, timestamptz, timestamptz, text, interval) IS
  'Materialize seongsu.features rows into seongsu.feature_rows under a feature set named like "daily 7 days v1"; returns rows inserted or changed (0 when nothing changed).';

GRANT SELECT ON feature_sets, feature_rows TO seongsu_reader;
GRANT INSERT, UPDATE, DELETE ON feature_sets, feature_rows TO seongsu_operator;
GRANT EXECUTE ON FUNCTION is_holiday(date), calendar_features(timestamptz),
  features(text, text, timestamptz, timestamptz, text, interval),
  time_lag(double precision, timestamptz, interval),
  time_avg(double precision, timestamptz, interval, interval) TO seongsu_reader;
REVOKE ALL ON FUNCTION build_features(text, text, timestamptz, timestamptz, text, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION build_features(text, text, timestamptz, timestamptz, text, interval) TO seongsu_operator;
