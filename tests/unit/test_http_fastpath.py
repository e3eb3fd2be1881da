"""The fast path of HttpClient (httpconn.py) against requests, byte for byte.

A raw-socket server on 127.0.0.1 records the request heads it receives and
plays scripted answers (redirects, short or chunked bodies, dropped
connections). Each scenario runs through a fast client and a requests-only
client (`fast=False`): what reaches the server, what the caller gets and
what the log says must be the same. Which way each request went is checked
too (a spy on the requests path), so a scenario cannot pass by both clients
quietly using requests.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

import pytest

import ignition
from ignition.config.types import Proxy, Timeouts
from ignition.errors import FetchError
from ignition.log import Logger
from ignition.resources import http as http_mod
from ignition.resources.http import HttpClient
from ignition.resources.httpconn import plain_headers, plain_target

net = pytest.mark.allow_socket

Reply = Callable[[str, int], bytes | None]  # (request target, the server's request count) -> raw reply


class ListSink:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def emit(self, priority: int, message: str, fields: Mapping[str, str]) -> None:
        self.lines.append(message)


class RawServer:
    """Reads request heads off kept-alive connections and answers each with
    the raw bytes `reply(target, n)` gives (None: close without answering).
    `close_after` closes the connection after each answer."""

    def __init__(self, reply: Reply, close_after: bool = False) -> None:
        self.reply = reply
        self.close_after = close_after
        self.heads: list[bytes] = []
        self.lock = threading.Lock()
        self.connections = 0
        self.closed = threading.Semaphore(0)  # released once per connection closed by the server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = int(self.sock.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self._exchange(conn)
        finally:
            self.closed.release()

    def _exchange(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as f:
            while True:
                head = b""
                while True:
                    line = f.readline()
                    if not line:
                        return
                    head += line
                    if line == b"\r\n":
                        break
                with self.lock:
                    self.heads.append(head)
                    n = len(self.heads)
                out = self.reply(head.split(b" ")[1].decode(), n)
                if out is None:
                    return
                conn.sendall(out)
                if self.close_after:
                    return

    def close(self) -> None:
        self.sock.close()


def ok(body: bytes = b"ok") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


def redirect(location: str, code: int = 302) -> bytes:
    return f"HTTP/1.1 {code} Moved\r\nLocation: {location}\r\nContent-Length: 5\r\n\r\nmoved".encode()


@pytest.fixture(autouse=True)
def _local_names_only(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def fenced(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.lower().rstrip(".").endswith(".invalid"):
            return real("127.0.0.1", port, *args, **kwargs)
        if name in ("127.0.0.1", "localhost", "::1"):
            return real(name, port, *args, **kwargs)
        raise AssertionError(f"a unit test tried to resolve {name!r}")

    monkeypatch.setattr(socket, "getaddrinfo", fenced)


@pytest.fixture
def slow_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The URLs whose attempts went through requests."""
    calls: list[str] = []
    real = HttpClient._requests_attempt

    def spy(self: HttpClient, url: str, *args: Any) -> None:
        calls.append(url)
        real(self, url, *args)

    monkeypatch.setattr(HttpClient, "_requests_attempt", spy)
    return calls


def no_sleep(seconds: float) -> None:
    return None


def run_both(reply: Reply, url_path: str, headers: list[tuple[str, str]] | None = None, *,
             close_after: bool = False, total: int | None = None, headers_timeout: int | None = None,
             ) -> dict[bool, tuple[list[bytes], str, list[str]]]:
    """For fast and not: (request heads the server saw, the result or the
    error, the log), each against a fresh server; the port is replaced by PORT."""
    out = {}
    for fast in (True, False):
        srv = RawServer(reply, close_after)
        sink = ListSink()
        c = HttpClient(Logger(sink), Timeouts(http_response_headers=headers_timeout, http_total=total),
                       fast=fast, sleep=no_sleep)
        url = url_path.replace("PORT", str(srv.port))
        try:
            result = c.get(url, headers or []).decode("latin-1")
        except FetchError as e:
            result = f"error: {e}"
        finally:
            c.close()
            srv.close()
        port = str(srv.port).encode()
        out[fast] = ([h.replace(port, b"PORT") for h in srv.heads], result.replace(str(srv.port), "PORT"),
                     [line.replace(str(srv.port), "PORT") for line in sink.lines])
    return out


def same(results: dict[bool, tuple[list[bytes], str, list[str]]]) -> tuple[list[bytes], str, list[str]]:
    assert results[True] == results[False]
    return results[True]


# what is sent


@net
@pytest.mark.parametrize(("url", "headers"), [
    ("http://127.0.0.1:PORT/c.ign", []),
    ("http://127.0.0.1:PORT", []),
    ("http://127.0.0.1:PORT?only=query", []),
    ("http://127.0.0.1:PORT/p?", []),
    ("http://127.0.0.1:PORT/a/b;c=d/e:f@g/?q=1&r=%2F%C3%A9&s=a/b?c#frag", []),
    ("http://ORIGIN.invalid:PORT/MiXeD/Case", []),
    ("http://127.0.0.1:PORT/h", [("user-agent", "custom/1"), ("Accept", "text/plain"), ("X-Token", "first"),
                                 ("x-token", "second"), ("X-Empty", ""), ("X-Latin", "caf\xe9")]),
    ("http://127.0.0.1:PORT/h", [("Host", "other.example"), ("Accept-Encoding", "gzip")]),
    ("http://127.0.0.1:PORT/h", [("Authorization", "Bearer x y z"), ("X-Colon", "a:b")]),
])
def test_plain_requests_are_sent_as_requests_sends_them(url: str, headers: list[tuple[str, str]],
                                                        slow_calls: list[str]) -> None:
    heads, result, _log = same(run_both(lambda target, n: ok(), url, headers))
    assert result == "ok" and len(heads) == 1
    assert len(slow_calls) == 1  # the requests client's only; the fast one took its own path


@net
@pytest.mark.parametrize(("url", "headers"), [
    ("http://origin.invalid.:PORT/trailing-dot", []),  # urllib3 drops the dot from Host
    ("http://127.0.0.1:PORT/%41", []),                 # requests decodes escapes of unreserved bytes
    ("http://127.0.0.1:PORT/%2f", []),                 # urllib3 upper-cases escapes
    ("http://127.0.0.1:PORT/100%", []),                # requests escapes a bare %
    ("http://127.0.0.1:PORT/a b", []),
    ("http://127.0.0.1:PORT/caf\xe9", []),
    ("http://127.0.0.1:PORT/a/../b/./c", []),          # urllib3 removes dot segments
    ("http://127.0.0.1:PORT/[x]", []),
    ("http://127.0.0.1:PORT/x?q=[1]|{2}", []),
    ("http://user:pa%73s@127.0.0.1:PORT/x", []),       # requests sends Basic auth from the URL
    ("http://127.0.0.1:PORT/h", [("X-Lead", " space")]),
    ("http://127.0.0.1:PORT/h", [("Content-Length", "0")]),
])
def test_other_requests_go_through_requests(url: str, headers: list[tuple[str, str]],
                                            slow_calls: list[str]) -> None:
    heads, result, _log = same(run_both(lambda target, n: ok(), url, headers, total=3))
    assert len(slow_calls) == 2  # both clients
    if headers == [("X-Lead", " space")]:  # requests refuses it: final, not retried until httpTotal
        assert result.startswith("error: failed to fetch resource") and "InvalidHeader" in result
        assert heads == []
    else:
        assert result == "ok"


@pytest.mark.parametrize("url", [
    "http://[::1]:8080/x", "https://a.example/x?y=%C3%A9", "http://a.example:80",
])
def test_plain_targets(url: str) -> None:
    assert plain_target(url) is not None


@pytest.mark.parametrize("url", [
    "ftp://a.example/x", "http:///x", "http://", "http://a.example:0/x", "http://a.example:99999/x",
    "http://a.example:/x", "http://[fe80::1%25eth0]/x", "http://b\xfccher.example/x", "http://.a.example/x",
    "http://a_b!.example/x", "http://a.example/%7e", "http://a.example/x#%zz", "http://a.example/\x00",
])
def test_not_plain_targets(url: str) -> None:
    if url.endswith("#%zz"):  # the fragment is never sent, so it does not matter
        assert plain_target(url) is not None
    else:
        assert plain_target(url) is None


def test_plain_headers() -> None:
    assert plain_headers([("X-A", "b c"), ("X-B", ""), ("X-C", "caf\xe9")])
    for bad in [(" XA", "b"), ("X:A", "b"), ("X-A", "@@@SKIP_HEADER@@@"), ("X-A", "b\r\nX-B: c"),
                ("X-A", "\u20ac"), ("Transfer-Encoding", "x"), ("X-A", "\tb")]:
        assert not plain_headers([bad])


# redirects


@net
@pytest.mark.parametrize("location", [
    "/final", "final", "../final?x=1", "http://other.invalid:PORT/final", "//other.invalid:PORT/final#f",
    "/final#frag",
])
@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_redirects_drop_every_header_as_with_requests(location: str, code: int, slow_calls: list[str]) -> None:
    def reply(target: str, n: int) -> bytes:
        if "final" in target:
            return ok(b"moved here")
        return redirect(location.replace("PORT", str(port_of[0])), code)

    port_of = [0]

    def run() -> dict[bool, tuple[list[bytes], str, list[str]]]:
        out = {}
        for fast in (True, False):
            srv = RawServer(reply)
            port_of[0] = srv.port
            c = HttpClient(Logger(ListSink()), fast=fast)
            try:
                got = c.get(f"http://origin.invalid:{srv.port}/a/start?q=1#start", [("X-Secret", "s")])
            finally:
                c.close()
                srv.close()
            port = str(srv.port).encode()
            out[fast] = ([h.replace(port, b"PORT") for h in srv.heads], got.decode(), [])
        return out

    heads, result, _ = same(run())
    assert result == "moved here" and len(heads) == 2
    assert b"X-Secret" in heads[0] and b"X-Secret" not in heads[1]
    assert b"Ignition/" not in heads[1]
    assert len(slow_calls) == 1


@net
def test_a_redirect_the_fast_path_cannot_send_starts_the_attempt_over_through_requests(
        slow_calls: list[str]) -> None:
    def reply(target: str, n: int) -> bytes:
        return ok(b"there") if target.startswith("/caf") else redirect("/caf\xe9 x")

    srv = RawServer(reply)
    try:
        c = HttpClient(Logger(ListSink()))
        assert c.get(f"http://127.0.0.1:{srv.port}/start") == b"there"
    finally:
        srv.close()
    # The fast path's first hop, then requests from the start: nothing was written by then.
    assert [h.split(b" ")[1] for h in srv.heads] == [b"/start", b"/start", b"/caf%C3%A9%20x"]
    assert slow_calls == [f"http://127.0.0.1:{srv.port}/start"]


@net
def test_redirect_loops_end_alike() -> None:
    heads, result, _log = same(run_both(lambda target, n: redirect("/loop"), "http://127.0.0.1:PORT/loop"))
    assert result == "error: failed to fetch resource http://127.0.0.1:PORT/loop: more than 10 redirects"
    assert len(heads) == 11


# failures: same classification, same words


@net
@pytest.mark.parametrize(("name", "reply", "close_after"), [
    ("404", lambda t, n: b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", False),
    ("403", lambda t, n: b"HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nno!", False),
    ("302 without Location", lambda t, n: b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n", False),
    ("500 then ok", lambda t, n: b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n" if n == 1 else ok(), False),
    ("no answer then ok", lambda t, n: None if n == 1 else ok(), False),
    ("garbage then ok", lambda t, n: b"NOT HTTP\r\n\r\n" if n == 1 else ok(), True),
    ("short body", lambda t, n: b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789", True),
    ("chunked", lambda t, n: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
     False),
    ("chunk cut short", lambda t, n: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc", True),
    ("until close", lambda t, n: b"HTTP/1.0 200 OK\r\n\r\nall of it", True),
    ("204", lambda t, n: b"HTTP/1.1 204 No Content\r\n\r\n", False),
    ("gzip not undone", lambda t, n: b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nxyz",
     False),
])
def test_outcomes_and_logs_are_the_same(name: str, reply: Reply, close_after: bool) -> None:
    same(run_both(reply, "http://127.0.0.1:PORT/f?token=S3cretT0ken", close_after=close_after, total=3))


@net
def test_malformed_chunks_are_retried_both_ways() -> None:
    def reply(target: str, n: int) -> bytes:
        if n == 1:
            return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"
        return ok()

    heads, result, log = same(run_both(reply, "http://127.0.0.1:PORT/f", close_after=True))
    assert result == "ok" and len(heads) == 2
    assert "attempt #1 failed: reading the body: ValueError: invalid literal for int()" in "\n".join(log)


@net
def test_connection_refused_reads_the_same() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    logs = []
    for fast in (True, False):
        sink = ListSink()
        clock = [0.0]

        def sleep(d: float, clock: list[float] = clock) -> None:
            clock[0] += d

        def now(clock: list[float] = clock) -> float:
            return clock[0]

        c = HttpClient(Logger(sink), Timeouts(http_total=1), fast=fast, sleep=sleep, monotonic=now)
        with pytest.raises(FetchError) as e:
            c.get(f"http://127.0.0.1:{port}/x")
        logs.append((str(e.value), sink.lines))
    assert logs[0] == logs[1]
    assert "ConnectionRefusedError: Connection refused" in logs[0][0]


@net
def test_response_headers_timeout_reads_the_same() -> None:
    import time

    def reply(target: str, n: int) -> bytes:
        if n == 1:
            time.sleep(1.5)
        return ok()

    results = run_both(reply, "http://127.0.0.1:PORT/slow", headers_timeout=1)
    for fast in (True, False):
        _heads, result, log = results[fast]
        assert result == "ok"
        assert "attempt #1 failed: no response within the httpResponseHeaders timeout" in "\n".join(log)


# the pool


@net
def test_connections_are_kept_alive_and_a_dropped_one_is_replaced_without_a_retry() -> None:
    srv = RawServer(lambda target, n: ok(), close_after=True)  # answers, then closes while idle
    sink = ListSink()
    try:
        c = HttpClient(Logger(sink))
        for _ in range(3):
            assert c.get(f"http://127.0.0.1:{srv.port}/x") == b"ok"
            srv.closed.acquire()  # the server has closed the kept connection before the next request
    finally:
        srv.close()
    assert srv.connections == 3
    assert not any("failed" in line for line in sink.lines)
    kept = RawServer(lambda target, n: ok())
    try:
        c = HttpClient(Logger(sink))
        for _ in range(3):
            assert c.get(f"http://127.0.0.1:{kept.port}/x") == b"ok"
    finally:
        kept.close()
    assert kept.connections == 1


def test_a_proxy_in_the_config_keeps_the_client_on_requests() -> None:
    logger = Logger(ListSink())
    assert HttpClient(logger).fast
    assert not HttpClient(logger, fast=False).fast
    assert not HttpClient(logger, proxy=Proxy(http_proxy="http://p:3128")).fast
    assert not HttpClient(logger, proxy=Proxy(https_proxy="http://p:3128")).fast
    assert HttpClient(logger, proxy=Proxy(no_proxy=("a.example",))).fast


@net
@pytest.mark.allow_subprocess
def test_the_fast_path_does_not_import_requests() -> None:
    srv = RawServer(lambda target, n: ok(b"fetched"))
    code = (
        "import sys\n"
        "from ignition.log import Logger\n"
        "from ignition.resources.http import HttpClient\n"
        "class S:\n"
        "    def emit(self, *a): pass\n"
        f"c = HttpClient(Logger(S()))\n"
        f"print(c.get('http://127.0.0.1:{srv.port}/x').decode(), 'requests' in sys.modules, "
        "'urllib3' in sys.modules)\n"
    )
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             cwd=str(__import__("pathlib").Path(ignition.__file__).parents[1])).stdout
    finally:
        srv.close()
    assert out.split() == ["fetched", "False", "False"]


def test_user_agent_after_a_redirect_is_urllib3s() -> None:
    import urllib3

    from ignition.resources.httpconn import urllib3_user_agent

    assert urllib3_user_agent() == f"python-urllib3/{urllib3.__version__}"


def test_redirect_statuses_are_requests_own() -> None:
    from requests.sessions import REDIRECT_STATI

    assert set(http_mod._REDIRECTS) == set(REDIRECT_STATI)

