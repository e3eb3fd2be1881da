"""Disk images for the tests of ignition-plan, made as a normal user would:
sfdisk on a plain file, mkfs.ext4 on a region of it (`-E offset=`)."""

from __future__ import annotations

import os
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


def ext4_from(path: Path, start_mib: int, size_mib: int, label: str, tree: Path) -> None:
    """An ext4 filesystem holding a copy of `tree` at `start_mib` MiB of the image
    (mkfs.ext4 -d, as distributions build root images without mounting)."""
    sh("mkfs.ext4", "-q", "-F", "-L", label, "-d", str(tree), "-E", f"offset={start_mib * MIB}", str(path),
       f"{size_mib}M")


def os_tree(root: Path) -> Path:
    """A small OS root: users, a merged /usr with /bin a link into it, unit files,
    and the odd nodes a real root has (a long link, a hard link, a FIFO, a name
    with a space and a quote)."""
    (root / "etc" / "systemd" / "system").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\ncore:x:1000:1000::/home/core:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\ncore:x:1000:\nwheel:x:10:\n")
    (root / "etc" / "shadow").write_text("root:*:1::::::\ncore:*:1::::::\n")
    (root / "etc" / "gshadow").write_text("root:*::\ncore:!::\nwheel:!::\n")
    (root / "etc" / "hostname").write_text("image\n")
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "local" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / "tool").write_bytes(b"\x7fELF" + bytes(5000))
    (root / "bin").symlink_to("usr/bin")
    (root / "usr" / "lib" / "systemd" / "system").mkdir(parents=True)
    (root / "usr" / "lib" / "systemd" / "system" / "sshd.service").write_text("[Unit]\n[Install]\nWantedBy=m\n")
    (root / "var" / "data").mkdir(parents=True)
    (root / "var" / "data" / "under-the-mount").write_text("hidden once mounted\n")
    (root / "odd").mkdir()
    (root / "odd" / ('a "b" c')).write_text("x")
    (root / "odd" / "long").symlink_to("/" + "x" * 90 + "/target")
    os.link(root / "etc" / "hostname", root / "odd" / "hard")
    os.mkfifo(root / "odd" / "fifo")
    return root
