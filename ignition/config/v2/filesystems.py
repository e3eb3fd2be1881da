"""Spec 2 filesystems: which mount path each name gets in spec 3, and what remains to create.

Spec 2 named filesystems and let files, directories and links refer to them by that name; a
filesystem had either `mount` (Ignition mounts the device) or `path` (already mounted in the
initramfs, in practice /sysroot). Spec 3 has no names: a filesystem has a mount `path` relative
to the target root and nodes carry their full path. Like Flatcar's converter, "root" is "/",
"oem" is /usr/share/oem unless the caller maps it, and the caller may map any other name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ignition.config.report import PathElem, json_path
from ignition.config.v2.access import items, put, text
from ignition.config.v2.notes import Notes
from ignition.record import record

SYSROOT = "/sysroot"
OEM_PATH = "/usr/share/oem"


@record(kw_only=False)
class Filesystem:
    """A spec 2.x named filesystem and where (if anywhere) nodes on it are placed."""

    name: str
    where: tuple[PathElem, ...]  # () for the predefined root
    mount_path: str | None  # None: nodes cannot be placed on it
    why_not: str = ""


def clean(path: str) -> str:
    """Lexically clean an absolute path (no '..' expected), as Go's path.Join does."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    return "/" + "/".join(parts)


def resolve(storage: dict[str, Any], mapping: Mapping[str, str], notes: Notes) -> dict[str, Filesystem]:
    """Name -> Filesystem; as in Ignition 2 the last filesystem with a name wins."""
    found = {"root": Filesystem("root", (), "/")}
    for i, fs in enumerate(items(storage, "filesystems")):
        if not isinstance(fs, dict):
            continue
        where: tuple[PathElem, ...] = ("storage", "filesystems", i)
        has_mount = isinstance(fs.get("mount"), dict)
        pre = text(fs, "path")
        if has_mount and pre is not None:
            notes.error(where, "set either mount (Ignition formats and mounts the device) or path "
                        "(already mounted), not both")
        elif not has_mount and pre is None:
            notes.error(where, "needs mount (device and format) or path (where it is already mounted)")
        name = text(fs, "name")
        if name is not None:
            found[name] = _mount_path(name, where, has_mount, pre, mapping, notes)
    return found


def _mount_path(name: str, where: tuple[PathElem, ...], has_mount: bool, pre: str | None,
                mapping: Mapping[str, str], notes: Notes) -> Filesystem:
    if name == "root":
        return Filesystem(name, where, "/")
    if name in mapping:
        target = mapping[name]
        if not target.startswith("/") or ".." in target.split("/"):
            notes.error(where + ("name",), f"the mount path given for filesystem {name!r} must be "
                        "absolute and without '..'")
            return Filesystem(name, where, None, "has no usable mount path")
        return Filesystem(name, where, clean(target))
    if pre is not None and not has_mount:
        p = clean(pre) if ".." not in pre.split("/") else pre
        if p == SYSROOT or p.startswith(SYSROOT + "/"):
            return Filesystem(name, where, clean(p[len(SYSROOT):]))
        return Filesystem(name, where, None, f"is mounted at {pre} in the initramfs, outside the "
                          f"target root {SYSROOT}, and spec 3 writes only below the target root")
    if name == "oem":
        return Filesystem(name, where, OEM_PATH)
    return Filesystem(name, where, None, "has a mount but no mount path, and spec 3 writes files "
                      "only to filesystems it mounts at their path")


def no_mount_message(fs: Filesystem) -> str:
    return (f"filesystem {fs.name!r} ({json_path(fs.where)}) {fs.why_not}: rewrite this entry for "
            "spec 3 (give the filesystem a path and this entry the full path below it), or put "
            "the entry on the root filesystem")


def translate(storage: dict[str, Any], found: dict[str, Filesystem], notes: Notes) -> list[dict[str, Any]]:
    """Spec 3.1 filesystems for every spec 2 filesystem with a mount object."""
    out: list[dict[str, Any]] = []
    devices: dict[str, tuple[PathElem, ...]] = {}
    for i, fs in enumerate(items(storage, "filesystems")):
        mount = fs.get("mount") if isinstance(fs, dict) else None
        if not isinstance(mount, dict):
            continue  # pre-mounted: nothing to create
        where: tuple[PathElem, ...] = ("storage", "filesystems", i, "mount")
        device = mount.get("device")
        if isinstance(device, str):
            if device in devices:
                notes.error(where + ("device",), f"device {device} is also used by "
                            f"{json_path(devices[device])}: spec 3 allows one filesystem per device; "
                            "remove one of them")
            devices.setdefault(device, where)
        notes.origin(("storage", "filesystems", len(out)), where)
        notes.origin(("storage", "filesystems", len(out), "path"), where[:-1] + ("name",))
        entry: dict[str, Any] = {"device": device}
        put(entry, "format", text(mount, "format"))
        wipe = mount.get("wipeFilesystem")
        options = [o for o in items(mount, "options") if isinstance(o, str)]
        create = mount.get("create")
        if isinstance(create, dict):
            if create.get("force") is not True:
                notes.error(where + ("create",), "create without force: true has no spec 3 equivalent "
                            "(spec 3 either reuses a matching filesystem or wipes the device): set "
                            "create.force to true, or drop create and use wipeFilesystem")
            wipe = create.get("force")
            notes.origin(("storage", "filesystems", len(out), "wipeFilesystem"), where + ("create", "force"))
            options += [o for o in items(create, "options") if isinstance(o, str)]
        if wipe is True:
            entry["wipeFilesystem"] = True
        for key in ("label", "uuid"):
            if isinstance(mount.get(key), str):
                entry[key] = mount[key]
        put(entry, "options", options)
        name = text(fs, "name")
        known = found.get(name) if name is not None else None
        # Root is mounted by the initramfs itself: format it, but give it no path to mount.
        if known is not None and known.where == where[:-1] and name != "root" and known.mount_path:
            entry["path"] = known.mount_path
        out.append(entry)
    return out
