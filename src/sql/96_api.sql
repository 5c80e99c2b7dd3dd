-- The API surface for PostgREST (Supabase): schema seongsu_api holds only
-- what is safe for anonymous callers, under the names and arguments of the
-- seongsu functions they wrap; role seongsu_api_user may use it and nothing
-- else (docs/supabase.md).
--
-- Each wrapper is SECURITY DEFINER (it runs as the extension's owner, who
-- reads the tables; the caller needs no right on schema seongsu), pins its
-- search_path and names everything with its schema.  Before any prediction
-- is loaded it checks the asked days against the API's reach, which is
-- tighter than the reader's 400 days: from the station's first observed day
-- to 62 days after its last (set in api_window), the two months a station's kept
-- prediction inputs serve without reloading (src/serve/inputs.c); forecast
-- returns at most 1,000 hours per call (Supabase's default max-rows) and
-- pages through longer ranges.  The caches stay sound: what the owner
-- computes under the pinned path is what every other role with the right to
-- read the tables would compute (src/invalidation.c, WatchUsable).
--
-- To add a wrapper: one SQL function here that calls api_window or
-- api_check first, before the GRANT at the end of this file.

CREATE SCHEMA seongsu_api;
COMMENT ON SCHEMA seongsu_api IS
  'Predictions, forecasts and a data-quality summary for PostgREST''s anon and authenticated roles (grant them seongsu_api_user): bounded, no table access.';

-- Internal: the days the API answers for a station, [first_day, last_day],
-- and its last observed day; raises for an unknown station (without
-- repeating the names, which the caller chose) or one without ridership.
CREATE FUNCTION api_window(station text, line text, OUT first_day date, OUT last_day date, OUT observed date)
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  sid integer;
BEGIN
  SELECT s.id INTO sid FROM @extschema@.stations s WHERE s.line = api_window.line AND s.name = api_window.station;
  IF sid IS NULL THEN
    RAISE EXCEPTION 'unknown station'
      USING ERRCODE = 'undefined_object',
            DETAIL = 'No station of that name on that line has ridership data.',
            HINT = 'Spell the station and line as the published data do, e.g. 성수 and 2호선.';
  END IF;
  SELECT min(d.day), max(d.day) INTO first_day, observed
    FROM @extschema@.ridership_daily d WHERE d.station_id = sid;
  IF observed IS NULL THEN
    RAISE EXCEPTION 'the station has no daily ridership to predict from'
      USING ERRCODE = 'no_data_found',
            HINT = 'The operator imports or ingests its ridership first.';
  END IF;
  last_day := observed + 62;    -- the API's reach ahead: the only place it is set
END
$$;
COMMENT ON FUNCTION api_window(text, text) IS
  'Internal (seongsu_api): the days the API answers for a station, from its first observed day to 62 days after its last, and its last observed day.';

-- Internal: a day as YYYY-MM-DD (any year, or infinity), whatever the DateStyle.
CREATE FUNCTION api_day_text(day date) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  SET DateStyle = 'ISO, YMD'
  AS $$ SELECT day::text $$;
COMMENT ON FUNCTION api_day_text(date) IS 'Internal (seongsu_api): a day as YYYY-MM-DD (any year, or infinity), whatever the DateStyle.';

-- Internal: ERROR (22008) unless the days [first_day, last_day] are within the API's reach.
CREATE FUNCTION api_check(station text, line text, first_day date, last_day date) RETURNS void
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  w record;
BEGIN
  SELECT * INTO w FROM @extschema@.api_window(station, line);
  IF last_day > w.last_day THEN
    RAISE EXCEPTION 'cannot predict %: it is more than % days after the last observation',
                    @extschema@.api_day_text(last_day), w.last_day - w.observed
      USING ERRCODE = 'datetime_field_overflow',
            DETAIL = format('seongsu_api answers days up to %s days after the station''s observations, which end on %s.',
                            w.last_day - w.observed, @extschema@.api_day_text(w.observed)),
            HINT = format('Ask about days from %s to %s.', @extschema@.api_day_text(w.first_day),
                          @extschema@.api_day_text(w.last_day));
  END IF;
  IF first_day < w.first_day THEN
    RAISE EXCEPTION 'cannot predict %: it is before the first observation', @extschema@.api_day_text(first_day)
      USING ERRCODE = 'datetime_field_overflow',
            DETAIL = format('seongsu_api answers days from the station''s first observed day, %s.',
                            @extschema@.api_day_text(w.first_day)),
            HINT = format('Ask about days from %s to %s.', @extschema@.api_day_text(w.first_day),
                          @extschema@.api_day_text(w.last_day));
  END IF;
END
$$;
COMMENT ON FUNCTION api_check(text, text, date, date) IS
  'Internal (seongsu_api): raise datetime_field_overflow unless [first_day, last_day] is within the station''s API reach (api_window).';

-- Internal: the KST service day of an instant (hours 00-03 belong to the day before), as predictions count it.
CREATE FUNCTION api_service_day(ts timestamptz) RETURNS date
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT ((ts AT TIME ZONE 'Asia/Seoul') - interval '4 hours')::date $$;
COMMENT ON FUNCTION api_service_day(timestamptz) IS
  'Internal (seongsu_api): the KST service day of an instant (hours 00-03 belong to the day before).';

-- Internal: check a forecast call of the API and return the hours of its
-- page (none past the last page): the whole hours of [from_ts, to_ts], as
-- seongsu.forecast counts them, page_size at a time.
CREATE FUNCTION api_forecast_page(station text, line text, from_ts timestamptz, to_ts timestamptz,
                                  page integer, page_size integer)
  RETURNS TABLE (page_from timestamptz, page_to timestamptz)
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  h0 bigint;
  h1 bigint;
  first_hour bigint;
BEGIN
  IF NOT isfinite(from_ts) OR NOT isfinite(to_ts) OR to_ts < from_ts THEN
    RAISE EXCEPTION 'from_ts and to_ts must be finite, with to_ts not before from_ts'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF page < 1 THEN
    RAISE EXCEPTION 'page must be at least 1'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Pages count from 1; each holds page_size hours of [from_ts, to_ts].';
  END IF;
  IF page_size < 1 OR page_size > 1000 THEN
    RAISE EXCEPTION 'page_size must be between 1 and 1000'
      USING ERRCODE = 'invalid_parameter_value',    -- PostgREST: 400 (54000 would be a 500)
            DETAIL = format('The value given was %s.', page_size),
            HINT = 'A page holds at most 1,000 hours, Supabase''s default max-rows; ask for the next page (page => 2, ...) for more.';
  END IF;
  PERFORM @extschema@.api_check(station, line, @extschema@.api_service_day(from_ts), @extschema@.api_service_day(to_ts));
  h0 := ceil(extract(epoch FROM from_ts) / 3600);
  h1 := floor(extract(epoch FROM to_ts) / 3600);
  first_hour := h0 + (page - 1)::bigint * page_size;
  IF first_hour > h1 THEN
    RETURN;
  END IF;
  page_from := to_timestamp(first_hour * 3600);
  page_to := to_timestamp(least(first_hour + page_size - 1, h1) * 3600);
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION api_forecast_page(text, text, timestamptz, timestamptz, integer, integer) IS
  'Internal (seongsu_api): check a forecast call (finite range within the API reach, page >= 1, page_size 1-1000) and return the first and last hour of its page, or no row past the last page.';

-- The wrappers take the seongsu function's arguments and check them first.

-- A day's passengers (seongsu.predict_daily) within the API's reach.
CREATE FUNCTION seongsu_api.predict_daily(day date, station text DEFAULT '성수', line text DEFAULT '2호선')
  RETURNS double precision
  LANGUAGE sql STABLE STRICT SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT @extschema@.api_check(predict_daily.station, predict_daily.line, predict_daily.day, predict_daily.day);
  SELECT @extschema@.predict_daily(predict_daily.day, predict_daily.station, predict_daily.line);
$$;
COMMENT ON FUNCTION seongsu_api.predict_daily(date, text, text) IS
  'seongsu.predict_daily for days from the station''s first observation to 62 days after its last.';

-- An hour's passengers (seongsu.predict_crowd) within the API's reach.
CREATE FUNCTION seongsu_api.predict_crowd(ts timestamptz, station text DEFAULT '성수', line text DEFAULT '2호선')
  RETURNS double precision
  LANGUAGE sql STABLE STRICT SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT @extschema@.api_check(predict_crowd.station, predict_crowd.line,
                               @extschema@.api_service_day(predict_crowd.ts), @extschema@.api_service_day(predict_crowd.ts));
  SELECT @extschema@.predict_crowd(predict_crowd.ts, predict_crowd.station, predict_crowd.line);
$$;
COMMENT ON FUNCTION seongsu_api.predict_crowd(timestamptz, text, text) IS
  'seongsu.predict_crowd for service days from the station''s first observation to 62 days after its last.';

-- An hour's crowd level (seongsu.crowd_level) within the API's reach.
CREATE FUNCTION seongsu_api.crowd_level(ts timestamptz, station text DEFAULT '성수', line text DEFAULT '2호선')
  RETURNS text
  LANGUAGE sql STABLE STRICT SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT @extschema@.api_check(crowd_level.station, crowd_level.line,
                               @extschema@.api_service_day(crowd_level.ts), @extschema@.api_service_day(crowd_level.ts));
  SELECT @extschema@.crowd_level(crowd_level.ts, crowd_level.station, crowd_level.line);
$$;
COMMENT ON FUNCTION seongsu_api.crowd_level(timestamptz, text, text) IS
  'seongsu.crowd_level for service days from the station''s first observation to 62 days after its last.';

-- One page of seongsu.forecast within the API's reach.  (PL/pgSQL: its
-- plans are kept for the session; a SQL body is planned again in every
-- statement, ten times the cost of a warm page.)
CREATE FUNCTION seongsu_api.forecast(station text DEFAULT '성수', line text DEFAULT '2호선',
  from_ts timestamptz DEFAULT now(), to_ts timestamptz DEFAULT now() + interval '7 days',
  page integer DEFAULT 1, page_size integer DEFAULT 1000)
  RETURNS TABLE (ts timestamptz, passengers double precision, lower double precision,
                 upper double precision, level text, recursive boolean)
  LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  p record;
BEGIN
  SELECT * INTO p FROM @extschema@.api_forecast_page(station, line, from_ts, to_ts, page, page_size);
  IF FOUND THEN
    -- in the order seongsu.forecast gives them: by hour
    RETURN QUERY SELECT * FROM @extschema@.forecast(station, line, p.page_from, p.page_to);
  END IF;
END
$$;
COMMENT ON FUNCTION seongsu_api.forecast(text, text, timestamptz, timestamptz, integer, integer) IS
  'seongsu.forecast one page at a time: page n holds hours (n-1) x page_size .. n x page_size - 1 of [from_ts, to_ts] (page_size at most 1,000, Supabase''s default max-rows; no row past the last page); the range lies within the station''s first observation and 62 days after its last.';

-- A summary of seongsu.check_quality for the public: each check's name,
-- severity and status over the station's last 365 observed days, without
-- the observed values, expectations and details (days missing, counts,
-- sources' last fetch times), which describe the rows and the ingestion
-- rather than the forecasts.  The year bounds the work of a call (the
-- whole history costs about four times more).
CREATE FUNCTION seongsu_api.quality_summary(station text DEFAULT '성수', line text DEFAULT '2호선')
  RETURNS TABLE (check_name text, severity text, status text)
  LANGUAGE sql STABLE STRICT SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT q.check_name, q.severity, q.status
    FROM @extschema@.api_window(quality_summary.station, quality_summary.line) w,
         LATERAL @extschema@.check_quality(quality_summary.station, quality_summary.line, w.observed - 364, w.observed)
           WITH ORDINALITY AS q(check_name, severity, status, observed, expected, detail, n)
   ORDER BY q.n;
$$;
COMMENT ON FUNCTION seongsu_api.quality_summary(text, text) IS
  'Name, severity (error, warning, info) and status (pass, warn, fail) of each seongsu.check_quality check over the station''s last 365 observed days.';

-- The station's dashboard page (seongsu.dashboard) for the public: the
-- forecast, actuals against issued forecasts, live accuracy, drift, the
-- model comparison and the data-quality checks' statuses, without what
-- describes the operation rather than the forecasts (quality details, run
-- notes and errors, source freshness, alerts, jobs).  today, when given,
-- lies within the API's reach; the page's own windows are fixed (7 days
-- ahead, 8 weeks back, 91 days of checks, 10 runs), so a call's work is
-- bounded.  PL/pgSQL: the arguments are checked before any page is built.
CREATE FUNCTION seongsu_api.dashboard(station text DEFAULT '성수', line text DEFAULT '2호선', today date DEFAULT NULL)
  RETURNS text
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF station IS NULL OR line IS NULL THEN
    RAISE EXCEPTION 'station and line must not be null'
      USING ERRCODE = 'null_value_not_allowed', HINT = 'Leave them out for 성수 on 2호선.';
  END IF;
  IF today IS NULL THEN
    PERFORM @extschema@.api_window(station, line);
  ELSE
    PERFORM @extschema@.api_check(station, line, today, today);
  END IF;
  RETURN @extschema@.dashboard_page(station, line, today, true);
END
$$;
COMMENT ON FUNCTION seongsu_api.dashboard(text, text, date) IS
  'seongsu.dashboard for the public: the forecast, actuals, live accuracy, drift, model comparison and the quality checks'' statuses (no quality details, run notes, sources, alerts or jobs); today, when given, within the station''s first observation and 62 days after its last.';

GRANT USAGE ON SCHEMA seongsu_api TO seongsu_api_user;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA seongsu_api FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA seongsu_api TO seongsu_api_user;
