"""The result file the files stage leaves in the target."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

from ignition.acquire import empty_config
from ignition.context import Paths, StageContext
from ignition.environment import Environment
from ignition.log import WARNING, Logger
from ignition.plan import Plan
from ignition.resources.fetcher import Fetcher
from ignition.run import Runner
from ignition.stages.files.result import RESULT_PATH, write_result
from ignition.state import FetchedConfig, State
from ignition.sysroot import Sysroot
from ignition.sysroot_dryrun import DryRunSysroot


class Sink:
    def __init__(self) -> None:
        self.entries: list[tuple[int, str]] = []

    def emit(self, priority: int, message: str, fields: object) -> None:
        self.entries.append((priority, message))


def ctx_for(tmp_path: Path, state: State, dry: bool = False) -> tuple[StageContext, Sink]:
    (tmp_path / "boot_id").write_text("5d7b1a0c-0a0b-4c4d-8e8f-101112131415\n")
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    sink = Sink()
    logger = Logger(sink, "files", "file")
    plan = Plan() if dry else None
    sysroot = DryRunSysroot(str(root), plan) if plan is not None else Sysroot(str(root))
    env = Environment(boot_id_path=str(tmp_path / "boot_id"))
    ctx = StageContext(empty_config(), sysroot, Runner(logger), Fetcher(logger), state, "file", logger, env,
                       Paths(), dry, plan)
    return ctx, sink


NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def test_first_result(tmp_path: Path) -> None:
    ctx, sink = ctx_for(tmp_path, State(fetched_configs=[FetchedConfig("user", "file", False)]))
    write_result(ctx, NOW)
    path = tmp_path / "root" / RESULT_PATH.lstrip("/")
    data = json.loads(path.read_text())
    assert data == {
        "provisioningBootID": "5d7b1a0c-0a0b-4c4d-8e8f-101112131415",
        "provisioningDate": "2026-11-25T12:00:00+00:00",
        "userConfigProvided": True,
    }
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o755
    assert not [p for p, _ in sink.entries if p == WARNING]


def test_no_user_config(tmp_path: Path) -> None:
    ctx, _ = ctx_for(tmp_path, State(fetched_configs=[FetchedConfig("base", "system", False)]))
    assert write_result(ctx, NOW)["userConfigProvided"] is False


def test_previous_result_is_kept_and_warned_about(tmp_path: Path) -> None:
    ctx, _ = ctx_for(tmp_path, State())
    write_result(ctx, NOW)
    ctx2, sink = ctx_for(tmp_path, State())
    later = datetime(2026, 11, 26, tzinfo=UTC)
    write_result(ctx2, later)
    data = json.loads((tmp_path / "root/etc/.ignition-result.json").read_text())
    assert data["provisioningDate"] == "2026-11-26T00:00:00+00:00"
    assert data["previousReport"]["provisioningDate"] == "2026-11-25T12:00:00+00:00"
    warnings = [m for p, m in sink.entries if p == WARNING]
    assert len(warnings) == 1 and "already run on this system" in warnings[0]


def test_dry_run_plans_the_result_without_writing(tmp_path: Path) -> None:
    ctx, _ = ctx_for(tmp_path, State(), dry=True)
    write_result(ctx, NOW)
    assert not (tmp_path / "root/etc").exists()
    assert ctx.plan is not None
    assert [(e.action, e.target) for e in ctx.plan.entries] == [("mkdir", "/etc"), ("write", RESULT_PATH)]



def test_a_file_where_etc_should_be_fails_the_result_cleanly(tmp_path: Path) -> None:
    # A file with overwrite: true at /etc leaves no directory for the result: one clean error.
    import pytest

    from ignition.errors import StageError

    ctx, _ = ctx_for(tmp_path, State())
    (tmp_path / "root" / "etc").write_bytes(b"a file now")
    with pytest.raises(StageError, match=r"writing the result file /etc/\.ignition-result\.json"):
        write_result(ctx, NOW)
    assert (tmp_path / "root" / "etc").read_bytes() == b"a file now"
