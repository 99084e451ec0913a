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

if __name__ == "__main__":
    main(sys.argv[1:])
