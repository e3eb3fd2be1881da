"""What a dry run would have done.

The recording Runner and Sysroot append an entry here instead of acting; the
engine prints the plan at the end, as human lines or as JSON lines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TextIO


@dataclass(frozen=True)
class PlanEntry:
    """One change a dry run would make."""

    action: str  # e.g. "write", "mkdir", "run", "write-cache"
    target: str  # a path in the target root, a command, ...
    details: tuple[tuple[str, str], ...] = ()

    def human(self) -> str:
        extra = ", ".join(f"{k} {v}" for k, v in self.details)
        return f"would {self.action} {self.target}" + (f" ({extra})" if extra else "")

    def as_json(self) -> dict[str, str]:
        d = {"action": self.action, "target": self.target}
        d.update(self.details)
        return d


@dataclass
class Plan:
    """What a dry run would change, in order."""

    entries: list[PlanEntry] = field(default_factory=list)

    def add(self, action: str, target: str, **details: object) -> None:
        self.entries.append(
            PlanEntry(action, target, tuple((k, str(v)) for k, v in details.items()))
        )

    def print(self, stream: TextIO, as_json: bool = False) -> None:
        for e in self.entries:
            stream.write((json.dumps(e.as_json(), sort_keys=True) if as_json else e.human()) + "\n")
        stream.flush()
