#!/usr/bin/env bash
# test/chroot.sh — run a command in a Debian root of the release that ships
# PostgreSQL $DS_PG_MAJOR (17: trixie), with that server and the build and test
# packages installed (test/lib.sh's list), the checkout bind-mounted at
# /work/daily_seongsu and the data folder (DAILY_SEONGSU_DATA, or
# ../shared/data) read-only at /work/shared/data.
# Usage: DS_PG_MAJOR=17 bash test/chroot.sh [command ...]   (default: bash test/check.sh)
#
# The root is made with debootstrap from the Debian archive apt uses on this
# machine and kept in $DS_CHROOT_DIR (default /var/cache/daily_seongsu/<suite>);
# a root that lacks its completion mark (an interrupted debootstrap) is made
# again, and packages an interrupted run left half-installed are finished.  Every mount lives in a private mount namespace of this script and is
# unmounted on exit, with the processes this run left in the root stopped
# first.  DS_PG_MAJOR, DS_PG_PREFIX, DS_WORK and DS_TEST_PORT are passed in
# (the root's /tmp is shared by every run of it), and SS_BUILD, the
# checkout's git describe (the root has no git; see the Makefile).
# Needs root.
set -euo pipefail

DS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$DS_ROOT/test/lib.sh"

SUITE=$(ds_pg_suite "$DS_PG_MAJOR")
if [ -z "$SUITE" ]; then
  echo "test/chroot.sh: no Debian release known to ship PostgreSQL $DS_PG_MAJOR (15: bookworm, 17: trixie)" >&2
  exit 2
fi
CHROOT=$(realpath -m "${DS_CHROOT_DIR:-/var/cache/daily_seongsu/$SUITE}")
MARK=.daily_seongsu-root
LOCK=$CHROOT.lock
INSIDE_SRC=/work/daily_seongsu
INSIDE_DATA=/work/shared/data

if [ "$(id -u)" != 0 ]; then
  echo "test/chroot.sh: needs root (debootstrap, chroot, mount)" >&2
  exit 2
fi

# Everything below runs in a private mount namespace: nothing mounted here is
# seen outside, and the namespace's mounts go away with its last process.
if [ -z "${DS_CHROOT_NS:-}" ]; then
  exec unshare --mount --propagation private env DS_CHROOT_NS=1 bash "$0" "$@"
fi

# The URI of the apt source of this machine whose suite is $1 (deb822 or one-line format).
ds_apt_uri() {
  local uri
  uri=$(awk -v want="$1" '
      FNR == 1 || /^[[:space:]]*$/ { if (u != "" && deb && hit) exit; u = ""; deb = 0; hit = 0 }
      /^Types:/ { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
      /^URIs:/ { u = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == want) hit = 1 }
      END { if (u != "" && deb && hit) print u }' /etc/apt/sources.list.d/*.sources 2>/dev/null)
  if [ -z "$uri" ]; then
    uri=$(awk -v want="$1" '$1 == "deb" {
        i = 2; if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) == want) { print $i; exit } }' \
      /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -1)
  fi
  echo "$uri"
}

HOST_SUITE=$(ds_host_suite)
MIRROR=$(ds_apt_uri "$HOST_SUITE")
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY=$(ds_apt_uri "$HOST_SUITE-security")

# True when the root at $CHROOT was made to the end for $SUITE.
ds_root_complete() {
  [ -f "$CHROOT/$MARK" ] && [ "$(cat "$CHROOT/$MARK")" = "$SUITE $MIRROR" ] &&
    [ -x "$CHROOT/usr/bin/apt-get" ] &&
    grep -qx "VERSION_CODENAME=$SUITE" "$CHROOT/etc/os-release" 2>/dev/null
}

# Make the root with debootstrap (removing a half-made one first) and set up apt in it.
ds_make_root() {
  if grep -q " $CHROOT[/ ]" /proc/self/mountinfo; then
    echo "test/chroot.sh: something is mounted under $CHROOT; not removing it" >&2
    exit 1
  fi
  if [ -e "$CHROOT" ]; then
    ds_say "removing the incomplete root $CHROOT"
    rm -rf --one-file-system "$CHROOT"
  fi
  command -v debootstrap >/dev/null || {
    ds_say "installing debootstrap"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  }
  ds_say "debootstrap $SUITE from $MIRROR into $CHROOT"
  mkdir -p "$CHROOT"
  ds_run debootstrap --variant=minbase "$SUITE" "$CHROOT" "$MIRROR" > "$CHROOT.debootstrap.log" 2>&1 || {
    tail -20 "$CHROOT.debootstrap.log" >&2
    exit 1
  }
  rm -f "$CHROOT/etc/apt/sources.list"
  {
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$MIRROR" "$SUITE" "$SUITE"
    if [ -n "$SECURITY" ]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$SECURITY" "$SUITE"
    fi
  } > "$CHROOT/etc/apt/sources.list.d/debian.sources"
  # no service starts in the root, and no default cluster made by the server package
  printf '#!/bin/sh\nexit 101\n' > "$CHROOT/usr/sbin/policy-rc.d"
  chmod 755 "$CHROOT/usr/sbin/policy-rc.d"
  mkdir -p "$CHROOT/etc/postgresql-common"
  echo "create_main_cluster = false" > "$CHROOT/etc/postgresql-common/createcluster.conf"
  echo "$SUITE $MIRROR" > "$CHROOT/$MARK"
  rm -f "$CHROOT.debootstrap.log"
}

MOUNTED=()

# Mount (arguments as for mount, the target last) and remember the target for the teardown.
ds_mount() {
  mount "$@"
  MOUNTED+=("${!#}")
}

# True when one of the processes $@ is alive.
ds_alive() {
  local p
  for p in "$@"; do
    kill -0 "$p" 2>/dev/null && return 0
  done
  return 1
}

# Stop every process this run started (all others in its private mount
# namespace), then unmount in reverse order.
ds_teardown() {
  local rc=$? ns pid pids="" i t
  trap - EXIT INT TERM HUP
  exec 2>&4
  ns=$(readlink /proc/self/ns/mnt)
  for pid in /proc/[0-9]*; do
    pid=${pid#/proc/}
    [ "$pid" != $$ ] && [ "$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)" = "$ns" ] && pids="$pids $pid"
  done
  if ds_alive $pids; then
    echo "test/chroot.sh: stopping the processes left by this run" >&2
    kill -TERM $pids 2>/dev/null || true
    for i in 1 2 3 4 5 6 7 8 9 10; do
      ds_alive $pids || break
      sleep 1
    done
    kill -KILL $pids 2>/dev/null || true
  fi
  for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
    t=${MOUNTED[$i]}
    umount "$t" 2>/dev/null || umount -l "$t" || rc=1
  done
  if grep -q " $CHROOT[/ ]" /proc/self/mountinfo; then
    echo "test/chroot.sh: mounts left under $CHROOT" >&2
    rc=1
  fi
  exit $rc
}

# Run a command in the background and wait for it, so that a signal reaches
# the traps at once; its stdin stays the caller's (fd 3; fd 4 is the
# caller's stderr, for the teardown).
ds_run() {
  "$@" <&3 &
  wait $!
}

# Bind the checkout, the data folder and the kernel's file systems into the root.
ds_mount_all() {
  local data=${DAILY_SEONGSU_DATA:-}
  if [ -z "$data" ] && [ -d "$DS_ROOT/../shared/data" ]; then data="$DS_ROOT/../shared/data"; fi
  ds_mount -t proc proc "$CHROOT/proc"
  ds_mount -t sysfs -o ro sysfs "$CHROOT/sys"
  ds_mount --bind /dev "$CHROOT/dev"
  ds_mount --bind /dev/pts "$CHROOT/dev/pts"
  ds_mount -t tmpfs -o mode=1777,nosuid,nodev shm "$CHROOT/dev/shm"
  mkdir -p "$CHROOT$INSIDE_SRC"
  ds_mount --bind "$DS_ROOT" "$CHROOT$INSIDE_SRC"
  DATA_INSIDE=""
  if [ -n "$data" ] && [ -d "$data" ]; then
    mkdir -p "$CHROOT$INSIDE_DATA"
    ds_mount --bind "$data" "$CHROOT$INSIDE_DATA"
    mount -o remount,bind,ro "$CHROOT$INSIDE_DATA"
    DATA_INSIDE=$INSIDE_DATA
  else
    rmdir "$CHROOT$INSIDE_DATA" 2>/dev/null || true
  fi
  cp -L /etc/resolv.conf "$CHROOT/etc/resolv.conf"
}

# Run a command in the root as root, with a clean environment and the DS_ settings.
ds_in_root() {
  chroot "$CHROOT" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" DS_PG_MAJOR="$DS_PG_MAJOR" \
    DS_PG_PREFIX="${DS_PG_PREFIX:-}" DS_WORK="$DS_WORK" DS_TEST_PORT="${DS_TEST_PORT:-}" \
    DAILY_SEONGSU_DATA="$DATA_INSIDE" \
    SS_BUILD="$(git -c safe.directory='*' -C "$DS_ROOT" describe --always --dirty --abbrev=12 2>/dev/null || true)" \
    bash -c 'cd "$0" && "$@"' "$INSIDE_SRC" "$@"
}

[ $# -gt 0 ] || set -- bash test/check.sh
exec 3<&0 4>&2
trap ds_teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
mkdir -p "$(dirname "$CHROOT")"
exec 9> "$LOCK"
ds_run flock 9
ds_root_complete || ds_make_root
ds_mount_all
ds_say "PostgreSQL $DS_PG_MAJOR packages in the $SUITE root"
# (finishing first what an interrupted run left half-installed)
ds_run ds_in_root bash -c 'dpkg --configure -a && DEBIAN_FRONTEND=noninteractive apt-get -f install -y -qq >/dev/null &&
  source test/lib.sh && ds_install_deps'
exec 9>&-
ds_say "in the $SUITE root: $*"
ds_run ds_in_root "$@"
