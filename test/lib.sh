# test/lib.sh — shared by test/check.sh and test/demo.sh: installs what is
# missing (Debian packages), builds and installs the extension, and starts a
# throwaway PostgreSQL cluster on a loopback port.  Sourced, not run.

set -euo pipefail

DS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DS_PG_MAJOR=${DS_PG_MAJOR:-15}
# DS_PG_PREFIX: build, install and test against a private copy of the
# server's installation under this folder (made on first use), so that
# several checkouts can be tested at once.  Empty: the system's installation.
DS_PG_PREFIX=${DS_PG_PREFIX:-}
DS_PG_LIB=$DS_PG_PREFIX/usr/lib/postgresql/$DS_PG_MAJOR
DS_BIN=$DS_PG_LIB/bin
DS_WORK=${DS_WORK:-/tmp/daily_seongsu}
DS_PACKAGES="postgresql-$DS_PG_MAJOR postgresql-server-dev-$DS_PG_MAJOR postgresql-$DS_PG_MAJOR-cron
  postgresql-plpython3-$DS_PG_MAJOR libcurl4-openssl-dev libjson-c-dev libipc-run-perl
  build-essential clang libclang-rt-dev python3 python3-numpy python3-sklearn python3-xgboost valgrind
  chromium fonts-nanum libicu-dev"

# Print a step heading.
ds_say() { printf '\n== %s\n' "$*"; }

# The Debian release whose own packages hold PostgreSQL $1 (empty when none is known).
ds_pg_suite() {
  case "$1" in
    15) echo bookworm ;;
    17) echo trixie ;;
  esac
}

# The Debian release this system runs.
ds_host_suite() { (. /etc/os-release && echo "${VERSION_CODENAME:-}"); }

# True when PostgreSQL $1 is tested on this system, false when in a root of
# its Debian release (test/chroot.sh).
ds_pg_here() {
  local suite
  suite=$(ds_pg_suite "$1")
  [ -z "$suite" ] || [ "$suite" = "$(ds_host_suite)" ]
}

# Run a command as the PostgreSQL OS user when we are root (the server refuses root).
ds_as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Install the Debian packages that are missing (needs root or sudo).
ds_install_deps() {
  local missing=""
  for p in $DS_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    ds_say "installing:$missing"
    local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
  ds_private_pg
}

# With DS_PG_PREFIX set, copy the system's server installation there once
# (PostgreSQL finds its share and lib folders relative to its binaries).
ds_private_pg() {
  [ -n "$DS_PG_PREFIX" ] || return 0
  [ -x "$DS_BIN/postgres" ] && return 0
  ds_say "copying the PostgreSQL $DS_PG_MAJOR installation to $DS_PG_PREFIX"
  local d
  for d in lib/postgresql/$DS_PG_MAJOR share/postgresql/$DS_PG_MAJOR include/postgresql; do
    mkdir -p "$DS_PG_PREFIX/usr/$(dirname "$d")"
    cp -a "/usr/$d" "$DS_PG_PREFIX/usr/$(dirname "$d")/"
  done
  chmod a+rx "$DS_PG_PREFIX"
}

# Build and install the extension into the server's directories, as a
# developer build: warnings are errors (DS_WERROR=1; a user's plain `make`
# only warns), and every file the Makefile installs must be there after the
# install (make installcheck-files).  The checkout's build output is removed
# first when it was made for another server or compiler (the PostgreSQL 15
# and 17 legs share one checkout).
ds_build_install() {
  ds_say "building and installing daily_seongsu"
  local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  local stamp="$DS_ROOT/tmp_check/build-of" built_for
  built_for="$("$DS_BIN/pg_config" --version), gcc $(gcc -dumpfullversion)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$built_for" ]; then
    make -C "$DS_ROOT" -s clean PG_CONFIG="$DS_BIN/pg_config" >/dev/null
    make -C "$DS_ROOT/test/fuzz" -s clean >/dev/null
    make -C "$DS_ROOT/test/unit" -s clean >/dev/null
    mkdir -p "$(dirname "$stamp")"
    echo "$built_for" > "$stamp"
  fi
  make -C "$DS_ROOT" -s -j2 PG_CONFIG="$DS_BIN/pg_config" DS_WERROR=1 "$@"
  $sudo make -C "$DS_ROOT" -s install PG_CONFIG="$DS_BIN/pg_config" DS_WERROR=1 "$@" >/dev/null
  make -C "$DS_ROOT" -s installcheck-files PG_CONFIG="$DS_BIN/pg_config"
}

# Make the data folder readable by the server: copy it under $DS_WORK.
# Sets DS_DATA (empty when no data folder exists).
ds_stage_data() {
  local src=${DAILY_SEONGSU_DATA:-}
  if [ -z "$src" ] && [ -d "$DS_ROOT/../shared/data" ]; then src="$DS_ROOT/../shared/data"; fi
  DS_DATA=""
  [ -n "$src" ] && [ -d "$src" ] || return 0
  mkdir -p "$DS_WORK"
  rm -rf "$DS_WORK/data"
  cp -r "$src" "$DS_WORK/data"
  chmod a+rx "$DS_WORK"
  chmod -R a+rX "$DS_WORK/data"
  DS_DATA="$DS_WORK/data"
}

# Start a fresh cluster on port $1 (extra postgresql.conf lines on stdin).
# Sets PGHOST, PGPORT, PGUSER, PGDATABASE for the caller.
ds_start_cluster() {
  local port=$1 dir="$DS_WORK/cluster-$1"
  ds_stop_cluster "$port"
  mkdir -p "$DS_WORK"; chmod a+rwx "$DS_WORK"
  rm -rf "$dir"
  ds_as_pg mkdir -p "$dir"
  ds_as_pg "$DS_BIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $port"
    echo "unix_socket_directories = '$dir'"
    echo "max_connections = 50"
    echo "shared_preload_libraries = 'daily_seongsu,pg_cron'"
    echo "cron.database_name = 'postgres'"
    echo "seongsu.database = 'postgres'"
    echo "fsync = off"
    echo "logging_collector = off"
    cat
  } | ds_as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
  ds_as_pg "$DS_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 120 start >/dev/null
  export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=postgres
  DS_CLUSTER_DIR=$dir
}

# Stop the cluster on port $1 if it runs.
ds_stop_cluster() {
  local dir="$DS_WORK/cluster-$1"
  if [ -f "$dir/data/postmaster.pid" ]; then
    ds_as_pg "$DS_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
}

# At exit, stop the cluster on port $1, or leave it running when $2 is 1 (and say how to reach and stop it).
ds_cluster_at_exit() {
  if [ "$2" = 1 ]; then
    trap "echo \"cluster left running: psql -h 127.0.0.1 -p $1 -U postgres (stop: runuser -u postgres -- $DS_BIN/pg_ctl -D $DS_WORK/cluster-$1/data stop)\"" EXIT
  else
    trap "ds_stop_cluster '$1'" EXIT
  fi
}

# The import kind of a data-folder file, from its name (empty when none).
ds_kind_of() {
  case "$(basename "$1")" in
    card_subway_month_*.csv) echo card_subway_month ;;
    card_subway_time_*.csv) echo card_subway_time ;;
    seoulmetro_hourly_*.csv) echo seoulmetro_hourly ;;
    daily_*.csv) echo ridership_daily ;;
    hourly_total_*.csv) echo ridership_hourly ;;
    congestion_*.csv) echo congestion_survey ;;
    kma_daily_*.csv) echo kma_daily ;;
    kma_asos_*.csv) echo kma_asos_hourly ;;
    openmeteo_daily_*.csv) echo openmeteo_daily ;;
    [0-9][0-9].json) echo kasi_holidays ;;
  esac
}

# Import every recognized file of $DS_DATA with the psql command given as
# arguments; sets DS_IMPORTED to the number of files.
ds_import_data_folder() {
  local f k
  DS_IMPORTED=0
  while IFS= read -r f; do
    k=$(ds_kind_of "$f")
    [ -n "$k" ] || continue
    "$@" -At -c "SELECT seongsu.import_file('$k', '$f')" >/dev/null
    DS_IMPORTED=$((DS_IMPORTED + 1))
  done < <(find "$DS_DATA" -type f \( -name '*.csv' -o -name '*.json' \) | sort)
}

# Benchmark prelude: packages, an optional build ($2 = 1), the staged data
# folder; exits with a message naming the script ($1) when there is no data.
ds_bench_prepare() {
  ds_install_deps
  if [ "$2" = 1 ]; then ds_build_install; fi
  ds_stage_data
  if [ -z "$DS_DATA" ]; then
    echo "$1: needs the data folder (DAILY_SEONGSU_DATA=dir, or ../shared/data)" >&2
    exit 2
  fi
}
