#!/usr/bin/env bash
# Installs what the local stack and the tests need on Debian 12 (run as root).
# Fast when everything is there already: apt is skipped if dpkg has all packages,
# pip is skipped if the Python modules import.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

APT_PACKAGES=(
  # C libraries the Swift targets link
  libcurl4-openssl-dev libssl-dev libpq-dev
  # PostgreSQL 15 server + client
  postgresql postgresql-15 postgresql-client-15
  # registry, image tooling (buildah with vfs needs no daemon); RUN steps sandboxed with
  # runc (--isolation oci), a user namespace (uidmap) and netavark's bridge behind iptables
  docker-registry buildah skopeo umoci golang-github-containers-common uidmap netavark runc iptables
  # base image content, built offline
  busybox-static
  # the two-wide local stack's load balancer (services.sh --replicas 2) and the clock-skew
  # fault tests (a gateway run under faketime)
  haproxy faketime
  # the dashboard's browser tests (headless, driven by Playwright from PyPI)
  chromium
  # tools used by the scripts and tests
  git curl jq ca-certificates procps psmisc iproute2 util-linux coreutils tar gzip
  # the load benchmark (bench/load: wrk beside pgbench, which postgresql-client-15 has)
  wrk
)

if [[ $(id -u) -ne 0 ]]; then
  die "run as root (apt-get install needs it)"
fi

# one dpkg-query for all: prints "<name> <status>" for the known ones
mapfile -t installed < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${APT_PACKAGES[@]}" 2>/dev/null |
  awk '$2 == "installed" {print $1}')
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  [[ " ${installed[*]} " == *" $pkg "* ]] || missing+=("$pkg")
done
# has(MODULE...): all importable by python3 (found, not imported: fast)
has() {
  python3 - "$@" <<'PY' 2>/dev/null
import importlib.util, sys
sys.exit(0 if all(importlib.util.find_spec(m) for m in sys.argv[1:]) else 1)
PY
}
# pip itself: pyenv/venv Pythons have it; a bare Debian needs python3-pip.
if ! command -v python3 >/dev/null || ! has pip; then
  missing+=(python3 python3-pip)
fi

if ((${#missing[@]} > 0)); then
  log "apt: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
else
  log "apt: all ${#APT_PACKAGES[@]} packages present"
fi

# On a systemd machine the Debian packages start their own services on the ports
# this stack uses (docker-registry on :5000). The stack runs its own instances.
if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
  if systemctl is-active --quiet docker-registry 2>/dev/null; then
    log "stopping and disabling Debian's docker-registry service (it holds :5000)"
    systemctl disable --now docker-registry || warn "could not disable docker-registry.service"
  fi
fi

# Python tools: moto's server (S3 + IAM with SigV4 checks), the BuildKit
# Dockerfile parser wheel, the AWS CLI used by check.sh, openapi-spec-validator.
pip_missing=()
has moto flask flask_cors boto3 || pip_missing+=('moto[server]')
has dockerfile || pip_missing+=(dockerfile)
has playwright || pip_missing+=(playwright)
# deploy checks (scripts/check-deploy.sh): Kubernetes and GitHub workflow schemas, bundled
has kubernetes_validate || pip_missing+=(kubernetes-validate)
has check_jsonschema || pip_missing+=(check-jsonschema)
has yaml || pip_missing+=(pyyaml)
# provenance tests: an independent DSSE/in-toto verifier (Tests/ProvenanceTests/verify_envelope.py)
has securesystemslib cryptography || pip_missing+=(securesystemslib)
# API fuzzing from the OpenAPI specs (scripts/fuzz.sh, part of the test command)
command -v schemathesis >/dev/null 2>&1 || pip_missing+=(schemathesis)
command -v aws >/dev/null 2>&1 || pip_missing+=(awscli)
# scripts/test.sh validates openapi/*.yaml with it
command -v openapi-spec-validator >/dev/null 2>&1 || pip_missing+=(openapi-spec-validator)
if ((${#pip_missing[@]} > 0)); then
  log "pip: installing ${pip_missing[*]}"
  pip_flags=()
  # Debian's own python3 is "externally managed" (PEP 668); the stack and the
  # tests call plain python3, so install into it deliberately.
  if python3 -c 'import sys, sysconfig, os; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")) else 1)'; then
    pip_flags+=(--break-system-packages)
  fi
  python3 -m pip install "${pip_flags[@]}" "${pip_missing[@]}"
  # pyenv needs its shims refreshed for new console scripts (aws).
  if command -v pyenv >/dev/null 2>&1; then pyenv rehash || true; fi
else
  log "pip: all Python tools present"
fi

# Deploy checks (scripts/check-deploy.sh): kubectl for `kubectl kustomize`. kubectl comes with the machine image here (the `kubectl`
# package, which owns /usr/bin/kubectl); Debian's kubernetes-client is installed only
# where no kubectl exists at all, since both ship /usr/bin/kubectl. Its kubectl 1.20
# embeds kustomize v2.0.3, too old for the overlay (check-deploy.sh says so).
if ! command -v kubectl >/dev/null 2>&1; then
  log "apt: installing kubernetes-client (kubectl)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends kubernetes-client ||
    { apt-get update && apt-get install -y --no-install-recommends kubernetes-client; }
fi

# The buildah driver's sandbox: /etc/subuid range, the netavark network and its firewall rules.
"$(dirname "${BASH_SOURCE[0]}")/build-network.sh" setup ||
  warn "build-network.sh failed: buildah builds fail until it succeeds (or build-service runs with BUILD_NETWORK=none)"

log "done"
