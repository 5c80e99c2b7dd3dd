#!/usr/bin/env bash
# docker/entrypoint.sh — the image's entrypoint.  On the first start (an empty
# $PGDATA) it makes the cluster, creates pg_cron and daily_seongsu in
# $POSTGRES_DB, stores the API keys given in the environment with
# seongsu.set_secret, runs /docker-entrypoint-initdb.d/*.sql and *.sh, then
# starts `postgres` as the postgres user.  Later starts only start postgres.
#
# Environment (each *_FILE variant reads the value from a file, e.g. a
# Docker secret; docs/containers.md):
#   POSTGRES_PASSWORD        the postgres superuser's password (required,
#                            unless POSTGRES_HOST_AUTH_METHOD=trust)
#   POSTGRES_HOST_AUTH_METHOD  scram-sha-256 (default) or trust (tests only)
#   POSTGRES_DB              the database of the extension, the worker and
#                            pg_cron (default postgres)
#   POSTGRES_INITDB_ARGS     more initdb arguments
#   SEOUL_API_KEY, DATA_GO_KR_KEY  API keys, stored once at the first start
#   SEONGSU_SCHEDULE=on      also schedule the ingestion jobs with pg_cron
# The keys and the password are removed from the server's environment.
set -Eeuo pipefail

# Print a message prefixed with the script's name.
ds_log() { printf 'docker-entrypoint: %s\n' "$*" >&2; }

# Set variable $1 from $1_FILE when that is given (not both).
ds_file_env() {
  local var=$1 file_var=${1}_FILE
  if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
    ds_log "both $var and $file_var are set; use one"
    exit 1
  fi
  if [ -n "${!file_var:-}" ]; then
    printf -v "$var" '%s' "$(< "${!file_var}")"
  fi
}

# psql as the postgres user on the local socket, stopping at the first error.
ds_psql() {
  psql -X -q -v ON_ERROR_STOP=1 --no-password -h /var/run/postgresql -U postgres "$@"
}

# Make the cluster and write its configuration.
ds_initdb() {
  local auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
  case "$auth" in
    scram-sha-256 | md5) ;;
    trust) ds_log "POSTGRES_HOST_AUTH_METHOD=trust: anyone who reaches the port is a superuser" ;;
    *) ds_log "POSTGRES_HOST_AUTH_METHOD must be scram-sha-256, md5 or trust"; exit 1 ;;
  esac
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
    ds_log "no cluster in $PGDATA and no POSTGRES_PASSWORD: set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE)"
    exit 1
  fi
  local args=(-D "$PGDATA" -U postgres -E UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host="$auth")
  # shellcheck disable=SC2206  # POSTGRES_INITDB_ARGS is a list of words, as in the official image
  args+=(${POSTGRES_INITDB_ARGS:-})
  if [ -n "${POSTGRES_PASSWORD:-}" ]; then
    initdb "${args[@]}" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD")
  else
    initdb "${args[@]}"
  fi
  printf '\n# the container is reached over its network (docker/entrypoint.sh)\nhost all all all %s\n' \
    "$auth" >> "$PGDATA/pg_hba.conf"
  {
    printf "\n# daily_seongsu image (docker/entrypoint.sh)\ninclude = '/etc/daily_seongsu/postgresql.conf'\n"
    if [ "$POSTGRES_DB" != postgres ]; then
      printf "cron.database_name = '%s'\nseongsu.database = '%s'\n" "$POSTGRES_DB" "$POSTGRES_DB"
    fi
  } >> "$PGDATA/postgresql.conf"
}

# Store the API keys given in the environment (never in a statement that is
# logged: the session turns statement logging off first).
ds_store_keys() {
  local name var
  for name in seoul_api_key data_go_kr_key; do
    var=${name^^}
    [ -n "${!var:-}" ] || continue
    DS_KEY_NAME=$name DS_KEY_VALUE=${!var} ds_psql -d "$POSTGRES_DB" <<'SQL'
SET log_statement = 'none';
SET log_min_error_statement = 'panic';
SET log_min_duration_statement = -1;
\getenv key_name DS_KEY_NAME
\getenv key_value DS_KEY_VALUE
SELECT seongsu.set_secret(:'key_name', :'key_value') \g /dev/null
SQL
    ds_log "stored $name with seongsu.set_secret"
  done
}

# Run the files of /docker-entrypoint-initdb.d in name order.
ds_run_initdb_d() {
  local f
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sql) ds_log "running $f"; ds_psql -d "$POSTGRES_DB" -f "$f" ;;
      *.sh) ds_log "running $f"; bash "$f" ;;
      */\*) ;;
      *) ds_log "ignoring $f (not .sql or .sh)" ;;
    esac
  done
}

# Start ($1 = start, more server options after it) or stop the server used
# while the cluster is set up: local socket only.
ds_temp_server() {
  local action=$1
  shift
  if [ "$action" = start ]; then
    pg_ctl -D "$PGDATA" -w -t 120 -o "-c listen_addresses='' -c unix_socket_directories=/var/run/postgresql $*" start
  else
    pg_ctl -D "$PGDATA" -m fast -w stop
  fi
}

# First start: the cluster, then a server on the local socket only for the
# extensions, keys, schedules and init scripts.
ds_first_start() {
  ds_log "making the cluster in $PGDATA"
  ds_initdb
  if [ "$POSTGRES_DB" != postgres ]; then
    # the database first, before the worker and pg_cron look for it
    ds_temp_server start -c shared_preload_libraries=
    ds_psql -d postgres -v db="$POSTGRES_DB" <<< 'CREATE DATABASE :"db"'
    ds_temp_server stop
  fi
  ds_temp_server start
  ds_psql -d "$POSTGRES_DB" -c 'CREATE EXTENSION IF NOT EXISTS pg_cron' \
    -c 'CREATE EXTENSION IF NOT EXISTS daily_seongsu'
  ds_store_keys
  if [ "${SEONGSU_SCHEDULE:-off}" = on ]; then
    ds_psql -d "$POSTGRES_DB" -c 'SELECT count(*) AS scheduled_jobs FROM seongsu.schedule_ingestion()'
  fi
  ds_run_initdb_d
  ds_temp_server stop
  ds_log "the cluster is ready"
}

# An option as the first argument is for postgres.
if [ "${1:0:1}" = - ]; then set -- postgres "$@"; fi

if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
  # as root: own the volume, then run this script again as postgres
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  chmod 2775 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [ "$1" = postgres ]; then
  POSTGRES_DB=${POSTGRES_DB:-postgres}
  if ! [[ $POSTGRES_DB =~ ^[a-z_][a-z0-9_]{0,62}$ ]]; then
    ds_log "POSTGRES_DB must be a lower-case SQL name (letters, digits, _)"
    exit 1
  fi
  for v in POSTGRES_PASSWORD SEOUL_API_KEY DATA_GO_KR_KEY; do ds_file_env "$v"; done
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    ds_first_start
  fi
  unset POSTGRES_PASSWORD POSTGRES_PASSWORD_FILE SEOUL_API_KEY SEOUL_API_KEY_FILE \
    DATA_GO_KR_KEY DATA_GO_KR_KEY_FILE
fi
exec "$@"
