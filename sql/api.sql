-- seongsu_api (src/sql/96_api.sql): what Supabase's anon role may call,
-- as a role granted seongsu_api_user sees it.  Within the API's reach (the
-- station's first observed day to 62 days after its last) the answers are
-- seongsu's own; beyond it, and for bad pages, a clear error before
-- anything is loaded.  Self-contained: a synthetic station of its own.
SET client_min_messages = warning;
\set SHOW_CONTEXT never
SET TimeZone = 'Asia/Seoul';

SELECT 'date,line,station,boardings,alightings' || E'\n' ||
       string_agg(format('%s,2호선,API역,%s,%s', to_char(d, 'YYYY-MM-DD'), b, b + 1200), E'\n' ORDER BY d) AS daily
FROM (SELECT d::date AS d,
             40000 + 12000 * (extract(isodow FROM d) < 6)::int + ((d::date - date '2023-01-01') * 53 % 997) AS b
      FROM generate_series(date '2023-01-01', date '2024-12-31', interval '1 day') d) s \gset
SELECT 'service_date,line,station,hour,passengers' || E'\n' ||
       string_agg(format('%s,2호선,API역,%s,%s', to_char(d, 'YYYY-MM-DD'), h, 800 + 150 * h), E'\n' ORDER BY d, h) AS hourly
FROM generate_series(date '2024-11-20', date '2024-12-31', interval '1 day') d, generate_series(5, 23) h \gset
SELECT seongsu.import_text('ridership_daily', :'daily') AS daily_rows;
SELECT seongsu.import_text('ridership_hourly', :'hourly') AS hourly_rows;
SELECT algorithm, deployed FROM seongsu.train('API역', '2호선', 'ridge', horizon => '1 day', force => true);

-- seongsu's answers, then the API's as a role that has only seongsu_api_user.
SELECT seongsu.predict_daily('2024-06-05', 'API역', '2호선') AS past,
       seongsu.predict_daily('2025-01-20', 'API역', '2호선') AS ahead,
       seongsu.predict_daily('2025-03-03', 'API역', '2호선') AS last_day,
       seongsu.predict_crowd('2025-01-20 08:30+09', 'API역', '2호선') AS hour,
       seongsu.predict_crowd('2025-01-21 01:30+09', 'API역', '2호선') AS night,
       seongsu.crowd_level('2025-01-20 18:00+09', 'API역', '2호선') AS level \gset
SELECT md5(string_agg(f::text, ',' ORDER BY f.ts)) AS hours
FROM seongsu.forecast('API역', '2호선', '2025-01-01 00:00+09', '2025-02-28 23:30+09') f \gset
SELECT string_agg(concat_ws(' ', q.check_name, q.severity, q.status), ', ' ORDER BY q.n) AS checks
FROM seongsu.check_quality('API역', '2호선', '2024-01-02', '2024-12-31')
  WITH ORDINALITY AS q(check_name, severity, status, observed, expected, detail, n) \gset
-- The dashboard: the operator's page has a run's note; the public one is
-- the page without the operator's panels.
SELECT max(run_id) AS api_run FROM seongsu.runs WHERE parent_run_id IS NULL AND station = 'API역' \gset
SELECT seongsu.set_note(:api_run, 'operator-only note');
SELECT md5(regexp_replace(seongsu.dashboard_page('API역', '2호선', '2025-01-10', true), '<footer.*$', '')) AS public_page,
       seongsu.dashboard('API역', '2호선', '2025-01-10') AS full_page \gset
-- A station with ridership hours but no days (an hourly import only): the
-- API has nothing to predict from.
SELECT seongsu.import_text('ridership_hourly',
  E'service_date,line,station,hour,passengers\n2024-12-30,2호선,시간역,8,900') AS hours_only_rows;
-- The error of a call: SQLSTATE, message, hint.
CREATE FUNCTION pg_temp.error_of(call text) RETURNS TABLE (code text, message text, hint text)
  LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE call;
  RETURN QUERY SELECT 'none'::text, NULL::text, NULL::text;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
  RETURN NEXT;
END $$;
CREATE ROLE ss_api NOLOGIN;
GRANT seongsu_api_user TO ss_api;
SET ROLE ss_api;
SELECT seongsu_api.predict_daily('2024-06-05', 'API역', '2호선') = :past AS past_equal,
       seongsu_api.predict_daily('2025-01-20', 'API역', '2호선') = :ahead AS ahead_equal,
       seongsu_api.predict_daily('2025-03-03', 'API역', '2호선') = :last_day AS last_day_equal,
       seongsu_api.predict_crowd('2025-01-20 08:30+09', 'API역', '2호선') = :hour AS hour_equal,
       seongsu_api.predict_crowd('2025-01-21 01:30+09', 'API역', '2호선') = :night AS night_equal,
       seongsu_api.crowd_level('2025-01-20 18:00+09', 'API역', '2호선') = :'level' AS level_equal;
-- 1,416 hours: pages of 1,000 (the default), of 500, and past the end
SELECT page, count(*) AS hours, min(ts) AS first_hour, max(ts) AS last_hour
FROM generate_series(1, 3) page,
     LATERAL seongsu_api.forecast('API역', '2호선', '2025-01-01 00:00+09', '2025-02-28 23:30+09', page) f
GROUP BY page ORDER BY page;
SELECT md5(string_agg(f::text, ',' ORDER BY f.ts)) = :'hours' AS pages_are_the_forecast
FROM generate_series(1, 3) page,
     LATERAL seongsu_api.forecast('API역', '2호선', '2025-01-01 00:00+09', '2025-02-28 23:30+09', page, 500) f;
SELECT count(*) AS default_hours FROM seongsu_api.forecast('API역', '2호선', '2025-01-10', '2025-01-17');
SELECT string_agg(concat_ws(' ', check_name, severity, status), ', ') = :'checks' AS quality_summary_equal
FROM seongsu_api.quality_summary('API역', '2호선');
SELECT seongsu_api.dashboard('API역', '2호선', '2025-01-10') AS page \gset
SELECT md5(regexp_replace(:'page', '<footer.*$', '')) = :'public_page' AS the_public_page,
       (SELECT array_agg(x[1] ORDER BY x[1]) FROM regexp_matches(:'page', '<section id="([a-z]+)"', 'g') x) AS sections,
       (SELECT array_agg(x[1] ORDER BY x[1]) FROM regexp_matches(:'full_page', '<section id="([a-z]+)"', 'g') x) AS operators_sections,
       position(format('<tr><td>%s</td>', :api_run) IN :'page') > 0 AS compares_the_runs,
       position('operator-only note' IN :'page') = 0 AS no_run_notes,
       position('operator-only note' IN :'full_page') > 0 AS operators_page_has_them,
       :'page' ~* '<script|https?://|src=|@import|url\(' AS fetches_or_scripts,
       :'page' ~ '</html>$' AS whole_page;
SELECT length(seongsu_api.dashboard('API역', '2호선')) > 0 AS default_today;

-- Beyond the reach, and bad arguments.
SELECT seongsu_api.predict_daily('2025-03-04', 'API역', '2호선');
SELECT seongsu_api.predict_daily('5874897-12-31', 'API역', '2호선');
SELECT seongsu_api.predict_daily('2022-12-31', 'API역', '2호선');
SELECT seongsu_api.predict_crowd('infinity', 'API역', '2호선');
SELECT seongsu_api.crowd_level('2025-03-04 03:59+09', 'API역', '2호선') IS NOT NULL AS night_of_the_last_day;
SELECT seongsu_api.crowd_level('2025-03-04 04:00+09', 'API역', '2호선');
SELECT seongsu_api.predict_daily('2024-06-05', '없는역', '2호선');
SELECT seongsu_api.predict_daily('2024-06-05', 'API역', '2');
SELECT * FROM seongsu_api.forecast('API역', '2호선', '2025-01-01', '200000-01-01');
SELECT * FROM seongsu_api.forecast('API역', '2호선', '2025-01-01', '2025-01-02', 0);
SELECT * FROM seongsu_api.forecast('API역', '2호선', '2025-01-01', '2025-01-02', 1, 1001);
SELECT * FROM seongsu_api.forecast('API역', '2호선', '2025-01-01', '2025-01-02', 1, 0);
SELECT * FROM seongsu_api.forecast('API역', '2호선', '2025-01-02', '2025-01-01');
SELECT * FROM seongsu_api.forecast('API역', '2호선', '2025-01-01', 'infinity');
SELECT count(*) AS far_page FROM seongsu_api.forecast('API역', '2호선', '2025-01-01', '2025-01-02', 2147483647, 1000);
SELECT seongsu_api.predict_daily(NULL, 'API역', '2호선') IS NULL AS strict;
SELECT seongsu_api.dashboard('API역', '2호선', '2030-01-01');
SELECT seongsu_api.dashboard('API역', '2호선', '2022-12-31');
SELECT seongsu_api.dashboard('없는역', '2호선');
SELECT seongsu_api.dashboard(NULL, '2호선');
-- a station without daily ridership: no_data_found (P0002) from each kind of call
SELECT c.fn, e.*
FROM (VALUES ('predict_daily', $$SELECT seongsu_api.predict_daily('2024-12-30', '시간역', '2호선')$$),
             ('forecast', $$SELECT * FROM seongsu_api.forecast('시간역', '2호선', '2024-12-30 08:00+09', '2024-12-30 09:00+09')$$),
             ('quality_summary', $$SELECT * FROM seongsu_api.quality_summary('시간역', '2호선')$$),
             ('dashboard', $$SELECT seongsu_api.dashboard('시간역', '2호선')$$)) c(fn, call),
     LATERAL pg_temp.error_of(c.call) e;

-- Nothing of schema seongsu.
SELECT seongsu.predict_daily('2024-06-05', 'API역', '2호선');
SELECT count(*) FROM seongsu.models;
SELECT seongsu.api_window('API역', '2호선');
SELECT seongsu.dashboard('API역', '2호선');
SELECT seongsu.dashboard_page('API역', '2호선', NULL, true);
RESET ROLE;

DROP ROLE ss_api;
