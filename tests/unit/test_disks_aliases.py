"""Device aliases (Ignition's dev_aliases) and multi-signature devices in the
disks stage. Devices are plain files in a temp dir reached through symlinks
that stand in for udev's by-* links; programs are answered by a fake runner."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ignition.config.types import Filesystem
from ignition.errors import StageError
from ignition.run import Result
from ignition.stages.disks import aliases as aliases_mod
from ignition.stages.disks import luks as luks_mod
from ignition.stages.disks.aliases import DeviceAliases, alias_path
from ignition.stages.disks.filesystems import plan_filesystem
from ignition.stages.disks.model import FsInfo, Signature
from ignition.stages.disks.probe import parse_wipefs, probe_filesystem
from ignition.stages.disks.stage import run_disks
from tests.unit.test_disks_raid_luks import Answer, FakeRunner, make_env

WIPEFS_JSON = json.dumps({"signatures": [
    {"device": "x", "offset": "0x0", "type": "xfs", "uuid": "u1", "label": None},
    {"device": "x", "offset": "0x438", "type": "ext4", "uuid": "u2", "label": None}]})


def devices(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Two "nodes" and a by-label link pointing at the first."""
    a, b = tmp_path / "nodeA", tmp_path / "nodeB"
    a.write_bytes(b"")
    b.write_bytes(b"")
    link = tmp_path / "disk" / "by-label" / "data"
    link.parent.mkdir(parents=True)
    link.symlink_to("../../nodeA")
    return a, b, link


def writes(calls: list[list[str]]) -> list[list[str]]:
    return [c for c in calls if c[0] not in ("blkid", "udevadm") and c[:2] != ["wipefs", "--json"]]


def ambivalent(device_suffix: str) -> Answer:
    def answer(argv: list[str]) -> Result | None:
        if argv[0] == "blkid" and argv[-1].endswith(device_suffix):
            return Result(tuple(argv), 8, b"", b"blkid: ambivalent result (probably more filesystems on the device)")
        if argv[:2] == ["wipefs", "--json"]:
            return Result(tuple(argv), 0, WIPEFS_JSON.encode(), b"")
        return None
    return answer


# --- aliases -------------------------------------------------------------------

def test_alias_path_mirrors_the_config_path_and_stays_inside() -> None:
    assert alias_path("/run/ignition/dev_aliases", "/dev/disk/by-label/foo") == \
        "/run/ignition/dev_aliases/dev/disk/by-label/foo"
    assert alias_path("/r/a", "/dev/../../etc/x") == "/r/a/etc/x"


def test_resolved_once_even_when_the_link_moves(tmp_path: Path) -> None:
    a, _, link = devices(tmp_path)
    al = DeviceAliases(str(tmp_path / "run" / "dev_aliases"))
    first = al.get(str(link))
    assert first == alias_path(str(tmp_path / "run" / "dev_aliases"), str(link))
    assert os.readlink(first) == str(a)
    link.unlink()
    link.symlink_to("../../nodeB")  # udev recreated the link for another device
    assert al.get(str(link)) == first and os.path.realpath(first) == str(a)
    assert stat_mode(tmp_path / "run") == 0o700


def stat_mode(p: Path) -> int:
    return p.stat().st_mode & 0o777


def test_an_alias_left_by_an_earlier_run_is_replaced(tmp_path: Path) -> None:
    a, b, link = devices(tmp_path)
    directory = str(tmp_path / "dev_aliases")
    old = Path(alias_path(directory, str(link)))
    old.parent.mkdir(parents=True)
    old.symlink_to(b)
    assert os.path.realpath(DeviceAliases(directory).get(str(link))) == str(a)


def test_dry_run_resolves_but_creates_nothing(tmp_path: Path) -> None:
    a, _, link = devices(tmp_path)
    al = DeviceAliases(str(tmp_path / "run" / "dev_aliases"), dry_run=True)
    assert al.get(str(link)) == str(a)
    assert not (tmp_path / "run").exists()


def test_a_device_that_never_appears_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aliases_mod, "POLL", 0.001)
    with pytest.raises(StageError, match=r"timed out after 0.05s waiting for .*/missing to appear"):
        DeviceAliases(str(tmp_path / "al")).get(str(tmp_path / "missing"), timeout=0.05)


def test_stage_writes_through_the_alias_made_before_any_write(tmp_path: Path) -> None:
    """The link moves to another device after the stage looked at it (udev
    churn); mkfs still goes to the device that was checked."""
    a, _, link = devices(tmp_path)
    moved = []

    def churn(argv: list[str]) -> Result | None:
        if argv[0] == "blkid" and not moved:
            link.unlink()
            link.symlink_to("../../nodeB")
            moved.append(True)
        return None

    e = make_env(tmp_path, {"filesystems": [{"device": str(link), "format": "ext4", "wipeFilesystem": True}]},
                 [churn])
    run_disks(e.ctx)
    alias = alias_path(str(e.run_dir / "dev_aliases"), str(link))
    assert e.without_probes() == [["wipefs", "-a", "@" + str(link)], ["mkfs.ext4", "-F", "@" + str(link)]]
    assert os.readlink(alias) == str(a) and moved


# --- several signatures ----------------------------------------------------------

def test_probe_reports_every_signature_when_blkid_is_ambivalent(tmp_path: Path) -> None:
    e = make_env(tmp_path, {}, [ambivalent("/dev/x")])
    assert isinstance(e.runner, FakeRunner)
    found = probe_filesystem(e.runner, "/dev/x")
    assert found == FsInfo(ambivalent=True, signatures=(Signature("xfs", "0x0", "", "u1"),
                                                         Signature("ext4", "0x438", "", "u2")))
    assert [str(s) for s in found.signatures] == ["xfs at offset 0x0", "ext4 at offset 0x438"]
    assert parse_wipefs("not json") == () and parse_wipefs("") == ()


STALE = FsInfo(ambivalent=True, signatures=(Signature("ext4", "0x438", "root", "9d6e42cd-dcef-4177-b4c6-2a0c979e3d82"),
                                            Signature("zfs_member", "0x3f000", "", "")))


@pytest.mark.parametrize(("fmt", "label", "uuid"), [
    ("ext4", None, None), ("ext4", "root", None), ("ext4", "root", "9D6E42CD-DCEF-4177-B4C6-2A0C979E3D82")])
def test_ambivalent_reuses_the_one_signature_of_the_configs_format(fmt: str, label: str | None,
                                                                     uuid: str | None) -> None:
    # An ext4 with an old zfs_member label beside it: reused, as Ignition does, with a warning.
    fs = Filesystem(device="/dev/vda4", format=fmt, label=label, uuid=uuid)
    plan = plan_filesystem(fs, "/alias", STALE, "$.storage.filesystems[0]")
    assert (plan.action, plan.found.type, plan.found.label) == ("reuse", "ext4", "root")
    assert plan.warning == ("$.storage.filesystems[0] (/dev/vda4): blkid found more than one signature (ext4 at "
                            "offset 0x438, zfs_member at offset 0x3f000); reusing the ext4 filesystem the config "
                            "names, the others stay")


@pytest.mark.parametrize(("fmt", "label", "uuid", "says"), [
    ("xfs", None, None, "and none is the xfs filesystem the config names; nothing"),
    ("ext4", "data", None, "and none is the ext4 filesystem the config names (label 'data'); nothing"),
    ("ext4", None, "11111111-2222-3333-4444-555555555555",
     "and none is the ext4 filesystem the config names (UUID 11111111-2222-3333-4444-555555555555); nothing"),
    ("none", None, None, "and the config keeps no filesystem (format none); nothing"),
])
def test_ambivalent_without_wipe_is_refused_with_what_was_found(fmt: str, label: str | None, uuid: str | None,
                                                                  says: str) -> None:
    fs = Filesystem(device="/dev/disk/by-label/d", format=fmt, label=label, uuid=uuid)
    with pytest.raises(StageError) as err:
        plan_filesystem(fs, "/alias", STALE, "$.storage.filesystems[2]")
    msg = str(err.value)
    assert msg.startswith("$.storage.filesystems[2] (/dev/disk/by-label/d): blkid found more than one signature")
    assert "(ext4 at offset 0x438, zfs_member at offset 0x3f000)" in msg and says in msg
    assert "set wipeFilesystem: true" in msg


def test_two_signatures_of_the_configs_format_are_not_guessed_between() -> None:
    two = FsInfo(ambivalent=True, signatures=(Signature("ext4", "0x438", "a", "u1"), Signature("ext4", "0x10438", "a",
                                                                                               "u2")))
    with pytest.raises(StageError, match="2 of them ext4, so it cannot tell which the config means"):
        plan_filesystem(Filesystem(device="/dev/x", format="ext4"), "/alias", two)


def test_ambivalent_with_wipe_erases_all_then_creates(tmp_path: Path) -> None:
    _, _, link = devices(tmp_path)
    e = make_env(tmp_path, {"filesystems": [{"device": str(link), "format": "xfs", "wipeFilesystem": True}]},
                 [ambivalent("nodeA"), ambivalent(str(link))])
    run_disks(e.ctx)
    assert writes(e.calls) == [["wipefs", "-a", "@" + str(link)], ["mkfs.xfs", "-f", "@" + str(link)]]


def test_ambivalent_without_wipe_fails_before_anything_is_written(tmp_path: Path) -> None:
    _, _, link = devices(tmp_path)
    e = make_env(tmp_path, {"filesystems": [{"device": str(tmp_path / "nodeB"), "format": "ext4",
                                             "wipeFilesystem": True},
                                            {"device": str(link), "format": "ext4", "label": "new"}]},
                 [ambivalent(str(link))])
    with pytest.raises(StageError, match=r"\$\.storage\.filesystems\[1\] .*xfs at offset 0x0, ext4 at offset"):
        run_disks(e.ctx)
    assert writes(e.calls) == []


def test_ambivalent_luks_device_without_wipe_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "dm").mkdir()
    monkeypatch.setattr(luks_mod, "DM_REGISTERED", str(tmp_path / "dm"))
    monkeypatch.setattr(luks_mod, "DM_CRYPT_LOADED", str(tmp_path / "dm"))
    a, _, _ = devices(tmp_path)
    e = make_env(tmp_path, {"luks": [{"name": "c", "device": str(a)}]}, [ambivalent("nodeA")])
    with pytest.raises(StageError, match=r"^\$\.storage\.luks\[0\] \(LUKS volume c\): blkid found more than one "
                       r"signature on .*nodeA \(xfs at offset 0x0, ext4 at offset 0x438\).*set wipeVolume: true"):
        run_disks(e.ctx)
    assert writes(e.calls) == []


def test_a_dry_run_does_not_wait_for_a_missing_device(tmp_path: Path) -> None:
    import time

    start = time.monotonic()
    with pytest.raises(StageError, match=r"^\S*/missing does not exist$"):
        DeviceAliases(str(tmp_path / "aliases"), dry_run=True).get(str(tmp_path / "missing"))
    assert time.monotonic() - start < 1
