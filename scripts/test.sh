#!/usr/bin/env bash
# Runs the whole test suite against real servers: starts the local
# infrastructure (PostgreSQL, registry, S3) if it is not up, validates the
# OpenAPI specs and the Swift generated from them, builds, fuzzes every service's API, and runs `swift test`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash deploy/local/up.sh --infra-only "$@"
# shellcheck source=/dev/null
source .local/env

for spec in openapi/*.yaml; do
  openapi-spec-validator "$spec"
done
# The Swift of the contract (openapi/swift) is generated from the specs and committed: it must be
# exactly what they generate now.
bash scripts/openapi-generate.sh --check
# deploy/: Containerfiles parse, the Kustomize overlay renders and validates, the workflow is sound.
bash scripts/check-deploy.sh

swift build --build-tests

# API fuzzing (schemathesis) of every service from its spec. The local services are
# (re)started for it with the gateway recording dry runs only, and stopped after.
bash deploy/local/services.sh stop >/dev/null 2>&1 || true
GATEWAY_DRY_RUN=true GATEWAY_WORKERS=0 bash deploy/local/services.sh start
fuzz_status=0
FUZZ_SEED=${FUZZ_SEED:-20261127} bash scripts/fuzz.sh "${FUZZ_EXAMPLES:-15}" || fuzz_status=$?
bash deploy/local/services.sh stop

# Suites share the real PostgreSQL, and one of them restarts it: run them one
# at a time so a restart never lands in another suite's request.
swift test --skip-build --no-parallel
if ((fuzz_status != 0)); then
  echo "test: API fuzzing failed (see above)" >&2
  exit "$fuzz_status"
fi
