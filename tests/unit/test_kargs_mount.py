"""Stages kargs, mount and umount with a recording runner."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from ignition.config.parse import parse
from ignition.context import Paths, StageContext
from ignition.environment import Environment
from ignition.errors import CommandError, StageError
from ignition.log import Logger
from ignition.resources.fetcher import Fetcher
from ignition.run import Result, Runner
from ignition.stages.kargs import KargsStage
from ignition.stages.mount import MountStage, UmountStage, mountable, mounted_at
from ignition.state import State
from ignition.sysroot import Sysroot


class Sink:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def emit(self, priority: int, message: str, fields: Mapping[str, str]) -> None:
        self.lines.append(message)


class FakeRunner(Runner):
    def __init__(self, logger: Logger, fail: bool = False) -> None:
        super().__init__(logger)
        self.calls: list[list[str]] = []
        self.fail = fail

    def run(self, argv: Sequence[str], **kwargs: Any) -> Result:
        self.calls.append(list(argv))
        if self.fail:
            raise CommandError(argv, 32, b"", b"mount: wrong fs type")
        return Result(tuple(argv), 0, b"", b"")


def ctx_for(tmp_path: Path, cfg: dict[str, Any], fail: bool = False) -> tuple[StageContext, FakeRunner]:
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    logger = Logger(Sink(), "mount", "file")
    runner = FakeRunner(logger, fail)
    config = parse(json.dumps(cfg).encode()).config
    run = tmp_path / "run"
    ctx = StageContext(config, Sysroot(str(root)), runner, Fetcher(logger), State(), "file", logger,
                       Environment(), Paths(str(tmp_path / "cache.json"), str(run / "state"), str(run / "neednet")))
    return ctx, runner


@pytest.fixture(autouse=True)
def _devices_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    # The config's devices are taken to exist: each alias points at its config path.
    monkeypatch.setattr("ignition.stages.disks.aliases.wait_for_node", lambda path, timeout=30.0: path)


def alias(tmp_path: Path, device: str) -> str:
    return f"{tmp_path}/run/dev_aliases{device}"


def fs(path: str, fmt: str = "ext4", **more: Any) -> dict[str, Any]:
    label = path.strip("/").replace("/", "-") or "root"
    return {"device": f"/dev/disk/by-label/{label}", "format": fmt, "path": path, **more}


def storage(*filesystems: dict[str, Any]) -> dict[str, Any]:
    return {"ignition": {"version": "3.3.0"}, "storage": {"filesystems": list(filesystems)}}


def test_mount_shallowest_first_with_options_and_notated_dirs(tmp_path: Path) -> None:
    ctx, runner = ctx_for(tmp_path, storage(fs("/var/lib/data", mountOptions=["noatime", "ro"]), fs("/var"),
                                            fs("/swap", "swap"), fs("/none", "none")))
    MountStage().run(ctx)
    root = str(tmp_path / "root")
    assert runner.calls == [
        ["mount", "-t", "ext4", alias(tmp_path, "/dev/disk/by-label/var"), f"{root}/var"],
        ["mount", "-o", "noatime,ro", "-t", "ext4", alias(tmp_path, "/dev/disk/by-label/var-lib-data"),
         f"{root}/var/lib/data"],
    ]
    assert os.readlink(alias(tmp_path, "/dev/disk/by-label/var")) == "/dev/disk/by-label/var"
    assert (tmp_path / "root/var/lib/data").is_dir()
    assert oct(os.stat(tmp_path / "root/var/lib").st_mode & 0o777) == "0o755"
    assert ctx.state.notated_directories == ["/var", "/var/lib", "/var/lib/data"]


def test_mount_refuses_a_path_through_a_symlink(tmp_path: Path) -> None:
    ctx, runner = ctx_for(tmp_path, storage(fs("/srv/data")))
    os.symlink("/etc", tmp_path / "root/srv")
    with pytest.raises(StageError, match="goes through the symbolic link /srv"):
        MountStage().run(ctx)
    assert runner.calls == []


def test_mount_failure_names_the_device_and_what_to_check(tmp_path: Path) -> None:
    ctx, _ = ctx_for(tmp_path, storage(fs("/data")), fail=True)
    with pytest.raises(StageError, match=r"mounting /dev/disk/by-label/data at /data: .*wrong fs type.*mountOptions"):
        MountStage().run(ctx)


def test_umount_deepest_first_and_only_what_is_mounted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx, runner = ctx_for(tmp_path, storage(fs("/var"), fs("/var/lib/data"), fs("/srv")))
    root = tmp_path / "root"
    for p in ("var/lib/data", "srv"):
        (root / p).mkdir(parents=True)
    mounted = {str(root / "var"), str(root / "var/lib/data")}
    monkeypatch.setattr("ignition.stages.mount.mounted_at", lambda p: p in mounted)
    UmountStage().run(ctx)
    assert runner.calls == [["umount", f"{root}/var/lib/data"], ["umount", f"{root}/var"]]


def test_mounted_at_reads_the_mount_table(tmp_path: Path) -> None:
    table = tmp_path / "mounts"
    table.write_text("/dev/vda1 /sysroot/var ext4 rw 0 0\n/dev/vdb /sysroot/my\\040dir xfs rw 0 0\n")
    assert mounted_at("/sysroot/var", str(table))
    assert mounted_at("/sysroot/my dir", str(table))
    assert not mounted_at("/sysroot", str(table))


def test_nothing_to_mount() -> None:
    config = parse(json.dumps(storage(fs("/x", "swap"))).encode()).config
    assert mountable(config) == []
    assert not MountStage().applies(config)


def test_kargs_calls_the_distribution_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    helper = tmp_path / "ignition-kargs-helper"
    helper.write_text("#!/bin/sh\n")
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    cfg = {"ignition": {"version": "3.3.0"},
           "kernelArguments": {"shouldExist": ["console=ttyS0", "quiet splash"], "shouldNotExist": ["rhgb"]}}
    ctx, runner = ctx_for(tmp_path, cfg)
    assert KargsStage().applies(ctx.config)
    KargsStage().run(ctx)
    assert runner.calls == [["ignition-kargs-helper", "--should-exist", "console=ttyS0", "--should-exist",
                             "quiet splash", "--should-not-exist", "rhgb"]]


def test_kargs_without_helper_is_not_supported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IGNITION_TOOL_IGNITION_KARGS_HELPER", "no-such-kargs-helper")
    ctx, runner = ctx_for(tmp_path, {"ignition": {"version": "3.3.0"},
                                     "kernelArguments": {"shouldExist": ["quiet"]}})
    with pytest.raises(StageError, match=r"not supported on this distribution.*no-such-kargs-helper"):
        KargsStage().run(ctx)
    assert runner.calls == []


def test_kargs_empty_is_a_no_op() -> None:
    config = parse(b'{"ignition": {"version": "3.3.0"}, "kernelArguments": {"shouldExist": []}}').config
    assert not KargsStage().applies(config)


def test_mount_points_in_a_home_are_handed_to_the_user(tmp_path: Path) -> None:
    from ignition.stages.files.passwd import apply_passwd

    cfg = {"ignition": {"version": "3.3.0"}, "passwd": {"users": [{"name": "ann"}]}}
    ctx, runner = ctx_for(tmp_path, cfg)
    root = tmp_path / "root"
    (root / "etc").mkdir()
    (root / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\nann:x:1500:1600::/home/ann:/bin/sh\n")
    (root / "etc/group").write_text("root:x:0:\n")
    (root / "home/ann/data/deep").mkdir(parents=True)
    (root / "srv").mkdir()
    # The mount stage made /home and the home itself on the way to the mount point.
    ctx.state.notated_directories.extend(["/home", "/home/ann", "/home/ann/data", "/home/ann/data/deep", "/srv"])
    apply_passwd(ctx)  # ann exists: usermod has nothing to change, so no command runs
    assert runner.calls == []
    for d in ("home/ann", "home/ann/data", "home/ann/data/deep"):
        st = os.stat(root / d)
        assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (1500, 1600, 0o700)
    for d in ("home", "srv"):
        st = os.stat(root / d)
        assert (st.st_uid, st.st_mode & 0o777) == (0, 0o755)


def test_mount_waits_for_its_device_and_names_it_when_it_never_comes(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def never(path: str, timeout: float = 30.0) -> str:
        raise StageError(f"timed out after {timeout:g}s waiting for {path} to appear")

    monkeypatch.setattr("ignition.stages.disks.aliases.wait_for_node", never)
    ctx, runner = ctx_for(tmp_path, storage(fs("/data")))
    with pytest.raises(StageError, match=r"mounting /dev/disk/by-label/data at /data: timed out after 30s waiting "
                                         r"for /dev/disk/by-label/data to appear; check the filesystem's device"):
        MountStage().run(ctx)
    assert runner.calls == []
