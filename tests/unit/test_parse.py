"""Parsing: version dispatch, syntax and type errors with places, unknown keys."""

from __future__ import annotations

import json

import pytest

from ignition.config.parse import SUPPORTED_VERSIONS, EmptyConfig, parse
from ignition.config.position import locate
from ignition.errors import ConfigError


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as e:
        parse(text.encode())
    return [str(x) for x in e.value.report.entries if x.kind == "error"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_every_stable_version_parses_to_the_latest(version: str) -> None:
    p = parse(json.dumps({"ignition": {"version": version}}).encode())
    assert p.version == version
    assert p.config.ignition.version == "3.6.0"


@pytest.mark.parametrize("version", ["3.0", "three", "", "v3.0.0", "3.0.0.0"])
def test_unparsable_version(version: str) -> None:
    (err,) = errors_of(json.dumps({"ignition": {"version": version}}))
    assert "invalid config version (couldn't parse)" in err
    assert err.startswith("error at $.ignition.version, line 1 col")


@pytest.mark.parametrize("version", ["3.7.0", "3.6.0-experimental", "3.4.0-experimental", "2.5.0-experimental",
                                     "1.0.0", "4.0.0"])
def test_unsupported_version(version: str) -> None:
    (err,) = errors_of(json.dumps({"ignition": {"version": version}}))
    assert f"unsupported config version {version}" in err


def test_missing_version() -> None:
    (err,) = errors_of('{"ignition": {}}')
    assert "invalid config version" in err


def test_empty_config_is_its_own_error() -> None:
    with pytest.raises(EmptyConfig, match="not a config"):
        parse(b"  \n")


def test_syntax_error_has_line_and_column() -> None:
    (err,) = errors_of('{\n  "ignition": {"version": "3.3.0"},\n  "storage": {\n}}}')
    assert err.startswith("error, line 4 col 3: invalid JSON")


def test_not_an_object() -> None:
    (err,) = errors_of("[1, 2]")
    assert "must be a JSON object, not a list" in err


def test_type_error_points_at_the_value() -> None:
    text = ('{"ignition": {"version": "3.1.0"},\n "storage": {"files": [\n  {"path": "/a"},\n'
            '  {"path": "/b", "mode": "644"}]}}')
    (err,) = errors_of(text)
    assert err.startswith("error at $.storage.files.1.mode, line 4 col 26: must be an integer, not a string")


def test_unknown_keys_are_warnings_with_places() -> None:
    text = ('{"ignition": {"version": "3.0.0"},\n "storage": {"filez": []},\n'
            ' "passwd": {"users": [{"name": "a", "uid": 5}]}}')
    p = parse(text.encode())
    msgs = [str(e) for e in p.report.entries]
    assert any(m.startswith("warning at $.storage.filez, line 2 col") and "unused key filez" in m for m in msgs)
    # uid is a field of spec 3.0.0, so only the typo is reported
    assert len(msgs) == 1


def test_a_later_specs_field_is_an_unknown_key_in_an_older_config() -> None:
    p = parse(b'{"ignition": {"version": "3.1.0"}, "kernelArguments": {"shouldExist": ["quiet"]}}')
    assert [e.kind for e in p.report.entries] == ["warning"]
    assert "unused key kernelArguments" in p.report.entries[0].message
    assert p.config.kernel_arguments.should_exist == ()  # dropped, as Ignition drops it


def test_special_mode_bits_are_dropped_before_3_6_with_a_warning() -> None:
    cfg = {"ignition": {"version": "3.5.0"}, "storage": {"files": [{"path": "/a", "mode": 0o4755}]}}
    p = parse(json.dumps(cfg).encode())
    assert p.config.storage.files[0].mode == 0o755
    (w,) = p.report.warnings
    assert w.path == ("storage", "files", 0, "mode") and w.line == 1
    cfg["ignition"] = {"version": "3.6.0"}
    assert parse(json.dumps(cfg).encode()).config.storage.files[0].mode == 0o4755


def test_missing_required_field_is_an_error_with_its_path() -> None:
    (err,) = errors_of('{"ignition": {"version": "3.3.0"}, "storage": {"files": [{"mode": 420}]}}')
    assert err.startswith("error at $.storage.files.0.path")


def test_locate_handles_duplicates_escapes_and_missing_paths() -> None:
    text = '{"a": {"b\\"x": 1, "c": [10, {"d": 2}]},\n "a": {"c": [0,\n  5]}}'
    assert locate(text, ["a", "c", 1]) == (3, 3)  # the last duplicate key wins, as in the decoder
    assert locate(text, ["a", "nope"]) == (2, 7)  # deepest existing ancestor


@pytest.mark.parametrize("version", ["2.0.0", "2.1.0", "2.2.0", "2.3.0", "2.4.0"])
def test_container_linux_specs_are_translated(version: str) -> None:
    cfg = {"ignition": {"version": version},
           "storage": {"files": [{"filesystem": "root", "path": "/etc/hostname", "contents": {"source": "data:,a"}}]}}
    p = parse(json.dumps(cfg).encode())
    assert p.version == version
    (f,) = p.config.storage.files
    assert (f.path, f.overwrite, f.contents.source) == ("/etc/hostname", True, "data:,a")


def test_errors_in_a_translated_config_point_into_the_original_text() -> None:
    text = ('{"ignition": {"version": "2.2.0"},\n "storage": {"files": [\n'
            '  {"filesystem": "root", "path": "/a", "mode": 420, "contents": {"source": "data:,x",\n'
            '   "verification": {"hash": "sha512-00"}}}]}}')
    (err,) = errors_of(text)
    assert err.startswith("error at $.storage.files.0.contents.verification.hash, line 4 col")


def test_an_integer_where_a_string_belongs_is_a_type_error_not_a_range_error() -> None:
    (err,) = errors_of('{"ignition": {"version": "3.3.0"}, "storage": {"files": [{"path": 5}]}}')
    assert "must be a string, not an integer" in err
    (err,) = errors_of('{"ignition": {"version": "3.3.0"},'
                       ' "passwd": {"users": [{"name": "a", "uid": 9223372036854775808}]}}')
    assert "out of range" in err
