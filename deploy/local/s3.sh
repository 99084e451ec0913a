#!/usr/bin/env bash
# moto's S3 server on 127.0.0.1:9000 with SigV4 signature checking ON.
# Usage: s3.sh {start|stop|status}
#
# moto checks signatures (and IAM policies) only when INITIAL_NO_AUTH_ACTION_COUNT
# is set: the first N authenticated-API requests pass unchecked, every later one
# must be signed by a known access key whose IAM policy allows the action. We start
# it with N=3 and spend exactly those three requests on IAM (create user, access
# key, inline policy); the bucket is then created with the new key, signed.
# moto runs through moto_server.py, which makes it verify signatures against the
# request target exactly as sent (see that file: plain moto rejects correctly
# signed requests whose query has %2F etc.).
# moto keeps everything in memory: a new server gets a new user, key and bucket,
# and the secrets files (and .local/env, if present) are rewritten.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

S3_PID="$RUN_DIR/s3.pid"
S3_LOG="$LOGS_DIR/s3.log"
S3_KEY_ID_FILE="$SECRETS_DIR/s3-access-key-id"
S3_SECRET_FILE="$SECRETS_DIR/s3-secret-access-key"
S3_USER=buildchain
NO_AUTH_REQUESTS=3

ready() { [[ $(http_status "$S3_ENDPOINT/moto-api/") == 200 ]]; }
ready_or_dead() { ready || ! pid_alive "$S3_PID" moto_server.py; }

# Runs the Python S3/IAM helper: provision | verify.
s3_py() {
  S3_ENDPOINT="$S3_ENDPOINT" S3_REGION="$S3_REGION" S3_BUCKET="$S3_BUCKET" S3_USER="$S3_USER" \
    S3_KEY_ID="$(read_secret "$S3_KEY_ID_FILE")" S3_SECRET="$(read_secret "$S3_SECRET_FILE")" \
    python3 - "$1" <<'PY'
import json, os, sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

mode = sys.argv[1]
endpoint, region, bucket = os.environ["S3_ENDPOINT"], os.environ["S3_REGION"], os.environ["S3_BUCKET"]
cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})

def client(service, key_id, secret):
    return boto3.session.Session().client(
        service, endpoint_url=endpoint, region_name=region, config=cfg,
        aws_access_key_id=key_id, aws_secret_access_key=secret)

def check(key_id, secret):
    s3 = client("s3", key_id, secret)
    s3.list_objects_v2(Bucket=bucket, MaxKeys=1)
    try:
        client("s3", key_id, secret + "x").list_objects_v2(Bucket=bucket, MaxKeys=1)
    except ClientError as e:
        code = e.response["Error"]["Code"]
        if code != "SignatureDoesNotMatch":
            sys.exit(f"wrong secret gave {code}, expected SignatureDoesNotMatch")
    else:
        sys.exit("a request signed with a wrong secret was accepted: signature checking is OFF")

if mode == "provision":
    # These three IAM calls are the unauthenticated ones moto allows.
    iam = client("iam", "unauthenticated", "unauthenticated")
    user = os.environ["S3_USER"]
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    iam.put_user_policy(UserName=user, PolicyName="buildchain-s3", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": "*"}]}))
    key_id, secret = key["AccessKeyId"], key["SecretAccessKey"]
    # From here on every request is signed and checked.
    try:
        client("iam", "unauthenticated", "unauthenticated").list_users()
    except ClientError:
        pass
    else:
        sys.exit("an unsigned request was accepted after setup: signature checking is OFF")
    client("s3", key_id, secret).create_bucket(Bucket=bucket)
    check(key_id, secret)
    print(key_id)
    print(secret)
elif mode == "verify":
    key_id, secret = os.environ["S3_KEY_ID"], os.environ["S3_SECRET"]
    if not key_id or not secret:
        sys.exit("no stored key")
    check(key_id, secret)
PY
}

launch() {
  if port_in_use 127.0.0.1 "$S3_PORT"; then
    die "127.0.0.1:$S3_PORT is taken by another process"
  fi
  # Keys from an old server are useless now.
  rm -f "$S3_KEY_ID_FILE" "$S3_SECRET_FILE"
  private_log "$S3_LOG"
  INITIAL_NO_AUTH_ACTION_COUNT=$NO_AUTH_REQUESTS \
    setsid python3 "$LIB_DIR/moto_server.py" -H 127.0.0.1 -p "$S3_PORT" >>"$S3_LOG" 2>&1 </dev/null &
  echo $! >"$S3_PID"
  exec_seen "$(cat "$S3_PID")" moto_server.py || true
  if ! wait_for 60 "moto on 127.0.0.1:$S3_PORT" ready_or_dead || ! pid_alive "$S3_PID" moto_server.py; then
    tail -n 20 "$S3_LOG" >&2
    stop_pid "$S3_PID" moto_server.py s3 >/dev/null
    die "moto server did not come up (log: $S3_LOG)"
  fi
  local out
  if ! out="$(s3_py provision)"; then
    tail -n 20 "$S3_LOG" >&2
    stop_pid "$S3_PID" moto_server.py s3 >/dev/null
    die "could not set up IAM user/key/bucket on moto (log: $S3_LOG)"
  fi
  write_secret "$S3_KEY_ID_FILE" "$(sed -n 1p <<<"$out")"
  write_secret "$S3_SECRET_FILE" "$(sed -n 2p <<<"$out")"
  log "started on $S3_ENDPOINT (pid $(cat "$S3_PID")): IAM user $S3_USER, bucket $S3_BUCKET, SigV4 checked"
  log "access key in $S3_KEY_ID_FILE, secret in $S3_SECRET_FILE"
  # keep an existing .local/env in step with the new key
  if [[ -f $ENV_FILE && -s $SECRETS_DIR/postgres-password ]]; then
    "$LIB_DIR/env.sh" >/dev/null
    log "refreshed $ENV_FILE"
  fi
}

start() {
  ensure_local_dirs
  python3 -c 'import importlib.util as u, sys; sys.exit(not (u.find_spec("moto") and u.find_spec("flask") and u.find_spec("boto3")))' || die "moto[server] not importable by python3: run deploy/local/install-deps.sh"
  if pid_alive "$S3_PID" moto_server.py; then
    if ready && s3_py verify 2>/dev/null; then
      log "already running on $S3_ENDPOINT (pid $(cat "$S3_PID")), stored key works"
      return 0
    fi
    warn "running moto does not accept the stored key; restarting it"
    stop_pid "$S3_PID" moto_server.py s3
  fi
  launch
}

stop() { stop_pid "$S3_PID" moto_server.py s3; }

status() {
  if ! pid_alive "$S3_PID" moto_server.py; then
    log "not running"
    return 3
  fi
  if s3_py verify 2>/dev/null; then
    log "running on $S3_ENDPOINT (pid $(cat "$S3_PID")), bucket $S3_BUCKET, stored key works, wrong secret rejected"
  else
    log "process $(cat "$S3_PID") alive but the stored key does not work"
    return 1
  fi
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
*)
  echo "usage: $0 {start|stop|status}" >&2
  exit 2
  ;;
esac
