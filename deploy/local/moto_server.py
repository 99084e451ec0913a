"""Runs `python -m moto.server` with one fix for SigV4 checking (used by s3.sh).

moto recomputes a request's signature from werkzeug's `request.url`, which werkzeug
rebuilds with some percent-escapes undone in the query string (`%2F` -> `/`, and
likewise for ! ' ( ) * : @ $ , ;). A correctly signed request such as
`ListObjectsV2?delimiter=%2F` or `?prefix=builds%2Fjob-1%2F` then fails with
SignatureDoesNotMatch, which real S3 accepts. Here `request.url` is built from the
request target exactly as the client sent it (the dev server's REQUEST_URI), so the
canonical request moto computes is the one the client signed.

Usage: python3 moto_server.py -H 127.0.0.1 -p 9000   (same arguments as moto.server)
"""

import sys

from werkzeug.sansio.request import Request
from werkzeug.sansio.utils import get_current_url

from moto.server import main


def _raw_url(self: Request) -> str:
    raw = self.environ.get("REQUEST_URI") if hasattr(self, "environ") else None
    if raw and raw.startswith("/"):
        return f"{self.scheme}://{self.host}{raw}"
    return get_current_url(self.scheme, self.host, self.root_path, self.path, self.query_string)


Request.url = property(_raw_url)  # type: ignore[assignment]


# Presigned URLs (SigV4 query signing). With INITIAL_NO_AUTH_ACTION_COUNT set, moto
# reads the `Authorization` header of every request and fails with KeyError (a 500)
# on a presigned GET, which has none. Here such a request is checked the way S3
# checks it: the key named by X-Amz-Credential, the signature over the request
# target as sent with UNSIGNED-PAYLOAD, and X-Amz-Date + X-Amz-Expires not passed.
import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit

from moto.iam import access_control

_original_init = access_control.IAMRequestBase.__init__
_original_check_signature = access_control.IAMRequestBase.check_signature


def _init(self, account_id, method, path, data, body, headers, action):  # type: ignore[no-untyped-def]
    query = dict(parse_qsl(urlsplit(path).query, keep_blank_values=True))
    self._presigned = None
    if "Authorization" not in headers and {"X-Amz-Credential", "X-Amz-Signature"} <= query.keys():
        self._presigned = query
        headers = dict(headers.items())
        headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={query['X-Amz-Credential']}, "
            f"SignedHeaders={query.get('X-Amz-SignedHeaders', 'host')}, Signature={query['X-Amz-Signature']}"
        )
    _original_init(self, account_id, method, path, data, body, headers, action)


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _check_signature(self) -> None:  # type: ignore[no-untyped-def]
    query = self._presigned
    if query is None:
        return _original_check_signature(self)
    try:
        signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        expires = int(query["X-Amz-Expires"])
    except (KeyError, ValueError):
        return self._raise_access_denied()
    if datetime.now(timezone.utc) > signed_at + timedelta(seconds=expires):
        return self._raise_access_denied()
    target = urlsplit(self._path)
    pairs = [pair.partition("=") for pair in target.query.split("&") if pair]
    canonical_query = "&".join(
        f"{name}={value}" for name, _, value in sorted(pairs) if name != "X-Amz-Signature"
    )
    signed_headers = query.get("X-Amz-SignedHeaders", "host").split(";")
    values = {name.lower(): value for name, value in self._headers.items()}
    canonical_headers = "".join(f"{name}:{' '.join(values.get(name, '').split())}\n" for name in signed_headers)
    canonical_request = "\n".join(
        [self._method, target.path, canonical_query, canonical_headers, ";".join(signed_headers), "UNSIGNED-PAYLOAD"]
    )
    scope = query["X-Amz-Credential"].split("/", 1)[1]
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", query["X-Amz-Date"], scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    date, region, service, terminator = scope.split("/")
    key = ("AWS4" + self._access_key.create_credentials().secret_key).encode()
    for part in (date, region, service, terminator):
        key = _hmac(key, part)
    if not hmac.compare_digest(hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest(), query["X-Amz-Signature"]):
        self._raise_signature_does_not_match()


access_control.IAMRequestBase.__init__ = _init  # type: ignore[method-assign]
access_control.IAMRequestBase.check_signature = _check_signature  # type: ignore[method-assign]

if __name__ == "__main__":
    main(sys.argv[1:])
