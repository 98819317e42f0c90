#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL 15 cluster on a free port under a temp dir.
#   scripts/postgres-test.sh start DIR   -> prints the database URL
#   scripts/postgres-test.sh stop DIR
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
action=${1:?start or stop}
dir=${2:?directory}

as_owner() {
  # initdb and postgres refuse to run as root: use the cluster's own user.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$action" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$PGBIN/initdb" -D "$dir/data" -U rdv -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1
    # fsync off: a throwaway cluster for tests, nothing to keep after a crash.
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      start >/dev/null
    as_owner "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U rdv rdv_test
    echo "$port" >"$dir/port"
    echo "postgres://rdv@127.0.0.1:$port/rdv_test"
    ;;
  stop)
    if [ -d "$dir/data" ]; then
      as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
