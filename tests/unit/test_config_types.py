import copy
import dataclasses
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ignition.config.codec import json_fields
from ignition.config.types import (
    Config,
    Directory,
    File,
    HTTPHeader,
    Ignition,
    Partition,
    Resource,
    Storage,
    config_from_dict,
    config_to_dict,
)

RES: dict[str, Any] = {
    "source": "https://example.com/x",
    "compression": "gzip",
    "httpHeaders": [{"name": "A", "value": "1"}, {"name": "B"}],
    "verification": {"hash": "sha256-" + "0" * 64},
}
OWNER: dict[str, Any] = {"user": {"id": 1, "name": "u"}, "group": {"id": 2, "name": "g"}}

# Every field of spec 3.6.0 (configuration-v3_6.md) set at least once.
FULL: dict[str, Any] = {
    "ignition": {
        "version": "3.6.0",
        "config": {"merge": [RES], "replace": RES},
        "timeouts": {"httpResponseHeaders": 5, "httpTotal": 60},
        "security": {"tls": {"certificateAuthorities": [RES]}},
        "proxy": {
            "httpProxy": "http://p:3128",
            "httpsProxy": "https://p:3129",
            "noProxy": ["10.0.0.0/8", ".local"],
        },
    },
    "storage": {
        "disks": [
            {
                "device": "/dev/vda",
                "wipeTable": False,
                "partitions": [
                    {
                        "label": "root",
                        "number": 1,
                        "sizeMiB": 0,
                        "startMiB": 1,
                        "typeGuid": "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
                        "guid": "8A64E0DB-3FBE-4F1B-A2F6-60D0C3BB4E50",
                        "wipePartitionEntry": True,
                        "shouldExist": True,
                        "resize": False,
                    }
                ],
            }
        ],
        "raid": [
            {
                "name": "md0",
                "level": "raid1",
                "devices": ["/dev/vdb", "/dev/vdc"],
                "spares": 0,
                "options": ["--metadata=1.2"],
            }
        ],
        "filesystems": [
            {
                "device": "/dev/md/md0",
                "format": "ext4",
                "path": "/var",
                "wipeFilesystem": True,
                "label": "var",
                "uuid": "2f1c8c9e-1b1e-4b8e-9d3a-0f4b2c1d5e6f",
                "options": ["-E", "lazy_itable_init=0"],
                "mountOptions": ["noatime"],
            }
        ],
        "files": [
            {
                "path": "/etc/motd",
                "overwrite": True,
                **OWNER,
                "contents": RES,
                "append": [RES, {"source": "data:,tail"}],
                "mode": 0o4755,
            }
        ],
        "directories": [{"path": "/srv", "overwrite": False, **OWNER, "mode": 0o1777}],
        "links": [{"path": "/etc/l", "overwrite": True, **OWNER, "target": "/srv", "hard": False}],
        "luks": [
            {
                "name": "data",
                "device": "/dev/vdd",
                "keyFile": RES,
                "label": "data",
                "uuid": "11111111-2222-3333-4444-555555555555",
                "options": ["--cipher", "aes-xts-plain64"],
                "discard": True,
                "openOptions": ["--perf-no_read_workqueue"],
                "wipeVolume": True,
                "clevis": {
                    "tang": [{"url": "http://tang", "thumbprint": "t", "advertisement": "{}"}],
                    "tpm2": True,
                    "threshold": 2,
                    "custom": {"pin": "sss", "config": "{}", "needsNetwork": True},
                },
                "cex": {"enabled": False},
            }
        ],
    },
    "systemd": {
        "units": [
            {
                "name": "a.service",
                "enabled": True,
                "mask": False,
                "contents": "[Service]\n",
                "dropins": [{"name": "x.conf", "contents": "[Unit]\n"}],
            }
        ]
    },
    "passwd": {
        "users": [
            {
                "name": "core",
                "passwordHash": "$6$x",
                "sshAuthorizedKeys": ["ssh-ed25519 AAAA"],
                "uid": 1000,
                "gecos": "Core",
                "homeDir": "/home/core",
                "noCreateHome": False,
                "primaryGroup": "core",
                "groups": ["wheel"],
                "noUserGroup": False,
                "noLogInit": True,
                "shell": "/bin/bash",
                "shouldExist": True,
                "system": False,
            }
        ],
        "groups": [
            {"name": "g", "gid": 5, "passwordHash": "x", "shouldExist": False, "system": True}
        ],
    },
    "kernelArguments": {"shouldExist": ["quiet"], "shouldNotExist": ["rhgb"]},
}


def _type_paths(cls: type, prefix: str = "") -> set[str]:
    out = set()
    for jf in json_fields(cls):
        p = prefix + jf.json + ("[]" if jf.is_list else "")
        out.add(p)
        if dataclasses.is_dataclass(jf.type):
            out |= _type_paths(jf.type, p + ".")
    return out


def _dict_paths(node: Any, prefix: str = "") -> set[str]:
    out = set()
    for k, v in node.items():
        p = prefix + k + ("[]" if isinstance(v, list) else "")
        out.add(p)
        for item in v if isinstance(v, list) else [v]:
            if isinstance(item, dict):
                out |= _dict_paths(item, p + ".")
    return out


def test_full_config_uses_every_field_of_the_types() -> None:
    assert _dict_paths(FULL) == _type_paths(Config)
    # 176 field bullets in configuration-v3_6.md
    assert len(_type_paths(Config)) == 176


def test_full_config_round_trips() -> None:
    cfg = config_from_dict(FULL)
    assert config_to_dict(cfg) == FULL
    assert config_to_dict(config_from_dict(json.loads(json.dumps(config_to_dict(cfg))))) == FULL


def test_attributes_are_snake_case_with_spec_json_names() -> None:
    cfg = config_from_dict(FULL)
    part = cfg.storage.disks[0].partitions[0]
    assert (part.start_mib, part.size_mib) == (1, 0)
    assert part.type_guid == "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
    assert cfg.storage.disks[0].wipe_table is False
    assert cfg.storage.files[0].contents.http_headers == (
        HTTPHeader(name="A", value="1"),
        HTTPHeader(name="B", value=None),
    )
    assert cfg.storage.files[0].mode == 0o4755
    assert cfg.storage.filesystems[0].mount_options == ("noatime",)
    assert cfg.passwd.users[0].ssh_authorized_keys == ("ssh-ed25519 AAAA",)
    assert cfg.kernel_arguments.should_not_exist == ("rhgb",)
    assert cfg.ignition.timeouts.http_response_headers == 5
    assert cfg.storage.luks[0].clevis.custom.needs_network is True
    assert cfg.storage.luks[0].key_file.verification.hash == RES["verification"]["hash"]
    names = {jf.attr: jf.json for jf in json_fields(Partition)}
    assert names["start_mib"] == "startMiB" and names["size_mib"] == "sizeMiB"


def test_unset_is_none_and_set_false_or_zero_is_kept() -> None:
    cfg = config_from_dict(
        {
            "ignition": {"version": "3.6.0"},
            "storage": {
                "files": [{"path": "/a"}, {"path": "/b", "overwrite": False, "mode": 0}],
                "directories": [{"path": "/d", "mode": None}],
            },
        }
    )
    a, b = cfg.storage.files
    assert (a.mode, a.overwrite, a.contents.source, a.user.id) == (None, None, None, None)
    assert a.append == () and a.contents == Resource()
    assert (b.mode, b.overwrite) == (0, False)
    assert cfg.storage.directories[0] == Directory(path="/d")
    assert config_to_dict(cfg)["storage"] == {
        "files": [{"path": "/a"}, {"path": "/b", "overwrite": False, "mode": 0}],
        "directories": [{"path": "/d"}],
    }


def test_empty_lists_and_objects_are_omitted_and_unknown_keys_ignored() -> None:
    cfg = config_from_dict(
        {
            "ignition": {"version": "3.6.0", "config": {"merge": []}, "futureKey": 1},
            "storage": {"files": [], "disks": None},
            "systemd": {},
            "passwd": None,
        }
    )
    assert cfg == Config(ignition=Ignition(version="3.6.0"))
    assert config_to_dict(cfg) == {"ignition": {"version": "3.6.0"}}


def test_values_are_frozen_tuples_and_hashable() -> None:
    cfg = config_from_dict(FULL)
    assert isinstance(cfg.storage.files, tuple)
    assert isinstance(cfg.ignition.proxy.no_proxy, tuple)
    with pytest.raises(AttributeError):
        cfg.storage.files.append(File(path="/x"))  # type: ignore[attr-defined]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.storage = Storage()  # type: ignore[misc]
    with pytest.raises(TypeError):
        cfg.passwd.users[0].groups[0] = "root"  # type: ignore[index]
    assert not hasattr(File(path="/x"), "__dict__")
    assert hash(cfg) == hash(config_from_dict(copy.deepcopy(FULL)))


def test_input_is_not_mutated_and_output_is_fresh() -> None:
    data = copy.deepcopy(FULL)
    cfg = config_from_dict(data)
    assert data == FULL
    out = config_to_dict(cfg)
    out["storage"]["files"].clear()
    assert len(config_to_dict(cfg)["storage"]["files"]) == 1


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"ignition": {"version": "3.6.0"}, "storage": {"files": [{"path": "/a", "mode": True}]}},
         "$.storage.files.0.mode"),
        ({"ignition": {"version": "3.6.0"}, "storage": {"files": [{"mode": 420}]}},
         "$.storage.files.0.path"),
        ({"ignition": {"version": "3.6.0"}, "storage": {"disks": {"device": "/dev/vda"}}},
         "$.storage.disks"),
        ({"ignition": {"version": 3}}, "$.ignition.version"),
        ({}, "$.ignition"),
    ],
)
def test_shape_errors_name_the_json_path(data: dict[str, Any], where: str) -> None:
    with pytest.raises(TypeError, match="^" + re.escape(where) + ": "):
        config_from_dict(data)


# Random configs without nulls or empty lists, built from the types
# themselves, so a field added to types.py is covered without touching this test.
_SCALAR_STRATEGIES: dict[type, st.SearchStrategy[Any]] = {
    str: st.text(max_size=5),
    int: st.integers(min_value=-(2**31), max_value=2**31),
    bool: st.booleans(),
}


def _obj(cls: type) -> st.SearchStrategy[dict[str, Any]]:
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for jf in json_fields(cls):
        one = _obj(jf.type) if dataclasses.is_dataclass(jf.type) else (
            _SCALAR_STRATEGIES[jf.type])
        strat = st.lists(one, min_size=1, max_size=2) if jf.is_list else one
        (required if jf.required else optional)[jf.json] = strat
    return st.fixed_dictionaries(required, optional=optional)


@given(_obj(Config))
def test_random_normalized_configs_round_trip(data: dict[str, Any]) -> None:
    assert config_to_dict(config_from_dict(data)) == _drop_empty(data)


def _drop_empty(node: Any) -> Any:
    # an object whose every field is unset equals its default and is left out
    if isinstance(node, dict):
        kept = {k: _drop_empty(v) for k, v in node.items()}
        return {k: v for k, v in kept.items() if v != {}}
    if isinstance(node, list):
        return [_drop_empty(v) for v in node]
    return node
