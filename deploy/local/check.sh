#!/usr/bin/env bash
# End-to-end checks of the local stack. Prints `ok NAME` or `FAIL NAME: why` per
# check; exits non-zero if any failed. Service checks run only when at least one
# service is running (then all five must pass).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SERVICES=(gateway:8080 checkout-service:8081 rewrite-service:8082 build-service:8083 artifact-service:8084)
passed=0 failed=0 skipped=0
ok() {
  echo "ok $1"
  passed=$((passed + 1))
}
fail() {
  echo "FAIL $1: $2"
  failed=$((failed + 1))
}
skip() {
  echo "skip $1: $2"
  skipped=$((skipped + 1))
}
# check NAME COMMAND...: ok if COMMAND succeeds, else FAIL with its last output line.
check() {
  local name=$1 out rc=0
  shift
  out="$("$@" 2>&1)" || rc=$?
  if ((rc == 0)); then
    ok "$name"
  else
    fail "$name" "$(tail -n 1 <<<"${out:-exit status $rc}")"
  fi
}

# ---- env
if [[ -r $ENV_FILE ]]; then
  # shellcheck source=/dev/null
  source "$ENV_FILE"
  ok env
else
  fail env "no $ENV_FILE (run deploy/local/env.sh)"
fi

# ---- PostgreSQL
pg_select1() {
  local got
  got="$(PGCONNECT_TIMEOUT=5 psql -X -Atc 'select 1' "${BUILDCHAIN_TEST_DATABASE_URL:?no database url}" 2>&1)" || {
    echo "${got%%$'\n'*}" # psql's first line names the cause
    return 1
  }
  [[ $got == 1 ]] || {
    echo "select 1 returned '$got'"
    return 1
  }
}
pg_wrong_password() {
  local url=${BUILDCHAIN_TEST_DATABASE_URL:?no database url} out
  url="postgresql://buildchain:wrong-password@${url#*@}"
  if out="$(PGCONNECT_TIMEOUT=5 psql -X -Atc 'select 1' "$url" 2>&1)"; then
    echo "a wrong password was accepted"
    return 1
  fi
  grep -q 'password authentication failed' <<<"$out" || {
    echo "${out%%$'\n'*}"
    return 1
  }
}
check postgres pg_select1
check postgres-scram-auth pg_wrong_password

# ---- registry
registry_v2() {
  local code
  code="$(http_status "http://$REGISTRY_ADDR/v2/")"
  [[ $code == 200 ]] || {
    echo "GET /v2/ answered $code"
    return 1
  }
}
check registry registry_v2
for image in "$REGISTRY_ADDR/$BASE_IMAGE_REPO:$BASE_IMAGE_TAG" "$BASE_IMAGE"; do
  check "base-image $image" skopeo inspect --tls-verify=false --raw "docker://$image"
done

# ---- S3 (moto with SigV4 checks): AWS CLI as an independent client
aws_s3_ls() {
  env -u AWS_PROFILE -u AWS_SESSION_TOKEN \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    AWS_DEFAULT_REGION="${BUILDCHAIN_TEST_S3_REGION:-$S3_REGION}" \
    AWS_ACCESS_KEY_ID="${BUILDCHAIN_TEST_S3_ACCESS_KEY_ID:-}" AWS_SECRET_ACCESS_KEY="$1" \
    AWS_MAX_ATTEMPTS=1 \
    aws --endpoint-url "${BUILDCHAIN_TEST_S3_ENDPOINT:-$S3_ENDPOINT}" \
    s3 ls "s3://${BUILDCHAIN_TEST_S3_BUCKET:-$S3_BUCKET}/"
}
s3_signed() { aws_s3_ls "${BUILDCHAIN_TEST_S3_SECRET_ACCESS_KEY:?no S3 secret in env}" >/dev/null; }
s3_wrong_secret() {
  local out
  if out="$(aws_s3_ls "${BUILDCHAIN_TEST_S3_SECRET_ACCESS_KEY:?no S3 secret in env}-wrong" 2>&1)"; then
    echo "a request signed with a wrong secret was accepted"
    return 1
  fi
  grep -q SignatureDoesNotMatch <<<"$out" || {
    echo "$out"
    return 1
  }
}
check s3-signed-request s3_signed
check s3-wrong-secret-rejected s3_wrong_secret

# ---- buildah: pull the base image through the insecure local registry and RUN
buildah_smoke() {
  local dir tag=localhost/buildchain-check-smoke:latest rc=0
  ensure_registries_conf
  dir="$(mktemp -d)"
  printf 'FROM %s\nRUN echo hi > /hi\n' "$BASE_IMAGE" >"$dir/Dockerfile"
  lbuildah bud --isolation chroot --pull=always --layers=false --quiet \
    -f "$dir/Dockerfile" -t "$tag" "$dir" || rc=$?
  rm -rf "$dir"
  lbuildah rmi -f "$tag" "$BASE_IMAGE" >/dev/null 2>&1 || true
  return "$rc"
}
check buildah-bud buildah_smoke
# the RUN steps' network, user range and firewall (build-network.sh)
build_network() { "$LIB_DIR/build-network.sh" status; }
check build-network build_network

# ---- services (only when up)
services_up=0
for entry in "${SERVICES[@]}"; do
  if pid_alive "$RUN_DIR/${entry%%:*}.pid" "${entry%%:*}"; then services_up=1; fi
done
expect_status() {
  local want=$1 url=$2 code
  shift 2
  code="$(http_status "$url" "$@")"
  [[ $code == "$want" ]] || {
    echo "${url#http://} answered $code, expected $want"
    return 1
  }
}
if ((services_up)); then
  for entry in "${SERVICES[@]}"; do
    name=${entry%%:*} port=${entry##*:}
    check "$name readyz" expect_status 200 "http://127.0.0.1:$port/readyz"
    check "$name healthz-no-token" expect_status 200 "http://127.0.0.1:$port/healthz"
    check "$name v1-no-token-401" expect_status 401 "http://127.0.0.1:$port/v1/anything"
  done
else
  skip services "not running (deploy/local/services.sh start)"
fi

echo "check: $passed passed, $failed failed, $skipped skipped"
((failed == 0))
