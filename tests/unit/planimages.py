"""Disk images for the tests of ignition-plan, made as a normal user would:
sfdisk on a plain file, mkfs.ext4 on a region of it (`-E offset=`)."""

from __future__ import annotations

import subprocess
from pathlib import Path

MIB = 1 << 20
SECTOR = 512


def sh(*argv: str, input: bytes | None = None) -> str:
    p = subprocess.run(list(argv), input=input, capture_output=True, check=False)
    if p.returncode != 0:
        raise RuntimeError(f"{argv}: {p.returncode}: {p.stderr.decode()}")
    return p.stdout.decode()


def image(path: Path, size_mib: int, parts: list[tuple[int, int, str]] = (),  # type: ignore[assignment]
          fs: list[tuple[int, int, str]] = ()) -> Path:  # type: ignore[assignment]
    """A sparse image of `size_mib` MiB with a GPT of `parts` (start MiB, size
    MiB, label) and an ext4 filesystem in each of `fs` (start MiB, size MiB, label)."""
    with open(path, "wb") as f:
        f.truncate(size_mib * MIB)
    if parts:
        script = "label: gpt\n" + "".join(
            f"start={start * MIB // SECTOR}, size={size * MIB // SECTOR}, name={label}\n"
            for start, size, label in parts)
        sh("sfdisk", "--quiet", str(path), input=script.encode())
    for start, size, label in fs:
        sh("mkfs.ext4", "-q", "-F", "-L", label, "-E", f"offset={start * MIB}", str(path), f"{size}M")
    path.chmod(0o644)
    return path
