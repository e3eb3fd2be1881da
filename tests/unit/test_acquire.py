"""ignition/acquire.py and the engine's config handling: system base configs with
Ignition's precedence, `empty <- base <- user` in every stage, the cache holding the
rendered user config with its CAs inlined, and the Fetcher every stage gets."""

from __future__ import annotations

import base64
import json
import os
import socket
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from ignition import engine
from ignition.acquire import base_configs
from ignition.context import StageContext
from ignition.errors import ConfigError
from ignition.log import Logger
from ignition.stages.kargs import KargsStage
from tests.unit import fakeserver
from tests.unit.machinefixtures import Machine, new_machine
from tests.unit.test_render import CA_PEM

net = pytest.mark.allow_socket


@pytest.fixture
def m(tmp_path: Path) -> Machine:
    return new_machine(tmp_path, "BOOT_IMAGE=/vmlinuz ignition.firstboot\n")


def files(*entries: tuple[str, str]) -> dict[str, Any]:
    return {"ignition": {"version": "3.3.0"},
            "storage": {"files": [{"path": p, "contents": {"source": "data:," + urllib.parse.quote(c)}}
                                  for p, c in entries]}}


def contents(cfg: Any) -> dict[str, str]:
    out = {}
    for f in cfg.storage.files:
        out[f.path] = urllib.parse.unquote(f.contents.source.partition(",")[2])
    return out


def data(b: bytes) -> str:
    return "data:," + urllib.parse.quote(b)


# base configs


def test_base_d_fragments_merge_in_sorted_name_order_across_dirs(m: Machine) -> None:
    vendor, local, runtime = m.env.system_config_dir, m.env.system_local_config_dir, m.env.system_runtime_config_dir
    m.fragment(vendor, "base.d", "10-a.ign", files(("/x", "vendor-10"), ("/a", "a")))
    m.fragment(local, "base.d", "30-c.ign", files(("/x", "local-30"), ("/c", "c")))
    m.fragment(runtime, "base.d", "20-b.ign", files(("/x", "runtime-20"), ("/b", "b")))
    base = base_configs(m.env, "file", Logger(m.sink))
    assert base.config is not None
    # 10 < 20 < 30 whatever dir each is in; the last merged sets /x
    assert contents(base.config) == {"/x": "local-30", "/a": "a", "/b": "b", "/c": "c"}
    assert [c.source for c in base.fetched] == [
        f"{vendor}/base.d/10-a.ign", f"{runtime}/base.d/20-b.ign", f"{local}/base.d/30-c.ign"]
    assert {(c.kind, c.referenced) for c in base.fetched} == {("base", False)}


def test_same_name_in_a_higher_priority_dir_hides_the_lower_ones(m: Machine) -> None:
    vendor, local, runtime = m.env.system_config_dir, m.env.system_local_config_dir, m.env.system_runtime_config_dir
    m.fragment(vendor, "base.d", "10.ign", files(("/vendor-only", "v")))
    m.fragment(local, "base.d", "10.ign", files(("/local-only", "l")))
    m.fragment(runtime, "base.d", "10.ign", files(("/runtime-only", "r")))
    m.fragment(vendor, "base.d", "20.ign", files(("/vendor-20", "v")))
    m.fragment(local, "base.d", "20.ign", files(("/local-20", "l")))
    base = base_configs(m.env, "file", Logger(m.sink))
    assert base.config is not None
    assert sorted(contents(base.config)) == ["/local-20", "/runtime-only"]
    assert [c.source for c in base.fetched] == [f"{runtime}/base.d/10.ign", f"{local}/base.d/20.ign"]


def test_base_platform_d_comes_after_base_d_and_only_for_this_platform(m: Machine) -> None:
    vendor, local = m.env.system_config_dir, m.env.system_local_config_dir
    m.fragment(vendor, "base.platform.d/qemu", "00.ign", files(("/x", "platform"), ("/p", "qemu")))
    m.fragment(vendor, "base.platform.d/aws", "00.ign", files(("/aws", "no")))
    m.fragment(local, "base.d", "99.ign", files(("/x", "base.d")))
    base = base_configs(m.env, "qemu", Logger(m.sink))
    assert base.config is not None
    assert contents(base.config) == {"/x": "platform", "/p": "qemu"}
    assert base_configs(m.env, "metal", Logger(m.sink)).config is not None
    assert base_configs(m.env, "metal", Logger(m.sink)).fetched[0].source.endswith("99.ign")


def test_no_base_config_and_empty_fragments(m: Machine) -> None:
    assert base_configs(m.env, "file", Logger(m.sink)).config is None
    m.fragment(m.env.system_config_dir, "base.d", "empty.ign", "")
    base = base_configs(m.env, "file", Logger(m.sink))
    assert (base.config, base.fetched) == (None, ())
    assert "is empty; ignoring it" in m.sink.text


def test_invalid_base_config_names_its_file(m: Machine) -> None:
    path = m.fragment(m.env.system_config_dir, "base.d", "bad.ign", {"ignition": {"version": "9.0.0"}})
    with pytest.raises(ConfigError, match=f"the base config {path} is not valid"):
        base_configs(m.env, "file", Logger(m.sink))


def test_base_under_user_in_every_stage_and_not_cached(m: Machine) -> None:
    base_path = m.fragment(m.env.system_config_dir, "base.d", "10-base.ign",
                           files(("/etc/shared", "from base"), ("/etc/base-only", "base")))
    m.config(files(("/etc/shared", "from user"), ("/etc/user-only", "user")))
    assert m.run("fetch-offline") == 0
    # the cache holds the user config only
    assert [f["path"] for f in m.cache()["storage"]["files"]] == ["/etc/shared", "/etc/user-only"]
    assert m.state()["fetchedConfigs"] == [
        {"kind": "base", "source": base_path, "referenced": False},
        {"kind": "user", "source": "file", "referenced": False},
    ]
    fetched = m.sink.fetched()
    assert [(f["IGNITION_CONFIG_TYPE"], f["IGNITION_CONFIG_SRC"], f["IGNITION_CONFIG_REFERENCED"])
            for f in fetched] == [("base", base_path, "false"), ("user", "file", "false")]
    # a cache stage reads the base config again and layers the user config over it
    assert m.run("files") == 0
    assert (m.root / "etc/shared").read_text() == "from user"
    assert (m.root / "etc/base-only").read_text() == "base"
    assert (m.root / "etc/user-only").read_text() == "user"
    assert f"merging the base config {base_path} under the cached config" in m.sink.text
    assert m.sink.fetched() == []  # the structured entries belong to the fetch stages
    # the state still lists each config once
    assert [c["kind"] for c in m.state()["fetchedConfigs"]] == ["base", "user"]


def test_base_config_alone_is_not_a_user_config(m: Machine) -> None:
    m.fragment(m.env.system_config_dir, "base.d", "10.ign", files(("/etc/base", "b")))
    assert m.run("fetch-offline", platform="metal") == 0
    assert m.cache() == {"ignition": {"version": "3.6.0"}}
    assert m.run("files", platform="metal") == 0
    assert (m.root / "etc/base").read_text() == "b"
    result = json.loads((m.root / "etc/.ignition-result.json").read_text())
    assert result["userConfigProvided"] is False


# rendering through the engine


def test_rendered_merge_is_cached_and_recorded(m: Machine) -> None:
    child = json.dumps(files(("/etc/child", "c"))).encode()
    cfg = files(("/etc/parent", "p"))
    cfg["ignition"]["config"] = {"merge": [{"source": data(child)}]}
    m.config(cfg)
    assert m.run("fetch-offline") == 0
    assert [f["path"] for f in m.cache()["storage"]["files"]] == ["/etc/parent", "/etc/child"]
    assert m.state()["fetchedConfigs"][1] == {
        "kind": "user", "source": f"data URL ({len(data(child))} characters)", "referenced": True}
    assert [f["IGNITION_CONFIG_REFERENCED"] for f in m.sink.fetched()] == ["false", "true"]
    assert not os.path.exists(m.paths.neednet)
    assert m.run("files") == 0
    assert (m.root / "etc/child").read_text() == "c"


def test_invalid_merged_config_fails_the_fetch_stage(m: Machine) -> None:
    child = json.dumps({"ignition": {"version": "3.6.0"},
                        "storage": {"links": [{"path": "/etc/dir", "target": "/x"}]}}).encode()
    cfg = files(("/etc/dir/file", "f"))
    cfg["ignition"]["config"] = {"merge": [{"source": data(child)}]}
    m.config(cfg)
    assert m.run("fetch-offline") == engine.EXIT_FAILED
    (crit,) = m.sink.critical()
    assert "merging configs resulted in an invalid config" in crit
    assert not os.path.exists(m.paths.config_cache)


_module_server, server = fakeserver.fixtures()


@net
def test_remote_merge_needs_the_network_then_fetch_renders_it(m: Machine, server: HTTPServer) -> None:
    server.expect_request("/child.ign").respond_with_data(json.dumps(files(("/etc/child", "c"))))
    cfg = files(("/etc/parent", "p"))
    cfg["ignition"]["config"] = {"merge": [{"source": server.url_for("/child.ign")}]}
    m.config(cfg)
    assert m.run("fetch-offline") == 0
    assert os.path.exists(m.paths.neednet)
    assert not os.path.exists(m.paths.config_cache)
    assert not server.log  # offline: nothing was fetched
    assert m.run("fetch") == 0
    assert [f["path"] for f in m.cache()["storage"]["files"]] == ["/etc/parent", "/etc/child"]
    assert m.state()["fetchedConfigs"][1]["source"] == server.url_for("/child.ign")


@net
def test_cas_are_inlined_in_the_cache_and_need_no_network_later(m: Machine, server: HTTPServer) -> None:
    import gzip
    import hashlib

    server.expect_request("/ca.pem", headers={"X-Auth": "s3cret"}).respond_with_data(gzip.compress(CA_PEM))
    ca = {"source": server.url_for("/ca.pem"), "compression": "gzip",
          "httpHeaders": [{"name": "X-Auth", "value": "s3cret"}],
          "verification": {"hash": "sha256-" + hashlib.sha256(CA_PEM).hexdigest()}}
    m.config({"ignition": {"version": "3.6.0", "security": {"tls": {"certificateAuthorities": [ca]}}}})
    assert m.run("fetch-offline") == 0  # a remote CA needs the network
    assert os.path.exists(m.paths.neednet) and not os.path.exists(m.paths.config_cache)
    assert m.run("fetch") == 0
    (cached,) = m.cache()["ignition"]["security"]["tls"]["certificateAuthorities"]
    assert cached["source"] == "data:;base64," + base64.b64encode(CA_PEM).decode()
    assert "compression" not in cached and "httpHeaders" not in cached
    assert cached["verification"] == ca["verification"]
    assert len(server.log) == 1
    server.clear()
    ctx = _stage_context(m)
    client = ctx.fetcher.http_client()  # a cache stage builds its client from the data URL
    subjects = [c.get("subject") for c in client.session.get_adapter("https://x")._ssl_context.get().get_ca_certs()]  # type: ignore[attr-defined]
    assert ((("commonName", "Render-Test-CA"),),) in subjects
    assert not server.log


def _stage_context(m: Machine, stage: str = "kargs", monkeypatch: pytest.MonkeyPatch | None = None) -> StageContext:
    """The context a cache stage gets (the kargs stage made to apply and capture it)."""
    seen: list[StageContext] = []
    mp = monkeypatch or pytest.MonkeyPatch()
    try:
        mp.setattr(KargsStage, "applies", lambda self, config: True)
        mp.setattr(KargsStage, "run", lambda self, ctx: seen.append(ctx))
        assert m.run(stage) == 0, m.sink.critical()
    finally:
        if monkeypatch is None:
            mp.undo()
    (ctx,) = seen
    return ctx


def test_cache_stage_fetcher_has_the_config_timeouts_and_proxy(m: Machine) -> None:
    m.fragment(m.env.system_config_dir, "base.d", "10.ign",
               {"ignition": {"version": "3.6.0", "proxy": {"noProxy": ["internal.example"]}}})
    m.config({"ignition": {"version": "3.6.0", "timeouts": {"httpResponseHeaders": 7, "httpTotal": 33},
                           "proxy": {"httpProxy": "http://proxy.example:3128",
                                     "httpsProxy": "http://proxy.example:3129"}}})
    assert m.run("fetch-offline") == 0
    ctx = _stage_context(m)
    client = ctx.fetcher.http_client()
    assert client.response_headers_timeout == 7.0
    assert client.total_timeout == 33.0
    assert client.proxy.http_proxy == "http://proxy.example:3128"
    assert client.proxy.https_proxy == "http://proxy.example:3129"
    assert client.proxy.no_proxy == ("internal.example",)  # from the base config
    assert not ctx.fetcher.offline


def test_cache_stage_fetcher_defaults(m: Machine) -> None:
    m.config({"ignition": {"version": "3.6.0"}})
    assert m.run("fetch-offline") == 0
    client = _stage_context(m).fetcher.http_client()
    assert (client.response_headers_timeout, client.total_timeout) == (10.0, 0.0)


@net
def test_fetch_timeout_bounds_the_provider_fetch(m: Machine) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections complete in the backlog; nothing ever answers
        port = silent.getsockname()[1]
        Path(m.env.cmdline_path).write_text(f"ignition.config.url=http://127.0.0.1:{port}/config.ign\n")
        started = time.monotonic()
        assert m.run("fetch", fetch_timeout=0.6) == engine.EXIT_FAILED
        elapsed = time.monotonic() - started
    assert elapsed < 8  # without the bound: 10 s per attempt, retried forever
    (crit,) = m.sink.critical()
    assert "unable to fetch resource in time" in crit
    assert not os.path.exists(m.paths.config_cache)


@net
def test_references_use_the_config_timeouts_not_fetch_timeout(m: Machine, server: HTTPServer) -> None:
    # -fetch-timeout bounds the provider's fetch only; then the config's own timeouts apply
    server.expect_request("/config.ign").respond_with_data(json.dumps(
        {"ignition": {"version": "3.6.0", "timeouts": {"httpTotal": 1},
                      "config": {"replace": {"source": server.url_for("/missing.ign")}}}}))
    Path(m.env.cmdline_path).write_text(f"ignition.config.url={server.url_for('/config.ign')}\n")
    started = time.monotonic()
    assert m.run("fetch", fetch_timeout=60) == engine.EXIT_FAILED
    assert time.monotonic() - started < 8
    (crit,) = m.sink.critical()
    assert "referenced config" in crit and "httpTotal=1s" in crit
