-- Features (src/features): calendar, one-pass feature rows, the feature
-- store, and time-aware window functions for users' own SQL.

CREATE FUNCTION is_holiday(day date) RETURNS boolean
  LANGUAGE sql STABLE STRICT PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT EXISTS (SELECT 1 FROM @extschema@.holidays h WHERE h.day = $1 AND h.is_holiday) $$;
COMMENT ON FUNCTION is_holiday(date) IS 'True when the day is a public holiday (weekends are not holidays; see calendar_features for days off).';

-- The columns of features() and calendar_features() are listed once, in C
-- (src/features/feature_list.h); the two functions are created from that list.
CREATE FUNCTION feature_columns()
  RETURNS TABLE (ordinal integer, name text, type text, in_model boolean, in_calendar boolean, description text)
  AS 'MODULE_PATHNAME', 'feature_columns' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION feature_columns() IS
  'Every column of seongsu.features, in order: its SQL type, whether models learn from it, whether seongsu.calendar_features returns it, and what it is.';

DO $$
DECLARE
  cols text;
  cal text;
BEGIN
  SELECT pg_catalog.string_agg(pg_catalog.format('%I %s', c.name, c.type), ', ' ORDER BY c.ordinal),
         pg_catalog.string_agg(pg_catalog.format('OUT %I %s', c.name, c.type), ', ' ORDER BY c.ordinal)
           FILTER (WHERE c.in_calendar)
    INTO cols, cal
    FROM @extschema@.feature_columns() c;
  EXECUTE pg_catalog.format('CREATE FUNCTION @extschema@.calendar_features(ts timestamptz, %s) RETURNS record '
                            'AS %L, %L LANGUAGE C STABLE STRICT', cal, 'MODULE_PATHNAME', 'calendar_features');
  EXECUTE pg_catalog.format('CREATE FUNCTION @extschema@.features(station text, line text, from_ts timestamptz, '
                            'to_ts timestamptz, grain text DEFAULT %L, horizon interval DEFAULT %L) RETURNS TABLE (%s) '
                            'AS %L, %L LANGUAGE C STABLE STRICT', 'daily', '1 day', cols, 'MODULE_PATHNAME', 'features');
END
$$;
COMMENT ON FUNCTION calendar_features(timestamptz) IS
  'Calendar of the KST day and hour of ts: weekday, kind of day (working, Saturday, Sunday, public holiday, special day such as May 1), holidays (substitute, temporary, election, which holiday), blocks of days off and 설날/추석 blocks with positions and travel days, bridge days, holiday neighbours, distances to days off and holidays, day of month, season encodings, hour-share day type; the columns are described by seongsu.feature_columns().';
COMMENT ON FUNCTION features(text, text, timestamptz, timestamptz, text, interval) IS
  'Every feature row of a station in [from_ts, to_ts] (one per KST day or hour), using only observations at or before ts - horizon; seongsu.feature_columns() describes each column.';

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
  set_name text := format('%s %s v2', grain,
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
  INSERT INTO @extschema@.feature_sets (name, grain, horizon, version, columns)
  SELECT set_name, grain, horizon, 2, array_agg(c.name ORDER BY c.ordinal)
    FROM @extschema@.feature_columns() c
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
  'Materialize seongsu.features rows into seongsu.feature_rows under a feature set named like "daily 7 days v2" (v2: the feature code of 0.2.0); returns rows inserted or changed (0 when nothing changed).';

GRANT SELECT ON feature_sets, feature_rows TO seongsu_reader;
GRANT INSERT, UPDATE, DELETE ON feature_sets, feature_rows TO seongsu_operator;
GRANT EXECUTE ON FUNCTION is_holiday(date), calendar_features(timestamptz), feature_columns(),
  features(text, text, timestamptz, timestamptz, text, interval),
  time_lag(double precision, timestamptz, interval),
  time_avg(double precision, timestamptz, interval, interval) TO seongsu_reader;
REVOKE ALL ON FUNCTION build_features(text, text, timestamptz, timestamptz, text, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION build_features(text, text, timestamptz, timestamptz, text, interval) TO seongsu_operator;
