"""Loop-device fixtures for root tests of the disks stage.

- `udevd`: a systemd-udevd for the session when none answers `udevadm control
  --ping`. It is run in the foreground under Popen (the same daemon as
  `--daemon`, but its pid is known), and only that pid is killed afterwards.
- `loops`: a factory attaching sparse image files from a temp dir with
  `losetup --find --show`. Each attached disk gets a udev rule under
  /run/udev/rules.d with OPTIONS+="nowatch": udevd re-reads (BLKRRPART) a
  watched disk after a writer closes it, and this machine's kernel has no
  partition parser, so that re-read would drop every partition (docs/architecture.md).
  Rules are removed and the devices detached afterwards.
- Preparing a case's disks and reading them back independently of the code
  under test: sfdisk --json for tables, blkid -p for filesystems, a read-only
  mount for files, sha256 of the whole device for "nothing changed".
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.root.test_disks_cases import Case

UDEVD = "/lib/systemd/systemd-udevd"
RULES_DIR = Path("/run/udev/rules.d")


def sh(*argv: str, check: bool = True, input: bytes | None = None) -> str:
    p = subprocess.run(list(argv), capture_output=True, input=input, check=False)
    if check and p.returncode != 0:
        raise RuntimeError(f"{argv}: {p.returncode}: {p.stderr.decode()}")
    return p.stdout.decode()


@pytest.fixture(scope="session")
def udevd() -> Iterator[None]:
    started: subprocess.Popen[bytes] | None = None
    if subprocess.run(["udevadm", "control", "--ping"], capture_output=True, check=False).returncode != 0:
        started = subprocess.Popen([UDEVD], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while subprocess.run(["udevadm", "control", "--ping"], capture_output=True, check=False).returncode:
            if time.monotonic() > deadline or started.poll() is not None:
                raise RuntimeError("systemd-udevd did not come up")
            time.sleep(0.1)
    yield
    if started is not None:
        started.terminate()
        try:
            started.wait(10)
        except subprocess.TimeoutExpired:
            started.kill()
            started.wait()


def partx_add(dev: str) -> None:
    """Make the kernel see a table written by another tool (no parser here)."""
    sh("partx", "--update", dev, check=False)
    sh("udevadm", "settle", "--timeout=30", check=False)


Attach = Callable[..., str]  # (size_mib=64, sector_size=512) -> /dev/loopN


@pytest.fixture
def loops(udevd: None, tmp_path: Path) -> Iterator[Attach]:
    attached: list[tuple[str, Path]] = []

    def attach(size_mib: int = 64, sector_size: int = 512) -> str:
        img = tmp_path / f"disk{len(attached)}.img"
        with open(img, "wb") as f:
            f.truncate(size_mib * 1024 * 1024)
        dev = sh("losetup", "--find", "--show", "--sector-size", str(sector_size), str(img)).strip()
        rule = RULES_DIR / f"99-ignition-test-{os.path.basename(dev)}.rules"
        attached.append((dev, rule))
        RULES_DIR.mkdir(parents=True, exist_ok=True)
        rule.write_text(f'SUBSYSTEM=="block", KERNEL=="{os.path.basename(dev)}", OPTIONS+="nowatch"\n')
        sh("udevadm", "control", "--reload", check=False)
        sh("udevadm", "trigger", "--settle", "--action=change", dev, check=False)
        return dev

    yield attach
    for dev, rule in attached:
        sh("udevadm", "settle", "--timeout=30", check=False)
        with contextlib.suppress(RuntimeError):
            sh("partx", "--delete", dev)
        sh("losetup", "--detach", dev, check=False)
        rule.unlink(missing_ok=True)
    sh("udevadm", "control", "--reload", check=False)


def node(disks: list[str], spec: str) -> str:
    i, _, n = spec.partition("p")
    return f"{disks[int(i)]}p{n}" if n else disks[int(i)]


def corrupt_gpt(dev: str) -> None:
    """Flip bytes in both GPT headers so their checksums fail."""
    size = int(sh("blockdev", "--getsize64", dev))
    with open(dev, "r+b") as f:
        for off in (512 + 24, size - 512 + 24):
            f.seek(off)
            f.write(b"\xde\xad\xbe\xef")
        f.flush()
        os.fsync(f.fileno())


def with_mount(dev: str, ro: bool, fn: Any) -> Any:
    with tempfile.TemporaryDirectory() as mnt:
        sh("mount", *(["-o", "ro"] if ro else []), dev, mnt)
        try:
            return fn(Path(mnt))
        finally:
            sh("umount", mnt)


def prepare(case: Case, disks: list[str]) -> None:
    for step in case.setup:
        kind, target, *args = step
        if kind == "sgdisk":
            sh("sgdisk", *args, disks[int(target)])
            partx_add(disks[int(target)])
        elif kind == "mkfs":
            sh(*args, node(disks, target))
        elif kind == "file":
            path, text = args
            with_mount(node(disks, target), False, lambda m, p=path, t=text: (m / p).write_text(t))
        elif kind == "corrupt":
            corrupt_gpt(disks[int(target)])
        elif kind == "grow":  # the image grows under its table (a cloud image on a bigger disk)
            back = sh("losetup", "--noheadings", "--output", "BACK-FILE", disks[int(target)]).strip()
            os.truncate(back, int(args[0]) * 1024 * 1024)
            sh("losetup", "--set-capacity", disks[int(target)])
        else:
            raise ValueError(kind)
    sh("udevadm", "settle", check=False)


def table(dev: str) -> list[tuple[int, str, int, int, str, str]]:
    p = subprocess.run(["sfdisk", "--json", dev], capture_output=True, text=True, check=False)
    if p.returncode != 0:
        return []
    out = []
    for part in json.loads(p.stdout)["partitiontable"].get("partitions", []):
        number = int(part["node"].rsplit("p", 1)[1])
        out.append((number, part.get("name", ""), part["start"], part["size"], part["type"].upper(),
                    part["uuid"].upper()))
    return sorted(out)


def filesystem(dev: str) -> tuple[str, str, str]:
    p = subprocess.run(["blkid", "-p", "-o", "export", dev], capture_output=True, text=True, check=False)
    kv = dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)
    return kv.get("TYPE", ""), kv.get("LABEL", ""), kv.get("UUID", "")


def read_files(dev: str, names: list[str]) -> dict[str, str]:
    return dict(with_mount(dev, True, lambda m: {n: (m / n).read_text() for n in names}))


def digest(dev: str) -> str:
    h = hashlib.sha256()
    with open(dev, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def kernel_numbers(disk: str) -> list[int]:
    """The partition numbers the kernel has for `disk`, read from sysfs."""
    base = f"/sys/class/block/{os.path.basename(os.path.realpath(disk))}"
    out = []
    for name in os.listdir(base):
        part = os.path.join(base, name, "partition")
        if os.path.exists(part):
            out.append(int(Path(part).read_text()))
    return sorted(out)


def check_expected(case: Case, disks: list[str]) -> list[str]:
    """Differences between what is on the disks and what the case expects."""
    errs = []
    for i, want in case.parts.items():
        got = [(n, label, start, size, t) for n, label, start, size, t, _ in table(disks[i])]
        if got != want:
            errs.append(f"disk {i}: table {got} != expected {want}")
        known = kernel_numbers(disks[i])
        if known != [p[0] for p in want]:
            errs.append(f"disk {i}: the kernel knows partitions {known}, the table holds {[p[0] for p in want]}")
    for spec, guid in case.guids.items():
        i, _, n = spec.partition("p")
        uu = {row[0]: row[5] for row in table(disks[int(i)])}
        if uu.get(int(n)) != guid.upper():
            errs.append(f"{spec}: GUID {uu.get(int(n))} != {guid}")
    for spec, (t, label, uuid) in case.fs.items():
        got_fs = filesystem(node(disks, spec))
        if got_fs[0] != t or got_fs[1] != label or (uuid and got_fs[2].lower() != uuid.lower()):
            errs.append(f"{spec}: filesystem {got_fs} != expected {(t, label, uuid)}")
    for spec, files in case.files.items():
        got_files = read_files(node(disks, spec), list(files))
        if got_files != files:
            errs.append(f"{spec}: files {got_files} != {files}")
    return errs
