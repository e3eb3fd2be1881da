"""A full filesystem under the paths that do not stage (issue 13).

Staged contents already fail cleanly on ENOSPC (test_stream.py). These are
the other write paths: appending a fragment to an existing file, and small
files written in one go (a systemd unit). Each runs our `ignition` against a
small ext4 loop-mounted inside the target and filled up, and must end in one
CRITICAL line naming the config path, the file and the filesystem (mount
point and device), with no temp file left and the appended-to file as it was.
"""

from __future__ import annotations

import base64
import gzip
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.root.oracle import OURS, make_base_tree, run_stages

pytestmark = pytest.mark.root

MIB = 1 << 20
STAGES = ["fetch-offline", "fetch", "files"]


@pytest.fixture
def work() -> Iterator[Path]:
    w = Path("/var/tmp") / f"ignition-full-disk-test-{os.getpid()}"
    shutil.rmtree(w, ignore_errors=True)
    w.mkdir()
    make_base_tree(w / "root")
    yield w
    shutil.rmtree(w, ignore_errors=True)


def mount_small(work: Path, at: Path) -> Iterator[Path]:
    """A 16 MiB ext4 loop-mounted at `at` (umount detaches the loop device)."""
    img = work / f"{at.name}.img"
    with open(img, "wb") as f:
        f.truncate(16 * MIB)
    # No reserved blocks: root would write into them and the fill would not be full.
    subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", "-O", "^has_journal", str(img)],
                   check=True, capture_output=True)
    at.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-o", "loop", str(img), str(at)], check=True, capture_output=True)
    try:
        yield at
    finally:
        subprocess.run(["umount", str(at)], check=False, capture_output=True)


@pytest.fixture
def small_var(work: Path) -> Iterator[Path]:
    yield from mount_small(work, work / "root/var")


@pytest.fixture
def small_units(work: Path) -> Iterator[Path]:
    yield from mount_small(work, work / "root/etc/systemd/system")


def fill(fs: Path, leave: int = 0) -> None:
    """Write zeros until not even one block fits, then free `leave` bytes."""
    filler = fs / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for block in (MIB, 4096):
            zeros = b"\0" * block
            try:
                while True:
                    os.write(fd, zeros)
            except OSError:
                pass
        size = os.fstat(fd).st_size
        os.ftruncate(fd, max(0, size - leave))
    finally:
        os.close(fd)


def loop_device(mount: Path) -> str:
    out = subprocess.run(["findmnt", "-n", "-o", "SOURCE", "--mountpoint", str(mount)],
                         check=True, capture_output=True, text=True).stdout.strip()
    assert out.startswith("/dev/loop"), out
    return out


def critical(log: str) -> str:
    lines = [ln for ln in log.splitlines() if ln.startswith("CRITICAL")]
    assert len(lines) == 1, log[-3000:]
    return lines[0]


def temp_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob(".ignition-stage-*"))


def data_url(size: int) -> str:
    return "data:," + "a" * size


def gzip_data_url(size: int) -> str:
    return "data:;base64," + base64.b64encode(gzip.compress(b"a" * size, mtime=0)).decode()


# A fragment of 2 MiB either way. Plain data: URL bytes are appended from
# memory (they are no more than the config holding them): 1 MiB free is too
# little. A gzip fragment is staged on the target first: with 3 MiB free the
# staged copy fits and the append after it does not.
FRAGMENTS = {"inline": ({"source": data_url(2 * MIB)}, 1 * MIB),
             "staged": ({"source": gzip_data_url(2 * MIB), "compression": "gzip"}, 3 * MIB)}


@pytest.mark.parametrize("existing", [True, False], ids=["existing", "new"])
@pytest.mark.parametrize("kind", FRAGMENTS)
def test_append_onto_a_full_filesystem(work: Path, small_var: Path, kind: str, existing: bool) -> None:
    """A 2 MiB fragment that does not fit. One line naming storage.files.0,
    the file, the mount point and the device; an existing file keeps its old
    bytes, a file the append made is gone again, no staged fragment is left."""
    fragment, free = FRAGMENTS[kind]
    log = small_var / "log.txt"
    if existing:
        log.write_bytes(b"old line\n")
    fill(small_var, leave=free)
    config: dict[str, Any] = {"ignition": {"version": "3.3.0"}, "storage": {"files": [
        {"path": "/var/log.txt", "overwrite": False, "append": [fragment]}]}}
    run = run_stages(OURS, work, config, STAGES)
    assert run.rc == 1, run.log[-3000:]
    line = critical(run.log)
    assert "storage.files.0 (/var/log.txt)" in line
    assert f"no space left on the filesystem mounted at {small_var} (device {loop_device(small_var)}, " in line
    assert "while appending to /var/log.txt" in line
    assert "internal error" not in run.log and "Traceback" not in run.log
    if existing:
        assert log.read_bytes() == b"old line\n"
    else:
        assert not log.exists()
    assert temp_files(work / "root") == []


def test_unit_onto_a_full_filesystem(work: Path, small_units: Path) -> None:
    """A unit written in one go (no staging) onto a full filesystem: one line
    naming systemd.units.0, the unit's path, the mount point and the device;
    no temp file, no unit file."""
    fill(small_units)
    config: dict[str, Any] = {"ignition": {"version": "3.3.0"}, "systemd": {"units": [
        {"name": "big.service", "contents": "[Unit]\nDescription=" + "x" * (256 * 1024) + "\n"}]}}
    run = run_stages(OURS, work, config, STAGES)
    assert run.rc == 1, run.log[-3000:]
    line = critical(run.log)
    assert "systemd.units.0 (big.service)" in line
    assert (f"no space left on the filesystem mounted at {small_units} "
            f"(device {loop_device(small_units)}, ") in line
    assert "while writing /etc/systemd/system/big.service" in line
    assert "internal error" not in run.log and "Traceback" not in run.log
    assert sorted(p.name for p in small_units.iterdir()) == ["filler", "lost+found"]
