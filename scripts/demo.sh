#!/usr/bin/env bash
# The demo: on a fresh machine, bring the local stack up (installing what it needs),
# then build a git repository through the gateway with the buildchain CLI — a
# multi-stage Dockerfile whose bases are Docker Hub names becomes an image tarball in
# the S3 store (moto, SigV4 checked), its base layers pulled through the registry's
# proxy path, pushed to the local registry — and show the job and the pushed image.
# Usage: scripts/demo.sh [--no-install] [--replicas N]
#   --no-install: skip apt/pip;  --replicas 2: two processes of every service behind HAProxy
# Leaves the stack running; deploy/local/down.sh stops it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

up_flags=()
while (($#)); do
  case $1 in
  --no-install) up_flags+=(--no-install) ;;
  --replicas) up_flags+=(--replicas "${2:?--replicas needs a count}"); shift ;;
  *) echo "usage: $0 [--no-install] [--replicas N]" >&2; exit 2 ;;
  esac
  shift
done
deploy/local/up.sh "${up_flags[@]}"
# shellcheck source=/dev/null
source .local/env
registry=${BUILDCHAIN_TEST_REGISTRY:?}

# A repository on this machine (the local stack accepts file:// repositories).
repo=$root/.local/demo-repo
rm -rf "$repo"
mkdir -p "$repo"
cat >"$repo/Dockerfile" <<'DOCKERFILE'
FROM busybox:1.36 AS build
COPY greeting.txt /src/greeting.txt
RUN tr a-z A-Z < /src/greeting.txt > /src/GREETING.txt

FROM docker.io/library/busybox:1.36
COPY --from=build /src/GREETING.txt /GREETING.txt
CMD ["cat", "/GREETING.txt"]
DOCKERFILE
echo "hello from buildchain, $(date -u +%FT%TZ)" >"$repo/greeting.txt"
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" -c user.email=demo@buildchain.local -c user.name=demo commit -q -m demo

destination="$registry/demo/hello:$(date -u +%Y%m%d%H%M%S)"
export BUILDCHAIN_URL=http://127.0.0.1:8080 BUILDCHAIN_TOKEN=$API_TOKEN
cli=$root/.build/debug/buildchain

echo
echo "== buildchain build --push $destination --wait"
"$cli" build --repo "file://$repo" --ref main --workload demo --service hello --push "$destination" --wait
job=$("$cli" jobs --workload demo --limit 1 --output json | python3 -c 'import json,sys; print(json.load(sys.stdin)["jobs"][0]["id"])')


echo
echo "== the rewritten base images (rewrite stage)"
"$cli" show "$job" --output json | python3 -c '
import json, sys
job = json.load(sys.stdin)
rewrite = next(s for s in job["stages"] if s["name"] == "rewrite")
for change in rewrite["result"]["changes"]:
    print("  line %d: %s -> %s" % (change["line"], change["from"], change["to"]))'

echo
echo "== skopeo inspect docker://$destination"
skopeo inspect --tls-verify=false "docker://$destination" | python3 -c '
import json, sys
image = json.load(sys.stdin)
print("  digest:", image["Digest"])
print("  layers:", *image["Layers"], sep="\n    ")'
echo
echo "== buildchain verify $job (the signed provenance)"
"$cli" verify "$job" --key "$root/.local/secrets/provenance-key.pub"
echo
echo "== buildchain verify $destination (the attestation pushed beside the image)"
"$cli" verify "$destination" --key "$root/.local/secrets/provenance-key.pub" | head -3
echo
echo "demo done: the stack is still up (deploy/local/down.sh stops it)"
