#!/usr/bin/env bash
# test/container.sh — builds the image (Dockerfile) with podman for each
# PostgreSQL major given (default: 15 17) and smoke-tests it; prints each
# major's build and smoke-test time and a closing "N passed, N failed" line.
# Usage: bash test/container.sh [15] [17]        (make container-check)
#
# No container engine runs here (`podman run` cannot set rlimits), so:
# - the base image is a debootstrap minbase root of the major's Debian
#   release (15: bookworm, 17: trixie) from the archive apt uses here,
#   imported once as localhost/daily_seongsu-base:<release> (kept: later runs
#   reuse it; `podman rmi` it to make it again);
# - the image is built with `podman build --isolation=chroot`, FROM that base
#   (build argument BASE_IMAGE) and tagged localhost/daily_seongsu:pg<major>;
# - the smoke test mounts a container of the image (`podman create` +
#   `podman mount`) and runs the image's own entrypoint, environment and
#   command in a chroot, in private mount, PID and network namespaces (so
#   port 5432 is the container's own, and nothing outlives the test), with a
#   fresh folder bind-mounted as the volume: first start (initdb, extensions,
#   keys, schedules), create/import/train/predict, the worker and pg_cron
#   running, the keys absent from the log and the server's environment, then a
#   restart on the same volume.  The container is unmounted and removed at the
#   end, whatever happens.
# Needs root; installs podman and debootstrap when missing.
set -euo pipefail

DS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$DS_ROOT/test/lib.sh"

# Answers inside the smoke test's namespaces, see ds_smoke.
PASSWORD=smoke-password-1
SEOUL_KEY=smoke-seoul-key-7f3a9c
DGK_KEY=smoke-dgk-key-2b8e41
DB=seongsu

# Print a result line and count it.
ds_check() {
  local what=$1 ok=$2 got=${3:-}
  if [ "$ok" = 1 ]; then
    DS_PASSED=$((DS_PASSED + 1)); echo "ok - $what${got:+ ($got)}"
  else
    DS_FAILED=$((DS_FAILED + 1)); echo "not ok - $what${got:+ (got: $got)}"
  fi
}

# Check that the output of a query ($2) equals $3.
ds_check_query() {
  local got
  got=$(ds_sql <<< "$2" 2>&1) || true
  ds_check "$1" "$([ "$got" = "$3" ] && echo 1 || echo 0)" "$got"
}

# ---- outside the namespaces -------------------------------------------------

# The archive URI apt uses here for suite $1 (empty when none).
ds_archive_of() {
  apt-cache policy | awk -v want="$1/main" '$3 == want && $2 ~ /^https?:/ { print $2; exit }'
}

# Make the base image localhost/daily_seongsu-base:$1 unless it exists:
# debootstrap minbase, Debian's apt sources for the release (with updates and
# security, as debian:<release>-slim has), then `podman import`.
ds_base_image() {
  local suite=$1 image=localhost/daily_seongsu-base:$1 host mirror security dir
  if podman image exists "$image"; then
    ds_say "base image $image (made before; podman rmi it to make it again)"
    return
  fi
  host=$(ds_host_suite)
  mirror=$(ds_archive_of "$host"); mirror=${mirror:-http://deb.debian.org/debian}
  security=$(ds_archive_of "$host-security")
  dir=$DS_WORK/base-$suite
  ds_say "base image $image: debootstrap --variant=minbase $suite from $mirror"
  rm -rf --one-file-system "$dir"
  mkdir -p "$dir"
  if ! debootstrap --variant=minbase "$suite" "$dir" "$mirror" > "$dir.log" 2>&1; then
    tail -20 "$dir.log" >&2
    exit 1
  fi
  rm -f "$dir/etc/apt/sources.list"
  {
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$mirror" "$suite" "$suite"
    if [ -n "$security" ]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$security" "$suite"
    fi
  } > "$dir/etc/apt/sources.list.d/debian.sources"
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  tar -C "$dir" -c . | podman import --quiet - "$image" >/dev/null
  rm -rf --one-file-system "$dir" "$dir.log"
}

# Build localhost/daily_seongsu:pg$1 from the Dockerfile on base $2's image.
ds_build_image() {
  local major=$1 suite=$2 log=$DS_WORK/container-build-$1.log
  ds_say "podman build --isolation=chroot: PostgreSQL $major on $suite (log: $log)"
  if ! podman build --isolation=chroot --pull=never \
      --build-arg PG_MAJOR="$major" --build-arg DEBIAN="$suite" \
      --build-arg BASE_IMAGE="localhost/daily_seongsu-base:$suite" \
      -t "localhost/daily_seongsu:pg$major" -f "$DS_ROOT/Dockerfile" "$DS_ROOT" > "$log" 2>&1; then
    tail -40 "$log" >&2
    return 1
  fi
  podman image inspect --format '{{.Size}}' "localhost/daily_seongsu:pg$major" |
    awk '{ printf "image size: %.0f MB\n", $1 / 1e6 }'
}

# Create and mount a container of the image, smoke-test it in new namespaces,
# then unmount and remove the container.
ds_smoke_image() {
  local major=$1 image=localhost/daily_seongsu:pg$1 ctr mnt rc=0 cfg=$DS_WORK/container-$1
  rm -rf --one-file-system "$cfg"
  mkdir -p "$cfg/volume"
  # the image's configuration: environment, entrypoint + command (one a line)
  podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$image" > "$cfg/env"
  podman image inspect --format '{{range .Config.Entrypoint}}{{println .}}{{end}}{{range .Config.Cmd}}{{println .}}{{end}}' \
    "$image" > "$cfg/command"
  podman rm --force --ignore "ds-smoke-pg$major" >/dev/null
  ctr=$(podman create --name "ds-smoke-pg$major" "$image")
  mnt=$(podman mount "$ctr")
  ds_say "smoke test of $image in a chroot of the mounted container"
  DS_SMOKE_MNT=$mnt DS_SMOKE_CFG=$cfg \
    unshare --mount --propagation private --pid --fork --net bash "${BASH_SOURCE[0]}" || rc=$?
  podman umount "$ctr" >/dev/null
  podman rm "$ctr" >/dev/null
  if grep -q " ${mnt}[/ ]" /proc/self/mountinfo; then
    echo "test/container.sh: mounts left under $mnt" >&2
    rc=1
  fi
  if [ "$rc" = 0 ]; then
    rm -rf --one-file-system "$cfg"
  else
    echo "the server's output and the volume are kept in $cfg" >&2
  fi
  return $rc
}

# ---- inside the namespaces (PID 1 of a new PID namespace) ------------------

# Run a command in the container's root with the image's environment plus
# "$@"'s leading VAR=value words (the environment file is read once).
ds_in_image() {
  [ -n "${DS_IMAGE_ENV+set}" ] || mapfile -t DS_IMAGE_ENV < <(grep . "$DS_SMOKE_CFG/env")
  chroot "$DS_SMOKE_MNT" /usr/bin/env -i "${DS_IMAGE_ENV[@]}" HOME=/root "$@"
}

# psql in the container over TCP with the password (further arguments as for psql).
ds_sql() {
  ds_in_image PGPASSWORD="$PASSWORD" psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -d "$DB" "$@"
}

# Start the image's entrypoint and command (environment words as arguments) in
# the background, output to $DS_SMOKE_CFG/server.log; wait until it accepts
# connections on 127.0.0.1:5432.  Sets SERVER_PID.
ds_start_container() {
  local cmd=() _
  mapfile -t cmd < <(grep . "$DS_SMOKE_CFG/command")
  # chroot, env, the entrypoint and setpriv exec each other: $! is the postmaster
  chroot "$DS_SMOKE_MNT" /usr/bin/env -i "${DS_IMAGE_ENV[@]}" HOME=/root "$@" "${cmd[@]}" \
    >> "$DS_SMOKE_CFG/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    if ds_in_image pg_isready -q -h 127.0.0.1 -p 5432; then return 0; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.2
  done
  echo "the container's server did not start:" >&2
  tail -30 "$DS_SMOKE_CFG/server.log" >&2
  return 1
}

# Stop the server as `docker stop` does (the image's STOPSIGNAL, SIGINT) and wait for it.
ds_stop_container() {
  local rc=0
  kill -INT "$SERVER_PID"
  wait "$SERVER_PID" || rc=$?
  ds_check "the server stops on SIGINT (exit $rc)" "$([ "$rc" = 0 ] && echo 1 || echo 0)"
}

# Write the synthetic fixtures into the container's /tmp/smoke: 900 days of
# daily ridership (weekday pattern, slow trend, a deterministic wobble) and 8
# weeks of hourly ridership (a two-peak day).
ds_write_fixtures() {
  local dir=$DS_SMOKE_MNT/tmp/smoke
  mkdir -p "$dir"
  awk 'BEGIN {
    print "date,line,station,boardings,alightings"
    split("0.72 1.00 1.02 1.03 1.04 1.08 0.86", f, " ")
    t0 = mktime("2022 01 01 12 00 00")
    for (i = 0; i < 900; i++) {
      t = t0 + i * 86400
      b = int((40000 + 8 * i) * f[strftime("%w", t) + 1] * (1 + 0.03 * sin(i * 0.7)))
      printf "%s,2호선,성수,%d,%d\n", strftime("%Y-%m-%d", t), b, int(b * 1.05)
    }
  }' > "$dir/daily.csv"
  awk 'BEGIN {
    print "service_date,line,station,hour,passengers"
    split("1 2 4 9 6 4 4 4 4 5 5 6 8 9 7 5 4 3 2", p, " ")
    t0 = mktime("2024 04 01 12 00 00")
    for (i = 0; i < 56; i++)
      for (h = 5; h <= 23; h++)
        printf "%s,2호선,성수,%d,%d\n", strftime("%Y-%m-%d", t0 + i * 86400), h, 950 * p[h - 4] + (i % 5) * 7
  }' > "$dir/hourly.csv"
  chmod -R a+rX "$dir"
}

# The smoke test proper; its exit status is the number of failed checks (capped).
ds_smoke() {
  local mnt=$DS_SMOKE_MNT pid got first
  DS_PASSED=0 DS_FAILED=0
  # PID 1 of the namespace: a signal must end it (and so every process in it)
  trap 'exit 130' INT
  trap 'exit 143' TERM
  mapfile -t DS_IMAGE_ENV < <(grep . "$DS_SMOKE_CFG/env")
  ip link set lo up
  mount -t proc proc "$mnt/proc"
  mount --bind /dev "$mnt/dev"
  mount -t tmpfs -o mode=1777,nosuid,nodev shm "$mnt/dev/shm"
  mkdir -p "$mnt/var/lib/postgresql/data"
  mount --bind "$DS_SMOKE_CFG/volume" "$mnt/var/lib/postgresql/data"
  mkdir -p "$mnt/run/secrets"
  printf '%s\n' "$DGK_KEY" > "$mnt/run/secrets/data_go_kr_key"

  # first start: as docker-compose.yml starts it (a key from a file, the other from the environment)
  ds_start_container POSTGRES_PASSWORD="$PASSWORD" POSTGRES_DB="$DB" SEONGSU_SCHEDULE=on \
    SEOUL_API_KEY="$SEOUL_KEY" DATA_GO_KR_KEY_FILE=/run/secrets/data_go_kr_key
  ds_check_query "extensions in $DB" \
    "SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension WHERE extname IN ('daily_seongsu', 'pg_cron')" \
    "daily_seongsu,pg_cron"
  ds_check_query "preload and worker settings from the image's conf file" \
    "SELECT current_setting('shared_preload_libraries') || ' ' || current_setting('seongsu.database') || ' ' || current_setting('cron.database_name')" \
    "daily_seongsu,pg_cron $DB $DB"
  ds_check_query "the ingestion worker and the pg_cron launcher run" \
    "SELECT string_agg(backend_type, ',' ORDER BY backend_type) FROM pg_stat_activity WHERE backend_type IN ('daily_seongsu ingest', 'pg_cron launcher')" \
    "daily_seongsu ingest,pg_cron launcher"
  got=$(ds_in_image PGPASSWORD=wrong psql -X -At -h 127.0.0.1 -U postgres -d "$DB" -c 'SELECT 1' 2>&1) || true
  ds_check "a wrong password is refused over TCP" \
    "$([[ $got == *"password authentication failed"* ]] && echo 1 || echo 0)" "$got"
  ds_check_query "the keys from the environment and from a _FILE are stored" \
    "SELECT string_agg(name || '=' || value, ' ' ORDER BY name) FROM seongsu.secrets" \
    "data_go_kr_key=$DGK_KEY seoul_api_key=$SEOUL_KEY"
  got=$(ds_sql -c "SELECT count(*) FROM cron.job WHERE database = '$DB'")
  ds_check "SEONGSU_SCHEDULE=on scheduled the ingestion with pg_cron" "$([ "${got:-0}" -gt 0 ] && echo 1 || echo 0)" "$got jobs"
  pid=$(head -1 "$DS_SMOKE_CFG/volume/postmaster.pid")
  got="log: $(grep -a -c -F -e "$SEOUL_KEY" -e "$DGK_KEY" -e "$PASSWORD" "$DS_SMOKE_CFG/server.log" || true),"
  got="$got environment: $(grep -a -c -F -e "$SEOUL_KEY" -e "$DGK_KEY" -e "$PASSWORD" "$mnt/proc/$pid/environ" || true)"
  ds_check "no key or password in the log or the server's environment" \
    "$([ "$got" = "log: 0, environment: 0" ] && echo 1 || echo 0)" "$got"

  ds_write_fixtures
  ds_check_query "import_text of a synthetic daily CSV" \
    "\\set csv \`cat /tmp/smoke/daily.csv\`
     SELECT seongsu.import_text('ridership_daily', :'csv')" 900
  ds_check_query "import_file of the same file writes nothing" \
    "SELECT seongsu.import_file('ridership_daily', '/tmp/smoke/daily.csv')" 0
  ds_check_query "import_text of a synthetic hourly CSV" \
    "\\set csv \`cat /tmp/smoke/hourly.csv\`
     SELECT seongsu.import_text('ridership_hourly', :'csv')" 1064
  ds_check_query "train ridge, 1 day ahead, deploys it" \
    "SELECT algorithm || ' ' || deployed FROM seongsu.train(algorithm => 'ridge', horizon => '1 day')" "ridge true"
  first=$(ds_sql -c "SELECT round(seongsu.predict_daily('2024-06-19')) || ' ' || round(seongsu.predict_crowd('2024-06-19 08:30+09')) || ' ' || seongsu.crowd_level('2024-06-19 08:30+09')") || true
  # the next working day has ~2 x (40000 + 8 x 900) x 1.02 passengers in the fixture
  ds_check "predict_daily, predict_crowd and crowd_level the day after the data" \
    "$(awk -v d="${first%% *}" 'BEGIN { print (d > 80000 && d < 120000) ? 1 : 0 }')" "$first"
  ds_check_query "forecast, 2 days hourly" \
    "SELECT count(*) FILTER (WHERE passengers > 0) > 30 FROM seongsu.forecast('성수', '2호선', '2024-06-19 00:00+09', '2024-06-21 00:00+09')" t
  ds_stop_container

  # second start on the same volume: no new cluster, the keys given now are not stored
  ds_start_container POSTGRES_PASSWORD="$PASSWORD" POSTGRES_DB="$DB" SEOUL_API_KEY=another-key
  ds_check "the second start keeps the cluster" \
    "$(grep -c 'making the cluster' "$DS_SMOKE_CFG/server.log" | grep -qx 1 && echo 1 || echo 0)"
  ds_check_query "the data, the deployed model and the first keys are kept" \
    "SELECT (SELECT count(*) FROM seongsu.ridership_daily) || ' ' || (SELECT count(*) FROM seongsu.deployed_models) || ' ' ||
            (SELECT value FROM seongsu.secrets WHERE name = 'seoul_api_key')" "900 1 $SEOUL_KEY"
  ds_check_query "the same predictions after the restart" \
    "SELECT round(seongsu.predict_daily('2024-06-19')) || ' ' || round(seongsu.predict_crowd('2024-06-19 08:30+09')) || ' ' || seongsu.crowd_level('2024-06-19 08:30+09')" \
    "$first"
  ds_check_query "the worker runs after the restart" \
    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'daily_seongsu ingest' AND datname = '$DB'" 1
  ds_stop_container
  echo "smoke test: $DS_PASSED passed, $DS_FAILED failed"
  return $((DS_FAILED > 100 ? 100 : DS_FAILED))
}

if [ -n "${DS_SMOKE_MNT:-}" ]; then
  ds_smoke
  exit
fi

# ---- main ------------------------------------------------------------------

if [ "$(id -u)" != 0 ]; then
  echo "test/container.sh: needs root (podman build, mount, chroot)" >&2
  exit 2
fi
MAJORS=${*:-15 17}
for m in $MAJORS; do
  if [ -z "$(ds_pg_suite "$m")" ]; then
    echo "test/container.sh: no Debian release known to ship PostgreSQL $m (15: bookworm, 17: trixie)" >&2
    exit 2
  fi
done
# test/lib.sh's package helper, for this script's tools only
DS_PACKAGES="podman debootstrap" DS_PG_PREFIX="" ds_install_deps
mkdir -p "$DS_WORK"

passed=0 failed=0 summary=""
for m in $MAJORS; do
  suite=$(ds_pg_suite "$m")
  start=$SECONDS
  ok=1
  ds_base_image "$suite"
  base_secs=$((SECONDS - start))
  ds_build_image "$m" "$suite" || ok=0
  build_secs=$((SECONDS - start - base_secs))
  if [ "$ok" = 1 ]; then ds_smoke_image "$m" || ok=0; fi
  smoke_secs=$((SECONDS - start - base_secs - build_secs))
  if [ "$ok" = 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  summary="$summary$(printf '\n  PostgreSQL %s (%s): %s; base %ds, build %ds, smoke test %ds' "$m" "$suite" \
    "$([ "$ok" = 1 ] && echo passed || echo FAILED)" "$base_secs" "$build_secs" "$smoke_secs")"
done
ds_say "container images:$summary"
echo "containers: $passed passed, $failed failed"
[ "$failed" = 0 ]
