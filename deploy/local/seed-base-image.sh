#!/usr/bin/env bash
# Builds a tiny busybox base image offline (Debian's busybox-static, no network) and
# pushes it into the local registry as
#   127.0.0.1:5000/library/busybox:1.36
#   127.0.0.1:5000/dockerhub-proxy/library/busybox:1.36   (the proxy-cache path)
# Skips everything if the proxy-cache name already answers. buildah's storage is
# kept in .local/containers (vfs driver), never /var/lib/containers.
# Usage: seed-base-image.sh [--force]
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUSYBOX=${BUSYBOX:-/bin/busybox}
NAMES=(
  "$REGISTRY_ADDR/$BASE_IMAGE_REPO:$BASE_IMAGE_TAG"
  "$BASE_IMAGE"
)
LOCAL_NAME="localhost/buildchain-seed/busybox:$BASE_IMAGE_TAG"

force=0
[[ ${1:-} == --force ]] && force=1

present() {
  local name
  for name in "${NAMES[@]}"; do
    skopeo inspect --tls-verify=false --raw "docker://$name" >/dev/null 2>&1 || return 1
  done
}

ensure_local_dirs
[[ $(http_status "http://$REGISTRY_ADDR/v2/") == 200 ]] || die "registry $REGISTRY_ADDR is not up: run deploy/local/registry.sh start"
if ((!force)) && present; then
  log "already in the registry: ${NAMES[*]}"
  exit 0
fi

command -v buildah >/dev/null || die "buildah missing: run deploy/local/install-deps.sh"
[[ -x $BUSYBOX ]] || die "$BUSYBOX missing: install busybox-static"
ensure_registries_conf

work="$(mktemp -d "$LOCAL_DIR/seed.XXXXXX")"
ctr=""
cleanup() {
  if [[ -n $ctr ]]; then lbuildah rm "$ctr" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The root filesystem: busybox plus a symlink per applet, a root user, /tmp.
rootfs="$work/rootfs"
mkdir -p "$rootfs"/{bin,etc,root,tmp,var/tmp,usr/bin,usr/sbin,sbin}
chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
cp "$BUSYBOX" "$rootfs/bin/busybox"
chmod 755 "$rootfs/bin/busybox"
while read -r applet; do
  [[ -n $applet && $applet != busybox ]] || continue
  ln -sf busybox "$rootfs/bin/$applet"
done < <("$BUSYBOX" --list)
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
chmod 700 "$rootfs/root"
# fixed mtimes: the same busybox gives the same layer, hence the same digest
find "$rootfs" -exec touch -h -d @0 {} +

ctr="$(lbuildah from --name "buildchain-seed-$$" scratch)"
lbuildah copy --quiet "$ctr" "$rootfs/" / >/dev/null
lbuildah config \
  --os linux --arch "$(dpkg --print-architecture)" \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --cmd '["sh"]' \
  --workingdir / \
  --label org.opencontainers.image.title=busybox \
  --label org.opencontainers.image.description="buildchain local base image: Debian busybox-static $("$BUSYBOX" 2>&1 | head -n1 | awk '{print $2}')" \
  "$ctr"
lbuildah commit --quiet --format docker --timestamp 0 --rm "$ctr" "$LOCAL_NAME" >/dev/null
ctr=""

for name in "${NAMES[@]}"; do
  lbuildah push --quiet --tls-verify=false --format v2s2 --digestfile "$work/digest" "$LOCAL_NAME" "docker://$name"
  log "pushed $name@$(cat "$work/digest")"
done
lbuildah rmi "$LOCAL_NAME" >/dev/null 2>&1 || true

present || die "pushed, but skopeo cannot inspect the images"
log "done"
