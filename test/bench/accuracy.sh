#!/usr/bin/env bash
# Accuracy: our models (seongsu.train + seongsu.evaluate) against XGBoost,
# scikit-learn and the seed service's model on the same features and split,
# in one run on one server.
#
#   train on every observed day up to 2024-05-31, evaluate on 2024-06-01 ..
#   2025-05-31 (time-ordered, no refit inside the test year), horizons 1 and
#   7 days, RMSE / MAE / MAPE on the same test days for every row.
#
# Anchors (test/bench/accuracy_anchors.py, Debian python3-xgboost/-sklearn/-numpy)
# read the rows of seongsu.features(...) — the same rows our models see:
#   XGBoost hist on the raw target and on target/level28 (multiplied back),
#   scikit-learn RandomForest (300 trees) and Ridge (standardized), the seed
#   service's LinearRegression on row-shift lags, and same-day-last-week.
# It also times training: ours vs XGBoost hist (nthread 1 and 2) and
# scikit-learn RandomForest on the same matrix.
#
# Hourly exercise (last): a daily model trained up to 2023-03-31 (auto: the
# best backtest), deployed; seongsu.predict_crowd(ts) for April 2023 hours
# 06-23 against the Seoul Metro hourly counts and the same-hour-last-week
# naive (MAPE).  The April hours (and every later hourly row and hour profile)
# are removed before training, so the models see 2011-2014 and 2023-01..03.
#
# Usage: bash test/bench/accuracy.sh [--anchors-only] [--no-hourly] [--no-build] [--keep]
#   --anchors-only  only the anchors (no seongsu.train / seongsu.evaluate, no hourly part)
#   --no-hourly     skip the hourly exercise
#   --no-build      use the installed extension as it is (no make / make install)
#   --keep          leave the cluster running afterwards
# Environment: DS_BENCH_PORT (25450), DAILY_SEONGSU_DATA (../shared/data),
#   DS_WORK (/tmp/daily_seongsu_accuracy), ALGORITHMS ("seasonal_naive ridge random_forest gbdt"),
#   HORIZONS ("1 7"; "" for none), HOURLY_ALGORITHM (auto).
# Takes about 4 minutes on the 2-core CI machine when it is otherwise idle.
set -euo pipefail
export DS_WORK=${DS_WORK:-/tmp/daily_seongsu_accuracy}
source "$(dirname "$0")/../lib.sh"
PORT=${DS_BENCH_PORT:-25450}
ALGORITHMS=${ALGORITHMS:-"seasonal_naive ridge random_forest gbdt"}
HORIZONS=${HORIZONS-"1 7"}
TRAIN_TO=2024-05-31
TEST_FROM=2024-06-01
TEST_TO=2025-05-31
STATION=성수
LINE=2호선
PY=/usr/bin/python3               # the Debian interpreter that has python3-xgboost / -sklearn

anchors_only=0 hourly=1 build=1 keep=0
for a in "$@"; do
  case "$a" in
    --anchors-only) anchors_only=1 hourly=0 ;;
    --no-hourly) hourly=0 ;;
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "accuracy.sh: unknown option $a (try --help)" >&2; exit 2 ;;
  esac
done

started=$(date +%s)
ds_bench_prepare accuracy.sh "$build"
$PY -c 'import numpy, sklearn, xgboost' 2>/dev/null \
  || { echo "accuracy.sh: $PY cannot import numpy, sklearn and xgboost (Debian python3-numpy python3-sklearn python3-xgboost)" >&2; exit 2; }

ds_say "throwaway cluster on 127.0.0.1:$PORT ($DS_WORK/cluster-$PORT)"
ds_start_cluster "$PORT" <<< ""
ds_cluster_at_exit "$PORT" "$keep"
PSQL=(psql -X -v ON_ERROR_STOP=1 -q)
"${PSQL[@]}" -c "CREATE EXTENSION daily_seongsu"

out="$DS_WORK/accuracy"
rm -rf "$out"; mkdir -p "$out"; chmod a+rwx "$out"

# Which functions exist decides what we can run.
has_fn() { [ "$("${PSQL[@]}" -At -c "SELECT count(*) FROM pg_proc WHERE proname = '$1' AND pronamespace = 'seongsu'::regnamespace")" != 0 ]; }
if [ "$anchors_only" = 0 ] && ! { has_fn train && has_fn evaluate; }; then
  echo "accuracy.sh: seongsu.train / seongsu.evaluate are not in this build of the extension." >&2
  echo "             Run with --anchors-only for the XGBoost / scikit-learn / seed numbers alone." >&2
  exit 3
fi
if [ "$hourly" = 1 ] && ! { has_fn deploy && has_fn predict_crowd && has_fn train; }; then
  echo "accuracy.sh: the hourly exercise needs seongsu.deploy and seongsu.predict_crowd (or use --no-hourly)." >&2
  exit 3
fi

ds_say "importing $DS_DATA"
ds_import_data_folder "${PSQL[@]}"
nfiles=$DS_IMPORTED
"${PSQL[@]}" -At -F ' ' -c "
  SELECT format('%s files; %s %s: %s daily rows %s .. %s; %s train days <= $TRAIN_TO, %s test days $TEST_FROM .. $TEST_TO',
                $nfiles, s.line, s.name, count(*), min(day), max(day),
                count(*) FILTER (WHERE day <= '$TRAIN_TO'), count(*) FILTER (WHERE day BETWEEN '$TEST_FROM' AND '$TEST_TO'))
    FROM seongsu.ridership_daily r JOIN seongsu.stations s ON s.id = r.station_id
   WHERE s.name = '$STATION' AND s.line = '$LINE' GROUP BY s.line, s.name"

# The observed daily series (for the seed model's row shifts).
"${PSQL[@]}" -c "\\copy (SELECT r.day, r.passengers FROM seongsu.ridership_daily r JOIN seongsu.stations s ON s.id = r.station_id WHERE s.name = '$STATION' AND s.line = '$LINE' ORDER BY r.day) TO '$out/daily.csv' WITH (FORMAT csv, HEADER)"

ms() { sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1; }
for H in $HORIZONS; do
  ds_say "horizon $H day(s): feature rows"
  t0=$(date +%s.%N)
  "${PSQL[@]}" -c "\\copy (SELECT * FROM seongsu.features('$STATION', '$LINE', '2015-01-01', '$TEST_TO', 'daily', '$H days') ORDER BY ts) TO '$out/features_h$H.csv' WITH (FORMAT csv, HEADER)"
  awk -v n="$(($(wc -l < "$out/features_h$H.csv") - 1))" -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "  %d rows in %.2f s\n", n, b - a }'
  [ "$anchors_only" = 1 ] && continue
  ds_say "horizon $H day(s): our models (seongsu.train, then seongsu.evaluate on $TEST_FROM .. $TEST_TO)"
  for A in $ALGORITHMS; do
    res=$("${PSQL[@]}" -At -F $'\t' -c '\timing on' -c "
      SELECT model_id, algorithm, metrics FROM seongsu.train(station => '$STATION', line => '$LINE', algorithm => '$A',
             grain => 'daily', horizon => '$H days', train_to => '$TRAIN_TO', force => true)")
    t_ms=$(ms <<< "$res")
    row=$(grep -v '^Time:' <<< "$res" | head -1)
    id=$(cut -f1 <<< "$row")
    [ -n "$id" ] || { echo "accuracy.sh: seongsu.train($A, $H days) returned no model" >&2; exit 1; }
    printf '%s\t%s\t%s\t%s\n' "$A" "$t_ms" \
      "$("${PSQL[@]}" -At -F $'\t' -c "SELECT train_seconds, train_rows, target_mode, hyperparams FROM seongsu.models WHERE id = $id")" \
      "$(cut -f3- <<< "$row")" >> "$out/ours_h$H.train"
    "${PSQL[@]}" -c "\\copy (SELECT day, actual, predicted FROM seongsu.evaluate($id, from_date => '$TEST_FROM', to_date => '$TEST_TO') ORDER BY day) TO '$out/ours_h${H}_$A.csv' WITH (FORMAT csv, HEADER)"
    printf '  %-15s model %-5s trained in %8.2f s, %s test days\n' "$A" "$id" "$(awk -v t="$t_ms" 'BEGIN { print t / 1000 }')" "$(($(wc -l < "$out/ours_h${H}_$A.csv") - 1))"
  done
done

if [ -n "${HORIZONS// /}" ]; then
  ds_say "anchors and tables"
  $PY "$DS_ROOT/test/bench/accuracy_anchors.py" --dir "$out" --horizons "$HORIZONS" \
    --train-to "$TRAIN_TO" --test-from "$TEST_FROM" --test-to "$TEST_TO" \
    $([ "$anchors_only" = 1 ] && echo --anchors-only)
fi

# Hourly exercise: the April 2023 Seoul Metro hours are the truth; they (and
# every later hourly row and hour profile) are removed before training, so the
# models see the hourly data of 2011-2014 and 2023-01 .. 2023-03 only.  The
# daily data stay: predict_crowd for an April day uses the 1-day model on the
# days before it (a true day-ahead backtest, no refit).
hourly_exercise() {
  local algo=${HOURLY_ALGORITHM:-auto} res id
  ds_say "hourly: daily model ($algo, 1 day) trained to 2023-03-31, deployed; predict_crowd(ts) for April 2023, hours 06-23"
  "${PSQL[@]}" <<SQL
CREATE TABLE public.acc_truth AS
  SELECT h.ts, h.service_day, h.passengers
    FROM seongsu.ridership_hourly h JOIN seongsu.stations s ON s.id = h.station_id
   WHERE s.name = '$STATION' AND s.line = '$LINE' AND h.service_day >= '2023-04-01';
DELETE FROM seongsu.ridership_hourly h USING seongsu.stations s
 WHERE s.id = h.station_id AND s.name = '$STATION' AND s.line = '$LINE' AND h.service_day >= '2023-04-01';
DELETE FROM seongsu.hour_profile WHERE month >= '2023-04-01';
SQL
  res=$("${PSQL[@]}" -At -F $'\t' -c '\timing on' -c "
    SELECT model_id, algorithm, round((metrics->'mean'->>'rmse')::numeric) FROM seongsu.train(station => '$STATION', line => '$LINE',
           algorithm => '$algo', grain => 'daily', horizon => '1 day', train_to => '2023-03-31', force => true)
     ORDER BY (metrics->'mean'->>'rmse')::float8 NULLS LAST")
  id=$(grep -v '^Time:' <<< "$res" | head -1 | cut -f1)
  [ -n "$id" ] || { echo "accuracy.sh: seongsu.train($algo, 1 day, train_to 2023-03-31) returned no model" >&2; exit 1; }
  printf '  trained in %.2f s; backtest RMSE: %s; deploying model %s (%s, the best backtest)\n' \
    "$(awk -v t="$(ms <<< "$res")" 'BEGIN { print t / 1000 }')" \
    "$(grep -v '^Time:' <<< "$res" | awk -F '\t' '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $3 }')" \
    "$id" "$(grep -v '^Time:' <<< "$res" | head -1 | cut -f2)"
  "${PSQL[@]}" -c "SELECT seongsu.deploy($id)" >/dev/null
  "${PSQL[@]}" -c '\timing on' -c "
    CREATE TABLE public.acc_hourly AS
    SELECT t.ts, t.service_day, t.passengers::float8 AS actual,
           seongsu.predict_crowd(t.ts, '$STATION', '$LINE')::float8 AS predicted,
           coalesce(t7.passengers, h7.passengers)::float8 AS naive
      FROM public.acc_truth t
      LEFT JOIN public.acc_truth t7 ON t7.ts = t.ts - interval '7 days'
      LEFT JOIN (SELECT h.ts, h.passengers FROM seongsu.ridership_hourly h JOIN seongsu.stations s ON s.id = h.station_id
                  WHERE s.name = '$STATION' AND s.line = '$LINE') h7 ON h7.ts = t.ts - interval '7 days'
     WHERE t.service_day BETWEEN '2023-04-01' AND '2023-04-30'
       AND extract(hour FROM t.ts AT TIME ZONE 'Asia/Seoul') BETWEEN 6 AND 23" | sed -n 's/^Time: \([0-9.]*\) ms.*/  predict_crowd over the test hours: \1 ms in all/p'
  "${PSQL[@]}" -c "
    WITH d AS (SELECT service_day, sum(actual) AS actual_day, sum(predicted) AS predicted_day
                 FROM public.acc_hourly GROUP BY service_day),
    e AS (
      SELECT a.*, a.predicted * d.actual_day / nullif(d.predicted_day, 0) AS share_only,
             extract(isodow FROM a.service_day) IN (6, 7) OR seongsu.is_holiday(a.service_day) AS off
        FROM public.acc_hourly a JOIN d USING (service_day)
       WHERE a.actual > 0 AND a.predicted IS NOT NULL AND a.naive IS NOT NULL)
    SELECT CASE WHEN grouping(off) = 1 THEN 'all' WHEN off THEN 'days off' ELSE 'working days' END AS days,
           count(*) AS hours,
           round((100 * avg(abs(predicted - actual) / actual))::numeric, 2) AS \"ours MAPE %\",
           round((100 * avg(abs(share_only - actual) / actual))::numeric, 2) AS \"ours, true 06-23 total MAPE %\",
           round((100 * avg(abs(naive - actual) / actual))::numeric, 2) AS \"same hour last week MAPE %\",
           round(sqrt(avg((predicted - actual) ^ 2))::numeric) AS \"ours RMSE\",
           round(sqrt(avg((naive - actual) ^ 2))::numeric) AS \"naive RMSE\"
      FROM e GROUP BY ROLLUP (off) ORDER BY grouping(off) DESC, off"
  "${PSQL[@]}" -At -c "SELECT format('  test hours: %s, without a prediction: %s, without a naive value: %s',
                                     count(*), count(*) FILTER (WHERE predicted IS NULL), count(*) FILTER (WHERE naive IS NULL))
                         FROM public.acc_hourly"
  "${PSQL[@]}" -At -c "
    WITH d AS (SELECT service_day, sum(actual) AS a, sum(predicted) AS p FROM public.acc_hourly GROUP BY 1)
    SELECT format('  daily part: the 06-23 sums of predict_crowd are off by %s %% (MAPE over %s days; worst %s %% on %s)',
                  round((100 * avg(abs(p - a) / a))::numeric, 2), count(*),
                  round((100 * max(abs(p - a) / a))::numeric, 1), (array_agg(service_day ORDER BY abs(p - a) / a DESC))[1])
      FROM d"
  echo "  (\"true 06-23 total\": our hourly predictions rescaled so that each day sums to the observed 06-23 total,"
  echo "   i.e. the error of the hour shares alone; the truth is Seoul Metro's all-ticket count, the daily model card totals)"
}
[ "$hourly" = 1 ] && hourly_exercise
printf '\naccuracy.sh: done in %d s\n' "$(( $(date +%s) - started ))"
