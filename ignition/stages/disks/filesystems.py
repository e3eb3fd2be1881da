"""Filesystems: decide reuse / create / wipe from what blkid found (pure), then
act. Ignition's rules (inventory 4.3): without wipeFilesystem an existing
filesystem of the same format (and label/uuid when given) is kept and any other
signature is an error; otherwise `wipefs -a` and mkfs with the user's options
first, Ignition's flags after, the device last. Format none + wipe only wipes.
The mkfs runs of one stage go in parallel where their devices allow it
(parallel.py)."""

from __future__ import annotations

import functools
import os

from ignition import distro
from ignition.config.types import Config, Filesystem
from ignition.context import StageContext
from ignition.errors import CommandError, StageError
from ignition.run import Runner
from ignition.stages.disks.aliases import DeviceAliases
from ignition.stages.disks.model import FsInfo, FsPlan
from ignition.stages.disks.parallel import Job, related, run_jobs
from ignition.stages.disks.udev import trigger


def formatted(config: Config) -> list[tuple[int, Filesystem]]:
    """The entries that ask for a format, with their index in the config."""
    return [(i, fs) for i, fs in enumerate(config.storage.filesystems) if fs.format]


def entry(index: int) -> str:
    return f"$.storage.filesystems[{index}]"


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


def _matches(fs: Filesystem, fmt: str, label: str, uuid: str) -> bool:
    return ((fs.label is None or label == fs.label)
            and (fs.uuid is None or canonical_uuid(fmt, uuid) == canonical_uuid(fmt, fs.uuid)))


def _wanted(fs: Filesystem) -> str:
    said = [f"label {fs.label!r}"] if fs.label is not None else []
    said += [f"UUID {fs.uuid}"] if fs.uuid else []
    return f" ({', '.join(said)})" if said else ""


def plan_filesystem(fs: Filesystem, device: str, found: FsInfo, where: str = "") -> FsPlan:
    """What to do with `fs` on `device` given what is there; raises before any
    write. `where` is the entry's config path, for the errors."""
    fmt = fs.format or ""
    want = "" if fmt == "none" else fmt
    name = f"{where} ({fs.device})" if where else f"filesystem at {fs.device}"
    if not fs.wipe_filesystem:
        if found.ambivalent:
            # Stale signatures beside a real filesystem (an old zfs_member label, say):
            # Ignition warns and reuses what libblkid names first. Ours reuses the one
            # signature of the config's format when its label and UUID match, and
            # refuses to guess otherwise.
            sigs = ", ".join(map(str, found.signatures)) or "wipefs could not list them"
            same = [s for s in found.signatures if want and s.type == want]
            if len(same) == 1 and _matches(fs, fmt, same[0].label, same[0].uuid):
                return FsPlan(fs.device, "reuse", fmt, found=FsInfo(want, same[0].label, same[0].uuid, True,
                                                                    found.signatures), where=where,
                              warning=f"{name}: blkid found more than one signature ({sigs}); reusing the "
                                      f"{want} filesystem the config names, the others stay")
            if not want:
                why = "and the config keeps no filesystem (format none)"
            elif len(same) > 1:
                why = f"{len(same)} of them {want}, so it cannot tell which the config means"
            else:
                why = f"and none is the {want} filesystem the config names{_wanted(fs)}"
            raise StageError(
                f"{name}: blkid found more than one signature on the device ({sigs}), {why}; nothing there "
                "can be reused: set wipeFilesystem: true to erase every signature and create "
                f"{'a new ' + fmt + ' filesystem' if want else 'nothing'} there")
        if found.type == want and _matches(fs, fmt, found.label, found.uuid):
            return FsPlan(fs.device, "reuse" if want else "none", fmt, found=found, where=where)
        if found.type:
            raise StageError(
                f"{name} is not of the correct type, label, or UUID (found "
                f"{found.type}, {found.label!r}, {found.uuid or 'no uuid'}; wanted {fmt}"
                f"{', ' + repr(fs.label) if fs.label is not None else ''}"
                f"{', ' + fs.uuid if fs.uuid else ''}) and wipeFilesystem is false; "
                "filesystem is not of the correct type: set wipeFilesystem: true to reformat it")
    if not want:
        return FsPlan(fs.device, "wipe", fmt, found=found, where=where)
    return FsPlan(fs.device, "create", fmt, mkfs_argv(fs, device), found, where)


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
        what = f"{plan.where}: " if plan.where else ""
        if plan.action == "wipe":
            raise StageError(f"{what}wiping {plan.device}: {detail}") from e
        raise StageError(f"{what}creating the {plan.format} filesystem on {plan.device}: {detail}; "
                         "check the filesystem's options") from e


def _describe(plan: FsPlan) -> str:
    return f"{'wiping' if plan.action == 'wipe' else 'creating ' + plan.format + ' on'} {plan.device}"


def _skip(ctx: StageContext, fs: Filesystem, fplan: FsPlan) -> None:
    if fplan.warning:
        ctx.logger.warning(fplan.warning)
    ctx.logger.info(f"filesystem at {fs.device} is already correctly formatted; skipping mkfs")


def _decide_and_apply(ctx: StageContext, fs: Filesystem, alias: str, where: str) -> None:
    fplan = plan_filesystem(fs, alias, ctx.machine.probe_filesystem(ctx.run, alias), where)
    if fplan.action in ("reuse", "none"):
        _skip(ctx, fs, fplan)
    else:
        apply_filesystem(fplan, alias, ctx.run)


def create_filesystems(ctx: StageContext, aliases: DeviceAliases) -> None:
    """The last step of the stage. Every device is probed and every decision
    made, in config order, before the first mkfs, except for an entry whose
    device an earlier entry writes too (the same node reached by another path,
    or a disk and its partition): that one is probed when the earlier is done."""
    jobs: list[Job] = []
    for i, fs in formatted(ctx.config):
        alias = aliases.get(fs.device)
        node = os.path.basename(os.path.realpath(alias))
        later = Job(entry(i), f"formatting {fs.device} ({fs.format}) after the entries before it on that device",
                    node, functools.partial(_decide_and_apply, ctx, fs, alias, entry(i)))
        if any(related(later, j) for j in jobs):
            # An earlier entry writes to this device (or one under it): what is
            # there is only known once that entry is done.
            jobs.append(later)
            continue
        fplan = plan_filesystem(fs, alias, ctx.machine.probe_filesystem(ctx.run, alias), entry(i))
        if fplan.action in ("reuse", "none"):
            _skip(ctx, fs, fplan)
            continue
        jobs.append(Job(entry(i), _describe(fplan), node, functools.partial(apply_filesystem, fplan, alias, ctx.run)))
    run_jobs(jobs, ctx.logger, [ctx.run.logger])
    # New filesystems bring new by-label and by-uuid links; udev makes them
    # on a change event, which a disk without inotify watching never sends.
    # Ignition asks for one explicitly too.
    trigger(ctx.run, ["/dev/" + job.node for job in jobs])
