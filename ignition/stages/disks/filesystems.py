"""Filesystems: decide reuse / create / wipe from what blkid found (pure), then
act. Ignition's rules (inventory 4.3): without wipeFilesystem an existing
filesystem of the same format (and label/uuid when given) is kept and any other
signature is an error; otherwise `wipefs -a` and mkfs with the user's options
first, Ignition's flags after, the device last. Format none + wipe only wipes."""

from __future__ import annotations

import os
import time

from ignition import distro
from ignition.config.types import Filesystem
from ignition.errors import CommandError, StageError
from ignition.run import Runner
from ignition.stages.disks.model import FsInfo, FsPlan


def canonical_uuid(fmt: str, value: str) -> str:
    v = value.lower()
    return v.replace("-", "") if fmt == "vfat" else v


def mkfs_argv(fs: Filesystem, device: str) -> tuple[str, ...]:
    fmt = fs.format or ""
    uuid = canonical_uuid(fmt, fs.uuid) if fs.uuid else None
    label = fs.label
    args: list[str] = list(fs.options)
    if fmt == "ext4":
        tool = "mkfs.ext4"
        args += ["-F"] + (["-U", uuid] if uuid else []) + (["-L", label] if label is not None else [])
    elif fmt == "btrfs":
        tool = "mkfs.btrfs"
        args += ["--force"] + (["-U", uuid] if uuid else []) + (["-L", label] if label is not None else [])
    elif fmt == "xfs":
        tool = "mkfs.xfs"
        args += ["-f"] + (["-m", "uuid=" + uuid] if uuid else []) + (["-L", label] if label is not None else [])
    elif fmt == "swap":
        tool = "mkswap"
        args += ["-f"] + (["-U", uuid] if uuid else []) + (["-L", label] if label is not None else [])
    elif fmt == "vfat":
        tool = "mkfs.fat"
        args += (["-i", uuid] if uuid else []) + (["-n", label] if label is not None else [])
    else:
        raise StageError(f"filesystem on {fs.device}: unsupported format {fmt!r}")
    return (distro.tool(tool), *args, device)


def plan_filesystem(fs: Filesystem, device: str, found: FsInfo) -> FsPlan:
    """What to do with `fs` on `device` given what is there; raises before any write."""
    fmt = fs.format or ""
    want = "" if fmt == "none" else fmt
    if not fs.wipe_filesystem:
        if found.ambivalent:
            raise StageError(f"filesystem at {fs.device}: blkid found several signatures; set "
                             "wipeFilesystem: true to reformat it")
        if (found.type == want and (fs.label is None or found.label == fs.label)
                and (fs.uuid is None or canonical_uuid(fmt, found.uuid) == canonical_uuid(fmt, fs.uuid))):
            return FsPlan(fs.device, "reuse" if want else "none", fmt, found=found)
        if found.type:
            raise StageError(
                f"filesystem at {fs.device} is not of the correct type, label, or UUID (found "
                f"{found.type}, {found.label!r}, {found.uuid or 'no uuid'}; wanted {fmt}"
                f"{', ' + repr(fs.label) if fs.label is not None else ''}"
                f"{', ' + fs.uuid if fs.uuid else ''}) and wipeFilesystem is false; "
                "filesystem is not of the correct type: set wipeFilesystem: true to reformat it")
    if not want:
        return FsPlan(fs.device, "wipe", fmt, found=found)
    return FsPlan(fs.device, "create", fmt, mkfs_argv(fs, device), found)


def wait_for_device(path: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise StageError(f"timed out after {timeout:g}s waiting for {path} to appear")
        time.sleep(0.05)
    return os.path.realpath(path)


def apply_filesystem(plan: FsPlan, device: str, run: Runner) -> None:
    if plan.action in ("reuse", "none"):
        return
    try:
        run.run([distro.tool("wipefs"), "-a", device])
        if plan.action == "create":
            run.run(list(plan.argv))
    except CommandError as e:
        # mkfs answers a bad option with its whole usage text: the first lines say why
        detail = "\n".join(str(e).splitlines()[:3])
        raise StageError(f"creating the {plan.format} filesystem on {plan.device}: {detail}; "
                         "check the filesystem's options") from e
