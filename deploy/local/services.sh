#!/usr/bin/env bash
# The five buildchain services as local processes on 127.0.0.1:
#   gateway 8080, checkout-service 8081, rewrite-service 8082, build-service 8083,
#   artifact-service 8084
# Usage: services.sh start [--build] | stop | status
#   start   builds first (`swift build` in the repo root) if a binary is missing or
#           --build is given, starts what is not running, waits for GET /readyz = 200.
#   stop    SIGTERM, waits for each to exit, reports whether it exited with status 0.
# Env: DATABASE_URL and API_TOKEN come from .local/env (deploy/local/env.sh);
#      BUILDCHAIN_BIN_DIR overrides <repo>/.build/debug (then nothing is built).
#      SERVICES_READY_TIMEOUT (default 60 s), SERVICES_STOP_TIMEOUT (default 30 s).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SERVICES=(gateway:8080 checkout-service:8081 rewrite-service:8082 build-service:8083 artifact-service:8084)
DEFAULT_BIN_DIR="$REPO_ROOT/.build/debug"
BIN_DIR=${BUILDCHAIN_BIN_DIR:-$DEFAULT_BIN_DIR}
READY_TIMEOUT=${SERVICES_READY_TIMEOUT:-60}
STOP_TIMEOUT=${SERVICES_STOP_TIMEOUT:-30}

pidfile() { echo "$RUN_DIR/$1.pid"; }
exitfile() { echo "$RUN_DIR/$1.exit"; }
logfile() { echo "$LOGS_DIR/$1.log"; }
alive() { pid_alive "$(pidfile "$1")" "$BIN_DIR/$1"; }

build_if_needed() {
  local want_build=$1 missing=() entry name
  for entry in "${SERVICES[@]}"; do
    name=${entry%%:*}
    [[ -x $BIN_DIR/$name ]] || missing+=("$name")
  done
  if ((want_build == 0 && ${#missing[@]} == 0)); then
    return 0
  fi
  if [[ $BIN_DIR != "$DEFAULT_BIN_DIR" ]]; then
    ((${#missing[@]} == 0)) || die "missing in BUILDCHAIN_BIN_DIR=$BIN_DIR: ${missing[*]}"
    warn "--build ignored: BUILDCHAIN_BIN_DIR is set"
    return 0
  fi
  log "swift build in $REPO_ROOT${missing[*]:+ (missing: ${missing[*]})}"
  (cd "$REPO_ROOT" && swift build)
  for name in "${missing[@]}"; do
    [[ -x $BIN_DIR/$name ]] || die "swift build did not produce $BIN_DIR/$name"
  done
}

# service_env NAME: the settings of one service beyond HOST/PORT/DATABASE_URL/API_TOKEN,
# one NAME=value a line.
service_env() {
  case "$1" in
  gateway)
    # The gateway keeps only the hash of the token callers present, and calls each
    # stage service with that service's token (one token for all on this stack).
    echo "API_TOKEN_SHA256=$(printf %s "$API_TOKEN" | sha256sum | cut -d' ' -f1)"
    local prefix
    for prefix in CHECKOUT REWRITE BUILD ARTIFACT; do
      echo "${prefix}_SERVICE_TOKEN=$API_TOKEN"
    done
    # Seals jobs' secrets at rest (deploy/README.md, "Secrets in builds"): made once, kept.
    if [[ ! -s $SECRETS_DIR/secrets-key ]]; then
      write_secret "$SECRETS_DIR/secrets-key" "$(head -c 32 /dev/urandom | base64)"
    fi
    echo "SECRETS_KEY=$(cat "$SECRETS_DIR/secrets-key")"
    echo "SECRETS_KEY_ID=local-1"
    ;;
  rewrite-service) echo "REWRITE_PROXIES=docker.io=$REGISTRY_ADDR/dockerhub-proxy" ;;
  checkout-service)
    # A developer's stack builds repositories from their own disk too.
    echo "CHECKOUT_ALLOW_FILE_URLS=true"
    echo "CHECKOUT_CACHE_DIR=$LOCAL_DIR/git-mirrors"
    echo "CHECKOUT_WORK_DIR=$LOCAL_DIR/checkouts"
    echo "ARTIFACT_SERVICE_URL=http://127.0.0.1:8084"
    ;;
  build-service)
    echo "BUILD_WORK_DIR=$LOCAL_DIR/builds"
    echo "CACHE_REGISTRY=$REGISTRY_ADDR"
    echo "REGISTRY_MIRROR=$REGISTRY_ADDR/dockerhub-proxy"
    echo "ARTIFACT_SERVICE_URL=http://127.0.0.1:8084"
    ;;
  artifact-service)
    echo "ARTIFACT_BACKEND=s3"
    echo "ARTIFACT_ROOT=$LOCAL_DIR/artifacts"
    echo "S3_ENDPOINT=$S3_ENDPOINT"
    echo "S3_REGION=$S3_REGION"
    echo "S3_BUCKET=$S3_BUCKET"
    echo "S3_ACCESS_KEY_ID=$(read_secret "$SECRETS_DIR/s3-access-key-id")"
    echo "S3_SECRET_ACCESS_KEY=$(read_secret "$SECRETS_DIR/s3-secret-access-key")"
    ;;
  esac
}

# launch NAME PORT: runs the binary under a small bash wrapper that records the
# pid and, when the service ends, its exit status (for `stop` to report).
launch() {
  local name=$1 port=$2 pf ef lf
  pf="$(pidfile "$name")" ef="$(exitfile "$name")" lf="$(logfile "$name")"
  rm -f "$pf" "$ef"
  private_log "$lf"
  printf '\n=== %s start %s on 127.0.0.1:%s ===\n' "$(date -u +%FT%TZ)" "$name" "$port" >>"$lf"
  local extra=()
  mapfile -t extra < <(service_env "$name")
  # Settings are exported in a subshell, never passed as arguments: a
  # process's arguments are readable by every user, and some are secrets.
  (
    export HOST=127.0.0.1 PORT="$port" LOG_LEVEL=info
    for assignment in "${extra[@]}"; do export "${assignment?}"; done
    # shellcheck disable=SC2016  # the wrapper script is meant to expand its own $1..
    exec setsid bash -c '
      pf=$1 ef=$2 lf=$3; shift 3
      "$@" >>"$lf" 2>&1 </dev/null &
      child=$!
      echo "$child" >"$pf"
      wait "$child"
      echo "$?" >"$ef"
    ' services-wrapper "$pf" "$ef" "$lf" "$BIN_DIR/$name"
  ) </dev/null >/dev/null 2>&1 &
  wait_for 5 "$name pid file" test -s "$pf" || die "$name: wrapper did not start"
}

ready() { [[ $(http_status "http://127.0.0.1:$1/readyz") == 200 ]]; }

fail_with_log() {
  local name=$1 why=$2
  echo "---- last lines of $(logfile "$name") ----" >&2
  tail -n 30 "$(logfile "$name")" >&2 || true
  echo "----" >&2
  die "$name: $why (stop the rest with: deploy/local/services.sh stop)"
}

start() {
  local want_build=0 entry name port pending=() deadline
  [[ ${1:-} == --build ]] && want_build=1
  ensure_local_dirs
  [[ -f $ENV_FILE ]] || die "no $ENV_FILE: run deploy/local/env.sh (or up.sh) first"
  # shellcheck source=/dev/null
  source "$ENV_FILE"
  [[ -n ${DATABASE_URL:-} && -n ${API_TOKEN:-} ]] || die "$ENV_FILE lacks DATABASE_URL/API_TOKEN"
  # the services get DATABASE_URL and API_TOKEN (exported), not the test settings
  unset "${!BUILDCHAIN_TEST_@}"
  build_if_needed "$want_build"

  for entry in "${SERVICES[@]}"; do
    name=${entry%%:*} port=${entry##*:}
    if alive "$name"; then
      log "$name: already running (pid $(cat "$(pidfile "$name")"), port $port)"
    elif port_in_use 127.0.0.1 "$port"; then
      die "$name: port $port is taken by another process"
    else
      launch "$name" "$port"
    fi
    pending+=("$entry")
  done

  deadline=$((SECONDS + READY_TIMEOUT))
  while ((${#pending[@]} > 0)); do
    local still=()
    for entry in "${pending[@]}"; do
      name=${entry%%:*} port=${entry##*:}
      if ! alive "$name"; then
        fail_with_log "$name" "exited during start (status $(cat "$(exitfile "$name")" 2>/dev/null || echo '?'))"
      elif ready "$port"; then
        log "$name: ready on 127.0.0.1:$port (pid $(cat "$(pidfile "$name")"), log $(logfile "$name"))"
      else
        still+=("$entry")
      fi
    done
    pending=("${still[@]+"${still[@]}"}")
    ((${#pending[@]} == 0)) && break
    if ((SECONDS >= deadline)); then
      name=${pending[0]%%:*} port=${pending[0]##*:}
      fail_with_log "$name" "GET /readyz on port $port did not answer 200 within ${READY_TIMEOUT}s (last: $(http_status "http://127.0.0.1:$port/readyz"))"
    fi
    sleep 0.25
  done
}

stop() {
  local entry name pid ef deadline status failed=0 pids=()
  # SIGTERM to all first so they shut down in parallel, gateway first in the list
  for entry in "${SERVICES[@]}"; do
    name=${entry%%:*}
    if alive "$name"; then
      pid="$(cat "$(pidfile "$name")")"
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$name:$pid")
    else
      log "$name: not running"
    fi
  done
  for entry in "${pids[@]+"${pids[@]}"}"; do
    name=${entry%%:*} pid=${entry##*:}
    ef="$(exitfile "$name")"
    deadline=$((SECONDS + STOP_TIMEOUT))
    while proc_running "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    if proc_running "$pid"; then
      kill -KILL "$pid" 2>/dev/null || true
      warn "$name (pid $pid) did not exit within ${STOP_TIMEOUT}s of SIGTERM: killed"
      failed=1
      sleep 0.2
    else
      # the wrapper writes the status right after the process is reaped
      wait_for 5 "$name exit status" test -s "$ef" || true
      status="$(cat "$ef" 2>/dev/null || echo unknown)"
      if [[ $status == 0 ]]; then
        log "$name: exited cleanly (status 0)"
      else
        warn "$name: exited with status $status$([[ $status =~ ^[0-9]+$ ]] && ((status > 128)) && echo " (signal $((status - 128)))")"
        failed=1
      fi
    fi
    rm -f "$(pidfile "$name")"
  done
  return "$failed"
}

status() {
  local entry name port rc=0
  for entry in "${SERVICES[@]}"; do
    name=${entry%%:*} port=${entry##*:}
    if alive "$name"; then
      log "$name: running (pid $(cat "$(pidfile "$name")"), port $port, /readyz $(http_status "http://127.0.0.1:$port/readyz"))"
    else
      log "$name: not running"
      rc=3
    fi
  done
  return "$rc"
}

case "${1:-}" in
start) start "${2:-}" ;;
stop) stop ;;
status) status ;;
*)
  echo "usage: $0 {start [--build]|stop|status}" >&2
  exit 2
  ;;
esac
