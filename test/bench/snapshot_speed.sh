#!/usr/bin/env bash
# Snapshot speed: seongsu.snapshot() against the same content hashed by
# plain SQL (test/fixtures/content_hash.sql: sha256 over the documented
# serialization, string_agg per month and over the months; its result must
# equal ours) and against sha256sum of a COPY of the same rows in key order,
# in one run on one server.
#
#   (a) one station, ten years (2015-2024) of daily (3,653 rows) and hourly
#       (87,672 rows) ridership, plus ten years of daily weather and the
#       real KASI holidays: the first snapshot (chunk cache empty), again
#       with nothing changed, and after one revised day;
#   (b) 600 more stations with the same ten years of daily rows (2.2M rows
#       in all): every station at once, cold, unchanged, after a new day of
#       all 600 stations (600 rows), and after one revised day.
#
# Each figure is one run of one statement in a new session (psql \timing),
# so the cold runs include planning the content statements; parallel query
# is off for both sides (snapshot() reads on one core).  About 2 minutes.
#
# Usage: bash test/bench/snapshot_speed.sh [--no-build] [--keep]
# Environment: DS_BENCH_PORT (25470), DAILY_SEONGSU_DATA (../shared/data),
#   DS_WORK (/tmp/daily_seongsu_snapshot), STATIONS (600).
export DS_WORK=${DS_WORK:-/tmp/daily_seongsu_snapshot}
source "$(dirname "$0")/../lib.sh"
PORT=${DS_BENCH_PORT:-25470}
STATIONS=${STATIONS:-600}

build=1 keep=0
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,/^export/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "snapshot_speed.sh: unknown option $a (try --help)" >&2; exit 2 ;;
  esac
done

ds_bench_prepare snapshot_speed.sh "$build"
ds_start_cluster "$PORT" <<< "max_parallel_workers_per_gather = 0
work_mem = '256MB'"
ds_cluster_at_exit "$PORT" "$keep"
anchor="$DS_ROOT/test/fixtures/content_hash.sql"

# Milliseconds of the last statement of a psql script (a new session).
ms() { psql -qAt -c '\timing on' "$@" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1; }
# The value of one query.
val() { psql -qAt -c "$1"; }

ds_say "loading: one station, ten years of daily and hourly rows, weather, holidays"
psql -q <<'SQL'
CREATE EXTENSION daily_seongsu;
INSERT INTO seongsu.stations (line, name) VALUES ('2호선', '벤치역');
INSERT INTO seongsu.ridership_daily (station_id, day, boardings, alightings, source)
SELECT s.id, d::date, 30000 + (d::date - date '2015-01-01') * 37 % 9001, 31000 + (d::date - date '2015-01-01') * 53 % 8999, 'bench'
FROM seongsu.stations s, generate_series(date '2015-01-01', date '2024-12-31', interval '1 day') d WHERE s.name = '벤치역';
INSERT INTO seongsu.ridership_hourly (station_id, ts, service_day, passengers, source)
SELECT s.id, ts, (ts AT TIME ZONE 'UTC' + interval '5 hours')::date, 100 + (extract(epoch FROM ts)::bigint / 3600) * 31 % 4001, 'bench'
FROM seongsu.stations s, generate_series(timestamptz '2015-01-01 00:00+09', timestamptz '2024-12-31 23:00+09', interval '1 hour') ts
WHERE s.name = '벤치역';
INSERT INTO seongsu.weather_daily (source, day, temp_mean_c, precip_mm, snow_cm)
SELECT 'open-meteo', d::date, -5 + (d::date - date '2015-01-01') % 35, (d::date - date '2015-01-01') % 7 * 0.5, 0
FROM generate_series(date '2015-01-01', date '2024-12-31', interval '1 day') d;
SQL
n=0
while IFS= read -r f; do
  psql -qAt -c "SELECT seongsu.import_file('kasi_holidays', '$f')" >/dev/null; n=$((n + 1))
done < <(find "$DS_DATA/holidays" -name '*.json' | sort)
psql -q -c "VACUUM ANALYZE"
one_rows=$(val "SELECT (SELECT count(*) FROM seongsu.ridership_daily) || ' daily + ' || (SELECT count(*) FROM seongsu.ridership_hourly) || ' hourly rows, ' || (SELECT count(*) FROM seongsu.weather_daily) || ' weather days, ' || (SELECT count(*) FROM seongsu.holidays) || ' holidays'")
echo "$one_rows ($n KASI files)"

ds_say "one station"
one_cold=$(ms -c "SELECT seongsu.snapshot('벤치역', '2호선')")
one_warm=$(ms -c "SELECT seongsu.snapshot('벤치역', '2호선')")
psql -q -c "UPDATE seongsu.ridership_daily SET boardings = boardings + 1 WHERE day = '2024-06-15'"
one_incr=$(ms -c "SELECT seongsu.snapshot('벤치역', '2호선')")
one_verify=$(ms -c "SELECT seongsu.verify_snapshot(max(snapshot_id)) FROM seongsu.snapshots")
one_sql=$(ms -f "$anchor" -c "SELECT pg_temp.content_hash('벤치역', '2호선')")
one_same=$(psql -qAt -f "$anchor" -c "SELECT pg_temp.content_hash('벤치역', '2호선') = (SELECT content_hash FROM seongsu.snapshots ORDER BY snapshot_id DESC LIMIT 1)")
one_copy=$(ms -c "COPY (SELECT 'd', day::text, boardings::text, alightings::text, NULL FROM seongsu.ridership_daily
  UNION ALL SELECT 'h', ts::text, service_day::text, passengers::text, NULL FROM seongsu.ridership_hourly
  UNION ALL SELECT 'w', day::text || source, temp_mean_c::text, precip_mm::text, snow_cm::text FROM seongsu.weather_daily
  UNION ALL SELECT 'x', day::text || name, kind, is_holiday::text, NULL FROM seongsu.holidays ORDER BY 1, 2)
  TO PROGRAM 'sha256sum > /dev/null'")

ds_say "loading: $STATIONS more stations x ten years of daily rows"
psql -q <<SQL
INSERT INTO seongsu.stations (line, name) SELECT (i % 9 + 1) || '호선', format('역%s', lpad(i::text, 4, '0')) FROM generate_series(1, $STATIONS) i;
INSERT INTO seongsu.ridership_daily (station_id, day, boardings, alightings, source)
SELECT s.id, d::date, 1000 + (s.id * 7919 + (d::date - date '2015-01-01') * 37) % 60001, 1000 + (s.id * 104729 + (d::date - date '2015-01-01') * 53) % 59999, 'bench'
FROM seongsu.stations s, generate_series(date '2015-01-01', date '2024-12-31', interval '1 day') d WHERE s.name LIKE '역%';
VACUUM ANALYZE;
SQL
all_rows=$(val "SELECT count(*) FROM seongsu.ridership_daily")
echo "$all_rows daily rows, $(val "SELECT count(*) FROM seongsu.stations") stations"

ds_say "every station"
all_cold=$(ms -c "SELECT seongsu.snapshot(NULL, NULL)")
all_warm=$(ms -c "SELECT seongsu.snapshot(NULL, NULL)")
psql -q -c "INSERT INTO seongsu.ridership_daily (station_id, day, boardings, alightings, source)
            SELECT id, '2025-01-01', 1234, 4321, 'bench' FROM seongsu.stations WHERE name LIKE '역%'"
all_day=$(ms -c "SELECT seongsu.snapshot(NULL, NULL)")
psql -q -c "UPDATE seongsu.ridership_daily SET alightings = alightings + 1 WHERE day = '2019-03-05'
            AND station_id = (SELECT max(id) FROM seongsu.stations)"
all_rev=$(ms -c "SELECT seongsu.snapshot(NULL, NULL)")
all_verify=$(ms -c "SELECT seongsu.verify_snapshot(max(snapshot_id)) FROM seongsu.snapshots")
all_sql=$(ms -f "$anchor" -c "SELECT pg_temp.content_hash(NULL, NULL)")
all_same=$(psql -qAt -f "$anchor" -c "SELECT pg_temp.content_hash(NULL, NULL) = (SELECT content_hash FROM seongsu.snapshots ORDER BY snapshot_id DESC LIMIT 1)")
all_copy=$(ms -c "COPY (SELECT station_id, day, boardings, alightings FROM seongsu.ridership_daily ORDER BY 1, 2)
  TO PROGRAM 'sha256sum > /dev/null'")
history=$(val "SELECT (SELECT count(*) FROM seongsu.ridership_daily_history) || ' history rows, ' || (SELECT count(*) FROM seongsu.snapshots) || ' snapshots'")

python3 - "$one_rows" "$one_cold" "$one_warm" "$one_incr" "$one_verify" "$one_sql" "$one_same" "$one_copy" \
  "$all_rows" "$all_cold" "$all_warm" "$all_day" "$all_rev" "$all_verify" "$all_sql" "$all_same" "$all_copy" "$history" <<'PY'
import sys
a = sys.argv[1:]
def f(x): return float(x) if x else float('nan')
one = dict(rows=a[0], cold=f(a[1]), warm=f(a[2]), incr=f(a[3]), verify=f(a[4]), sql=f(a[5]), same=a[6], copy=f(a[7]))
al = dict(rows=a[8], cold=f(a[9]), warm=f(a[10]), day=f(a[11]), rev=f(a[12]), verify=f(a[13]), sql=f(a[14]), same=a[15], copy=f(a[16]))
print(f"\none station ({one['rows']}):")
print(f"  snapshot, chunk cache empty       {one['cold']:9.1f} ms")
print(f"  snapshot, nothing changed         {one['warm']:9.1f} ms")
print(f"  snapshot after one revised day    {one['incr']:9.1f} ms")
print(f"  verify_snapshot (read back, no cache) {one['verify']:5.1f} ms")
print(f"  anchor: plain SQL sha256          {one['sql']:9.1f} ms  (same hash: {one['same']})   ratio {one['sql']/one['cold']:.1f}x cold, {one['sql']/one['incr']:.0f}x incremental")
print(f"  anchor: COPY to sha256sum         {one['copy']:9.1f} ms   ratio {one['copy']/one['cold']:.1f}x cold")
print(f"\nevery station ({al['rows']} daily rows):")
print(f"  snapshot, chunk cache empty       {al['cold']:9.1f} ms")
print(f"  snapshot, nothing changed         {al['warm']:9.1f} ms")
print(f"  snapshot after a new day of every station {al['day']:7.1f} ms")
print(f"  snapshot after one revised day    {al['rev']:9.1f} ms")
print(f"  verify_snapshot (read back, no cache) {al['verify']:5.1f} ms")
print(f"  anchor: plain SQL sha256          {al['sql']:9.1f} ms  (same hash: {al['same']})   ratio {al['sql']/al['cold']:.1f}x cold, {al['sql']/al['rev']:.0f}x incremental")
print(f"  anchor: COPY to sha256sum (daily only) {al['copy']:6.1f} ms   ratio {al['copy']/al['cold']:.1f}x cold")
print(f"\n{a[17]}")
PY
