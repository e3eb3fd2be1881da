"""One fake HTTP server on 127.0.0.1 per test module (pytest-httpserver), as fixtures.

A test module takes them with `_module_server, server = fakeserver.fixtures()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer


def fixtures(**env_paths: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """`_module_server`, started once per test module, and the per-test `server`: the
    same, cleared before and after the test, with each environment variable of
    `env_paths` set to the server's base URL followed by its path."""

    @pytest.fixture(scope="module", name="_module_server")
    def module_server() -> Iterator[HTTPServer]:
        srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        srv.start()
        yield srv
        srv.stop()

    @pytest.fixture(name="server")
    def server(_module_server: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[HTTPServer]:
        _module_server.clear()
        base = f"http://127.0.0.1:{_module_server.port}"
        for var, path in env_paths.items():
            monkeypatch.setenv(var, base + path)
        yield _module_server
        _module_server.clear()

    return module_server, server
