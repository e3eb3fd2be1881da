"""From bytes to a validated config of the latest spec.

Steps, as in Ignition: decode the JSON (syntax errors with line and column),
read `ignition.version` alone and dispatch on it (exact match with a supported
spec, else `unsupported config version`), check structure and types against
that version's JSON Schema, warn about unknown keys, translate up to the latest
spec, build the frozen dataclasses, run the semantic checks. Any error entry
makes the config invalid; warnings never do.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jsonschema

from ignition.config.position import locate
from ignition.config.report import PathElem, Report
from ignition.config.translate import translate_to_latest
from ignition.config.types import Config, config_from_dict
from ignition.config.validate import validate
from ignition.errors import ConfigError

SUPPORTED_VERSIONS = ("3.0.0", "3.1.0", "3.2.0", "3.3.0", "3.4.0", "3.5.0", "3.6.0")

# Semantic versioning 2.0.0, which Ignition's version parsing follows.
_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\Z"
)


class EmptyConfig(ConfigError):
    """No config at all (Ignition's `not a config (empty)`); a provider that
    returns this means the machine has no user config."""


@dataclass(frozen=True)
class Parsed:
    config: Config
    report: Report
    version: str  # the spec the text was written for


@functools.cache
def _validator(version: str) -> jsonschema.protocols.Validator:
    name = "v" + "_".join(version.split(".")[:2]) + ".json"
    schema = json.loads(resources.files("ignition.config.schema").joinpath(name).read_text())
    return jsonschema.Draft202012Validator(schema)


def _json_type(v: object) -> str:
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
    if isinstance(v, list):
        return "a list"
    return "an object"


_TYPE_WORDS = {"string": "a string", "integer": "an integer", "boolean": "a boolean",
               "array": "a list", "object": "an object", "number": "a number"}


def _schema_message(err: jsonschema.ValidationError) -> tuple[tuple[PathElem, ...], str]:
    path: tuple[PathElem, ...] = tuple(err.absolute_path)
    if err.validator == "type":
        wanted = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        words = [_TYPE_WORDS.get(str(t), str(t)) for t in wanted if t != "null"]
        desc = err.schema.get("description") if isinstance(err.schema, Mapping) else None
        msg = f"must be {' or '.join(words)}, not {_json_type(err.instance)}"
        return path, msg + (f" ({desc})" if desc else "")
    if err.validator == "required":
        m = re.match(r"'([^']+)' is a required property", err.message)
        if m:
            return path + (m.group(1),), "is required"
    return path, err.message


def _unknown_keys(root: Mapping[str, Any], schema: Mapping[str, Any], inst: object,
                  path: tuple[PathElem, ...], report: Report, version: str) -> None:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        schema = root["$defs"][ref.removeprefix("#/$defs/")]
    if isinstance(inst, dict):
        props = schema.get("properties")
        if not isinstance(props, Mapping):
            return
        for k, v in inst.items():
            if k in props:
                _unknown_keys(root, props[k], v, path + (k,), report, version)
            else:
                report.add("warning", f"unused key {k} (spec {version} has no such field; "
                           "check its spelling and the config version)", path + (k,))
    elif isinstance(inst, list):
        items = schema.get("items")
        if isinstance(items, Mapping):
            for i, v in enumerate(inst):
                _unknown_keys(root, items, v, path + (i,), report, version)


def _fail(report: Report, text: str, message: str = "config is not valid") -> ConfigError:
    _place(report, text)
    return ConfigError(message + ":\n" + str(report), report)


def _place(report: Report, text: str) -> None:
    for i, e in enumerate(report.entries):
        if e.path and not e.line:
            line, col = locate(text, e.path)
            report.entries[i] = type(e)(e.kind, e.message, e.path, line, col)


def parse(raw: bytes) -> Parsed:
    """Parse and validate; raises ConfigError (with the report) when invalid."""
    report = Report()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        report.add("error", f"config is not valid UTF-8 (byte {e.start}); save it as UTF-8")
        raise ConfigError("config is not valid:\n" + str(report), report) from e
    if not text.strip():
        raise EmptyConfig("not a config (empty)", report)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        report.add("error", f"invalid JSON: {e.msg}", line=e.lineno, col=e.colno)
        raise ConfigError("config is not valid:\n" + str(report), report) from e
    if not isinstance(data, dict):
        report.add("error", f"the config must be a JSON object, not {_json_type(data)}", line=1, col=1)
        raise _fail(report, text)

    ign = data.get("ignition")
    version = ign.get("version") if isinstance(ign, dict) else None
    vpath: tuple[PathElem, ...] = ("ignition", "version")
    if not isinstance(version, str) or not _SEMVER.match(version):
        report.add("error", "invalid config version (couldn't parse): set ignition.version to one "
                   f"of {', '.join(SUPPORTED_VERSIONS)}", vpath)
        raise _fail(report, text)
    if version not in SUPPORTED_VERSIONS:
        report.add("error", f"unsupported config version {version}: this build accepts "
                   f"{', '.join(SUPPORTED_VERSIONS)}", vpath)
        raise _fail(report, text)

    validator = _validator(version)
    schema: Mapping[str, Any] = validator.schema  # type: ignore[assignment]
    for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path, msg = _schema_message(err)
        report.add("error", msg, path)
    _unknown_keys(schema, schema, data, (), report, version)
    if report.is_fatal:
        raise _fail(report, text)

    latest, twarnings = translate_to_latest(data, version)
    for w in twarnings:
        report.add("warning", w.message, _parse_json_path(w.path))
    try:
        config = config_from_dict(latest)
    except TypeError as e:
        # A field the spec requires (a path, a name) is null or missing.
        where, _, what = str(e).partition(": ")
        report.add("error", f"{what}: set it", _parse_json_path(where))
        raise _fail(report, text) from e
    report.extend(validate(config, version))
    if report.is_fatal:
        raise _fail(report, text)
    _place(report, text)
    return Parsed(config, report, version)


def _parse_json_path(p: str) -> tuple[PathElem, ...]:
    return tuple(int(x) if x.isdigit() else x for x in p.removeprefix("$").split(".") if x)
