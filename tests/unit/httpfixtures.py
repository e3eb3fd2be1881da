"""Local HTTP servers shared by the unit tests of HTTP fetching (test_http.py,
test_parallel_fetch.py). Every server listens on 127.0.0.1 only; tests that use
one must be marked allow_socket.

A test module uses the fixtures by binding them to names of its own (pytest
looks fixtures up among the module's globals):
`module_http_server = httpfixtures.module_http_server` and
`server = httpfixtures.server`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pytest_httpserver import HTTPServer


@pytest.fixture(scope="module")
def module_http_server() -> Iterator[HTTPServer]:
    # One threaded server per test module (stopping one takes half a second);
    # `server` hands it to each test with no handlers and an empty log.
    s = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    s.start()
    yield s
    s.stop()


@pytest.fixture
def server(module_http_server: HTTPServer) -> Iterator[HTTPServer]:
    module_http_server.clear()
    yield module_http_server
    module_http_server.clear()


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing and answers with `reply`."""

    def reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class ThreadedServer:
    """A ThreadingHTTPServer on 127.0.0.1 serving `handler` from a daemon
    thread, for what werkzeug's test server cannot play (kept-alive HTTP/1.1
    connections, a forward proxy). Close it when done."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
