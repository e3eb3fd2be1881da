"""A log sink for tests that read back what a Logger emitted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ignition.log import CRIT, MSG_CONFIG_FETCHED


@dataclass
class ListSink:
    entries: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)

    def emit(self, priority: int, message: str, fields: Mapping[str, str]) -> None:
        self.entries.append((priority, message, dict(fields)))

    @property
    def text(self) -> str:
        return "\n".join(m for _, m, _ in self.entries)

    def at(self, priority: int) -> list[str]:
        return [m for p, m, _ in self.entries if p == priority]

    def critical(self) -> list[str]:
        return self.at(CRIT)

    def fetched(self) -> list[dict[str, str]]:
        return [f for _, _, f in self.entries if f.get("MESSAGE_ID") == MSG_CONFIG_FETCHED]
