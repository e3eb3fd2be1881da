"""Spec 2 files, directories, links and networkd units as spec 3.1 nodes.

Differences handled here: paths become full paths below the filesystem's mount path; files
default to overwrite=true in spec 2 (explicit in the result); several `append: true` entries
for one path become one file with a list of `append` resources (docs/migrating-configs.md of
Ignition); networkd units become files under /etc/systemd/network. Spec 3 allows one node per
path and does not follow links the config itself creates, so both are checked here where the
spec 2 paths are still known.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any
from urllib.parse import quote

from ignition.config.report import PathElem, json_path
from ignition.config.v2.access import items, obj, put, text
from ignition.config.v2.filesystems import Filesystem, clean, no_mount_message
from ignition.config.v2.notes import Notes
from ignition.config.v2.resources import resource
from ignition.record import record

NETWORKD_DIR = "/etc/systemd/network"
_NETWORKD_SUFFIXES = (".network", ".netdev", ".link")


@record(kw_only=False, frozen=False, slots=False)
class Nodes:
    """The spec 2.x files, directories and links, translated, with where each was declared."""

    files: list[dict[str, Any]] = field(default_factory=list)
    directories: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    # full path -> where in the spec 2 config it was first declared (its path or name field)
    owners: dict[str, tuple[PathElem, ...]] = field(default_factory=dict)
    link_paths: list[tuple[str, tuple[PathElem, ...]]] = field(default_factory=list)


def _place(entry: dict[str, Any], where: tuple[PathElem, ...], found: dict[str, Filesystem],
           notes: Notes) -> tuple[str, Filesystem] | None:
    path = entry.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        notes.error(where + ("path",), "must be an absolute path (start with /)")
        return None
    if ".." in path.split("/"):
        notes.error(where + ("path",), "must not contain '..' (it could leave its filesystem): "
                    "write the path without it")
        return None
    name = entry.get("filesystem")
    fs = found.get(name) if isinstance(name, str) else None
    if fs is None:
        notes.error(where + ("filesystem",), f"no filesystem is named {name!r}: define it in "
                    "storage.filesystems or use root")
        return None
    if fs.mount_path is None:
        notes.error(where + ("filesystem",), no_mount_message(fs))
        return None
    return clean(fs.mount_path + "/" + path), fs


def _owner(d: dict[str, Any], key: str) -> dict[str, Any] | None:
    src = obj(d, key)
    out: dict[str, Any] = {}
    if isinstance(src.get("id"), int):
        out["id"] = src["id"]
    put(out, "name", text(src, "name"))
    return out or None


def _claim(nodes: Nodes, full: str, at: tuple[PathElem, ...], notes: Notes) -> bool:
    """Record that the field `at` declares `full`; an error if something already does."""
    if full in nodes.owners:
        notes.error(at, f"{full} is also declared by {json_path(nodes.owners[full][:-1])}: "
                    "spec 3 allows one file, directory or link per path; remove one of them")
        return False
    nodes.owners[full] = at
    return True


def translate(cfg: dict[str, Any], found: dict[str, Filesystem], notes: Notes) -> Nodes:
    storage = obj(cfg, "storage")
    nodes = Nodes()
    placed_links: list[tuple[dict[str, Any], str, tuple[PathElem, ...], Filesystem]] = []
    for i, link in enumerate(items(storage, "links")):
        where: tuple[PathElem, ...] = ("storage", "links", i)
        if isinstance(link, dict) and (placed := _place(link, where, found, notes)):
            placed_links.append((link, placed[0], where, placed[1]))
            nodes.link_paths.append((placed[0], where))
    _files(storage, found, nodes, notes)
    _networkd(cfg, nodes, notes)
    for i, d in enumerate(items(storage, "directories")):
        where = ("storage", "directories", i)
        if not isinstance(d, dict) or not (placed := _place(d, where, found, notes)):
            continue
        if _claim(nodes, placed[0], where + ("path",), notes):
            notes.origin(("storage", "directories", len(nodes.directories)), where)
            out: dict[str, Any] = {"path": placed[0]}
            if isinstance(d.get("overwrite"), bool):
                out["overwrite"] = d["overwrite"]
            put(out, "mode", d.get("mode"))
            put(out, "user", _owner(d, "user"))
            put(out, "group", _owner(d, "group"))
            nodes.directories.append(out)
    for link, full, where, fs in placed_links:
        if _claim(nodes, full, where + ("path",), notes):
            notes.origin(("storage", "links", len(nodes.links)), where)
            nodes.links.append(_link(link, full, fs))
    _check_own_links(nodes, notes)
    return nodes


def _link(link: dict[str, Any], full: str, fs: Filesystem) -> dict[str, Any]:
    target = link.get("target")
    out: dict[str, Any] = {"path": full}
    if isinstance(link.get("overwrite"), bool):
        out["overwrite"] = link["overwrite"]
    put(out, "user", _owner(link, "user"))
    put(out, "group", _owner(link, "group"))
    if link.get("hard") is True:
        out["hard"] = True
        # Ignition 2 resolved a hard link's target inside the link's own filesystem; spec 3
        # resolves it in the target root.
        if isinstance(target, str) and fs.mount_path not in (None, "/") and ".." not in target.split("/"):
            target = clean(f"{fs.mount_path}/{target}")
    out["target"] = target
    return out


def _files(storage: dict[str, Any], found: dict[str, Filesystem], nodes: Nodes, notes: Notes) -> None:
    by_path: dict[str, tuple[dict[str, Any], int]] = {}
    for i, f in enumerate(items(storage, "files")):
        where: tuple[PathElem, ...] = ("storage", "files", i)
        if not isinstance(f, dict) or not (placed := _place(f, where, found, notes)):
            continue
        full = placed[0]
        append = f.get("append") is True
        if append and f.get("overwrite") is True:
            notes.error(where + ("overwrite",), "append and overwrite: true contradict each other "
                        "(Ignition 2 rejected this too): drop overwrite")
        res = resource(obj(f, "contents"), where + ("contents",), notes, keep_empty_source=not append)
        if append and not res.get("source"):
            # Ignition 2 only made sure the file existed; spec 3 wants a source per append entry.
            notes.warning(where + ("contents",), "append without a contents source adds nothing; "
                          "the translated file only makes sure the file exists")
            res = {}
        if full in by_path and append:
            head, k = by_path[full]
            if res:
                appended = head.setdefault("append", [])
                notes.origin(("storage", "files", k, "append", len(appended)), where + ("contents",))
                appended.append(res)
            _merge_attrs(head, f, where, full, notes)
            continue
        if not _claim(nodes, full, where + ("path",), notes):
            continue
        k = len(nodes.files)
        notes.origin(("storage", "files", k), where)
        out: dict[str, Any] = {"path": full}
        if append:
            out["overwrite"] = False  # spec 3 forbids overwrite with append; spec 2 kept the file
            if res:
                notes.origin(("storage", "files", k, "append", 0), where + ("contents",))
                out["append"] = [res]
        else:
            ow = f.get("overwrite")
            out["overwrite"] = ow if isinstance(ow, bool) else True  # the spec 2 default
            out["contents"] = res
            if f.get("mode") is None:
                notes.warning(where, "mode is unset: Ignition 2 created this file with mode 0000, "
                              "spec 3 defaults to 0644; set mode (420 is 0644) to say which you want")
        put(out, "mode", f.get("mode"))
        put(out, "user", _owner(f, "user"))
        put(out, "group", _owner(f, "group"))
        by_path[full] = (out, k)
        nodes.files.append(out)


def _merge_attrs(head: dict[str, Any], f: dict[str, Any], where: tuple[PathElem, ...], full: str,
                 notes: Notes) -> None:
    """A later append entry for the same path: Ignition 2 applied its mode and owner last."""
    later = {"mode": f.get("mode"), "user": _owner(f, "user"), "group": _owner(f, "group")}
    for key, value in later.items():
        if value is None:
            continue
        if key in head and head[key] != value:
            notes.warning(where + (key,), f"differs from an earlier entry for {full}; the translated "
                          "file uses this later value, which Ignition 2 applied last")
        head[key] = value


def _plain_name(name: object) -> bool:
    return isinstance(name, str) and name not in ("", ".", "..") and "/" not in name


def _networkd_file(path: str, contents: str) -> dict[str, Any]:
    return {"path": path, "overwrite": True, "mode": 0o644,
            "contents": {"source": "data:," + quote(contents, safe="$&+,:;=@")}}


def _networkd_origin(nodes: Nodes, where: tuple[PathElem, ...], notes: Notes) -> None:
    k = len(nodes.files)
    notes.origin(("storage", "files", k), where)
    notes.origin(("storage", "files", k, "path"), where + ("name",))


def _networkd(cfg: dict[str, Any], nodes: Nodes, notes: Notes) -> None:
    for i, unit in enumerate(items(obj(cfg, "networkd"), "units")):
        where: tuple[PathElem, ...] = ("networkd", "units", i)
        name = unit.get("name") if isinstance(unit, dict) else None
        if not _plain_name(name) or not str(name).endswith(_NETWORKD_SUFFIXES):
            notes.error(where + ("name",), "must be a file name ending in .network, .netdev or .link")
            continue
        contents = text(unit, "contents")
        if contents is not None:
            full = f"{NETWORKD_DIR}/{name}"
            if _claim(nodes, full, where + ("name",), notes):
                _networkd_origin(nodes, where, notes)
                nodes.files.append(_networkd_file(full, contents))
        for j, dropin in enumerate(items(unit, "dropins")):
            dwhere = where + ("dropins", j)
            dname = dropin.get("name") if isinstance(dropin, dict) else None
            if not _plain_name(dname) or not str(dname).endswith(".conf"):
                notes.error(dwhere + ("name",), "must be a file name ending in .conf")
                continue
            full = f"{NETWORKD_DIR}/{name}.d/{dname}"
            if _claim(nodes, full, dwhere + ("name",), notes):
                _networkd_origin(nodes, dwhere, notes)
                nodes.files.append(_networkd_file(full, text(dropin, "contents") or ""))


def _check_own_links(nodes: Nodes, notes: Notes) -> None:
    for full, at in nodes.owners.items():
        for link, lwhere in nodes.link_paths:
            if full != link and full.startswith(link.rstrip("/") + "/"):
                notes.error(at, f"{full} lies below the link {link} that this config "
                            f"creates ({json_path(lwhere)}): spec 3 does not follow links the config "
                            "creates; use the link's target in this path instead")
                break
