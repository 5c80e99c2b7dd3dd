#!/usr/bin/env bash
# test/check.sh — the whole test suite: installs what is missing, builds,
# installs, starts a throwaway cluster and runs pg_regress and the TAP tests.
# Usage: bash test/check.sh                       PostgreSQL $DS_PG_MAJOR (15)
#        DS_PG_MAJORS="15 17" bash test/check.sh  one leg per major, each on this
#            system when its Debian release is this one's, otherwise in a root
#            of that release (test/chroot.sh); prints each leg's time and
#            fails when any leg fails
source "$(dirname "$0")/lib.sh"

# Run the suite once per major of $DS_PG_MAJORS and report each leg.
ds_check_legs() {
  local m failed=0 summary="" rc start secs where
  for m in $DS_PG_MAJORS; do
    start=$SECONDS
    if ds_pg_here "$m"; then
      where="this system"
      ds_say "PostgreSQL $m leg: on $where"
      DS_PG_MAJORS=$m DS_PG_MAJOR=$m bash "$DS_ROOT/test/check.sh" && rc=0 || rc=$?
    else
      where="$(ds_pg_suite "$m") root"
      ds_say "PostgreSQL $m leg: in a $where (test/chroot.sh)"
      DS_PG_MAJORS=$m DS_PG_MAJOR=$m bash "$DS_ROOT/test/chroot.sh" bash test/check.sh && rc=0 || rc=$?
    fi
    secs=$((SECONDS - start))
    [ "$rc" = 0 ] || failed=1
    summary="$summary$(printf '\n  PostgreSQL %s (%s): %s in %dm%02ds' "$m" "$where" \
      "$([ "$rc" = 0 ] && echo passed || echo "FAILED (exit $rc)")" $((secs / 60)) $((secs % 60)))"
  done
  ds_say "legs:$summary"
  return $failed
}

DS_PG_MAJORS=${DS_PG_MAJORS:-$DS_PG_MAJOR}
if [ "$DS_PG_MAJORS" != "$DS_PG_MAJOR" ] || ! ds_pg_here "$DS_PG_MAJOR"; then
  ds_check_legs
  exit
fi

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
