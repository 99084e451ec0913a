#!/usr/bin/env bash
# Brings up the whole local stack and checks it.
# Usage: up.sh [--no-install] [--infra-only] [--build] [--replicas N]
#   --no-install  skip install-deps.sh
#   --infra-only  PostgreSQL, registry, S3 (moto), base image and .local/env only;
#                 no services
#   --build       rebuild the services (swift build) before starting them
#   --replicas 2  two processes of every service behind HAProxy on the usual ports
#                 (services.sh start --replicas 2)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

install=1 services=1 build_flag=() replicas=1
while (($# > 0)); do
  case "$1" in
  --no-install) install=0 ;;
  --infra-only) services=0 ;;
  --build) build_flag=(--build) ;;
  --replicas)
    replicas=${2:-}
    shift
    ;;
  *)
    echo "usage: $0 [--no-install] [--infra-only] [--build] [--replicas N]" >&2
    exit 2
    ;;
  esac
  shift
done

started=$SECONDS
here="$LIB_DIR"
if ((install)); then
  if [[ $(id -u) -eq 0 ]]; then
    "$here/install-deps.sh"
  else
    warn "not root: skipping install-deps.sh"
  fi
fi
# The builds' network and its firewall (install-deps.sh runs it too; rules do not survive a reboot).
if [[ $(id -u) -eq 0 ]]; then
  "$here/build-network.sh" setup
fi
"$here/postgres.sh" start
"$here/registry.sh" start
"$here/s3.sh" start
"$here/seed-base-image.sh"
"$here/env.sh"
if ((services)); then
  "$here/services.sh" start "${build_flag[@]}" --replicas "$replicas"
fi
check_rc=0
"$here/check.sh" || check_rc=$?

cat <<EOF2

buildchain local stack is up ($((SECONDS - started)) s)$( ((services)) || echo ", infrastructure only")
  PostgreSQL  127.0.0.1:$PG_PORT  db/user buildchain, password in $SECRETS_DIR/postgres-password
  registry    http://$REGISTRY_ADDR  (no auth; base image $BASE_IMAGE)
  S3 (moto)   $S3_ENDPOINT  bucket $S3_BUCKET, SigV4 checked;
              key in $SECRETS_DIR/s3-access-key-id, secret in $SECRETS_DIR/s3-secret-access-key
EOF2
if ((services)); then
  cat <<EOF2
  services    gateway :8080, checkout-service :8081, rewrite-service :8082,
              build-service :8083, artifact-service :8084  (logs in $LOGS_DIR)$( ((replicas == 1)) || printf '\n              %s processes of each behind HAProxy (replicas on :81xx, :82xx)' "$replicas")
  API token   $(read_secret "$SECRETS_DIR/api-token")   (also in $SECRETS_DIR/api-token)
EOF2
fi
cat <<EOF2
  settings    source $ENV_FILE   (tests: BUILDCHAIN_TEST_*; services: DATABASE_URL, API_TOKEN)
  stop        $here/down.sh      reset: $here/down.sh && rm -rf $LOCAL_DIR
EOF2
exit "$check_rc"
