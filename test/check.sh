#!/usr/bin/env bash
# test/check.sh — the whole test suite: installs what is missing, builds,
# installs, starts a throwaway cluster and runs pg_regress and the TAP tests.
# Without the real data folder (DAILY_SEONGSU_DATA, or ../shared/data) the
# tests that read it are skipped, each saying so, and everything else runs
# on the fixtures of test/fixtures.
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
# A folder without the published files is no data folder.
[ -z "$DS_DATA" ] || [ -d "$DS_DATA/seongsu" ] || DS_DATA=""
# Where the data folder is absent, the tests that look for one find nothing.
NO_DATA="$DS_WORK/no-data-folder"
skipped=""
# Say that a part of the suite is skipped for want of the data folder.
ds_skip() {
  echo "skipped without the real data folder: $*"
  skipped="$skipped$(printf '\n  %s' "$*")"
}
if [ -z "$DS_DATA" ]; then
  ds_say "no real data folder (set DAILY_SEONGSU_DATA or put it at ../shared/data): the tests that read it are skipped"
fi

failed=0
ds_say "every SQL statement of the C code names its schema (test/lint_sql.py)"
python3 "$DS_ROOT/test/lint_sql.py" "$DS_ROOT" || failed=1

ds_say "unit tests: API parsers (plain and ASan/UBSan), model algorithms (plain and ASan/UBSan)"
if [ -n "$DS_DATA" ]; then
  make -C "$DS_ROOT/test/fuzz" -s check SHARED_DATA="$DS_DATA" || failed=1
else
  ds_skip "test/fuzz parser_tests (they parse every real KASI response)"
  make -C "$DS_ROOT/test/fuzz" -s build/import_tests build/import_tests_san || failed=1
  "$DS_ROOT/test/fuzz/build/import_tests" || failed=1
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 "$DS_ROOT/test/fuzz/build/import_tests_san" || failed=1
fi
make -C "$DS_ROOT/test/unit" -s check check-asan || failed=1

ds_say "replay server tests"
DAILY_SEONGSU_DATA="${DS_DATA:-$NO_DATA}" python3 -m unittest discover -s "$DS_ROOT/test/replay" -p 'test_*.py' || failed=1

ds_say "starting a throwaway cluster on 127.0.0.1:$PORT"
ds_start_cluster "$PORT" < /dev/null
trap 'ds_stop_cluster "$PORT"' EXIT

ds_say "pg_regress: the core schedule, on fixtures (make installcheck)"
rm -rf "$DS_ROOT/results" "$DS_ROOT/regression.diffs" "$DS_ROOT/regression.out" "$DS_ROOT/tmp_check/real"
if ! make -C "$DS_ROOT" -s installcheck PG_CONFIG="$DS_BIN/pg_config"; then
  failed=1
  [ -f "$DS_ROOT/regression.diffs" ] && head -200 "$DS_ROOT/regression.diffs"
fi
if [ -n "$DS_DATA" ]; then
  ds_say "pg_regress: the real-data schedule (make installcheck-real)"
  if ! make -C "$DS_ROOT" -s installcheck-real PG_CONFIG="$DS_BIN/pg_config" DATA="$DS_DATA"; then
    failed=1
    [ -f "$DS_ROOT/tmp_check/real/regression.diffs" ] && head -200 "$DS_ROOT/tmp_check/real/regression.diffs"
  fi
else
  ds_skip "pg_regress real-data schedule (make installcheck-real: $(sed -n 's/^REGRESS_REAL = //p' "$DS_ROOT/Makefile"))"
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
[ -n "$DS_DATA" ] || ds_skip "test/t/010's equality with the published files (010 and 011 ran on the replay server's synthetic series)"

if [ -n "$skipped" ]; then
  ds_say "skipped for want of the real data folder:$skipped"
fi
exit $failed
