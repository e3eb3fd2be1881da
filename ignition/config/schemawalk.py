"""Walks of a parsed config along its version's JSON Schema: matching keys
the way Go's JSON decoder does, and finding keys no spec field uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ignition.config.report import PathElem, Report

Schema = Mapping[str, Any]


def _resolve(root: Schema, schema: Schema) -> Schema:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        resolved: Schema = root["$defs"][ref.removeprefix("#/$defs/")]
        return resolved
    return schema


def fold_keys(root: Schema, schema: Schema, inst: Any, path: tuple[PathElem, ...], report: Report) -> Any:
    """A copy of `inst` where keys that match a field only case-insensitively
    are renamed to it: Go's decoder (and so Ignition) accepts `"Path"` for
    `path`. Each such key gets a warning at its own spelling."""
    schema = _resolve(root, schema)
    if isinstance(inst, dict):
        props = schema.get("properties")
        if not isinstance(props, Mapping):
            return inst
        lower: dict[str, str] = {str(p).lower(): str(p) for p in props}
        out: dict[str, Any] = {}
        for k, v in inst.items():
            name = str(k) if k in props else lower.get(str(k).lower(), str(k))
            if name != k:
                report.add("warning", f"key {k} is read as {name} (keys match regardless of case, as in "
                           f"Ignition); spell it {name}", path + (k,))
            if v is None and out.get(name) is not None:
                continue  # Go's decoder: a null leaves what an earlier key set
            out[name] = fold_keys(root, props[name], v, path + (k,), report) if name in props else v
        return out
    if isinstance(inst, list):
        items = schema.get("items")
        if isinstance(items, Mapping):
            return [fold_keys(root, items, v, path + (i,), report) for i, v in enumerate(inst)]
    return inst


def unknown_key_message(key: PathElem, version: str) -> str:
    return f"unused key {key} (spec {version} has no such field; check its spelling and the config version)"


def unknown_keys(root: Schema, schema: Schema, inst: Any, path: tuple[PathElem, ...], report: Report,
                 version: str) -> None:
    """Warn about every key no field of this spec version uses (Ignition's
    `unused key`): a typo, or a field of a later spec."""
    schema = _resolve(root, schema)
    if isinstance(inst, dict):
        props = schema.get("properties")
        if not isinstance(props, Mapping):
            return
        for k, v in inst.items():
            if k in props:
                unknown_keys(root, props[k], v, path + (k,), report, version)
            else:
                report.add("warning", unknown_key_message(k, version), path + (k,))
    elif isinstance(inst, list):
        items = schema.get("items")
        if isinstance(items, Mapping):
            for i, v in enumerate(inst):
                unknown_keys(root, items, v, path + (i,), report, version)
