"""Container Linux era configs (spec 2.0.0-2.4.0) translated to spec 3.1.0.

Modelled on Flatcar's fork of Ignition, which parses any config whose major version is not 3
with its 2.4 parser and converts it with ign-converter's v24tov31 before the 3.x chain. The
facts kept from it: root is "/", `config.append` becomes `config.merge`, files keep spec 2's
overwrite=true default explicitly, `append: true` becomes an `append` resource (and
overwrite=false), networkd units become files under /etc/systemd/network, the deprecated user
`create` object is flattened into the user, `mount.create` is accepted only with force=true,
`enabled` wins over the deprecated `enable`. Where this module does better, the module that does
it says so (sector sizes, several append entries for one path, hard link targets, a root
filesystem that is reformatted, errors with paths into the original config).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ignition.config.report import PathElem, json_path
from ignition.config.v2 import disks, filesystems, nodes
from ignition.config.v2.access import items, obj, put, text
from ignition.config.v2.check import V2_VERSIONS, check_schema, prune
from ignition.config.v2.notes import Notes, Origins, V2Note
from ignition.config.v2.resources import resource

TARGET_VERSION = "3.1.0"

# User fields the deprecated `create` object also had; with `create`, Ignition 2 created the
# account from `create` alone.
_CREATE_FIELDS = ("uid", "gecos", "homeDir", "noCreateHome", "primaryGroup", "groups",
                  "noUserGroup", "noLogInit", "shell", "system")
_TEXT_FIELDS = ("gecos", "homeDir", "primaryGroup", "shell")


def translate_v2(data: Mapping[str, Any], version: str,
                 filesystem_paths: Mapping[str, str] | None = None) -> tuple[dict[str, Any], list[V2Note]]:
    """Translate a spec `version` (2.0.0-2.4.0) config to a spec 3.1.0 dict.

    Runs the spec 2 schema check first. `filesystem_paths` maps filesystem names to the mount
    paths they get in spec 3 ("root" is always "/", "oem" defaults to /usr/share/oem). Never
    raises for bad input: problems come back as notes whose paths point into `data`. The dict
    is the translation only when no note is an error; otherwise it is empty.
    """
    out, notes, _ = translate_v2_traced(data, version, filesystem_paths)
    return out, notes


def translate_v2_traced(data: Mapping[str, Any], version: str, filesystem_paths: Mapping[str, str] | None = None,
                        ) -> tuple[dict[str, Any], list[V2Note], Origins]:
    """translate_v2 plus the origins of the result's list entries, for `origin_path`: the 3.1
    checks that run afterwards report 3.1 paths, and the user wrote spec 2."""
    notes = Notes()
    if version not in V2_VERSIONS:
        notes.error(("ignition", "version"), f"unsupported config version {version}: spec 2 "
                    f"configs must be one of {', '.join(V2_VERSIONS)}")
        return {}, notes.items, {}
    check_schema(data, version, notes)
    if notes.has_errors:
        return {}, notes.items, {}
    cfg = prune(data, version, notes)
    out = _translate(cfg, version, dict(filesystem_paths or {}), notes)
    if notes.has_errors:
        return {}, notes.items, {}
    return out, notes.items, notes.origins


def _translate(cfg: dict[str, Any], version: str, mapping: dict[str, str], notes: Notes) -> dict[str, Any]:
    storage = obj(cfg, "storage")
    found = filesystems.resolve(storage, mapping, notes)
    placed = nodes.translate(cfg, found, notes)
    out_storage: dict[str, Any] = {}
    put(out_storage, "disks", disks.translate_disks(storage, version, notes))
    put(out_storage, "raid", disks.translate_raid(storage, notes))
    put(out_storage, "filesystems", filesystems.translate(storage, found, notes))
    put(out_storage, "files", placed.files)
    put(out_storage, "directories", placed.directories)
    put(out_storage, "links", placed.links)
    out: dict[str, Any] = {"ignition": _ignition(obj(cfg, "ignition"), notes)}
    put(out, "storage", out_storage)
    put(out, "systemd", _systemd(obj(cfg, "systemd"), notes))
    put(out, "passwd", _passwd(obj(cfg, "passwd"), version, notes))
    return out


def _ignition(ign: dict[str, Any], notes: Notes) -> dict[str, Any]:
    out: dict[str, Any] = {"version": TARGET_VERSION}
    where: tuple[PathElem, ...] = ("ignition",)
    config = obj(ign, "config")
    refs: dict[str, Any] = {}
    # Spec 2 appended child configs; spec 3 merges them, which gives the same result for
    # entries that do not collide.
    merge = [(i, r) for i, r in enumerate(items(config, "append")) if isinstance(r, dict)]
    for k, (i, _) in enumerate(merge):
        notes.origin(where + ("config", "merge", k), where + ("config", "append", i))
    put(refs, "merge", [resource(r, where + ("config", "append", i), notes) for i, r in merge])
    if isinstance(config.get("replace"), dict):
        refs["replace"] = resource(config["replace"], where + ("config", "replace"), notes)
    put(out, "config", refs)
    timeouts = {k: v for k, v in obj(ign, "timeouts").items() if isinstance(v, int)}
    put(out, "timeouts", timeouts)
    cas_path = where + ("security", "tls", "certificateAuthorities")
    cas = [(i, r) for i, r in enumerate(items(obj(obj(ign, "security"), "tls"), "certificateAuthorities"))
           if isinstance(r, dict)]
    for k, (i, _) in enumerate(cas):
        notes.origin(cas_path + (k,), cas_path + (i,))
    put(out, "security", {"tls": {"certificateAuthorities": [
        resource(r, cas_path + (i,), notes) for i, r in cas]}} if cas else None)
    proxy_in = obj(ign, "proxy")
    proxy: dict[str, Any] = {}
    put(proxy, "httpProxy", text(proxy_in, "httpProxy"))
    put(proxy, "httpsProxy", text(proxy_in, "httpsProxy"))
    put(proxy, "noProxy", [n for n in items(proxy_in, "noProxy") if isinstance(n, str)])
    put(out, "proxy", proxy)
    return out


def _systemd(systemd: dict[str, Any], notes: Notes) -> dict[str, Any]:
    units: list[dict[str, Any]] = []
    seen: dict[str, tuple[PathElem, ...]] = {}
    for i, unit in enumerate(items(systemd, "units")):
        if not isinstance(unit, dict):
            continue
        where: tuple[PathElem, ...] = ("systemd", "units", i)
        name = unit.get("name")
        if isinstance(name, str):
            if name in seen:
                notes.error(where + ("name",), f"unit {name} is also defined at {json_path(seen[name])}: "
                            "spec 3 allows one entry per unit; merge them")
            seen.setdefault(name, where)
        notes.origin(("systemd", "units", len(units)), where)
        out: dict[str, Any] = {"name": name}
        enabled = unit.get("enabled")
        # `enabled` is the spec 2.1+ field and wins over the deprecated `enable` (Flatcar).
        if enabled is False:
            out["enabled"] = False
        elif enabled is True or unit.get("enable") is True:
            out["enabled"] = True
        if unit.get("mask") is True:
            out["mask"] = True
        put(out, "contents", text(unit, "contents"))
        dropins: list[dict[str, Any]] = []
        dseen: set[str] = set()
        for j, d in enumerate(items(unit, "dropins")):
            if not isinstance(d, dict):
                continue
            if d.get("name") in dseen:
                notes.error(where + ("dropins", j, "name"), f"drop-in {d.get('name')} is listed twice "
                            f"for unit {name}: spec 3 allows it once; merge them")
            dseen.add(str(d.get("name")))
            notes.origin(("systemd", "units", len(units), "dropins", len(dropins)), where + ("dropins", j))
            dropin: dict[str, Any] = {"name": d.get("name")}
            put(dropin, "contents", text(d, "contents"))
            dropins.append(dropin)
        put(out, "dropins", dropins)
        units.append(out)
    return {"units": units} if units else {}


def _passwd(passwd: dict[str, Any], version: str, notes: Notes) -> dict[str, Any]:
    out: dict[str, Any] = {}
    users = [(i, u) for i, u in enumerate(items(passwd, "users")) if isinstance(u, dict)]
    for k, (i, _) in enumerate(users):
        notes.origin(("passwd", "users", k), ("passwd", "users", i))
    put(out, "users", [_user(u, ("passwd", "users", i), version, notes) for i, u in users])
    groups: list[dict[str, Any]] = []
    for i, g in enumerate(items(passwd, "groups")):
        if isinstance(g, dict):
            notes.origin(("passwd", "groups", len(groups)), ("passwd", "groups", i))
            group: dict[str, Any] = {"name": g.get("name")}
            put(group, "gid", g.get("gid"))
            put(group, "passwordHash", text(g, "passwordHash"))
            if g.get("system") is True:
                group["system"] = True
            groups.append(group)
    put(out, "groups", groups)
    _no_duplicate_names(passwd, "users", notes)
    _no_duplicate_names(passwd, "groups", notes)
    return out


def _user(user: dict[str, Any], where: tuple[PathElem, ...], version: str, notes: Notes) -> dict[str, Any]:
    out: dict[str, Any] = {"name": user.get("name")}
    # From 2.2.0 on the hash was a pointer and "" a value (an empty password); before, "" was
    # unset, and turning it into an empty password would open the account.
    if isinstance(user.get("passwordHash"), str) and (user["passwordHash"] or version >= "2.2.0"):
        out["passwordHash"] = user["passwordHash"]
    put(out, "sshAuthorizedKeys", [k for k in items(user, "sshAuthorizedKeys") if isinstance(k, str)])
    source = user
    create = user.get("create")
    if isinstance(create, dict):
        source = create
        for key in _CREATE_FIELDS:
            if user.get(key) is not None:
                notes.warning(where + (key,), "ignored: this user has the deprecated create object, "
                              f"and Ignition 2 created the account from create alone; move {key} "
                              "into create or drop create")
    put(out, "uid", source.get("uid"))
    for key in _TEXT_FIELDS:
        put(out, key, text(source, key))
    put(out, "groups", [g for g in items(source, "groups") if isinstance(g, str)])
    for key in ("noCreateHome", "noUserGroup", "noLogInit", "system"):
        if source.get(key) is True:
            out[key] = True
    return out


def _no_duplicate_names(passwd: dict[str, Any], key: str, notes: Notes) -> None:
    seen: dict[str, int] = {}
    for i, entry in enumerate(items(passwd, key)):
        name = entry.get("name") if isinstance(entry, dict) else None
        if isinstance(name, str):
            if name in seen:
                notes.error(("passwd", key, i, "name"), f"{name} is also listed at $.passwd.{key}."
                            f"{seen[name]}: spec 3 allows one entry per name; merge them")
            seen.setdefault(name, i)
