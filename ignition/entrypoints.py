"""Entry points read straight from the distributions' metadata directories.

importlib.metadata answers the same question but costs more to import than
the rest of a stage's start-up on a slow machine (it pulls in email, csv,
zipfile and friends: ~0.15 s per stage under QEMU's TCG). Every stage starts
a fresh interpreter, so the registry reads `entry_points.txt` itself: each
`sys.path` directory in order, `*.dist-info` and `*.egg-info` directories in
it, the first distribution of a (normalized) name wins, as in
importlib.metadata. Distributions only a custom finder knows (zip files,
import hooks) are not seen here; the registry falls back to
importlib.metadata when this scan finds nothing for a group.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable
from typing import Any

_SUFFIXES = (".dist-info", ".egg-info")


class EntryPoint:
    """`name = module:attr [extras]` in group `group`."""

    __slots__ = ("group", "name", "value")

    def __init__(self, name: str, value: str, group: str) -> None:
        self.name, self.value, self.group = name, value, group

    def __repr__(self) -> str:
        return f"EntryPoint(name={self.name!r}, value={self.value!r}, group={self.group!r})"

    def load(self) -> Any:
        """The object the entry point names, its module imported now."""
        target = self.value.split("[", 1)[0].strip()
        module_name, _, attrs = target.partition(":")
        obj: Any = importlib.import_module(module_name.strip())
        for attr in filter(None, attrs.strip().split(".")):
            obj = getattr(obj, attr)
        return obj


def _normalized(dist_dir: str) -> str:
    # "My_Pkg-1.0.dist-info" -> "my-pkg"; names are compared as pip does.
    name = dist_dir.rsplit(".", 1)[0].split("-", 1)[0]
    return name.lower().replace("_", "-").replace(".", "-")


def parse(text: str, group: str) -> list[tuple[str, str]]:
    """(name, value) of the entries in `[group]` of an entry_points.txt."""
    out: list[tuple[str, str]] = []
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        if section == group and "=" in line:
            name, _, value = line.partition("=")
            out.append((name.strip(), value.strip()))
    return out


def entry_points(group: str, path: Iterable[str] | None = None) -> list[EntryPoint]:
    """The entry points of `group` of every distribution on `path` (default
    sys.path), in path order."""
    seen: set[str] = set()
    found: list[EntryPoint] = []
    for entry in sys.path if path is None else path:
        directory = entry or "."
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            if not name.endswith(_SUFFIXES):
                continue
            dist = _normalized(name)
            if dist in seen:
                continue
            try:
                with open(os.path.join(directory, name, "entry_points.txt"), encoding="utf-8") as f:
                    text = f.read()
            except OSError:
                # A distribution without entry points still shadows later copies.
                seen.add(dist)
                continue
            seen.add(dist)
            found.extend(EntryPoint(n, v, group) for n, v in parse(text, group))
    return found


def from_metadata(group: str) -> list[EntryPoint]:
    """The same through importlib.metadata (any finder; slow to import)."""
    from importlib import metadata

    return [EntryPoint(ep.name, ep.value, group) for ep in metadata.entry_points(group=group)]
