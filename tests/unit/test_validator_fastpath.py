"""The validator's fast paths against the pure paths they stand in for.

- schemafast (one compiled walk) against fold_keys + jsonschema + unknown_keys: on every
  generated config the schema step returns the same data and the same report entries, and the
  fast walk vouches for a config exactly when the pure path finds no error and folds no key;
  the whole parse gives the same verdict, config and report with and without the fast path.
- codec's builder against its checked path: the same record, or the same TypeError.
- the cheap checks of data URLs' schemes and of path lengths against urlsplit and the byte
  count they skip.

Inputs: configs shaped by our schemas and mutations of the corpus' valid configs (the
strategies of test_parse_properties), and lists of files/directories/links entries, the items
a 10,000-file config is made of, with wrong types, keys in another case, unknown keys, integers
out of range, floats and missing required keys mixed in.
"""

from __future__ import annotations

import copy
import json
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from ignition.config import codec, schemacheck
from ignition.config.parse import SUPPORTED_VERSIONS, _check_schema, parse
from ignition.config.report import Report
from ignition.config.types import Config
from ignition.config.validate.paths import NAME_MAX, PATH_MAX, length_problem
from ignition.config.validate.resources import _scheme
from ignition.errors import ConfigError
from tests.unit.test_parse_properties import (
    ANY_JSON,
    PROFILE,
    mutated_configs,
    schema_configs,
    schema_strategy,
)

Json = Any
VERSIONS = st.sampled_from(SUPPORTED_VERSIONS)


def _entries(report: Report) -> list[tuple[str, str, tuple[object, ...]]]:
    return [(e.kind, e.message, e.path) for e in report.entries]


def same_schema_step(data: dict[str, Any], version: str) -> bool:
    """Fast and pure schema steps agree; returns whether the fast walk vouched."""
    fast_report, pure_report = Report(), Report()
    fast_data = _check_schema(copy.deepcopy(data), version, fast_report)
    pure_data = _check_schema(copy.deepcopy(data), version, pure_report, fast=False)
    assert fast_data == pure_data
    assert _entries(fast_report) == _entries(pure_report)
    compiled = schemacheck.compiled("ignition.config.schema", version)
    assert compiled is not None  # our schemas use only what schemafast compiles
    from ignition.config.schemafast import check

    vouched = check(compiled, copy.deepcopy(data)) is not None
    pure_clean = not pure_report.is_fatal and not any(
        e.kind == "warning" and e.message.startswith("key ") for e in pure_report.entries)
    assert vouched == pure_clean
    return vouched


def _outcome(raw: bytes) -> tuple[str, object]:
    try:
        parsed = parse(raw)
    except ConfigError as e:
        return "invalid", str(e)
    return "valid", (parsed.config, str(parsed.report), parsed.version)


def same_parse(raw: bytes) -> None:
    fast = _outcome(raw)
    with mock.patch.object(schemacheck, "compiled", lambda package, version: None):
        pure = _outcome(raw)
    assert fast == pure


# ---------------------------------------------------------------- hot entries
PATHS = st.sampled_from(["/etc/a", "/var/lib/x/file-00001.conf", "/", "a/b", "/a/../b", "", "/é" * 3])
SOURCES = st.sampled_from(["data:,x", "data:;base64,aGk=", "https://h/a", "data:;base64,!!", ""])
MODES = st.sampled_from([0o644, 0o4755, 0o10000, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 420.0, True])
OWNER = st.fixed_dictionaries({}, optional={"id": st.sampled_from([0, 1000, 2**64]),
                                            "name": st.sampled_from(["core", "", "x"])})
RESOURCE = st.fixed_dictionaries({}, optional={
    "source": SOURCES, "compression": st.sampled_from(["gzip", "", "xz"]),
    "verification": st.fixed_dictionaries({}, optional={"hash": st.sampled_from(["sha512-00", "md5-1"])}),
    "httpHeaders": st.lists(st.fixed_dictionaries({"name": st.sampled_from(["A", ""])},
                                                  optional={"value": st.sampled_from(["v", ""])}), max_size=2)})
NODE = {"path": PATHS, "overwrite": st.booleans(), "user": OWNER, "group": OWNER}
ENTRIES = {
    "files": st.fixed_dictionaries({"path": PATHS}, optional={
        "overwrite": st.booleans(), "mode": MODES, "user": OWNER, "group": OWNER, "contents": RESOURCE,
        "append": st.lists(RESOURCE, max_size=2)}),
    "directories": st.fixed_dictionaries({"path": PATHS}, optional={
        "overwrite": st.booleans(), "mode": MODES, "user": OWNER, "group": OWNER}),
    "links": st.fixed_dictionaries({"path": PATHS}, optional={
        "overwrite": st.booleans(), "user": OWNER, "group": OWNER, "target": PATHS, "hard": st.booleans()}),
}


@st.composite
def damaged(draw: st.DrawFn, entry: dict[str, Json]) -> Json:
    """The entry, or it with one thing wrong or unusual somewhere inside."""
    how = draw(st.sampled_from(["none"] * 6 + ["type", "case", "unknown", "drop", "null"]))
    if how == "none":
        return entry
    objects = [entry] + [v for v in entry.values() if isinstance(v, dict)]
    target = draw(st.sampled_from(objects))
    keys = sorted(target)
    if how == "type" and keys:
        target[draw(st.sampled_from(keys))] = draw(ANY_JSON)
    elif how == "case" and keys:
        k = draw(st.sampled_from(keys))
        target[draw(st.sampled_from([k.upper(), k.capitalize(), k.swapcase()]))] = target.pop(k)
    elif how == "unknown":
        target[draw(st.text(max_size=6))] = draw(ANY_JSON)
    elif how == "drop" and keys:
        del target[draw(st.sampled_from(keys))]
    elif how == "null" and keys:
        target[draw(st.sampled_from(keys))] = None
    return entry


@st.composite
def node_configs(draw: st.DrawFn) -> tuple[dict[str, Json], str]:
    version = draw(VERSIONS)
    storage = {kind: draw(st.lists(strategy.flatmap(damaged), max_size=6))
               for kind, strategy in ENTRIES.items() if draw(st.booleans())}
    return {"ignition": {"version": version}, "storage": storage}, version


# ---------------------------------------------------------------- the tests
@settings(PROFILE, max_examples=1500)
@given(data=st.data())
def test_schema_step_on_files_directories_links(data: st.DataObject) -> None:
    cfg, version = data.draw(node_configs())
    same_schema_step(cfg, version)


@settings(PROFILE, max_examples=700)
@given(data=st.data())
def test_schema_step_on_schema_shaped_configs(data: st.DataObject) -> None:
    version = data.draw(VERSIONS)
    same_schema_step(json.loads(data.draw(schema_configs(version))), version)


@settings(PROFILE, max_examples=1000)
@given(data=st.data())
def test_whole_parse_on_files_directories_links(data: st.DataObject) -> None:
    cfg, _ = data.draw(node_configs())
    same_parse(json.dumps(cfg).encode())


@settings(PROFILE, max_examples=500)
@given(data=st.data())
def test_whole_parse_on_schema_shaped_configs(data: st.DataObject) -> None:
    same_parse(data.draw(schema_configs(data.draw(VERSIONS))))


@settings(PROFILE, max_examples=500)
@given(raw=mutated_configs())
def test_whole_parse_on_mutated_corpus_configs(raw: bytes) -> None:
    same_parse(raw)


def test_the_fast_path_vouches_for_plain_configs() -> None:
    # The comparisons above would pass if the fast walk never vouched; this one would not.
    cfg = {"ignition": {"version": "3.3.0"}, "storage": {
        "files": [{"path": f"/etc/f{i}", "mode": 420, "user": {"name": "core"},
                   "contents": {"source": "data:,x", "verification": {}}} for i in range(3)],
        "directories": [{"path": "/d", "overwrite": False}], "links": [{"path": "/l", "target": "/d"}]},
        "typo": 1}
    assert same_schema_step(cfg, "3.3.0")
    report = Report()
    _check_schema(cfg, "3.3.0", report)
    assert [str(e) for e in report.entries] == [
        "warning at $.typo: unused key typo (spec 3.3.0 has no such field; check its spelling and the "
        "config version)"]


@settings(PROFILE, max_examples=700)
@given(data=st.data())
def test_codec_builder_against_checked_path(data: st.DataObject) -> None:
    raw = data.draw(schema_strategy("3.6.0"))

    def build(fn: Any) -> tuple[str, object]:
        try:
            return "ok", fn(Config, copy.deepcopy(raw), "$")
        except TypeError as e:
            return "error", str(e)

    assert build(codec.from_json) == build(codec._from_json_checked)


@settings(PROFILE, max_examples=500)
@given(url=st.one_of(st.text(max_size=12).map(lambda s: "data:" + s),
                     st.sampled_from(["data://[x/", "data://h/,x", "data:\t,x", "data:,a\nb", "DATA:,x",
                                      "data:,x", "https://[::1/", "s3://b/k"]),
                     st.text(max_size=12)))
def test_scheme_shortcut_is_urlsplits_scheme(url: str) -> None:
    try:
        want: object = urlsplit(url).scheme
    except ValueError as e:
        want = ("ValueError", str(e))
    try:
        got: object = _scheme(url)
    except ValueError as e:
        got = ("ValueError", str(e))
    assert got == want


def _length_reference(p: str) -> str | None:
    size = len(p.encode("utf-8", "surrogateescape"))
    if size > PATH_MAX:
        return "path"
    return "component" if any(len(c.encode("utf-8", "surrogateescape")) > NAME_MAX for c in p.split("/")) else None


@settings(PROFILE, max_examples=500)
@given(p=st.one_of(st.text(alphabet="ab/é", min_size=200, max_size=300),
                   st.text(alphabet="a/", max_size=300), st.text(max_size=300)))
def test_path_length_shortcut(p: str) -> None:
    problem = length_problem(p)
    kind = _length_reference(p)
    assert (problem is None) == (kind is None)
    if kind is not None:
        assert problem is not None and problem.startswith("path is" if kind == "path" else "path component")
