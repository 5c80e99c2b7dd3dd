#!/usr/bin/env bash
# Pipeline speed (issue 16), in one run on one server with ten years of the
# real Seongsu data:
#  1. a daily run with nothing to retrain (the policy says no): the median
#     of $RUNS sync runs, each as of a new day (database time; no fetch:
#     "sources": [] — a run's fetches cost what the jobs cost,
#     test/bench/ingest_speed.sh);
#  2. a run whose policy retrains with $ALGO, against the train call alone
#     on the same data (seongsu.train on a snapshot to the day before);
#  3. simulate_pipeline over $SIM_DAYS days of daily runs with weekly
#     retrains ($ALGO), the policy alone (no comparison strategies).
# Targets: 1 <= 2 s; 2 within 10% of the train call; 3 <= 5 minutes for a year.
#
# Usage: bash test/bench/pipeline_speed.sh [--no-build] [--keep]
# Environment: DS_BENCH_PORT (25477), DAILY_SEONGSU_DATA (../shared/data),
#   DS_WORK (/tmp/daily_seongsu_pipeline), RUNS (5), ALGO (auto for 2; ridge
#   for 3 unless SIM_ALGO is set), SIM_DAYS (365).
export DS_WORK=${DS_WORK:-/tmp/daily_seongsu_pipeline}
source "$(dirname "$0")/../lib.sh"
PORT=${DS_BENCH_PORT:-25477}
RUNS=${RUNS:-5}
ALGO=${ALGO:-auto}
SIM_ALGO=${SIM_ALGO:-ridge}
SIM_DAYS=${SIM_DAYS:-365}
build=1 keep=0
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    *) echo "usage: $0 [--no-build] [--keep]" >&2; exit 2 ;;
  esac
done
ds_bench_prepare pipeline_speed.sh "$build"
ds_start_cluster "$PORT" <<< ""
ds_cluster_at_exit "$PORT" "$keep"

ds_say "loading ten years of real data and a first champion (ridge, data to 2025-04-30)"
psql -q -c "CREATE EXTENSION daily_seongsu"
ds_import_data_folder psql
psql -qAt <<'SQL'
SET client_min_messages = warning;
SELECT count(*) FROM seongsu.train(algorithm => 'ridge', train_to => '2025-04-30', force => true);
SELECT format('%s days, %s to %s', count(*), min(day), max(day)) FROM seongsu.ridership_daily;
ANALYZE;
SQL

# server time in ms of SQL statement $1 (clock_timestamp around it)
timed() {
  psql -qAt <<SQL
SET client_min_messages = warning;
CREATE TEMP TABLE t0 AS SELECT clock_timestamp() AS t;
$1;
SELECT round((extract(epoch FROM clock_timestamp() - t) * 1000)::numeric, 1) FROM t0;
SQL
}

ds_say "1. daily runs with nothing to retrain ($RUNS, each as of a new day)"
ms=()
for i in $(seq 1 "$RUNS"); do
  day=$(date -d "2025-05-0$((i % 9 + 1))" +%F)
  ms+=("$(timed "SELECT seongsu.run_pipeline(options => '{\"sync\": true, \"sources\": [], \"as_of\": \"$day\", \"policy\": {\"min_model_age_days\": 400}}')" | tail -1)")
done
daily=$(printf '%s\n' "${ms[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
psql -qAt -c "SELECT format('runs: %s, all succeeded: %s, retrained: %s', count(*), bool_and(state = 'succeeded'), count(*) FILTER (WHERE retrained)) FROM seongsu.pipeline_runs"

ds_say "2. a run that retrains with $ALGO, and the train call alone"
train_ms=$(timed "SELECT count(*) FROM seongsu.train(algorithm => '$ALGO', train_to => '2025-05-19', snapshot => seongsu.snapshot('성수', '2호선', NULL, '2025-05-19'))" | tail -1)
run_ms=$(timed "SELECT seongsu.run_pipeline(options => '{\"sync\": true, \"sources\": [], \"as_of\": \"2025-05-20\", \"train\": {\"algorithm\": \"$ALGO\"}, \"policy\": {\"force\": true}}')" | tail -1)
psql -qAt -c "SELECT format('the run: %s, %s', state, summary) FROM seongsu.pipeline_runs WHERE as_of = '2025-05-20'"

ds_say "3. simulate_pipeline over $SIM_DAYS days, weekly retrains ($SIM_ALGO)"
to=$(date -d "2025-05-30" +%F)
from=$(date -d "$to - $((SIM_DAYS - 1)) days" +%F)
opts="{\"compare\": [], \"days\": 1, \"train\": {\"algorithm\": \"$SIM_ALGO\"}, \"policy\": {\"max_model_age_days\": 7, \"min_model_age_days\": 7}}"
sim_out=$(timed "SELECT seongsu.simulate_pipeline('$from', '$to', '$opts')->'policy_result'")
sim_ms=$(echo "$sim_out" | tail -1)
echo "$sim_out" | head -n -1 | cut -c1-400

printf '\n%-58s %12s %14s\n' "what" "target" "measured"
printf '%-58s %12s %11s ms\n' "daily run, nothing to retrain (median of $RUNS)" "2000 ms" "$daily"
printf '%-58s %12s %11s ms\n' "train($ALGO) alone" "" "$train_ms"
printf '%-58s %12s %11s ms  (%s%%)\n' "run with a $ALGO retrain" "+10%" "$run_ms" \
  "$(awk -v a="$run_ms" -v b="$train_ms" 'BEGIN { printf "%+.1f", 100 * (a - b) / b }')"
printf '%-58s %12s %11s ms\n' "simulate_pipeline, $SIM_DAYS days, weekly $SIM_ALGO retrains" "300000 ms" "$sim_ms"
