"""HttpClient against real servers on 127.0.0.1: Ignition's retry loop,
status handling, headers, redirects, TLS with the config's CAs, proxies.

Every test runs twice: with the clients `client()` makes taking the fast path
(http.client, the default) and forced through requests (`fast=False`); both
must behave the same (test_http_fastpath.py compares the bytes they send).

Every server here listens on 127.0.0.1; name resolution is fenced so that a
test can only ever resolve `*.invalid` (mapped to 127.0.0.1) and loopback.
"""

from __future__ import annotations

import gzip
import hashlib
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

import ignition
from ignition.config.types import HTTPHeader, Proxy, Resource, Timeouts, Verification
from ignition.errors import FetchError
from ignition.log import Logger
from ignition.resources.fetcher import Fetcher
from ignition.resources.http import HttpClient
from ignition.resources.parallel import ensure_pool_size
from ignition.resources.proxy import proxy_for
from ignition.resources.tls import CABundle, build_ssl_context
from tests.unit import httpfixtures
from tests.unit.httpfixtures import ThreadedServer

net = pytest.mark.allow_socket

# The shared local server, under the names the tests ask for (pytest finds fixtures by name here).
module_http_server = httpfixtures.module_http_server
server = httpfixtures.server

ACCEPT = f"application/vnd.coreos.ignition+json;version={ignition.SPEC_VERSION}, */*;q=0.1"


class ListSink:
    def __init__(self) -> None:
        self.lines: list[tuple[int, str]] = []

    def emit(self, priority: int, message: str, fields: Mapping[str, str]) -> None:
        self.lines.append((priority, message))

    @property
    def text(self) -> str:
        return "\n".join(m for _, m in self.lines)


class FakeClock:
    """monotonic() advances only through sleep(): backoff tests take no time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture
def sink() -> ListSink:
    return ListSink()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def _local_names_only(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def fenced(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.endswith(".invalid"):
            return real("127.0.0.1", port, *args, **kwargs)
        if name in ("127.0.0.1", "localhost", "::1"):
            return real(name, port, *args, **kwargs)
        raise AssertionError(f"a unit test tried to resolve {name!r}")

    monkeypatch.setattr(socket, "getaddrinfo", fenced)


FAST = {"fast": True}  # set per test by `_both_paths`


@pytest.fixture(autouse=True, params=[True, False], ids=["fast", "requests"])
def _both_paths(request: pytest.FixtureRequest) -> Iterator[None]:
    FAST["fast"] = request.param
    yield
    FAST["fast"] = True


def client(sink: ListSink, clock: FakeClock | None = None, total: int | None = None,
           headers_timeout: int | None = None, **kwargs: Any) -> HttpClient:
    extra: dict[str, Any] = {"fast": FAST["fast"]}
    if clock is not None:
        extra.update(sleep=clock.sleep, monotonic=clock.monotonic)
    return HttpClient(Logger(sink), Timeouts(http_response_headers=headers_timeout, http_total=total),
                      **kwargs, **extra)


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# status handling and the retry loop


@net
def test_200_returns_the_body_and_logs_the_attempt(server: HTTPServer, sink: ListSink) -> None:
    server.expect_request("/c.ign").respond_with_data(b"hello", status=200)
    assert client(sink).get(server.url_for("/c.ign")) == b"hello"
    assert f"GET {server.url_for('/c.ign')}: attempt #1" in sink.text


@net
def test_204_is_success_with_no_content(server: HTTPServer, sink: ListSink) -> None:
    server.expect_request("/empty").respond_with_data(b"", status=204)
    assert client(sink).get(server.url_for("/empty")) == b""


@net
def test_404_is_resource_not_found_without_retry(server: HTTPServer, sink: ListSink, clock: FakeClock) -> None:
    server.expect_request("/missing").respond_with_data(b"nope", status=404)
    with pytest.raises(FetchError, match="resource not found"):
        client(sink, clock).get(server.url_for("/missing"))
    assert len(server.log) == 1
    assert clock.sleeps == []


@net
@pytest.mark.parametrize("code", [400, 401, 403, 410, 429])
def test_other_4xx_fail_without_retry(server: HTTPServer, sink: ListSink, clock: FakeClock, code: int) -> None:
    server.expect_request("/x").respond_with_data(b"", status=code)
    with pytest.raises(FetchError, match=f"failed to fetch resource .*: HTTP {code}"):
        client(sink, clock).get(server.url_for("/x"))
    assert len(server.log) == 1
    assert clock.sleeps == []


@net
def test_500_is_retried_with_backoff_then_succeeds(server: HTTPServer, sink: ListSink, clock: FakeClock) -> None:
    server.expect_ordered_request("/flaky").respond_with_data(b"", status=500)
    server.expect_ordered_request("/flaky").respond_with_data(b"", status=503)
    server.expect_ordered_request("/flaky").respond_with_data(b"finally", status=200)
    assert client(sink, clock).get(server.url_for("/flaky")) == b"finally"
    assert clock.sleeps == [0.2, 0.4]
    assert "attempt #3" in sink.text
    assert "attempt #1 failed: HTTP 500" in sink.text and "attempt #2 failed: HTTP 503" in sink.text


@net
def test_gives_up_at_http_total(server: HTTPServer, sink: ListSink, clock: FakeClock) -> None:
    server.expect_request("/down").respond_with_data(b"", status=500)
    with pytest.raises(FetchError, match="unable to fetch resource in time") as exc:
        client(sink, clock, total=10).get(server.url_for("/down"))
    # 0.2+0.4+0.8+1.6+3.2 = 6.2 s; the next wait (5 s) would pass the 10 s total.
    assert clock.sleeps == [0.2, 0.4, 0.8, 1.6, 3.2]
    assert len(server.log) == 6
    assert "HTTP 500" in str(exc.value)


@net
def test_backoff_is_capped_at_five_seconds(server: HTTPServer, sink: ListSink, clock: FakeClock) -> None:
    server.expect_request("/down").respond_with_data(b"", status=502)
    with pytest.raises(FetchError, match="in time"):
        client(sink, clock, total=30).get(server.url_for("/down"))
    assert clock.sleeps == [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0, 5.0]
    assert len(server.log) == 10


@net
def test_connection_errors_are_retried_and_secrets_never_shown(sink: ListSink, clock: FakeClock) -> None:
    url = f"http://core:Hunter2pw@127.0.0.1:{closed_port()}/c.ign?token=S3cretT0ken&X-Sig=abcdef123"
    with pytest.raises(FetchError) as exc:
        client(sink, clock, total=2).get(url, [("Authorization", "Bearer HeaderS3cret")])
    assert clock.sleeps == [0.2, 0.4, 0.8]
    assert "refused" in sink.text.lower()
    for secret in ("Hunter2pw", "S3cretT0ken", "abcdef123", "HeaderS3cret"):
        assert secret not in str(exc.value)
        assert secret not in sink.text
    assert "token=***" in sink.text


@net
def test_response_headers_timeout_fails_the_attempt(server: HTTPServer, sink: ListSink, clock: FakeClock) -> None:
    calls: list[int] = []

    def slow_first(request: Request) -> Response:
        calls.append(1)
        if len(calls) == 1:
            time.sleep(1.5)
        return Response(b"late but fine", status=200)

    server.expect_request("/slow").respond_with_handler(slow_first)
    start = time.monotonic()
    assert client(sink, clock, headers_timeout=1).get(server.url_for("/slow")) == b"late but fine"
    assert time.monotonic() - start < 5
    assert "attempt #1 failed: no response within the httpResponseHeaders timeout" in sink.text
    assert clock.sleeps == [0.2]
    # The abandoned first request is logged by the server only when its handler
    # returns; wait for it, or it lands in the next test's log.
    deadline = time.monotonic() + 5
    while len(server.log) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(server.log) == 2


@net
def test_zero_response_headers_timeout_means_no_limit(server: HTTPServer, sink: ListSink) -> None:
    server.expect_request("/c.ign").respond_with_data(b"ok")
    assert client(sink, headers_timeout=0).get(server.url_for("/c.ign")) == b"ok"


@pytest.mark.parametrize("url", ["http:///no-host", "http://"])
def test_invalid_urls_fail_at_once(sink: ListSink, clock: FakeClock, url: str) -> None:
    with pytest.raises(FetchError, match="failed to fetch resource"):
        client(sink, clock).get(url)
    assert clock.sleeps == []


@net
def test_redirect_loops_are_not_retried(server: HTTPServer, sink: ListSink, clock: FakeClock) -> None:
    server.expect_request("/loop").respond_with_data(b"", status=302, headers={"Location": "/loop"})
    with pytest.raises(FetchError, match="more than 10 redirects"):
        client(sink, clock).get(server.url_for("/loop"))
    assert len(server.log) == 11 and clock.sleeps == []


# headers


@net
def test_default_headers(server: HTTPServer, sink: ListSink) -> None:
    server.expect_request("/h").respond_with_data(b"ok")
    client(sink).get(server.url_for("/h"))
    headers = server.log[0][0].headers
    assert headers["User-Agent"] == f"Ignition/{ignition.__version__}"
    assert headers["Accept"] == ACCEPT
    assert headers["Accept-Encoding"] == "identity"
    assert "Cookie" not in headers


@net
def test_user_headers_are_sent_and_override_defaults(server: HTTPServer, sink: ListSink) -> None:
    server.expect_request("/h").respond_with_data(b"ok")
    client(sink).get(server.url_for("/h"), [("user-agent", "custom/1"), ("Accept", "text/plain"),
                                            ("X-Token", "first"), ("x-token", "second")])
    headers = server.log[0][0].headers
    assert headers["User-Agent"] == "custom/1"
    assert headers["Accept"] == "text/plain"
    assert headers.getlist("X-Token") == ["second"]  # the last value of a name wins, as with Go's Set
    assert headers["Accept-Encoding"] == "identity"


@net
def test_all_headers_are_dropped_on_redirect(server: HTTPServer, sink: ListSink) -> None:
    server.expect_request("/start").respond_with_data(b"", status=302,
                                                      headers={"Location": server.url_for("/final")})
    server.expect_request("/final").respond_with_data(b"moved here")
    got = client(sink).get(server.url_for("/start"), {"Authorization": "Bearer tok3n", "X-Custom": "v"})
    assert got == b"moved here"
    first, second = (req.headers for req, _ in server.log)
    assert first["Authorization"] == "Bearer tok3n" and first["X-Custom"] == "v"
    assert first["User-Agent"].startswith("Ignition/")
    assert "Authorization" not in second
    assert "X-Custom" not in second
    assert not second.get("User-Agent", "").startswith("Ignition/")
    assert second.get("Accept") != ACCEPT


@net
def test_content_encoding_is_not_undone(server: HTTPServer, sink: ListSink) -> None:
    # The config's `compression` says what the bytes are; a server's own
    # Content-Encoding is not silently removed (Go's transport does not either).
    packed = gzip.compress(b"plain")
    server.expect_request("/z").respond_with_data(packed, headers={"Content-Encoding": "gzip"})
    assert client(sink).get(server.url_for("/z")) == packed


@net
def test_server_cookies_are_not_kept(server: HTTPServer, sink: ListSink) -> None:
    server.expect_request("/a").respond_with_data(b"a", headers={"Set-Cookie": "session=abc; Path=/"})
    server.expect_request("/b").respond_with_data(b"b")
    c = client(sink)
    c.get(server.url_for("/a"))
    c.get(server.url_for("/b"))
    assert "Cookie" not in server.log[1][0].headers


# through the Fetcher


@net
def test_fetcher_gunzips_and_verifies_over_http(server: HTTPServer, sink: ListSink) -> None:
    payload = b"#!/bin/sh\necho provisioned\n" * 100
    server.expect_request("/f.gz").respond_with_data(gzip.compress(payload))
    digest = "sha512-" + hashlib.sha512(payload).hexdigest()
    fetcher = Fetcher(Logger(sink), http=client(sink))
    assert fetcher.fetch(server.url_for("/f.gz"), compression="gzip", verification=digest) == payload
    with pytest.raises(FetchError, match="hash verification failed"):
        fetcher.fetch(server.url_for("/f.gz"), compression="gzip", verification="sha256-" + "0" * 64)


@net
def test_fetch_resource_passes_headers_compression_and_hash(server: HTTPServer, sink: ListSink) -> None:
    payload = b"contents"
    server.expect_request("/r", headers={"X-Auth": "k3y"}).respond_with_data(gzip.compress(payload))
    res = Resource(source=server.url_for("/r"), compression="gzip",
                   http_headers=(HTTPHeader(name="X-Auth", value="k3y"),),
                   verification=Verification(hash="sha256-" + hashlib.sha256(payload).hexdigest()))
    assert Fetcher(Logger(sink), http=client(sink)).fetch_resource(res) == payload


def test_fetch_resource_without_source_is_empty(sink: ListSink) -> None:
    assert Fetcher(Logger(sink)).fetch_resource(Resource()) == b""


@net
def test_fetcher_makes_a_default_client_lazily(server: HTTPServer, sink: ListSink) -> None:
    server.expect_request("/c.ign").respond_with_data(b"{}")
    fetcher = Fetcher(Logger(sink), offline=False)
    assert fetcher.http is None
    assert fetcher.fetch(server.url_for("/c.ign")) == b"{}"
    assert fetcher.http is not None and fetcher.http_client() is fetcher.http


# TLS with the config's CAs


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=tmp_path)
    openssl("req", *ec, "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=127.0.0.1", cwd=tmp_path)
    (tmp_path / "ext.cnf").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "srv.pem", "-days", "2", "-extfile", "ext.cnf", cwd=tmp_path)
    return tmp_path


@pytest.fixture
def tls_server(pki: Path) -> Iterator[HTTPServer]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki / "srv.pem", pki / "srv.key")
    s = HTTPServer(host="127.0.0.1", port=0, ssl_context=ctx, threaded=True)
    s.start()
    yield s
    s.clear()
    s.stop()


@net
@pytest.mark.allow_subprocess
def test_https_fails_without_the_ca(tls_server: HTTPServer, sink: ListSink, clock: FakeClock) -> None:
    tls_server.expect_request("/c.ign").respond_with_data(b"secret config")
    url = tls_server.url_for("/c.ign")
    assert url.startswith("https://127.0.0.1:")
    with pytest.raises(FetchError, match="certificate verify failed"):
        client(sink, clock, total=1).get(url)
    assert tls_server.log == []


@net
@pytest.mark.allow_subprocess
def test_https_succeeds_with_the_config_ca(tls_server: HTTPServer, pki: Path, sink: ListSink) -> None:
    tls_server.expect_request("/c.ign").respond_with_data(b"secret config")
    ca = CABundle("data:,inline-ca", (pki / "ca.pem").read_bytes())
    c = client(sink, cas=[ca])
    assert c.get(tls_server.url_for("/c.ign")) == b"secret config"
    # Connections are reused across fetches.
    assert c.get(tls_server.url_for("/c.ign")) == b"secret config"


@net
@pytest.mark.allow_subprocess
def test_a_resized_pool_still_verifies_with_the_config_ca(tls_server: HTTPServer, pki: Path, sink: ListSink,
                                                          clock: FakeClock) -> None:
    # The TLS context is built on the first https request; growing the pools for parallel
    # fetches must keep it (and the config's CA in it), before and after that first request.
    tls_server.expect_request("/c.ign").respond_with_data(b"secret config")
    url = tls_server.url_for("/c.ign")
    ca = CABundle("data:,inline-ca", (pki / "ca.pem").read_bytes())
    c = client(sink, cas=[ca])
    ensure_pool_size(c, 32)
    assert c.get(url) == b"secret config"
    ensure_pool_size(c, 64)
    assert c.get(url) == b"secret config"
    without = client(sink, clock, total=1)
    ensure_pool_size(without, 32)
    with pytest.raises(FetchError, match="certificate verify failed"):
        without.get(url)


@pytest.mark.allow_subprocess
def test_ca_bundle_with_several_certificates_loads_all(pki: Path) -> None:
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "ca2.key", "-out", "ca2.pem", "-days", "2", "-subj", "/CN=Second CA",
            "-addext", "basicConstraints=critical,CA:TRUE", cwd=pki)
    bundle = b"junk before\n" + (pki / "ca.pem").read_bytes() + b"\n" + (pki / "ca2.pem").read_bytes()
    ctx = build_ssl_context([bundle])
    subjects = [dict(x[0] for x in c["subject"]).get("commonName") for c in ctx.get_ca_certs()]
    assert "Test CA" in subjects and "Second CA" in subjects


@pytest.mark.parametrize(("pem", "problem"), [
    (b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n", "PEM block #1"),
    (b"just some text", "no PEM certificate"),
    (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "PRIVATE KEY"),
])
def test_bad_ca_bundles_are_fetch_errors_naming_the_source_redacted(pem: bytes, problem: str) -> None:
    source = "https://ca.example/ca.pem?sig=V3rySecretSig"
    with pytest.raises(FetchError, match=problem) as exc:
        build_ssl_context([CABundle(source, pem)])
    assert "https://ca.example/ca.pem?sig=***" in str(exc.value)
    assert "V3rySecretSig" not in str(exc.value)


def test_bad_data_url_ca_is_not_quoted() -> None:
    source = "data:,-----BEGIN%20CERTIFICATE-----PRIVATEISH"
    with pytest.raises(FetchError) as exc:
        build_ssl_context([CABundle(source, b"garbage")])
    assert "PRIVATEISH" not in str(exc.value) and "data URL" in str(exc.value)


# proxies


@pytest.mark.parametrize(("url", "no_proxy", "expected"), [
    ("http://a.example/x", (), "http://hp:3128"),
    ("https://a.example/x", (), "http://sp:3128"),
    ("http://a.example/x", ("*",), None),
    ("http://a.example/x", ("a.example",), None),
    ("http://b.a.example/x", ("a.example",), None),          # foo.com matches bar.foo.com
    ("http://xa.example/x", ("a.example",), "http://hp:3128"),  # but not xfoo.com
    ("http://a.example/x", (".a.example",), "http://hp:3128"),  # .foo.com: subdomains only
    ("http://b.a.example/x", (".a.example",), None),
    ("http://b.a.example/x", ("*.a.example",), None),
    ("http://a.example/x", ("A.EXAMPLE ",), None),
    ("http://a.example:8080/x", ("a.example:8080",), None),
    ("http://a.example/x", ("a.example:8080",), "http://hp:3128"),
    ("http://a.example/x", ("a.example:80",), None),           # default port counts
    ("http://10.1.2.3/x", ("10.1.2.3",), None),
    ("http://10.1.2.3/x", ("10.0.0.0/8",), None),
    ("http://11.1.2.3/x", ("10.0.0.0/8",), "http://hp:3128"),
    ("http://[fd00::1]/x", ("fd00::/8",), None),
    ("http://[fd00::1]:81/x", ("[fd00::1]:81",), None),
    ("http://10.1.2.3/x", ("a.example",), "http://hp:3128"),
    ("http://127.0.0.1/x", (), None),                          # loopback is never proxied
    ("http://localhost:8080/x", (), None),
    ("http://[::1]/x", (), None),
])
def test_proxy_for_follows_go_httpproxy(url: str, no_proxy: tuple[str, ...], expected: str | None) -> None:
    assert proxy_for(url, Proxy(http_proxy="hp:3128", https_proxy="http://sp:3128", no_proxy=no_proxy)) == expected


def test_proxy_for_without_a_proxy_for_the_scheme() -> None:
    assert proxy_for("https://a.example/", Proxy(http_proxy="http://hp:3128")) is None
    assert proxy_for("http://a.example/", Proxy(https_proxy="http://sp:3128")) is None


class RecordingProxy(ThreadedServer):
    """A forward proxy that answers every request itself and records it."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        outer = self

        class Handler(httpfixtures.QuietHandler):
            def do_GET(self) -> None:
                outer.requests.append((self.path, dict(self.headers.items())))
                self.reply(200, b"via proxy")

        super().__init__(Handler)


@pytest.fixture
def proxy_server() -> Iterator[RecordingProxy]:
    p = RecordingProxy()
    yield p
    p.close()


@net
def test_http_proxy_from_the_config_is_used(server: HTTPServer, proxy_server: RecordingProxy,
                                            sink: ListSink) -> None:
    url = f"http://origin.invalid:{server.port}/c.ign"
    c = client(sink, proxy=Proxy(http_proxy=proxy_server.url))
    assert c.get(url, [("X-A", "1")]) == b"via proxy"
    (path, headers), = proxy_server.requests
    assert path == url
    assert headers["X-A"] == "1" and headers["User-Agent"].startswith("Ignition/")
    assert server.log == []


@net
def test_no_proxy_bypasses_the_proxy(server: HTTPServer, proxy_server: RecordingProxy, sink: ListSink) -> None:
    server.expect_request("/c.ign").respond_with_data(b"direct")
    c = client(sink, proxy=Proxy(http_proxy=proxy_server.url, no_proxy=("origin.invalid",)))
    assert c.get(f"http://origin.invalid:{server.port}/c.ign") == b"direct"
    assert proxy_server.requests == []


@net
def test_loopback_is_never_proxied(server: HTTPServer, proxy_server: RecordingProxy, sink: ListSink) -> None:
    server.expect_request("/c.ign").respond_with_data(b"direct")
    c = client(sink, proxy=Proxy(http_proxy=proxy_server.url))
    assert c.get(server.url_for("/c.ign")) == b"direct"
    assert proxy_server.requests == []


@net
def test_environment_proxy_is_ignored(server: HTTPServer, proxy_server: RecordingProxy, sink: ListSink,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy"):
        monkeypatch.setenv(var, proxy_server.url)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    server.expect_request("/c.ign").respond_with_data(b"direct")
    assert client(sink).get(f"http://origin.invalid:{server.port}/c.ign") == b"direct"
    assert proxy_server.requests == []


@net
def test_proxy_is_chosen_again_for_a_redirect_target(server: HTTPServer, proxy_server: RecordingProxy,
                                                     sink: ListSink) -> None:
    target = f"http://elsewhere.invalid:{server.port}/final"
    server.expect_request("/start").respond_with_data(b"", status=302, headers={"Location": target})
    c = client(sink, proxy=Proxy(http_proxy=proxy_server.url, no_proxy=("origin.invalid",)))
    assert c.get(f"http://origin.invalid:{server.port}/start", [("X-Secret", "s")]) == b"via proxy"
    assert len(server.log) == 1
    (path, headers), = proxy_server.requests
    assert path == target and "X-Secret" not in headers


# a body shorter than its Content-Length (issue 13)


class _ShortBodyServer:
    """Answers every request with Content-Length: 1000 and 10 bytes, then closes."""

    def __init__(self) -> None:
        import threading

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.requests = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/f"

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

    def close(self) -> None:
        self.sock.close()


@net
def test_short_body_fails_at_once_without_http_total(sink: ListSink, clock: FakeClock) -> None:
    srv = _ShortBodyServer()
    try:
        with pytest.raises(FetchError) as e:
            client(sink, clock).get(srv.url)
    finally:
        srv.close()
    assert "10 of the 1000 bytes its Content-Length announced" in str(e.value)
    assert srv.requests == 1
    assert clock.sleeps == []
