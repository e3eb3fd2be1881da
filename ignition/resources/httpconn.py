"""The fast path of HttpClient: plain GETs over http.client, with a keep-alive pool.

requests costs about 70 ms to import and about 0.5 ms of CPU per request on
top of http.client (urllib3 alone 40 ms and 0.2 ms), and a files stage with
hundreds of remote contents is CPU-bound on that under the GIL
(docs/benchmarks.md, "Remote file contents"). This module sends the very
bytes requests would send (http.client writes them for both) for the requests
it can prove it renders identically, and HttpClient keeps requests for the
rest:

- `plain_target` takes an http(s) URL only if requests' re-quoting and
  urllib3's normalisation would leave it as it is: an ASCII host name or IP
  (no user info, no IPv6 zone, no trailing dot), a path and query of RFC 3986 characters
  with upper-case percent-escapes of reserved bytes only, no dot segments.
- `plain_headers` takes header names and values that requests accepts
  unchanged (check_header_validity) and http.client can encode (latin-1),
  without the framing headers that would change what urllib3 sends.
- Proxies are not handled here: a client whose config names a proxy uses
  requests for every request (HttpClient decides).

What stays in HttpClient: the retry loop, status handling, redirects (so
that each hop is checked against the rules above), error messages.
"""

from __future__ import annotations

import functools
import http.client
import re
import select
import ssl
import threading
from collections.abc import Callable, Iterable
from typing import NamedTuple
from urllib.parse import urlsplit

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# RFC 3986 pchar (unreserved, sub-delims, ":", "@") and "/", plus "%" checked below; "?" in a query.
_PATH = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*")
_QUERY = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*")
_PERCENT = re.compile(r"%([0-9A-F]{2})")
# No trailing dot: urllib3 drops it from the Host header.
_NETLOC = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)(?::[0-9]{1,5})?")
# requests.utils.check_header_validity, for str parts
_HEADER_NAME = re.compile(r"[^:\s][^:\r\n]*")
_HEADER_VALUE = re.compile(r"\S[^\r\n]*|")
_FRAMING = frozenset({"content-length", "transfer-encoding"})
_URLLIB3_SKIP = "@@@SKIP_HEADER@@@"  # urllib3.util.SKIP_HEADER: urllib3 drops a header with this value


class Target(NamedTuple):
    scheme: str
    host: str
    port: int
    path: str  # the request target: path and query

    @property
    def key(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.port


def _escapes_ok(text: str) -> bool:
    """Every "%" starts an upper-case escape of a byte that is not unreserved
    (requests would decode those, urllib3 would upper-case lower-case ones)."""
    if "%" not in text:
        return True
    escapes = _PERCENT.findall(text)
    if len(escapes) != text.count("%"):
        return False
    return not any(chr(int(h, 16)) in _UNRESERVED for h in escapes)


def plain_target(url: str) -> Target | None:
    """Where and what to send for `url`, if requests and urllib3 would send
    exactly that; None to leave the URL to requests."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme
    if scheme not in ("http", "https") or not _NETLOC.fullmatch(parts.netloc):
        return None
    host = parts.hostname
    if not host or host.startswith(".") or port == 0:
        return None
    path = parts.path or "/"
    if not _PATH.fullmatch(path) or not _QUERY.fullmatch(parts.query):
        return None
    if not (_escapes_ok(path) and _escapes_ok(parts.query)):
        return None
    if any(seg in (".", "..") for seg in path.split("/")):
        return None  # urllib3 removes dot segments
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, port or (443 if scheme == "https" else 80), path)


def plain_headers(headers: Iterable[tuple[str, str]]) -> bool:
    """Whether requests would send these headers as they are (and not refuse them)."""
    for name, value in headers:
        if not (isinstance(name, str) and isinstance(value, str)):
            return False
        if not (_HEADER_NAME.fullmatch(name) and _HEADER_VALUE.fullmatch(value)):
            return False
        if name.lower() in _FRAMING or value == _URLLIB3_SKIP:
            return False
        try:
            name.encode("latin-1")
            value.encode("latin-1")
        except UnicodeEncodeError:
            return False
    return True


@functools.cache
def urllib3_user_agent() -> str:
    """The User-Agent urllib3 adds to a request without one (after a
    redirect, which drops every header): what requests sends there too."""
    from urllib3._version import __version__  # only configs that redirect pay for it

    return f"python-urllib3/{__version__}"


class ConnectTimeout(Exception):
    """The TCP connection (or the TLS handshake) was not made in time."""


class Pool:
    """Keep-alive connections by (scheme, host, port), at most `maxsize` idle
    ones per host, like urllib3's pools (LIFO, a dropped one is replaced)."""

    def __init__(self, ssl_context: Callable[[], ssl.SSLContext], maxsize: int = 10) -> None:
        self._ssl_context = ssl_context
        self.maxsize = maxsize
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def send(self, target: Target, headers: list[tuple[str, str]], connect_timeout: float,
             read_timeout: float | None) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """GET `target` with exactly `headers` (as urllib3 would frame them);
        the connection and its response, whose headers have arrived. The
        caller gives the connection back (`release`) or closes it."""
        conn = self._take(target.key)
        try:
            if conn is None:
                conn = self._connect(target, connect_timeout)
            assert conn.sock is not None
            conn.sock.settimeout(connect_timeout)  # urllib3 sends with the connect timeout too
            keys = {name.lower() for name, _ in headers}
            conn.putrequest("GET", target.path, skip_host="host" in keys,
                            skip_accept_encoding="accept-encoding" in keys)
            if "user-agent" not in keys:
                conn.putheader("User-Agent", urllib3_user_agent())
            for name, value in headers:
                conn.putheader(name, value)
            conn.endheaders()
            conn.sock.settimeout(read_timeout)
            return conn, conn.getresponse()
        except BaseException:
            if conn is not None:
                conn.close()
            raise

    def release(self, target: Target, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(target.key, [])
            if len(idle) < self.maxsize:
                idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for c in conns:
            c.close()

    def _take(self, key: tuple[str, str, int]) -> http.client.HTTPConnection | None:
        while True:
            with self._lock:
                idle = self._idle.get(key)
                if not idle:
                    return None
                conn = idle.pop()
            if conn.sock is not None and not select.select([conn.sock], [], [], 0)[0]:
                return conn
            conn.close()  # closed by the server while idle (readable means EOF), as urllib3 checks

    def _connect(self, target: Target, timeout: float) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection
        if target.scheme == "https":
            conn = http.client.HTTPSConnection(target.host, target.port, timeout=timeout,
                                               context=self._ssl_context())
        else:
            conn = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
        try:
            conn.connect()
        except TimeoutError as e:
            conn.close()
            raise ConnectTimeout() from e
        except BaseException:
            conn.close()
            raise
        return conn
