"""Passwd entries that Go's ignition-validate 2.14 accepts and useradd or
groupadd refuses: an empty user or group name, a relative homeDir. The
validator accepts them too (docs/conformance.md); the files stage, with the
real shadow-utils against a target tree, ends in one line naming the config
path and the tool's reason, and the target's account files are unchanged."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.root.oracle import OURS, make_base_tree, noop_setfiles, run_stages

pytestmark = pytest.mark.root

ACCOUNT_FILES = ("etc/passwd", "etc/group", "etc/shadow", "etc/gshadow")


@pytest.fixture
def work() -> Iterator[Path]:
    w = Path("/var/tmp") / f"ignition-passwd-refused-{os.getpid()}"
    shutil.rmtree(w, ignore_errors=True)
    w.mkdir()
    make_base_tree(w / "root")
    yield w
    shutil.rmtree(w, ignore_errors=True)


@pytest.mark.parametrize(("passwd", "where", "reason"), [
    ({"users": [{"name": ""}]}, "passwd.users.0", "useradd: invalid user name ''"),
    ({"users": [{"name": "core", "homeDir": "home/core"}]}, "passwd.users.0",
     "useradd: invalid home directory 'home/core'"),
    ({"groups": [{"name": ""}]}, "passwd.groups.0", "groupadd: '' is not a valid group name"),
], ids=["empty-user-name", "relative-home", "empty-group-name"])
def test_refused_by_shadow_utils_is_one_clean_line(work: Path, passwd: dict[str, Any], where: str,
                                                   reason: str) -> None:
    before = {f: (work / "root" / f).read_bytes() for f in ACCOUNT_FILES}
    config = {"ignition": {"version": "3.3.0"}, "passwd": passwd}
    run = run_stages(OURS, work, config, ["fetch-offline", "files"], extra_path=noop_setfiles(work / "bin"))
    assert run.rc == 1, run.log[-3000:]
    critical = [ln for ln in run.log.splitlines() if ln.startswith("CRITICAL")]
    assert len(critical) == 1, run.log[-3000:]
    assert f"stage failed: {where}: " in critical[0]
    assert reason in critical[0]
    assert "internal error" not in run.log
    assert {f: (work / "root" / f).read_bytes() for f in ACCOUNT_FILES} == before
