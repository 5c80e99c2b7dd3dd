#!/usr/bin/env bash
# test/valgrind.sh — the pg_regress suite with the server under valgrind
# memcheck; fails when any report's stack passes through the extension.
# Used by `make valgrind-check`.  (The pure-C parts also run under
# ASan/UBSan: `make sanitize-check`.  Preloading ASan into Debian's postgres
# binary deadlocks at start-up, so the SQL layer is checked here.)
source "$(dirname "$0")/lib.sh"
MODE=valgrind
PORT=${DS_VALGRIND_PORT:-25436}
ds_bench_prepare valgrind.sh 0
dir="$DS_WORK/cluster-$PORT"
reports="$DS_WORK/memcheck-$MODE"
rm -rf "$reports"; mkdir -p "$reports"; chmod a+rwx "$reports"

# A fresh cluster, stopped, then started again under valgrind.
make -C "$DS_ROOT" -s clean
ds_build_install
ds_start_cluster "$PORT" <<< "regress.data_dir = '$DS_DATA'"
ds_stop_cluster "$PORT"
trap 'ds_stop_cluster "$PORT"' EXIT

ds_as_pg bash -c "valgrind --quiet --trace-children=yes --error-limit=no --num-callers=30 \
    --leak-check=no --log-file='$reports/vg.%p' '$DS_BIN/postgres' -D '$dir/data' \
    >'$dir/server.log' 2>&1 &"
for _ in $(seq 1 240); do
  "$DS_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" && break
  sleep 0.5
done

status=0
make -C "$DS_ROOT" -s installcheck PG_CONFIG="$DS_BIN/pg_config" || status=1
ds_stop_cluster "$PORT"
trap - EXIT
# Reports whose stacks pass through the extension's code.
hits=$(grep -lE 'daily_seongsu|src/ingest|src/ml|src/features|src/quality' "$reports"/* 2>/dev/null || true)
if [ -n "$hits" ]; then
  echo "memory errors in the extension ($MODE):"; for f in $hits; do head -60 "$f"; done
  status=1
fi
echo "memcheck $MODE: $(ls "$reports" | wc -l) report files, $(printf '%s' "$hits" | grep -c . || true) naming the extension"
exit $status
