#!/usr/bin/env bash
# PostgreSQL 15 for the local stack: 127.0.0.1:5433, data in .local/postgres/data.
# Usage: postgres.sh {start|stop|restart|status}
# As root it runs the server as the `postgres` system user (PostgreSQL refuses root).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR="$LOCAL_DIR/postgres"
PG_DATA="$PG_DIR/data"
PG_SOCKET_DIR="$PG_DIR/socket"
PG_LOG="$LOGS_DIR/postgres.log"
PG_PASSWORD_FILE="$SECRETS_DIR/postgres-password"
PG_SUPERUSER=buildchain
PG_DATABASE=buildchain

[[ -x $PG_BIN/pg_ctl ]] || die "$PG_BIN/pg_ctl not found: run deploy/local/install-deps.sh"

if [[ $(id -u) -eq 0 ]]; then
  PG_OS_USER=postgres
  getent passwd "$PG_OS_USER" >/dev/null || die "system user '$PG_OS_USER' missing: install the postgresql package"
  as_pg() { (cd / && runuser -u "$PG_OS_USER" -- "$@"); }
else
  PG_OS_USER="$(id -un)"
  as_pg() { "$@"; }
fi

# Options given to the server on every start/restart (not written into the data
# directory, so a moved checkout still works).
pg_opts() {
  printf "%s" "-c listen_addresses=127.0.0.1 -p $PG_PORT -k '$PG_SOCKET_DIR' -c unix_socket_permissions=0700"
}

pg_ctl_() { as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" "$@"; }

is_running() { pg_ctl_ status >/dev/null 2>&1; }

# psql as the superuser over the private unix socket (trust auth; the socket dir
# is only reachable by the postgres OS user and root).
psql_local() {
  as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U "$PG_SUPERUSER" "$@"
}

prepare_dirs() {
  ensure_local_dirs
  # every parent must be traversable by the postgres user
  local d="$LOCAL_DIR"
  while [[ $d != / ]]; do
    if [[ $(id -u) -eq 0 ]] && ! runuser -u "$PG_OS_USER" -- test -x "$d"; then
      die "$d is not traversable by user $PG_OS_USER (needs o+x)"
    fi
    d="$(dirname "$d")"
  done
  mkdir -p "$PG_DIR" "$PG_SOCKET_DIR"
  private_log "$PG_LOG"
  if [[ $(id -u) -eq 0 ]]; then
    chown -R "$PG_OS_USER:" "$PG_DIR"
    chown "$PG_OS_USER:" "$PG_LOG"
  fi
  chmod 700 "$PG_DIR" "$PG_SOCKET_DIR"
}

init_once() {
  if [[ -f $PG_DATA/PG_VERSION ]]; then
    return 0
  fi
  local pw pwfile
  pw="$(read_secret "$PG_PASSWORD_FILE")"
  if [[ -z $pw ]]; then
    pw="$(random_hex 24)"
    write_secret "$PG_PASSWORD_FILE" "$pw"
  fi
  log "initdb in $PG_DATA (superuser $PG_SUPERUSER)"
  rm -rf "$PG_DATA"
  # initdb reads the password from a file the postgres user can read; removed after.
  pwfile="$PG_DIR/.initdb-pw"
  (umask 077 && printf '%s\n' "$pw" >"$pwfile")
  [[ $(id -u) -ne 0 ]] || chown "$PG_OS_USER:" "$pwfile"
  if ! as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_SUPERUSER" --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
    >>"$LOGS_DIR/postgres-initdb.log" 2>&1; then
    rm -f "$pwfile"
    tail -n 20 "$LOGS_DIR/postgres-initdb.log" >&2
    die "initdb failed (log: $LOGS_DIR/postgres-initdb.log)"
  fi
  rm -f "$pwfile"
}

# Keeps the role password equal to the secret file and the database present.
sync_role_and_db() {
  local pw
  pw="$(read_secret "$PG_PASSWORD_FILE")"
  if [[ -z $pw ]]; then
    pw="$(random_hex 24)"
    write_secret "$PG_PASSWORD_FILE" "$pw"
    log "generated a new password for $PG_SUPERUSER"
  fi
  [[ $pw =~ ^[0-9a-f]+$ ]] || die "$PG_PASSWORD_FILE must hold a hex password"
  # via stdin so the password is not on a command line
  printf "SET password_encryption = 'scram-sha-256';\nALTER ROLE %s WITH PASSWORD '%s';\n" \
    "$PG_SUPERUSER" "$pw" | psql_local -d postgres -f -
  if [[ $(psql_local -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'") != 1 ]]; then
    psql_local -d postgres -c "CREATE DATABASE $PG_DATABASE OWNER $PG_SUPERUSER"
    log "created database $PG_DATABASE"
  fi
}

start() {
  prepare_dirs
  init_once
  if is_running; then
    log "already running on 127.0.0.1:$PG_PORT (data $PG_DATA)"
  else
    if port_in_use 127.0.0.1 "$PG_PORT"; then
      die "port $PG_PORT is taken by another process"
    fi
    # pg_ctl itself removes a stale postmaster.pid whose process is gone.
    if ! pg_ctl_ start -w -t 60 -l "$PG_LOG" -o "$(pg_opts)" >/dev/null; then
      tail -n 20 "$PG_LOG" >&2
      die "PostgreSQL did not start (log: $PG_LOG)"
    fi
    log "started on 127.0.0.1:$PG_PORT (data $PG_DATA, log $PG_LOG)"
  fi
  sync_role_and_db
}

stop() {
  if [[ ! -f $PG_DATA/PG_VERSION ]] || ! is_running; then
    log "not running"
    return 0
  fi
  pg_ctl_ stop -w -t 60 -m fast >/dev/null
  log "stopped"
}

restart() {
  if [[ ! -f $PG_DATA/PG_VERSION ]] || ! is_running; then
    start
    return
  fi
  # fast: disconnects clients, checkpoints, starts again (clients reconnect)
  if ! pg_ctl_ restart -w -t 60 -m fast -l "$PG_LOG" -o "$(pg_opts)" >/dev/null; then
    tail -n 20 "$PG_LOG" >&2
    die "PostgreSQL did not restart (log: $PG_LOG)"
  fi
  log "restarted on 127.0.0.1:$PG_PORT"
}

status() {
  if [[ -f $PG_DATA/PG_VERSION ]] && is_running; then
    log "running on 127.0.0.1:$PG_PORT (pid $(head -n1 "$PG_DATA/postmaster.pid"), data $PG_DATA)"
  else
    log "not running"
    return 3
  fi
}

case "${1:-}" in
start) start ;;
stop) stop ;;
restart) restart ;;
status) status ;;
*)
  echo "usage: $0 {start|stop|restart|status}" >&2
  exit 2
  ;;
esac
