"""What the files stage writes into: the target's root, as the OS's own initrd
mounts it at /sysroot before the mount stage, and each filesystem the mount
stage lays over it, in the mount stage's order.

The boot learns its root from the kernel command line (`root=`), which a
config does not hold, so the plan finds it in this order:
1. `--root DIR`: an unpacked tree, used as it is (read only);
2. `--root-device SPEC`: a device path or `LABEL=`, `UUID=`, `PARTLABEL=`,
   `PARTUUID=`, as `root=` names it, resolved on the described machine after
   the disks stage;
3. the one device whose partition label or filesystem label is `root`, or
   whose partition type is a Discoverable Partitions root type;
4. none: an empty tree with a minimal /etc (as before any of this).
A config filesystem with `path: /` is mounted over that root by the mount
stage, and then it is what the files stage sees.

A filesystem is read from its image with debugfs (ext2/3/4, ext4tree.py);
one the disks stage makes is new and empty; anything else (xfs, btrfs, vfat,
a RAID array, an opened LUKS volume) is planned as empty and the plan says
that its contents are not known.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import field

from ignition.config.types import Config
from ignition.errors import CommandError, UsageError
from ignition.planner import ext4tree
from ignition.planner.machine import SEALED, PlannedMachine
from ignition.record import record
from ignition.run import Runner

READABLE = ("ext2", "ext3", "ext4")
DPS_ROOT = ("4f68bce3-e8cd-4db1-96e7-fbcaf984b709", "b921b045-1df0-41c3-af44-4c6f280d3fae")  # x86-64, arm64
SPEC_LINKS = {"LABEL": "/dev/disk/by-label/", "UUID": "/dev/disk/by-uuid/",
              "PARTLABEL": "/dev/disk/by-partlabel/", "PARTUUID": "/dev/disk/by-partuuid/"}

# What useradd-like planning reads from a root that has none of its own.
MINIMAL_ETC = {
    "passwd": "root:x:0:0:root:/root:/bin/sh\n",
    "group": "root:x:0:\n",
    "shadow": "root:*:1::::::\n",
    "gshadow": "root:*::\n",
}


@record(kw_only=False, slots=False)
class Tree:
    """One filesystem of the target as the plan sees it."""

    path: str  # where in the target
    device: str  # as it was named (the config, --root-device, or the chosen node); the directory for --root
    node: str
    format: str
    contents: str  # "read", "new", "empty", "unknown", "directory", "minimal"
    why: str  # how it was chosen, and what is not known
    entries: int = 0  # nodes read from the image


def device_path(spec: str) -> str:
    """`root=`'s spellings (LABEL=x, PARTUUID=y) as the /dev/disk link they name."""
    key, sep, value = spec.partition("=")
    if sep and key.upper() in SPEC_LINKS and value:
        return SPEC_LINKS[key.upper()] + value
    if not spec.startswith("/dev/"):
        raise UsageError(f"--root-device {spec}: give a /dev path or LABEL=, UUID=, PARTLABEL=, PARTUUID=")
    return spec


@record(kw_only=False, frozen=False, slots=False)
class TargetTrees:
    """Builds the target tree in `root_dir` (a fresh temp dir; unused with --root)."""

    machine: PlannedMachine
    run: Runner
    root_dir: str
    scratch: str
    given_root: str | None = None
    root_device: str | None = None
    trees: list[Tree] = field(default_factory=list)
    config: Config | None = None

    def choose_root(self, config: Config) -> None:
        """After the disks stage: the root the OS's initrd would mount, copied into root_dir."""
        self.config = config
        if self.given_root is not None:
            self.trees.append(Tree("/", self.given_root, "", "", "directory", "--root"))
            return
        if self.root_device is not None:
            node = self.machine.find(device_path(self.root_device))
            if node is None:
                raise UsageError(f"--root-device {self.root_device}: no device of the described machine has "
                                 "that name after the disks stage; check it against the plan's partitions")
            self.trees.append(self._fill("/", self.root_device, node, self.root_dir, "--root-device"))
            return
        found = self._root_candidates()
        if len(found) > 1:
            raise UsageError("several devices could be the root (" + "; ".join(f"{n}: {w}" for n, w in found)
                             + "): name the one the kernel's root= names with --root-device")
        if found:
            node, why = found[0]
            self.trees.append(self._fill("/", node, node, self.root_dir, f"chosen: {why}; --root-device "
                                                                          "to name another"))
            return
        etc = os.path.join(self.root_dir, "etc")
        os.makedirs(etc, exist_ok=True)
        for name, text in MINIMAL_ETC.items():
            with open(os.path.join(etc, name), "w", encoding="ascii") as f:
                f.write(text)
        self.trees.append(Tree("/", "", "", "", "minimal", "no root described and none found (no partition or "
                               "filesystem labelled 'root'): an empty tree with a minimal /etc; name the OS's root "
                               "with --root-device (as its root= does) or --root DIR"))

    def _root_candidates(self) -> list[tuple[str, str]]:
        out = []
        for node, dev in list(self.machine.devices.items()):
            fs = self.machine.fs(node)
            why = ("partition label 'root'" if dev.disk and dev.label == "root" else
                   "filesystem label 'root'" if fs.type and fs.label == "root" else
                   "a Discoverable Partitions root type" if dev.disk and dev.type_guid in DPS_ROOT else "")
            if why:
                out.append((node, why))
        return out

    def mounted(self, argv: Sequence[str]) -> None:
        """The mount stage's recorded `mount ... DEVICE TARGET`: lay that filesystem over the tree."""
        if self.config is None:
            return
        host = os.path.normpath(argv[-1])
        base = self.given_root if self.given_root is not None else self.root_dir
        path = "/" + os.path.relpath(host, base) if host != base else "/"
        fs = next((f for f in self.config.storage.filesystems if f.path and os.path.normpath(f.path) == path), None)
        if fs is None:
            return
        node = self.machine.find(fs.device) or fs.device
        if self.given_root is not None:
            self.trees.append(Tree(path, fs.device, node, fs.format or "", "directory",
                                   "not laid over --root DIR (it is never changed): files below are planned "
                                   "against what the directory holds there"))
            return
        if os.path.isdir(host) and not os.path.islink(host):
            _empty(host)  # mounting hides what the root holds there
        else:
            os.makedirs(host, exist_ok=True)
        self.trees.append(self._fill(path, fs.device, node, host, "mounted by the config"))

    def _fill(self, path: str, device: str, node: str, host: str, how: str) -> Tree:
        m = self.machine
        made = [f for f in m.formats if f.device == node]
        if any(x.path == node and x.reused for x in m.made) and not (made and made[-1].plan.found.type == SEALED):
            return Tree(path, device, node, made[-1].plan.format if made else "", "unknown",
                        f"{how}; an existing LUKS volume: what it holds is not known without its key; planned "
                        "as empty")
        if made and made[-1].plan.action == "create":
            fmt = made[-1].plan.format
            if fmt in READABLE:
                os.mkdir(os.path.join(host, "lost+found"), 0o700)  # mkfs.ext4 makes it
            return Tree(path, device, node, fmt, "new", f"{how}; made by the disks stage: empty")
        if made and made[-1].plan.action == "wipe":
            return Tree(path, device, node, "", "empty", f"{how}; wiped by the disks stage")
        if any(x.path == node for x in m.made):
            return Tree(path, device, node, "", "unknown", f"{how}; what a RAID array or an opened LUKS volume "
                        "holds is not read: planned as empty")
        fs = m.fs(node)
        dev = m.devices[node]
        if dev.image is None or not fs.type:
            return Tree(path, device, node, fs.type, "empty", f"{how}; no filesystem on it")
        if fs.type not in READABLE:
            return Tree(path, device, node, fs.type, "unknown", f"{how}; its contents are not known: "
                        f"ignition-plan reads ext2/3/4 only, not {fs.type}; planned as empty")
        try:
            copied = ext4tree.copy_tree(self.run, dev.image, dev.offset, host, self.scratch)
        except (ext4tree.Unreadable, CommandError, OSError) as e:
            _empty(host)
            why = ("debugfs (e2fsprogs) is not installed" if isinstance(e, CommandError) and e.returncode == 127
                   else f"copying it failed: {e.strerror or e}" if isinstance(e, OSError) else str(e))
            return Tree(path, device, node, fs.type, "unknown", f"{how}; {why}; planned as empty")
        label = f" label {fs.label}" if fs.label else ""
        return Tree(path, device, node, fs.type, "read", f"{how}; {fs.type}{label} read from the image",
                    copied.entries)


def _empty(host: str) -> None:
    for name in os.listdir(host):
        child = os.path.join(host, name)
        if os.path.isdir(child) and not os.path.islink(child):
            shutil.rmtree(child)
        else:
            os.unlink(child)
