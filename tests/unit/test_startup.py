"""Start-up: modules deferred until first use, and what a stage's process loads."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def run_python(code: str, **kw: object) -> str:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          check=True, **kw).stdout  # type: ignore[call-overload,no-any-return]


@pytest.mark.allow_subprocess
def test_a_deferred_module_loads_on_first_use_once_even_from_many_threads() -> None:
    out = run_python("""
        import sys, threading
        from ignition import startup
        startup.defer("inspect")
        import dataclasses, inspect
        stand_in = sys.modules["inspect"]
        print(type(stand_in).__name__, "ast" in sys.modules)

        @dataclasses.dataclass
        class NoDoc:  # dataclasses reads inspect.signature for its docstring: the first use
            a: int

        print(NoDoc.__doc__, type(sys.modules["inspect"]).__name__)
        got = []
        threads = [threading.Thread(target=lambda: got.append(inspect.Parameter)) for _ in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(len(set(map(id, got))), got[0] is sys.modules["inspect"].Parameter)
        startup.defer("inspect")  # loaded: nothing happens
        print(type(sys.modules["inspect"]).__name__, startup.load("json") is sys.modules["json"])
        startup.defer()  # the default list: ipaddress too, which urllib.parse reads for [IPv6] hosts only
        from urllib.parse import urlsplit
        print(type(sys.modules["ipaddress"]).__name__, urlsplit("http://[::1]:80/x").hostname,
              type(sys.modules["ipaddress"]).__name__)
    """)
    assert out.splitlines() == ["Deferred False", "NoDoc(a: int) module", "1 True", "module True",
                                "Deferred ::1 module"]


@pytest.mark.allow_subprocess
def test_a_stage_starts_without_inspect_hashlib_or_the_libraries_it_does_not_use(tmp_path: Path) -> None:
    # What the start-up work saved stays saved: a module on the stage path that reads
    # inspect (or a class without a docstring made by @dataclass) would load it again.
    cfg = tmp_path / "config.ign"
    cfg.write_text(json.dumps({"ignition": {"version": "3.3.0"}}))
    flags = ["-platform", "file", "-root", str(tmp_path / "root"), "-config-cache", str(tmp_path / "cache.json"),
             "-state-file", str(tmp_path / "state"), "-neednet", str(tmp_path / "neednet"), "-log-to-stdout"]
    env = {"IGNITION_CONFIG_FILE": str(cfg), "PATH": "/usr/bin:/bin"}
    code = """
        import sys
        sys.argv = ["ignition", *sys.argv[1:]]
        from ignition.cli import main
        code = main()
        loaded = sorted(m for m in ("inspect", "ast", "urllib.parse", "ipaddress", "hashlib", "jsonschema",
                                  "requests")
                        if m in sys.modules and type(sys.modules[m]).__name__ == "module")
        print(code, loaded)
    """
    # fetch-offline validates the config (URLs are parsed) and hashes it (with the built-in
    # SHA512: hashlib's OpenSSL set-up is for contents); kargs reads the cache.
    for stage, loaded in (("fetch-offline", "['urllib.parse']"), ("kargs", "[]")):
        out = subprocess.run([sys.executable, "-c", textwrap.dedent(code), "-stage", stage, *flags], env=env,
                             capture_output=True, text=True, check=True).stdout
        assert out.splitlines()[-1] == f"0 {loaded}", out


def test_the_config_digest_is_sha512_with_or_without_the_builtin_module(monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    from ignition.digest import sha512_hex

    data = b'{"ignition":{"version":"3.6.0"}}' * 1000
    assert sha512_hex(data) == hashlib.sha512(data).hexdigest()
    monkeypatch.setitem(sys.modules, "_sha512", None)  # an interpreter without it: hashlib's
    assert sha512_hex(data) == hashlib.sha512(data).hexdigest()
