#!/usr/bin/env bash
# The network and user range the buildah driver's RUN steps get (BUILD_ISOLATION=oci, the default).
# Run as root; idempotent (install-deps.sh runs it; run it again after a reboot, since firewall
# rules do not survive one, or after changing BUILD_NETWORK_ALLOW).
#
# - /etc/subuid and /etc/subgid: the range 1000000000:65536 is given to the name `buildchain-build`
#   (no such login exists), so nothing else is handed these IDs; root of a RUN step is host UID
#   1000000000 (BUILD_USERNS_RANGE in build-service must name this range).
# - A netavark bridge network `buildchain-build` (interface bcbuild0, 10.89.0.0/24, NAT to the
#   host's own routes): RUN steps reach the internet where the machine does.
# - Firewall (iptables/ip6tables): nothing from bcbuild0 reaches any address of the host itself
#   (the gateway 10.89.0.1, the host's LAN addresses; loopback never routes there anyway), nor
#   link-local 169.254.0.0/16 (cloud metadata endpoints), except the `address:port` pairs listed in
#   BUILD_NETWORK_ALLOW (comma-separated, e.g. `10.89.0.1:3128` for a proxy listening there).
# Usage: build-network.sh [setup|remove|status]
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NETWORK=buildchain-build
BRIDGE=bcbuild0
SUBNET=10.89.0.0/24
GATEWAY=10.89.0.1
ID_RANGE_START=1000000000
ID_RANGE_SIZE=65536
NETWORK_FILE=/etc/containers/networks/$NETWORK.json
CHAIN=BUILDCHAIN_BUILD_INPUT

[[ $(id -u) -eq 0 ]] || die "run as root (it writes /etc/subuid and firewall rules)"

ensure_id_range() {
  local file
  for file in /etc/subuid /etc/subgid; do
    touch "$file"
    if ! grep -q "^$NETWORK:" "$file"; then
      printf '%s:%s:%s\n' "$NETWORK" "$ID_RANGE_START" "$ID_RANGE_SIZE" >>"$file"
    fi
  done
}

ensure_network_file() {
  mkdir -p "$(dirname "$NETWORK_FILE")"
  [[ -f $NETWORK_FILE ]] && return 0
  local id
  id="$(random_hex 32)"
  cat >"$NETWORK_FILE.tmp" <<EOF
{
  "name": "$NETWORK",
  "id": "$id",
  "driver": "bridge",
  "network_interface": "$BRIDGE",
  "created": "$(date -u +%FT%T.000000000Z)",
  "subnets": [{ "subnet": "$SUBNET", "gateway": "$GATEWAY" }],
  "ipv6_enabled": false,
  "internal": false,
  "dns_enabled": false,
  "ipam_options": { "driver": "host-local" }
}
EOF
  mv -f "$NETWORK_FILE.tmp" "$NETWORK_FILE"
}

# rules TOOL: the INPUT chain for the bridge, rebuilt from scratch (allow-list first).
rules() {
  local tool=$1 entry address port
  "$tool" -w -N "$CHAIN" 2>/dev/null || "$tool" -w -F "$CHAIN"
  if [[ $tool == iptables ]]; then
    IFS=',' read -ra entries <<<"${BUILD_NETWORK_ALLOW:-}"
    for entry in "${entries[@]}"; do
      entry="${entry// /}"
      [[ -n $entry ]] || continue
      address=${entry%:*}
      port=${entry##*:}
      [[ $port =~ ^[0-9]+$ && -n $address && $address != "$entry" ]] || die "BUILD_NETWORK_ALLOW: '$entry' is not address:port"
      "$tool" -w -A "$CHAIN" -d "$address" -p tcp --dport "$port" -j ACCEPT
    done
  fi
  # Replies to connections the host opened itself (none expected, but harmless).
  "$tool" -w -A "$CHAIN" -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  "$tool" -w -A "$CHAIN" -p tcp -j REJECT --reject-with tcp-reset
  "$tool" -w -A "$CHAIN" -j REJECT
  "$tool" -w -C INPUT -i "$BRIDGE" -j "$CHAIN" 2>/dev/null || "$tool" -w -I INPUT 1 -i "$BRIDGE" -j "$CHAIN"
}

setup() {
  command -v iptables >/dev/null || die "iptables is missing: run deploy/local/install-deps.sh"
  ensure_id_range
  ensure_network_file
  rules iptables
  rules ip6tables
  iptables -w -t raw -C PREROUTING -i "$BRIDGE" -d 169.254.0.0/16 -j DROP 2>/dev/null ||
    iptables -w -t raw -I PREROUTING 1 -i "$BRIDGE" -d 169.254.0.0/16 -j DROP
  log "network $NETWORK ($SUBNET on $BRIDGE) ready; host addresses closed to it${BUILD_NETWORK_ALLOW:+ except $BUILD_NETWORK_ALLOW}"
}

remove() {
  local tool
  for tool in iptables ip6tables; do
    "$tool" -w -D INPUT -i "$BRIDGE" -j "$CHAIN" 2>/dev/null || true
    "$tool" -w -F "$CHAIN" 2>/dev/null || true
    "$tool" -w -X "$CHAIN" 2>/dev/null || true
  done
  iptables -w -t raw -D PREROUTING -i "$BRIDGE" -d 169.254.0.0/16 -j DROP 2>/dev/null || true
  rm -f "$NETWORK_FILE"
  log "network $NETWORK removed (the /etc/subuid entries stay)"
}

status() {
  [[ -f $NETWORK_FILE ]] || die "no network file $NETWORK_FILE"
  iptables -w -C INPUT -i "$BRIDGE" -j "$CHAIN" 2>/dev/null || die "the $CHAIN rule is missing: run $0 setup"
  grep -q "^$NETWORK:" /etc/subuid || die "no $NETWORK range in /etc/subuid"
  log "network $NETWORK: ready"
}

case "${1:-setup}" in
  setup) setup ;;
  remove) remove ;;
  status) status ;;
  *) die "usage: $0 [setup|remove|status]" ;;
esac
