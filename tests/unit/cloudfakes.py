"""What the cloud storage tests (test_s3.py, test_gcs.py) share: a fence that fails
any name resolution or connection to a non-loopback address, and one fake HTTP
server on 127.0.0.1 per test module that the resource's environment overrides
point at.

A test module takes the fixtures with

    _loopback_only, _module_server, server, sink = cloudfakes.fixtures(ENV_VAR="/path", ...)

where each ENV_VAR is set to the fake server's base URL followed by its path.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from tests.unit import fakeserver
from tests.unit.logsink import ListSink


class Recorder:
    """An object handler that keeps the requests it served."""

    def __init__(self, body: bytes = b"object-bytes", status: int = 200) -> None:
        self.body = body
        self.status = status
        self.requests: list[Request] = []

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        return Response(self.body, status=self.status)


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0]).is_loopback
    except ValueError:
        return host == "localhost"


def fence_loopback(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Refuse to resolve or connect to anything but loopback; records what was refused."""
    refused: list[str] = []
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if not is_loopback(name):
            refused.append(name)
            raise AssertionError(f"a unit test tried to resolve non-loopback {name!r}")
        return real_getaddrinfo(host, port, *args, **kwargs)

    def connect(self: socket.socket, address: Any) -> None:
        if isinstance(address, tuple) and not is_loopback(str(address[0])):
            refused.append(str(address[0]))
            raise AssertionError(f"a unit test tried to connect to non-loopback {address[0]!r}")
        real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return refused


def fixtures(**env_paths: str) -> tuple[Callable[..., Any], ...]:
    """The autouse fence `_loopback_only`, the module's `_module_server`, the per-test
    `server` (cleared, with each of `env_paths` set to its URL) and a `sink`."""

    @pytest.fixture(autouse=True, name="_loopback_only")
    def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[str]:
        return fence_loopback(monkeypatch)

    @pytest.fixture(name="sink")
    def sink() -> ListSink:
        return ListSink()

    return (loopback_only, *fakeserver.fixtures(**env_paths), sink)
