#!/usr/bin/env bash
# Runs the whole test suite against real servers: starts the local
# infrastructure (PostgreSQL, registry, S3) if it is not up, validates the
# OpenAPI specs, builds, and runs `swift test`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash deploy/local/up.sh --infra-only "$@"
# shellcheck source=/dev/null
source .local/env

for spec in openapi/*.yaml; do
  openapi-spec-validator "$spec"
done
# deploy/: Containerfiles parse, the Kustomize overlay renders and validates, the workflow is sound.
bash scripts/check-deploy.sh

swift build --build-tests
# Suites share the real PostgreSQL, and one of them restarts it: run them one
# at a time so a restart never lands in another suite's request.
swift test --skip-build --no-parallel
