-- Data quality: checks, the training gate, feature profiles, and text
-- pictures (sparklines, histograms) for psql.  Plain SQL and PL/pgSQL.
--
-- Every function here is SECURITY INVOKER: a caller sees what its own
-- privileges let it read (seongsu_reader reads every table they use).  Days
-- are KST service days and "today" is the KST date, whatever the session's
-- TimeZone; check_quality, assert_quality and make_quality_target take
-- as_of to fix "today".
-- Functions that write dates into text set DateStyle (ISO), and those whose
-- queries depend on date ranges force custom plans (a generic plan guesses
-- a few rows for "day BETWEEN lo AND hi" and runs 10 times slower).

-- Validate a day range and resolve (station, line) to stations.id.  A line
-- given as digits ("2", "02") means "2호선", as the importers normalize it.
CREATE FUNCTION quality_scope(station text, line text, from_date date, to_date date)
  RETURNS integer
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  norm text := CASE WHEN line ~ '^[0-9]+$' THEN ltrim(line, '0') || '호선' ELSE line END;
  sid integer;
BEGIN
  IF from_date > to_date THEN
    RAISE EXCEPTION 'from_date % is after to_date %', from_date, to_date
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Give the first day of the range as from_date and the last as to_date (both included).';
  END IF;
  SELECT s.id INTO sid FROM @extschema@.stations s WHERE s.name = station AND s.line = norm;
  IF sid IS NULL THEN
    RAISE EXCEPTION 'station "%" on line "%" is unknown', station, line
      USING ERRCODE = 'undefined_object',
            HINT = 'Stations come from imported or ingested ridership; see seongsu.stations.';
  END IF;
  RETURN sid;
END
$$;
COMMENT ON FUNCTION quality_scope(text, text, date, date) IS
  'Internal: check that from_date <= to_date and return the id of the station (line "2" means "2호선"); raises undefined_object for an unknown station.';

-- A run of days as text: "2023-01-08 (1 day)" or "2022-12-02..2023-01-01 (31 days)".
CREATE FUNCTION day_range_text(first_day date, last_day date) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT CASE WHEN first_day = last_day THEN to_char(first_day, 'YYYY-MM-DD') || ' (1 day)'
                ELSE format('%s..%s (%s days)', to_char(first_day, 'YYYY-MM-DD'), to_char(last_day, 'YYYY-MM-DD'),
                            last_day - first_day + 1) END
  $$;
COMMENT ON FUNCTION day_range_text(date, date) IS
  'Internal: a run of days as "2023-01-08 (1 day)" or "2022-12-02..2023-01-01 (31 days)".';

-- A count and its noun: "1 day", "3,266 days".
CREATE FUNCTION count_text(n bigint, noun text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT to_char(n, 'FM9,999,999,990') || ' ' || noun || CASE WHEN n = 1 THEN '' ELSE 's' END $$;
COMMENT ON FUNCTION count_text(bigint, text) IS 'Internal: a count and its noun, "1 day" or "3,266 days".';

-- The runs of days missing from ridership_daily between the first and the
-- last observed day of the station (within [from_date, to_date] when given).
CREATE FUNCTION missing_days(station text DEFAULT '성수', line text DEFAULT '2호선',
                             from_date date DEFAULT NULL, to_date date DEFAULT NULL)
  RETURNS TABLE (gap_from date, gap_to date, days integer)
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
  sid integer := @extschema@.quality_scope(station, line, from_date, to_date);
BEGIN
  RETURN QUERY
    SELECT o.day + 1, o.next_day - 1, o.next_day - o.day - 1
      FROM (SELECT d.day, lead(d.day) OVER (ORDER BY d.day) AS next_day
              FROM @extschema@.ridership_daily d
             WHERE d.station_id = sid
               AND d.day BETWEEN coalesce(from_date, '-infinity') AND coalesce(to_date, 'infinity')) o
     WHERE o.next_day > o.day + 1
     ORDER BY o.day;
END
$$;
COMMENT ON FUNCTION missing_days(text, text, date, date) IS
  'Runs of days with no ridership_daily row between the station''s first and last observed day (clipped to [from_date, to_date]): first day, last day, length.';


-- The checks.  Each check is a function of a quality_target that returns
-- its rows of the report (outliers also returns holiday_outliers, from the
-- same computation; weather_coverage adds a row per weather source and
-- staleness has one per source); quality_checks() lists them in the order
-- of the report and check_quality runs them.  Adding a check is writing its
-- function and naming it in quality_checks().  The checks set DateStyle
-- (they write dates into text) and force custom plans (see the top).

-- What a check looks at: a station (its id, and its name and line as the
-- caller wrote them, for messages), a range of days whose open ends are
-- -infinity and infinity, and "today".
CREATE TYPE quality_target AS (station_id integer, station text, line text, from_date date, to_date date, today date);
COMMENT ON TYPE quality_target IS
  'What a data-quality check looks at: stations.id, station and line as given, the days [from_date, to_date] (open ends are -infinity and infinity) and "today"; made by seongsu.make_quality_target().';

-- One row of the data-quality report.
CREATE TYPE quality_result AS (check_name text, severity text, status text, observed numeric, expected text, detail text);
COMMENT ON TYPE quality_result IS 'One row of seongsu.check_quality: a check''s name, severity, status, observed value, expectation and detail.';

-- The target of check_quality's arguments, to run one check on its own.
CREATE FUNCTION make_quality_target(station text DEFAULT '성수', line text DEFAULT '2호선',
                                    from_date date DEFAULT NULL, to_date date DEFAULT NULL, as_of date DEFAULT NULL)
  RETURNS quality_target
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT ROW(@extschema@.quality_scope(station, line, from_date, to_date), station, line,
               coalesce(from_date, '-infinity'), coalesce(to_date, 'infinity'),
               coalesce(as_of, (now() AT TIME ZONE 'Asia/Seoul')::date))::@extschema@.quality_target
  $$;
COMMENT ON FUNCTION make_quality_target(text, text, date, date, date) IS
  'The target of a data-quality check with check_quality''s arguments (same defaults and errors): seongsu.quality_outliers(seongsu.make_quality_target(as_of => ''2025-06-03'')) runs one check.';

-- A row of the report: pass when ok, otherwise fail for an error-severity
-- check and warn for the others.
CREATE FUNCTION quality_row(check_name text, severity text, ok boolean, observed numeric, expected text, detail text)
  RETURNS quality_result
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT ROW(check_name, severity, CASE WHEN ok THEN 'pass' WHEN severity = 'error' THEN 'fail' ELSE 'warn' END,
               observed, expected, detail)::@extschema@.quality_result
  $$;
COMMENT ON FUNCTION quality_row(text, text, boolean, numeric, text, text) IS
  'Internal: a row of the data-quality report whose status is pass when ok, otherwise fail for error-severity checks and warn for the others.';

-- The holidays as an array: "day = ANY (off_days)" is a hash probe
-- whatever the planner knows about the tables.
CREATE FUNCTION quality_off_days() RETURNS date[]
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT ARRAY(SELECT DISTINCT hd.day FROM @extschema@.holidays hd WHERE hd.is_holiday) $$;
COMMENT ON FUNCTION quality_off_days() IS 'Internal: the days of seongsu.holidays that are holidays, as an array.';

-- daily_rows: is there anything to check at all?
CREATE FUNCTION quality_daily_rows(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  first_day date;
  last_day date;
  n_days bigint;
  sources text;
BEGIN
  SELECT min(d.day), max(d.day), count(*) INTO first_day, last_day, n_days
    FROM @extschema@.ridership_daily d WHERE d.station_id = t.station_id AND d.day BETWEEN t.from_date AND t.to_date;
  SELECT string_agg(format('%s from %s', to_char(s.k, 'FM9,999,999,990'), s.source), ', ' ORDER BY s.source) INTO sources
    FROM (SELECT d.source, count(*) AS k FROM @extschema@.ridership_daily d
           WHERE d.station_id = t.station_id AND d.day BETWEEN t.from_date AND t.to_date GROUP BY d.source) s;
  RETURN NEXT @extschema@.quality_row('daily_rows', 'error', n_days > 0, n_days, 'at least 1 day',
    CASE WHEN n_days = 0 THEN format('No daily ridership for %s %s in the range.', t.station, t.line)
         ELSE format('%s from %s to %s (%s).', @extschema@.count_text(n_days, 'day'), first_day, last_day, sources) END);
END
$$;
COMMENT ON FUNCTION quality_daily_rows(quality_target) IS
  'Data-quality check daily_rows (error): the station has daily ridership in the range; detail: days, first and last, rows per source.';

-- missing_days: gaps between the first and last observed day.
CREATE FUNCTION quality_missing_days(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  first_day date;
  last_day date;
  n_days bigint;
  n bigint;
  m bigint;
  runs text;
BEGIN
  SELECT min(d.day), max(d.day), count(*) INTO first_day, last_day, n_days
    FROM @extschema@.ridership_daily d WHERE d.station_id = t.station_id AND d.day BETWEEN t.from_date AND t.to_date;
  SELECT coalesce(sum(g.days), 0), count(*),
         string_agg(@extschema@.day_range_text(g.gap_from, g.gap_to), ', ' ORDER BY g.gap_from) FILTER (WHERE g.k <= 5)
    INTO n, m, runs
    FROM (SELECT x.*, row_number() OVER (ORDER BY x.gap_from) AS k
            FROM @extschema@.missing_days(t.station, t.line, t.from_date, t.to_date) x) g;
  RETURN NEXT @extschema@.quality_row('missing_days', 'warning', n = 0, n, '0 days',
    CASE WHEN n_days = 0 THEN 'No observed days.'
         WHEN n = 0 THEN format('No gaps over %s..%s.', first_day, last_day)
         ELSE format('%s in %s over %s..%s: %s%s.', @extschema@.count_text(n, 'day'), @extschema@.count_text(m, 'run'),
                     first_day, last_day, runs,
                     CASE WHEN m > 5 THEN format(' and %s', @extschema@.count_text(m - 5, 'more run')) ELSE '' END) END);
END
$$;
COMMENT ON FUNCTION quality_missing_days(quality_target) IS
  'Data-quality check missing_days (warning): no day is missing between the first and the last observed day; detail: the first 5 runs (seongsu.missing_days lists them all).';

-- missing_hours: service hours 05-23 absent on service days that have hourly rows.
CREATE FUNCTION quality_missing_hours(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  m bigint;
  n bigint;
  absent_hours bigint;
  examples text;
BEGIN
  WITH per_day AS (
    SELECT h.service_day,
           array_agg(extract(hour FROM h.ts AT TIME ZONE 'Asia/Seoul')::integer) AS hours
      FROM @extschema@.ridership_hourly h
     WHERE h.station_id = t.station_id AND h.service_day BETWEEN t.from_date AND t.to_date
     GROUP BY h.service_day
  ), short AS (
    SELECT p.service_day,
           ARRAY(SELECT lpad(s::text, 2, '0') FROM generate_series(5, 23) s
                  WHERE s <> ALL (p.hours) ORDER BY s) AS absent,
           row_number() OVER (ORDER BY p.service_day) AS k
      FROM per_day p
     WHERE NOT (ARRAY(SELECT generate_series(5, 23)) <@ p.hours)
  )
  SELECT (SELECT count(*) FROM per_day), count(*), coalesce(sum(cardinality(s.absent)), 0),
         string_agg(format('%s (%s)', s.service_day, array_to_string(s.absent, ', ')), '; ' ORDER BY s.service_day)
           FILTER (WHERE s.k <= 5)
    INTO m, n, absent_hours, examples
    FROM short s;
  RETURN NEXT @extschema@.quality_row('missing_hours', 'warning', n = 0, absent_hours, '0 hours missing in 05-23',
    CASE WHEN m = 0 THEN 'No hourly ridership in the range.'
         WHEN n = 0 THEN format('%s with hourly rows, all with hours 05-23.', @extschema@.count_text(m, 'service day'))
         ELSE format('%s of %s with hourly rows miss hours: %s%s.', to_char(n, 'FM9,999,999,990'),
                     @extschema@.count_text(m, 'service day'), examples, CASE WHEN n > 5 THEN '; …' ELSE '' END) END);
END
$$;
COMMENT ON FUNCTION quality_missing_hours(quality_target) IS
  'Data-quality check missing_hours (warning): every service day with hourly rows has the hours 05-23; observed: hours missing.';

-- impossible_values: counts no station can have, zero traffic on a working
-- weekday, observations dated after today.  (Negative counts and
-- passengers <> boardings + alightings are refused by the tables' CHECKs.)
CREATE FUNCTION quality_impossible_values(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  nf CONSTANT text := 'FM9,999,999,990';
  off_days date[] := @extschema@.quality_off_days();
  n bigint;
  kinds text;
BEGIN
  WITH bad AS (
    SELECT 'Days above 1,000,000 passengers' AS kind, d.day, format('%s %s', d.day, to_char(d.passengers, nf)) AS example
      FROM @extschema@.ridership_daily d
     WHERE d.station_id = t.station_id AND d.day BETWEEN t.from_date AND t.to_date AND d.passengers > 1000000
    UNION ALL
    SELECT 'Working weekdays with 0 boardings or alightings', d.day,
           format('%s %s/%s', d.day, to_char(d.boardings, nf), to_char(d.alightings, nf))
      FROM @extschema@.ridership_daily d
     WHERE d.station_id = t.station_id AND d.day BETWEEN t.from_date AND t.to_date
       AND extract(isodow FROM d.day) < 6 AND (d.boardings = 0 OR d.alightings = 0)
       AND d.day <> ALL (off_days)
    UNION ALL
    SELECT format('Days dated after %s', t.today), d.day, d.day::text
      FROM @extschema@.ridership_daily d
     WHERE d.station_id = t.station_id AND d.day BETWEEN t.from_date AND t.to_date AND d.day > t.today
    UNION ALL
    SELECT 'Hours above 100,000 passengers', h.service_day,
           format('%s %s', to_char(h.ts AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD HH24:00'), to_char(h.passengers, nf))
      FROM @extschema@.ridership_hourly h
     WHERE h.station_id = t.station_id AND h.service_day BETWEEN t.from_date AND t.to_date AND h.passengers > 100000
    UNION ALL
    SELECT format('Hours of service days after %s', t.today), h.service_day,
           to_char(h.ts AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD HH24:00')
      FROM @extschema@.ridership_hourly h
     WHERE h.station_id = t.station_id AND h.service_day BETWEEN t.from_date AND t.to_date AND h.service_day > t.today
  ), per_kind AS (
    SELECT b.kind, count(*) AS k,
           string_agg(b.example, ', ' ORDER BY b.day, b.example) FILTER (WHERE b.rn <= 3) AS examples
      FROM (SELECT bad.*, row_number() OVER (PARTITION BY bad.kind ORDER BY bad.day, bad.example) AS rn FROM bad) b
     GROUP BY b.kind
  )
  SELECT coalesce(sum(p.k), 0),
         string_agg(format('%s: %s (%s%s)', p.kind, to_char(p.k, nf), p.examples,
                           CASE WHEN p.k > 3 THEN ', …' ELSE '' END), '; ' ORDER BY p.kind)
    INTO n, kinds FROM per_kind p;
  RETURN NEXT @extschema@.quality_row('impossible_values', 'error', n = 0, n, '0 rows',
    CASE WHEN n = 0 THEN format('No day above 1,000,000 passengers, no hour above 100,000, no working weekday with 0 boardings or alightings, nothing dated after %s.', t.today)
         ELSE kinds || '.' END);
END
$$;
COMMENT ON FUNCTION quality_impossible_values(quality_target) IS
  'Data-quality check impossible_values (error): no day above 1,000,000 passengers, no hour above 100,000, no working weekday with 0 boardings or alightings, nothing dated after today.';

-- source_agreement: CARD daily totals vs Seoul Metro all-ticket hourly sums.
CREATE FUNCTION quality_source_agreement(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  nf CONSTANT text := 'FM9,999,999,990';
  m bigint;
  median numeric;
  n bigint;
  worst text;
BEGIN
  WITH sm AS (
    SELECT h.service_day AS day, sum(h.passengers) AS p
      FROM @extschema@.ridership_hourly h
     WHERE h.station_id = t.station_id AND h.source = 'seoulmetro_hourly' AND h.service_day BETWEEN t.from_date AND t.to_date
     GROUP BY h.service_day
  ), cmp AS (
    SELECT sm.day, d.passengers AS card, sm.p, d.passengers::numeric / nullif(sm.p, 0) AS ratio
      FROM sm JOIN @extschema@.ridership_daily d ON d.station_id = t.station_id AND d.day = sm.day
  ), bad AS (
    SELECT cmp.*, row_number() OVER (ORDER BY abs(coalesce(cmp.ratio, 2) - 1) DESC, cmp.day) AS k
      FROM cmp WHERE cmp.ratio IS NULL OR abs(cmp.ratio - 1) > 0.03
  )
  SELECT (SELECT count(*) FROM cmp),
         (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY cmp.ratio) FROM cmp)::numeric,
         count(*),
         string_agg(format('%s CARD %s vs Seoul Metro %s (%s%%)', b.day, to_char(b.card, nf), to_char(b.p, nf),
                           coalesce(to_char(100 * (b.ratio - 1), 'FMSG9990.0'), 'n/a')), ', ' ORDER BY b.k) FILTER (WHERE b.k <= 3)
    INTO m, median, n, worst FROM bad b;
  RETURN NEXT @extschema@.quality_row('source_agreement', 'error', n = 0, n, '0 days with |CARD / Seoul Metro - 1| > 3%',
    CASE WHEN m = 0 THEN 'No day has both CARD daily and Seoul Metro hourly totals.'
         WHEN n = 0 THEN format('%s compared, CARD / Seoul Metro median %s.', @extschema@.count_text(m, 'day'), round(median, 4))
         ELSE format('%s of %s disagree (median ratio %s): %s%s.', to_char(n, nf), @extschema@.count_text(m, 'day'),
                     round(median, 4), worst, CASE WHEN n > 3 THEN ', …' ELSE '' END) END);
END
$$;
COMMENT ON FUNCTION quality_source_agreement(quality_target) IS
  'Data-quality check source_agreement (error): CARD daily passengers within 3% of the sum of Seoul Metro''s hourly counts on the days that have both.';

-- hourly_vs_daily: per direction, the hourly sums of a day against its daily row.
CREATE FUNCTION quality_hourly_vs_daily(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  nf CONSTANT text := 'FM9,999,999,990';
  m bigint;
  n bigint;
  worst text;
BEGIN
  WITH hs AS (
    SELECT h.service_day AS day, sum(h.boardings) AS b, sum(h.alightings) AS a, sum(h.passengers) AS p,
           count(*) = count(h.boardings) AND count(*) = count(h.alightings) AS split
      FROM @extschema@.ridership_hourly h
     WHERE h.station_id = t.station_id AND h.service_day BETWEEN t.from_date AND t.to_date
     GROUP BY h.service_day
  ), cmp AS (
    SELECT hs.day, x.what, x.daily, x.hourly, x.daily::numeric / nullif(x.hourly, 0) - 1 AS dev
      FROM hs JOIN @extschema@.ridership_daily d ON d.station_id = t.station_id AND d.day = hs.day
      CROSS JOIN LATERAL (VALUES ('boardings', d.boardings::bigint, hs.b, hs.split),
                                 ('alightings', d.alightings::bigint, hs.a, hs.split),
                                 ('passengers', d.passengers::bigint, hs.p, NOT hs.split)) x(what, daily, hourly, used)
     WHERE x.used
  ), bad AS (
    SELECT cmp.*, row_number() OVER (ORDER BY abs(coalesce(cmp.dev, 1)) DESC, cmp.day, cmp.what) AS k
      FROM cmp WHERE cmp.dev IS NULL OR abs(cmp.dev) > 0.05
  )
  SELECT (SELECT count(DISTINCT cmp.day) FROM cmp), count(DISTINCT b.day),
         string_agg(format('%s %s %s daily vs %s hourly (%s%%)', b.day, b.what, to_char(b.daily, nf), to_char(b.hourly, nf),
                           coalesce(to_char(100 * b.dev, 'FMSG9990.0'), 'n/a')), ', ' ORDER BY b.k) FILTER (WHERE b.k <= 3)
    INTO m, n, worst FROM bad b;
  RETURN NEXT @extschema@.quality_row('hourly_vs_daily', 'warning', n = 0, n, '0 days with a direction off by more than 5%',
    CASE WHEN m = 0 THEN 'No day has both hourly and daily ridership.'
         WHEN n = 0 THEN format('%s with both agree within 5%% in boardings and alightings (passengers where the hours are not split).', @extschema@.count_text(m, 'day'))
         ELSE format('%s of %s with both differ by more than 5%%: %s%s.', to_char(n, nf), @extschema@.count_text(m, 'day'), worst,
                     CASE WHEN n > 3 THEN ', …' ELSE '' END) END);
END
$$;
COMMENT ON FUNCTION quality_hourly_vs_daily(quality_target) IS
  'Data-quality check hourly_vs_daily (warning): the hourly sums of a day within 5% of its daily row, per direction (passengers where the hours are not split).';

-- outliers and holiday_outliers: each day against the median of the same
-- weekday in the 4 weeks before and after it (holidays left out, at least
-- 4 such days), as a relative deviation; a day is an outlier when that
-- deviation is more than 5 * 1.4826 * MAD from the median deviation of its
-- weekday x month over the range.  A local median rather than one per
-- weekday x month over the whole range: ridership doubled 2015-2025 and
-- Seongsu's weekends tripled, so whole-range medians flag growth, not errors.
-- One function for both rows: they split the same flagged days.
CREATE FUNCTION quality_outliers(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  nf CONSTANT text := 'FM9,999,999,990';
  pf CONSTANT text := 'FMSG9990.0';
  off_days date[] := @extschema@.quality_off_days();
  n bigint;
  worst text;
  m bigint;
  holiday_worst text;
BEGIN
  WITH obs AS (
    SELECT d.day, d.passengers::double precision AS x, extract(isodow FROM d.day)::integer AS dow,
           extract(month FROM d.day)::integer AS mon,
           d.day = ANY (off_days) AS holiday
      FROM @extschema@.ridership_daily d
     WHERE d.station_id = t.station_id AND d.day BETWEEN t.from_date AND t.to_date
  ), local AS (
    SELECT o.*, array_agg(o.x) FILTER (WHERE NOT o.holiday)
                  OVER (PARTITION BY o.dow ORDER BY o.day
                        RANGE BETWEEN interval '28 days' PRECEDING AND interval '28 days' FOLLOWING
                        EXCLUDE CURRENT ROW) AS around
      FROM obs o
  ), dev AS (
    SELECT l.day, l.x, l.dow, l.mon, l.holiday, e.m AS e, l.x / e.m - 1 AS r
      FROM local l CROSS JOIN LATERAL (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS m FROM unnest(l.around) v) e
     WHERE cardinality(l.around) >= 4 AND e.m > 0
  ), band AS MATERIALIZED (
    SELECT g.dow, g.mon, g.m,
           (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(v - g.m)) FROM unnest(g.rs) v) * 1.4826 AS s
      FROM (SELECT v.dow, v.mon, array_agg(v.r) AS rs, percentile_cont(0.5) WITHIN GROUP (ORDER BY v.r) AS m
              FROM dev v WHERE NOT v.holiday GROUP BY v.dow, v.mon HAVING count(*) >= 5) g
  ), flagged AS (
    SELECT v.day, v.x, v.e, v.r, v.holiday, (v.r - b.m) / b.s AS z,
           row_number() OVER (PARTITION BY v.holiday ORDER BY abs(v.r - b.m) / b.s DESC, v.day) AS k
      FROM dev v JOIN band b ON b.dow = v.dow AND b.mon = v.mon
     WHERE b.s > 0 AND abs(v.r - b.m) > 5 * b.s
  )
  SELECT count(*) FILTER (WHERE NOT f.holiday),
         string_agg(format('%s %s vs %s (%s%%, %s MAD)', f.day, to_char(f.x, nf), to_char(f.e, nf),
                           to_char(100 * f.r, pf), to_char(f.z, pf)), ', ' ORDER BY f.k) FILTER (WHERE NOT f.holiday AND f.k <= 5),
         count(*) FILTER (WHERE f.holiday),
         string_agg(format('%s %s vs %s (%s%%)', f.day, to_char(f.x, nf), to_char(f.e, nf), to_char(100 * f.r, pf)),
                    ', ' ORDER BY f.k) FILTER (WHERE f.holiday AND f.k <= 3)
    INTO n, worst, m, holiday_worst FROM flagged f;
  RETURN NEXT @extschema@.quality_row('outliers', 'warning', n = 0, n, '0 non-holiday days beyond 5 MAD of the same weekday ±4 weeks',
    CASE WHEN n = 0 THEN 'No non-holiday day is an outlier.'
         ELSE format('%s; worst: %s%s.', @extschema@.count_text(n, 'day'), worst, CASE WHEN n > 5 THEN ', …' ELSE '' END) END);
  RETURN NEXT @extschema@.quality_row('holiday_outliers', 'info', true, m, 'holidays are expected to be outliers',
    CASE WHEN m = 0 THEN 'No holiday is an outlier.'
         ELSE format('%s (not counted in outliers); most extreme: %s%s.', @extschema@.count_text(m, 'holiday'), holiday_worst,
                     CASE WHEN m > 3 THEN ', …' ELSE '' END) END);
END
$$;
COMMENT ON FUNCTION quality_outliers(quality_target) IS
  'Data-quality checks outliers (warning) and holiday_outliers (info): days more than 5 * 1.4826 * MAD from the median of the same weekday ±4 weeks, by their weekday x month band; holidays are counted apart.';

-- level_shift: the median of the working days (Monday-Friday, not
-- holidays) of the last 28 days against that of the 28 days before, both
-- with at least 12 working days observed.  15%: on the real data normal
-- years stay within ±10% and COVID-19 moved it by 16-18%.  Flagged days in
-- the same direction less than 28 days apart form one episode.
CREATE FUNCTION quality_level_shift(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  nf CONSTANT text := 'FM9,999,999,990';
  pf CONSTANT text := 'FMSG9990.0';
  off_days date[] := @extschema@.quality_off_days();
  n bigint;
  shift_day date;
  episode_list text;
BEGIN
  WITH wd AS (
    SELECT d.day, d.passengers::double precision AS x
      FROM @extschema@.ridership_daily d
     WHERE d.station_id = t.station_id AND d.day BETWEEN t.from_date AND t.to_date AND extract(isodow FROM d.day) < 6
       AND d.day <> ALL (off_days)
  ), frames AS (
    SELECT wd.day,
           array_agg(wd.x) OVER (ORDER BY wd.day RANGE BETWEEN interval '27 days' PRECEDING AND CURRENT ROW) AS cur,
           array_agg(wd.x) OVER (ORDER BY wd.day RANGE BETWEEN interval '55 days' PRECEDING AND interval '28 days' PRECEDING) AS prev
      FROM wd
  ), win AS MATERIALIZED (
    SELECT f.day,
           (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM unnest(f.cur) v) AS cur,
           (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM unnest(f.prev) v) AS prev
      FROM frames f
     WHERE cardinality(f.cur) >= 12 AND cardinality(f.prev) >= 12
  ), shifted AS (
    SELECT w.day, w.cur, w.prev, w.cur / nullif(w.prev, 0) - 1 AS chg
      FROM win w
  ), starts AS (
    SELECT s.*, CASE WHEN s.day - lag(s.day) OVER (ORDER BY s.day) < 28
                      AND sign(s.chg) = sign(lag(s.chg) OVER (ORDER BY s.day)) THEN 0 ELSE 1 END AS new_episode
      FROM shifted s WHERE abs(s.chg) > 0.15
  ), episodes AS (
    SELECT e.*, sum(e.new_episode) OVER (ORDER BY e.day) AS ep FROM starts e
  ), summary AS (
    SELECT ep.ep, min(ep.day) AS first_day,
           (array_agg(format('%s %s: working-day median %s vs %s in the 28 days before (%s%%)', ep.day,
                             CASE WHEN ep.chg < 0 THEN 'drop' ELSE 'jump' END, to_char(ep.cur, nf), to_char(ep.prev, nf),
                             to_char(100 * ep.chg, pf)) ORDER BY ep.day))[1] AS first_text,
           CASE WHEN min(ep.chg) < 0 THEN min(ep.chg) ELSE max(ep.chg) END AS extreme
      FROM episodes ep GROUP BY ep.ep
  )
  SELECT count(*), min(s.first_day),
         string_agg(format('%s, at most %s%%', s.first_text, to_char(100 * s.extreme, pf)), '; ' ORDER BY s.first_day)
           FILTER (WHERE s.ep <= 3)
    INTO n, shift_day, episode_list FROM summary s;
  RETURN NEXT @extschema@.quality_row('level_shift', 'warning', n = 0, n, '0 episodes of the 28-day working-day median moving more than 15%',
    CASE WHEN n = 0 THEN 'No 28-day working-day median differs by more than 15% from the 28 days before it.'
         ELSE format('%s, the first from %s: %s%s.', @extschema@.count_text(n, 'episode'), shift_day, episode_list,
                     CASE WHEN n > 3 THEN '; …' ELSE '' END) END);
END
$$;
COMMENT ON FUNCTION quality_level_shift(quality_target) IS
  'Data-quality check level_shift (warning): episodes of the 28-day working-day median moving more than 15% from the 28 days before it.';

-- weather_coverage: ridership days with a weather_daily row from any
-- source (warning below 95%), then per source (info).  Grouped by day
-- rather than joined: weather_daily has no index on day alone.
CREATE FUNCTION quality_weather_coverage(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  first_day date;
  last_day date;
  n_days bigint;
  n bigint;
  m bigint;
  share numeric;
  gaps text;
  r record;
BEGIN
  SELECT min(d.day), max(d.day), count(*) INTO first_day, last_day, n_days
    FROM @extschema@.ridership_daily d WHERE d.station_id = t.station_id AND d.day BETWEEN t.from_date AND t.to_date;
  WITH obs AS (
    SELECT u.day, bool_or(NOT u.ride) AS covered
      FROM (SELECT d.day, true AS ride FROM @extschema@.ridership_daily d
             WHERE d.station_id = t.station_id AND d.day BETWEEN t.from_date AND t.to_date
            UNION ALL
            SELECT w.day, false FROM @extschema@.weather_daily w WHERE w.day BETWEEN first_day AND last_day) u
     GROUP BY u.day
    HAVING bool_or(u.ride)
  ), runs AS (
    SELECT min(u.day) AS a, max(u.day) AS b,
           row_number() OVER (ORDER BY min(u.day)) AS k, count(*) OVER () AS runs
      FROM (SELECT o.day, o.day - (row_number() OVER (ORDER BY o.day))::integer AS grp FROM obs o WHERE NOT o.covered) u
     GROUP BY u.grp
  )
  SELECT (SELECT count(*) FROM obs WHERE obs.covered), max(runs.runs),
         string_agg(@extschema@.day_range_text(runs.a, runs.b), ', ' ORDER BY runs.a) FILTER (WHERE runs.k <= 3)
    INTO n, m, gaps FROM runs;
  share := round(100.0 * n / nullif(n_days, 0), 1);
  RETURN NEXT @extschema@.quality_row('weather_coverage', 'warning', coalesce(share >= 95, true), share, '>= 95% of ridership days',
    CASE WHEN n_days = 0 THEN 'No ridership days in the range.'
         WHEN n = n_days THEN format('All %s have daily weather.', @extschema@.count_text(n_days, 'ridership day'))
         ELSE format('%s of %s have daily weather; without: %s%s.', to_char(n, 'FM9,999,999,990'),
                     @extschema@.count_text(n_days, 'ridership day'), gaps,
                     CASE WHEN m > 3 THEN format(' and %s', @extschema@.count_text(m - 3, 'more run')) ELSE '' END) END);
  FOR r IN
    SELECT w.source, count(*) AS k, min(w.day) AS a, max(w.day) AS b
      FROM @extschema@.weather_daily w
     WHERE w.day IN (SELECT d.day FROM @extschema@.ridership_daily d
                      WHERE d.station_id = t.station_id AND d.day BETWEEN t.from_date AND t.to_date)
     GROUP BY w.source ORDER BY w.source
  LOOP
    RETURN NEXT @extschema@.quality_row('weather_coverage:' || r.source, 'info', true, round(100.0 * r.k / n_days, 1),
      'share of ridership days, %',
      format('%s of %s, between %s and %s.', to_char(r.k, 'FM9,999,999,990'), @extschema@.count_text(n_days, 'ridership day'), r.a, r.b));
  END LOOP;
END
$$;
COMMENT ON FUNCTION quality_weather_coverage(quality_target) IS
  'Data-quality checks weather_coverage (warning): at least 95% of the ridership days have daily weather; weather_coverage:<source> (info): each source''s share.';

-- holiday_years: every year with ridership needs its holidays.
CREATE FUNCTION quality_holiday_years(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  n bigint;
  years text;
BEGIN
  SELECT count(*), string_agg(ys.y::text, ', ' ORDER BY ys.y) INTO n, years
    FROM (SELECT DISTINCT extract(year FROM d.day)::integer AS y
            FROM @extschema@.ridership_daily d WHERE d.station_id = t.station_id AND d.day BETWEEN t.from_date AND t.to_date) ys
   WHERE NOT EXISTS (SELECT 1 FROM @extschema@.holidays h
                      WHERE h.is_holiday AND h.day BETWEEN make_date(ys.y, 1, 1) AND make_date(ys.y, 12, 31));
  RETURN NEXT @extschema@.quality_row('holiday_years', 'warning', n = 0, n, '0 years with ridership and no holidays',
    CASE WHEN n = 0 THEN 'Every year with ridership has holidays loaded.'
         ELSE format('No holidays loaded for %s; import the KASI responses of those years.', years) END);
END
$$;
COMMENT ON FUNCTION quality_holiday_years(quality_target) IS
  'Data-quality check holiday_years (warning): every year with ridership in the range has holidays loaded.';

-- holiday_horizon: the calendar must reach 90 days past today.
CREATE FUNCTION quality_holiday_horizon(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  latest record;
  known_through date;
  n bigint;
BEGIN
  SELECT h.day, h.name INTO latest FROM @extschema@.holidays h WHERE h.is_holiday ORDER BY h.day DESC, h.name LIMIT 1;
  SELECT count(*) INTO n FROM @extschema@.holidays h WHERE h.is_holiday AND h.day > t.today AND h.day <= t.today + 90;
  known_through := make_date(extract(year FROM latest.day)::integer, 12, 31);   -- NULL when no holiday is loaded
  RETURN NEXT @extschema@.quality_row('holiday_horizon', 'warning', n > 0 AND known_through >= t.today + 90, known_through - t.today,
    '>= 90 days of known holiday calendar and a holiday within 90 days',
    CASE WHEN latest.day IS NULL THEN 'No holidays are loaded.'
         ELSE format('Holidays known through %s (latest %s %s); %s from %s to %s.', extract(year FROM latest.day), latest.day,
                     latest.name, @extschema@.count_text(n, 'holiday'), t.today + 1, t.today + 90) END);
END
$$;
COMMENT ON FUNCTION quality_holiday_horizon(quality_target) IS
  'Data-quality check holiday_horizon (warning): the holiday calendar reaches 90 days past today and has a holiday in them; observed: days of calendar left.';

-- staleness:<source>: seongsu.source_status measured against today
-- (kasi_holidays is holiday_horizon's business).
CREATE FUNCTION quality_staleness(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT s.source, s.latest_day, extract(day FROM s.expected_delay)::integer AS delay
      FROM @extschema@.source_status s WHERE s.source <> 'kasi_holidays' ORDER BY s.source
  LOOP
    RETURN NEXT @extschema@.quality_row('staleness:' || r.source, CASE WHEN r.latest_day IS NULL THEN 'info' ELSE 'warning' END,
      r.latest_day >= t.today - r.delay, t.today - r.latest_day,
      format('<= %s behind', @extschema@.count_text(r.delay, 'day')),
      CASE WHEN r.latest_day IS NULL THEN 'No rows from this source yet.'
           WHEN r.latest_day > t.today THEN format('Latest day %s is after %s.', r.latest_day, t.today)
           ELSE format('Latest day %s, %s before %s.', r.latest_day, @extschema@.count_text(t.today - r.latest_day, 'day'), t.today) END);
  END LOOP;
END
$$;
COMMENT ON FUNCTION quality_staleness(quality_target) IS
  'Data-quality checks staleness:<source> (warning; info while a source has no rows): the latest day of each source of seongsu.source_status but kasi_holidays is at most its expected delay before today.';

-- congestion_survey: the latest survey of the station and its day types.
CREATE FUNCTION quality_congestion_survey(t quality_target) RETURNS SETOF quality_result
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
  SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  n bigint;
  first_survey text;
  last_survey text;
  m bigint;
  slots bigint;
  day_types text;
BEGIN
  WITH sv AS (
    SELECT c.survey, c.day_type, count(*) AS k
      FROM @extschema@.congestion_survey c JOIN @extschema@.stations s ON s.id = t.station_id
     WHERE c.line = s.line AND (c.station_code = s.metro_code OR c.station = s.name)
     GROUP BY c.survey, c.day_type
  )
  SELECT (SELECT count(DISTINCT sv.survey) FROM sv), (SELECT min(sv.survey) FROM sv), l.survey,
         count(sv.day_type), coalesce(sum(sv.k), 0),
         string_agg(sv.day_type, ', ' ORDER BY array_position(ARRAY['평일', '토요일', '일요일'], sv.day_type))
    INTO n, first_survey, last_survey, m, slots, day_types
    FROM (SELECT max(sv.survey) AS survey FROM sv) l LEFT JOIN sv ON sv.survey = l.survey
   GROUP BY l.survey;
  RETURN NEXT @extschema@.quality_row('congestion_survey', 'info', m = 3, n, 'a latest survey with 평일, 토요일 and 일요일',
    CASE WHEN n = 0 THEN format('No congestion survey of %s %s.', t.station, t.line)
         ELSE format('Latest survey %s with %s (%s); %s from %s to %s.', last_survey, day_types,
                     @extschema@.count_text(slots, 'slot'), @extschema@.count_text(n, 'survey'), first_survey, last_survey) END);
END
$$;
COMMENT ON FUNCTION quality_congestion_survey(quality_target) IS
  'Data-quality check congestion_survey (info): the station''s latest congestion survey has 평일, 토요일 and 일요일.';

-- The checks of check_quality, in the order of its report.
CREATE FUNCTION quality_checks() RETURNS regproc[]
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT ARRAY['@extschema@.quality_daily_rows', '@extschema@.quality_missing_days', '@extschema@.quality_missing_hours',
                 '@extschema@.quality_impossible_values', '@extschema@.quality_source_agreement',
                 '@extschema@.quality_hourly_vs_daily', '@extschema@.quality_outliers', '@extschema@.quality_level_shift',
                 '@extschema@.quality_weather_coverage', '@extschema@.quality_holiday_years',
                 '@extschema@.quality_holiday_horizon', '@extschema@.quality_staleness',
                 '@extschema@.quality_congestion_survey']::regproc[]
  $$;
COMMENT ON FUNCTION quality_checks() IS
  'The data-quality checks that seongsu.check_quality runs, in order: functions (seongsu.quality_target) RETURNS SETOF seongsu.quality_result.';

-- The data-quality report: one row per check (see README "Data quality").
CREATE FUNCTION check_quality(station text DEFAULT '성수', line text DEFAULT '2호선',
                              from_date date DEFAULT NULL, to_date date DEFAULT NULL,
                              as_of date DEFAULT NULL)
  RETURNS TABLE (check_name text, severity text, status text, observed numeric, expected text, detail text)
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  sid integer := @extschema@.quality_scope(station, line, from_date, to_date);
  target @extschema@.quality_target := ROW(sid, station, line, coalesce(from_date, '-infinity'), coalesce(to_date, 'infinity'),
                                           coalesce(as_of, (now() AT TIME ZONE 'Asia/Seoul')::date));
  check_function regproc;
BEGIN
  -- regproc's text is the function's schema-qualified name (the schema is
  -- not on this function's search_path)
  FOREACH check_function IN ARRAY @extschema@.quality_checks() LOOP
    RETURN QUERY EXECUTE format('SELECT * FROM %s($1)', check_function) USING target;
  END LOOP;
END
$$;
COMMENT ON FUNCTION check_quality(text, text, date, date, date) IS
  'Data-quality report of a station over [from_date, to_date] (default: everything), one row per check; as_of fixes "today" (default: the KST date).  See README "Data quality".';

-- The quality gate for training and scheduled jobs: raise when an
-- error-severity check fails (SQLSTATE SSQ01), or only warn with force.
CREATE FUNCTION assert_quality(station text DEFAULT '성수', line text DEFAULT '2호선',
                               from_date date DEFAULT NULL, to_date date DEFAULT NULL,
                               force boolean DEFAULT false, as_of date DEFAULT NULL)
  RETURNS void
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  failed bigint;
  total bigint;
  msg text;
  lines text;
BEGIN
  SELECT count(*) FILTER (WHERE q.status = 'fail'), count(*),
         string_agg(format('%s: observed %s, expected %s. %s', q.check_name, coalesce(q.observed::text, 'nothing'),
                           q.expected, q.detail), E'\n' ORDER BY q.k) FILTER (WHERE q.status = 'fail')
    INTO failed, total, lines
    FROM @extschema@.check_quality(station, line, from_date, to_date, as_of) WITH ORDINALITY AS q(check_name, severity, status,
           observed, expected, detail, k)
   WHERE q.severity = 'error';
  IF failed = 0 THEN
    RETURN;
  END IF;
  msg := format('data quality gate failed for %s %s: %s of %s failed', station, line, failed,
                @extschema@.count_text(total, 'error-severity check'));
  IF force THEN
    RAISE WARNING '%', msg
      USING DETAIL = lines,
            HINT = 'Continuing because force => true was given; seongsu.check_quality() shows every check.';
    RETURN;
  END IF;
  RAISE EXCEPTION '%', msg
    USING ERRCODE = 'SSQ01', DETAIL = lines,
          HINT = 'Fix or reload the data named above, or call seongsu.assert_quality(..., force => true) to continue with a warning.';
END
$$;
COMMENT ON FUNCTION assert_quality(text, text, date, date, boolean, date) IS
  'Raise SQLSTATE SSQ01 when an error-severity check of seongsu.check_quality fails (DETAIL lists them); with force => true, a WARNING instead.';

-- Profile of every numeric and boolean column of seongsu.features (booleans
-- as 0/1): counts, moments, quantiles, and correlations with the target.
-- The columns come from the catalog, so new feature columns are profiled
-- without changes here.  Each column is gathered into an array and profiled
-- on its own: narrow sorts that stay in work_mem, 2-2.5 times faster than
-- unpivoting every row with to_jsonb/jsonb_each (measured on the real data).
CREATE FUNCTION profile(station text DEFAULT '성수', line text DEFAULT '2호선',
                        from_date date DEFAULT NULL, to_date date DEFAULT NULL,
                        grain text DEFAULT 'daily', horizon interval DEFAULT '1 day')
  RETURNS TABLE (feature text, n bigint, nulls bigint, min double precision, max double precision,
                 mean double precision, std double precision, p05 double precision, p25 double precision,
                 p50 double precision, p75 double precision, p95 double precision,
                 pearson_r double precision, spearman_r double precision)
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
  sid integer := @extschema@.quality_scope(station, line, from_date, to_date);
  lo timestamptz := from_date::timestamp AT TIME ZONE 'Asia/Seoul';
  hi timestamptz;
  arrays text;
  columns text;
BEGIN
  IF grain IS NULL OR grain NOT IN ('daily', 'hourly') THEN
    RAISE EXCEPTION 'unknown grain "%"', grain
      USING ERRCODE = 'invalid_parameter_value', HINT = 'Use ''daily'' or ''hourly''.';
  END IF;
  -- The same default range as build_features: everything observed.
  IF grain = 'hourly' THEN
    hi := (to_date + 1)::timestamp AT TIME ZONE 'Asia/Seoul' - interval '1 hour';
    SELECT coalesce(lo, min(h.ts)), coalesce(hi, max(h.ts)) INTO lo, hi
      FROM @extschema@.ridership_hourly h WHERE h.station_id = sid;
  ELSE
    hi := to_date::timestamp AT TIME ZONE 'Asia/Seoul';
    SELECT coalesce(lo, min(d.day)::timestamp AT TIME ZONE 'Asia/Seoul'),
           coalesce(hi, max(d.day)::timestamp AT TIME ZONE 'Asia/Seoul') INTO lo, hi
      FROM @extschema@.ridership_daily d WHERE d.station_id = sid;
  END IF;

  -- One array per numeric or boolean result column, as double precision.
  SELECT string_agg(format('array_agg(f.%I%s::double precision ORDER BY f.ts) AS %I', a.name,
                           CASE WHEN a.typ = 'boolean'::regtype THEN '::integer' ELSE '' END, a.name), ', ' ORDER BY a.ord),
         string_agg(format('(%L, %s, a.%I)', a.name, a.ord, a.name), ', ' ORDER BY a.ord)
    INTO arrays, columns
    FROM pg_proc p,
         unnest(p.proallargtypes, p.proargmodes::text[], p.proargnames) WITH ORDINALITY AS a(typ, mode, name, ord)
   WHERE p.oid = '@extschema@.features(text, text, timestamptz, timestamptz, text, interval)'::regprocedure
     AND a.mode = 't'
     AND a.typ IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype, 'real'::regtype,
                   'double precision'::regtype, 'numeric'::regtype, 'boolean'::regtype);

  RETURN QUERY EXECUTE format($q$
    WITH a AS (
      SELECT %s FROM @extschema@.features($1, $2, $3, $4, $5, $6) f
    )
    SELECT c.name, st.k, st.k_null, st.lo_v, st.hi_v, st.mu, st.sd,
           st.q[1], st.q[2], st.q[3], st.q[4], st.q[5], st.r, sp.rho
      FROM a
      CROSS JOIN LATERAL (VALUES %s) AS c(name, ord, vals)
      CROSS JOIN LATERAL (
        SELECT count(u.v) AS k, count(*) - count(u.v) AS k_null, min(u.v) AS lo_v, max(u.v) AS hi_v,
               avg(u.v) AS mu, stddev_samp(u.v) AS sd,
               percentile_cont(ARRAY[0.05, 0.25, 0.5, 0.75, 0.95]) WITHIN GROUP (ORDER BY u.v) AS q,
               corr(u.v, u.y) AS r
          FROM unnest(c.vals, a.target) AS u(v, y)
      ) st
      CROSS JOIN LATERAL (
        -- Spearman: Pearson on average ranks (ties share the mean of their
        -- positions) over the rows where both values are known
        SELECT corr(rk.rv, rk.ry) AS rho
          FROM (SELECT rank() OVER by_v + (count(*) OVER (by_v RANGE CURRENT ROW) - 1) / 2.0::double precision AS rv,
                       rank() OVER by_y + (count(*) OVER (by_y RANGE CURRENT ROW) - 1) / 2.0::double precision AS ry
                  FROM unnest(c.vals, a.target) AS u(v, y)
                 WHERE u.v IS NOT NULL AND u.y IS NOT NULL
                WINDOW by_v AS (ORDER BY u.v), by_y AS (ORDER BY u.y)) rk
      ) sp
     ORDER BY c.ord
  $q$, arrays, columns) USING station, line, lo, hi, grain, horizon;
END
$$;
COMMENT ON FUNCTION profile(text, text, date, date, text, interval) IS
  'One row per numeric or boolean column of seongsu.features (booleans as 0/1): non-NULL count, NULLs, min, max, mean, standard deviation, 5/25/50/75/95th percentiles, Pearson and Spearman correlation with target.';

-- A Unicode sparkline (▁▂▃▄▅▆▇█) of the values, one character per value or,
-- when there are more values than width, per run of values averaged.
CREATE FUNCTION sparkline(vals double precision[], width integer DEFAULT 60) RETURNS text
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  len bigint := cardinality(vals);
  result text;
BEGIN
  IF width < 1 OR width > 1000 THEN
    RAISE EXCEPTION 'width must be between 1 and 1000'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('The value given was %s.', width),
            HINT = 'width is the number of characters of the sparkline.';
  END IF;
  WITH pts AS (
    SELECT CASE WHEN len > width THEN (u.i - 1) * width / len ELSE u.i - 1 END AS b,
           avg(u.x) FILTER (WHERE u.x NOT IN ('NaN', 'Infinity', '-Infinity')) AS x
      FROM unnest(vals) WITH ORDINALITY AS u(x, i)
     GROUP BY 1
  ), scale AS (
    SELECT min(pts.x) AS lo, max(pts.x) AS hi FROM pts
  )
  SELECT string_agg(CASE WHEN p.x IS NULL THEN ' '
                         WHEN s.hi = s.lo THEN '▄'
                         ELSE substr('▁▂▃▄▅▆▇█', 1 + least(7, floor((p.x - s.lo) / (s.hi - s.lo) * 8)::integer), 1) END,
                    '' ORDER BY p.b)
    INTO result FROM pts p, scale s;
  RETURN coalesce(result, '');
END
$$;
COMMENT ON FUNCTION sparkline(double precision[], integer) IS
  'Unicode sparkline of the values from lowest (▁) to highest (█); more values than width are averaged in width equal runs; NULL, NaN and infinite values are spaces; all-equal values are ▄.';

-- Final function of sparkline_agg.
CREATE FUNCTION sparkline_final(vals double precision[]) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT @extschema@.sparkline(vals, 60) $$;
COMMENT ON FUNCTION sparkline_final(double precision[]) IS 'Internal: final function of sparkline_agg.';

-- sparkline_agg(x ORDER BY t): the sparkline (60 characters) of a column.
CREATE AGGREGATE sparkline_agg(double precision) (
  SFUNC = array_append, STYPE = double precision[], FINALFUNC = sparkline_final, INITCOND = '{}'
);
COMMENT ON AGGREGATE sparkline_agg(double precision) IS
  'Sparkline (60 characters) of the aggregated values in their ORDER BY order; for another width use sparkline(array_agg(x ORDER BY t), width).';

-- An equal-width histogram of the values with bars of █ and eighths.
CREATE FUNCTION histogram(vals double precision[], bins integer DEFAULT 20, width integer DEFAULT 40)
  RETURNS TABLE (bucket_from double precision, bucket_to double precision, count bigint, bar text)
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF bins < 1 OR bins > 1000 THEN
    RAISE EXCEPTION 'bins must be between 1 and 1000'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('The value given was %s.', bins),
            HINT = 'bins is the number of equal-width buckets between the smallest and the largest value.';
  END IF;
  IF width < 1 OR width > 1000 THEN
    RAISE EXCEPTION 'width must be between 1 and 1000'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('The value given was %s.', width),
            HINT = 'width is the length in characters of the longest bar.';
  END IF;
  RETURN QUERY
  WITH v AS (
    SELECT u.x FROM unnest(vals) AS u(x)
     WHERE u.x IS NOT NULL AND u.x NOT IN ('NaN', 'Infinity', '-Infinity')
  ), scale AS (
    SELECT min(v.x) AS lo, max(v.x) AS hi, CASE WHEN min(v.x) = max(v.x) THEN 1 ELSE bins END AS nb FROM v
  ), counts AS (
    SELECT b.i, count(v.x) AS k
      FROM scale s
      CROSS JOIN generate_series(1, s.nb) AS b(i)
      LEFT JOIN v ON s.nb = 1 OR least(width_bucket(v.x, s.lo, s.hi, s.nb), s.nb) = b.i
     WHERE s.lo IS NOT NULL
     GROUP BY b.i
  ), bars AS (
    -- length in eighths of a character; a non-empty bucket shows at least ▏
    SELECT c.i, c.k, CASE WHEN c.k = 0 THEN 0
                          ELSE greatest(1, round(c.k * width * 8.0 / max(c.k) OVER ()))::integer END AS e
      FROM counts c
  )
  SELECT s.lo + (s.hi - s.lo) * (b.i - 1) / s.nb,
         CASE WHEN b.i = s.nb THEN s.hi ELSE s.lo + (s.hi - s.lo) * b.i / s.nb END,
         b.k,
         repeat('█', b.e / 8) || CASE WHEN b.e % 8 > 0 THEN substr('▏▎▍▌▋▊▉', b.e % 8, 1) ELSE '' END
    FROM bars b, scale s
   ORDER BY b.i;
END
$$;
COMMENT ON FUNCTION histogram(double precision[], integer, integer) IS
  'Equal-width histogram of the values (NULL, NaN and infinities left out): bucket bounds, count and a bar of █ with eighths (▏▎▍▌▋▊▉), the fullest bucket width characters long; all-equal values make one bucket.';

-- Sparkline of a station's daily passengers: one character per day, or
-- per ISO week (mean) when the range has more days than width.
CREATE FUNCTION daily_sparkline(station text DEFAULT '성수', line text DEFAULT '2호선',
                                from_date date DEFAULT NULL, to_date date DEFAULT NULL,
                                width integer DEFAULT 60)
  RETURNS text
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
  sid integer := @extschema@.quality_scope(station, line, from_date, to_date);
  lo date := from_date;
  hi date := to_date;
  vals double precision[];
BEGIN
  IF lo IS NULL OR hi IS NULL THEN
    SELECT coalesce(lo, min(d.day)), coalesce(hi, max(d.day)) INTO lo, hi
      FROM @extschema@.ridership_daily d WHERE d.station_id = sid;
  END IF;
  IF lo IS NULL OR lo > hi THEN
    RETURN NULL;
  END IF;
  SELECT array_agg(x ORDER BY k) INTO vals
    FROM (SELECT CASE WHEN hi - lo + 1 > width THEN date_trunc('week', c.day)::date ELSE c.day::date END AS k,
                 avg(d.passengers) AS x
            FROM generate_series(lo::timestamp, hi::timestamp, interval '1 day') AS c(day)
            LEFT JOIN @extschema@.ridership_daily d ON d.station_id = sid AND d.day = c.day::date
           GROUP BY 1) s;
  RETURN @extschema@.sparkline(vals, width);
END
$$;
COMMENT ON FUNCTION daily_sparkline(text, text, date, date, integer) IS
  'Sparkline of daily passengers over [from_date, to_date] (default: everything observed): days, or ISO-week means when there are more days than width; missing data are spaces.';

-- Sparkline of the mean passengers by KST hour of day, 0 to 23.
CREATE FUNCTION hourly_profile_sparkline(station text DEFAULT '성수', line text DEFAULT '2호선',
                                         from_date date DEFAULT NULL, to_date date DEFAULT NULL)
  RETURNS text
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
  sid integer := @extschema@.quality_scope(station, line, from_date, to_date);
  vals double precision[];
BEGIN
  SELECT array_agg(m.x ORDER BY hr.h) INTO vals
    FROM generate_series(0, 23) AS hr(h)
    LEFT JOIN (SELECT extract(hour FROM h.ts AT TIME ZONE 'Asia/Seoul')::integer AS h, avg(h.passengers) AS x
                 FROM @extschema@.ridership_hourly h
                WHERE h.station_id = sid
                  AND h.service_day BETWEEN coalesce(from_date, '-infinity') AND coalesce(to_date, 'infinity')
                GROUP BY 1) m ON m.h = hr.h
  HAVING count(m.x) > 0;
  RETURN @extschema@.sparkline(vals, 24);
END
$$;
COMMENT ON FUNCTION hourly_profile_sparkline(text, text, date, date) IS
  'Sparkline (24 characters) of mean passengers per KST hour of day 0-23 over the service days [from_date, to_date]; NULL when there is no hourly ridership.';

REVOKE ALL ON FUNCTION quality_scope(text, text, date, date), day_range_text(date, date),
  count_text(bigint, text), missing_days(text, text, date, date),
  make_quality_target(text, text, date, date, date), quality_row(text, text, boolean, numeric, text, text),
  quality_off_days(), quality_daily_rows(quality_target), quality_missing_days(quality_target),
  quality_missing_hours(quality_target), quality_impossible_values(quality_target),
  quality_source_agreement(quality_target), quality_hourly_vs_daily(quality_target), quality_outliers(quality_target),
  quality_level_shift(quality_target), quality_weather_coverage(quality_target), quality_holiday_years(quality_target),
  quality_holiday_horizon(quality_target), quality_staleness(quality_target), quality_congestion_survey(quality_target),
  quality_checks(), check_quality(text, text, date, date, date), assert_quality(text, text, date, date, boolean, date),
  profile(text, text, date, date, text, interval), sparkline(double precision[], integer),
  sparkline_final(double precision[]), sparkline_agg(double precision),
  histogram(double precision[], integer, integer), daily_sparkline(text, text, date, date, integer),
  hourly_profile_sparkline(text, text, date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION quality_scope(text, text, date, date), day_range_text(date, date),
  count_text(bigint, text), missing_days(text, text, date, date),
  make_quality_target(text, text, date, date, date), quality_row(text, text, boolean, numeric, text, text),
  quality_off_days(), quality_daily_rows(quality_target), quality_missing_days(quality_target),
  quality_missing_hours(quality_target), quality_impossible_values(quality_target),
  quality_source_agreement(quality_target), quality_hourly_vs_daily(quality_target), quality_outliers(quality_target),
  quality_level_shift(quality_target), quality_weather_coverage(quality_target), quality_holiday_years(quality_target),
  quality_holiday_horizon(quality_target), quality_staleness(quality_target), quality_congestion_survey(quality_target),
  quality_checks(), check_quality(text, text, date, date, date), assert_quality(text, text, date, date, boolean, date),
  profile(text, text, date, date, text, interval), sparkline(double precision[], integer),
  sparkline_final(double precision[]), sparkline_agg(double precision),
  histogram(double precision[], integer, integer), daily_sparkline(text, text, date, date, integer),
  hourly_profile_sparkline(text, text, date, date) TO seongsu_reader;
REVOKE ALL ON TYPE quality_target, quality_result FROM PUBLIC;
GRANT USAGE ON TYPE quality_target, quality_result TO seongsu_reader;
