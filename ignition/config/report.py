"""Validation reports: what is wrong with a config, where, and what to change.

Each entry prints as `error at $.storage.files.0.path, line 12 col 17: message`
(the JSON path first, as Ignition's reports do, then the place in the text)."""

from __future__ import annotations

import json
from dataclasses import field
from typing import Any, Literal

from ignition.record import record

Kind = Literal["error", "warning", "info"]
PathElem = str | int


def json_path(path: tuple[PathElem, ...]) -> str:
    return "$" + "".join(f".{p}" for p in path)


@record(kw_only=False, slots=False)
class Entry:
    """One error, warning or info line of a report, with where in the config it points."""

    kind: Kind
    message: str
    path: tuple[PathElem, ...] = ()
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        where = f" at {json_path(self.path)}" if self.path else ""
        if self.line:
            where += f", line {self.line} col {self.col}"
        return f"{self.kind}{where}: {self.message}"

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "path": json_path(self.path),
            "line": self.line,
            "col": self.col,
            "message": self.message,
        }


@record(kw_only=False, frozen=False, slots=False)
class Report:
    """The entries found while parsing and validating one config, in order."""

    entries: list[Entry] = field(default_factory=list)

    def add(
        self, kind: Kind, message: str, path: tuple[PathElem, ...] = (), line: int = 0, col: int = 0
    ) -> None:
        self.entries.append(Entry(kind, message, path, line, col))

    def extend(self, other: Report) -> None:
        self.entries.extend(other.entries)

    @property
    def is_fatal(self) -> bool:
        return any(e.kind == "error" for e in self.entries)

    @property
    def errors(self) -> list[Entry]:
        return [e for e in self.entries if e.kind == "error"]

    @property
    def warnings(self) -> list[Entry]:
        return [e for e in self.entries if e.kind == "warning"]

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.entries)

    def to_json(self) -> str:
        return json.dumps([e.as_json() for e in self.entries], indent=1)
