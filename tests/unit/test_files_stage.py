"""The whole files stage: order, result file, dry run, SELinux relabel."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from ignition.plan import PlanEntry
from ignition.stages.files.result import RESULT_PATH
from ignition.stages.files.stage import FilesStage
from ignition.stages.files.units import PRESET_PATH
from ignition.state import FetchedConfig, State
from tests.unit.test_files_support import (
    Env,
    config,
    gz_url,
    make_env,
    mode,
    sha512,
    snapshot,
    text_url,
)

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")
# A real run chowns the result file to 0:0 and SSH keys to their user.
stage_chowns = pytest.mark.skipif(os.geteuid() != 0, reason="a real files stage chowns (result file 0:0): needs root")

UNIT = "[Unit]\nDescription=app\n[Service]\nExecStart=/usr/bin/app\n[Install]\nWantedBy=multi-user.target\n"
CONF = b"key=value\n"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests alice@example"


def everything(owners_by_name: bool = True, hard_link: bool = True) -> bytes:
    owner: dict[str, Any] = ({"user": {"name": "alice"}, "group": {"name": "ops"}} if owners_by_name
                             else {"user": {"id": 4701}, "group": {"id": 4700}})
    links: list[dict[str, Any]] = [{"path": "/etc/app/current", "target": "app.conf"}]
    if hard_link:
        links.append({"path": "/etc/app/app.conf.bak", "target": "/etc/app/app.conf", "hard": True})
    return config(
        "3.4.0",
        passwd={
            "groups": [{"name": "ops", "gid": 4700}],
            "users": [{"name": "alice", "uid": 4701, "primaryGroup": "ops", "noUserGroup": True,
                       "sshAuthorizedKeys": [KEY]}],
        },
        storage={
            "files": [
                {"path": "/etc/app/app.conf", "mode": 0o640, "contents": {
                    "source": text_url(CONF.decode()), "verification": {"hash": sha512(CONF)}}, **owner},
                {"path": "/etc/motd", "contents": {"source": gz_url(b"welcome\n"), "compression": "gzip"},
                 "append": [{"source": text_url("second line\n")}]},
            ],
            "directories": [{"path": "/var/lib/app", "mode": 0o750, **owner}],
            "links": links,
        },
        systemd={"units": [
            {"name": "app.service", "enabled": True, "contents": UNIT,
             "dropins": [{"name": "10-env.conf", "contents": "[Service]\nEnvironment=A=1\n"}]},
            {"name": "getty@ttyS0.service", "enabled": True},
            {"name": "bad.service", "mask": True},
        ]},
    )


def stage_env(tmp_path: Path, cfg: bytes, **kw: Any) -> Env:
    return make_env(tmp_path, cfg, state=State(fetched_configs=[FetchedConfig("user", "file", False)]), **kw)


# A real run on a temporary root


@stage_chowns
def test_whole_stage(tmp_path: Path) -> None:
    e = stage_env(tmp_path, everything(owners_by_name=False))
    FilesStage().run(e.ctx)

    calls = [os.path.basename(a[0]) for a in e.fake.argvs]
    assert calls[:2] == ["groupadd", "useradd"]
    assert "alice:x:4701:4700:" in e.p("/etc/passwd").read_text()

    assert e.p("/etc/app/app.conf").read_bytes() == CONF
    assert mode(e.p("/etc/app/app.conf")) == 0o640
    assert mode(e.p("/etc/app")) == 0o755
    assert e.p("/etc/motd").read_bytes() == b"welcome\nsecond line\n"
    assert mode(e.p("/etc/motd")) == 0o644
    assert e.p("/var/lib/app").is_dir() and mode(e.p("/var/lib/app")) == 0o750
    assert os.readlink(e.p("/etc/app/current")) == "app.conf"
    assert os.lstat(e.p("/etc/app/app.conf.bak")).st_ino == os.lstat(e.p("/etc/app/app.conf")).st_ino

    assert e.p("/home/alice/.ssh/authorized_keys.d/ignition").read_text() == KEY + "\n"

    assert e.p("/etc/systemd/system/app.service").read_text() == UNIT
    assert e.p("/etc/systemd/system/app.service.d/10-env.conf").read_text() == "[Service]\nEnvironment=A=1\n"
    assert os.readlink(e.p("/etc/systemd/system/bad.service")) == "/dev/null"
    assert e.p(PRESET_PATH).read_text() == "enable app.service\nenable getty@.service ttyS0\n"

    result = json.loads(e.p(RESULT_PATH).read_text())
    assert result["userConfigProvided"] is True
    assert result["provisioningBootID"] == "5d7b1a0c-0a0b-4c4d-8e8f-101112131415"
    assert mode(e.p(RESULT_PATH)) == 0o600

    # No SELinux policy in this target: nothing relabels.
    assert "setfiles" not in calls


@needs_root
def test_whole_stage_owners(tmp_path: Path) -> None:
    e = stage_env(tmp_path, everything(owners_by_name=False))
    FilesStage().run(e.ctx)
    for p in ("/etc/app/app.conf", "/var/lib/app"):
        st = os.lstat(e.p(p))
        assert (st.st_uid, st.st_gid) == (4701, 4700), p
    st = os.lstat(e.p("/home/alice/.ssh/authorized_keys.d/ignition"))
    assert (st.st_uid, st.st_gid) == (4701, 4700)


@needs_root
def test_file_owned_by_a_user_created_in_the_same_config(tmp_path: Path) -> None:
    # Users come before files, so the name resolves in the target's new /etc/passwd.
    e = stage_env(tmp_path, everything(owners_by_name=True))
    FilesStage().run(e.ctx)
    for p in ("/etc/app/app.conf", "/var/lib/app"):
        st = os.lstat(e.p(p))
        assert (st.st_uid, st.st_gid) == (4701, 4700), p


@stage_chowns
def test_result_file_is_written_for_an_empty_config(tmp_path: Path) -> None:
    e = make_env(tmp_path, config())
    assert FilesStage().applies(e.ctx.config)
    FilesStage().run(e.ctx)
    assert json.loads(e.p(RESULT_PATH).read_text())["userConfigProvided"] is False
    assert mode(e.p(RESULT_PATH)) == 0o600
    assert e.fake.calls == []


@stage_chowns
def test_failure_in_nodes_writes_no_result(tmp_path: Path) -> None:
    e = stage_env(tmp_path, config(storage={"files": [
        {"path": "/etc/x", "contents": {"source": text_url("x"), "verification": {"hash": sha512(b"y")}}}]}))
    with pytest.raises(Exception, match="hash"):
        FilesStage().run(e.ctx)
    assert not e.p(RESULT_PATH).exists()


# Dry run


def _details(entry: PlanEntry) -> dict[str, str]:
    return dict(entry.details)


def _dry(tmp_path: Path, cfg: bytes) -> tuple[Env, dict[str, Any]]:
    e = stage_env(tmp_path, cfg, dry=True)
    (e.root / "etc").mkdir()
    (e.root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (e.root / "etc/group").write_text("root:x:0:\n")
    return e, snapshot(tmp_path)


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    e, before = _dry(tmp_path, everything(owners_by_name=False, hard_link=False))
    FilesStage().run(e.ctx)
    assert snapshot(tmp_path) == before


def test_dry_run_plans_files_with_every_detail(tmp_path: Path) -> None:
    e, _ = _dry(tmp_path, everything(owners_by_name=False, hard_link=False))
    FilesStage().run(e.ctx)
    assert e.plan is not None
    by_target: dict[str, list[PlanEntry]] = {}
    for entry in e.plan.entries:
        by_target.setdefault(entry.target, []).append(entry)

    writes = [x for x in by_target["/etc/app/app.conf"] if x.action == "write"]
    assert len(writes) == 1
    assert _details(writes[0]) == {"type": "file", "mode": "0640", "owner": "4701:4700", "size": str(len(CONF)),
                                   "sha256": hashlib.sha256(CONF).hexdigest()}
    motd = _details(next(x for x in by_target["/etc/motd"] if x.action == "write"))
    assert motd["type"] == "file" and motd["mode"] == "0644" and motd["owner"] == "0:0"
    assert motd["sha256"] == hashlib.sha256(b"welcome\n").hexdigest()
    unit = _details(next(x for x in by_target["/etc/systemd/system/app.service"] if x.action == "write"))
    assert unit["sha256"] == hashlib.sha256(UNIT.encode()).hexdigest() and unit["mode"] == "0644"
    assert any(x.action == "write" for x in by_target[RESULT_PATH])
    assert any(x.action == "write" for x in by_target[PRESET_PATH])
    keys = _details(next(x for x in by_target["/home/alice/.ssh/authorized_keys.d/ignition"]
                         if x.action == "write"))
    assert keys["mode"] == "0600" and keys["sha256"] == hashlib.sha256((KEY + "\n").encode()).hexdigest()


def test_dry_run_plans_links(tmp_path: Path) -> None:
    e, _ = _dry(tmp_path, everything(owners_by_name=False, hard_link=False))
    FilesStage().run(e.ctx)
    assert e.plan is not None
    links = {x.target: _details(x) for x in e.plan.entries if x.action == "symlink"}
    assert links["/etc/app/current"]["to"] == "app.conf"
    assert links["/etc/systemd/system/bad.service"]["to"] == "/dev/null"


def test_dry_run_plans_directories_with_type_mode_and_owner(tmp_path: Path) -> None:
    e, _ = _dry(tmp_path, everything(owners_by_name=False, hard_link=False))
    FilesStage().run(e.ctx)
    assert e.plan is not None
    entries = [x for x in e.plan.entries if x.target == "/var/lib/app"]
    assert entries, "the directory is not in the plan"
    merged: dict[str, str] = {}
    for x in entries:
        merged.update(_details(x))
    assert merged.get("mode") == "0750"
    assert merged.get("owner") == "4701:4700"
    assert entries[0].action == "mkdir" or merged.get("type") == "dir"


def test_dry_run_plans_shadow_utils_as_run_entries(tmp_path: Path) -> None:
    e, _ = _dry(tmp_path, everything(owners_by_name=False, hard_link=False))
    FilesStage().run(e.ctx)
    assert e.plan is not None
    runs = [x.target for x in e.plan.entries if x.action == "run"]
    assert any(r.startswith(f"groupadd --root={e.root} ") and r.endswith(" ops") for r in runs)
    useradds = [r for r in runs if r.startswith("useradd ")]
    assert len(useradds) == 1
    assert f"--root={e.root}" in useradds[0] and "--uid 4701" in useradds[0] and useradds[0].endswith(" alice")


def test_dry_run_with_owner_by_name_of_a_planned_user(tmp_path: Path) -> None:
    # A config that works for real (users before files) must also dry-run.
    e, before = _dry(tmp_path, everything(owners_by_name=True, hard_link=False))
    FilesStage().run(e.ctx)
    assert snapshot(tmp_path) == before
    assert e.plan is not None
    assert any(x.target == "/etc/app/app.conf" and x.action == "write" for x in e.plan.entries)


def test_dry_run_with_hard_link_to_a_planned_file(tmp_path: Path) -> None:
    # A config that works for real (hard links last) must also dry-run.
    e, before = _dry(tmp_path, everything(owners_by_name=False, hard_link=True))
    FilesStage().run(e.ctx)
    assert snapshot(tmp_path) == before
    assert e.plan is not None
    hard = [_details(x) for x in e.plan.entries if x.action == "hardlink"]
    assert hard == [{"to": "/etc/app/app.conf"}]


def test_dry_run_of_overwrite_keeps_the_old_file(tmp_path: Path) -> None:
    e, _ = _dry(tmp_path, config(storage={"files": [
        {"path": "/etc/motd", "overwrite": True, "contents": {"source": text_url("new\n")}}]}))
    (e.root / "etc/motd").write_bytes(b"old\n")
    before = snapshot(tmp_path)
    FilesStage().run(e.ctx)
    assert snapshot(tmp_path) == before
    assert e.plan is not None
    assert [(x.action, x.target) for x in e.plan.entries if x.target == "/etc/motd"] == [
        ("remove", "/etc/motd"), ("write", "/etc/motd")]


# SELinux


def _policy(root: Path, config_text: str = "SELINUX=enforcing\nSELINUXTYPE=targeted\n",
            contexts: bool = True) -> Path:
    (root / "etc/selinux").mkdir(parents=True)
    (root / "etc/selinux/config").write_text(config_text)
    fc = root / "etc/selinux/targeted/contexts/files/file_contexts"
    if contexts:
        fc.parent.mkdir(parents=True)
        fc.write_text("/.* system_u:object_r:default_t:s0\n")
    return fc


def _setfiles(e: Env) -> list[Any]:
    return [c for c in e.fake.calls if os.path.basename(c.argv[0]) == "setfiles"]


@stage_chowns
def test_selinux_relabels_once_with_setfiles(tmp_path: Path) -> None:
    e = stage_env(tmp_path, everything(owners_by_name=False))
    fc = _policy(e.root)
    FilesStage().run(e.ctx)
    calls = _setfiles(e)
    assert len(calls) == 1
    assert calls[0].argv == ("setfiles", "-vF0", "-r", str(e.root), str(fc), "-f", "-")
    data = calls[0].input
    assert data is not None and data.endswith(b"\0")
    paths = data[:-1].split(b"\0")
    assert len(paths) == len(set(paths))
    for p in paths:
        assert os.path.lexists(p), p
        assert os.path.commonpath([str(e.root), p.decode()]) == str(e.root)
    listed = {p.decode() for p in paths}
    # setfiles walks down from each path: a created tree is listed by its top (/var here).
    for want in ("/etc/app", "/etc/motd", "/var", "/etc/systemd/system/app.service",
                 os.path.dirname(PRESET_PATH), RESULT_PATH, "/etc/passwd", "/etc/group"):
        assert str(e.p(want)) in listed, want
    # Everything the stage ran came before the relabel.
    assert os.path.basename(e.fake.calls[-1].argv[0]) == "setfiles"


@stage_chowns
def test_selinux_relabel_for_an_empty_config_covers_the_result(tmp_path: Path) -> None:
    e = make_env(tmp_path, config())
    _policy(e.root)
    FilesStage().run(e.ctx)
    calls = _setfiles(e)
    assert len(calls) == 1 and calls[0].input == str(e.p(RESULT_PATH)).encode() + b"\0"


@stage_chowns
def test_no_policy_no_setfiles(tmp_path: Path) -> None:
    e = stage_env(tmp_path, everything(owners_by_name=False))
    FilesStage().run(e.ctx)
    assert _setfiles(e) == []


@stage_chowns
def test_policy_without_file_contexts_no_setfiles(tmp_path: Path) -> None:
    e = stage_env(tmp_path, everything(owners_by_name=False))
    _policy(e.root, contexts=False)
    FilesStage().run(e.ctx)
    assert _setfiles(e) == []


@stage_chowns
def test_selinux_config_without_type_no_setfiles(tmp_path: Path) -> None:
    e = stage_env(tmp_path, everything(owners_by_name=False))
    _policy(e.root, config_text="SELINUX=disabled\n")
    FilesStage().run(e.ctx)
    assert _setfiles(e) == []


@stage_chowns
def test_selinux_quoted_policy_type(tmp_path: Path) -> None:
    e = make_env(tmp_path, config())
    fc = _policy(e.root, config_text='SELINUXTYPE="targeted"\n')
    FilesStage().run(e.ctx)
    assert [c.argv[4] for c in _setfiles(e)] == [str(fc)]
