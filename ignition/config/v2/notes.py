"""What the spec 2 translation has to say about a config, and where in the original text."""

from __future__ import annotations

from typing import Literal

from ignition.config.report import PathElem, json_path
from ignition.record import record

NoteKind = Literal["error", "warning"]


@record(kw_only=False)
class V2Note:
    """One finding. `path` points into the ORIGINAL spec 2 config (not the 3.1 result), so the
    parser can turn it into a line and column of the text the user wrote."""

    kind: NoteKind
    path: tuple[PathElem, ...]
    message: str

    @property
    def json_path(self) -> str:
        return json_path(self.path)

    def __str__(self) -> str:
        return f"{self.kind} at {self.json_path}: {self.message}"


Origins = dict[tuple[PathElem, ...], tuple[PathElem, ...]]


class Notes:
    """Collects notes while the translation walks the config, and where each translated list
    entry came from (`origins`: path in the 3.1 result -> path in the spec 2 config)."""

    def __init__(self) -> None:
        self.items: list[V2Note] = []
        self.origins: Origins = {}

    def origin(self, out: tuple[PathElem, ...], src: tuple[PathElem, ...]) -> None:
        self.origins[out] = src

    def error(self, path: tuple[PathElem, ...], message: str) -> None:
        self.items.append(V2Note("error", path, message))

    def warning(self, path: tuple[PathElem, ...], message: str) -> None:
        self.items.append(V2Note("warning", path, message))

    @property
    def has_errors(self) -> bool:
        return any(n.kind == "error" for n in self.items)


def origin_path(origins: Origins, path: tuple[PathElem, ...]) -> tuple[PathElem, ...]:
    """Where in the spec 2 config a path of the 3.1 result comes from: the longest recorded
    prefix is replaced, the rest kept (field names mostly match). Unrecorded paths map to
    themselves; the sections and the ignition object keep their places."""
    for n in range(len(path), 0, -1):
        src = origins.get(path[:n])
        if src is not None:
            return src + path[n:]
    return path
