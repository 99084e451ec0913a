#!/usr/bin/env bash
# The five buildchain services as local processes on 127.0.0.1:
#   gateway 8080, checkout-service 8081, rewrite-service 8082, build-service 8083,
#   artifact-service 8084
# Usage: services.sh start [--build] [--replicas N] | stop | status
#   start   builds first (`swift build` in the repo root) if a binary is missing or
#           --build is given, starts what is not running, waits for GET /readyz = 200.
#           --replicas 2 runs two processes of every service (gateway included) on ports
#           8180-8184 and 8280-8284, behind HAProxy on 8080-8084 (round robin, each
#           process health-checked on /readyz): everyone, the services themselves
#           included, calls the front ends. The count is kept in .local/run/replicas.
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

REPLICAS_FILE="$RUN_DIR/replicas"
HAPROXY_CONFIG="$RUN_DIR/haproxy.cfg"

pidfile() { echo "$RUN_DIR/$1.pid"; }
exitfile() { echo "$RUN_DIR/$1.exit"; }
logfile() { echo "$LOGS_DIR/$1.log"; }
# A process is named after its binary, with .N for replica N (gateway.1); haproxy is one too.
binary() { if [[ $1 == haproxy ]]; then command -v haproxy || echo /usr/sbin/haproxy; else echo "$BIN_DIR/${1%%.*}"; fi; }
alive() { pid_alive "$(pidfile "$1")" "$(binary "$1")"; }

# processes [REPLICAS]: the processes to run, one NAME:PORT a line. With one replica, the
# services themselves on the front ports; with more, replica N of a service on its front
# port + N*100, then haproxy (no port of its own: it holds all the front ports).
processes() {
  local replicas=${1:-1} entry name port index
  for entry in "${SERVICES[@]}"; do
    name=${entry%%:*} port=${entry##*:}
    if ((replicas == 1)); then
      echo "$name:$port"
    else
      for ((index = 1; index <= replicas; index++)); do echo "$name.$index:$((port + index * 100))"; done
    fi
  done
  if ((replicas > 1)); then echo "haproxy:"; fi
}

# Every process that may be running, whatever count it was started with.
known_processes() {
  local entry name
  for entry in "${SERVICES[@]}"; do
    name=${entry%%:*}
    echo "$name"
    echo "$name.1"
    echo "$name.2"
  done
  echo haproxy
}

write_haproxy_config() {
  local replicas=$1 entry name port index specs=() ports
  for entry in "${SERVICES[@]}"; do
    name=${entry%%:*} port=${entry##*:} ports=()
    for ((index = 1; index <= replicas; index++)); do ports+=("$((port + index * 100))"); done
    specs+=("$name=$port:$(IFS=,; echo "${ports[*]}")")
  done
  "$LIB_DIR/haproxy-config.sh" "${specs[@]}" >"$HAPROXY_CONFIG"
  haproxy -c -q -f "$HAPROXY_CONFIG" || die "haproxy refused $HAPROXY_CONFIG"
}

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
# one NAME=value a line. Replicas (NAME.N) get their own INSTANCE_ID.
service_env() {
  if [[ $1 == *.* ]]; then echo "INSTANCE_ID=local-$1"; fi
  case "${1%%.*}" in
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
    # Signs each succeeded job's provenance (README, "Provenance"): made once, kept; the
    # public half beside it is what `buildchain verify --key` takes.
    if [[ ! -s $SECRETS_DIR/provenance-key.pem ]]; then
      (umask 077 && openssl genpkey -algorithm ed25519 -out "$SECRETS_DIR/provenance-key.pem.tmp" 2>/dev/null) &&
        mv -f "$SECRETS_DIR/provenance-key.pem.tmp" "$SECRETS_DIR/provenance-key.pem"
      openssl pkey -in "$SECRETS_DIR/provenance-key.pem" -pubout -out "$SECRETS_DIR/provenance-key.pub" 2>/dev/null
    fi
    echo "PROVENANCE_SIGNING_KEY_FILE=$SECRETS_DIR/provenance-key.pem"
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
  local name=$1 port=$2 pf ef lf command=()
  if [[ $name == haproxy ]]; then
    command=("$(binary haproxy)" -db -f "$HAPROXY_CONFIG")
  else
    command=("$(binary "$name")")
  fi
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
    ' services-wrapper "$pf" "$ef" "$lf" "${command[@]}"
  ) </dev/null >/dev/null 2>&1 &
  wait_for 5 "$name pid file" test -s "$pf" || die "$name: wrapper did not start"
}

ready() { [[ $(http_status "http://127.0.0.1:$1/readyz") == 200 ]]; }

# Ready as a process: a service answers /readyz itself; haproxy once every front end answers it.
process_ready() {
  local name=$1 port=$2 entry
  if [[ $name == haproxy ]]; then
    for entry in "${SERVICES[@]}"; do ready "${entry##*:}" || return 1; done
  else
    ready "$port"
  fi
}

fail_with_log() {
  local name=$1 why=$2
  echo "---- last lines of $(logfile "$name") ----" >&2
  tail -n 30 "$(logfile "$name")" >&2 || true
  echo "----" >&2
  die "$name: $why (stop the rest with: deploy/local/services.sh stop)"
}

start() {
  local want_build=0 replicas=1 entry name port pending=() deadline
  while (($# > 0)); do
    case "$1" in
    --build) want_build=1 ;;
    --replicas)
      replicas=${2:-}
      shift
      ;;
    *) die "start: unknown option $1" ;;
    esac
    shift
  done
  [[ $replicas =~ ^[12]$ ]] || die "--replicas takes 1 or 2 (got '$replicas')"
  ((replicas == 1)) || command -v haproxy >/dev/null || die "--replicas $replicas needs haproxy (install-deps.sh)"
  ensure_local_dirs
  local running
  running="$(cat "$REPLICAS_FILE" 2>/dev/null || echo "$replicas")"
  for name in $(known_processes); do
    if alive "$name" && [[ $running != "$replicas" ]]; then
      die "the services run with --replicas $running: stop them first (deploy/local/services.sh stop)"
    fi
  done
  echo "$replicas" >"$REPLICAS_FILE"
  ((replicas == 1)) || write_haproxy_config "$replicas"
  [[ -f $ENV_FILE ]] || die "no $ENV_FILE: run deploy/local/env.sh (or up.sh) first"
  # shellcheck source=/dev/null
  source "$ENV_FILE"
  [[ -n ${DATABASE_URL:-} && -n ${API_TOKEN:-} ]] || die "$ENV_FILE lacks DATABASE_URL/API_TOKEN"
  # the services get DATABASE_URL and API_TOKEN (exported), not the test settings
  unset "${!BUILDCHAIN_TEST_@}"
  build_if_needed "$want_build"

  local taken front
  for entry in $(processes "$replicas"); do
    name=${entry%%:*} port=${entry##*:}
    if alive "$name"; then
      log "$name: already running (pid $(cat "$(pidfile "$name")")${port:+, port $port})"
    else
      taken=""
      if [[ $name == haproxy ]]; then
        for front in "${SERVICES[@]##*:}"; do if port_in_use 127.0.0.1 "$front"; then taken=$front; fi; done
      elif port_in_use 127.0.0.1 "$port"; then
        taken=$port
      fi
      [[ -z $taken ]] || die "$name: port $taken is taken by another process"
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
      elif process_ready "$name" "$port"; then
        log "$name: ready${port:+ on 127.0.0.1:$port} (pid $(cat "$(pidfile "$name")"), log $(logfile "$name"))"
      else
        still+=("$entry")
      fi
    done
    pending=("${still[@]+"${still[@]}"}")
    ((${#pending[@]} == 0)) && break
    if ((SECONDS >= deadline)); then
      name=${pending[0]%%:*} port=${pending[0]##*:}
      fail_with_log "$name" "GET /readyz${port:+ on port $port} did not answer 200 within ${READY_TIMEOUT}s"
    fi
    sleep 0.25
  done
}

stop() {
  local entry name pid ef deadline status failed=0 pids=()
  # SIGTERM to all first so they shut down in parallel, gateways first in the list
  for name in $(known_processes); do
    if alive "$name"; then
      pid="$(cat "$(pidfile "$name")")"
      # HAProxy's graceful stop (finish what it carries, exit 0) is SIGUSR1; SIGTERM is its hard stop.
      if [[ $name == haproxy ]]; then kill -USR1 "$pid" 2>/dev/null || true; else kill -TERM "$pid" 2>/dev/null || true; fi
      pids+=("$name:$pid")
    fi
  done
  ((${#pids[@]} > 0)) || log "no service running"
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
  for entry in $(processes "$(cat "$REPLICAS_FILE" 2>/dev/null || echo 1)"); do
    name=${entry%%:*} port=${entry##*:}
    if alive "$name"; then
      log "$name: running (pid $(cat "$(pidfile "$name")")${port:+, port $port, /readyz $(http_status "http://127.0.0.1:$port/readyz")})"
    else
      log "$name: not running"
      rc=3
    fi
  done
  return "$rc"
}

case "${1:-}" in
start)
  shift
  start "$@"
  ;;
stop) stop ;;
status) status ;;
*)
  echo "usage: $0 {start [--build] [--replicas N]|stop|status}" >&2
  exit 2
  ;;
esac
