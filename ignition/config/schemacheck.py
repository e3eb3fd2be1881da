"""Checking a config's structure and JSON types against one of our JSON
Schemas (specs 3.x and 2.x alike), with Go's integer rules and messages that
say what the field must be."""

from __future__ import annotations

import functools
import importlib
import json
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ignition.config.report import PathElem

if TYPE_CHECKING:
    import jsonschema

    from ignition.config.schemafast import _Node

_INT64 = (-(2**63), 2**63 - 1)
_TYPE_WORDS = {"string": "a string", "integer": "an integer", "boolean": "a boolean",
               "array": "a list", "object": "an object", "number": "a number"}


def _is_int64(checker: object, inst: object) -> bool:
    # Go decodes into int64: no fractions (420.0), nothing beyond 64 bits.
    return isinstance(inst, int) and not isinstance(inst, bool) and _INT64[0] <= inst <= _INT64[1]


@functools.cache
def schema(package: str, version: str) -> Mapping[str, Any]:
    """The JSON Schema of spec `version` from the schemas in `package`."""
    name = "v" + "_".join(version.split(".")[:2]) + ".json"
    # The package's directory, not importlib.resources: that pulls in pathlib,
    # tempfile, zipfile and more (6 ms of every validator start), for schemas
    # that are always plain files beside the package's modules.
    directory = next(iter(importlib.import_module(package).__path__))
    with open(os.path.join(directory, name), encoding="utf-8") as f:
        loaded: Mapping[str, Any] = json.load(f)
    return loaded


@functools.cache
def compiled(package: str, version: str) -> _Node | None:
    """schemafast's checks of that schema (None if it cannot compile them)."""
    from ignition.config import schemafast

    return schemafast.compile_schema(schema(package, version))


@functools.cache
def validator(package: str, version: str) -> jsonschema.protocols.Validator:
    """The validator of spec `version` from the schemas in `package`."""
    # jsonschema and its dependencies take tens of ms to import; a config the
    # fast path vouches for (schemafast) never needs them.
    import jsonschema

    type_checker = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_int64)
    cls = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        jsonschema.Draft202012Validator, type_checker=type_checker
    )
    v: jsonschema.protocols.Validator = cls(schema(package, version))
    return v


def json_type(v: object) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int):
        return "an integer"
    if isinstance(v, float):
        return "a number"
    if isinstance(v, str):
        return "a string"
    return "a list" if isinstance(v, list) else "an object"


def problems(v: jsonschema.protocols.Validator, data: Any) -> list[tuple[tuple[PathElem, ...], str]]:
    """(path, message) of every structure or type problem, in path order."""
    errors = sorted(v.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    return [_message(e) for e in errors]


def _message(err: jsonschema.ValidationError) -> tuple[tuple[PathElem, ...], str]:
    path: tuple[PathElem, ...] = tuple(err.absolute_path)
    if err.validator == "type":
        wanted = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        if "integer" in wanted and isinstance(err.instance, int) and not isinstance(err.instance, bool):
            return path, "is out of range: the value must fit in a signed 64-bit integer"
        words = [_TYPE_WORDS.get(str(t), str(t)) for t in wanted if t != "null"]
        desc = err.schema.get("description") if isinstance(err.schema, Mapping) else None
        msg = f"must be {' or '.join(words)}, not {json_type(err.instance)}"
        return path, msg + (f" ({desc})" if desc else "")
    if err.validator == "required":
        m = re.match(r"'([^']+)' is a required property", err.message)
        if m:
            return path + (m.group(1),), "is required: set it"
    return path, err.message
