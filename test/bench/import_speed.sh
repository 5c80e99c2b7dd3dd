#!/usr/bin/env bash
# Import speed: 1M CARD_SUBWAY_MONTH rows through seongsu.import_file against
# COPY of the same file into a plain table, in the same run on the same server.
# Usage: bash test/bench/import_speed.sh   (starts its own throwaway cluster)
source "$(dirname "$0")/../lib.sh"
PORT=${DS_BENCH_PORT:-25434}
ROWS=${ROWS:-1000000}
ds_bench_prepare import_speed.sh 1
ds_start_cluster "$PORT" <<< ""
trap 'ds_stop_cluster "$PORT"' EXIT

file="$DS_WORK/bench_card_1m.csv"
ds_say "making $ROWS rows from the real Seongsu days (stations x days, scaled counts)"
python3 - "$DS_DATA/seongsu/card_subway_month_2015-01_2021-07.csv" "$file" "$ROWS" <<'PY'
import sys, random
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = [l.rstrip('\n').split(',') for l in open(src, encoding='utf-8')][1:]
rnd = random.Random(7)
with open(dst, 'w', encoding='utf-8') as f:
    f.write('사용일자,노선명,역명,승차총승객수,하차총승객수,등록일자\n')
    k = 0
    st = 0
    while k < n:
        line = f'{st % 9 + 1}호선'
        name = f'역{st:04d}'
        scale = 0.2 + rnd.random() * 2
        for r in rows:
            if k >= n: break
            f.write(f'{r[0]},{line},{name},{int(int(r[4]) * scale)},{int(int(r[5]) * scale)},{r[6]}\n')
            k += 1
        st += 1
PY
chmod a+r "$file"
psql -q -c "CREATE EXTENSION daily_seongsu" \
  -c "CREATE TABLE plain_copy (day text, line text, station text, boardings int, alightings int, registered text)" \
  -c "CREATE TABLE keyed_copy (day text, line text, station text, boardings int, alightings int, registered text, PRIMARY KEY (line, station, day))"

ms() { psql -qAt -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'; }
ds_say "timing (same server, same file)"
t_import=$(ms "SELECT seongsu.import_file('card_subway_month', '$file')")
t_copy=$(ms "COPY plain_copy FROM '$file' WITH (FORMAT csv, HEADER)")
t_keyed=$(ms "COPY keyed_copy FROM '$file' WITH (FORMAT csv, HEADER)")
t_again=$(ms "SELECT seongsu.import_file('card_subway_month', '$file')")
n=$(psql -qAt -c "SELECT count(*) FROM seongsu.ridership_daily")
# The floor of any writer into ridership_daily: COPY of the imported rows
# (station ids resolved, typed) into a table made LIKE it (same primary key,
# CHECKs and generated column).
typed="$DS_WORK/bench_card_1m.typed"
psql -q -c "COPY (SELECT station_id, day, boardings, alightings, source, registered_on FROM seongsu.ridership_daily) TO '$typed'" \
  -c "CREATE TABLE same_copy (LIKE seongsu.ridership_daily INCLUDING ALL)"
t_same=$(ms "COPY same_copy (station_id, day, boardings, alightings, source, registered_on) FROM '$typed'")
python3 - "$ROWS" "$n" "$t_import" "$t_copy" "$t_keyed" "$t_again" "$t_same" <<'PY'
import sys
rows, stored = int(sys.argv[1]), int(sys.argv[2])
ti, tc, tk, ta, ts = (float(x) / 1000 for x in sys.argv[3:8])
print(f"rows in file: {rows}, rows stored: {stored}")
print(f"seongsu.import_file (parse + upsert, PK)   {ti:7.2f} s  {rows/ti:10.0f} rows/s")
print(f"COPY into a plain table (no index)         {tc:7.2f} s  {rows/tc:10.0f} rows/s")
print(f"COPY into a table with the same PK         {tk:7.2f} s  {rows/tk:10.0f} rows/s")
print(f"re-import of the same file (no change)     {ta:7.2f} s  {rows/ta:10.0f} rows/s")
print(f"COPY typed rows into a ridership_daily twin{ts:7.2f} s  {rows/ts:10.0f} rows/s")
print(f"ratio import / plain COPY speed: {tc/ti:.2f}   import / keyed COPY speed: {tk/ti:.2f}   "
      f"import / twin COPY speed: {ts/ti:.2f}")
print(f"(the target, 0.5x of plain COPY, is {tc*2:.2f} s; COPY alone into the twin takes {ts:.2f} s)")
PY
