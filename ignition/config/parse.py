"""From bytes to a validated config of the latest spec.

Steps, as in Ignition: decode the JSON (syntax errors with line and column),
read `ignition.version` alone and dispatch on it (exact match with a supported
spec, else `unsupported config version`), check structure and types against
that version's JSON Schema, warn about unknown keys, translate up to the latest
spec, build the frozen dataclasses, run the semantic checks. Any error entry
makes the config invalid; warnings never do.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from typing import Any

from ignition.config import schemacheck
from ignition.config.position import line_col, locate
from ignition.config.report import PathElem, Report
from ignition.config.schemafast import check
from ignition.config.schemawalk import fold_keys, unknown_key_message, unknown_keys
from ignition.config.translate import translate_to_latest
from ignition.config.types import Config, config_from_dict
from ignition.config.validate import validate
from ignition.errors import ConfigError
from ignition.record import record

SUPPORTED_VERSIONS = ("3.0.0", "3.1.0", "3.2.0", "3.3.0", "3.4.0", "3.5.0", "3.6.0")

# Ignition reads the version with coreos/go-semver, which is laxer than the
# semver spec (leading zeros, an empty pre-release), and then compares the
# whole parsed version, build metadata included, with each spec's.
_SEMVER = re.compile(r"(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]*))?(?:\+([0-9A-Za-z.-]*))?\Z")

# Go's decoder refuses deeper nesting; Python's needs the recursion limit for it.
MAX_NESTING = 10_000


def normalize_version(text: str) -> str | None:
    """The version as Ignition compares it (`03.3.0-` is 3.3.0), or None."""
    m = _SEMVER.match(text)
    if not m:
        return None
    core = ".".join(str(int(g)) for g in m.groups()[:3])
    return core + (f"-{m.group(4)}" if m.group(4) else "") + (f"+{m.group(5)}" if m.group(5) else "")


class _NotJson(ValueError):
    pass


def _reject_constant(name: str) -> object:
    raise _NotJson(f"{name} is not a JSON number")


def _parse_int(digits: str) -> object:
    # Python refuses to convert very long digit strings; such a number fits
    # no field anyway, so it becomes a non-integer the schema check rejects.
    return int(digits) if len(digits) <= 40 else float("inf")


class EmptyConfig(ConfigError):
    """No config at all (Ignition's `not a config (empty)`); a provider that
    returns this means the machine has no user config."""


@record(kw_only=False, slots=False)
class Parsed:
    """A parsed, translated and validated config, with its report of warnings."""

    config: Config
    report: Report
    version: str  # the spec the text was written for


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
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, MAX_NESTING + 500))
    try:
        return _parse(raw)
    except RecursionError as e:
        report = Report()
        report.add("error", f"invalid JSON: nested more than {MAX_NESTING} levels deep")
        raise ConfigError("config is not valid:\n" + str(report), report) from e
    finally:
        sys.setrecursionlimit(limit)


def _get_folded(d: object, key: str) -> object:
    """d[key] with Go's key matching: case-insensitive, the last match wins,
    and a null does not undo an earlier value."""
    if not isinstance(d, dict):
        return None
    found = None
    for k, v in d.items():
        if k.lower() == key and (v is not None or found is None):
            found = v
    return found


def _parse(raw: bytes) -> Parsed:
    report = Report()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        report.add("error", f"config is not valid UTF-8 (byte {e.start}); save it as UTF-8")
        raise ConfigError("config is not valid:\n" + str(report), report) from e
    if not text.strip():
        raise EmptyConfig("not a config (empty)", report)
    try:
        data = json.loads(text, parse_constant=_reject_constant, parse_int=_parse_int)
    except json.JSONDecodeError as e:
        report.add("error", f"invalid JSON: {e.msg}", line=e.lineno, col=e.colno)
        raise ConfigError("config is not valid:\n" + str(report), report) from e
    except _NotJson as e:
        m = re.search(r"-?\b(NaN|Infinity)\b", text)
        line, col = line_col(text, m.start()) if m else (0, 0)
        report.add("error", f"invalid JSON: {e}", line=line, col=col)
        raise ConfigError("config is not valid:\n" + str(report), report) from e
    if not isinstance(data, dict):
        report.add("error", f"the config must be a JSON object, not {schemacheck.json_type(data)}", line=1, col=1)
        raise _fail(report, text)

    raw_version = _get_folded(_get_folded(data, "ignition"), "version")
    vpath: tuple[PathElem, ...] = ("ignition", "version")
    version = normalize_version(raw_version) if isinstance(raw_version, str) else None
    if version is None:
        report.add("error", "invalid config version (couldn't parse): set ignition.version to one "
                   f"of {', '.join(SUPPORTED_VERSIONS)}", vpath)
        raise _fail(report, text)
    if version.startswith("2."):
        return _parse_v2(data, version, report, text)
    if version not in SUPPORTED_VERSIONS:
        from ignition.config.v2.check import V2_VERSIONS

        report.add("error", f"unsupported config version {raw_version}: this build accepts "
                   f"{', '.join(SUPPORTED_VERSIONS)} (and the Container Linux specs {', '.join(V2_VERSIONS)})",
                   vpath)
        raise _fail(report, text)
    config = _check_v3(data, version, report, text, lambda p: p)
    _place(report, text)
    return Parsed(config, report, version)


def _parse_v2(data: dict[str, Any], version: str, report: Report, text: str) -> Parsed:
    """A Container Linux config: translated to spec 3.1.0 as Flatcar does, then
    checked like any 3.1.0 config, with every report path mapped back to
    where the user wrote it."""
    # Container Linux configs are rare: their translator loads only for them.
    from ignition.config.v2 import origin_path, translate_v2_traced

    translated, notes, origins = translate_v2_traced(data, version)
    for n in notes:
        report.add(n.kind, n.message, n.path)
    if report.is_fatal:
        raise _fail(report, text)
    config = _check_v3(translated, "3.1.0", report, text, lambda p: origin_path(origins, p))
    _place(report, text)
    return Parsed(config, report, version)


def _check_v3(data: dict[str, Any], version: str, report: Report, text: str,
              where: Callable[[tuple[PathElem, ...]], tuple[PathElem, ...]]) -> Config:
    """Schema, unknown keys, translation up to the latest spec, semantic checks.
    `where` maps a path of `data` to a path of the text the user wrote."""
    own = Report()
    data = _check_schema(data, version, own)
    config: Config | None = None
    if not own.is_fatal:
        # `data` is this parse's own (from json.loads or fold_keys), so it may be changed in place.
        latest, twarnings = translate_to_latest(data, version, in_place=True)
        for w in twarnings:
            own.add("warning", w.message, _parse_json_path(w.path))
        try:
            config = config_from_dict(latest)
        except TypeError as err:
            # A field the spec requires (a path, a name) is null or missing.
            at, _, what = str(err).partition(": ")
            own.add("error", f"{what}: set it", _parse_json_path(at))
        if config is not None:
            own.extend(validate(config, version))
    for entry in own.entries:
        report.add(entry.kind, entry.message, where(entry.path))
    if report.is_fatal or config is None:
        raise _fail(report, text)
    return config


def _check_schema(data: dict[str, Any], version: str, own: Report, fast: bool = True) -> dict[str, Any]:
    """Keys folded as Go reads them, schema errors, unknown-key warnings: the
    data to translate. A config schemafast vouches for is its own folded form
    and jsonschema would find nothing in it; anything else (and everything,
    with `fast` false: the tests' reference) takes the full walks."""
    pkg = "ignition.config.schema"
    schema = schemacheck.schema(pkg, version)
    compiled = schemacheck.compiled(pkg, version) if fast else None
    unknown = check(compiled, data) if compiled is not None else None
    if unknown is not None:
        for path in unknown:
            own.add("warning", unknown_key_message(path[-1], version), path)
    else:
        data = fold_keys(schema, schema, data, (), own)
    if isinstance(data.get("ignition"), dict):
        data["ignition"]["version"] = version
    if unknown is not None:
        return data
    for path, msg in schemacheck.problems(schemacheck.validator(pkg, version), data):
        own.add("error", msg, path)
    unknown_keys(schema, schema, data, (), own, version)
    return data


def _parse_json_path(p: str) -> tuple[PathElem, ...]:
    return tuple(int(x) if x.isdigit() else x for x in p.removeprefix("$").split(".") if x)
