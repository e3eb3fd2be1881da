"""Structure of a spec 2.x config: JSON Schema check, unknown keys, and pruning.

Ignition 2 decoded a config into the Go structs of its own version, so a key the version does
not define was dropped (a 2.0 config's `directories` created nothing). `prune` reproduces that on
the dict after warning about each such key, so a newer field cannot come to life in translation.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

from ignition.config import schemacheck
from ignition.config.report import PathElem
from ignition.config.v2.notes import Notes

V2_VERSIONS = ("2.0.0", "2.1.0", "2.2.0", "2.3.0", "2.4.0")

@functools.cache
def schema_v2(version: str) -> dict[str, Any]:
    """The JSON Schema of spec `version` (one of V2_VERSIONS)."""
    name = "v" + "_".join(version.split(".")[:2]) + ".json"
    text = resources.files("ignition.config.v2.schema").joinpath(name).read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def check_schema(data: Mapping[str, Any], version: str, notes: Notes) -> None:
    """Add an error for every structure or type problem of a spec `version` config."""
    for path, msg in schemacheck.problems(schemacheck.validator("ignition.config.v2.schema", version), data):
        notes.error(path, msg.replace("is required: ", f"is required by spec {version}: "))


def prune(data: Mapping[str, Any], version: str, notes: Notes) -> dict[str, Any]:
    """Copy of a schema-valid config without the keys spec `version` does not define, with a
    warning for each one dropped."""
    root = schema_v2(version)
    out = _prune(root, root, data, (), notes, version)
    return out if isinstance(out, dict) else {}


def _prune(root: Mapping[str, Any], schema: Mapping[str, Any], inst: Any,
           path: tuple[PathElem, ...], notes: Notes, version: str) -> Any:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        schema = root["$defs"][ref.removeprefix("#/$defs/")]
    if isinstance(inst, dict):
        props = schema.get("properties", {})
        kept: dict[str, Any] = {}
        for k, v in inst.items():
            if k in props:
                kept[k] = _prune(root, props[k], v, path + (k,), notes, version)
            else:
                notes.warning(path + (k,), f"unused key {k} (spec {version} has no such field; "
                              "check its spelling and the config version)")
        return kept
    if isinstance(inst, list):
        items = schema.get("items", {})
        return [_prune(root, items, v, path + (i,), notes, version) for i, v in enumerate(inst)]
    return inst
