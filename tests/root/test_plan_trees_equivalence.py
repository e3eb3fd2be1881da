"""The plan is the truth for what the target already holds: a filesystem read
from an image file with debugfs (ignition-plan, no root) is the tree the
kernel shows when the same filesystem is mounted from a loop device, and the
mount stage's plan against an image is what the real disks and mount stages
then mount (findmnt), with the same exit code and error."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ignition.log import Logger
from ignition.plan import Plan
from ignition.planner import ext4tree
from ignition.planner.recording import PlanRunner
from tests.root.loopdev import Attach, loops, partx_add, sh, udevd  # noqa: F401 - fixtures
from tests.root.oracle import OURS, run_stages
from tests.unit.planimages import MIB, ext4_from, os_tree

pytestmark = pytest.mark.root

PLAN = str(Path(sys.executable).with_name("ignition-plan"))


class _Quiet:
    def emit(self, priority: int, message: str, fields: object) -> None:
        return None


def tree_of(top: Path) -> dict[str, tuple[Any, ...]]:
    """Every node: kind and link target or size, its bytes where the plan reads them,
    and which other path is the same inode (hard links)."""
    out: dict[str, tuple[Any, ...]] = {}
    first: dict[int, str] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()  # the same walk order on both sides: the first path of an inode is the same
        for name in sorted(dirnames + filenames):
            p = os.path.join(dirpath, name)
            rel = "/" + os.path.relpath(p, top)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir",)
            elif not stat.S_ISREG(st.st_mode):
                out[rel] = ("file", 0, b"", rel)  # the plan's stand-in for a device, FIFO or socket
            else:
                data = b""
                if rel.startswith(ext4tree.CONTENT_PREFIXES) and st.st_size <= ext4tree.MAX_CONTENT:
                    with open(p, "rb") as f:
                        data = f.read()
                out[rel] = ("file", st.st_size, data, first.setdefault(st.st_ino, rel))
    return out


@pytest.fixture
def work(tmp_path: Path) -> Iterator[Path]:
    d = tmp_path / "work"
    (d / "root").mkdir(parents=True)
    d.chmod(0o755)
    tmp_path.chmod(0o755)
    yield d
    subprocess.run(["umount", "-R", str(d / "root")], capture_output=True, check=False)


def test_a_tree_read_from_the_image_is_the_mounted_tree(loops: Attach, tmp_path: Path) -> None:  # noqa: F811
    # A tree with the variety of a real root: the build machine's own /etc and unit files, plus odd nodes.
    src = os_tree(tmp_path / "src")
    shutil.copytree("/etc", src / "etc" / "host", symlinks=True, ignore_dangling_symlinks=True,
                    ignore=shutil.ignore_patterns("*.lock", "mtab"), dirs_exist_ok=True)
    shutil.copytree("/usr/lib/systemd/system", src / "usr" / "lib" / "systemd" / "system" / "host", symlinks=True)
    dev = loops(160)
    img = sh("losetup", "--noheadings", "--output", "BACK-FILE", dev).strip()
    ext4_from(Path(img), 1, 150, "root", src)
    dest, scratch = tmp_path / "copy", tmp_path / "scratch"
    dest.mkdir()
    scratch.mkdir()
    copied = ext4tree.copy_tree(PlanRunner(Logger(_Quiet(), "t", "file"), Plan()), img, MIB, str(dest), str(scratch))
    part = sh("losetup", "--find", "--show", "--read-only", "--offset", str(MIB), "--sizelimit", str(150 * MIB),
              img).strip()
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    try:
        sh("mount", "-o", "ro", part, str(mnt))
        try:
            real = tree_of(mnt)
        finally:
            sh("umount", str(mnt))
    finally:
        sh("losetup", "--detach", part)
    assert copied.entries == len(real) > 1000
    got = tree_of(dest)
    assert [k for k in real if real[k] != got.get(k)] == []
    assert got.keys() == real.keys()


def _plan(config: dict[str, Any], dev: str, img: str, tmp_path: Path) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "plan.ign"
    path.write_text(json.dumps(config))
    p = subprocess.run([PLAN, "--json", str(path), "--disk", f"{dev}={img}"], capture_output=True, text=True,
                       check=False)
    assert p.returncode in (0, 1), p.stderr
    return p.returncode, json.loads(p.stdout)


def _mounted(root: Path) -> list[tuple[str, str, str, list[str]]]:
    doc = json.loads(sh("findmnt", "--json", "--submounts", "--output", "SOURCE,TARGET,FSTYPE,OPTIONS",
                        "--mountpoint", str(root)))
    out = []

    def walk(fs: dict[str, Any]) -> None:
        if fs["target"] != str(root):
            out.append((fs["source"], "/" + os.path.relpath(fs["target"], root), fs["fstype"],
                        fs["options"].split(",")))
        for child in fs.get("children", []):
            walk(child)

    for fs in doc["filesystems"]:
        walk(fs)
    return out


def _data_partition(dev: str, img: str, tmp_path: Path) -> None:
    """Partition 2 'A' (16 MiB at 40 MiB): ext4 'A' holding a directory 'd' and a link 'link' -> /srv."""
    sh("sfdisk", "--quiet", "--append", img, input=f"start={40 * MIB // 512}, size={16 * MIB // 512}, name=A\n"
       .encode())
    a = tmp_path / "a-tree"
    (a / "d").mkdir(parents=True)
    (a / "link").symlink_to("/srv")
    ext4_from(Path(img), 40, 16, "A", a)


CASES = {
    # A new partition with a new filesystem, mounted with options, below a directory the image's root has.
    "new-filesystem": ({"disks": [{"device": "DEV", "partitions": [
        {"label": "data", "number": 3, "startMiB": 60, "sizeMiB": 0}]}],
        "filesystems": [{"device": "/dev/disk/by-partlabel/data", "format": "ext4", "label": "data",
                         "path": "/var/data/inner", "mountOptions": ["noatime", "nodev"]}]}, 0),
    # The existing filesystem on partition 2 is reused at /srv/a, and a new one is mounted inside it.
    "nested-in-a-reused-filesystem": ({"disks": [{"device": "DEV", "partitions": [
        {"label": "data", "number": 3, "startMiB": 60, "sizeMiB": 0}]}],
        "filesystems": [{"device": "/dev/disk/by-partlabel/A", "format": "ext4", "path": "/srv/a"},
                        {"device": "/dev/disk/by-partlabel/data", "format": "ext4", "path": "/srv/a/d/e"}]}, 0),
    # Inside the reused filesystem 'link' is a symbolic link: the second mount path goes through it.
    "through-a-link-in-a-mounted-filesystem": ({"disks": [{"device": "DEV", "partitions": [
        {"label": "data", "number": 3, "startMiB": 60, "sizeMiB": 0}]}],
        "filesystems": [{"device": "/dev/disk/by-partlabel/A", "format": "ext4", "path": "/srv/a"},
                        {"device": "/dev/disk/by-partlabel/data", "format": "ext4", "path": "/srv/a/link/x"}]}, 1),
    # The image's root has /bin -> usr/bin: a mount path through it fails.
    "through-a-link-in-the-root": ({"filesystems": [
        {"device": "/dev/disk/by-partlabel/A", "format": "ext4", "path": "/bin/a"}]}, 1),
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_planned_mounts_are_the_real_mounts(name: str, loops: Attach, tmp_path: Path,  # noqa: F811
                                                work: Path) -> None:
    storage, want_rc = CASES[name]
    dev = loops(96)
    img = sh("losetup", "--noheadings", "--output", "BACK-FILE", dev).strip()
    sh("sfdisk", "--quiet", img, input=f"label: gpt\nstart={MIB // 512}, size={32 * MIB // 512}, name=root\n".encode())
    ext4_from(Path(img), 1, 32, "debian-root", os_tree(tmp_path / "os"))
    _data_partition(dev, img, tmp_path)
    partx_add(dev)
    config = json.loads(json.dumps({"ignition": {"version": "3.4.0"}, "storage": storage}).replace("DEV", dev))
    rc, doc = _plan(config, dev, img, tmp_path)
    # The boot: the disks stage, then the initrd mounts the root (partition 1) at /sysroot, then the mount stage.
    res = run_stages(OURS, work, config, ["fetch-offline", "disks"])
    assert res.rc == 0, res.log
    sh("mount", f"{dev}p1", str(work / "root"))
    res = run_stages(OURS, work, config, ["mount"])
    mounted = _mounted(work / "root")
    assert (rc, res.rc) == (want_rc, want_rc), f"plan: {doc['result']}\nboot:\n{res.log}"
    if rc:
        assert doc["result"]["stoppedAt"] == "mount"
        assert f"stage failed: {doc['result']['error']}" in res.log
        return
    assert [(m["node"], m["path"], m["format"]) for m in doc["mounts"]] == [m[:3] for m in mounted]
    for planned, real in zip(doc["mounts"], mounted, strict=True):
        assert set(planned["options"]) <= set(real[3]), (planned, real)
    assert [t["path"] for t in doc["trees"]] == ["/"] + [m["path"] for m in doc["mounts"]]
