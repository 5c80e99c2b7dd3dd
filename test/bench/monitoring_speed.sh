#!/usr/bin/env bash
# Monitoring speed (issue 15), in one run on one server with ten years of the
# real Seongsu data: publish_forecast for 7 days, metrics(), evaluate_alerts()
# and dashboard(), each as the median of $RUNS calls in one session (timed
# in the server: clock_timestamp around each call) and as the first call of
# a new backend (psql \timing, round trip included).
#
# The database: every real file of the data folder (2015-2025 daily, hourly
# 2023, CardSubwayTime, weather, KASI holidays 2014-2027); a gbdt at 1 day
# and a random forest at 7 days deployed, and a ridge at 1 day trained after
# them (the challenger); forecasts published as of every day of the last
# year (both roles: about 128,000 rows of prediction_log); 30 days of
# ingest_log for 607 stations; ANALYZE.
# Targets: metrics() and evaluate_alerts() <= 50 ms, dashboard() <= 200 ms,
# publish_forecast for 7 days <= 20 ms.
#
# Usage: bash test/bench/monitoring_speed.sh [--no-build] [--keep]
# Environment: DS_BENCH_PORT (25476), DAILY_SEONGSU_DATA (../shared/data),
#   DS_WORK (/tmp/daily_seongsu_monitoring), RUNS (9).
export DS_WORK=${DS_WORK:-/tmp/daily_seongsu_monitoring}
source "$(dirname "$0")/../lib.sh"
PORT=${DS_BENCH_PORT:-25476}
RUNS=${RUNS:-9}
build=1 keep=0
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    *) echo "usage: $0 [--no-build] [--keep]" >&2; exit 2 ;;
  esac
done
ds_bench_prepare monitoring_speed.sh "$build"
ds_start_cluster "$PORT" <<< ""
ds_cluster_at_exit "$PORT" "$keep"

ds_say "loading ten years of real data, training, publishing a year of forecasts"
psql -q -c "CREATE EXTENSION daily_seongsu"
ds_import_data_folder psql
psql -qAt <<'SQL'
SET client_min_messages = warning;
SELECT count(*) FROM seongsu.train(algorithm => 'gbdt', horizon => '1 day', force => true);
SELECT count(*) FROM seongsu.train(algorithm => 'random_forest', horizon => '7 days', force => true);
SQL
# the challenger: trained in a later transaction and aliased (seongsu.set_alias)
psql -qAt -c "SELECT seongsu.set_alias('성수 2호선 daily 1 days', 'challenger', t.model_id, 'bench') FROM seongsu.train(algorithm => 'ridge', horizon => '1 day', train_to => '2025-04-30', force => true) t" >/dev/null
psql -qAt <<'SQL'
SELECT format('%s days, %s to %s', count(*), min(day), max(day)) FROM seongsu.ridership_daily;
SELECT format('deployed: %s; challenger of the 1-day project: %s',
              (SELECT string_agg(algorithm || ' ' || horizon, ', ') FROM seongsu.deployed_models),
              (SELECT algorithm FROM seongsu.models WHERE id = seongsu.model_for_alias('성수 2호선 daily 1 days', 'challenger')));
SELECT format('published: %s rows', sum(seongsu.publish_forecast(as_of => d::date)))
  FROM generate_series(date '2024-05-31', date '2025-05-30', interval '1 day') d;
INSERT INTO seongsu.ingest_log (job_id, source, url, attempt, http_status, latency_ms, rows_parsed, rows_written, error, at)
SELECT day, 'seoul_daily', 'http://127.0.0.1/***/json/CardSubwayStatsNew', 1,
       CASE WHEN s % 50 = 0 THEN 500 ELSE 200 END, 80 + (s * 37) % 400, 607, 607,
       CASE WHEN s % 50 = 0 THEN 'HTTP 500' END, now() - make_interval(days => day, secs => s)
  FROM generate_series(0, 29) day, generate_series(1, 607) s;
SELECT count(*) FROM seongsu.evaluate_alerts();
ANALYZE;
SELECT format('prediction_log %s rows, ingest_log %s rows, alerts %s', (SELECT count(*) FROM seongsu.prediction_log),
              (SELECT count(*) FROM seongsu.ingest_log), (SELECT count(*) FROM seongsu.alerts));
SQL

ds_say "timing: the median of $RUNS calls in one session (server time), and the first call of a new backend"
# the median of $RUNS calls of SQL expression $1 (with {i} = 0.. in it), in ms
median() {
  psql -qAt <<SQL
CREATE TEMP TABLE t (ms double precision);
DO \$\$
DECLARE t0 timestamptz; i integer;
BEGIN
  FOR i IN 0 .. $RUNS - 1 LOOP
    t0 := clock_timestamp();
    PERFORM $(echo "$1" | sed 's/{i}/i/g');
    INSERT INTO t VALUES (extract(epoch FROM clock_timestamp() - t0) * 1000);
  END LOOP;
END \$\$;
SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2) FROM t;
SQL
}
# the first call of SQL statement $1 in a new backend, in ms (psql \timing)
first() { psql -qAt -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'; }

# publish as of days after the data (each a new publication: the days since
# the last observation are filled recursively, as in daily use)
pub_first=$(first "SELECT seongsu.publish_forecast(as_of => '2025-06-20')")
pub=$(median "seongsu.publish_forecast(as_of => date '2025-06-01' + {i})")
met_first=$(first "SELECT length(seongsu.metrics())")
met=$(median "length(seongsu.metrics())")
eva_first=$(first "SELECT count(*) FROM seongsu.evaluate_alerts()")
eva=$(median "(SELECT count(*) FROM seongsu.evaluate_alerts())")
das_first=$(first "SELECT length(seongsu.dashboard())")
das=$(median "length(seongsu.dashboard())")
printf '\n%-34s %10s %14s %22s\n' "function" "target" "median (ms)" "new backend (ms)"
printf '%-34s %10s %14s %22s\n' "publish_forecast, 7 days" "20 ms" "$pub" "$pub_first"
printf '%-34s %10s %14s %22s\n' "metrics()" "50 ms" "$met" "$met_first"
printf '%-34s %10s %14s %22s\n' "evaluate_alerts()" "50 ms" "$eva" "$eva_first"
printf '%-34s %10s %14s %22s\n' "dashboard()" "200 ms" "$das" "$das_first"
