#!/usr/bin/env bash
# Stops everything the local stack runs: services, S3 (moto), registry, PostgreSQL.
# Data under .local/ is kept (moto's is in memory and goes). Exits non-zero if a
# service did not exit cleanly or a step failed; later steps run regardless.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rc=0
"$LIB_DIR/services.sh" stop || rc=1
"$LIB_DIR/s3.sh" stop || rc=1
"$LIB_DIR/registry.sh" stop || rc=1
"$LIB_DIR/postgres.sh" stop || rc=1
exit "$rc"
