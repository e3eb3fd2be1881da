"""What the files, kargs and mount stages would do, read from the entries
their recording runner and dry-run sysroot left in the plan (and the bytes the
sysroot kept): the report shows what the stages recorded, not the config."""

from __future__ import annotations

import os
import shlex
from typing import Any

from ignition import redact
from ignition.config.types import Config
from ignition.plan import PlanEntry
from ignition.planner.machine import PlannedMachine
from ignition.stages.files.units import PRESET_PATH, UNITS_DIR

PASSWD_TOOLS = {"useradd": ("users", "add"), "usermod": ("users", "modify"), "userdel": ("users", "delete"),
                "groupadd": ("groups", "add"), "groupmod": ("groups", "modify"), "groupdel": ("groups", "delete")}


def argv_of(e: PlanEntry) -> list[str]:
    try:
        return shlex.split(e.target)
    except ValueError:
        return [e.target]


def relative(root: str, host: str) -> str:
    return "/" + os.path.relpath(host, root).lstrip("./") if host.startswith(root) else host


def config_nodes(config: Config | None) -> dict[str, Any]:
    if config is None:
        return {}
    s = config.storage
    return {n.path: n for n in [*s.files, *s.directories, *s.links]}


def new_homes(entries: list[PlanEntry]) -> dict[str, str]:
    """Home directory -> name of each user the plan adds with a home."""
    homes = {}
    for e in entries:
        argv = argv_of(e) if e.action == "run" else []
        if argv and os.path.basename(argv[0]) == "useradd" and "--no-create-home" not in argv:
            home = argv[argv.index("--home-dir") + 1] if "--home-dir" in argv else f"/home/{argv[-1]}"
            homes[home.rstrip("/")] = argv[-1]
    return homes


def files(entries: list[PlanEntry], config: Config | None) -> list[dict[str, Any]]:
    nodes = config_nodes(config)
    homes = new_homes(entries)
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


def passwd(entries: list[PlanEntry]) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {"users": [], "groups": []}
    for e in entries:
        argv = argv_of(e) if e.action == "run" else []
        tool = os.path.basename(argv[0]) if argv else ""
        if tool in PASSWD_TOOLS:
            section, action = PASSWD_TOOLS[tool]
            out[section].append({"name": argv[-1], "action": action})
    return out


def units(entries: list[PlanEntry], written: dict[str, bytes]) -> list[dict[str, Any]]:
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


def kernel_args(entries: list[PlanEntry]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"shouldExist": [], "shouldNotExist": []}
    for e in entries:
        argv = argv_of(e)
        for flag, key in (("--should-exist", "shouldExist"), ("--should-not-exist", "shouldNotExist")):
            out[key] += [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == flag]
    return out


def mounts(entries: list[PlanEntry], root: str, m: PlannedMachine) -> list[dict[str, Any]]:
    named = {f.device: f.config_device for f in m.formats}
    out = []
    for e in entries:
        argv = argv_of(e) if e.action == "run" else []
        if len(argv) < 3 or os.path.basename(argv[0]) != "mount":
            continue
        opts = argv[argv.index("-o") + 1].split(",") if "-o" in argv else []
        fmt = argv[argv.index("-t") + 1] if "-t" in argv else ""
        out.append({"device": named.get(argv[-2], argv[-2]), "node": argv[-2], "path": relative(root, argv[-1]),
                    "format": fmt, "options": opts})
    return out


def steps(entries: list[PlanEntry]) -> list[dict[str, str]]:
    steps = []
    for e in entries:
        j = e.as_json()
        if e.action == "run":
            j["target"] = _redactargv_of(argv_of(e))
        steps.append(j)
    return steps


def _redactargv_of(argv: list[str]) -> str:
    """A recorded command as shown: password hashes and key files stay out."""
    shown = list(argv)
    for i, a in enumerate(shown[:-1]):
        if a in ("--password", "-p"):
            shown[i + 1] = "***"
    return " ".join(shlex.quote(a) for a in shown)
