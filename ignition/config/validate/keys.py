"""Duplicate entries of keyed lists (Ignition's `ValidateDups`).

Ignition reports a repeat at the later entry, not at the key field, and so do we:
differential tests compare the paths with Go's ignition-validate."""

from __future__ import annotations

from collections.abc import Hashable, Iterable

from ignition.config.report import PathElem, Report

Path = tuple[PathElem, ...]


def flag_duplicates(report: Report, items: Iterable[tuple[Hashable | None, Path, str]]) -> None:
    """`items` are (key, path of the entry, how to name the entry in the message); a None key
    is not a key (the entry is unnamed) and never collides."""
    seen: set[Hashable] = set()
    for key, path, label in items:
        if key is None:
            continue
        if key in seen:
            report.add("error", f"duplicate entry defined: {label} is listed more than once; "
                       "remove the repeat (merge its settings into the first one)", path)
        else:
            seen.add(key)
