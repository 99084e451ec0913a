#!/usr/bin/env bash
# Prints an HAProxy configuration that puts each service's replicas behind one front end:
# round robin, each replica health-checked on GET /readyz every second (out after 2
# failures, back after 1 success), a request whose connection fails retried on another.
# Usage: haproxy-config.sh NAME=FRONT_PORT:REPLICA_PORT,REPLICA_PORT... [...]
#   e.g. haproxy-config.sh gateway=8080:8180,8280 build-service=8083:8183,8283
# Everything listens on and connects to 127.0.0.1. Used by services.sh --replicas and the tests.
set -euo pipefail

(($# > 0)) || {
  echo "usage: $0 NAME=FRONT_PORT:REPLICA_PORT,REPLICA_PORT... [...]" >&2
  exit 2
}

cat <<'CFG'
global
    maxconn 4096

defaults
    mode http
    option redispatch
    retries 2
    timeout connect 2s
    timeout http-request 30s
    # Event streams follow a run for as long as it lasts; uploads and downloads of image
    # tarballs take minutes: the idle limits are long.
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
    timeout http-keep-alive 10s
CFG

for spec in "$@"; do
  [[ $spec =~ ^([a-z0-9-]+)=([0-9]+):([0-9,]+)$ ]] || {
    echo "haproxy-config.sh: not NAME=FRONT_PORT:REPLICA_PORT,...: $spec" >&2
    exit 2
  }
  name=${BASH_REMATCH[1]} front=${BASH_REMATCH[2]} replicas=${BASH_REMATCH[3]}
  printf '\nfrontend %s\n    bind 127.0.0.1:%s\n    default_backend %s\n' "$name" "$front" "$name"
  printf '\nbackend %s\n    balance roundrobin\n    option httpchk GET /readyz\n    http-check expect status 200\n' "$name"
  printf '    default-server inter 1s fall 2 rise 1\n'
  index=0
  IFS=, read -ra ports <<<"$replicas"
  for port in "${ports[@]}"; do
    index=$((index + 1))
    printf '    server %s-%d 127.0.0.1:%s check\n' "$name" "$index" "$port"
  done
done
