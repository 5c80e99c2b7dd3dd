#!/usr/bin/env bash
# Ingestion speed: a 365-day seoul_daily backfill (607 stations a day) through
# the background worker, from the replay server with 100 ms added to every
# request, with seongsu.max_concurrency = 1, 8 and 32 (fresh tables each
# time), against the seed service's crawler: sequential requests with a
# 0.1 s sleep after each.  The seed is both modelled (365 x (0.1 s + one
# measured request)) and run for real (Python urllib + json, 30 days,
# extrapolated to 365).  Everything in one run on the same machine.
# Usage: bash test/bench/ingest_speed.sh   (starts its own cluster and replay server)
#   DAYS=365 FROM=2019-01-01 LATENCY_MS=100 CRAWL_DAYS=30 CONCURRENCY="1 8 32"
source "$(dirname "$0")/../lib.sh"
PORT=${DS_BENCH_PORT:-25440}
DAYS=${DAYS:-365}
FROM=${FROM:-2019-01-01}          # 2015-01 .. 2021-07 has every day: 607 rows each
LATENCY_MS=${LATENCY_MS:-100}
CRAWL_DAYS=${CRAWL_DAYS:-30}
CONCURRENCY=${CONCURRENCY:-"1 8 32"}
KEY=BENCH-SEOUL-KEY
ds_bench_prepare ingest_speed.sh 1

ds_say "replay server (--latency-ms $LATENCY_MS)"
portfile="$DS_WORK/bench_replay.port"
rm -f "$portfile"
python3 "$DS_ROOT/test/replay/replay_server.py" --port 0 --port-file "$portfile" --data "$DS_DATA" \
  --seoul-key "$KEY" --latency-ms "$LATENCY_MS" --quiet 2>"$DS_WORK/bench_replay.log" &
replay_pid=$!
for _ in $(seq 1 600); do [ -s "$portfile" ] && break; sleep 0.1; done
[ -s "$portfile" ] || { echo "replay server did not start:" >&2; cat "$DS_WORK/bench_replay.log" >&2; exit 1; }
base="http://127.0.0.1:$(cat "$portfile")"
cleanup() { ds_stop_cluster "$PORT"; kill "$replay_pid" 2>/dev/null || true; wait "$replay_pid" 2>/dev/null || true; }
trap cleanup EXIT

ds_start_cluster "$PORT" <<EOF
seongsu.seoul_api_key = '$KEY'
seongsu.seoul_api_url = '$base'
seongsu.http_timeout_ms = 60000
seongsu.retry_base_ms = 100
EOF
psql -qAt -c "SELECT 1" >/dev/null

ds_say "the seed service's crawler: sequential urllib requests + 0.1 s sleep, $CRAWL_DAYS days"
read -r single_s crawl_s crawl_rows < <(python3 - "$base" "$KEY" "$FROM" "$CRAWL_DAYS" <<'PY'
import datetime as dt, json, sys, time, urllib.request
base, key, first, n = sys.argv[1], sys.argv[2], dt.date.fromisoformat(sys.argv[3]), int(sys.argv[4])
def get(day):
    url = f"{base}/{key}/json/CardSubwayStatsNew/1/1000/{day:%Y%m%d}"
    with urllib.request.urlopen(url, timeout=60) as r:
        return json.loads(r.read())["CardSubwayStatsNew"]["row"]
# one request, measured alone (mean of 10, on days the crawl below does not fetch)
t = time.perf_counter()
for i in range(10):
    get(first - dt.timedelta(days=400 + i))
single = (time.perf_counter() - t) / 10
# the crawl itself
rows = 0
t = time.perf_counter()
for i in range(n):
    rows += len(get(first + dt.timedelta(days=i)))
    time.sleep(0.1)
print(f"{single:.4f} {time.perf_counter() - t:.3f} {rows}")
PY
)
echo "one request: ${single_s} s; crawl of $CRAWL_DAYS days: ${crawl_s} s, $crawl_rows rows"

to=$(psql -qAt -c "SELECT date '$FROM' + $DAYS - 1")
results=""
for c in $CONCURRENCY; do
  ds_say "worker, max_concurrency = $c: seoul_daily $FROM .. $to"
  psql -qAt -c "ALTER SYSTEM SET seongsu.max_concurrency = $c" >/dev/null
  ds_as_pg "$DS_BIN/pg_ctl" -D "$DS_CLUSTER_DIR/data" -l "$DS_CLUSTER_DIR/server.log" -w -t 120 -m fast restart >/dev/null
  psql -qAt -c "SET client_min_messages = warning" -c "DROP EXTENSION IF EXISTS daily_seongsu CASCADE" -c "CREATE EXTENSION daily_seongsu" >/dev/null
  [ "$(psql -qAt -c 'SHOW seongsu.max_concurrency')" = "$c" ] || { echo "max_concurrency not applied" >&2; exit 1; }
  t0=$(date +%s.%N)
  id=$(psql -qAt -c "SELECT seongsu.enqueue('seoul_daily', '$FROM', '$to')")
  state=$(psql -qAt -c "SELECT seongsu.wait_for_job($id, '1 hour')")
  t1=$(date +%s.%N)
  stats=$(psql -qAt -F ' ' -c "SELECT j.requests, j.rows_written, extract(epoch FROM j.finished_at - j.started_at),
      (SELECT round(avg(latency_ms)::numeric, 1) FROM seongsu.ingest_log l WHERE l.job_id = j.id),
      (SELECT count(*) FROM seongsu.ridership_daily)
    FROM seongsu.jobs j WHERE j.id = $id")
  echo "state $state; requests, rows written, job seconds, mean request ms, rows stored: $stats"
  [ "$state" = done ] || { echo "the job did not finish: $(psql -qAt -c "SELECT last_error FROM seongsu.jobs WHERE id = $id")" >&2; exit 1; }
  results="$results$c $(awk "BEGIN { print $t1 - $t0 }") $stats
"
done

ds_say "results (one run, same machine, replay latency $LATENCY_MS ms)"
python3 - "$DAYS" "$single_s" "$crawl_s" "$CRAWL_DAYS" "$crawl_rows" <<PY
import sys
days, single, crawl, crawl_days, crawl_rows = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
model = days * (0.1 + single)
crawl_365 = crawl * days / crawl_days
rows_per_day = crawl_rows / crawl_days
print(f"seed model: {days} x (0.1 s sleep + {single*1000:.1f} ms request) = {model:.1f} s")
print(f"seed crawler run for real: {crawl:.1f} s for {crawl_days} days -> {crawl_365:.1f} s for {days} days "
      f"({crawl_days/crawl:.2f} requests/s, {crawl_rows/crawl:.0f} rows/s)")
print()
print(f"{'runner':<28}{'wall s':>9}{'requests/s':>12}{'rows/s':>10}{'x model':>9}{'x crawler':>11}")
print(f"{'seed model (sequential)':<28}{model:>9.1f}{days/model:>12.2f}{days*rows_per_day/model:>10.0f}{1:>9.2f}{model/crawl_365:>11.2f}")
print(f"{'seed crawler (extrapolated)':<28}{crawl_365:>9.1f}{days/crawl_365:>12.2f}{days*rows_per_day/crawl_365:>10.0f}{model/crawl_365:>9.2f}{1:>11.2f}")
for line in """$results""".strip().splitlines():
    c, wall, req, rows, job_s, mean_ms, stored = line.split()
    wall, req, rows = float(wall), int(req), int(rows)
    print(f"{'worker, max_concurrency ' + c:<28}{wall:>9.2f}{req/wall:>12.2f}{rows/wall:>10.0f}{model/wall:>9.2f}{crawl_365/wall:>11.2f}"
          f"   (job {float(job_s):.2f} s, {req} requests, {rows} rows written, {stored} stored, mean request {mean_ms} ms)")
print()
print("x model / x crawler: how many times faster than the seed's sequential crawl (wall time from enqueue to done).")
PY
