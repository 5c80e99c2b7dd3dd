#!/usr/bin/env bash
# What experiment tracking costs train(auto), in one run on one server:
#
#   on    seongsu.train(algorithm => 'auto', horizon => '1 day') with
#         seongsu.track_runs = on (the default): the call's run, a child run per
#         candidate with its metrics per fold, gbdt's learning curves, every
#         backtest prediction, the stored models' importances;
#   off   the same call with seongsu.track_runs = off (no run rows; the models,
#         their versions and the deployment are written either way).
#
# After one warm-up call (so that every measured call also scores the live
# model, as a retraining does), $RUNS calls of each, alternating on and off
# so that a drifting load on the machine falls on both; prints each call's
# wall time (psql \timing), the medians and their ratio, and the rows one
# tracked call wrote.  On a busy machine the two medians differ by more than
# tracking costs, so each tracked call also reports the time it spent
# recording (train's DEBUG1 line "run N recorded in X ms"), and that share of
# its wall time is printed too.  Target (issue 14): on / off <= 1.05.
#
# Usage: bash test/bench/tracking_overhead.sh [--no-build] [--keep]
#   --no-build  use the installed extension as it is (no make / make install)
#   --keep      leave the cluster running afterwards (port $DS_BENCH_PORT)
# Environment: DS_BENCH_PORT (25480), DAILY_SEONGSU_DATA (../shared/data),
#   DS_WORK (/tmp/daily_seongsu_tracking), RUNS (3 of each).
export DS_WORK=${DS_WORK:-/tmp/daily_seongsu_tracking}
source "$(dirname "$0")/../lib.sh"
PORT=${DS_BENCH_PORT:-25480}
RUNS=${RUNS:-3}

build=1 keep=0
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,/^export/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "tracking_overhead.sh: unknown option $a (try --help)" >&2; exit 2 ;;
  esac
done

ds_bench_prepare tracking_overhead.sh "$build"
ds_say "throwaway cluster on 127.0.0.1:$PORT ($DS_WORK/cluster-$PORT)"
ds_start_cluster "$PORT" <<< ""
ds_cluster_at_exit "$PORT" "$keep"
PSQL=(psql -X -v ON_ERROR_STOP=1 -q)
"${PSQL[@]}" -c "CREATE EXTENSION daily_seongsu"
ds_say "importing $DS_DATA"
ds_import_data_folder "${PSQL[@]}"
"${PSQL[@]}" -At -c "SELECT format('  %s files; 성수 2호선: %s daily rows %s .. %s', $DS_IMPORTED, count(*), min(day), max(day))
                     FROM seongsu.ridership_daily d JOIN seongsu.stations s ON s.id = d.station_id
                     WHERE s.name = '성수' AND s.line = '2호선'"

CALL="SELECT count(*) FROM seongsu.train(algorithm => 'auto', horizon => '1 day', force => true)"

# "wall recording" in ms of one train(auto) call with seongsu.track_runs = $1
# (recording 0 when off).
timed_call() {
  "${PSQL[@]}" -At -c "SET seongsu.track_runs = $1" -c "SET client_min_messages = debug1" -c '\timing on' -c "$CALL" 2>&1 \
    | awk '/^Time: / { wall = $2 } /recorded in [0-9.]+ ms/ { for (i = 1; i < NF; i++) if ($i == "in") rec = $(i + 1) }
           END { printf "%s %s\n", wall, rec + 0 }'
}

# The median of the numbers on stdin.
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

ds_say "warm-up call (deploys the first model)"
read -r t rec < <(timed_call on)
printf '  %.0f ms (recording %.1f ms)\n' "$t" "$rec"

ds_say "train(auto), horizon 1 day: $RUNS calls with tracking on, $RUNS off, alternating"
on_times="" off_times="" recs="" shares=""
for i in $(seq "$RUNS"); do
  read -r t rec < <(timed_call on)
  on_times="$on_times$t"$'\n'; recs="$recs$rec"$'\n'; shares="$shares$(awk -v r="$rec" -v t="$t" 'BEGIN { print r / t }')"$'\n'
  printf '  on   %10.0f ms, of which recording %7.1f ms\n' "$t" "$rec"
  read -r t rec < <(timed_call off)
  off_times="$off_times$t"$'\n'
  printf '  off  %10.0f ms\n' "$t"
done
on=$(printf '%s' "$on_times" | median)
off=$(printf '%s' "$off_times" | median)
rec=$(printf '%s' "$recs" | median)
share=$(printf '%s' "$shares" | median)

ds_say "rows one tracked call wrote"
"${PSQL[@]}" -At -F ' ' -c "
  WITH call AS (SELECT max(run_id) AS id FROM seongsu.runs WHERE parent_run_id IS NULL),
       r AS (SELECT run_id FROM seongsu.runs, call WHERE run_id = call.id OR parent_run_id = call.id)
  SELECT format('  %s runs, %s run_metrics, %s run_predictions, %s run_importances',
                (SELECT count(*) FROM r),
                (SELECT count(*) FROM seongsu.run_metrics m JOIN r USING (run_id)),
                (SELECT count(*) FROM seongsu.run_predictions p JOIN r USING (run_id)),
                (SELECT count(*) FROM seongsu.run_importances i JOIN r USING (run_id)))"

ds_say "result"
awk -v on="$on" -v off="$off" -v rec="$rec" -v share="$share" 'BEGIN {
  printf "  train(auto) median with tracking on:  %8.0f ms\n", on
  printf "  train(auto) median with tracking off: %8.0f ms\n", off
  printf "  ratio on / off: %.3f (overhead %+.1f%%; target <= 5%%)\n", on / off, (on / off - 1) * 100
  printf "  recording, median: %.1f ms = %.2f%% of a tracked call (median of the calls'\'' shares)\n", rec, share * 100 }'
