#!/usr/bin/env bash
# Prediction speed, in one run on one server:
#
#   ours        seongsu.predict_crowd(ts) / seongsu.forecast(...) with our gbdt
#               (600 trees, depth 6, no early stopping), trained on the real
#               data and deployed;
#   PL/Python   public.xgb_predict(ts) / public.xgb_forecast(from, to): an
#               XGBoost model of the same size (600 trees, depth 6) on the same
#               feature columns and target mode, loaded once per backend (GD),
#               fed by seongsu.features (test/bench/predict_anchor.py,
#               test/bench/predict_speed_plpython.sql; Debian
#               postgresql-plpython3-15 and python3-xgboost);
#   floor       SELECT passengers FROM seongsu.ridership_daily WHERE station_id = <성수> AND day = $1
#               (a trivial indexed lookup: the client round trip).
#
# Measures
#   1. pgbench -M prepared -T $DURATION, 1 client and 2 clients (-j 2), a random
#      hour of 2024 per transaction, for the three; tps and ratios to the floor
#      (each pgbench connection's first call, with its model load, is inside
#      the run); for reference also predict_crowd of one fixed hour (the same
#      day every call: the model's tree walk stays in the CPU caches);
#   2. batch: every hour of 2024-06-01 .. 2025-05-31 (8760) in one call:
#      seongsu.forecast vs xgb_forecast (one feature query, one predict on the
#      day matrix, hour shares), best of $BATCH_RUNS after a warm-up call;
#      ours also right after a data change that leaves every day's feature
#      row as it was, and after one that changes every day's row (every day
#      walked through the trees again);
#      also one call per hour in one query over the first $ROW_HOURS hours
#      (predict_crowd vs xgb_predict);
#   3. the first prediction in a new backend (psql -c '\timing on' in a fresh
#      connection), median and min of $FIRST_RUNS connections, and the second
#      call in the same backend: for a day another backend has answered;
#      right after a data change (a write to seongsu.holidays: the backend
#      reads the series, holidays, weather and deployments; the model's image
#      comes from the shared model cache); and right after a server restart
#      (shared memory empty: the backend also reads the model from its
#      table); the floor's first query in a fresh connection for reference
#      (what any first statement of a backend costs), also after a restart;
#   4. pgbench -C (a new connection per transaction: many short sessions)
#      for ours and the floor, where every call is a first call.
# Targets (issue): predict_crowd >= 75% of the floor's tps; batch forecast
# >= 10x the PL/Python batch rate; first prediction in a new backend <= 5 ms.
#
# Usage: bash test/bench/predict_speed.sh [--no-build] [--keep]
#   --no-build  use the installed extension as it is (no make / make install)
#   --keep      leave the cluster running afterwards (port $DS_BENCH_PORT)
# Environment: DS_BENCH_PORT (25470), DAILY_SEONGSU_DATA (../shared/data),
#   DS_WORK (/tmp/daily_seongsu_predict), DURATION (15 s per pgbench run),
#   BATCH_RUNS (3), FIRST_RUNS (7), ROW_HOURS (720: hours of the one-call-per-hour runs).
export DS_WORK=${DS_WORK:-/tmp/daily_seongsu_predict}
source "$(dirname "$0")/../lib.sh"
PORT=${DS_BENCH_PORT:-25470}
DURATION=${DURATION:-15}
BATCH_RUNS=${BATCH_RUNS:-3}
FIRST_RUNS=${FIRST_RUNS:-7}
ROW_HOURS=${ROW_HOURS:-720}
STATION=성수
LINE=2호선
PY=/usr/bin/python3               # the Debian interpreter that has python3-xgboost (the one plpython3u embeds)
PGBENCH=$DS_BIN/pgbench
BATCH_FROM='2024-06-01 00:00+09'
BATCH_TO='2025-05-31 23:00+09'

build=1 keep=0
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,/^export/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "predict_speed.sh: unknown option $a (try --help)" >&2; exit 2 ;;
  esac
done

started=$(date +%s)
ds_bench_prepare predict_speed.sh "$build"
$PY -c 'import numpy, xgboost' 2>/dev/null \
  || { echo "predict_speed.sh: $PY cannot import numpy and xgboost (Debian python3-numpy python3-xgboost)" >&2; exit 2; }
[ -x "$PGBENCH" ] || { echo "predict_speed.sh: $PGBENCH is missing" >&2; exit 2; }

ds_say "throwaway cluster on 127.0.0.1:$PORT ($DS_WORK/cluster-$PORT)"
ds_start_cluster "$PORT" <<< ""
ds_cluster_at_exit "$PORT" "$keep"
PSQL=(psql -X -v ON_ERROR_STOP=1 -q)
"${PSQL[@]}" -c "CREATE EXTENSION daily_seongsu"

out="$DS_WORK/predict"
rm -rf "$out"; mkdir -p "$out"; chmod a+rwx "$out"

ds_say "importing $DS_DATA"
ds_import_data_folder "${PSQL[@]}"
nfiles=$DS_IMPORTED
SID=$("${PSQL[@]}" -At -c "SELECT id FROM seongsu.stations WHERE name = '$STATION' AND line = '$LINE'")
"${PSQL[@]}" -At -c "SELECT format('  %s files; %s %s (station %s): %s daily rows %s .. %s', $nfiles, '$STATION', '$LINE', $SID, count(*), min(day), max(day))
                       FROM seongsu.ridership_daily WHERE station_id = $SID"

ds_say "our gbdt: 600 trees, depth 6, no early stopping, horizon 1 day"
res=$("${PSQL[@]}" -At -F $'\t' -c '\timing on' -c "
  SELECT model_id, algorithm FROM seongsu.train(station => '$STATION', line => '$LINE', algorithm => 'gbdt',
         horizon => '1 day', force => true, hyperparams => '{\"n_estimators\": 600, \"max_depth\": 6, \"early_stopping_rounds\": 0}')")
MODEL=$(grep -v '^Time:' <<< "$res" | head -1 | cut -f1)
[ -n "$MODEL" ] || { echo "predict_speed.sh: seongsu.train(gbdt) returned no model" >&2; exit 1; }
"${PSQL[@]}" -c "SELECT seongsu.deploy($MODEL)" >/dev/null
"${PSQL[@]}" -At -c "SELECT format('  model %s: %s trees, depth %s, target %s, %s rows %s .. %s, %s bytes, trained in %s s; deployed: %s',
                       id, hyperparams->>'n_estimators', hyperparams->>'max_depth', target_mode, train_rows, train_from, train_to,
                       length(blob), round(train_seconds::numeric, 2),
                       (SELECT model_id FROM seongsu.deployed_models WHERE station_id = $SID AND grain = 'daily') = id)
                       FROM seongsu.models WHERE id = $MODEL"
[ "$("${PSQL[@]}" -At -c "SELECT hyperparams->>'n_estimators' FROM seongsu.models WHERE id = $MODEL")" = 600 ] \
  || echo "  WARNING: model $MODEL does not have 600 trees"

ds_say "PL/Python anchor: XGBoost, same size, same feature columns (predict_anchor.py)"
"${PSQL[@]}" -c "\\copy (SELECT * FROM seongsu.features('$STATION', '$LINE', '2015-01-01', '2025-05-31', 'daily', '1 day') ORDER BY ts) TO '$out/features.csv' WITH (FORMAT csv, HEADER)"
IFS=$'\t' read -r cols mode train_to shares < <("${PSQL[@]}" -At -F $'\t' -c "
  SELECT array_to_string(features, ','), target_mode, train_to, array_to_string(hour_shares, ',') FROM seongsu.models WHERE id = $MODEL")
$PY "$DS_ROOT/test/bench/predict_anchor.py" --features "$out/features.csv" --model-id "$MODEL" --columns "$cols" \
  --target-mode "$mode" --train-to "$train_to" --shares "$shares" --out "$out"
chmod a+r "$out"/*
sed -e "s|@META@|$out/xgb_meta.json|g; s|@STATION@|$STATION|g; s|@LINE@|$LINE|g" \
  "$DS_ROOT/test/bench/predict_speed_plpython.sql" > "$out/plpython.sql"
"${PSQL[@]}" -c "SET client_min_messages = warning" -f "$out/plpython.sql"
# Both answer the same question: print one hour and the 8760-hour sums.
"${PSQL[@]}" -At -F ' ' -c "
  SELECT format('  2024-09-03 08:00 KST: predict_crowd %s, xgb_predict %s', round(seongsu.predict_crowd('2024-09-03 08:00+09', '$STATION', '$LINE')::numeric),
                round(public.xgb_predict('2024-09-03 08:00+09')::numeric))" -c "
  SELECT format('  %s hours %s .. %s: forecast sum %s, xgb_forecast sum %s (%s hours)', o.n, '$BATCH_FROM', '$BATCH_TO', round(o.s::numeric), round(p.s::numeric), p.n)
    FROM (SELECT count(*) AS n, sum(passengers) AS s FROM seongsu.forecast('$STATION', '$LINE', '$BATCH_FROM', '$BATCH_TO')) o,
         (SELECT count(*) AS n, sum(v) AS s FROM public.xgb_forecast('$BATCH_FROM', '$BATCH_TO') v) p"

# ------------------------------------------------------------------ pgbench
ds_say "pgbench -M prepared -T $DURATION: a random hour of 2024 per transaction"
printf '%s\n' '\set h random(0, 8000)' \
  "SELECT seongsu.predict_crowd(timestamptz '2024-01-01 00:00+09' + :h * interval '1 hour', '$STATION', '$LINE');" > "$out/ours.pgb"
printf '%s\n' "SELECT seongsu.predict_crowd(timestamptz '2024-05-01 08:00+09', '$STATION', '$LINE');" > "$out/ours_fixed.pgb"
printf '%s\n' '\set h random(0, 8000)' \
  "SELECT public.xgb_predict(timestamptz '2024-01-01 00:00+09' + :h * interval '1 hour');" > "$out/plpython.pgb"
printf '%s\n' '\set h random(0, 8000)' '\set d :h / 24' \
  "SELECT passengers FROM seongsu.ridership_daily WHERE station_id = $SID AND day = date '2024-01-01' + :d::int;" > "$out/floor.pgb"
chmod a+r "$out"/*.pgb
declare -A TPS LAT
: > "$out/pgbench.tsv"
# floor_new / ours_new: a new connection for every transaction (pgbench -C):
# the workload of many short sessions (a pooler that hands out fresh
# backends, or clients without a pool), where every call is a first call.
for c in 1 2; do
  for s in floor ours ours_fixed plpython floor_new ours_new; do
    log="$out/pgbench_${s}_c$c.log"
    conn=(); file=$s
    case $s in *_new) conn=(-C); file=${s%_new} ;; esac
    if ! "$PGBENCH" -n -M prepared "${conn[@]}" -T "$DURATION" -c "$c" -j "$c" -f "$out/$file.pgb" > "$log" 2>&1; then
      echo "predict_speed.sh: pgbench ($s, $c clients) failed:" >&2; tail -20 "$log" >&2; exit 1
    fi
    TPS[$s,$c]=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$log")
    LAT[$s,$c]=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$log")
    grep -q '^number of failed transactions: 0 ' "$log" \
      || { echo "predict_speed.sh: pgbench ($s, $c clients) had failed transactions:" >&2; cat "$log" >&2; exit 1; }
    printf '  %-10s -c %s: %10.1f tps, %7.3f ms average latency\n' "$s" "$c" "${TPS[$s,$c]}" "${LAT[$s,$c]}"
    printf '%s\t%s\t%s\t%s\n' "$s" "$c" "${TPS[$s,$c]}" "${LAT[$s,$c]}" >> "$out/pgbench.tsv"
  done
done

# ------------------------------------------------------------------ batch
ds_say "batch: every hour of $BATCH_FROM .. $BATCH_TO in one call (warm backend, best of $BATCH_RUNS)"
# All Time: lines of one psql session, as milliseconds.
times() { "${PSQL[@]}" -At -c '\timing on' "$@" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'; }
best() { sort -g | head -1; }
q_ours="SELECT count(*) FROM seongsu.forecast('$STATION', '$LINE', '$BATCH_FROM', '$BATCH_TO')"
q_pl="SELECT count(*) FROM public.xgb_forecast('$BATCH_FROM', '$BATCH_TO')"
n_batch=$("${PSQL[@]}" -At -c "$q_ours")
n_pl=$("${PSQL[@]}" -At -c "$q_pl")
[ "$n_batch" = "$n_pl" ] || { echo "predict_speed.sh: forecast gives $n_batch hours, xgb_forecast $n_pl" >&2; exit 1; }
args=(-c "$q_ours"); for _ in $(seq "$BATCH_RUNS"); do args+=(-c "$q_ours"); done
t_batch_ours=$(times "${args[@]}" | tail -n +2 | best)
args=(-c "$q_pl"); for _ in $(seq "$BATCH_RUNS"); do args+=(-c "$q_pl"); done
t_batch_pl=$(times "${args[@]}" | tail -n +2 | best)
# The same call right after a data change (a write to a watched table
# commits first), so it reloads its inputs and recomputes every day's
# feature row: a write that leaves the rows as they were (the trees are not
# walked again for a row already predicted), and one that changes every
# day's row (the weather of every day of the range, up and down by 0.01 °C
# in turn): every day walked through the trees again.
touch_sql="UPDATE seongsu.holidays SET name = name WHERE false"
args=(-c "$q_ours"); for _ in $(seq "$BATCH_RUNS"); do args+=(-c "$touch_sql" -c "$q_ours"); done
t_batch_fresh=$(times "${args[@]}" | tail -n +2 | awk 'NR % 2 == 0' | best)
wx_sql() { echo "UPDATE seongsu.weather_daily SET temp_mean_c = temp_mean_c $1 0.01 WHERE day BETWEEN '2024-06-01' AND '2025-05-31'"; }
args=(-c "$q_ours"); for r in $(seq "$BATCH_RUNS"); do args+=(-c "$(wx_sql "$([ $((r % 2)) = 1 ] && echo + || echo -)")" -c "$q_ours"); done
[ $((BATCH_RUNS % 2)) = 1 ] && args+=(-c "$(wx_sql -)")
t_batch_allrows=$(times "${args[@]}" | tail -n +2 | awk 'NR % 2 == 0' | best)
printf '  seongsu.forecast        %8.1f ms for %s hours\n' "$t_batch_ours" "$n_batch"
printf '  same, after a change    %8.1f ms for %s hours\n' "$t_batch_fresh" "$n_batch"
printf '  same, every row changed %8.1f ms for %s hours\n' "$t_batch_allrows" "$n_batch"
printf '  public.xgb_forecast     %8.1f ms for %s hours\n' "$t_batch_pl" "$n_pl"
# One call per hour, in one query (warm backend), over the first $ROW_HOURS hours.
q_rows_ours="SELECT count(seongsu.predict_crowd(t, '$STATION', '$LINE')) FROM generate_series(timestamptz '$BATCH_FROM', timestamptz '$BATCH_FROM' + ($ROW_HOURS - 1) * interval '1 hour', '1 hour') t"
q_rows_pl="SELECT count(public.xgb_predict(t)) FROM generate_series(timestamptz '$BATCH_FROM', timestamptz '$BATCH_FROM' + ($ROW_HOURS - 1) * interval '1 hour', '1 hour') t"
t_rows_ours=$(times -c "SELECT seongsu.predict_crowd('$BATCH_FROM', '$STATION', '$LINE')" -c "$q_rows_ours" | tail -1)
t_rows_pl=$(times -c "SELECT public.xgb_predict('$BATCH_FROM')" -c "$q_rows_pl" | tail -1)
printf '  predict_crowd per hour  %8.1f ms for %s hours\n' "$t_rows_ours" "$ROW_HOURS"
printf '  xgb_predict per hour    %8.1f ms for %s hours\n' "$t_rows_pl" "$ROW_HOURS"

# ------------------------------------------------------------------ first call
ds_say "first prediction in a new backend (psql -c '\\timing on' -c ..., $FIRST_RUNS fresh connections each)"
# The times (ms) of two statements in one fresh connection, as "first second".
two_calls() {
  "${PSQL[@]}" -At -c '\timing on' -c "$1" -c "$2" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | paste -sd ' '
}
restart() { ds_as_pg "$DS_BIN/pg_ctl" -D "$DS_WORK/cluster-$PORT/data" -l "$DS_WORK/cluster-$PORT/server.log" -w -t 120 restart >/dev/null; }
# The statements: a function of a 2024-03 hour (day offset $3), and the floor's lookup of a day.
call_at() { echo "SELECT $1(timestamptz '2024-03-01 $2+09' + $3 * interval '1 day' $4)"; }
floor_at() { echo "SELECT passengers FROM seongsu.ridership_daily WHERE station_id = $SID AND day = date '$1' + $2"; }
ours=", '$STATION', '$LINE'"
# FIRST_RUNS fresh connections, each after running "$1" (a shell command, or :), two calls of
# function $2 (args $3) at a different hour each time; with $1 = prime the day is answered first
# by another connection.
first() {
  local i
  for i in $(seq "$FIRST_RUNS"); do
    if [ "$1" = prime ]; then "${PSQL[@]}" -At -c "$(call_at "$2" 12:00 "$i" "$3")" >/dev/null; else $1; fi
    two_calls "$(call_at "$2" 08:00 "$i" "$3")" "$(call_at "$2" 09:00 "$i" "$3")"
  done
}
# The floor's two lookups in FIRST_RUNS fresh connections, each after running "$1".
first_floor() {
  local i
  for i in $(seq "$FIRST_RUNS"); do
    $1
    two_calls "$(floor_at 2024-03-01 "$i")" "$(floor_at 2024-04-01 "$i")"
  done
}
touch_data() { "${PSQL[@]}" -c "$touch_sql"; }
first prime seongsu.predict_crowd "$ours" > "$out/first_ours.txt"
# The same right after a data change (a no-op write to seongsu.holidays, from
# another connection, commits first); the model comes from the shared model cache.
first touch_data seongsu.predict_crowd "$ours" > "$out/first_cold.txt"
# The same right after a server restart: nothing in shared memory.
first restart seongsu.predict_crowd "$ours" > "$out/first_restart.txt"
first : public.xgb_predict "" > "$out/first_pl.txt"
first_floor : > "$out/first_floor.txt"
first_floor restart > "$out/first_floor_restart.txt"
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# "median-of-first min-of-first median-of-second" of a file of "first second" lines.
stats() {
  echo "$(cut -d' ' -f1 "$1" | median) $(cut -d' ' -f1 "$1" | sort -g | head -1) $(cut -d' ' -f2 "$1" | median)"
}
read -r first_ours first_ours_min second_ours < <(stats "$out/first_ours.txt")
read -r first_cold first_cold_min second_cold < <(stats "$out/first_cold.txt")
read -r first_restart first_restart_min second_restart < <(stats "$out/first_restart.txt")
read -r first_pl first_pl_min second_pl < <(stats "$out/first_pl.txt")
read -r first_floor first_floor_min second_floor < <(stats "$out/first_floor.txt")
read -r first_floor_restart first_floor_restart_min second_floor_restart < <(stats "$out/first_floor_restart.txt")
printf '  predict_crowd first calls (ms): %s\n' "$(cut -d' ' -f1 "$out/first_ours.txt" | paste -sd ' ')"
printf '  same, after a data change (ms): %s\n' "$(cut -d' ' -f1 "$out/first_cold.txt" | paste -sd ' ')"
printf '  same, after a restart (ms):     %s\n' "$(cut -d' ' -f1 "$out/first_restart.txt" | paste -sd ' ')"
printf '  xgb_predict first calls (ms):   %s\n' "$(cut -d' ' -f1 "$out/first_pl.txt" | paste -sd ' ')"
printf '  floor first queries (ms):       %s\n' "$(cut -d' ' -f1 "$out/first_floor.txt" | paste -sd ' ')"
printf '  same, after a restart (ms):     %s\n' "$(cut -d' ' -f1 "$out/first_floor_restart.txt" | paste -sd ' ')"

# ------------------------------------------------------------------ table
ds_say "results (one run, one server, $(nproc) cores)"
$PY - "$DURATION" "$n_batch" "$ROW_HOURS" "$first_floor" "$first_floor_min" "$second_floor" "$t_batch_ours" "$t_batch_pl" "$t_rows_ours" "$t_rows_pl" \
  "$first_ours" "$first_ours_min" "$second_ours" "$first_pl" "$first_pl_min" "$second_pl" \
  "$out/pgbench.tsv" "$t_batch_fresh" "$first_cold" "$first_cold_min" "$second_cold" \
  "$first_restart" "$first_restart_min" "$second_restart" \
  "$first_floor_restart" "$first_floor_restart_min" "$second_floor_restart" "$t_batch_allrows" <<'PY'
import sys
a = sys.argv[1:]
dur, n, nrow = int(a[0]), int(a[1]), int(a[2])
f_f, fmin_f, s_f = (float(x) for x in a[3:6])
a = a[:2] + a[6:]
tb_o, tb_p, tr_o, tr_p, f_o, fmin_o, s_o, f_p, fmin_p, s_p = (float(x) for x in a[2:12])
tb_f = float(a[13])
f_c, fmin_c, s_c = (float(x) for x in a[14:17])
f_r, fmin_r, s_r = (float(x) for x in a[17:20])
f_fr, fmin_fr, s_fr = (float(x) for x in a[20:23])
tb_a = float(a[23])
tps, lat = {}, {}
for line in open(a[12], encoding='utf-8'):
    s, c, t, l = line.split('\t')
    s = 'pl' if s == 'plpython' else s
    tps[s + c], lat[s + c] = float(t), float(l)
print(f'pgbench -M prepared -T {dur}, a random hour of 2024 per transaction:')
print(f"| {'path':<52} | {'1 client tps':>12} | {'ms':>7} | {'/ floor':>7} | {'2 clients tps':>13} | {'ms':>7} | {'/ floor':>7} |")
print(f"|{'-'*54}|{'-'*14}|{'-'*9}|{'-'*9}|{'-'*15}|{'-'*9}|{'-'*9}|")
for k, name in (('floor', 'floor: indexed SELECT from ridership_daily'),
                ('ours', 'seongsu.predict_crowd(ts) (gbdt, 600 trees)'),
                ('ours_fixed', 'seongsu.predict_crowd, one fixed hour (reference)'),
                ('pl', 'PL/Python xgb_predict(ts) (XGBoost, 600 trees)')):
    print(f"| {name:<52} | {tps[k+'1']:12.1f} | {lat[k+'1']:7.3f} | {tps[k+'1']/tps['floor1']:7.1%} "
          f"| {tps[k+'2']:13.1f} | {lat[k+'2']:7.3f} | {tps[k+'2']/tps['floor2']:7.1%} |")
print()
print(f'pgbench -C (a new connection per transaction: many short sessions), -T {dur}:')
print(f"| {'path':<52} | {'1 client tps':>12} | {'ms':>7} | {'/ floor':>7} | {'2 clients tps':>13} | {'ms':>7} | {'/ floor':>7} |")
print(f"|{'-'*54}|{'-'*14}|{'-'*9}|{'-'*9}|{'-'*15}|{'-'*9}|{'-'*9}|")
for k, name in (('floor_new', 'floor: indexed SELECT, new connection each'),
                ('ours_new', 'seongsu.predict_crowd(ts), new connection each')):
    print(f"| {name:<52} | {tps[k+'1']:12.1f} | {lat[k+'1']:7.3f} | {tps[k+'1']/tps['floor_new1']:7.1%} "
          f"| {tps[k+'2']:13.1f} | {lat[k+'2']:7.3f} | {tps[k+'2']/tps['floor_new2']:7.1%} |")
print()
print(f'Batch, every hour of a year ({n} hours), warm backend:')
print(f"| {'path':<52} | {'ms':>9} | {'predictions/s':>13} |")
print(f"|{'-'*54}|{'-'*11}|{'-'*15}|")
for name, t, k in (('seongsu.forecast (one call)', tb_o, n),
                   ('seongsu.forecast after a change leaving the rows', tb_f, n),
                   ('seongsu.forecast after a change of every row', tb_a, n),
                   ('PL/Python xgb_forecast (one call, matrix predict)', tb_p, n),
                   (f'seongsu.predict_crowd, one call per hour ({nrow} h)', tr_o, nrow),
                   (f'PL/Python xgb_predict, one call per hour ({nrow} h)', tr_p, nrow)):
    print(f'| {name:<52} | {t:9.1f} | {k / t * 1000:13.0f} |')
print()
print('First prediction in a new backend (median of fresh connections; min; second call in the same backend):')
print(f"| {'path':<52} | {'first ms':>9} | {'min ms':>9} | {'second ms':>9} |")
print(f"|{'-'*54}|{'-'*11}|{'-'*11}|{'-'*11}|")
print(f"| {'seongsu.predict_crowd (a day another backend answered)':<52} | {f_o:9.2f} | {fmin_o:9.2f} | {s_o:9.2f} |")
print(f"| {'seongsu.predict_crowd right after a data change':<52} | {f_c:9.2f} | {fmin_c:9.2f} | {s_c:9.2f} |")
print(f"| {'seongsu.predict_crowd right after a server restart':<52} | {f_r:9.2f} | {fmin_r:9.2f} | {s_r:9.2f} |")
print(f"| {'PL/Python xgb_predict':<52} | {f_p:9.2f} | {fmin_p:9.2f} | {s_p:9.2f} |")
print(f"| {'floor (indexed SELECT; reference)':<52} | {f_f:9.2f} | {fmin_f:9.2f} | {s_f:9.2f} |")
print(f"| {'floor right after a server restart (reference)':<52} | {f_fr:9.2f} | {fmin_fr:9.2f} | {s_fr:9.2f} |")
print()
def verdict(ok): return 'met' if ok else 'NOT met'
r1, r2 = tps['ours1'] / tps['floor1'], tps['ours2'] / tps['floor2']
rb, rf, ra = tb_p / tb_o, tb_p / tb_f, tb_p / tb_a
print('Targets:')
print(f'  predict_crowd >= 75% of the floor tps:      {r1:.1%} (1 client), {r2:.1%} (2 clients)  -> {verdict(min(r1, r2) >= 0.75)}')
print(f'  batch forecast >= 10x PL/Python batch rate: {rb:.2f}x warm  -> {verdict(rb >= 10)}; '
      f'{rf:.2f}x right after a data change leaving the rows  -> {verdict(rf >= 10)}; '
      f'{ra:.2f}x after a change of every row (all recomputed)  -> {verdict(ra >= 10)}')
print(f'  first prediction in a new backend <= 5 ms:  {f_o:.2f} ms (median, a day another backend answered)  -> {verdict(f_o <= 5)}; '
      f'{f_c:.2f} ms right after a data change  -> {verdict(f_c <= 5)}; '
      f'{f_r:.2f} ms right after a server restart  -> {verdict(f_r <= 5)}')
print(f'  (predict_crowd vs PL/Python: {tps["ours1"]/tps["pl1"]:.1f}x tps at 1 client, {tps["ours2"]/tps["pl2"]:.1f}x at 2; '
      f'first call {f_p/f_o:.0f}x faster)')
PY
printf '\npredict_speed.sh: done in %d s\n' "$(( $(date +%s) - started ))"
