"""Tests for the per-version JSON Schemas in ignition/config/schema/.

The schemas only describe structure and JSON types (every field nullable, as Go's
encoding/json accepts null everywhere); semantic rules live elsewhere.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

import pytest
from jsonschema import Draft202012Validator

Json = dict[str, Any]

MINORS = list(range(7))

# Number of field bullets in the published configuration-v3_N.md docs; every
# documented field must be a known property, and nothing else.
DOCUMENTED_FIELD_COUNTS = {0: 117, 1: 140, 2: 168, 3: 171, 4: 174, 5: 176, 6: 176}

# Resource locations (3.1 unified CaReference/ConfigReference/FileContents into Resource).
_RESOURCES_30 = [
    "ignition.config.merge[]",
    "ignition.config.replace",
    "ignition.security.tls.certificateAuthorities[]",
    "storage.files[].contents",
    "storage.files[].append[]",
]
_HEADERS = ["httpHeaders", "httpHeaders[].name", "httpHeaders[].value"]

# Dotted field paths ("[]" marks list items) introduced by each minor version.
ADDED: dict[int, set[str]] = {
    1: {
        "ignition.proxy",
        "ignition.proxy.httpProxy",
        "ignition.proxy.httpsProxy",
        "ignition.proxy.noProxy",
        "storage.filesystems[].mountOptions",
        "ignition.config.merge[].compression",
        "ignition.config.replace.compression",
        "ignition.security.tls.certificateAuthorities[].compression",
        *(f"{r}.{h}" for r in _RESOURCES_30 for h in _HEADERS),
    },
    2: {
        "storage.disks[].partitions[].resize",
        "passwd.users[].shouldExist",
        "passwd.groups[].shouldExist",
        "storage.luks",
        *(
            f"storage.luks[].{f}"
            for f in [
                "name",
                "device",
                "keyFile",
                "keyFile.source",
                "keyFile.compression",
                "keyFile.verification",
                "keyFile.verification.hash",
                *(f"keyFile.{h}" for h in _HEADERS),
                "label",
                "uuid",
                "options",
                "wipeVolume",
                "clevis",
                "clevis.tang",
                "clevis.tang[].url",
                "clevis.tang[].thumbprint",
                "clevis.tpm2",
                "clevis.threshold",
                "clevis.custom",
                "clevis.custom.pin",
                "clevis.custom.config",
                "clevis.custom.needsNetwork",
            ]
        ),
    },
    3: {
        "kernelArguments",
        "kernelArguments.shouldExist",
        "kernelArguments.shouldNotExist",
    },
    4: {
        "storage.luks[].discard",
        "storage.luks[].openOptions",
        "storage.luks[].clevis.tang[].advertisement",
    },
    5: {"storage.luks[].cex", "storage.luks[].cex.enabled"},
    6: set(),
}

SHA512 = "sha512-" + "0" * 128
SHA256 = "sha256-" + "0" * 64


# ---------------------------------------------------------------------------
# helpers


@cache
def _load_text(minor: int) -> str:
    package = resources.files("ignition.config.schema")
    return package.joinpath(f"v3_{minor}.json").read_text(encoding="utf-8")


def load_schema(minor: int) -> Json:
    data = json.loads(_load_text(minor))
    assert isinstance(data, dict)
    return data


def validator(minor: int) -> Draft202012Validator:
    return Draft202012Validator(load_schema(minor))


def version(minor: int) -> str:
    return f"3.{minor}.0"


def resolve(schema: Json, node: Json) -> Json:
    while "$ref" in node:
        ref = node["$ref"]
        assert isinstance(ref, str) and ref.startswith("#/$defs/"), ref
        node = schema["$defs"][ref.removeprefix("#/$defs/")]
    return node


def schema_fields(schema: Json) -> dict[str, Json]:
    """Every known field as dotted path -> resolved schema node (lists marked "[]")."""
    found: dict[str, Json] = {}

    def walk(node: Json, prefix: str) -> None:
        node = resolve(schema, node)
        if "items" in node:
            walk(node["items"], prefix + "[]")
            return
        for key, sub in node.get("properties", {}).items():
            path = f"{prefix}.{key}" if prefix else key
            found[path] = resolve(schema, sub)
            walk(sub, path)

    walk(schema, "")
    return found


def known_paths(minor: int) -> set[str]:
    return set(schema_fields(load_schema(minor)))


def instance_paths(doc: Any, prefix: str = "") -> set[str]:
    """Dotted paths of every key present in a config instance."""
    out: set[str] = set()
    if isinstance(doc, dict):
        for key, value in doc.items():
            path = f"{prefix}.{key}" if prefix else key
            out.add(path)
            out |= instance_paths(value, path)
    elif isinstance(doc, list):
        for item in doc:
            out |= instance_paths(item, prefix + "[]")
    return out


def set_path(doc: Json, path: str, value: Any) -> None:
    """Set a dotted path, creating dicts and one-element lists on the way."""
    *parents, last = path.split(".")
    node: Json = doc
    for token in parents:
        if token.endswith("[]"):
            lst = node.setdefault(token[:-2], [{}])
            node = lst[0]
        else:
            node = node.setdefault(token, {})
    node[last] = value


def json_path(path: str) -> str:
    return "$." + path.replace("[]", "[0]")


def error_paths(minor: int, config: Json) -> list[str]:
    return sorted(err.json_path for err in validator(minor).iter_errors(config))


def schema_nodes(node: Json) -> Iterator[Json]:
    """Every subschema: the node, its properties, items and $defs (recursively)."""
    yield node
    for sub in node.get("properties", {}).values():
        yield from schema_nodes(sub)
    if "items" in node:
        yield from schema_nodes(node["items"])
    for sub in node.get("$defs", {}).values():
        yield from schema_nodes(sub)


# ---------------------------------------------------------------------------
# sample configs


def resource(
    minor: int, source: str, *, compression: bool = False, headers: bool = True
) -> Json:
    """A Resource (3.1+) or the equivalent 3.0 reference object."""
    res: Json = {"source": source}
    if compression:
        res["compression"] = "gzip"
    if minor >= 1 and headers:
        res["httpHeaders"] = [
            {"name": "Authorization", "value": "Bearer abc123"},
            {"name": "X-Drop-Inherited"},
        ]
    res["verification"] = {"hash": SHA512 if minor == 0 else SHA256}
    return res


def full_config(minor: int) -> Json:
    """A config that sets every field the given spec version knows."""
    ignition: Json = {
        "version": version(minor),
        "config": {
            "merge": [
                resource(minor, "https://example.com/base.ign", compression=minor >= 1)
            ],
            "replace": resource(
                minor, "https://example.com/replace.ign", compression=minor >= 1
            ),
        },
        "timeouts": {"httpResponseHeaders": 20, "httpTotal": 600},
        "security": {
            "tls": {
                "certificateAuthorities": [
                    resource(
                        minor, "https://example.com/ca.pem", compression=minor >= 1
                    )
                ]
            }
        },
    }
    if minor >= 1:
        ignition["proxy"] = {
            "httpProxy": "http://proxy.example.com:3128",
            "httpsProxy": "https://proxy.example.com:3129",
            "noProxy": ["localhost", ".internal.example.com", "10.0.0.0/8"],
        }

    root_partition: Json = {
        "label": "root",
        "number": 4,
        "sizeMiB": 0,
        "startMiB": 0,
        "typeGuid": "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709",
        "guid": "9A0C4B53-3F4E-4A39-9E3B-5C1A5E3B0A11",
        "wipePartitionEntry": True,
    }
    if minor >= 2:
        root_partition["resize"] = True
    filesystem: Json = {
        "device": "/dev/disk/by-partlabel/var",
        "format": "xfs",
        "path": "/var",
        "wipeFilesystem": True,
        "label": "var",
        "uuid": "b6b5b2ab-8f0b-4b4e-9a43-1e2a3c9d7f10",
        "options": ["-m", "reflink=1"],
    }
    if minor >= 1:
        filesystem["mountOptions"] = ["noatime", "prjquota"]

    storage: Json = {
        "disks": [
            {
                "device": "/dev/disk/by-id/virtio-root",
                "wipeTable": False,
                "partitions": [root_partition, {"number": 5, "shouldExist": False}],
            }
        ],
        "raid": [
            {
                "name": "data",
                "level": "raid1",
                "devices": [
                    "/dev/disk/by-id/vdb",
                    "/dev/disk/by-id/vdc",
                    "/dev/disk/by-id/vdd",
                ],
                "spares": 1,
                "options": ["--metadata=1.2"],
            }
        ],
        "filesystems": [filesystem],
        "files": [
            {
                "path": "/etc/motd",
                "overwrite": True,
                "contents": resource(
                    minor, "https://example.com/motd.gz", compression=True
                ),
                "append": [
                    resource(
                        minor, "https://example.com/motd-extra.gz", compression=True
                    )
                ],
                "mode": 420,
                "user": {"id": 0},
                "group": {"id": 0},
            },
            {
                "path": "/home/core/.bashrc",
                "contents": {"source": "data:,alias%20ll%3D%27ls%20-l%27%0A"},
                "mode": 384,
                "user": {"name": "core"},
                "group": {"name": "core"},
            },
        ],
        "directories": [
            {
                "path": "/var/lib/app",
                "overwrite": False,
                "mode": 493,
                "user": {"id": 1000},
                "group": {"id": 1000},
            },
            {
                "path": "/var/lib/app/cache",
                "user": {"name": "core"},
                "group": {"name": "core"},
            },
        ],
        "links": [
            {
                "path": "/etc/localtime",
                "overwrite": True,
                "user": {"id": 0},
                "group": {"id": 0},
                "target": "../usr/share/zoneinfo/UTC",
                "hard": False,
            },
            {
                "path": "/usr/local/bin/app",
                "target": "/opt/app/bin/app",
                "user": {"name": "core"},
                "group": {"name": "core"},
            },
        ],
    }

    if minor >= 2:
        tang: Json = {
            "url": "https://tang.example.com",
            "thumbprint": "r4Kc4Wq4bDtuR5qqbZBUEU1YoVw",
        }
        if minor >= 4:
            tang["advertisement"] = (
                '{"payload": "e30", "protected": "e30", "signature": "AA"}'
            )
        tang_volume: Json = {
            "name": "var-crypt",
            "device": "/dev/disk/by-partlabel/var",
            "keyFile": resource(minor, "https://example.com/key", compression=True),
            "label": "luks-var",
            "uuid": "0ba2d3a1-3c4e-4a51-9f59-2a1b9c2a1d55",
            "options": ["--cipher", "aes-xts-plain64"],
            "wipeVolume": True,
            "clevis": {"tang": [tang], "tpm2": True, "threshold": 2},
        }
        if minor >= 4:
            tang_volume["discard"] = True
            tang_volume["openOptions"] = ["--perf-no_read_workqueue"]
        custom_volume: Json = {
            "name": "srv-crypt",
            "device": "/dev/disk/by-partlabel/srv",
            "clevis": {
                "custom": {
                    "pin": "sss",
                    "config": '{"t": 1, "pins": {"tpm2": {}}}',
                    "needsNetwork": False,
                }
            },
        }
        storage["luks"] = [tang_volume, custom_volume]
        if minor >= 5:
            storage["luks"].append(
                {
                    "name": "cex-crypt",
                    "device": "/dev/disk/by-partlabel/cex",
                    "cex": {"enabled": True},
                }
            )

    user: Json = {
        "name": "core",
        "passwordHash": "$y$j9T$abcdefghijklmnop$0123456789abcdefghijklmnopqrstuvwxyzABCDE",
        "sshAuthorizedKeys": [
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample core@example"
        ],
        "uid": 1000,
        "gecos": "CoreOS Admin",
        "homeDir": "/var/home/core",
        "noCreateHome": False,
        "primaryGroup": "core",
        "groups": ["wheel", "sudo"],
        "noUserGroup": True,
        "noLogInit": True,
        "shell": "/bin/bash",
        "system": False,
    }
    group: Json = {"name": "app", "gid": 2000, "passwordHash": "!", "system": True}
    if minor >= 2:
        user["shouldExist"] = True
        group["shouldExist"] = True

    config: Json = {
        "ignition": ignition,
        "storage": storage,
        "systemd": {
            "units": [
                {
                    "name": "app.service",
                    "enabled": True,
                    "mask": False,
                    "contents": (
                        "[Service]\nExecStart=/usr/bin/app\n\n[Install]\nWantedBy=multi-user.target\n"
                    ),
                    "dropins": [
                        {
                            "name": "10-env.conf",
                            "contents": "[Service]\nEnvironment=A=1\n",
                        }
                    ],
                }
            ]
        },
        "passwd": {"users": [user], "groups": [group]},
    }
    if minor >= 3:
        config["kernelArguments"] = {
            "shouldExist": [
                "console=ttyS0,115200n8",
                "systemd.unified_cgroup_hierarchy=1",
            ],
            "shouldNotExist": ["mitigations=off"],
        }
    return config


def realistic_configs(minor: int) -> list[Json]:
    v = version(minor)
    return [
        {"ignition": {"version": v}},
        {
            "ignition": {"version": v},
            "passwd": {
                "users": [
                    {
                        "name": "core",
                        "sshAuthorizedKeys": ["ssh-rsa AAAAB3Nza core@host"],
                    }
                ]
            },
            "systemd": {
                "units": [
                    {"name": "docker.service", "enabled": True},
                    {"name": "zincati.service", "mask": True},
                ]
            },
        },
        {
            "ignition": {"version": v, "timeouts": {"httpTotal": 30}},
            "storage": {
                "files": [
                    {
                        "path": "/etc/hostname",
                        "mode": 420,
                        "overwrite": True,
                        "contents": {"source": "data:,node01%0A"},
                    }
                ],
                "links": [{"path": "/etc/alt", "target": "/usr/lib/alt", "hard": True}],
            },
            "unknownTopLevelKey": {"kept": "for the unused-key pass"},
        },
        {
            # Go's encoding/json accepts null for any field.
            "ignition": {"version": v, "config": None, "security": {"tls": None}},
            "storage": {
                "files": [{"path": "/x", "contents": {"source": None}, "mode": None}]
            },
            "passwd": None,
            "systemd": {"units": None},
        },
    ]


def wrong_value_for(types: list[str]) -> Any:
    kind = next(t for t in types if t != "null")
    return {"string": 7, "integer": "7", "boolean": "true", "array": {}, "object": []}[
        kind
    ]


# ---------------------------------------------------------------------------
# (a) the schemas themselves


@pytest.mark.parametrize("minor", MINORS)
def test_schema_is_valid_draft_2020_12(minor: int) -> None:
    schema = load_schema(minor)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://ignition-py/schema/v3_{minor}.json"
    assert version(minor) in schema["title"]


@pytest.mark.parametrize("minor", MINORS)
def test_schema_structure_rules(minor: int) -> None:
    schema = load_schema(minor)
    # Only ignition and ignition.version are required.
    assert schema["required"] == ["ignition"]
    assert schema["properties"]["ignition"]["required"] == ["version"]
    nodes = list(schema_nodes(schema))
    assert sum("required" in n for n in nodes) == 2
    forbidden = {
        "additionalProperties",
        "enum",
        "const",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "minItems",
        "uniqueItems",
        "allOf",
        "anyOf",
        "oneOf",
    }
    for node in nodes:
        assert not forbidden & node.keys(), sorted(forbidden & node.keys())
        if "$ref" in node:
            # self-contained: only local $defs references
            assert node["$ref"].startswith("#/$defs/")
            assert node["$ref"].removeprefix("#/$defs/") in schema["$defs"]


@pytest.mark.parametrize("minor", MINORS)
def test_every_field_is_nullable_typed_and_described(minor: int) -> None:
    for path, node in schema_fields(load_schema(minor)).items():
        assert isinstance(node.get("type"), list), path
        assert "null" in node["type"] and len(node["type"]) == 2, path
        assert node["type"][0] in {"string", "integer", "boolean", "array", "object"}, (
            path
        )
    # Descriptions sit on the property itself (next to any $ref).
    schema = load_schema(minor)

    def check(node: Json, path: str) -> None:
        for key, sub in node.get("properties", {}).items():
            desc = sub.get("description")
            assert isinstance(desc, str) and desc and "\n" not in desc, f"{path}.{key}"
            check(resolve(schema, sub), f"{path}.{key}")
        if "items" in node:
            check(resolve(schema, node["items"]), path + "[]")

    check(schema, "$")


@pytest.mark.parametrize("minor", MINORS)
def test_field_count_matches_documentation(minor: int) -> None:
    assert len(known_paths(minor)) == DOCUMENTED_FIELD_COUNTS[minor]


# ---------------------------------------------------------------------------
# (b) valid configs


@pytest.mark.parametrize("minor", MINORS)
def test_full_config_is_valid_and_uses_every_field(minor: int) -> None:
    config = full_config(minor)
    assert error_paths(minor, config) == []
    assert instance_paths(config) == known_paths(minor)


@pytest.mark.parametrize("minor", MINORS)
def test_realistic_configs_are_valid(minor: int) -> None:
    for config in realistic_configs(minor):
        assert error_paths(minor, config) == [], config


@pytest.mark.parametrize("minor", MINORS)
def test_null_is_accepted_for_every_field(minor: int) -> None:
    v = validator(minor)
    for path in known_paths(minor):
        config: Json = {"ignition": {"version": version(minor)}}
        set_path(config, path, None)
        errors = [e.message for e in v.iter_errors(config)]
        assert errors == [], (path, errors)


@pytest.mark.parametrize("minor", MINORS)
def test_null_list_items_are_accepted(minor: int) -> None:
    config: Json = {
        "ignition": {"version": version(minor), "config": {"merge": [None]}},
        "storage": {"files": [None], "raid": [{"name": "md", "devices": [None]}]},
        "passwd": {"users": [{"name": "core", "sshAuthorizedKeys": [None]}]},
    }
    assert error_paths(minor, config) == []


def test_later_fields_are_not_errors_in_earlier_schemas() -> None:
    # Unknown keys are not schema errors (they are warnings from another pass).
    for minor in MINORS:
        for earlier in range(minor):
            config = full_config(minor)
            config["ignition"]["version"] = version(earlier)
            assert error_paths(earlier, config) == [], (minor, earlier)


# ---------------------------------------------------------------------------
# (c) type errors


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda c: c["storage"]["files"][0].__setitem__("mode", "0644"),
            "$.storage.files[0].mode",
        ),
        (
            lambda c: c["storage"]["files"][0].__setitem__("mode", True),
            "$.storage.files[0].mode",
        ),
        (
            lambda c: c["storage"]["files"][0].__setitem__("mode", 420.5),
            "$.storage.files[0].mode",
        ),
        (
            lambda c: c["passwd"].__setitem__("users", {"name": "core"}),
            "$.passwd.users",
        ),
        (lambda c: c["ignition"].pop("version"), "$.ignition"),
        (lambda c: c.pop("ignition"), "$"),
        (lambda c: c["ignition"].__setitem__("version", 3.0), "$.ignition.version"),
        (
            lambda c: c["ignition"]["timeouts"].__setitem__("httpTotal", "10"),
            "$.ignition.timeouts.httpTotal",
        ),
        (
            lambda c: c["passwd"]["users"][0]["sshAuthorizedKeys"].append(42),
            "$.passwd.users[0].sshAuthorizedKeys[1]",
        ),
        (
            lambda c: c["passwd"]["users"][0].__setitem__("groups", "wheel"),
            "$.passwd.users[0].groups",
        ),
        (
            lambda c: c["storage"]["disks"][0].__setitem__("wipeTable", "yes"),
            "$.storage.disks[0].wipeTable",
        ),
        (
            lambda c: c["storage"]["disks"][0]["partitions"][0].__setitem__(
                "number", "4"
            ),
            "$.storage.disks[0].partitions[0].number",
        ),
        (
            lambda c: c["storage"].__setitem__("files", {"path": "/x"}),
            "$.storage.files",
        ),
        (
            lambda c: c["storage"]["files"][0].__setitem__("contents", "data:,x"),
            "$.storage.files[0].contents",
        ),
        (
            lambda c: c["storage"]["files"][0].__setitem__("user", 0),
            "$.storage.files[0].user",
        ),
        (lambda c: c["systemd"]["units"].append("foo.service"), "$.systemd.units[1]"),
        (
            lambda c: c["systemd"]["units"][0].__setitem__("dropins", [[]]),
            "$.systemd.units[0].dropins[0]",
        ),
        (
            lambda c: c["ignition"]["config"]["merge"][0].__setitem__(
                "verification", "sha512-00"
            ),
            "$.ignition.config.merge[0].verification",
        ),
    ],
)
@pytest.mark.parametrize("minor", MINORS)
def test_type_errors_are_reported_at_their_path(
    minor: int, mutate: Any, expected: str
) -> None:
    config = copy.deepcopy(full_config(minor))
    mutate(config)
    assert error_paths(minor, config) == [expected]


@pytest.mark.parametrize("minor", MINORS)
def test_wrong_type_for_every_field_is_rejected(minor: int) -> None:
    v = validator(minor)
    for path, node in schema_fields(load_schema(minor)).items():
        config: Json = {"ignition": {"version": version(minor)}}
        set_path(config, path, wrong_value_for(node["type"]))
        paths = [e.json_path for e in v.iter_errors(config)]
        assert paths == [json_path(path)], (path, paths)


@pytest.mark.parametrize("minor", MINORS)
def test_top_level_must_be_an_object(minor: int) -> None:
    v = validator(minor)
    not_objects: list[Any] = [[], "config", 3, None]
    for doc in not_objects:
        assert not v.is_valid(doc)


@pytest.mark.parametrize("minor", range(1, 7))
def test_http_header_types(minor: int) -> None:
    config = full_config(minor)
    config["storage"]["files"][0]["contents"]["httpHeaders"] = [
        {"name": 1, "value": ["x"]}
    ]
    assert error_paths(minor, config) == [
        "$.storage.files[0].contents.httpHeaders[0].name",
        "$.storage.files[0].contents.httpHeaders[0].value",
    ]


@pytest.mark.parametrize("minor", range(2, 7))
def test_luks_types(minor: int) -> None:
    config = full_config(minor)
    luks = config["storage"]["luks"][0]
    luks["clevis"]["threshold"] = "2"
    luks["clevis"]["tang"] = {"url": "https://tang"}
    luks["keyFile"] = "https://example.com/key"
    assert error_paths(minor, config) == [
        "$.storage.luks[0].clevis.tang",
        "$.storage.luks[0].clevis.threshold",
        "$.storage.luks[0].keyFile",
    ]


# ---------------------------------------------------------------------------
# (d) version gating of fields


@pytest.mark.parametrize("minor", range(1, 7))
def test_fields_added_per_version(minor: int) -> None:
    before, after = known_paths(minor - 1), known_paths(minor)
    assert after - before == ADDED[minor]
    assert before <= after


FIELD_INTRODUCED = [
    ("ignition.proxy", 1),
    ("ignition.proxy.noProxy", 1),
    ("ignition.config.merge[].httpHeaders", 1),
    ("ignition.config.replace.compression", 1),
    ("ignition.security.tls.certificateAuthorities[].httpHeaders[].value", 1),
    ("storage.files[].contents.httpHeaders", 1),
    ("storage.files[].append[].httpHeaders[].name", 1),
    ("storage.filesystems[].mountOptions", 1),
    ("storage.disks[].partitions[].resize", 2),
    ("storage.luks", 2),
    ("storage.luks[].keyFile.httpHeaders", 2),
    ("storage.luks[].clevis.custom.needsNetwork", 2),
    ("passwd.users[].shouldExist", 2),
    ("passwd.groups[].shouldExist", 2),
    ("kernelArguments", 3),
    ("kernelArguments.shouldNotExist", 3),
    ("storage.luks[].discard", 4),
    ("storage.luks[].openOptions", 4),
    ("storage.luks[].clevis.tang[].advertisement", 4),
    ("storage.luks[].cex", 5),
    ("storage.luks[].cex.enabled", 5),
]


@pytest.mark.parametrize(("path", "since"), FIELD_INTRODUCED)
def test_field_unknown_before_its_version(path: str, since: int) -> None:
    for minor in MINORS:
        assert (path in known_paths(minor)) == (minor >= since), (path, minor)


def test_3_0_reference_objects() -> None:
    fields = known_paths(0)
    for ref in (
        "ignition.config.merge[]",
        "ignition.config.replace",
        "ignition.security.tls.certificateAuthorities[]",
    ):
        assert {p for p in fields if p.startswith(ref + ".")} == {
            f"{ref}.source",
            f"{ref}.verification",
            f"{ref}.verification.hash",
        }
    for ref in ("storage.files[].contents", "storage.files[].append[]"):
        assert {p for p in fields if p.startswith(ref + ".")} == {
            f"{ref}.compression",
            f"{ref}.source",
            f"{ref}.verification",
            f"{ref}.verification.hash",
        }


def test_3_5_and_3_6_have_the_same_fields() -> None:
    assert known_paths(5) == known_paths(6)
    s5, s6 = load_schema(5), load_schema(6)
    assert s5["properties"] == s6["properties"]
    assert s5["$defs"] == s6["$defs"]
