"""Stages mount and umount: the config's filesystems that have a `path` are
mounted under the root while the later stages run, shallowest first, and
unmounted deepest first (umount is the mount unit's ExecStop, so it also
runs after a failed files stage).

Each device is mounted through its stable alias (see stages/disks/aliases.py),
waiting for it to appear first, as Ignition's mount stage does.

A mount path must consist of real directories: a symlink on the way could
send the mount (and every file written into it) somewhere else. Missing
directories are created 0755 and recorded in the state, so the files stage
can hand those inside a user's home to that user.
"""

from __future__ import annotations

import os
from typing import ClassVar

from ignition import distro
from ignition.config.types import Config, Filesystem
from ignition.context import StageContext
from ignition.errors import CommandError, StageError
from ignition.stages.base import ConfigSource
from ignition.stages.disks.aliases import DeviceAliases

NOT_MOUNTABLE = ("", "swap", "none")


def mountable(config: Config) -> list[Filesystem]:
    """Filesystems to mount, shallowest first (stable for equal depth)."""
    fss = [fs for fs in config.storage.filesystems if fs.path and (fs.format or "") not in NOT_MOUNTABLE]
    return sorted(fss, key=lambda fs: len([c for c in (fs.path or "").split("/") if c]))


def _check_no_symlinks(ctx: StageContext, path: str) -> None:
    cur = ""
    for comp in [c for c in path.split("/") if c]:
        cur += "/" + comp
        if ctx.root.kind(cur) == "link":
            raise StageError(f"the mount path {path} goes through the symbolic link {cur}; "
                             "mount paths must be real directories, change the filesystem's path")


def mounted_at(host_path: str, mounts_file: str = "/proc/self/mounts") -> bool:
    try:
        with open(mounts_file, encoding="utf-8") as f:
            for line in f:
                fields = line.split()
                if len(fields) > 1 and fields[1].replace("\\040", " ") == host_path:
                    return True
    except OSError:
        return False
    return False


class MountStage:
    name: ClassVar[str] = "mount"
    config_source: ClassVar[ConfigSource] = "cache"
    offline: ClassVar[bool] = False

    def applies(self, config: Config) -> bool:
        return bool(mountable(config))

    def run(self, ctx: StageContext) -> None:
        aliases = DeviceAliases(ctx.paths.dev_aliases, ctx.dry_run, ctx.machine)
        for fs in mountable(ctx.config):
            path = fs.path or "/"
            _check_no_symlinks(ctx, path)
            try:
                device = aliases.get(fs.device)
            except StageError as e:
                raise StageError(f"mounting {fs.device} at {path}: {e}; check the filesystem's device") from e
            created = ctx.root.makedirs(path)
            ctx.state.notated_directories.extend(p for p in created if p not in ctx.state.notated_directories)
            argv = [distro.tool("mount")]
            if fs.mount_options:
                argv += ["-o", ",".join(fs.mount_options)]
            argv += ["-t", fs.format or "", device, ctx.root.resolve(path)]
            with ctx.logger.op(f"mounting {fs.device!r} at {path!r} (in the root)"):
                try:
                    ctx.run.run(argv)
                except CommandError as e:
                    raise StageError(f"mounting {fs.device} at {path}: {e}; check the filesystem's "
                                     "device, format and mountOptions") from e


class UmountStage:
    name: ClassVar[str] = "umount"
    config_source: ClassVar[ConfigSource] = "cache"
    offline: ClassVar[bool] = False

    def applies(self, config: Config) -> bool:
        return bool(mountable(config))

    def run(self, ctx: StageContext) -> None:
        errors = []
        for fs in reversed(mountable(ctx.config)):
            host = ctx.root.resolve(fs.path or "/")
            if not ctx.dry_run and not mounted_at(os.path.realpath(host)):
                ctx.logger.info(f"{fs.path} is not mounted; nothing to unmount")
                continue
            with ctx.logger.op(f"unmounting {fs.path!r}"):
                try:
                    ctx.run.run([distro.tool("umount"), host])
                except CommandError as e:
                    errors.append(f"{fs.path}: {e}")  # keep unmounting the others
        if errors:
            raise StageError("unmounting: " + "; ".join(errors))
