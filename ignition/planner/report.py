"""The plan as one document (docs/plan.md is its schema): built from what the
stages recorded (plan entries, the bytes the sysroot would write) and what
the disks stage told the described machine, never from the config alone."""

from __future__ import annotations

from typing import Any

from ignition.planner import entries
from ignition.planner.machine import PlannedMachine, partition_node
from ignition.planner.session import Outcome
from ignition.stages.disks.model import DiskPlan, FsInfo, PartInfo

SCHEMA_VERSION = 1


def size_text(n: int) -> str:
    for unit, scale in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def fs_text(fs: FsInfo) -> str:
    if fs.ambivalent:
        return "several signatures"
    if not fs.type:
        return "nothing"
    return fs.type + (f" label {fs.label}" if fs.label else "")


def _fs_json(fs: FsInfo) -> dict[str, Any]:
    return {"type": fs.type, "label": fs.label, "uuid": fs.uuid, "ambivalent": fs.ambivalent}


def _part(p: PartInfo, action: str, ssz: int) -> dict[str, Any]:
    return {"number": p.number, "label": p.label, "start": p.start, "size": p.size,
            "startBytes": p.start * ssz, "sizeBytes": p.size * ssz, "typeGuid": p.type_guid.lower(),
            "guid": p.guid.lower(), "action": action}


def _action(p: PartInfo, changed: bool, other: list[PartInfo], gone: str) -> str:
    """What happens to a partition of one side of the plan (before or after), seen
    from the other: `keep` when the plan leaves it alone or its sectors are a
    partition on the other side too (whatever the entry's number: the data stays),
    `resize` when the other side has its number at the same start, else `gone`
    ("delete" for a partition before, "create" for one after)."""
    if not changed or any((o.start, o.size) == (p.start, p.size) for o in other):
        return "keep"
    same = next((o for o in other if o.number == p.number), None)
    return "resize" if same is not None and same.start == p.start else gone


def _disk(m: PlannedMachine, plan: DiskPlan, destroys: list[str]) -> dict[str, Any]:
    ssz = plan.before.sector_size
    after = {p.number: p for p in plan.after}
    created = {c.number for c in plan.creates}
    lost = m.lost.get(plan.device, {})
    before = []
    for p in plan.before.partitions:
        action = _action(p, p.number in plan.deletes or plan.wipe_table, list(plan.after), "delete")
        a = after.get(p.number)
        row = _part(p, action, ssz)
        fs = lost.get(p.number, FsInfo())
        if action == "delete":
            row["filesystem"] = _fs_json(fs)
            what = f", {fs_text(fs)}" if fs.type else ""
            destroys.append(f"{plan.device}: deletes partition {p.number} '{p.label}', "
                            f"{size_text(p.size * ssz)}{what}")
        elif action == "resize" and a is not None and a.size < p.size:
            row["filesystem"] = _fs_json(fs)
            what = f" ({fs_text(fs)})" if fs.type else ""
            destroys.append(f"{plan.device}: shrinks partition {p.number} '{p.label}'{what} from "
                            f"{size_text(p.size * ssz)} to {size_text(a.size * ssz)}: what lies past its new end "
                            "is cut off")
        before.append(row)
    rows = []
    for p in plan.after:
        row = _part(p, _action(p, p.number in created, list(plan.before.partitions), "create"), ssz)
        row["node"] = partition_node(plan.device, p.number)
        rows.append(row)
    src = m.sources.get(plan.device)
    return {"device": plan.device, "sectorSize": ssz, "sizeBytes": plan.before.total_sectors * ssz,
            "source": "image" if src and src.image else "blank", "image": src.image if src else None,
            "assumed": bool(src and src.assumed), "tableBefore": plan.before.table,
            "problem": plan.before.problem, "wipeTable": plan.wipe_table,
            "action": "rewrite" if plan.changes else "keep", "before": before, "after": rows,
            "notes": list(plan.notes)}


def _unplanned(m: PlannedMachine, out: Outcome) -> list[dict[str, Any]]:
    """When the disks stage fails before its plan, each disk of the config as it was read."""
    if out.config is None or not any(s.name == "disks" for s in out.stages):
        return []
    rows = []
    for disk in out.config.storage.disks:
        node = m.resolve(disk.device)
        state = m.tables.get(node or "")
        if state is None:
            continue
        empty = DiskPlan(state.device, state, False, (), (), state.partitions)
        row = _disk(m, empty, [])
        row.update(action="unplanned", after=None)
        rows.append(row)
    return rows


def _filesystems(m: PlannedMachine, destroys: list[str]) -> list[dict[str, Any]]:
    out = []
    for f in m.formats:
        p = f.plan
        destructive = p.action in ("create", "wipe") and bool(p.found.type or p.found.ambivalent)
        if destructive:
            verb = "wipes" if p.action == "wipe" else "reformats as " + p.format + ", destroying"
            destroys.append(f"{f.config_device} ({f.device}): {verb} {fs_text(p.found)}")
        out.append({"device": f.config_device, "node": f.device, "format": p.format, "action": p.action,
                    "label": f.label, "uuid": f.uuid, "found": _fs_json(p.found), "destructive": destructive,
                    "command": list(p.argv), "warning": p.warning})
    return out


def _made(m: PlannedMachine, kind: str, destroys: list[str]) -> list[dict[str, Any]]:
    out = []
    for made in m.made:
        if made.kind != kind:
            continue
        for member, fs in zip(made.members, made.found, strict=False):
            if fs.type and not made.reused:
                destroys.append(f"{made.path}: {'RAID' if kind == 'raid' else 'LUKS'} over {member} "
                                f"destroys {fs_text(fs)}")
        out.append({"path": made.path, "members": list(made.members), "found": [_fs_json(f) for f in made.found],
                    "action": "reuse" if made.reused else "create"})
    return out


def build(out: Outcome, source: str) -> dict[str, Any]:
    recorded = out.plan.entries
    by_stage = {s.name: recorded[s.entries] for s in out.stages}
    m = out.machine
    destroys: list[str] = []
    disks = [_disk(m, p, destroys) for p in m.disk_plans] or _unplanned(m, out)
    fss = _filesystems(m, destroys)
    raid = _made(m, "raid", destroys)
    luks = _made(m, "luks", destroys)
    files_entries = by_stage.get("files", [])
    files = entries.files(files_entries, out.config)
    passwd = entries.passwd(files_entries)
    units = entries.units(files_entries, out.sysroot.written)
    root = out.sysroot.root
    doc: dict[str, Any] = {
        "schemaVersion": SCHEMA_VERSION,
        "config": source,
        "machine": {
            "disks": [{"device": s.device, "source": "image" if s.image else "blank", "image": s.image,
                       "sizeBytes": s.size, "assumed": s.assumed} for s in m.sources.values()],
            "root": root if out.root_given else None,
        },
        "configs": [{"kind": k, "source": src, "referenced": ref} for k, src, ref in out.configs],
        "stages": [{"name": s.name, "ran": s.ran, "steps": entries.steps(recorded[s.entries])} for s in out.stages],
        "disks": disks, "raid": raid, "luks": luks, "filesystems": fss,
        "mounts": entries.mounts(by_stage.get("mount", []), root, m),
        "trees": [{"path": t.path, "device": t.device, "node": t.node, "format": t.format,
                   "contents": t.contents, "why": t.why, "entries": t.entries} for t in out.trees.trees],
        "files": files, "users": passwd["users"], "groups": passwd["groups"], "units": units,
        "kernelArguments": entries.kernel_args(by_stage.get("kargs", [])),
        "unfetched": [{"url": u, "hash": h} for u, h in out.unfetched],
        "destroys": destroys,
        "result": {"ok": out.error is None, "error": out.error, "exitCode": 0 if out.error is None else 1,
                   "stoppedAt": out.stages[-1].name if out.error is not None and out.stages else None},
    }
    doc["summary"] = {
        "disks": len(disks), "disksRewritten": sum(1 for d in disks if d["action"] == "rewrite"),
        "partitionsCreated": sum(1 for d in disks for p in d["after"] or [] if p["action"] == "create"),
        "partitionsDeleted": sum(1 for d in disks for p in d["before"] if p["action"] == "delete"),
        "partitionsResized": sum(1 for d in disks for p in d["after"] or [] if p["action"] == "resize"),
        "filesystemsMade": sum(1 for f in fss if f["action"] == "create"),
        "filesystemsReused": sum(1 for f in fss if f["action"] in ("reuse", "none")),
        "filesystemsWiped": sum(1 for f in fss if f["action"] == "wipe"),
        "raid": len(raid), "luks": len(luks), "mounts": len(doc["mounts"]),
        "files": sum(1 for f in files if f["kind"] in ("file", "append")),
        "directories": sum(1 for f in files if f["kind"] == "directory"),
        "links": sum(1 for f in files if f["kind"] in ("link", "hardlink")),
        "users": len(passwd["users"]), "groups": len(passwd["groups"]), "units": len(units),
        # The disks stage decides everything before its first write: when it
        # fails, none of its destructive steps runs.
        "destructive": bool(destroys) and doc["result"]["stoppedAt"] != "disks",
    }
    return doc

