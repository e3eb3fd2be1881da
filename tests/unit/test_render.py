"""ignition/render.py: following ignition.config.merge and .replace depth first, with
the fetch settings of the config so far, concurrently but with serial results."""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
import time
import urllib.parse
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from ignition.config.parse import parse
from ignition.config.types import Config
from ignition.errors import ConfigError, FetchError, NeedsNetwork
from ignition.fetchsettings import Fetchers, Settings
from ignition.log import Logger
from ignition.render import MAX_DEPTH, Renderer
from ignition.state import FetchedConfig
from tests.unit import fakeserver
from tests.unit.logsink import ListSink

net = pytest.mark.allow_socket

# A self-signed CA certificate (made once with openssl; only parsed here, never used to sign).
CA_PEM = b"""\
-----BEGIN CERTIFICATE-----
MIIBiTCCAS+gAwIBAgIUZ264QrAFyl88NP+mUVzFK2vL208wCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwOUmVuZGVyLVRlc3QtQ0EwIBcNMjYxMTI1MTkwMDIwWhgPMjEy
NjExMDExOTAwMjBaMBkxFzAVBgNVBAMMDlJlbmRlci1UZXN0LUNBMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAEigF3klWVckisnMmY7XWJ2EZFW+VQNtfKKBEr7cTp
it+iVyM0LrWWkIfOCKoshDGPj+rro+ptVoh5J6b2msdqv6NTMFEwHQYDVR0OBBYE
FJSolojxRn2k9gk7uMF7BmsW0INXMB8GA1UdIwQYMBaAFJSolojxRn2k9gk7uMF7
BmsW0INXMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhALAmS0Qy
H0z4/8XzFYj2bnfYniioDO+ZZ3M5HJVOEnHlAiBTdN1TRQX9uiBYjxEZIVbZSm8p
XLHZMbrFvmI1HgP84w==
-----END CERTIFICATE-----
"""


def raw(*paths: str, merge: list[dict[str, Any]] | None = None, replace: dict[str, Any] | None = None,
        **ignition: Any) -> bytes:
    """A config whose file paths tell it apart, with the given references."""
    ign: dict[str, Any] = {"version": "3.6.0", **ignition}
    refs: dict[str, Any] = {}
    if merge is not None:
        refs["merge"] = merge
    if replace is not None:
        refs["replace"] = replace
    if refs:
        ign["config"] = refs
    return json.dumps({"ignition": ign, "storage": {"files": [{"path": p} for p in paths]}}).encode()


def data(b: bytes) -> str:
    return "data:," + urllib.parse.quote(b)


def cfg(b: bytes) -> Config:
    return parse(b).config


def paths(c: Config) -> list[str]:
    return [f.path for f in c.storage.files]


class Setup:
    def __init__(self, offline: bool = False) -> None:
        self.sink = ListSink()
        self.logger = Logger(self.sink, stage="fetch", platform="file")
        self.fetchers = Fetchers(self.logger, offline)
        self.renderer = Renderer(self.logger, self.fetchers)

    def render(self, b: bytes, outer: Config | None = None) -> Config:
        return self.renderer.render(cfg(b), outer)


@pytest.fixture
def s() -> Setup:
    return Setup()


_module_server, server = fakeserver.fixtures()


# data URLs


def test_a_config_without_references_is_returned_as_is(s: Setup) -> None:
    c = cfg(raw("/a"))
    assert s.renderer.render(c) is c
    assert s.renderer.fetched == []


def test_merge_appends_children_in_order_and_records_them(s: Setup) -> None:
    a, b = data(raw("/a")), data(raw("/b"))
    out = s.render(raw("/parent", merge=[{"source": a}, {"source": b}]))
    assert paths(out) == ["/parent", "/a", "/b"]
    assert s.renderer.fetched == [
        FetchedConfig("user", f"data URL ({len(a)} characters)", True),
        FetchedConfig("user", f"data URL ({len(b)} characters)", True),
    ]
    fields = s.sink.fetched()
    assert [f["IGNITION_CONFIG_REFERENCED"] for f in fields] == ["true", "true"]
    assert {f["IGNITION_CONFIG_TYPE"] for f in fields} == {"user"}
    assert "fetched referenced user config from" in s.sink.text
    assert "%7B" not in s.sink.text  # never the data URL itself


def test_child_fields_override_parent_fields(s: Setup) -> None:
    child = json.dumps({"ignition": {"version": "3.0.0"},
                        "storage": {"files": [{"path": "/x", "mode": 384}]}}).encode()
    parent = json.dumps({"ignition": {"version": "3.6.0", "config": {"merge": [{"source": data(child)}]}},
                         "storage": {"files": [{"path": "/x", "mode": 420, "user": {"id": 7}}]}}).encode()
    (f,) = s.render(parent).storage.files
    assert (f.mode, f.user.id) == (0o600, 7)


def test_replace_discards_the_current_config(s: Setup) -> None:
    out = s.render(raw("/parent", replace={"source": data(raw("/replacement"))}))
    assert paths(out) == ["/replacement"]
    assert [c.referenced for c in s.renderer.fetched] == [True]


def test_replace_wins_over_merge_in_the_same_config(s: Setup) -> None:
    out = s.render(raw("/parent", merge=[{"source": data(raw("/m"))}],
                       replace={"source": data(raw("/r"))}))
    assert paths(out) == ["/r"]
    assert len(s.renderer.fetched) == 1


def test_nested_references_render_depth_first(s: Setup) -> None:
    a1, a2 = data(raw("/a1")), data(raw("/a2"))
    r = data(raw("/r-replaced", merge=[{"source": data(raw("/r1"))}]))
    a = data(raw("/a", merge=[{"source": a1}, {"source": a2}]))
    b = data(raw("/b", replace={"source": r}))
    out = s.render(raw("/top", merge=[{"source": a}, {"source": b}, {"source": data(raw("/c"))}]))
    # b was replaced by r, which merged r1: r's own file and r1's, at b's place
    assert paths(out) == ["/top", "/a", "/a1", "/a2", "/r-replaced", "/r1", "/c"]
    sizes = [c.source for c in s.renderer.fetched]
    order = [a, a1, a2, b, r, data(raw("/r1")), data(raw("/c"))]
    assert sizes == [f"data URL ({len(u)} characters)" for u in order]


def test_merged_result_is_validated_again(s: Setup) -> None:
    child = json.dumps({"ignition": {"version": "3.6.0"},
                        "storage": {"links": [{"path": "/etc/dir", "target": "/elsewhere"}]}}).encode()
    parent = raw("/etc/dir/file", merge=[{"source": data(child)}])
    cfg(parent)  # each alone is valid
    cfg(child)
    with pytest.raises(ConfigError) as e:
        s.render(parent)
    assert str(e.value).startswith("merging configs resulted in an invalid config:\n")
    assert "error at $.storage.files.0" in str(e.value)


def test_invalid_child_names_the_reference_not_its_contents(s: Setup) -> None:
    bad = data(b'{"ignition": {"version": "3.6.0"}, "storage": {"files": [{"path": "rel"}]}, "x": "SECRET"}')
    with pytest.raises(ConfigError) as e:
        s.render(raw(merge=[{"source": bad}]))
    assert "the referenced config data URL" in str(e.value)
    assert "SECRET" not in str(e.value) and "SECRET" not in s.sink.text


def test_empty_child_is_an_error(s: Setup) -> None:
    with pytest.raises(ConfigError, match="is empty"):
        s.render(raw(merge=[{"source": "data:,"}]))


def test_offline_remote_reference_needs_the_network() -> None:
    s = Setup(offline=True)
    with pytest.raises(NeedsNetwork):
        s.render(raw(merge=[{"source": data(raw("/a"))}, {"source": "https://example.com/c.ign"}]))


def test_settings_of_the_outer_config_and_the_config_apply() -> None:
    outer = cfg(json.dumps({"ignition": {"version": "3.6.0", "proxy": {"httpProxy": "http://p.invalid"}}}).encode())
    inner = cfg(json.dumps({"ignition": {"version": "3.6.0", "timeouts": {"httpTotal": 9}}}).encode())
    from ignition.config.merge import merge

    st = Settings.of(merge(outer, inner))
    assert st.proxy.http_proxy == "http://p.invalid" and st.timeouts.http_total == 9


# http


def _serve(server: HTTPServer, path: str, body: bytes, **kw: Any) -> str:
    server.expect_request(path, **kw).respond_with_data(body)
    return server.url_for(path)


@net
def test_merge_over_http_with_headers_hash_and_gzip(s: Setup, server: HTTPServer) -> None:
    plain = raw("/plain")
    zipped = raw("/zipped")
    u1 = _serve(server, "/plain.ign", plain, headers={"X-Token": "t0k3n"})
    u2 = _serve(server, "/zipped.ign", gzip.compress(zipped))
    out = s.render(raw("/top", merge=[
        {"source": u1, "httpHeaders": [{"name": "X-Token", "value": "t0k3n"}],
         "verification": {"hash": "sha512-" + hashlib.sha512(plain).hexdigest()}},
        {"source": u2, "compression": "gzip",
         "verification": {"hash": "sha256-" + hashlib.sha256(zipped).hexdigest()}},
    ]))
    assert paths(out) == ["/top", "/plain", "/zipped"]
    assert [c.source for c in s.renderer.fetched] == [u1, u2]


@net
def test_bad_hash_of_a_referenced_config_fails(s: Setup, server: HTTPServer) -> None:
    u = _serve(server, "/c.ign", raw("/c"))
    with pytest.raises(FetchError, match="hash verification failed"):
        s.render(raw(merge=[{"source": u, "verification": {"hash": "sha512-" + "0" * 128}}]))
    assert s.renderer.fetched == []


@net
def test_missing_header_is_not_served(s: Setup, server: HTTPServer) -> None:
    _serve(server, "/c.ign", raw("/c"), headers={"X-Token": "t0k3n"})
    # pytest-httpserver answers 500 to a request no handler matches: retried until httpTotal
    with pytest.raises(FetchError, match=r"referenced config .*unable to fetch resource in time"):
        s.render(raw(timeouts={"httpTotal": 1}, replace={"source": server.url_for("/c.ign")}))


@net
def test_reference_cycle_is_refused(s: Setup, server: HTTPServer) -> None:
    a, b = server.url_for("/a.ign"), server.url_for("/b.ign")
    _serve(server, "/a.ign", raw("/a", merge=[{"source": b}]))
    _serve(server, "/b.ign", raw("/b", replace={"source": a}))
    with pytest.raises(ConfigError, match=r"cycle \(.*/a\.ign -> .*/b\.ign -> .*/a\.ign\)"):
        s.render(raw(merge=[{"source": a}]))


@net
@pytest.mark.parametrize(("levels", "ok"), [(MAX_DEPTH, True), (MAX_DEPTH + 1, False)])
def test_depth_guard(s: Setup, server: HTTPServer, levels: int, ok: bool) -> None:
    for n in range(1, levels + 1):
        nxt = [{"source": server.url_for(f"/c{n + 1}.ign")}] if n < levels else None
        _serve(server, f"/c{n}.ign", raw(f"/c{n}", merge=nxt))
    top = raw("/top", merge=[{"source": server.url_for("/c1.ign")}])
    if ok:
        assert paths(s.render(top)) == ["/top"] + [f"/c{n}" for n in range(1, levels + 1)]
    else:
        with pytest.raises(ConfigError, match=f"deeper than {MAX_DEPTH} levels"):
            s.render(top)


@net
def test_siblings_are_fetched_concurrently_but_merged_in_order(s: Setup, server: HTTPServer) -> None:
    n = 3
    barrier = threading.Barrier(n, timeout=10)

    def handler(delay: float, body: bytes) -> Any:
        def respond(request: Request) -> Response:
            barrier.wait()  # only passes when all three requests are in flight at once
            time.sleep(delay)
            return Response(body)
        return respond

    # the first child answers last
    for i, delay in enumerate([0.3, 0.1, 0.0]):
        server.expect_request(f"/s{i}.ign").respond_with_handler(handler(delay, raw(f"/s{i}")))
    refs = [{"source": server.url_for(f"/s{i}.ign")} for i in range(n)]
    # httpTotal: were the fetches serial, the broken barrier's 500s end the test instead of hanging it
    out = s.render(raw("/top", timeouts={"httpTotal": 30}, merge=refs))
    assert paths(out) == ["/top", "/s0", "/s1", "/s2"]
    assert [c.source for c in s.renderer.fetched] == [r["source"] for r in refs]


@net
def test_a_child_setting_a_proxy_applies_to_the_next_sibling(s: Setup, server: HTTPServer) -> None:
    # The proxy is this same server: a request through it arrives with the full URL of
    # a host that does not exist (it is never resolved).
    proxy = server.url_for("/").rstrip("/")
    setter = raw("/setter", proxy={"httpProxy": proxy})
    _serve(server, "/setter.ign", setter)
    server.expect_request("/behind.ign", headers={"Host": "upstream.invalid"}).respond_with_data(raw("/behind"))
    server.expect_request("/behind2.ign", headers={"Host": "upstream.invalid"}).respond_with_data(raw("/behind2"))
    top = raw("/top", timeouts={"httpTotal": 3}, merge=[
        {"source": server.url_for("/setter.ign")},
        {"source": "http://upstream.invalid/behind.ign"},
        {"source": "http://upstream.invalid/behind2.ign"},
    ])
    started = time.monotonic()
    out = s.render(top)
    assert paths(out) == ["/top", "/setter", "/behind", "/behind2"]
    # the speculative fetches without the proxy were abandoned, not waited for to the end
    assert time.monotonic() - started < 6


@net
def test_a_child_ca_is_fetched_once_and_used_for_its_children(s: Setup, server: HTTPServer) -> None:
    ca_url = _serve(server, "/ca.pem", CA_PEM)
    child = raw("/child", security={"tls": {"certificateAuthorities": [{"source": ca_url}]}},
                merge=[{"source": data(raw("/grandchild"))}])
    out = s.render(raw("/top", merge=[{"source": _serve(server, "/child.ign", child)}]))
    assert paths(out) == ["/top", "/child", "/grandchild"]
    inlined = s.fetchers.inline_cas(out, Settings.of(out))
    (ca,) = inlined.ignition.security.tls.certificate_authorities
    assert ca.source is not None and ca.source.startswith("data:;base64,")
    client = s.fetchers.for_config(out).http_client()  # builds the client: the CA comes from the cache
    client.close()
    assert len([r for r, _ in server.log if r.path == "/ca.pem"]) == 1


@net
def test_concurrent_siblings_fail_like_serial_ones(s: Setup, server: HTTPServer) -> None:
    # both children fail; serial rendering reports the first one, and so do we
    _serve(server, "/bad-hash.ign", raw("/x"))
    server.expect_request("/gone.ign").respond_with_data(b"", status=404)
    with pytest.raises(FetchError) as e:
        s.render(raw(merge=[
            {"source": data(raw("/inline"))},
            {"source": server.url_for("/bad-hash.ign"), "verification": {"hash": "sha256-" + "0" * 64}},
            {"source": server.url_for("/gone.ign")},
        ]))
    assert "bad-hash.ign" in str(e.value) and "hash verification failed" in str(e.value)
    assert len(s.renderer.fetched) == 1  # the inline child only
