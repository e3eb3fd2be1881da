"""Reading a schema-checked spec 2 dict, where JSON null stands for "unset" as it did in Go."""

from __future__ import annotations

from typing import Any


def obj(d: Any, key: str) -> dict[str, Any]:
    v = d.get(key) if isinstance(d, dict) else None
    return v if isinstance(v, dict) else {}


def items(d: Any, key: str) -> list[Any]:
    v = d.get(key) if isinstance(d, dict) else None
    return v if isinstance(v, list) else []


def text(d: Any, key: str) -> str | None:
    """A string field; "" counts as unset, as Go's zero value did for non-pointer fields."""
    v = d.get(key) if isinstance(d, dict) else None
    return v if isinstance(v, str) and v else None


def put(out: dict[str, Any], key: str, value: Any) -> None:
    """Set key unless the value is unset (None) or an empty list/object."""
    if value is None or (isinstance(value, list | dict) and not value):
        return
    out[key] = value
