"""An HTTP server on 127.0.0.1 that serves large generated bodies without
holding them: every body is one 1 MiB block of seeded random bytes repeated,
so its digest is computed by generating the same stream again.

Paths:
- `/plain/<MiB>`: the block repeated <MiB> times, with a Content-Length;
- `/gzip/<MiB>`: a gzip stream of concatenated members, each the block
  compressed once, which decompresses to `/plain/<MiB>`;
- `/zeros-gzip/<MiB>`: one gzip member of <MiB> MiB of zeros (a "bomb":
  about 1,000 times smaller than what it expands to), compressed on first use.
"""

from __future__ import annotations

import gzip
import hashlib
import random
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

MIB = 1 << 20
BLOCK = random.Random(13).randbytes(MIB)
GZ_BLOCK = gzip.compress(BLOCK, compresslevel=1, mtime=0)


def digest(mib: int, fn: str = "sha512") -> str:
    """`<fn>-<hex>` of `/plain/<mib>` (what `/gzip/<mib>` decompresses to)."""
    h = hashlib.new(fn)
    for _ in range(mib):
        h.update(BLOCK)
    return f"{fn}-{h.hexdigest()}"


def _gzip_zeros(mib: int) -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zero = bytes(MIB)
    out = [z.compress(zero) for _ in range(mib)]
    return b"".join(out) + z.flush()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    zeros: ClassVar[dict[int, bytes]] = {}
    lock: ClassVar[threading.Lock] = threading.Lock()

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return None

    def do_GET(self) -> None:
        parts = self.path.strip("/").split("/")
        if len(parts) != 2 or not parts[1].isdigit():
            self.send_error(404)
            return
        kind, mib = parts[0], int(parts[1])
        if kind == "plain":
            pieces, count = BLOCK, mib
        elif kind == "gzip":
            pieces, count = GZ_BLOCK, mib
        elif kind == "zeros-gzip":
            with self.lock:
                if mib not in self.zeros:
                    self.zeros[mib] = _gzip_zeros(mib)
            pieces, count = self.zeros[mib], 1
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(pieces) * count))
        self.end_headers()
        try:
            for _ in range(count):
                self.wfile.write(pieces)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a failing test run): nothing to serve any more


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client killed on purpose
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class StreamServer:
    def __init__(self) -> None:
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{path.lstrip('/')}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
