"""Paths of nodes and devices, and conflicts between the paths a config writes."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from ignition.config.report import Report
from ignition.config.types import Config, Node
from ignition.config.validate.keys import Path, flag_duplicates

SYSTEMD_DIR = "/etc/systemd/system/"
NODE_KINDS = ("directories", "files", "links")  # Ignition's field order, which decides who is "later"
_SINGULAR = {"files": "file", "directories": "directory", "links": "link"}


def go_clean(p: str) -> str:
    """Go's path.Clean, which Ignition compares with: unlike posixpath.normpath it folds a
    leading `//` and turns an empty path into `.`."""
    cleaned = posixpath.normpath(p) if p else "."
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    return cleaned


# Linux's limits on every filesystem Ignition writes to (NAME_MAX, PATH_MAX without its NUL):
# a longer name or path cannot be created, so it is refused before anything is written.
NAME_MAX = 255
PATH_MAX = 4095


def path_problem(p: str) -> str | None:
    if p == "":
        return "path not specified: set it to an absolute path such as /etc/example"
    if "\0" in p:
        return "path contains a NUL byte (\\u0000), which no file name can hold: remove it"
    if not p.startswith("/"):
        return f"path not absolute: start it with / (e.g. /{p})"
    if go_clean(p) != p:
        return f"path is not fully simplified: write it as {go_clean(p)}"
    return length_problem(p)


def length_problem(p: str) -> str | None:
    """A path or component longer than Linux allows (counted in UTF-8 bytes, as the kernel does)."""
    if len(p) <= NAME_MAX and p.isascii():
        return None  # one byte a character: neither the path nor a component can be too long
    size = len(p.encode("utf-8", "surrogateescape"))
    if size > PATH_MAX:
        return f"path is {size} bytes long, more than Linux's limit of {PATH_MAX}: shorten it"
    for comp in p.split("/"):
        n = len(comp.encode("utf-8", "surrogateescape"))
        if n > NAME_MAX:
            return (f"path component {comp[:20]}... is {n} bytes long, more than Linux's limit of "
                    f"{NAME_MAX} for a file name: shorten it")
    return None


def check_path(report: Report, p: str | None, path: Path) -> None:
    """An optional path: None is fine, anything else must be absolute and clean."""
    if p is None:
        return
    problem = path_problem(p)
    if problem:
        report.add("error", problem, path)


def nodes(config: Config) -> Iterator[tuple[str, int, Node]]:
    for kind in NODE_KINDS:
        for i, node in enumerate(getattr(config.storage, kind)):
            yield kind, i, node


def systemd_paths(config: Config) -> set[str]:
    """Files the units stage writes: a unit or dropin with contents."""
    out: set[str] = set()
    for unit in config.systemd.units:
        if unit.contents:
            out.add(SYSTEMD_DIR + unit.name)
        for dropin in unit.dropins:
            if dropin.contents:
                out.add(f"{SYSTEMD_DIR}{unit.name}.d/{dropin.name}")
    return out


def check_nodes(config: Config, report: Report) -> None:
    links = [link.path for link in config.storage.links]
    written_by_units = systemd_paths(config)
    for kind, i, node in nodes(config):
        entry: Path = ("storage", kind, i)
        check_path(report, node.path, entry + ("path",))
        target = getattr(node, "target", None)
        if target and "\0" in target:
            report.add("error", "link target contains a NUL byte (\\u0000), which no link can hold: "
                       "remove it", entry + ("target",))
        elif target and len(target.encode("utf-8", "surrogateescape")) > PATH_MAX:
            report.add("error", f"link target is longer than Linux's limit of {PATH_MAX} bytes: "
                       "shorten it", entry + ("target",))
        under = next((lp for lp in links if node.path.startswith(lp + "/")), None) if links else None
        if under is not None:
            report.add("error", f"{_SINGULAR[kind]} path includes link in config: {under} is a "
                       f"link, so {node.path} would be written through it; use the link's target "
                       "in the path instead", entry)
        if node.path in written_by_units:
            report.add("error", "path conflicts with systemd unit or dropin: the systemd section "
                       "already writes this file; drop this entry or the unit's contents", entry + ("path",))
    flag_duplicates(report, ((node.path, ("storage", kind, i), f"path {node.path}")
                             for kind, i, node in nodes(config)))
