"""Root tests: a device with two filesystem signatures (blkid -p: "ambivalent
result"), and the stage's device aliases on real loop devices.

The two-signature device: mkfs.ext4, then the first sector of a freshly made
XFS (its superblock, with a valid CRC) copied over the ext4's unused boot
block. The ext4 superblock (at 1024) is untouched, so blkid finds both."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.root.loopdev import Attach, digest, filesystem, loops, sh, udevd  # noqa: F401 - fixtures
from tests.root.oracle import OURS, run_stages

pytestmark = pytest.mark.root


def two_signatures(dev: str, tmp_path: Path) -> None:
    sh("mkfs.ext4", "-q", "-F", "-L", "old", dev)
    xfs = tmp_path / "xfs.img"
    with open(xfs, "wb") as f:
        f.truncate(300 * 1024 * 1024)  # mkfs.xfs's minimum; sparse
    sh("mkfs.xfs", "-q", "-f", str(xfs))
    with open(xfs, "rb") as src, open(dev, "r+b") as dst:
        dst.write(src.read(512))
        dst.flush()
        os.fsync(dst.fileno())
    xfs.unlink()
    probe = subprocess.run(["blkid", "-p", dev], capture_output=True, text=True, check=False)
    assert probe.returncode == 8 and "ambivalent" in probe.stderr, (probe.returncode, probe.stderr)


def workdir(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    (work / "root").mkdir(parents=True)
    return work


def config(dev: str, wipe: bool) -> dict[str, object]:
    return {"ignition": {"version": "3.3.0"}, "storage": {"filesystems": [
        {"device": dev, "format": "ext4", "label": "new", "wipeFilesystem": wipe}]}}


def test_two_signatures_without_wipe_fail_and_change_nothing(loops: Attach, tmp_path: Path) -> None:  # noqa: F811
    dev = loops(64)
    two_signatures(dev, tmp_path)
    before = digest(dev)
    res = run_stages(OURS, workdir(tmp_path), config(dev, False), ["fetch-offline", "disks"])
    assert res.rc == 1, res.log
    assert (f"$.storage.filesystems[0] ({dev}): blkid found more than one signature on the device "
            "(xfs at offset 0x0, ext4 at offset 0x438)") in res.log, res.log
    assert "set wipeFilesystem: true" in res.log
    assert digest(dev) == before


def test_a_stale_signature_beside_the_configs_filesystem_is_reused(loops: Attach, tmp_path: Path) -> None:  # noqa: F811
    # As Ignition reuses an ext4 that carries an old foreign signature: the config names the ext4.
    dev = loops(64)
    two_signatures(dev, tmp_path)
    cfg = {"ignition": {"version": "3.3.0"}, "storage": {"filesystems": [
        {"device": dev, "format": "ext4", "label": "old", "wipeFilesystem": False}]}}
    before = digest(dev)
    res = run_stages(OURS, workdir(tmp_path), cfg, ["fetch-offline", "disks"])
    assert res.rc == 0, res.log
    assert (f"$.storage.filesystems[0] ({dev}): blkid found more than one signature (xfs at offset 0x0, ext4 at "
            "offset 0x438); reusing the ext4 filesystem the config names, the others stay") in res.log, res.log
    assert digest(dev) == before  # nothing written, the stale signature included


def test_two_signatures_with_wipe_leave_one_new_filesystem(loops: Attach, tmp_path: Path) -> None:  # noqa: F811
    dev = loops(64)
    two_signatures(dev, tmp_path)
    work = workdir(tmp_path)
    res = run_stages(OURS, work, config(dev, True), ["fetch-offline", "disks"])
    assert res.rc == 0, res.log
    probe = subprocess.run(["blkid", "-p", dev], capture_output=True, text=True, check=False)
    assert probe.returncode == 0, probe.stderr  # one signature left: no more ambivalence
    assert filesystem(dev)[:2] == ("ext4", "new")


def test_commands_go_through_the_alias_of_a_udev_link(loops: Attach, tmp_path: Path) -> None:  # noqa: F811
    """The config names the disk by a link; the stage leaves
    <run dir>/dev_aliases/<that path> pointing at the node and gives mkfs the
    alias, never the link."""
    dev = loops(64)
    link = str(tmp_path / "by-id" / "loopdisk")  # stands in for a udev link (loop devices get none)
    os.makedirs(os.path.dirname(link))
    os.symlink(dev, link)
    work = workdir(tmp_path)
    res = run_stages(OURS, work, config(link, True), ["fetch-offline", "disks"])
    assert res.rc == 0, res.log
    alias = work / "run" / "dev_aliases" / link.lstrip("/")
    assert os.readlink(alias) == dev
    assert f"mkfs.ext4 -F -L new {alias}" in res.log, res.log
    assert filesystem(dev)[:2] == ("ext4", "new")
