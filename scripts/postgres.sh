#!/usr/bin/env bash
# A throwaway PostgreSQL server for the shared-study tests: installed from the Debian package
# `postgresql` when its binaries are missing, initialised in a temporary folder, listening on
# loopback only, trusted for local connections (test data only: never use this set-up for real).
#
# Usage:  eval "$(bash scripts/postgres.sh start)"   # exports GENNAS_TEST_POSTGRES_URL (and PG_TMP)
#         bash scripts/postgres.sh stop              # stops the server of $PG_TMP and removes it
# Environment: PG_PORT (default 54329), PG_TMP (default: a new mktemp -d folder).
# initdb refuses to run as root, so as root the server runs as the `postgres` user (created by
# the Debian package) via runuser.
set -euo pipefail
# runuser and the Debian helpers live in sbin, which a minimal PATH (CI's) leaves out
export PATH="$PATH:/usr/sbin:/sbin"

cmd="${1:-start}"
port="${PG_PORT:-54329}"

bindir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

as_owner() {  # runs a command as the owner of the data folder
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "$cmd" = stop ]; then
  : "${PG_TMP:?set PG_TMP to the folder printed by start}"
  bin="$(bindir)"
  as_owner "$bin/pg_ctl" -D "$PG_TMP/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$PG_TMP"
  exit 0
fi

if ! bin="$(bindir)"; then
  echo "installing postgresql (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
  bin="$(bindir)"
fi

tmp="${PG_TMP:-$(mktemp -d /tmp/gennas-pg.XXXXXX)}"
mkdir -p "$tmp"
[ "$(id -u)" = 0 ] && chown postgres: "$tmp"
as_owner "$bin/initdb" -D "$tmp/data" -U gennas --auth=trust -E UTF8 >"$tmp/initdb.log" 2>&1 \
  || { cat "$tmp/initdb.log" >&2; exit 1; }
# loopback only, the socket in the temp folder (not /var/run, which may not be writable)
as_owner "$bin/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $tmp -c fsync=off" start >&2 \
  || { cat "$tmp/server.log" >&2; exit 1; }
as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U gennas gennas_test
echo "export PG_TMP=$tmp"
echo "export GENNAS_TEST_POSTGRES_URL=postgresql://gennas@127.0.0.1:$port/gennas_test"
