"""Spec 2 disks, partitions and RAID arrays as spec 3.1."""

from __future__ import annotations

from typing import Any

from ignition.config.report import PathElem, json_path
from ignition.config.v2.access import items, put, text
from ignition.config.v2.notes import Notes

# Spec 2 sized partitions in logical sectors; the converter has no disk to ask, so it assumes
# the common 512-byte sector (2048 per MiB) and says so.
_SECTORS_PER_MIB = 2048


def translate_disks(storage: dict[str, Any], version: str, notes: Notes) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: dict[str, tuple[PathElem, ...]] = {}
    for i, disk in enumerate(items(storage, "disks")):
        if not isinstance(disk, dict):
            continue
        where: tuple[PathElem, ...] = ("storage", "disks", i)
        device = disk.get("device")
        if isinstance(device, str):
            if device in seen:
                notes.error(where + ("device",), f"disk {device} is also listed at {json_path(seen[device])}: "
                            "spec 3 allows one entry per disk; merge their partitions into one")
            seen.setdefault(device, where)
        notes.origin(("storage", "disks", len(out)), where)
        entry: dict[str, Any] = {"device": device}
        if disk.get("wipeTable") is True:
            entry["wipeTable"] = True
        parts: list[dict[str, Any]] = []
        for j, p in enumerate(items(disk, "partitions")):
            if isinstance(p, dict):
                pwhere = where + ("partitions", j)
                notes.origin(("storage", "disks", len(out), "partitions", len(parts)), pwhere)
                notes.origin(("storage", "disks", len(out), "partitions", len(parts), "sizeMiB"),
                             pwhere + ("sizeMiB" if "sizeMiB" in p else "size",))
                notes.origin(("storage", "disks", len(out), "partitions", len(parts), "startMiB"),
                             pwhere + ("startMiB" if "startMiB" in p else "start",))
                parts.append(_partition(p, pwhere, version, notes))
        put(entry, "partitions", parts)
        out.append(entry)
    return out


def _partition(part: dict[str, Any], where: tuple[PathElem, ...], version: str, notes: Notes) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if version >= "2.3.0":
        if isinstance(part.get("label"), str):
            out["label"] = part["label"]  # a pointer from 2.3.0 on: "" is a value
    else:
        put(out, "label", text(part, "label"))
    put(out, "number", part.get("number"))
    put(out, "sizeMiB", _mib(part, "size", "sizeMiB", where, notes))
    put(out, "startMiB", _mib(part, "start", "startMiB", where, notes))
    put(out, "typeGuid", text(part, "typeGuid"))
    put(out, "guid", text(part, "guid"))
    if part.get("wipePartitionEntry") is True:
        out["wipePartitionEntry"] = True
    if isinstance(part.get("shouldExist"), bool):
        out["shouldExist"] = part["shouldExist"]
    return out


def _mib(part: dict[str, Any], sectors_key: str, mib_key: str, where: tuple[PathElem, ...],
         notes: Notes) -> int | None:
    mib = part.get(mib_key)
    sectors = part.get(sectors_key)
    if not isinstance(sectors, int):
        return mib if isinstance(mib, int) else None
    at = where + (sectors_key,)
    if mib is not None:
        notes.error(at, f"{sectors_key} (in sectors) and {mib_key} are both set: keep only {mib_key}")
        return mib if isinstance(mib, int) else None
    if sectors < 0:
        notes.error(at, f"must not be negative: set {mib_key} in MiB instead")
        return None
    whole, rest = divmod(sectors, _SECTORS_PER_MIB)
    if rest:
        notes.error(at, f"{sectors} sectors of 512 bytes is not a whole number of MiB, and spec 3 "
                    f"places partitions in MiB: replace {sectors_key} by {mib_key} "
                    f"({whole} or {whole + 1})")
        return None
    if whole:
        notes.warning(at, f"{sectors} sectors became {mib_key} {whole}, assuming 512-byte sectors; "
                      f"for a disk with 4096-byte sectors set {mib_key} to {sectors // 256} instead")
    return whole


def translate_raid(storage: dict[str, Any], notes: Notes) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: dict[str, tuple[PathElem, ...]] = {}
    for i, raid in enumerate(items(storage, "raid")):
        if not isinstance(raid, dict):
            continue
        where: tuple[PathElem, ...] = ("storage", "raid", i)
        name = raid.get("name")
        if isinstance(name, str):
            if name in seen:
                notes.error(where + ("name",), f"array {name} is also defined at {json_path(seen[name])}: "
                            "spec 3 allows one entry per array; remove one")
            seen.setdefault(name, where)
        notes.origin(("storage", "raid", len(out)), where)
        entry: dict[str, Any] = {"name": name, "level": raid.get("level"),
                                 "devices": [d for d in items(raid, "devices") if isinstance(d, str)]}
        spares = raid.get("spares")
        if isinstance(spares, int) and spares:
            entry["spares"] = spares
        put(entry, "options", [o for o in items(raid, "options") if isinstance(o, str)])
        out.append(entry)
    return out
