#!/usr/bin/env bash
# test/check.sh — the whole test suite: installs what is missing, builds,
# installs, starts a throwaway cluster and runs pg_regress and the TAP tests.
# Usage: bash test/check.sh
source "$(dirname "$0")/lib.sh"

PORT=${DS_TEST_PORT:-25432}
ds_install_deps
ds_build_install
ds_stage_data
if [ -z "$DS_DATA" ]; then
  echo "error: the tests need the real data folder: set DAILY_SEONGSU_DATA or put it at ../shared/data" >&2
  exit 2
fi

failed=0
ds_say "every SQL statement of the C code names its schema (test/lint_sql.py)"
python3 "$DS_ROOT/test/lint_sql.py" "$DS_ROOT" || failed=1

ds_say "unit tests: API parsers (plain and ASan/UBSan), model algorithms (plain and ASan/UBSan)"
make -C "$DS_ROOT/test/fuzz" -s check SHARED_DATA="$DS_DATA" || failed=1
make -C "$DS_ROOT/test/unit" -s check check-asan || failed=1

ds_say "replay server tests"
DAILY_SEONGSU_DATA="$DS_DATA" python3 -m unittest discover -s "$DS_ROOT/test/replay" -p 'test_*.py' || failed=1

ds_say "starting a throwaway cluster on 127.0.0.1:$PORT"
ds_start_cluster "$PORT" <<< "regress.data_dir = '$DS_DATA'"
trap 'ds_stop_cluster "$PORT"' EXIT

ds_say "pg_regress"
rm -rf "$DS_ROOT/results" "$DS_ROOT/regression.diffs" "$DS_ROOT/regression.out"
if ! make -C "$DS_ROOT" -s installcheck PG_CONFIG="$DS_BIN/pg_config"; then
  failed=1
  [ -f "$DS_ROOT/regression.diffs" ] && head -200 "$DS_ROOT/regression.diffs"
fi

ds_say "TAP tests (test/t)"
tap="$DS_WORK/tap"
rm -rf "$tap"; mkdir -p "$tap"
tar -C "$DS_ROOT" --exclude=test/fuzz/build -cf - test | tar -C "$tap" -xf -
chmod -R a+rwX "$tap"
if ! ds_as_pg env PATH="$DS_BIN:$PATH" \
    PERL5LIB="$DS_PG_LIB/lib/pgxs/src/test/perl" \
    PG_REGRESS="$DS_PG_LIB/lib/pgxs/src/test/regress/pg_regress" \
    TESTDIR="$tap" DS_DATA="$DS_DATA" DS_ROOT="$tap" \
    bash -c "cd '$tap' && prove -v test/t/*.pl"; then
  failed=1
fi

exit $failed
