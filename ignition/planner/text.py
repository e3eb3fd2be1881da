"""The plan document (report.py) as text a person reads at a glance: stage by
stage, partition tables side by side in columns, destructive steps marked."""

from __future__ import annotations

from typing import Any

from ignition.planner.report import size_text

MARK = "!!"  # in front of every destructive line


def _table(rows: list[dict[str, Any]], ssz: int) -> list[str]:
    if not rows:
        return ["      (no partitions)"]
    head = ("#", "label", "start", "size", "type GUID", "action")
    body = [(str(r["number"]), repr(r["label"]) if r["label"] else "-", size_text(r["start"] * ssz),
             size_text(r["size"] * ssz), r["typeGuid"], r["action"]) for r in rows]
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    lines = []
    for row in [head, *body]:
        lines.append("      " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return lines


def _disk(d: dict[str, Any]) -> list[str]:
    what = ("blank disk" if d["source"] == "blank" else f"image {d['image']}") + f", {size_text(d['sizeBytes'])}"
    if d["assumed"]:
        what += ", not described: planned as a blank disk of --default-disk-size"
    lines = [f"  disk {d['device']} ({what})"]
    table = {"gpt": "GPT", "none": "no partition table", "corrupt": "damaged GPT: " + d["problem"]}[d["tableBefore"]]
    if d["action"] == "unplanned":
        lines.append(f"    not planned: the stage fails first ({table})")
        lines += _table(d["before"], d["sectorSize"])
        return lines
    if d["action"] == "keep":
        lines.append(f"    partition table already as configured ({table}); nothing written")
    else:
        why = " (wipeTable: every entry dropped first)" if d["wipeTable"] else ""
        lines.append(f"    rewrite the partition table{why}")
    lines.append(f"    before ({table}):")
    lines += _table(d["before"], d["sectorSize"])
    lines.append("    after:")
    lines += _table(d["after"], d["sectorSize"])
    return lines


def _fs(f: dict[str, Any]) -> str:
    found = f["found"]
    had = "nothing" if not found["type"] else found["type"] + (f" label {found['label']}" if found["label"] else "")
    label = f" label {f['label']}" if f["label"] else ""
    verb = {"create": f"make {f['format']}{label}", "reuse": f"reuse the {f['format']} there",
            "wipe": "wipe every signature", "none": "leave as it is (nothing asked)"}[f["action"]]
    mark = f"{MARK} " if f["destructive"] else ""
    line = f"  {mark}filesystem on {f['device']} ({f['node']}): {verb} (found {had})"
    return line + (f"\n    warning: {f['warning']}" if f.get("warning") else "")


_CONTENTS = {"read": "read from the image", "new": "a new filesystem", "empty": "empty",
             "unknown": "CONTENTS NOT KNOWN", "directory": "the --root directory", "minimal": "assumed"}


def _tree(t: dict[str, Any]) -> str:
    where = t["node"] if t["node"] and t["node"] == t["device"] else (
        f"{t['device']} ({t['node']})" if t["node"] else t["device"] or "no device")
    count = f", {t['entries']} nodes" if t["entries"] else ""
    return f"  tree {t['path']}: {where}, {_CONTENTS[t['contents']]}{count} ({t['why']})"


def _files(doc: dict[str, Any]) -> list[str]:
    lines = [_tree(t) for t in doc["trees"]]
    for u in doc["groups"]:
        lines.append(f"  group {u['name']}: {u['action']}")
    for u in doc["users"]:
        lines.append(f"  user {u['name']}: {u['action']}")
    for f in doc["files"]:
        mode = f" {f['mode']}" if f["mode"] else ""
        owner = f" {f['owner']}" if f["owner"] else ""
        if f["kind"] in ("file", "append"):
            size = "size unknown (not fetched)" if any(
                f["source"] == u["url"] for u in doc["unfetched"]) else size_text(f["size"] or 0)
            src = f" from {f['source']}" if f["source"] else ""
            lines.append(f"  {f['kind']} {f['path']}{mode}{owner} {size}{src}")
        elif f["kind"] in ("link", "hardlink"):
            lines.append(f"  {f['kind']} {f['path']} -> {f['target']}{owner}")
        else:
            lines.append(f"  {f['kind']} {f['path']}{mode}{owner}")
    for u in doc["units"]:
        what = ["written" if u["written"] else "not written"]
        what += [f"drop-in {n}" for n in u["dropins"]]
        if u["enabled"] is not None:
            what.append("enabled" if u["enabled"] else "disabled")
        if u["masked"]:
            what.append("masked")
        lines.append(f"  unit {u['name']}: {', '.join(what)}")
    for u in doc["unfetched"]:
        lines.append(f"  not fetched (--offline): {u['url']}" + (f", expected {u['hash']}" if u["hash"] else ""))
    return lines


def _stage(doc: dict[str, Any], stage: dict[str, Any]) -> list[str]:
    name = stage["name"]
    if not stage["ran"]:
        return [f"== {name}: nothing to do for this config"]
    lines = [f"== {name}"]
    if name == "kargs":
        ka = doc["kernelArguments"]
        lines += [f"  kernel argument {a}: ensure present" for a in ka["shouldExist"]]
        lines += [f"  kernel argument {a}: ensure absent" for a in ka["shouldNotExist"]]
    elif name == "disks":
        for d in doc["disks"]:
            lines += _disk(d)
        for r in doc["raid"]:
            lines.append(f"  RAID array {r['path']} over {', '.join(r['members'])}")
        for v in doc["luks"]:
            how = (": reuse the existing volume (the keyFile is tried at boot; what it holds is not known "
                   "without its key)") if v["action"] == "reuse" else ""
            lines.append(f"  LUKS volume {v['path']} on {', '.join(v['members'])}{how}")
        lines += [_fs(f) for f in doc["filesystems"]]
    elif name == "mount":
        for mt in doc["mounts"]:
            opts = f" -o {','.join(mt['options'])}" if mt["options"] else ""
            lines.append(f"  mount {mt['device']} ({mt['node']}, {mt['format']}{opts}) at {mt['path']}")
    elif name == "files":
        lines += _files(doc)
    elif name == "umount":
        lines += [f"  unmount {mt['path']}" for mt in reversed(doc["mounts"])]
    else:
        lines += [f"  {c['kind']} config from {c['source']}" + (" (referenced)" if c["referenced"] else "")
                  for c in doc["configs"]]
        lines += [f"  {s['action']} {s['target']}" for s in stage["steps"]]
    return lines


def render(doc: dict[str, Any]) -> str:
    lines = [f"ignition-plan: {doc['config']}"]
    s = doc["summary"]
    for d in doc["machine"]["disks"]:
        what = f"image {d['image']}" if d["source"] == "image" else "blank disk"
        note = " (not described: a blank disk of --default-disk-size)" if d["assumed"] else ""
        lines.append(f"  machine: {d['device']} = {what}, {size_text(d['sizeBytes'])}{note}")
    if doc["machine"]["root"]:
        lines.append(f"  machine: root {doc['machine']['root']} (read only)")
    for stage in doc["stages"]:
        lines += _stage(doc, stage)
    if doc["destroys"]:
        runs = s["destructive"] or not doc["destroys"]
        lines.append("destructive steps:" if runs else
                     "destructive steps (none runs: the disks stage fails before its first write):")
        lines += [f"  {MARK} {d}" for d in doc["destroys"]]
    res = doc["result"]
    if not res["ok"]:
        lines.append(f"the first boot would fail in the {res['stoppedAt']} stage: {res['error']}")
    lines.append(
        f"summary: {s['disks']} disks ({s['disksRewritten']} rewritten), partitions {s['partitionsCreated']} created "
        f"/ {s['partitionsDeleted']} deleted / {s['partitionsResized']} resized, filesystems {s['filesystemsMade']} "
        f"made / {s['filesystemsReused']} reused / {s['filesystemsWiped']} wiped, {s['raid']} RAID, {s['luks']} LUKS, "
        f"{s['mounts']} mounts, {s['files']} files, {s['directories']} directories, {s['links']} links, "
        f"{s['users']} users, {s['groups']} groups, {s['units']} units; "
        f"{'boot succeeds' if res['ok'] else 'BOOT FAILS'}; DESTRUCTIVE: {'yes' if s['destructive'] else 'no'}")
    return "\n".join(lines) + "\n"
