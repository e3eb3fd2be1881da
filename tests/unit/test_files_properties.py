"""Property test of the whole files stage (issue 13): whatever a config
expresses, parsing it gives a config or a ConfigError, and running the real
files stage on it (in-process, into a temporary root, with the shadow-utils
fake of test_files_support) succeeds or fails with one IgnitionError naming
what to fix: never an internal error, never a write outside the root.

Configs are drawn from paths with odd bytes (NUL, newlines, `..`, long
names, non-ASCII, relative), modes in and out of range, users and groups by
id and name, links (symbolic and hard, with targets inside, outside and
upward), units and dropins with odd names, and contents of every size in
data: URLs, plain or gzip, with right or wrong hashes.

IGNITION_FILES_EXAMPLES sets the number of examples (default 10,000, the
issue's count). The `files-ci` profile is derandomized with no database, and
the pool of "local constants" Hypothesis mixes into strings and integers is
pinned to the constants of the `ignition` package (see pinned_constants), so
the full suite and a run of this file alone generate the same examples.
"""

from __future__ import annotations

import base64
import collections
import gzip
import hashlib
import importlib
import json
import os
import pkgutil
import shutil
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import providers
from hypothesis.internal.constants_ast import Constants, constants_from_module

import ignition
from ignition.config.parse import parse
from ignition.errors import CommandError, ConfigError, IgnitionError
from ignition.run import Result, check_argv
from ignition.stages.files.stage import FilesStage
from tests.unit.test_files_support import FakeRunner, make_env

EXAMPLES = int(os.environ.get("IGNITION_FILES_EXAMPLES", "10000"))
settings.register_profile(
    "files-ci", derandomize=True, database=None, deadline=timedelta(seconds=20), max_examples=EXAMPLES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], print_blob=True)

ODD = ["..", ".", "", "\x00", "\n", "\u202e", "x" * 256, "\\", "*", ":", "\t",
       ".ignition-stage-0123456789ab"]
SAFE = ["a", "b", "etc", "opt", "x1", "home", "outside", "systemd", "system", "é", " sp", ".hidden", "-"]


def weighted(common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any], odds: int = 8) -> st.SearchStrategy[Any]:
    """`common` about `odds` times as often as `rare`: most examples must get
    past validation to test the stage, and some must not."""
    # Hypothesis leans towards the small end of a range: 0 is the common case.
    return st.integers(0, odds).flatmap(lambda i: rare if i == odds else common)


component = weighted(st.sampled_from(SAFE), st.one_of(st.sampled_from(ODD), st.text(min_size=1, max_size=12)), 12)
paths = st.builds(lambda absolute, parts: ("/" if absolute else "") + "/".join(parts),
                  weighted(st.just(True), st.just(False), 60), st.lists(component, min_size=1, max_size=4))
modes = weighted(st.sampled_from([None, 0o644, 0o755, 0o4755, 0o1777, 0, 0o7777, 0o600]),
                 st.integers(min_value=-2, max_value=0o20000))
owner_names = weighted(st.sampled_from(["root", "alice", "bin"]), st.sampled_from(["nosuchuser", "", "a\x00b"]), 4)
owners = weighted(st.one_of(st.just({}), st.builds(lambda n: {"name": n}, owner_names),
                            st.builds(lambda i: {"id": i}, st.sampled_from([0, 2, 5000]))),
                  st.builds(lambda i: {"id": i}, st.integers(min_value=-1, max_value=70000)))
OUTCOMES: collections.Counter[str] = collections.Counter()


@pytest.fixture(autouse=True, scope="module")
def pinned_constants() -> Iterator[None]:
    """Hypothesis draws about 5% of strings and integers from constants it
    reads out of every "local" module in sys.modules when the test runs. The
    full suite has imported more of them than a run of this file alone (vm-tests
    helpers, modules other tests import lazily), so derandomized runs still
    generated different examples in CI than locally. Pin the pool to the
    constants of every module of the `ignition` package, in a fixed order: the
    code under test keeps feeding the examples (".ignition-stage-" came from
    there), and every process generates the same ones. Uses Hypothesis
    internals: if they move, this fails loudly at set-up."""
    pool = Constants()
    for info in pkgutil.walk_packages(ignition.__path__, "ignition."):
        if not info.name.endswith("__main__"):
            pool |= constants_from_module(importlib.import_module(info.name))
    fixed = Constants(**{kind: sorted(getattr(pool, kind), key=repr)  # type: ignore[arg-type]
                         for kind in ("integers", "floats", "bytes", "strings")})
    original = providers._get_local_constants
    providers._get_local_constants = lambda: fixed
    providers.CONSTANTS_CACHE.cache.clear()
    yield
    providers._get_local_constants = original
    providers.CONSTANTS_CACHE.cache.clear()


def body_for(size: int, seed: int) -> bytes:
    return (hashlib.sha256(str(seed).encode()).digest() * (size // 32 + 1))[:size]


@st.composite
def contents(draw: st.DrawFn) -> dict[str, Any]:
    size = draw(st.sampled_from([0, 1, 100, 70_000, 140_000]))
    data = body_for(size, draw(st.integers(0, 3)))
    res: dict[str, Any] = {}
    if draw(st.booleans()):
        res["source"] = "data:;base64," + base64.b64encode(gzip.compress(data, mtime=0)).decode()
        res["compression"] = "gzip"
    else:
        res["source"] = "data:;base64," + base64.b64encode(data).decode()
    verification = draw(st.sampled_from(["none", "right", "wrong", "sha256"]))
    if verification == "right":
        res["verification"] = {"hash": "sha512-" + hashlib.sha512(data).hexdigest()}
    elif verification == "wrong":
        res["verification"] = {"hash": "sha512-" + hashlib.sha512(data + b"!").hexdigest()}
    elif verification == "sha256":
        res["verification"] = {"hash": "sha256-" + hashlib.sha256(data).hexdigest()}
    return res


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    files = draw(st.lists(st.fixed_dictionaries(
        {"path": paths}, optional={"mode": modes, "overwrite": st.booleans(), "contents": contents(),
                                   "user": owners, "group": owners,
                                   "append": st.lists(contents(), max_size=2)}), max_size=4))
    for f in files:  # overwrite needs a source; keep the configs that mean something
        if f.get("overwrite") and "contents" not in f:
            f["overwrite"] = False
    directories = draw(st.lists(st.fixed_dictionaries(
        {"path": paths}, optional={"mode": modes, "overwrite": st.booleans(), "user": owners}), max_size=3))
    link_targets = st.one_of(paths, st.sampled_from(["../../outside/x", "/outside/y", "../" * 8 + "outside",
                                                     "/etc/passwd", "/", "../" * 8 + "outside/z"]))
    links = draw(st.lists(st.fixed_dictionaries(
        {"path": paths, "target": link_targets},
        optional={"hard": st.booleans(), "overwrite": st.booleans(), "user": owners}), max_size=3))
    users = draw(st.lists(st.fixed_dictionaries(
        {"name": weighted(st.sampled_from(["alice", "bob", "root"]), st.text(max_size=8), 4)},
        optional={"passwordHash": st.sampled_from(["$6$x$y", ""]),
                  "homeDir": paths, "sshAuthorizedKeys": st.lists(st.sampled_from(["ssh-ed25519 AAAA x", "", "\n"]),
                                                                  max_size=2, unique=True)}),
        max_size=2, unique_by=lambda u: u["name"]))
    unit_names = weighted(st.sampled_from(["a.service", "b.socket", "c.service", "d@x.service"]),
                          st.one_of(st.sampled_from(["x", "../a.service", "a\x00.service", "a/b.service", ".service"]),
                                    st.text(max_size=10)))
    units = draw(st.lists(st.fixed_dictionaries(
        {"name": unit_names},
        optional={"contents": weighted(st.sampled_from(["[Unit]\nDescription=x\n", "[Service]\nA=b\n", "",
                                                                 "[Install]\nWantedBy=multi-user.target\n"]),
                                                st.just("[x")),
                  "enabled": st.booleans(), "mask": st.booleans(),
                  "dropins": st.lists(st.fixed_dictionaries({"name": weighted(st.sampled_from(["10-a.conf", "b.conf"]),
                                                                              unit_names)},
                                                            optional={"contents": st.just("[Unit]\n")}),
                                      max_size=2, unique_by=lambda d: d["name"])}),
        max_size=2, unique_by=lambda u: u["name"]))
    return {"ignition": {"version": "3.4.0"}, "passwd": {"users": users},
            "storage": {"files": files, "directories": directories, "links": links}, "systemd": {"units": units}}


class ShadowRules(FakeRunner):
    """The shadow-utils fake, refusing what the real tools refuse before they
    touch anything: an argument with a NUL byte (the real Runner's own check),
    an empty or slash-bearing name, a home directory that is not absolute."""

    def run(self, argv: Any, **kwargs: Any) -> Result:
        check_argv(argv)
        tool = os.path.basename(argv[0])
        if tool in ("useradd", "usermod", "groupadd", "groupmod"):
            name = argv[-1]
            home = next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("--home-dir", "--home")), "/")
            if not name or "/" in name or name.startswith("-") or not home.startswith("/"):
                raise CommandError(argv, 3, b"", f"{tool}: invalid argument".encode())
        try:
            return super().run(argv, **kwargs)
        except OSError as e:  # the real tool would fail the same way, with a status
            raise CommandError(argv, 12, b"", str(e).encode()) from e


def run_files_stage(raw: bytes) -> None:
    jail = Path(tempfile.mkdtemp(prefix="files-prop-"))
    try:
        (jail / "outside").mkdir()
        root = jail / "root"
        root.mkdir()
        (root / "etc").mkdir()
        (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\nbin:x:2:2::/bin:/bin/false\n")
        (root / "etc/group").write_text("root:x:0:\nbin:x:2:\n")
        e = make_env(jail, raw)
        e.runner.__class__ = ShadowRules  # same state, the real tools' refusals
        e.ctx.root.sync = lambda: None  # type: ignore[method-assign]  # a disk-wide sync per example is not the test
        try:
            FilesStage().run(e.ctx)
            OUTCOMES["stage ok"] += 1
        except IgnitionError:  # a one-line error for the operator: the outcome we want for bad input
            OUTCOMES["stage error"] += 1
        outside = sorted(os.listdir(jail))
        assert outside == ["boot_id", "outside", "root"], f"written outside the root: {outside}"
        assert os.listdir(jail / "outside") == [], "written through a link to outside the root"
    finally:
        shutil.rmtree(jail, ignore_errors=True)


@settings(settings.get_profile("files-ci"))
@given(configs())
def test_any_config_gives_a_config_error_or_a_clean_stage_result(cfg: dict[str, Any]) -> None:
    raw = json.dumps(cfg).encode()
    try:
        parse(raw)
    except ConfigError:
        OUTCOMES["config error"] += 1
        return
    run_files_stage(raw)


def test_zz_outcomes_are_mixed() -> None:
    """The examples reach the stage, both ways: a strategy that only made
    invalid configs would test the validator alone. (Runs after the
    property test: pytest keeps file order.)"""
    if sum(OUTCOMES.values()) < 100:
        return  # run on its own
    print(dict(OUTCOMES))
    assert OUTCOMES["stage ok"] >= sum(OUTCOMES.values()) // 10
    assert OUTCOMES["stage error"] >= sum(OUTCOMES.values()) // 20
