"""The whole journey: a real Debian 12 image (scripts/os-image.sh) provisioned
by our initramfs on its first boot, which then switches root and boots the OS.

- The initramfs is the one a distribution would ship: our dracut module and
  nothing of the vm-tests module (no power-off at the end of the initrd).
- The image's own check (vm-tests/image/journey-check, run with
  `journey.check` once multi-user.target is reached) prints `JOURNEY key: value`
  lines on the console and powers off; `report()` reads them back.
- The host reads the disk image afterwards without mounting it: sfdisk for
  the table, `blkid -p` and `debugfs` at each partition's offset.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from vmharness import CACHE, REPO, Image

# First boot and later boots of the image: its root by label, read-only as
# Debian's boot loader passes it (our ignition-remount-sysroot makes it
# writable for the stages; the OS remounts it from its fstab).
OS_CMDLINE = ("root=LABEL=debian-root", "ro", "journey.check")
FIRST_BOOT = ("ignition.firstboot", "ignition.platform.id=qemu", *OS_CMDLINE)
LATER_BOOT = OS_CMDLINE
# TCG on a shared 2-core machine: a first boot of the OS takes one to two
# minutes; this is only the point where a hung guest is killed.
JOURNEY_TIMEOUT = float(os.environ.get("VM_JOURNEY_TIMEOUT", "720"))
DEMO_CONFIG = REPO / "examples" / "demo.ign"

# Not anchored: the serial getty's prompt ("demo-machine login: ") ends
# without a newline, so the next line of the check may follow it.
_LINE = re.compile(r"JOURNEY ([\w-]+): ?(.*?)\r?$", re.M)


@dataclass(frozen=True)
class Journey:
    image: Image  # kernel and our initramfs (no vm-tests module)
    os_image: Path  # the pristine disk image; boots use a copy
    kmoddir: Path
    os_build_seconds: float


def build() -> Journey:
    """Builds (or finds in the cache) the initramfs and the OS image. Raises
    RuntimeError with the builder's stderr tail when one of them fails."""
    env = {**os.environ, "VM_CACHE": str(CACHE)}
    ib = _run_script(["bash", str(REPO / "scripts" / "vm-build.sh"), "-o", "journey"], env)
    image = Image(Path(ib["KERNEL"]), Path(ib["INITRD"]), ib["KVER"], float(ib["BUILD_SECONDS"]),
                  int(ib["INITRD_BYTES"]))
    os_out = _run_script(["bash", str(REPO / "scripts" / "os-image.sh"), ib["KVER"], ib["KMODDIR"]], env)
    return Journey(image, Path(os_out["OS_IMAGE"]), Path(ib["KMODDIR"]), float(os_out["OS_BUILD_SECONDS"]))


def _run_script(argv: list[str], env: dict[str, str]) -> dict[str, str]:
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[1:2])} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)


def copy_disk(src: Path, dst: Path) -> Path:
    """A private copy of the image (sparse, so cheap) for one journey."""
    subprocess.run(["cp", "--sparse=always", str(src), str(dst)], check=True)
    return dst


def report(console: str) -> dict[str, list[str]]:
    """The check's `JOURNEY key: value` lines: key -> values in order."""
    out: dict[str, list[str]] = {}
    for key, value in _LINE.findall(console):
        out.setdefault(key, []).append(value.strip())
    return out


def one(rep: dict[str, list[str]], key: str) -> str:
    values = rep.get(key, [])
    assert len(values) == 1, f"{key}: {values}"
    return values[0]


# --- reading the disk image from the host ------------------------------------

@dataclass(frozen=True)
class Partition:
    number: int
    name: str
    start: int  # bytes
    size: int  # bytes
    type: str


def partitions(img: Path) -> list[Partition]:
    table = json.loads(subprocess.run(["sfdisk", "--json", str(img)], capture_output=True, text=True,
                                      check=True).stdout)["partitiontable"]
    sector = int(table.get("sectorsize", 512))
    return [Partition(int(m.group(1)) if (m := re.search(r"(\d+)$", p["node"])) else 0, p.get("name", ""),
                      int(p["start"]) * sector, int(p["size"]) * sector, p["type"])
            for p in table.get("partitions", [])]


def probe(img: Path, part: Partition) -> dict[str, str]:
    """blkid's low-level probe of one partition of the image file."""
    out = subprocess.run(["blkid", "-p", "-o", "export", "-O", str(part.start), "-S", str(part.size), str(img)],
                         capture_output=True, text=True, check=False).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def read_file(img: Path, part: Partition, path: str) -> str | None:
    """A file of an ext4 partition of the image, through debugfs (no mount);
    None when it does not exist."""
    proc = subprocess.run(["debugfs", "-R", f"cat {path}", f"{img}?offset={part.start}"],
                          capture_output=True, text=True, check=False)
    if "File not found" in proc.stderr or proc.returncode != 0:
        return None
    return proc.stdout


def exists(img: Path, part: Partition, path: str) -> bool:
    proc = subprocess.run(["debugfs", "-R", f"stat {path}", f"{img}?offset={part.start}"],
                          capture_output=True, text=True, check=False)
    return proc.returncode == 0 and "File not found" not in proc.stderr and "Inode:" in proc.stdout


def ls(img: Path, part: Partition, path: str) -> list[str]:
    """Names in a directory of an ext4 partition of the image (debugfs `ls -p`:
    /inode/mode/uid/gid/name/size/ per entry)."""
    proc = subprocess.run(["debugfs", "-R", f"ls -p {path}", f"{img}?offset={part.start}"],
                          capture_output=True, text=True, check=False)
    return [line.split("/")[5] for line in proc.stdout.splitlines() if line.count("/") >= 6]


def require_tools() -> None:
    missing = [t for t in ("mmdebstrap", "debugfs", "sfdisk") if shutil.which(t) is None]
    if missing:
        raise RuntimeError(f"the journey needs {', '.join(missing)}: run scripts/setup.sh as root")
