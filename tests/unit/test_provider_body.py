"""A provider's config body is capped and counted as it arrives (issue 13).

The cap (stream.MEMORY_LIMIT, 64 MiB) is lowered to 1 MiB here so that the
bodies stay small; what is shown is that a body past the cap is refused with
a message naming its source, that an endless body is not read to its end
(the server is stopped by the client going away, not by running out), that
gzip user data cannot expand past the cap, and that a body shorter than its
Content-Length fails at once instead of being retried.
"""

from __future__ import annotations

import base64
import gzip
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from ignition.errors import FetchError
from ignition.providers.akamai import AkamaiProvider
from ignition.providers.digitalocean import DigitalOceanProvider
from ignition.providers.file import FileProvider
from ignition.providers.qemu import QemuProvider
from ignition.providers.scaleway import ScalewayProvider
from ignition.resources import stream
from tests.unit.test_providers import Setup as LocalSetup
from tests.unit.test_providers import make_fw_cfg
from tests.unit.test_providers_cloud import AKAMAI_TOKEN, CONFIG, Setup, connections, setup_for

pytestmark = pytest.mark.allow_socket
__all__ = ["connections"]  # the guard that refuses any host but loopback, autouse

MIB = 1 << 20
USER_DATA = "/metadata/v1/user-data"  # DigitalOcean's, one plain GET through requests


@pytest.fixture(autouse=True)
def one_mib_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "MEMORY_LIMIT", MIB)


def test_a_body_at_the_cap_is_read(tmp_path: Path, httpserver: HTTPServer) -> None:
    body = b'{"ignition":{"version":"3.4.0"},"x":"' + b"a" * (MIB - 40) + b'"}'
    assert len(body) <= MIB
    httpserver.expect_request(USER_DATA).respond_with_data(body)
    assert DigitalOceanProvider().fetch_config(setup_for(tmp_path, httpserver, "digitalocean").ctx) == body


def test_an_endless_body_is_refused_without_reading_it(tmp_path: Path, httpserver: HTTPServer) -> None:
    """64 MiB offered in chunks with no Content-Length: refused past 1 MiB;
    the server got to hand out only what the sockets buffer on the way."""
    sent = {"bytes": 0}

    def chunks() -> Iterator[bytes]:
        block = b" " * (64 * 1024)
        for _ in range(1024):
            sent["bytes"] += len(block)
            yield block

    def handler(request: Request) -> Response:
        return Response(chunks(), status=200)

    httpserver.expect_request(USER_DATA).respond_with_handler(handler)
    s = setup_for(tmp_path, httpserver, "digitalocean")
    with pytest.raises(FetchError) as e:
        DigitalOceanProvider().fetch_config(s.ctx)
    assert "larger than 1 MiB, the limit for a config" in str(e.value)
    assert f"{httpserver.url_for(USER_DATA)}" in str(e.value)
    assert sent["bytes"] < 32 * MIB
    assert len(httpserver.log) == 1  # refused, not retried


def test_a_declared_length_over_the_cap_is_refused(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request(USER_DATA).respond_with_data(b"{" * (2 * MIB))
    s = setup_for(tmp_path, httpserver, "digitalocean")
    with pytest.raises(FetchError, match="larger than 1 MiB"):
        DigitalOceanProvider().fetch_config(s.ctx)
    assert len(httpserver.log) == 1


def test_gzip_user_data_cannot_expand_past_the_cap(tmp_path: Path, httpserver: HTTPServer) -> None:
    """Akamai's user data may be gzip: 64 MiB of zeros in about 64 KiB."""
    bomb = gzip.compress(b"\0" * (64 * MIB))
    assert len(bomb) < MIB
    httpserver.expect_request("/v1/token", method="PUT").respond_with_data(AKAMAI_TOKEN + "\n")
    httpserver.expect_request("/v1/user-data", method="GET").respond_with_data(base64.b64encode(bomb))
    s = setup_for(tmp_path, httpserver, "akamai")
    with pytest.raises(FetchError, match=r"the Akamai metadata service \(once decompressed\) is larger than 1 MiB"):
        AkamaiProvider().fetch_config(s.ctx)


def test_gzip_user_data_of_two_members_still_reads(tmp_path: Path, httpserver: HTTPServer) -> None:
    half = len(CONFIG) // 2
    payload = gzip.compress(CONFIG[:half]) + gzip.compress(CONFIG[half:])
    httpserver.expect_request("/v1/token", method="PUT").respond_with_data(AKAMAI_TOKEN + "\n")
    httpserver.expect_request("/v1/user-data", method="GET").respond_with_data(base64.b64encode(payload))
    assert AkamaiProvider().fetch_config(setup_for(tmp_path, httpserver, "akamai").ctx) == CONFIG


class ShortServer:
    """Answers every request with 10 of the 1000 bytes its Content-Length
    announces, then closes; counts the requests."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.requests = 0
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                self.requests += 1
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n0123456789")


@pytest.fixture
def short_server() -> Iterator[ShortServer]:
    srv = ShortServer()
    yield srv
    srv.sock.close()


@pytest.mark.parametrize("cls", [DigitalOceanProvider, ScalewayProvider], ids=["requests", "http.client"])
def test_a_body_shorter_than_its_content_length_fails_at_once(
        tmp_path: Path, short_server: ShortServer, cls: type[DigitalOceanProvider | ScalewayProvider]) -> None:
    """Without the rule the wait for the service retries until -fetch-timeout
    (here 30 s) and then fails with a timeout: one request shows it did not."""
    s = Setup(tmp_path, urls={cls.name: short_server.base}, fetch_timeout=30.0)
    with pytest.raises(FetchError) as e:
        cls().fetch_config(s.ctx)
    assert "the server sent 10 of the 1000 bytes its Content-Length announced" in str(e.value)
    assert short_server.base in str(e.value)
    assert short_server.requests == 1


def test_a_config_file_over_the_cap_is_refused(tmp_path: Path) -> None:
    setup = LocalSetup(tmp_path)
    Path(setup.env.config_file).write_bytes(b" " * (MIB + 1))
    with pytest.raises(FetchError, match=rf"the config from {setup.env.config_file} is larger than 1 MiB"):
        FileProvider().fetch_config(setup.ctx)


def test_a_qemu_fw_cfg_config_over_the_cap_is_refused(tmp_path: Path) -> None:
    setup = LocalSetup(tmp_path)
    make_fw_cfg(setup, b" " * (2 * MIB), size=str(2 * MIB))
    with pytest.raises(FetchError, match=r"QEMU fw_cfg .* is larger than 1 MiB"):
        QemuProvider().fetch_config(setup.ctx)
