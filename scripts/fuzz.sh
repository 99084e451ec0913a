#!/usr/bin/env bash
# Fuzzes every service from its OpenAPI spec with schemathesis (PyPI) against the running
# local stack (deploy/local/up.sh). Checks: no 5xx, every response (status, content type,
# body) as specified, every request the spec forbids refused with a 4xx. Start the gateway
# with GATEWAY_DRY_RUN=true so the jobs it records are never run (scripts/test.sh does).
# Usage: scripts/fuzz.sh [MAX_EXAMPLES]   (default 25 per operation)
# Env: FUZZ_SEED fixes schemathesis's seed (CI uses one, so a run can be repeated).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=/dev/null
source .local/env
command -v schemathesis >/dev/null || python3 -m pip install -q schemathesis
examples=${1:-25}
failed=0
for entry in gateway:8080 checkout:8081 rewrite:8082 build:8083 artifact:8084; do
  name=${entry%%:*} port=${entry##*:}
  # Event streams follow a run until it ends (tested in each service's suite); the
  # dashboard's pages are HTML forms, tested in a browser (GatewayDashboardTests).
  exclude='/events$'
  [[ $name == gateway ]] && exclude='/events$|^/ui'
  log=".local/logs/fuzz-$name.log"
  if schemathesis run "openapi/$name.yaml" --url "http://127.0.0.1:$port" \
    -H "Authorization: Bearer $API_TOKEN" --max-examples "$examples" \
    --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance,negative_data_rejection \
    --suppress-health-check=filter_too_much ${FUZZ_SEED:+--seed "$FUZZ_SEED"} \
    --exclude-path-regex "$exclude" >"$log" 2>&1; then
    echo "ok $name ($(grep -Eo '[0-9]+ generated' "$log" | head -1) cases)"
  else
    echo "FAIL $name: see $log"
    sed -n '/^=* \(FAILURES\|ERRORS\) =*$/,/^=* SUMMARY =*$/p' "$log" | head -100
    failed=1
  fi
done
exit $failed
