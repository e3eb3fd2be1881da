"""The plan as one document (docs/plan.md is its schema): built from what the
stages recorded (plan entries, the bytes the sysroot would write) and what
the disks stage told the described machine, never from the config alone."""

from __future__ import annotations

import os
import shlex
from typing import Any

from ignition import redact
from ignition.config.types import Config
from ignition.plan import PlanEntry
from ignition.planner.machine import PlannedMachine, partition_node
from ignition.planner.session import Outcome
from ignition.stages.disks.model import DiskPlan, FsInfo, PartInfo
from ignition.stages.files.units import PRESET_PATH, UNITS_DIR

SCHEMA_VERSION = 1
PASSWD_TOOLS = {"useradd": ("users", "add"), "usermod": ("users", "modify"), "userdel": ("users", "delete"),
                "groupadd": ("groups", "add"), "groupmod": ("groups", "modify"), "groupdel": ("groups", "delete")}


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


def _disk(m: PlannedMachine, plan: DiskPlan, destroys: list[str]) -> dict[str, Any]:
    ssz = plan.before.sector_size
    after = {p.number: p for p in plan.after}
    created = {c.number for c in plan.creates}
    lost = m.lost.get(plan.device, {})
    # Sectors that are a partition again after the plan keep their data, whatever the entry's number.
    again = {(p.start, p.size) for p in plan.after}
    before = []
    for p in plan.before.partitions:
        a = after.get(p.number)
        if (p.number not in plan.deletes and not plan.wipe_table) or (p.start, p.size) in again:
            action = "keep"
        elif a is not None and a.start == p.start:
            action = "resize"
        else:
            action = "delete"
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
    was = {(p.start, p.size) for p in plan.before.partitions}
    rows = []
    old = {p.number: p for p in plan.before.partitions}
    for p in plan.after:
        o = old.get(p.number)
        if p.number not in created or (p.start, p.size) in was:
            action = "keep"
        elif o is not None and o.start == p.start:
            action = "resize"
        else:
            action = "create"
        row = _part(p, action, ssz)
        row["node"] = partition_node(plan.device, p.number)
        rows.append(row)
    src = m.sources.get(plan.device)
    return {"device": plan.device, "sectorSize": ssz, "sizeBytes": plan.before.total_sectors * ssz,
            "source": "image" if src and src.image else "blank", "image": src.image if src else None,
            "assumed": bool(src and src.assumed), "tableBefore": plan.before.table,
            "problem": plan.before.problem, "wipeTable": plan.wipe_table,
            "action": "rewrite" if plan.changes else "keep", "before": before, "after": rows,
            "notes": list(plan.notes)}


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
                    "command": list(p.argv)})
    return out


def _made(m: PlannedMachine, kind: str, destroys: list[str]) -> list[dict[str, Any]]:
    out = []
    for made in m.made:
        if made.kind != kind:
            continue
        for member, fs in zip(made.members, made.found, strict=False):
            if fs.type:
                destroys.append(f"{made.path}: {'RAID' if kind == 'raid' else 'LUKS'} over {member} "
                                f"destroys {fs_text(fs)}")
        out.append({"path": made.path, "members": list(made.members), "found": [_fs_json(f) for f in made.found]})
    return out


def _argv(e: PlanEntry) -> list[str]:
    try:
        return shlex.split(e.target)
    except ValueError:
        return [e.target]


def _relative(root: str, host: str) -> str:
    return "/" + os.path.relpath(host, root).lstrip("./") if host.startswith(root) else host


def _nodes(config: Config | None) -> dict[str, Any]:
    if config is None:
        return {}
    s = config.storage
    return {n.path: n for n in [*s.files, *s.directories, *s.links]}


def _new_homes(entries: list[PlanEntry]) -> dict[str, str]:
    """Home directory -> name of each user the plan adds with a home."""
    homes = {}
    for e in entries:
        argv = _argv(e) if e.action == "run" else []
        if argv and os.path.basename(argv[0]) == "useradd" and "--no-create-home" not in argv:
            home = argv[argv.index("--home-dir") + 1] if "--home-dir" in argv else f"/home/{argv[-1]}"
            homes[home.rstrip("/")] = argv[-1]
    return homes


def _files(entries: list[PlanEntry], config: Config | None) -> list[dict[str, Any]]:
    nodes = _nodes(config)
    homes = _new_homes(entries)
    out: list[dict[str, Any]] = []
    for e in entries:
        d = dict(e.details)
        if e.action not in ("write", "mkdir", "symlink", "hardlink", "append", "remove", "chmod", "chown"):
            continue
        if e.action in ("chown", "chmod") and out and out[-1]["path"] == e.target:
            out[-1]["owner" if e.action == "chown" else "mode"] = d.get("owner", d.get("mode"))
            continue
        kind = {"write": "file", "mkdir": "directory", "symlink": "link"}.get(e.action, e.action)
        row: dict[str, Any] = {"path": e.target, "kind": kind, "mode": d.get("mode"), "owner": d.get("owner"),
                               "size": int(d["size"]) if "size" in d else None, "target": d.get("to")}
        node = nodes.get(e.target)
        user = getattr(getattr(node, "user", None), "name", None)
        group = getattr(getattr(node, "group", None), "name", None)
        if row["owner"] and (user or group):
            uid, _, gid = row["owner"].partition(":")
            row["owner"] = f"{user or uid}:{group or gid}"
        if row["owner"] is None and kind in ("file", "directory"):
            row["owner"] = "0:0"  # the stage runs as root
        contents = getattr(node, "contents", None)
        source = getattr(contents, "source", None)
        row["source"] = redact.url(source) if source else None
        out.append(row)
    for row in out:
        owner = next((name for home, name in homes.items() if (row["path"] + "/").startswith(home + "/.ssh/")), None)
        if owner and row["owner"] == "0:0" and row["path"] not in nodes:
            # what the stage writes for a new user (SSH keys) is the user's; useradd picks its ids at boot
            row["owner"] = f"{owner} (new user)"
    return out


def _passwd(entries: list[PlanEntry]) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {"users": [], "groups": []}
    for e in entries:
        argv = _argv(e) if e.action == "run" else []
        tool = os.path.basename(argv[0]) if argv else ""
        if tool in PASSWD_TOOLS:
            section, action = PASSWD_TOOLS[tool]
            out[section].append({"name": argv[-1], "action": action})
    return out


def _units(entries: list[PlanEntry], written: dict[str, bytes]) -> list[dict[str, Any]]:
    units: dict[str, dict[str, Any]] = {}

    def unit(name: str) -> dict[str, Any]:
        return units.setdefault(name, {"name": name, "written": False, "dropins": [], "enabled": None,
                                       "masked": False})

    for e in entries:
        if not e.target.startswith(UNITS_DIR + "/") or e.action not in ("write", "symlink"):
            continue
        rel = e.target[len(UNITS_DIR) + 1:]
        if "/" in rel and rel.split("/")[0].endswith(".d") and e.action == "write":
            unit(rel.split("/")[0][:-2])["dropins"].append(rel.split("/", 1)[1])
        elif "/" not in rel:
            if e.action == "symlink" and dict(e.details).get("to") == "/dev/null":
                unit(rel)["masked"] = True
            elif e.action == "write":
                unit(rel)["written"] = True
    for line in written.get(PRESET_PATH, b"").decode("utf-8", "replace").splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in ("enable", "disable"):
            names = [words[1]] if len(words) == 2 else [words[1].replace("@.", f"@{i}.") for i in words[2:]]
            for name in names:
                unit(name)["enabled"] = words[0] == "enable"
    return list(units.values())


def _kargs(entries: list[PlanEntry]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"shouldExist": [], "shouldNotExist": []}
    for e in entries:
        argv = _argv(e)
        for flag, key in (("--should-exist", "shouldExist"), ("--should-not-exist", "shouldNotExist")):
            out[key] += [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == flag]
    return out


def _mounts(entries: list[PlanEntry], root: str, m: PlannedMachine) -> list[dict[str, Any]]:
    named = {f.device: f.config_device for f in m.formats}
    out = []
    for e in entries:
        argv = _argv(e) if e.action == "run" else []
        if len(argv) < 3 or os.path.basename(argv[0]) != "mount":
            continue
        opts = argv[argv.index("-o") + 1].split(",") if "-o" in argv else []
        fmt = argv[argv.index("-t") + 1] if "-t" in argv else ""
        out.append({"device": named.get(argv[-2], argv[-2]), "node": argv[-2], "path": _relative(root, argv[-1]),
                    "format": fmt, "options": opts})
    return out


def _steps(entries: list[PlanEntry]) -> list[dict[str, str]]:
    steps = []
    for e in entries:
        j = e.as_json()
        if e.action == "run":
            j["target"] = _redact_argv(_argv(e))
        steps.append(j)
    return steps


def _redact_argv(argv: list[str]) -> str:
    """A recorded command as shown: password hashes and key files stay out."""
    shown = list(argv)
    for i, a in enumerate(shown[:-1]):
        if a in ("--password", "-p"):
            shown[i + 1] = "***"
    return " ".join(shlex.quote(a) for a in shown)


def build(out: Outcome, source: str) -> dict[str, Any]:
    entries = out.plan.entries
    by_stage = {s.name: entries[s.entries] for s in out.stages}
    m = out.machine
    destroys: list[str] = []
    disks = [_disk(m, p, destroys) for p in m.disk_plans]
    fss = _filesystems(m, destroys)
    raid = _made(m, "raid", destroys)
    luks = _made(m, "luks", destroys)
    files_entries = by_stage.get("files", [])
    files = _files(files_entries, out.config)
    passwd = _passwd(files_entries)
    units = _units(files_entries, out.sysroot.written)
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
        "stages": [{"name": s.name, "ran": s.ran, "steps": _steps(entries[s.entries])} for s in out.stages],
        "disks": disks, "raid": raid, "luks": luks, "filesystems": fss,
        "mounts": _mounts(by_stage.get("mount", []), root, m),
        "files": files, "users": passwd["users"], "groups": passwd["groups"], "units": units,
        "kernelArguments": _kargs(by_stage.get("kargs", [])),
        "unfetched": [{"url": u, "hash": h} for u, h in out.unfetched],
        "destroys": destroys,
        "result": {"ok": out.error is None, "error": out.error, "exitCode": 0 if out.error is None else 1,
                   "stoppedAt": out.stages[-1].name if out.error is not None and out.stages else None},
    }
    doc["summary"] = {
        "disks": len(disks), "disksRewritten": sum(1 for d in disks if d["action"] == "rewrite"),
        "partitionsCreated": sum(1 for d in disks for p in d["after"] if p["action"] == "create"),
        "partitionsDeleted": sum(1 for d in disks for p in d["before"] if p["action"] == "delete"),
        "partitionsResized": sum(1 for d in disks for p in d["after"] if p["action"] == "resize"),
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

