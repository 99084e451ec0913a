#!/usr/bin/env bash
# The kaniko-kubernetes driver on a real cluster, through build-service's REST API:
#   1. two builds of one context (S3 store over plain http): the second takes its RUN steps from the cache
#   2. a build whose `RUN exit 3` fails: BUILD_STEP_FAILED, exit status 3, Kaniko's error line first
#   3. a build cancelled while it runs: its Job and pod gone within 5 s
#   4. a build with the filesystem store (the pod downloads the context from artifact-service)
#   5. a whole job through the gateway (checkout, rewrite, build on the cluster, store)
#   6. the same context with the local `kaniko` driver (a real executor on this host) and with buildah
# and prints `name = value` figures. Exits non-zero on any failure.
#
# Needs: the binaries (swift build), PostgreSQL (DATABASE_URL: a role that may CREATE DATABASE),
# the S3 store (BUILDCHAIN_TEST_S3_*) and API_TOKEN, all from .local/env when present; kubectl; a
# cluster whose pods reach this host at E2E_POD_HOST, and a registry there.
#
#   KUBERNETES_API_URL, KUBERNETES_CA_FILE, KUBERNETES_TOKEN_FILE   an identity that may create a
#       namespace, a ServiceAccount, a Role and a RoleBinding (the lab's admin token). build-service
#       itself runs with a token of the ServiceAccount of deploy/k8s/base/rbac.yaml, so the run also
#       proves that Role is enough.
#   E2E_NAMESPACE        namespace of the builds (buildchain-e2e; made, and deleted at the end)
#   E2E_POD_HOST         the host as pods reach it (10.88.0.1); the services pods call listen there
#   E2E_REGISTRY         plain-HTTP registry as pods and this host reach it: mirror of docker.io
#                        (library/busybox:1.36 in it) and the cache (E2E_POD_HOST:5055)
#   E2E_S3_PORT          a socat relay E2E_POD_HOST:<it> → the S3 endpoint is started, and
#                        artifact-service uses that address, so presigned URLs work in pods (9000)
#   E2E_KANIKO_EXECUTOR  Kaniko's executor on this host for the local `kaniko` driver
#                        (../shared/labs/kaniko/executor, or /work/shared/labs/...); empty: skipped
#   E2E_KEEP=1           keep the work folder and the namespace
#
# With the lab of ../shared/labs:  source ../shared/labs/k8s/env.sh &&
#   KUBERNETES_API_URL=$K8S_API KUBERNETES_CA_FILE=$K8S_CA KUBERNETES_TOKEN_FILE=$K8S_TOKEN_FILE scripts/k8s-e2e.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
# shellcheck source=/dev/null
[[ -f .local/env ]] && source .local/env

: "${KUBERNETES_API_URL:?the API server, e.g. https://127.0.0.1:6443}"
: "${KUBERNETES_CA_FILE:?the API server's CA file}"
: "${KUBERNETES_TOKEN_FILE:?a bearer token file (admin)}"
: "${DATABASE_URL:?a PostgreSQL URL (from .local/env)}"
: "${API_TOKEN:?the services' token (from .local/env)}"
: "${BUILDCHAIN_TEST_S3_ENDPOINT:?the S3 endpoint (from .local/env)}"
export NS=${E2E_NAMESPACE:-buildchain-e2e}
export POD_HOST=${E2E_POD_HOST:-10.88.0.1}
export REGISTRY=${E2E_REGISTRY:-$POD_HOST:5055}
s3_port=${E2E_S3_PORT:-9000}
bin=${E2E_BIN_DIR:-$root/.build/debug}
default_executor=
for labs in "$root/../shared/labs" /work/shared/labs; do
  [[ -z $default_executor && -x $labs/kaniko/executor ]] && default_executor=$(readlink -f "$labs/kaniko/executor")
done
export KANIKO_LOCAL=${E2E_KANIKO_EXECUTOR-$default_executor}

for tool in kubectl socat psql python3 git; do
  command -v "$tool" >/dev/null || { echo "k8s-e2e: $tool is missing" >&2; exit 2; }
done
for name in gateway checkout-service rewrite-service build-service artifact-service buildchain; do
  [[ -x $bin/$name ]] || { echo "k8s-e2e: no $bin/$name (swift build first)" >&2; exit 2; }
done

run_id=$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')
export WORK=${E2E_WORK_DIR:-/var/tmp/buildchain-k8s-e2e}/$run_id
mkdir -p "$WORK" && chmod 700 "$WORK"
database=k8s_e2e_$run_id
pids=()

cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  psql "$DATABASE_URL" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
  if [[ ${E2E_KEEP:-0} != 1 ]]; then
    k delete namespace "$NS" --wait=false >/dev/null 2>&1 || true
    rm -rf "$WORK"
  fi
  exit "$status"
}
trap cleanup EXIT

# kubectl as the admin identity, the token through a private kubeconfig (not on a command line).
export KUBECONFIG=$WORK/admin.kubeconfig
cat >"$KUBECONFIG" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: e2e, cluster: {server: "$KUBERNETES_API_URL", certificate-authority: "$KUBERNETES_CA_FILE"}}]
users: [{name: e2e, user: {tokenFile: "$KUBERNETES_TOKEN_FILE"}}]
contexts: [{name: e2e, context: {cluster: e2e, user: e2e, namespace: "$NS"}}]
current-context: e2e
EOF
k() { kubectl "$@"; }

echo "== cluster $(k version -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["serverVersion"]["gitVersion"])'), namespace $NS, work $WORK"
if k get namespace "$NS" >/dev/null 2>&1; then
  k delete namespace "$NS" --wait=true --timeout=60s >/dev/null
fi
k create namespace "$NS" >/dev/null
k apply -n "$NS" -f deploy/k8s/base/rbac.yaml >/dev/null
# The pods' upload (and filesystem-store download) token: artifact-service's.
printf %s "$API_TOKEN" >"$WORK/upload-token"
k create secret generic buildchain-kaniko-upload -n "$NS" --from-file=token="$WORK/upload-token" >/dev/null
rm -f "$WORK/upload-token"
# build-service's own identity: the ServiceAccount bound to the Role of rbac.yaml.
k create token buildchain-build-service -n "$NS" --duration=2h >"$WORK/build-service.token"
chmod 600 "$WORK/build-service.token"

# S3 as pods reach it: a relay on the pods' side of the host; artifact-service signs for that address.
s3_target=${BUILDCHAIN_TEST_S3_ENDPOINT#http://}
socat "TCP-LISTEN:$s3_port,bind=$POD_HOST,fork,reuseaddr" "TCP:$s3_target" &
pids+=($!)
export S3_POD_ENDPOINT=http://$POD_HOST:$s3_port

psql "$DATABASE_URL" -qc "CREATE DATABASE $database" >/dev/null
e2e_database_url=$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$DATABASE_URL" "$database")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start NAME HOST PORT NAME=VALUE...: one service in the background, settings in its environment.
start() {
  local name=$1 host=$2 port=$3 binary
  shift 3
  binary=${name%-fs}
  (
    export HOST=$host PORT=$port LOG_LEVEL=info DATABASE_URL=$e2e_database_url API_TOKEN=$API_TOKEN
    for assignment in "$@"; do export "${assignment?}"; done
    exec "$bin/$binary"
  ) >"$WORK/$name.log" 2>&1 </dev/null &
  pids+=($!)
  for _ in $(seq 1 300); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$host:$port/readyz") == 200 ]] && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.2
  done
  echo "k8s-e2e: $name did not become ready; its log:" >&2
  tail -n 30 "$WORK/$name.log" >&2
  exit 1
}

export ARTIFACT_S3_PORT=$(free_port) ARTIFACT_FS_PORT=$(free_port) BUILD_PORT=$(free_port) BUILD_FS_PORT=$(free_port)
export CHECKOUT_PORT=$(free_port) REWRITE_PORT=$(free_port) GATEWAY_PORT=$(free_port)
mkdir -p "$WORK/artifacts" "$WORK/builds" "$WORK/builds-fs" "$WORK/git-mirrors" "$WORK/checkouts"

start artifact-service "$POD_HOST" "$ARTIFACT_S3_PORT" ARTIFACT_BACKEND=s3 ARTIFACT_ROOT="$WORK/artifacts-s3-tmp" \
  S3_ENDPOINT="$S3_POD_ENDPOINT" S3_REGION="${BUILDCHAIN_TEST_S3_REGION:-us-east-1}" S3_BUCKET="$BUILDCHAIN_TEST_S3_BUCKET" \
  S3_ACCESS_KEY_ID="$BUILDCHAIN_TEST_S3_ACCESS_KEY_ID" S3_SECRET_ACCESS_KEY="$BUILDCHAIN_TEST_S3_SECRET_ACCESS_KEY" \
  REGISTRY_INSECURE="$REGISTRY"
start artifact-service-fs "$POD_HOST" "$ARTIFACT_FS_PORT" ARTIFACT_BACKEND=filesystem ARTIFACT_ROOT="$WORK/artifacts"

cluster_settings=(
  BUILD_DRIVER=kaniko-kubernetes BUILD_CONCURRENCY=2 BUILD_TIMEOUT=10m
  CACHE_REGISTRY="$REGISTRY" REGISTRY_MIRROR="$REGISTRY" REGISTRY_INSECURE="$REGISTRY"
  KUBERNETES_API_URL="$KUBERNETES_API_URL" KUBERNETES_CA_FILE="$KUBERNETES_CA_FILE"
  KUBERNETES_TOKEN_FILE="$WORK/build-service.token" KUBERNETES_NAMESPACE="$NS" KANIKO_SERVICE_ACCOUNT=buildchain-kaniko
  # buildah for the comparison: RUN steps without a network sandbox (this script's Dockerfiles only)
  BUILD_ISOLATION=chroot BUILD_NETWORK=none
)
[[ -n $KANIKO_LOCAL ]] && cluster_settings+=(KANIKO_EXECUTOR="$KANIKO_LOCAL")
start build-service 127.0.0.1 "$BUILD_PORT" "${cluster_settings[@]}" BUILD_WORK_DIR="$WORK/builds" \
  ARTIFACT_SERVICE_URL="http://$POD_HOST:$ARTIFACT_S3_PORT"
start build-service-fs 127.0.0.1 "$BUILD_FS_PORT" "${cluster_settings[@]}" BUILD_WORK_DIR="$WORK/builds-fs" \
  ARTIFACT_SERVICE_URL="http://$POD_HOST:$ARTIFACT_FS_PORT"
start checkout-service 127.0.0.1 "$CHECKOUT_PORT" CHECKOUT_ALLOW_FILE_URLS=true CHECKOUT_CACHE_DIR="$WORK/git-mirrors" \
  CHECKOUT_WORK_DIR="$WORK/checkouts" ARTIFACT_SERVICE_URL="http://$POD_HOST:$ARTIFACT_S3_PORT"
start rewrite-service 127.0.0.1 "$REWRITE_PORT" REWRITE_PROXIES="docker.io=$REGISTRY" REGISTRY_INSECURE="$REGISTRY"
start gateway 127.0.0.1 "$GATEWAY_PORT" API_TOKEN_SHA256="$(printf %s "$API_TOKEN" | sha256sum | cut -d' ' -f1)" \
  CHECKOUT_SERVICE_TOKEN="$API_TOKEN" REWRITE_SERVICE_TOKEN="$API_TOKEN" BUILD_SERVICE_TOKEN="$API_TOKEN" \
  ARTIFACT_SERVICE_TOKEN="$API_TOKEN" CHECKOUT_SERVICE_URL="http://127.0.0.1:$CHECKOUT_PORT" \
  REWRITE_SERVICE_URL="http://127.0.0.1:$REWRITE_PORT" BUILD_SERVICE_URL="http://127.0.0.1:$BUILD_PORT" \
  ARTIFACT_SERVICE_URL="http://$POD_HOST:$ARTIFACT_S3_PORT" BUILD_DRIVER=kaniko-kubernetes
echo "== services up (artifact-service s3 :$ARTIFACT_S3_PORT, filesystem :$ARTIFACT_FS_PORT on $POD_HOST; build-service :$BUILD_PORT, :$BUILD_FS_PORT; gateway :$GATEWAY_PORT)"

export BIN=$bin RUN_ID=$run_id
python3 "$root/scripts/k8s-e2e.py"
