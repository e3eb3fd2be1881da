"""The disks stage: probe everything, plan everything (errors here change
nothing), then write partition tables, then filesystems."""

from __future__ import annotations

from typing import ClassVar

from ignition.config.types import Config
from ignition.context import StageContext
from ignition.errors import StageError
from ignition.machine import HOST, Machine
from ignition.stages.base import ConfigSource
from ignition.stages.disks.aliases import DeviceAliases
from ignition.stages.disks.busy import check_not_busy
from ignition.stages.disks.filesystems import create_filesystems, entry, formatted, plan_filesystem
from ignition.stages.disks.luks import LuksKey, apply_luks, check_existing, mapper_path, prepare_keys
from ignition.stages.disks.model import DiskPlan, PartInfo
from ignition.stages.disks.partitions import write_table
from ignition.stages.disks.plan import plan_disk
from ignition.stages.disks.probe import probe_disks
from ignition.stages.disks.raid import array_path, check_raid, create_raid, resolve_members
from ignition.stages.disks.udev import settle


def describe(parts: tuple[PartInfo, ...], per_mib: int) -> str:
    if not parts:
        return "(empty)"
    return "; ".join(
        f"#{p.number} start {p.start} ({p.start / per_mib:g} MiB) size {p.size} ({p.size / per_mib:g} MiB)"
        f" label {p.label!r} type {p.type_guid} guid {p.guid or '(random)'}" for p in parts)


def touched(device: str, plans: list[DiskPlan], machine: Machine = HOST) -> bool:
    """Will the partition plan change what `device` is?"""
    node = machine.realpath(device)
    owner = machine.partition_of(device)
    for p in plans:
        if not p.changes:
            continue
        if node == p.device:
            return True
        if owner and owner[0] == p.device and (p.wipe_table or owner[1] in p.deletes
                                               or owner[1] in {c.number for c in p.creates}):
            return True
    return False


def produced(config: Config) -> set[str]:
    """Devices this stage makes (arrays, opened LUKS volumes): what is there now
    under those names is not what later steps will see."""
    return {array_path(r) for r in config.storage.raid} | {mapper_path(lk) for lk in config.storage.luks}


def _untouched(device: str, plans: list[DiskPlan], made: set[str], machine: Machine) -> bool:
    """Exists now and stays what it is until its turn comes."""
    return device not in made and machine.exists(device) and not touched(device, plans, machine)


def run_disks(ctx: StageContext) -> None:
    s = ctx.config.storage
    m = ctx.machine
    # Every device the config names is resolved once, on first use; later
    # steps go through the alias (see aliases.py).
    aliases = DeviceAliases(ctx.paths.dev_aliases, dry_run=ctx.plan is not None, machine=m)
    states = probe_disks(ctx.config, aliases)
    plans = [plan_disk(d, states[d.device]) for d in s.disks]
    for plan in plans:
        check_not_busy(plan, m)
    made = produced(ctx.config)
    for raid in s.raid:
        check_raid(raid)
        for dev in raid.devices:
            if _untouched(dev, plans, made, m):
                why = m.in_use(aliases.get(dev))
                if why:
                    raise StageError(f"refusing to put {dev} into RAID array {raid.name}: it is {why}")
    keys = prepare_keys(ctx)
    # Kernel support last: a config error is the more useful message.
    if s.raid:
        m.require_md(ctx.run)
    if s.luks:
        m.require_dm(ctx)
    for lk in keys:
        dev = lk.luks.device or ""
        if _untouched(dev, plans, made, m):
            alias = aliases.get(dev)
            if check_existing(ctx, lk, alias) == "format":
                why = m.in_use(alias)
                if why:
                    raise StageError(f"refusing to format LUKS volume {lk.luks.name} on {dev}: it is {why}")
    # Filesystems the partition plan leaves alone are checked now, so a wrong
    # format without wipeFilesystem fails before any table is written.
    for i, fs in formatted(ctx.config):
        if _untouched(fs.device, plans, made, m):
            alias = aliases.get(fs.device)
            fplan = plan_filesystem(fs, alias, m.probe_filesystem(ctx.run, alias), entry(i))
            why = m.in_use(alias) if fplan.action in ("create", "wipe") else ""
            if why:
                raise StageError(f"{entry(i)}: refusing to format {fs.device}: it is {why}")

    if ctx.plan is not None:
        _dry_run(ctx, plans, keys, made, aliases)
        return

    # Ignition's order: partitions, RAID, LUKS, filesystems; each may sit on the one before.
    for plan in plans:
        if not plan.changes:
            ctx.logger.info(f"{plan.device}: partition table already as configured")
            continue
        with ctx.logger.op(f"partitioning {plan.device}"):
            write_table(plan, ctx.run, ctx.logger)
    for raid in s.raid:
        members = [aliases.get(d) for d in raid.devices]
        with ctx.logger.op(f"creating RAID array {raid.name} ({raid.level} over {', '.join(raid.devices)})"):
            create_raid(raid, members, ctx.run)
            m.wait_for_node(array_path(raid), 60)
    if s.raid:
        settle(ctx.run)
    for lk in keys:
        alias = aliases.get(lk.luks.device or "")
        with ctx.logger.op(f"creating LUKS volume {lk.luks.name} on {lk.luks.device}"):
            apply_luks(ctx, lk, alias)
            m.wait_for_node(mapper_path(lk.luks), 60)
    create_filesystems(ctx, aliases)
    settle(ctx.run)


def _dry_run(ctx: StageContext, plans: list[DiskPlan], keys: list[LuksKey], made: set[str],
             aliases: DeviceAliases) -> None:
    assert ctx.plan is not None
    m = ctx.machine
    for p in plans:
        per_mib = 1024 * 1024 // p.before.sector_size
        ctx.plan.add("keep" if not p.changes else "rewrite", f"partition table of {p.device}",
                     before=describe(p.before.partitions, per_mib), after=describe(p.after, per_mib),
                     wipeTable=p.wipe_table, delete=",".join(map(str, p.deletes)) or "-",
                     create=",".join(str(c.number) for c in p.creates) or "-")
    m.partitioned(plans)

    # A device is decided now when it stays as it is until its turn, or when
    # the machine can say what it will hold by then (a planned machine).
    def known(dev: str) -> bool:
        return m.predicts or _untouched(dev, plans, made, m)

    # The recording runner puts each mdadm/cryptsetup call in the plan; key
    # files are named there, never written, and keys never appear.
    for raid in ctx.config.storage.raid:
        ctx.plan.add("create RAID array", array_path(raid), level=raid.level, devices=",".join(raid.devices),
                     spares=raid.spares or 0)
        members = [aliases.get(d) for d in raid.devices] if m.predicts else resolve_members(raid, m)
        create_raid(raid, members, ctx.run)
        m.created(array_path(raid), "raid", tuple(members))
    for lk in keys:
        dev = lk.luks.device or ""
        now = known(dev)
        ctx.plan.add("create LUKS volume", mapper_path(lk.luks), device=dev,
                     key="generated" if lk.generated else "keyFile", wipeVolume=bool(lk.luks.wipe_volume),
                     found="probed" if now else "decided after the steps before it")
        node = aliases.get(dev) if now else m.realpath(dev)
        apply_luks(ctx, lk, node, None if now else "format")
        m.created(mapper_path(lk.luks), "luks", (node,))
    for i, fs in formatted(ctx.config):
        if known(fs.device):
            node = aliases.get(fs.device)
            fp = plan_filesystem(fs, node, m.probe_filesystem(ctx.run, node), entry(i))
            m.formatted(node, fs, fp)
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
