#!/usr/bin/env bash
# test/valgrind.sh — the core pg_regress schedule (make installcheck, on the
# fixtures) with the server under valgrind memcheck; fails when a test fails
# or when any report's stack passes through the extension's code.
# Used by `make valgrind-check` (not part of CI: about 37 minutes on the 2-core
# machine; 80 with --track-origins=yes while CI ran beside it).
# DS_VALGRIND_TESTS="fixtures tracking" runs only those tests (for a look at
# one report; the check is the whole schedule), and valgrind reads more
# options from VALGRIND_OPTS (e.g. --track-origins=yes, to see where an
# uninitialised value came from).
# (The pure-C parts also run under ASan/UBSan: `make sanitize-check`.
# Preloading ASan into Debian's postgres binary deadlocks at start-up, so the
# SQL layer is checked here.)
#
# Which reports count (test/valgrind_reports.py sorts them): Debian's server
# is not built with USE_VALGRIND, so memcheck knows nothing of palloc chunks,
# and PostgreSQL's own known noise (src/tools/valgrind.supp in its source,
# e.g. padding bytes written to WAL) shows up as reports of its own.
# Nothing is suppressed: every report stays in the report folder and is
# counted, and a report with a frame of the extension in any of its stacks
# fails the run, unless it is one of the two kinds of PostgreSQL's known
# noise that the script names (listed apart).  valgrind prints the
# extension's source files relative to this checkout (--fullpath-after), so
# such a frame reads "(src/<part>/<file>.c:<line>)".
source "$(dirname "$0")/lib.sh"
MODE=valgrind
PORT=${DS_VALGRIND_PORT:-25436}
ds_install_deps
dir="$DS_WORK/cluster-$PORT"
reports="$DS_WORK/memcheck-$MODE"
rm -rf "$reports"; mkdir -p "$reports"; chmod a+rwx "$reports"

# Stop the cluster on $PORT; shutting down under valgrind takes longer
# than pg_ctl's default minute.
vg_stop() {
  [ -f "$dir/data/postmaster.pid" ] || return 0
  ds_as_pg "$DS_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 600 stop >/dev/null || true
}

# A fresh build with the checkout's paths in its debug information, a fresh
# cluster, stopped, then started again under valgrind.  JIT is off: it
# compiles PostgreSQL's expressions, not the extension's code, and under
# memcheck it only costs time.  regress.time_scale: a test whose
# statement_timeout must fall in a given loop (tracking: the boosting loop,
# after the quality gate and the data load) multiplies it by this factor,
# the order of memcheck's slowdown of the server.
make -C "$DS_ROOT" -s clean PG_CONFIG="$DS_BIN/pg_config"
ds_build_install
ds_start_cluster "$PORT" <<< $'jit = off\nregress.time_scale = 50'
ds_stop_cluster "$PORT"
trap vg_stop EXIT

start=$SECONDS
ds_as_pg bash -c "valgrind --quiet --trace-children=yes --error-limit=no --num-callers=30 \
    --leak-check=no --fullpath-after='$DS_ROOT/' --log-file='$reports/vg.%p' \
    '$DS_BIN/postgres' -D '$dir/data' >'$dir/server.log' 2>&1 &"
for _ in $(seq 1 240); do
  "$DS_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" && break
  sleep 0.5
done

status=0
rm -rf "$DS_ROOT/results" "$DS_ROOT/regression.diffs" "$DS_ROOT/regression.out"
if ! make -C "$DS_ROOT" -s installcheck PG_CONFIG="$DS_BIN/pg_config" ${DS_VALGRIND_TESTS:+REGRESS="$DS_VALGRIND_TESTS"}; then
  status=1
  [ -f "$DS_ROOT/regression.diffs" ] && head -200 "$DS_ROOT/regression.diffs"
fi
vg_stop
trap - EXIT
secs=$((SECONDS - start))
python3 "$DS_ROOT/test/valgrind_reports.py" "$reports" || status=1
echo "memcheck $MODE: the schedule ran in $((secs / 60))m$(printf '%02d' $((secs % 60)))s; reports in $reports"
exit $status
