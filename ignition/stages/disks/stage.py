"""The disks stage: probe everything, plan everything (errors here change
nothing), then write partition tables, then filesystems."""

from __future__ import annotations

import os
from typing import ClassVar

from ignition.config.types import Config, Filesystem
from ignition.context import StageContext
from ignition.errors import NotImplementedStageError, StageError
from ignition.stages.base import ConfigSource
from ignition.stages.disks.busy import check_not_busy, in_use
from ignition.stages.disks.filesystems import apply_filesystem, plan_filesystem, wait_for_device
from ignition.stages.disks.model import DiskPlan, PartInfo
from ignition.stages.disks.partitions import write_table
from ignition.stages.disks.plan import plan_disk
from ignition.stages.disks.probe import probe_disks, probe_filesystem
from ignition.stages.disks.udev import SYS_BLOCK, settle


def describe(parts: tuple[PartInfo, ...], per_mib: int) -> str:
    if not parts:
        return "(empty)"
    return "; ".join(
        f"#{p.number} start {p.start} ({p.start / per_mib:g} MiB) size {p.size} ({p.size / per_mib:g} MiB)"
        f" label {p.label!r} type {p.type_guid} guid {p.guid or '(random)'}" for p in parts)


def _owner(device: str) -> tuple[str, int] | None:
    """(disk node, partition number) when `device` is a partition, else None."""
    name = os.path.basename(os.path.realpath(device))
    sys_dir = os.path.realpath(os.path.join(SYS_BLOCK, name))
    try:
        with open(os.path.join(sys_dir, "partition"), encoding="ascii") as f:
            number = int(f.read().strip())
    except (OSError, ValueError):
        return None
    return "/dev/" + os.path.basename(os.path.dirname(sys_dir)), number


def touched(device: str, plans: list[DiskPlan]) -> bool:
    """Will the partition plan change what `device` is?"""
    node = os.path.realpath(device)
    owner = _owner(device)
    for p in plans:
        if not p.changes:
            continue
        if node == p.device:
            return True
        if owner and owner[0] == p.device and (p.wipe_table or owner[1] in p.deletes
                                               or owner[1] in {c.number for c in p.creates}):
            return True
    return False


def _formatted(config: Config) -> list[Filesystem]:
    return [fs for fs in config.storage.filesystems if fs.format]


def run_disks(ctx: StageContext) -> None:
    s = ctx.config.storage
    if s.raid or s.luks:
        what = " and ".join(w for w, v in (("storage.raid", s.raid), ("storage.luks", s.luks)) if v)
        raise NotImplementedStageError(f"{what}: RAID and LUKS are not implemented in this build yet "
                                       "(issue 7); no disk was touched")
    states = probe_disks(ctx.config)
    plans = [plan_disk(d, states[d.device]) for d in s.disks]
    for plan in plans:
        check_not_busy(plan)
    # Filesystems the partition plan leaves alone are checked now, so a wrong
    # format without wipeFilesystem fails before any table is written.
    for fs in _formatted(ctx.config):
        if os.path.exists(fs.device) and not touched(fs.device, plans):
            node = os.path.realpath(fs.device)
            fplan = plan_filesystem(fs, node, probe_filesystem(ctx.run, node))
            why = in_use(os.path.basename(node)) if fplan.action in ("create", "wipe") else ""
            if why:
                raise StageError(f"refusing to format {fs.device}: it is {why}")

    if ctx.plan is not None:
        _dry_run(ctx, plans)
        return

    for plan in plans:
        if not plan.changes:
            ctx.logger.info(f"{plan.device}: partition table already as configured")
            continue
        with ctx.logger.op(f"partitioning {plan.device}"):
            write_table(plan, ctx.run, ctx.logger)
    for fs in _formatted(ctx.config):
        node = wait_for_device(fs.device)
        fplan = plan_filesystem(fs, node, probe_filesystem(ctx.run, node))
        if fplan.action in ("reuse", "none"):
            ctx.logger.info(f"filesystem at {fs.device} is already correctly formatted; skipping mkfs")
            continue
        with ctx.logger.op(f"{'wiping' if fplan.action == 'wipe' else 'creating ' + fplan.format + ' on'} "
                           f"{fs.device}"):
            apply_filesystem(fplan, node, ctx.run)
    settle(ctx.run)


def _dry_run(ctx: StageContext, plans: list[DiskPlan]) -> None:
    assert ctx.plan is not None
    for p in plans:
        per_mib = 1024 * 1024 // p.before.sector_size
        ctx.plan.add("keep" if not p.changes else "rewrite", f"partition table of {p.device}",
                     before=describe(p.before.partitions, per_mib), after=describe(p.after, per_mib),
                     wipeTable=p.wipe_table, delete=",".join(map(str, p.deletes)) or "-",
                     create=",".join(str(c.number) for c in p.creates) or "-")
    for fs in _formatted(ctx.config):
        if os.path.exists(fs.device) and not touched(fs.device, plans):
            node = os.path.realpath(fs.device)
            fp = plan_filesystem(fs, node, probe_filesystem(ctx.run, node))
            found = fp.found.type or "nothing"
            if fp.action == "create":
                ctx.plan.add("create filesystem", fs.device, format=fs.format, found=found,
                             command="wipefs -a, then " + " ".join(fp.argv))
            elif fp.action == "wipe":
                ctx.plan.add("wipe signatures", fs.device, found=found)
            else:
                ctx.plan.add("reuse filesystem", fs.device, format=fs.format, found=found)
        else:
            ctx.plan.add("decide after partitioning", fs.device, format=fs.format,
                         wipeFilesystem=bool(fs.wipe_filesystem))


class DisksStage:
    name: ClassVar[str] = "disks"
    config_source: ClassVar[ConfigSource] = "cache"
    offline: ClassVar[bool] = False

    def applies(self, config: Config) -> bool:
        # As Ignition: nothing to do (and no udev interaction) without any of these.
        st = config.storage
        return bool(st.disks or st.raid or st.luks or st.filesystems)

    def run(self, ctx: StageContext) -> None:
        run_disks(ctx)
