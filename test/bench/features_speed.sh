#!/usr/bin/env bash
# Feature speed: seongsu.features (C, one pass over dense arrays) against the
# same feature columns written in plain SQL with RANGE window frames
# (test/bench/features_speed.sql), in one run on one server.
#
#   (a) the real Seongsu daily series, 2015-01-01 .. 2025-05-31 (3,804 rows,
#       one per day; days without an observation included), REPS runs each;
#   (b) synthetic stations x 10 years hourly (87,672 rows a station) that
#       replay the real Seongsu hours of 2011-2014 (208 whole weeks, shifted
#       per station) with a per-station scale and +-10 % noise, loaded with
#       INSERT ... SELECT into seongsu.ridership_hourly (one INSERT per
#       station, so a station's rows lie together as after a per-station
#       import; the table is set UNLOGGED for the load).  Both sides at N and
#       4N stations; ours alone at BIG/4 and BIG stations (BIG=576: 50.5M
#       rows; the plain SQL, at some 55,000 rows/s, would need 15 minutes
#       for that size alone).
#
# Both sides are consumed the same way: SELECT ARRAY[count(*), sum(col), ...]
# over the 38 compared columns (calendar, target, lags 1/2/3/7/14/21/28/364
# days, rolling 7/28-day mean/std/min/max ending at t - 1 day, same-weekday
# means, last year's same weekday, the 28-day working-day level, ratios).
# seongsu.features computes all of its 63 columns regardless.  Horizon 1 day.
# The sums of both sides are compared at every size, and row by row on the
# daily series and on one real and one synthetic hourly station.
#
# Times are wall clock, and the backend's CPU seconds from /proc (steadier
# when other work shares the machine).  Parallel query is off
# (max_parallel_workers_per_gather = 0): both sides run on one core, as
# features() does.  JIT is left at its default (on: about 10 % faster for the
# SQL, about 0.2 s slower for ours).  work_mem is 1GB for both.
# About 7 minutes on the idle 2-core machine with BIG=576; BIG=144 is quicker.
#
# Usage: bash test/bench/features_speed.sh [--no-build] [--keep]
# Environment: DS_BENCH_PORT (25460), DAILY_SEONGSU_DATA (../shared/data),
#   DS_WORK (/tmp/daily_seongsu_features), N (12: stations of the smaller
#   size both sides run), BIG (576: stations of the largest size, ours only),
#   REPS (20, daily runs per side).
export DS_WORK=${DS_WORK:-/tmp/daily_seongsu_features}
source "$(dirname "$0")/../lib.sh"
PORT=${DS_BENCH_PORT:-25460}
N=${N:-12}
BIG=${BIG:-576}
REPS=${REPS:-20}
FROM_H='2015-01-01 00:00+09'
TO_H='2024-12-31 23:00+09'
HOURS_PER_STATION=87672

build=1 keep=0
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,/^export/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "features_speed.sh: unknown option $a (try --help)" >&2; exit 2 ;;
  esac
done

started=$(date +%s)
ds_bench_prepare features_speed.sh "$build"

ds_say "throwaway cluster on 127.0.0.1:$PORT ($DS_WORK/cluster-$PORT)"
ds_start_cluster "$PORT" <<'CONF'
shared_buffers = 2GB
work_mem = 1GB
maintenance_work_mem = 1GB
max_wal_size = 8GB
synchronous_commit = off
autovacuum = off
CONF
ds_cluster_at_exit "$PORT" "$keep"
PSQL=(psql -X -v ON_ERROR_STOP=1 -q)
TICKS=$(getconf CLK_TCK)

ds_say "importing the real data (holidays, daily ridership, weather, Seongsu hourly 2011-2014)"
{
  echo "CREATE EXTENSION daily_seongsu;"
  for f in "$DS_DATA"/holidays/kasi_getRestDeInfo/*/*.json; do echo "SELECT seongsu.import_file('kasi_holidays', '$f');"; done
  for f in "$DS_DATA"/seongsu/card_subway_month_*.csv; do echo "SELECT seongsu.import_file('card_subway_month', '$f');"; done
  echo "SELECT seongsu.import_file('ridership_daily', '$DS_DATA/seongsu/daily_2022-11_2025-05.csv');"
  echo "SELECT seongsu.import_file('ridership_hourly', '$DS_DATA/seongsu/hourly_total_2011-2014.csv');"
  for f in "$DS_DATA"/weather/kma_daily_*.csv; do echo "SELECT seongsu.import_file('kma_daily', '$f');"; done
  echo "SELECT seongsu.import_file('openmeteo_daily', '$DS_DATA/weather/openmeteo_daily_seongsu_2022-11_2025-05.csv');"
  # A benchmark table load, not the import path: skip WAL for the synthetic rows.
  echo "ALTER TABLE seongsu.ridership_hourly SET UNLOGGED;"
} | "${PSQL[@]}" -At >/dev/null
"${PSQL[@]}" -f "$(dirname "$0")/features_speed.sql"
"${PSQL[@]}" -At -F ' ' -c "
  SELECT format('성수 2호선: %s daily rows %s .. %s; %s hourly rows %s .. %s; %s holidays',
                (SELECT count(*) FROM seongsu.ridership_daily), (SELECT min(day) FROM seongsu.ridership_daily),
                (SELECT max(day) FROM seongsu.ridership_daily), (SELECT count(*) FROM seongsu.ridership_hourly),
                (SELECT min(service_day) FROM seongsu.ridership_hourly), (SELECT max(service_day) FROM seongsu.ridership_hourly),
                (SELECT count(*) FROM seongsu.holidays))"
SEONGSU_ID=$("${PSQL[@]}" -At -c "SELECT id FROM seongsu.stations WHERE name = '성수' AND line = '2호선'")

# The compared columns, consumed identically on both sides.
FLOATS="target doy_sin doy_cos hour_sin hour_cos lag_1d lag_2d lag_3d lag_7d lag_14d lag_21d lag_28d lag_364d
  roll7_mean roll7_std roll7_min roll7_max roll28_mean roll28_std roll28_min roll28_max
  sdw4_mean sdw8_mean sdw4_workday_mean last_year_sdw level28
  target_ratio lag_7d_ratio sdw4_ratio sdw4_workday_ratio last_year_ratio lag_1d_ratio"
EXACT="kst_date hour iso_dow is_weekend is_holiday month"
AGG="count(*), sum(kst_date - date '2000-01-01'), sum(hour), sum(iso_dow), sum(is_weekend::int), sum(is_holiday::int), sum(month)"
for c in $FLOATS; do AGG="$AGG, sum($c)"; done
NCOLS=$(( $(wc -w <<< "$FLOATS $EXACT") ))

# measure CASE IMPL REPS FROM-ITEM: time REPS runs of SELECT ARRAY[$AGG] FROM FROM-ITEM
# in one session; store wall, CPU and the sums in bench.runs.
measure() {
  local case_name=$1 impl=$2 reps=$3 from=$4 i
  {
    echo "SET max_parallel_workers_per_gather = 0;"
    # one untimed run first when repeating (library load, caches)
    [ "$reps" -gt 1 ] && echo "SELECT ARRAY[$AGG]::float8[] AS sums FROM $from \\gset"
    echo "SELECT bench.cpu_seconds($TICKS) AS c0, extract(epoch FROM clock_timestamp()) AS t0 \\gset"
    for ((i = 0; i < reps; i++)); do echo "SELECT ARRAY[$AGG]::float8[] AS sums FROM $from \\gset"; done
    echo "INSERT INTO bench.runs VALUES ('$case_name', '$impl', $reps,
            extract(epoch FROM clock_timestamp()) - :t0, bench.cpu_seconds($TICKS) - :c0, :'sums');"
  } | "${PSQL[@]}"
  "${PSQL[@]}" -At -c "SELECT format('  %-5s %-22s %11s rows  %9s s wall  %9s s CPU (per run)', impl, case_name,
                                     sums[1]::bigint, to_char(wall_s / reps, 'FM99990.000'), to_char(cpu_s / reps, 'FM99990.000'))
                         FROM bench.runs WHERE case_name = '$case_name' AND impl = '$impl'"
}

# Row-by-row agreement of features() and the plain SQL on one station.
# check LABEL OURS-FROM SQL-FROM
check() {
  local label=$1 ours=$2 sql=$3 c sel="count(*) FILTER (WHERE o.ts IS NULL OR s.ts IS NULL)" worst="" nulls=""
  for c in $FLOATS; do
    worst="$worst, coalesce(abs(o.$c - s.$c) / greatest(1, abs(s.$c)), 0)"
    nulls="$nulls + count(*) FILTER (WHERE (o.$c IS NULL) <> (s.$c IS NULL))"
  done
  for c in $EXACT; do nulls="$nulls + count(*) FILTER (WHERE o.$c IS DISTINCT FROM s.$c)"; done
  "${PSQL[@]}" -At -c "
    SET max_parallel_workers_per_gather = 0;
    WITH o AS (SELECT * FROM $ours), s AS (SELECT * FROM $sql)
    SELECT format('  %-30s %7s rows, %s unmatched; max |diff| lag_7d %s, roll7_mean %s, roll28_std %s; max relative diff over %s columns %s; NULL/value mismatches %s',
                  '$label', count(*), $sel,
                  coalesce(max(abs(o.lag_7d - s.lag_7d)), 0), coalesce(max(abs(o.roll7_mean - s.roll7_mean)), 0),
                  coalesce(max(abs(o.roll28_std - s.roll28_std)), 0), $NCOLS,
                  to_char(max(greatest(0 $worst)), '9.9EEEE'), 0 $nulls)
      FROM o FULL JOIN s ON s.ts = o.ts"
}

ds_say "(a) daily, real Seongsu series 2015-01-01 .. 2025-05-31, $REPS runs each"
plan=$("${PSQL[@]}" -At -c "EXPLAIN SELECT count(*) FROM bench.sql_daily('{$SEONGSU_ID}', '2015-01-01', '2025-05-31')")
grep -q 'Function Scan on sql_daily' <<< "$plan" && echo "  NOTE: bench.sql_daily was not inlined"
measure daily ours "$REPS" "seongsu.features('성수', '2호선', '2015-01-01', '2025-05-31', 'daily', '1 day')"
measure daily sql "$REPS" "bench.sql_daily('{$SEONGSU_ID}', '2015-01-01', '2025-05-31')"
check "daily 성수 2015-2025" \
  "seongsu.features('성수', '2호선', '2015-01-01', '2025-05-31', 'daily', '1 day')" \
  "bench.sql_daily('{$SEONGSU_ID}', '2015-01-01', '2025-05-31')"
check "hourly 성수 2012-2014 (real)" \
  "seongsu.features('성수', '2호선', '2012-01-01 00:00+09', '2014-12-31 23:00+09', 'hourly', '1 day')" \
  "bench.sql_hourly('{$SEONGSU_ID}', '2012-01-01 00:00+09', '2014-12-31 23:00+09')"

ds_say "(b) hourly, synthetic stations x 10 years ($FROM_H .. $TO_H), $HOURS_PER_STATION rows a station"
have=0
# load stations have+1 .. $1 (two sessions, one per core), then VACUUM ANALYZE
load_to() {
  local n=$1 t0 mid p1
  t0=$(date +%s.%N)
  mid=$(( (have + 1 + n) / 2 ))
  "${PSQL[@]}" -At -c "SELECT bench.add_stations($((have + 1)), $mid)" >/dev/null &
  p1=$!
  "${PSQL[@]}" -At -c "SELECT bench.add_stations($((mid + 1)), $n)" >/dev/null
  wait "$p1"
  "${PSQL[@]}" -c "VACUUM ANALYZE seongsu.ridership_hourly"
  awk -v a="$t0" -v b="$(date +%s.%N)" -v n="$n" -v h="$have" -v r="$HOURS_PER_STATION" \
    'BEGIN { printf "  loaded stations %d..%d (%d rows; %d rows in %d stations in all) in %.0f s\n", h + 1, n, (n - h) * r, n * r, n, b - a }'
  have=$n
}
ours_hourly() {  # ours_hourly N
  measure "hourly $1 stations" ours 1 \
    "bench.stations s, LATERAL seongsu.features(s.name, s.line, '$FROM_H', '$TO_H', 'hourly', '1 day') WHERE s.k <= $1"
}
sql_hourly() {  # sql_hourly N
  local ids plan
  ids=$("${PSQL[@]}" -At -c "SELECT array_agg(id ORDER BY k) FROM bench.stations WHERE k <= $1")
  plan=$("${PSQL[@]}" -At -c "EXPLAIN SELECT count(*) FROM bench.sql_hourly('$ids', '$FROM_H', '$TO_H')")
  grep -q 'Function Scan on sql_hourly' <<< "$plan" && echo "  NOTE: bench.sql_hourly was not inlined"
  measure "hourly $1 stations" sql 1 "bench.sql_hourly('$ids', '$FROM_H', '$TO_H')"
}
# Both sides at N and 4N stations (both sizes in the table; each side reads
# only its stations' rows through the primary key).
load_to $((4 * N))
ours_hourly "$N"; sql_hourly "$N"
ours_hourly $((4 * N)); sql_hourly $((4 * N))
# Ours alone at BIG/4 and BIG stations (BIG=576 is 50.5M rows).
if [ "$BIG" -gt $((4 * N)) ]; then
  load_to "$BIG"
  if [ $((BIG / 4)) -ne $((4 * N)) ] && [ $((BIG / 4)) -ne "$N" ]; then ours_hourly $((BIG / 4)); fi
  ours_hourly "$BIG"
fi
k1=$("${PSQL[@]}" -At -c "SELECT id FROM bench.stations WHERE k = 1")
check "hourly synthetic station 1" \
  "seongsu.features('벤치0001', 'B2', '$FROM_H', '$TO_H', 'hourly', '1 day')" \
  "bench.sql_hourly('{$k1}', '$FROM_H', '$TO_H')"

ds_say "results (wall clock; ratio = SQL time / ours; CPU ratio from this backend's CPU seconds)"
"${PSQL[@]}" -At <<'SQL'
SELECT format('%-22s %11s %9s %12s %9s %12s %7s %9s', 'case', 'rows', 'ours s', 'ours rows/s', 'SQL s', 'SQL rows/s', 'ratio', 'CPU ratio');
SELECT format('%-22s %11s %9s %12s %9s %12s %7s %9s', o.case_name, o.sums[1]::bigint,
              to_char(o.wall_s / o.reps, 'FM99990.000'), round(o.sums[1] * o.reps / o.wall_s),
              coalesce(to_char(s.wall_s / s.reps, 'FM99990.000'), '-'),
              coalesce(round(s.sums[1] * s.reps / s.wall_s)::text, '-'),
              coalesce(to_char((s.wall_s / s.reps) / (o.wall_s / o.reps), 'FM990.0') || 'x', '-'),
              coalesce(to_char((s.cpu_s / s.reps) / nullif(o.cpu_s / o.reps, 0), 'FM990.0') || 'x', '-'))
  FROM bench.runs o LEFT JOIN bench.runs s ON s.case_name = o.case_name AND s.impl = 'sql'
 WHERE o.impl = 'ours'
 ORDER BY o.sums[1];
SELECT '';
SELECT 'same results: ' || string_agg(format('%s: %s rows both, max relative diff of the %s sums %s', o.case_name,
         CASE WHEN o.sums[1] = s.sums[1] THEN 'same' ELSE 'DIFFERENT' END, cardinality(o.sums),
         to_char((SELECT max(abs(a - b) / greatest(1, abs(b))) FROM unnest(o.sums, s.sums) u(a, b)), '9.9EEEE')), '; ' ORDER BY o.sums[1])
  FROM bench.runs o JOIN bench.runs s ON s.case_name = o.case_name AND s.impl = 'sql' WHERE o.impl = 'ours';
SELECT format('linearity, hourly rows/s (wall | CPU) by size: %s  %s', CASE impl WHEN 'ours' THEN 'ours' ELSE 'SQL ' END,
              string_agg(format('%s rows: %s | %s', sums[1]::bigint, round(sums[1] / wall_s), round(sums[1] / cpu_s)), ';  ' ORDER BY sums[1]))
  FROM bench.runs WHERE case_name LIKE 'hourly%' GROUP BY impl ORDER BY impl;
SQL
echo "total $(( $(date +%s) - started )) s; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); N=$N, BIG=$BIG stations; $REPS daily runs per side"
