"""Parallel fetching of independent resources (ignition.resources.parallel)
and the files stage built on it: results in config order, real and bounded
concurrency over reused connections, the error of the lowest failing index
whatever the timing, and nothing written when one resource is bad.

Every server listens on 127.0.0.1 (pytest-httpserver)."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from ignition.config.types import Resource, Verification
from ignition.errors import FetchError, StageError
from ignition.log import Logger
from ignition.resources import parallel
from ignition.resources.fetcher import Fetcher
from ignition.resources.parallel import FetchFailed, fetch_all
from ignition.stages.files.nodes import apply_nodes
from tests.unit import httpfixtures
from tests.unit.httpfixtures import ThreadedServer
from tests.unit.test_files_support import ListSink, config, make_env, sha256, snapshot, text_url

net = pytest.mark.allow_socket

# The shared local server, under the names the tests ask for (pytest finds fixtures by name here).
module_http_server = httpfixtures.module_http_server
server = httpfixtures.server


def fetcher() -> Fetcher:
    return Fetcher(Logger(ListSink()))


def res(url: str, verification: str | None = None) -> Resource:
    return Resource(source=url, verification=Verification(hash=verification))


class InFlight:
    """Counts the requests being handled at once; optionally holds each one
    until `hold` of them are in flight together (fails after a timeout if the
    client never gets there, that is, if it fetches serially)."""

    def __init__(self, hold: int = 0, delay: float = 0.0) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0
        self.ports: set[str] = set()
        self.barrier = threading.Barrier(hold, timeout=5) if hold else None
        self.delay = delay

    def __call__(self, request: Request) -> Response:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self.ports.add(str(request.environ.get("REMOTE_PORT")))
        try:
            if self.barrier is not None:
                try:
                    self.barrier.wait()
                except threading.BrokenBarrierError:
                    return Response(b"never got concurrent requests", status=400)
            time.sleep(self.delay)
            return Response(request.path.encode(), status=200)
        finally:
            with self.lock:
                self.now -= 1


# order and concurrency


@net
def test_results_come_back_in_the_order_asked_even_when_later_ones_finish_first(server: HTTPServer) -> None:
    def slow_first(request: Request) -> Response:
        n = int(request.path.strip("/"))
        time.sleep(0.02 * (8 - n))  # #0 answers last
        return Response(f"body {n}".encode())

    server.expect_request("").respond_with_handler(slow_first)
    urls = [res(server.url_for(f"/{n}")) for n in range(8)]
    assert fetch_all(fetcher(), urls, workers=8) == [f"body {n}".encode() for n in range(8)]


@net
def test_requests_really_run_concurrently(server: HTTPServer) -> None:
    # The handler lets no request through until 4 are in flight: serial
    # fetching would get 400s after the barrier's timeout.
    counter = InFlight(hold=4)
    server.expect_request("").respond_with_handler(counter)
    urls = [res(server.url_for(f"/f{n}")) for n in range(8)]
    got = fetch_all(fetcher(), urls, workers=4)
    assert got == [f"/f{n}".encode() for n in range(8)]
    assert counter.peak == 4


class KeepAliveServer(ThreadedServer):
    """An HTTP/1.1 server that keeps connections open (werkzeug's test server
    closes each one), counting requests in flight and client ports; each
    request may be held until `hold` are in flight together."""

    def __init__(self, hold: int = 0, delay: float = 0.0) -> None:
        counter = InFlight(hold, delay)
        self.counter = counter

        class Handler(httpfixtures.QuietHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with counter.lock:
                    counter.now += 1
                    counter.peak = max(counter.peak, counter.now)
                    counter.ports.add(str(self.client_address[1]))
                status = 200
                try:
                    if counter.barrier is not None:
                        counter.barrier.wait()
                    time.sleep(counter.delay)
                except threading.BrokenBarrierError:
                    status = 400  # not retried: a serial client fails fast
                finally:
                    with counter.lock:
                        counter.now -= 1
                self.reply(status, self.path.encode())

        super().__init__(Handler)


@pytest.fixture
def keepalive() -> Iterator[type[KeepAliveServer]]:
    made: list[KeepAliveServer] = []

    class Made(KeepAliveServer):
        def __init__(self, hold: int = 0, delay: float = 0.0) -> None:
            super().__init__(hold, delay)
            made.append(self)

    yield Made
    for s in made:
        s.close()


@net
def test_the_pool_is_bounded_and_reuses_its_connections(
        keepalive: type[KeepAliveServer], caplog: pytest.LogCaptureFixture) -> None:
    srv = keepalive(delay=0.01)
    urls = [res(f"{srv.url}/f{n}") for n in range(40)]
    with caplog.at_level(logging.WARNING, logger="urllib3"):
        assert fetch_all(fetcher(), urls, workers=3) == [f"/f{n}".encode() for n in range(40)]
    assert srv.counter.peak <= 3
    assert len(srv.counter.ports) <= 3  # 40 requests over at most 3 kept-alive connections
    assert "Connection pool is full" not in caplog.text


@net
def test_more_workers_than_the_default_pool_size_keep_every_connection(
        keepalive: type[KeepAliveServer], caplog: pytest.LogCaptureFixture) -> None:
    # requests' adapters keep 10 connections per host by default; 16 workers
    # need 16, or urllib3 opens extra ones and throws them away.
    srv = keepalive(hold=16)
    f = fetcher()
    with caplog.at_level(logging.WARNING, logger="urllib3"):
        assert len(fetch_all(f, [res(f"{srv.url}/x{n}") for n in range(48)], workers=16)) == 48
    assert "Connection pool is full" not in caplog.text
    assert len(srv.counter.ports) == 16
    for adapter in f.http_client().session.adapters.values():
        assert vars(adapter)["_pool_maxsize"] >= 16


def test_data_urls_are_decoded_without_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a thread pool was started for data URLs")

    monkeypatch.setattr(parallel, "ThreadPoolExecutor", no_pool)
    urls = [res(text_url(f"line {n}\n")) for n in range(50)] + [Resource()]
    assert fetch_all(fetcher(), urls) == [f"line {n}\n".encode() for n in range(50)] + [b""]


# errors


@net
@pytest.mark.parametrize("attempt", range(3))
def test_the_lowest_failing_index_is_reported_even_when_a_later_one_fails_first(
        server: HTTPServer, attempt: int) -> None:
    def handler(request: Request) -> Response:
        if request.path == "/2":
            time.sleep(0.15)  # fails last in time, first in order
            return Response(b"gone", status=404)
        if request.path == "/5":
            return Response(b"gone", status=404)
        return Response(b"ok")

    server.expect_request("").respond_with_handler(handler)
    urls = [res(server.url_for(f"/{n}")) for n in range(8)]
    with pytest.raises(FetchFailed) as exc:
        fetch_all(fetcher(), urls, workers=8)
    assert exc.value.index == 2
    assert isinstance(exc.value.error, FetchError)
    assert "/2" in str(exc.value.error)


@net
def test_an_inline_failure_and_a_remote_one_lowest_index_wins(server: HTTPServer) -> None:
    def handler(request: Request) -> Response:
        time.sleep(0.1)
        return Response(b"gone", status=404) if request.path == "/0" else Response(b"ok")

    server.expect_request("").respond_with_handler(handler)
    bad_hash = sha256(b"something else")
    urls = [res(server.url_for("/0")), res(text_url("x"), bad_hash), res(server.url_for("/2"))]
    with pytest.raises(FetchFailed) as exc:
        fetch_all(fetcher(), urls)
    assert exc.value.index == 0
    urls[0] = res(server.url_for("/ok"))
    with pytest.raises(FetchFailed) as exc:
        fetch_all(fetcher(), urls)
    assert exc.value.index == 1
    assert "hash verification failed" in str(exc.value.error)


@net
def test_a_failure_cancels_what_has_not_started(server: HTTPServer) -> None:
    def handler(request: Request) -> Response:
        if request.path == "/0":
            return Response(b"gone", status=404)
        time.sleep(0.05)
        return Response(b"ok")

    server.expect_request("").respond_with_handler(handler)
    urls = [res(server.url_for(f"/{n}")) for n in range(40)]
    with pytest.raises(FetchFailed) as exc:
        fetch_all(fetcher(), urls, workers=2)
    assert exc.value.index == 0
    assert len(server.log) < 10  # not the 40 a run to the end would make


@net
def test_no_fetch_outlives_the_call(server: HTTPServer) -> None:
    counter = InFlight(delay=0.05)
    server.expect_request("/slow").respond_with_handler(counter)
    server.expect_request("/gone").respond_with_data(b"", status=404)
    urls = [res(server.url_for("/gone"))] + [res(server.url_for("/slow")) for _ in range(4)]
    with pytest.raises(FetchFailed):
        fetch_all(fetcher(), urls, workers=4)
    assert counter.now == 0
    assert not [t for t in threading.enumerate() if t.name.startswith("ignition-fetch")]


# the files stage


@net
def test_files_stage_contents_and_appends_in_config_order(server: HTTPServer, tmp_path: Path) -> None:
    def handler(request: Request) -> Response:
        n = int(request.path.rsplit("/", 1)[1])
        time.sleep(0.01 * (n % 4))
        return Response(f"[{n}]".encode())

    server.expect_request("").respond_with_handler(handler)
    files = []
    for i in range(12):
        files.append({"path": f"/etc/f{i}",
                      "contents": {"source": server.url_for(f"/c/{i}") if i % 2 else text_url(f"<{i}>")},
                      "append": [{"source": server.url_for(f"/a/{10 * i + j}")} for j in range(3)]
                      + [{"source": text_url("|end")}]})
    e = make_env(tmp_path, config(storage={"files": files}))
    apply_nodes(e.ctx)
    for i in range(12):
        head = f"[{i}]" if i % 2 else f"<{i}>"
        tail = "".join(f"[{10 * i + j}]" for j in range(3))
        assert e.p(f"/etc/f{i}").read_text() == head + tail + "|end"


@net
def test_a_bad_hash_in_one_file_writes_nothing(server: HTTPServer, tmp_path: Path) -> None:
    server.expect_request("").respond_with_handler(lambda r: Response(r.path.encode()))
    files: list[dict[str, Any]] = [{"path": f"/etc/f{i}", "contents": {"source": server.url_for(f"/{i}"),
                                                 "verification": {"hash": sha256(f"/{i}".encode())}}}
             for i in range(10)]
    files[6]["contents"]["verification"]["hash"] = sha256(b"not what is served")
    e = make_env(tmp_path, config(storage={"files": files, "directories": [{"path": "/var/d"}]}))
    before = snapshot(e.root)
    with pytest.raises(StageError) as exc:
        apply_nodes(e.ctx)
    assert "storage.files.6 (/etc/f6)" in str(exc.value)
    assert "hash verification failed" in str(exc.value)
    assert snapshot(e.root) == before


@net
def test_files_stage_reports_the_first_failing_file_in_its_order(server: HTTPServer, tmp_path: Path) -> None:
    def handler(request: Request) -> Response:
        if request.path == "/1":
            time.sleep(0.1)
        return Response(b"gone", status=404) if request.path in ("/1", "/3") else Response(b"ok")

    server.expect_request("").respond_with_handler(handler)
    files = [{"path": f"/etc/f{i}", "append": [{"source": server.url_for(f"/{i}")}]} for i in range(5)]
    e = make_env(tmp_path, config(storage={"files": files}))
    with pytest.raises(StageError, match=r"fetching append 0 of storage\.files\.1 \(/etc/f1\): resource not found"):
        apply_nodes(e.ctx)
    assert not (e.root / "etc").exists()


def test_files_stage_with_data_urls_only_matches_the_bytes(tmp_path: Path) -> None:
    blob = hashlib.sha512(b"x").hexdigest()
    files = [{"path": f"/d{i % 3}/f{i}", "contents": {"source": text_url(f"{blob}{i}")}} for i in range(30)]
    e = make_env(tmp_path, config(storage={"files": files}))
    apply_nodes(e.ctx)
    assert all(e.p(f"/d{i % 3}/f{i}").read_text() == f"{blob}{i}" for i in range(30))


# a failure stops the siblings' retries


def retrying_and_failing(server: HTTPServer) -> None:
    """/retry answers 503 for ever (retried with backoff, no httpTotal: it would
    never end on its own); /gone is 404 (fails for good at once); /slow-gone is
    404 after 150 ms; /ok is 200."""
    def handler(request: Request) -> Response:
        if request.path == "/retry":
            return Response(b"busy", status=503)
        if request.path == "/slow-gone":
            time.sleep(0.15)
            return Response(b"gone", status=404)
        if request.path == "/gone":
            return Response(b"gone", status=404)
        return Response(b"ok")

    server.expect_request("").respond_with_handler(handler)


def requests_to(server: HTTPServer, path: str) -> int:
    return sum(1 for req, _ in server.log if req.path == path)


# The first backoff wait becomes 60 s (Ignition doubles the initial 100 ms
# before it): a sibling that slept through it would hold the call for a
# minute, so "returned well within 20 s" shows the sleep was interrupted,
# whatever the load on the machine, without timing a fast path.
LONG_WAIT = 60.0
INTERRUPTED = 20.0


@pytest.fixture
def long_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    from ignition.resources import http

    monkeypatch.setattr(http, "INITIAL_BACKOFF", LONG_WAIT / 2)


@net
@pytest.mark.usefixtures("long_backoff")
@pytest.mark.parametrize("order", ["retry-first", "gone-first"])
def test_a_failure_stops_a_sibling_that_keeps_retrying(server: HTTPServer, order: str) -> None:
    retrying_and_failing(server)
    paths = ["/retry", "/ok", "/gone"] if order == "retry-first" else ["/gone", "/ok", "/retry"]
    start = time.monotonic()
    with pytest.raises(FetchFailed) as exc:
        fetch_all(fetcher(), [res(server.url_for(p)) for p in paths], workers=3)
    elapsed = time.monotonic() - start
    # /retry was in its first backoff sleep, interrupted at once: a
    # cancelled resource is not a failure, so /gone is reported either way.
    assert paths[exc.value.index] == "/gone"
    assert "resource not found" in str(exc.value.error)
    assert elapsed < INTERRUPTED
    assert requests_to(server, "/retry") <= 1  # none when /gone failed before its first attempt
    seen = len(server.log)
    time.sleep(0.5)  # no attempt is made after the call returned
    assert len(server.log) == seen
    assert not [t for t in threading.enumerate() if t.name.startswith("ignition-fetch")]


@net
@pytest.mark.parametrize("attempt", range(3))
def test_the_error_is_the_first_in_config_order_whatever_fails_first(server: HTTPServer, attempt: int) -> None:
    retrying_and_failing(server)
    paths = ["/retry", "/slow-gone", "/retry", "/gone", "/ok"]
    with pytest.raises(FetchFailed) as exc:
        fetch_all(fetcher(), [res(server.url_for(p)) for p in paths], workers=5)
    # /gone fails first in time; /slow-gone's first attempt was already on the
    # wire and fails for good too, and comes first in order; the /retry ones
    # stopped retrying and are no failure.
    assert exc.value.index == 1
    assert "/slow-gone" in str(exc.value.error)


@net
@pytest.mark.usefixtures("long_backoff")
def test_an_inline_failure_stops_remote_retries(server: HTTPServer) -> None:
    retrying_and_failing(server)
    bad = res(text_url("x"), sha256(b"something else"))
    start = time.monotonic()
    with pytest.raises(FetchFailed) as exc:
        fetch_all(fetcher(), [res(server.url_for("/retry")), bad, res(server.url_for("/retry"))], workers=2)
    assert exc.value.index == 1
    assert time.monotonic() - start < INTERRUPTED


def test_http_get_stops_retrying_when_cancelled() -> None:
    from ignition.resources.cancel import Cancelled, cancel_scope
    from ignition.resources.http import HttpClient

    event = threading.Event()
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:  # the second backoff is where the sibling fails
        sleeps.append(seconds)
        if len(sleeps) == 2:
            event.set()

    client = HttpClient(Logger(ListSink()), sleep=sleep)
    attempts = 0

    def always_retry(*args: Any, **kwargs: Any) -> bytes:
        nonlocal attempts
        attempts += 1
        from ignition.resources.http import _Retry

        raise _Retry("HTTP 503")

    client._attempt = always_retry  # type: ignore[method-assign]
    with cancel_scope(event), pytest.raises(Cancelled, match="stopped retrying after 2 attempts"):
        client.get("http://127.0.0.1:9/x")
    assert attempts == 2 and sleeps == [0.2, 0.4]
