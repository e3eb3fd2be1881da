"""Software RAID with mdadm, as Ignition builds it (inventory 4.4): always
created, never matched against or reused from an existing array."""

from __future__ import annotations

import os

from ignition import distro
from ignition.config.types import Raid
from ignition.errors import CommandError, StageError
from ignition.machine import HOST, Machine
from ignition.run import Runner

MDSTAT = "/proc/mdstat"  # present when the kernel has the md driver

# Levels that cannot hold a spare (the config validator says the same).
NO_SPARES = {"linear", "raid0", "0", "stripe"}


def array_path(raid: Raid) -> str:
    """Where the array appears: Ignition's /dev/md/<name>, or the name itself
    when it is already a /dev path."""
    return raid.name if raid.name.startswith("/dev") else "/dev/md/" + raid.name


def check_raid(raid: Raid) -> None:
    """What must hold before any disk is written."""
    spares = raid.spares or 0
    if not raid.level:
        raise StageError(f"RAID array {raid.name}: no level; set storage.raid level (e.g. raid1)")
    if spares and raid.level in NO_SPARES:
        raise StageError(f"RAID array {raid.name}: level {raid.level} cannot have spares; drop `spares`")
    if len(raid.devices) - spares < 1:
        raise StageError(f"RAID array {raid.name}: {len(raid.devices)} devices and {spares} spares leave "
                         "no active device; list more devices or fewer spares")
    if len(set(raid.devices)) != len(raid.devices):
        raise StageError(f"RAID array {raid.name}: a device is listed twice")


def mdadm_argv(raid: Raid, devices: list[str]) -> list[str]:
    """Ignition's call: user options after its flags, the member devices last."""
    spares = raid.spares or 0
    argv = [distro.tool("mdadm"), "--create", array_path(raid), "--force", "--run", "--homehost", "any",
            "--level", raid.level or "", "--raid-devices", str(len(raid.devices) - spares)]
    if spares > 0:
        argv += ["--spare-devices", str(spares)]
    return argv + list(raid.options) + devices


def create_raid(raid: Raid, devices: list[str], run: Runner) -> None:
    """`devices` are the resolved member nodes (the dev_aliases idea)."""
    try:
        run.run(mdadm_argv(raid, devices), timeout=300)
    except CommandError as e:
        detail = "\n".join(str(e).splitlines()[:3])
        raise StageError(f"creating RAID array {raid.name} ({array_path(raid)}): {detail}; "
                         "check the array's level, devices and options") from e


def resolve_members(raid: Raid, machine: Machine = HOST) -> list[str]:
    return [machine.realpath(d) for d in raid.devices]


def require_md(run: Runner) -> None:
    """The md driver, loaded if needed, before any disk is written: a kernel
    without it would otherwise fail after the partitions were already made."""
    if not os.path.exists(MDSTAT):
        run.run([distro.tool("modprobe"), "md_mod"], probe=True, check=False)
    if not os.path.exists(MDSTAT):
        raise StageError("storage.raid needs the kernel's md driver, and this kernel has none "
                         f"({MDSTAT} is missing, modprobe md_mod failed); no disk was touched")
