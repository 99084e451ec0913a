# shellcheck shell=bash
# shellcheck disable=SC2034  # constants used by the scripts that source this file
# Shared helpers for the deploy/local scripts. Sourced, never run.
# Sets REPO_ROOT, LOCAL_DIR and the well-known paths under <repo>/.local/.

LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$LIB_DIR/../.." && pwd -P)"
LOCAL_DIR="$REPO_ROOT/.local"
SECRETS_DIR="$LOCAL_DIR/secrets"
LOGS_DIR="$LOCAL_DIR/logs"
RUN_DIR="$LOCAL_DIR/run"
ENV_FILE="$LOCAL_DIR/env"

# Ports of the local stack (loopback only). Overridable, so a second stack
# (another checkout, a CI dry run) can run beside the first.
PG_PORT=${BUILDCHAIN_PG_PORT:-5433}
REGISTRY_ADDR=127.0.0.1:${BUILDCHAIN_REGISTRY_PORT:-5000}
S3_PORT=${BUILDCHAIN_S3_PORT:-9000}
S3_ENDPOINT="http://127.0.0.1:$S3_PORT"
S3_REGION=us-east-1
S3_BUCKET=buildchain-artifacts
BASE_IMAGE_REPO=library/busybox
BASE_IMAGE_TAG=1.36
BASE_IMAGE="$REGISTRY_ADDR/dockerhub-proxy/$BASE_IMAGE_REPO:$BASE_IMAGE_TAG"

log() { printf '%s: %s\n' "${SCRIPT_NAME:-$(basename "$0" .sh)}" "$*"; }
warn() { printf '%s: warning: %s\n' "${SCRIPT_NAME:-$(basename "$0" .sh)}" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "${SCRIPT_NAME:-$(basename "$0" .sh)}" "$*" >&2
  exit 1
}

# Creates the common folders. .local itself must stay traversable (o+x) because
# PostgreSQL runs as the non-root `postgres` user below it; secrets stay 700. logs/ is
# traversable but not listable (711: postgres writes its own log there), each log 600.
ensure_local_dirs() {
  mkdir -p "$LOCAL_DIR" "$LOGS_DIR" "$RUN_DIR" "$SECRETS_DIR"
  chmod 755 "$LOCAL_DIR"
  chmod 700 "$SECRETS_DIR"
  chmod 711 "$LOGS_DIR"
}

# private_log FILE: creates the log FILE if missing; readable by its owner only.
private_log() {
  (umask 077 && touch "$1")
  chmod 600 "$1"
}

# random_hex N -> 2N hex characters from /dev/urandom (no openssl needed).
random_hex() {
  od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

# write_secret FILE VALUE: writes VALUE with mode 600 (no window with wider mode).
write_secret() {
  local file=$1 value=$2 tmp
  tmp="$(mktemp "$file.XXXXXX")"
  chmod 600 "$tmp"
  printf '%s\n' "$value" >"$tmp"
  mv -f "$tmp" "$file"
}

# read_secret FILE -> value (first line), empty if missing.
read_secret() {
  [[ -r $1 ]] || return 0
  head -n1 "$1"
}

# pid_alive PIDFILE PATTERN: true if PIDFILE names a live process whose command
# line contains PATTERN. A stale file (dead pid or recycled pid) is removed.
pid_alive() {
  local pidfile=$1 pattern=$2 pid cmdline
  [[ -f $pidfile ]] || return 1
  pid="$(head -n1 "$pidfile" 2>/dev/null || true)"
  if [[ $pid =~ ^[0-9]+$ ]] && [[ -r /proc/$pid/cmdline ]]; then
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    if [[ $cmdline == *"$pattern"* ]]; then
      return 0
    fi
  fi
  rm -f "$pidfile"
  return 1
}

# exec_seen PID PATTERN: waits (up to 10 s) until the process just started in the background
# runs PATTERN; false if it ended first. Between the fork and the exec its command line is
# still the launching shell's, and pid_alive would take it for another process (and delete
# its pid file).
exec_seen() {
  local pid=$1 pattern=$2 deadline=$((SECONDS + 10)) cmdline
  while proc_running "$pid" && ((SECONDS < deadline)); do
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    [[ $cmdline == *"$pattern"* ]] && return 0
    sleep 0.05
  done
  return 1
}

# proc_running PID: the process exists and is not a zombie (a daemon whose parent
# script has exited is reaped by init, which may take a while).
proc_running() {
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

# port_in_use HOST PORT: true if something accepts TCP connections there.
port_in_use() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# http_status URL [curl args...] -> HTTP status code ("000" if no answer).
http_status() {
  local url=$1
  shift
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$url" 2>/dev/null || true
}

# wait_for TIMEOUT_SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.2 s.
wait_for() {
  local timeout=$1 what=$2 deadline
  shift 2
  deadline=$((SECONDS + timeout))
  until "$@"; do
    if ((SECONDS >= deadline)); then
      warn "timed out after ${timeout}s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}

# stop_pid PIDFILE PATTERN NAME [TIMEOUT]: SIGTERM, wait, SIGKILL as a last resort.
stop_pid() {
  local pidfile=$1 pattern=$2 name=$3 timeout=${4:-20} pid deadline
  if ! pid_alive "$pidfile" "$pattern"; then
    log "$name not running"
    return 0
  fi
  pid="$(head -n1 "$pidfile")"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + timeout))
  while proc_running "$pid" && ((SECONDS < deadline)); do
    sleep 0.1
  done
  if proc_running "$pid"; then
    warn "$name (pid $pid) did not stop within ${timeout}s of SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  rm -f "$pidfile"
  log "stopped $name (pid $pid)"
}

# buildah/skopeo with the stack's own storage under .local/containers, so nothing
# goes to /var/lib/containers. vfs works without overlay or fuse.
CONTAINERS_DIR="$LOCAL_DIR/containers"
REGISTRIES_CONF="$CONTAINERS_DIR/registries.conf"
lbuildah() {
  buildah --root "$CONTAINERS_DIR/storage" --runroot "$CONTAINERS_DIR/runroot" \
    --storage-driver vfs --registries-conf "$REGISTRIES_CONF" "$@"
}

# Writes a registries.conf that marks the local registry as insecure (plain HTTP).
ensure_registries_conf() {
  mkdir -p "$CONTAINERS_DIR"
  cat >"$REGISTRIES_CONF.tmp" <<EOF
# Generated by deploy/local: the local registry speaks plain HTTP on loopback.
unqualified-search-registries = []

[[registry]]
location = "$REGISTRY_ADDR"
insecure = true
EOF
  mv -f "$REGISTRIES_CONF.tmp" "$REGISTRIES_CONF"
}
