#!/usr/bin/env bash
# Accuracy: our models (seongsu.train + seongsu.evaluate) against the
# strongest anchors we can build, in one run on one server (issue 12).
#
#   two test windows, each a year scored without refit by models trained on
#   every observed day before it: 2018-06-01 .. 2019-05-31 and 2024-06-01 ..
#   2025-05-31; horizons 1 and 7 days (features use only observations at least
#   the horizon old); RMSE / MAE / MAPE on the same test days for every row,
#   overall and by kind of day (working day, Saturday, Sunday, holiday or
#   special day, holiday neighbour), with the best anchor of each row.
#
# Anchors (test/bench/accuracy_anchors.py, Debian python3-xgboost/-sklearn/-numpy)
# compute their own features from the raw tables of the same cluster
# (test/bench/accuracy_features.py: target and every count feature divided by
# the 28-day working-day level, the full calendar): XGBoost hist and
# scikit-learn HistGradientBoosting, tuned by time-ordered validation inside
# the training period; same weekday last week; the mean of the last 4
# same-weekday non-holiday days; the seed service's LinearRegression on
# row-shift lags.
#
# Hourly exercise (first, while nothing else is deployed): a daily model trained
# up to 2023-03-31 (auto: the best backtest), deployed; seongsu.predict_crowd(ts)
# for April 2023 hours 06-23 against the Seoul Metro hourly counts, beside the
# anchors' two-stage forecasts (daily model x the hour shares of the last 4
# days of the same type) and the same hour last week (MAPE).  The April hours
# (and every later hourly row and hour profile) are removed before training,
# so the models see 2011-2014 and 2023-01..03.
#
# Usage: bash test/bench/accuracy.sh [--anchors-only] [--no-hourly] [--no-build] [--keep]
#   --anchors-only  only the anchors (no seongsu.train / seongsu.evaluate)
#   --no-hourly     skip the hourly exercise
#   --no-build      use the installed extension as it is (no make / make install)
#   --keep          leave the cluster running afterwards
# Environment: DS_BENCH_PORT (25450), DAILY_SEONGSU_DATA (../shared/data),
#   DS_WORK (/tmp/daily_seongsu_accuracy), ALGORITHMS ("auto": one train() per
#   window and horizon, every candidate evaluated, the deployed one marked; or a
#   list such as "ridge gbdt", one train() each), HORIZONS ("1 7"),
#   WINDOWS ("2018-06-01:2019-05-31 2024-06-01:2025-05-31"), HOURLY_ALGORITHM (auto),
#   ANCHOR_JOBS (2: processes for the anchors' tuning).
# Takes about 3 minutes on the 2-core CI machine when it is otherwise idle (the
# anchors about 2 of them, in 2 processes).
set -euo pipefail
export DS_WORK=${DS_WORK:-/tmp/daily_seongsu_accuracy}
source "$(dirname "$0")/../lib.sh"
PORT=${DS_BENCH_PORT:-25450}
ALGORITHMS=${ALGORITHMS:-auto}
HORIZONS=${HORIZONS-"1 7"}
WINDOWS=${WINDOWS-"2018-06-01:2019-05-31 2024-06-01:2025-05-31"}
STATION=성수
LINE=2호선
PY=/usr/bin/python3               # the Debian interpreter that has python3-xgboost / -sklearn

anchors_only=0 hourly=1 build=1 keep=0
for a in "$@"; do
  case "$a" in
    --anchors-only) anchors_only=1 ;;
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
  echo "             Run with --anchors-only for the anchors alone." >&2
  exit 3
fi
if [ "$anchors_only" = 0 ] && [ "$hourly" = 1 ] && ! { has_fn deploy && has_fn predict_crowd; }; then
  echo "accuracy.sh: the hourly exercise needs seongsu.deploy and seongsu.predict_crowd (or use --no-hourly)." >&2
  exit 3
fi

ds_say "importing $DS_DATA"
ds_import_data_folder "${PSQL[@]}"
nfiles=$DS_IMPORTED
"${PSQL[@]}" -At -F ' ' -c "
  SELECT format('%s files; %s %s: %s daily rows %s .. %s', $nfiles, s.line, s.name, count(*), min(day), max(day))
    FROM seongsu.ridership_daily r JOIN seongsu.stations s ON s.id = r.station_id
   WHERE s.name = '$STATION' AND s.line = '$LINE' GROUP BY s.line, s.name"

# The raw tables the anchors compute their features from (before the hourly
# exercise removes the April 2023 hours: they are its truth).
ST="SELECT id FROM seongsu.stations WHERE name = '$STATION' AND line = '$LINE'"
"${PSQL[@]}" -c "\\copy (SELECT day, passengers FROM seongsu.ridership_daily WHERE station_id = ($ST) ORDER BY day) TO '$out/daily.csv' WITH (FORMAT csv, HEADER)" \
  -c "\\copy (SELECT day, name, kind, is_holiday FROM seongsu.holidays ORDER BY day, name) TO '$out/holidays.csv' WITH (FORMAT csv, HEADER)" \
  -c "\\copy (SELECT source, day, temp_mean_c, precip_mm, snow_cm FROM seongsu.weather_daily ORDER BY day, source) TO '$out/weather.csv' WITH (FORMAT csv, HEADER)" \
  -c "\\copy (SELECT service_day, extract(hour FROM ts AT TIME ZONE 'Asia/Seoul')::int AS hour, passengers FROM seongsu.ridership_hourly WHERE station_id = ($ST) ORDER BY ts) TO '$out/hourly.csv' WITH (FORMAT csv, HEADER)"

ms() { sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1; }

# Hourly exercise, ours: the April 2023 Seoul Metro hours are the truth; they
# (and every later hourly row and hour profile) are removed before training.
# The daily data stay: predict_crowd for an April day uses the 1-day model on
# the days before it (a true day-ahead backtest, no refit).
hourly_exercise() {
  local algo=${HOURLY_ALGORITHM:-auto} res id
  ds_say "hourly: daily model ($algo, 1 day) trained to 2023-03-31, deployed; predict_crowd(ts) for April 2023, hours 06-23"
  "${PSQL[@]}" <<SQL
DELETE FROM seongsu.ridership_hourly WHERE station_id = ($ST) AND service_day >= '2023-04-01';
DELETE FROM seongsu.hour_profile WHERE month >= '2023-04-01';
SQL
  res=$("${PSQL[@]}" -At -F $'\t' -c '\timing on' -c "
    SELECT model_id, algorithm, round((metrics->'mean'->>'rmse')::numeric), deployed FROM seongsu.train(station => '$STATION', line => '$LINE',
           algorithm => '$algo', grain => 'daily', horizon => '1 day', train_to => '2023-03-31', force => true)
     ORDER BY deployed DESC, (metrics->'mean'->>'rmse')::float8 NULLS LAST")
  id=$(grep -v '^Time:' <<< "$res" | head -1 | cut -f1)
  [ -n "$id" ] || { echo "accuracy.sh: seongsu.train($algo, 1 day, train_to 2023-03-31) returned no model" >&2; exit 1; }
  printf '  trained in %.2f s; backtest RMSE: %s; model %s (%s) is used\n' \
    "$(awk -v t="$(ms <<< "$res")" 'BEGIN { print t / 1000 }')" \
    "$(grep -v '^Time:' <<< "$res" | awk -F '\t' '{ printf "%s%s %s%s", (NR > 1 ? ", " : ""), $2, $3, ($4 == "t" ? " (deployed)" : "") }')" \
    "$id" "$(grep -v '^Time:' <<< "$res" | head -1 | cut -f2)"
  "${PSQL[@]}" -c "SELECT seongsu.deploy($id)" >/dev/null
  "${PSQL[@]}" -c '\timing on' -c "
    CREATE TABLE public.acc_hourly AS
    SELECT d::date AS service_day, h AS hour,
           seongsu.predict_crowd((d::date + make_time(h, 0, 0)) AT TIME ZONE 'Asia/Seoul', '$STATION', '$LINE')::float8 AS predicted
      FROM generate_series(date '2023-04-01', date '2023-04-30', interval '1 day') d, generate_series(6, 23) h" \
    | sed -n 's/^Time: \([0-9.]*\) ms.*/  predict_crowd over the 540 test hours: \1 ms in all/p'
  "${PSQL[@]}" -c "\\copy (SELECT service_day, hour, predicted FROM public.acc_hourly ORDER BY 1, 2) TO '$out/ours_hourly.csv' WITH (FORMAT csv, HEADER)"
}
[ "$anchors_only" = 0 ] && [ "$hourly" = 1 ] && hourly_exercise

# Our models on each window and horizon: one project per window (so that the
# first model of each is deployed and the windows do not compete), evaluated
# without refit on the test year.
if [ "$anchors_only" = 0 ]; then
  for W in $WINDOWS; do
    from=${W%%:*} to=${W##*:}
    train_to=$(date -d "$from - 1 day" +%F)
    for H in $HORIZONS; do
      ds_say "test $from .. $to, horizon $H day(s): seongsu.train(to $train_to), then seongsu.evaluate"
      for A in $ALGORITHMS; do
        res=$("${PSQL[@]}" -At -F $'\t' -c '\timing on' -c "
          SELECT model_id, algorithm, deployed
            FROM seongsu.train(station => '$STATION', line => '$LINE', algorithm => '$A', grain => 'daily',
                               horizon => '$H days', train_to => '$train_to', force => true,
                               project => 'accuracy $from $H days $A')")
        t_ms=$(ms <<< "$res")
        rows=$(grep -v '^Time:' <<< "$res")
        [ -n "$rows" ] || { echo "accuracy.sh: seongsu.train($A, $H days, to $train_to) returned no model" >&2; exit 1; }
        while IFS=$'\t' read -r id algo deployed; do
          [ "$A" = auto ] || deployed=f
          IFS=$'\t' read -r mode hp < <("${PSQL[@]}" -At -F $'\t' -c "SELECT target_mode, hyperparams FROM seongsu.models WHERE id = $id")
          printf '%s\t%s\t%s\t%s\t%s\n' "$algo" "$t_ms" "$deployed" "$mode" "$hp" >> "$out/ours_${from}_h$H.train"
          "${PSQL[@]}" -c "\\copy (SELECT day, actual, predicted FROM seongsu.evaluate($id, from_date => '$from', to_date => '$to') ORDER BY day) TO '$out/ours_${from}_h${H}_$algo.csv' WITH (FORMAT csv, HEADER)"
          printf '  %-15s model %-5s %s target %-5s %s test days\n' "$algo" "$id" "$([ "$deployed" = t ] && echo 'deployed,' || echo '         ')" \
            "$mode," "$(($(wc -l < "$out/ours_${from}_h${H}_$algo.csv") - 1))"
        done <<< "$rows"
        printf '  train(%s) took %.2f s\n' "$A" "$(awk -v t="$t_ms" 'BEGIN { print t / 1000 }')"
      done
    done
  done
fi

ds_say "anchors and tables"
opts=(--dir "$out" --windows "$WINDOWS" --horizons "$HORIZONS" --jobs "${ANCHOR_JOBS:-2}")
[ "$hourly" = 1 ] && opts+=(--hourly)
[ "$anchors_only" = 1 ] && opts+=(--anchors-only)
$PY "$DS_ROOT/test/bench/accuracy_anchors.py" "${opts[@]}"
printf '\naccuracy.sh: done in %d s\n' "$(( $(date +%s) - started ))"
