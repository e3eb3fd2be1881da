"""Property tests of the parser: whatever the bytes, `parse` returns a config or raises
ConfigError (EmptyConfig included), and never takes long.

Inputs come from two places:
- a strategy built by walking our own JSON Schemas (ignition/config/schema/v3_*.json): objects
  with random subsets of their known properties plus occasional unknown keys, arrays, nulls,
  and values of the wrong type; strings are drawn from values that reach the semantic checks
  (paths, URLs, hashes, unit names and contents, formats, levels) as well as arbitrary text;
- mutations of the corpus' valid configs (tests/data/configs): keys deleted, inserted or
  renamed, values swapped for others, the text truncated or spliced with random bytes.

The `parse-ci` profile (the default) is derandomized and has no example database, so CI runs
the same examples every time; together the tests below run 10,100 examples.
IGNITION_HYPOTHESIS_PROFILE=parse-dev explores new random examples instead.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ignition.config.parse import SUPPORTED_VERSIONS, parse
from ignition.errors import ConfigError

# The deadline is a guard against hangs, not a speed target (those live in bench/).
settings.register_profile(
    "parse-ci", derandomize=True, database=None, deadline=timedelta(seconds=10),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], print_blob=True)
settings.register_profile(
    "parse-dev", derandomize=False, database=None, deadline=timedelta(seconds=10),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], print_blob=True)
PROFILE = settings.get_profile(os.environ.get("IGNITION_HYPOTHESIS_PROFILE", "parse-ci"))

CORPUS = Path(__file__).resolve().parents[1] / "data" / "configs"
Json = Any

# ---------------------------------------------------------------- values that matter to the checks
SHA512 = "sha512-" + "0123456789abcdef" * 8
SHA256 = "sha256-" + "0123456789abcdef" * 4
UNIT_TEXT = ["[Unit]\nDescription=x\n[Install]\nWantedBy=multi-user.target\n", "[Service]\nExecStart=/bin/true\n",
             "A=b\n[Unit]\n", "[Unit\n", "[Unit] x\n", "[S]\nfoo bar\n", "[S]\nA=b \\\n c\\", "", "# c\n; d\n"]
HINTS: dict[str, list[Json]] = {
    "path": ["/etc/a", "/", "/a/../b", "a/b", "", "//x", "/etc/systemd/system/a.service", "/l/x", "/a/"],
    "device": ["/dev/vda", "/dev/vdb", "vda", "", "/dev/disk/by-partlabel/root", "/dev/md/a"],
    "target": ["/etc/a", "../b", "", "/d"],
    "source": ["data:,x", "data:;base64,aGk=", "data:;base64,!!", "data:x", "https://h/a", "http://[::1",
               "tftp://h/a", "s3://b/k?versionId=", "gs://b/o", "arn:aws:s3:::b/k", "arn:aws:iam::1:role/x",
               "ftp://h", "", "h/a", "%zz", "http://h/a\x00"],
    "url": ["https://t", "http://t", "ftp://t", "", "::"],
    "httpProxy": ["http://p:3128", "https://p", "socks5://p", "", "http://[::1"],
    "httpsProxy": ["http://p:3128", "https://p", "socks5://p", ""],
    "hash": [SHA512, SHA256, "sha512-00", "md5-00", "sha512", "", "sha256-" + "z" * 64, "-"],
    "compression": ["gzip", "", "xz"],
    "format": ["ext4", "xfs", "btrfs", "vfat", "swap", "none", "zfs", ""],
    "level": ["raid1", "raid0", "linear", "stripe", "10", "raid7", ""],
    "name": ["a.service", "t@.service", "t@x.service", "x.conf", "core", "md0", "a/b", "", ".service", "sshd"],
    "contents": UNIT_TEXT,
    "label": ["root", "x" * 37, "a:b", "", "x" * 48],
    "guid": ["0FC63DAF-8483-4772-8E79-3D69D8477DE4", "1234", ""],
    "typeGuid": ["0FC63DAF-8483-4772-8E79-3D69D8477DE4", "linux", ""],
    "advertisement": ['{"payload": "x"}', "{nope", ""],
    "pin": ["tpm2", "tang", "sss", "pkcs11", ""],
    "version": list(SUPPORTED_VERSIONS) + ["3.4.0-experimental", "2.3.0", "x", ""],
}
TEXT = st.text(max_size=20)
SMALL_INTS = st.one_of(st.integers(-2, 70000), st.sampled_from([0o4755, 0o1777, 0o7777, 0o10000, 2**63, -(2**63)]))
ANY_SCALAR = st.one_of(st.none(), st.booleans(), SMALL_INTS, st.floats(allow_nan=False), TEXT)
RARELY = st.sampled_from([False] * 9 + [True])
WRONG_TYPE = st.sampled_from([False] * 39 + [True])
ANY_JSON = st.recursive(ANY_SCALAR, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)), max_leaves=4)


# ---------------------------------------------------------------- schema walker
@cache
def schema_of(version: str) -> dict[str, Any]:
    name = "v" + "_".join(version.split(".")[:2]) + ".json"
    return json.loads(resources.files("ignition.config.schema").joinpath(name).read_text())  # type: ignore[no-any-return]


def _types(node: dict[str, Any]) -> list[str]:
    t = node.get("type", [])
    return [t] if isinstance(t, str) else list(t)


def _string(key: str) -> st.SearchStrategy[Json]:
    hints = HINTS.get(key)
    return st.one_of(st.sampled_from(hints), TEXT) if hints else st.one_of(TEXT, st.sampled_from(["", "/x"]))


def from_schema(root: dict[str, Any], node: dict[str, Any], key: str = "", depth: int = 0) -> st.SearchStrategy[Json]:
    """Values mostly shaped like `node`, sometimes null or of another type."""
    ref = node.get("$ref")
    if isinstance(ref, str):
        node = root["$defs"][ref.removeprefix("#/$defs/")]
    kinds: list[st.SearchStrategy[Json]] = []
    for t in _types(node):
        if t == "object":
            kinds.append(_object(root, node, depth))
        elif t == "array":
            item = from_schema(root, node.get("items", {}), key, depth + 1)
            kinds.append(st.lists(item, max_size=2 if depth < 3 else 1))
        elif t == "string":
            kinds.append(_string(key))
        elif t == "integer":
            kinds.append(SMALL_INTS)
        elif t == "boolean":
            kinds.append(st.booleans())
    shaped = st.one_of(*kinds) if kinds else ANY_JSON
    return _rarely_wrong(shaped) if depth else shaped


@st.composite
def _rarely_wrong(draw: st.DrawFn, shaped: st.SearchStrategy[Json]) -> Json:
    """Now and then null or a value of any type. Rarely: a config has dozens of values and one
    wrong type stops it at the schema, before the semantic checks this test wants to reach."""
    if draw(WRONG_TYPE):
        return draw(st.one_of(st.none(), ANY_SCALAR))
    return draw(shaped)


def _object(root: dict[str, Any], node: dict[str, Any], depth: int) -> st.SearchStrategy[Json]:
    props: dict[str, Any] = node.get("properties", {})
    required = set(node.get("required", []))
    if depth > 6:
        return st.just({})
    fields = {k: from_schema(root, v, k, depth + 1) for k, v in props.items()}

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Json]:
        # few keys per object keeps an example small (fast) while any subtree stays reachable
        keys = draw(st.lists(st.sampled_from(sorted(fields)), unique=True,
                             max_size=min(len(fields), 3 if depth < 2 else 2))) if fields else []
        out = {k: draw(fields[k]) for k in sorted(required) if k in fields and not draw(RARELY)}
        out.update({k: draw(fields[k]) for k in keys})
        if draw(RARELY):  # an unknown key, or a known one in the wrong case
            unknown = draw(st.one_of(TEXT, st.sampled_from(sorted(fields) or ["x"]).map(str.capitalize)))
            out[unknown] = draw(ANY_JSON)
        return out

    return build()


@cache
def schema_strategy(version: str) -> st.SearchStrategy[Json]:
    root = schema_of(version)
    return from_schema(root, root)


@st.composite
def schema_configs(draw: st.DrawFn, version: str) -> bytes:
    cfg = draw(schema_strategy(version))
    ign = cfg.get("ignition")
    if not draw(st.sampled_from([False] * 19 + [True])):  # mostly the right version: the checks run
        cfg["ignition"] = {**(ign if isinstance(ign, dict) else {}), "version": version}
    return json.dumps(cfg, indent=draw(st.sampled_from([None, 1]))).encode()


# ---------------------------------------------------------------- mutations of valid corpus configs
@cache
def valid_seeds() -> tuple[bytes, ...]:
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    seeds = []
    for c in manifest:
        raw = (CORPUS / c["file"]).read_bytes()
        if not c["valid"]:
            continue
        try:  # the pathological cases (deep nesting, huge numbers) are no seeds for mutation
            _containers(json.loads(raw), [])
        except (ValueError, RecursionError):
            continue
        seeds.append(raw)
    return tuple(seeds)


def _containers(value: Json, out: list[Json]) -> list[Json]:
    if isinstance(value, dict | list):
        out.append(value)
        for child in value.values() if isinstance(value, dict) else value:
            _containers(child, out)
    return out


@st.composite
def mutated_configs(draw: st.DrawFn) -> bytes:
    seed = draw(st.sampled_from(valid_seeds()))
    cfg = json.loads(seed)
    for _ in range(draw(st.integers(1, 4))):
        target = draw(st.sampled_from(_containers(cfg, [])))
        op = draw(st.sampled_from(["delete", "insert", "replace", "rename", "duplicate"]))
        if isinstance(target, dict):
            keys = sorted(target)
            if op == "insert" or not keys:
                target[draw(st.one_of(TEXT, st.sampled_from(sorted(HINTS))))] = draw(ANY_JSON)
                continue
            key = draw(st.sampled_from(keys))
            if op == "delete":
                del target[key]
            elif op == "rename":
                target[draw(TEXT)] = target.pop(key)
            elif op == "duplicate":
                target[key] = [target[key], target[key]]
            else:
                target[key] = draw(st.one_of(ANY_JSON, _string(key)))
        elif target:
            i = draw(st.integers(0, len(target) - 1))
            if op == "delete":
                del target[i]
            elif op == "duplicate":
                target.append(json.loads(json.dumps(target[i])))
            else:
                target[i] = draw(ANY_JSON)
        else:
            target.append(draw(ANY_JSON))
    return json.dumps(cfg).encode()


@st.composite
def damaged_texts(draw: st.DrawFn) -> bytes:
    raw = draw(st.sampled_from(valid_seeds()))
    op = draw(st.sampled_from(["truncate", "splice", "flip", "swap"]))
    i = draw(st.integers(0, len(raw)))
    if op == "truncate":
        return raw[:i]
    if op == "splice":
        return raw[:i] + draw(st.binary(max_size=8)) + raw[i:]
    if op == "flip" and i < len(raw):
        return raw[:i] + bytes([raw[i] ^ (1 << draw(st.integers(0, 7)))]) + raw[i + 1:]
    j = draw(st.integers(0, len(raw)))
    a, b = sorted((i, j))
    return raw[:a] + raw[b:] + raw[a:b]


# ---------------------------------------------------------------- the property
def parses_or_reports(raw: bytes) -> None:
    try:
        parse(raw)
    except ConfigError as e:
        # ConfigError (EmptyConfig too) carries the report the CLI prints
        assert hasattr(e, "report")
        str(e)


for _v in SUPPORTED_VERSIONS:  # build the schema validators before any deadline applies
    parses_or_reports(json.dumps({"ignition": {"version": _v}}).encode())

EXAMPLES = {"schema": 700, "mutation": 2400, "text": 2200, "bytes": 600}  # 7 x 700 + 5,200 = 10,100


def _with(n: int) -> settings:
    return settings(PROFILE, max_examples=n)


@_with(EXAMPLES["schema"])
@given(data=st.data())
def test_schema_shaped_configs_3_0(data: st.DataObject) -> None:
    parses_or_reports(data.draw(schema_configs("3.0.0")))


@_with(EXAMPLES["schema"])
@given(data=st.data())
def test_schema_shaped_configs_3_1(data: st.DataObject) -> None:
    parses_or_reports(data.draw(schema_configs("3.1.0")))


@_with(EXAMPLES["schema"])
@given(data=st.data())
def test_schema_shaped_configs_3_2(data: st.DataObject) -> None:
    parses_or_reports(data.draw(schema_configs("3.2.0")))


@_with(EXAMPLES["schema"])
@given(data=st.data())
def test_schema_shaped_configs_3_3(data: st.DataObject) -> None:
    parses_or_reports(data.draw(schema_configs("3.3.0")))


@_with(EXAMPLES["schema"])
@given(data=st.data())
def test_schema_shaped_configs_3_4(data: st.DataObject) -> None:
    parses_or_reports(data.draw(schema_configs("3.4.0")))


@_with(EXAMPLES["schema"])
@given(data=st.data())
def test_schema_shaped_configs_3_5(data: st.DataObject) -> None:
    parses_or_reports(data.draw(schema_configs("3.5.0")))


@_with(EXAMPLES["schema"])
@given(data=st.data())
def test_schema_shaped_configs_3_6(data: st.DataObject) -> None:
    parses_or_reports(data.draw(schema_configs("3.6.0")))


@_with(EXAMPLES["mutation"])
@given(raw=mutated_configs())
def test_mutated_valid_configs(raw: bytes) -> None:
    parses_or_reports(raw)


@_with(EXAMPLES["text"])
@given(raw=damaged_texts())
def test_damaged_config_text(raw: bytes) -> None:
    parses_or_reports(raw)


@_with(EXAMPLES["bytes"])
@given(raw=st.one_of(st.binary(max_size=64), st.text(max_size=64).map(str.encode)))
def test_random_bytes(raw: bytes) -> None:
    parses_or_reports(raw)


# Inputs no random strategy here reaches (they are large); they used to crash the parser (the
# json module raised RecursionError / ValueError through parse(); now they are reported.
V33 = b'{"ignition": {"version": "3.3.0"}, "x": '
PATHOLOGICAL = [
    pytest.param(V33 + b"[" * 1000 + b"]" * 1000 + b"}", id="nested-1000"),
    pytest.param(V33 + b"[" * 20000 + b"]" * 20000 + b"}", id="nested-20000"),
    pytest.param(V33 + b'{"a": ' * 3000 + b"1" + b"}" * 3000 + b"}", id="nested-objects-3000"),
    pytest.param(V33 + b"9" * 5000 + b"}", id="integer-5000-digits"),
]


@pytest.mark.parametrize("raw", PATHOLOGICAL)
def test_pathological_inputs(raw: bytes) -> None:
    parses_or_reports(raw)


def test_enough_examples_for_ci() -> None:
    assert EXAMPLES["schema"] * len(SUPPORTED_VERSIONS) + sum(v for k, v in EXAMPLES.items() if k != "schema") \
        >= 10_000
