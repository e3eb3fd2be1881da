"""An ext2/3/4 filesystem inside an image file, read without root and without
mounting: `debugfs -c` (e2fsprogs, read-only unless told -w) on the file at
the filesystem's offset, through the Runner.

The tree is copied into a directory as a skeleton, so the stages' own
Sysroot code (symlink chasing, `kind`, `is_dir`, `read_bytes`) and probes such
as `systemctl --root` plan against it unchanged:
- directories and symbolic links (with their targets) as they are;
- regular files as sparse files of their real size; their bytes are read only
  under CONTENT_PREFIXES, which is all the files stage reads of a target
  (users and groups, presets, unit files, the result file, SELinux config);
- hard links stay hard links (a config's hard link to an existing file is
  judged on inode identity);
- devices, FIFOs and sockets as empty files, listed in `others` (a FIFO
  would block a reader, a device node cannot be made without root).
Owners and modes are not copied: the plan never decides on them.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import field

from ignition import distro
from ignition.record import record
from ignition.run import Runner

CONTENT_PREFIXES = ("/etc/", "/usr/lib/systemd/", "/lib/systemd/", "/usr/lib/sysusers.d/", "/root/.ssh/")
MAX_CONTENT = 1 << 20  # larger files under those prefixes keep only their size
ROOT_INODE = 2
_ENTRY = re.compile(rb"/(\d+)/([0-7]+)/(\d+)/(\d+)/([^/]*)/(\d*)/\n")  # `ls -p`; a name holds no "/"
_ECHO = re.compile(rb"^debugfs: [^\n]*\n", re.M)
_FAST_LINK = re.compile(rb'^Fast link dest: "(.*)"$', re.M)


class Unreadable(Exception):
    """debugfs cannot read the filesystem; the message says why."""


@record(kw_only=False, frozen=False, slots=False)
class Copied:
    """What was copied of one filesystem."""

    entries: int = 0
    contents: int = 0  # regular files whose bytes were read
    others: list[str] = field(default_factory=list)  # config paths of devices, FIFOs, sockets


def _commands(run: Runner, spec: str, commands: list[str]) -> list[bytes]:
    """One debugfs process for a batch of commands: each command's output."""
    res = run.run([distro.tool("debugfs"), "-c", "-f", "-", spec], input="".join(c + "\n" for c in commands).encode(),
                  probe=True, check=False)
    blocks = _ECHO.split(res.stdout)[1:]
    if len(blocks) != len(commands):
        err = res.stderr.decode("utf-8", "replace").strip().splitlines()
        why = next((line for line in err if "while" in line or "Bad magic" in line), err[-1] if err else "")
        raise Unreadable(f"debugfs cannot read it: {why or f'exit status {res.returncode}'}")
    return blocks


def copy_tree(run: Runner, image: str, offset: int, dest: str, scratch: str) -> Copied:
    """Copy the skeleton of the ext2/3/4 filesystem at byte `offset` of `image`
    into the existing empty directory `dest`; `scratch` is an empty directory
    for debugfs's dumps. Unreadable when debugfs cannot open it."""
    if "?" in image or '"' in scratch or "\n" in scratch:
        raise Unreadable(f"the path {image!r} cannot be handed to debugfs")  # `?` starts its io options
    spec = f"{image}?offset={offset}"
    out = Copied()
    seen: dict[int, bytes] = {}  # inode -> first host path (hard links)
    links: list[tuple[int, bytes, int]] = []
    dumps: list[tuple[int, bytes]] = []
    pending: list[tuple[int, bytes]] = [(ROOT_INODE, b"/")]
    dest_b = os.fsencode(dest)
    while pending:
        blocks = _commands(run, spec, [f"ls -p <{ino}>" for ino, _ in pending])
        level: list[tuple[int, bytes]] = []
        for (ino, path), block in zip(pending, blocks, strict=True):
            entries = _ENTRY.findall(block)
            if not entries or int(entries[0][0]) != ino:
                raise Unreadable(f"debugfs could not list {os.fsdecode(path)}")
            for cino_b, mode_b, _uid, _gid, name, size_b in entries:
                cino, mode, size = int(cino_b), int(mode_b, 8), int(size_b or 0)
                if name in (b".", b"..") or cino == 0:  # inode 0: an unused slot of the directory
                    continue
                cpath = path.rstrip(b"/") + b"/" + name
                host = dest_b + cpath
                out.entries += 1
                if stat.S_ISDIR(mode):
                    os.mkdir(host, 0o755)
                    level.append((cino, cpath))
                elif stat.S_ISLNK(mode):
                    links.append((cino, host, size))
                elif cino in seen:
                    os.link(seen[cino], host)
                else:
                    seen[cino] = host
                    fd = os.open(host, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
                    try:
                        if size and stat.S_ISREG(mode):
                            os.ftruncate(fd, size)  # sparse: the size without the bytes
                    finally:
                        os.close(fd)
                    if not stat.S_ISREG(mode):
                        out.others.append(os.fsdecode(cpath))
                    elif size and size <= MAX_CONTENT and os.fsdecode(cpath).startswith(CONTENT_PREFIXES):
                        dumps.append((cino, host))
        pending = level
    _symlinks(run, spec, links, scratch)
    _contents(run, spec, dumps, scratch)
    out.contents = len(dumps)
    return out


def _dump_all(run: Runner, spec: str, inodes: list[int], scratch: str) -> dict[int, bytes]:
    """The bytes of each inode, dumped by one debugfs into `scratch` (names made of
    inode numbers: the image's own names never reach debugfs's command parser)."""
    if not inodes:
        return {}
    _commands(run, spec, [f'dump <{ino}> "{os.path.join(scratch, str(ino))}"' for ino in inodes])
    got = {}
    for ino in inodes:
        path = os.path.join(scratch, str(ino))
        try:
            with open(path, "rb") as f:
                got[ino] = f.read()
            os.unlink(path)
        except FileNotFoundError:
            raise Unreadable(f"debugfs could not read inode {ino}") from None
    return got


def _symlinks(run: Runner, spec: str, links: list[tuple[int, bytes, int]], scratch: str) -> None:
    targets: dict[int, bytes] = {}
    if links:
        for (ino, _host, _size), block in zip(links, _commands(run, spec, [f"stat <{i}>" for i, _, _ in links]),
                                              strict=True):
            m = _FAST_LINK.search(block)
            if m:
                targets[ino] = m.group(1)
    # A target too long for the inode itself (a "slow" link) lives in a data block.
    targets.update(_dump_all(run, spec, [ino for ino, _, _ in links if ino not in targets], scratch))
    for ino, host, size in links:
        os.symlink(targets[ino][:size] if size else targets[ino], host)


def _contents(run: Runner, spec: str, dumps: list[tuple[int, bytes]], scratch: str) -> None:
    data = _dump_all(run, spec, [ino for ino, _ in dumps], scratch)
    for ino, host in dumps:
        with open(host, "wb") as f:
            f.write(data[ino])
