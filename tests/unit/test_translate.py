import copy
import dataclasses
from typing import Any

import pytest

from ignition.config.translate import TranslationWarning, translate_to_latest
from ignition.config.types import config_from_dict

OLD_VERSIONS = ["3.0.0", "3.1.0", "3.2.0", "3.3.0", "3.4.0", "3.5.0"]
HASH = "sha512-" + "a" * 128


def _v30() -> dict[str, Any]:
    """Every kind of 3.0.0 field, including the three reference types 3.1 folded into
    Resource."""
    return {
        "ignition": {
            "version": "3.0.0",
            "config": {
                "merge": [{"source": "http://h/m.ign", "verification": {"hash": HASH}}],
                "replace": {"source": "http://h/r.ign"},
            },
            "timeouts": {"httpResponseHeaders": 3, "httpTotal": 9},
            "security": {"tls": {"certificateAuthorities": [{"source": "data:,ca"}]}},
        },
        "storage": {
            "disks": [{"device": "/dev/vda", "wipeTable": True, "partitions": [
                {"label": "p", "number": 1, "sizeMiB": 10, "startMiB": 1, "typeGuid": "t",
                 "guid": "g", "wipePartitionEntry": False, "shouldExist": True}]}],
            "raid": [{"name": "md0", "level": "raid1", "devices": ["/dev/vdb"], "spares": 0}],
            "filesystems": [{"device": "/dev/vda1", "format": "ext4", "path": "/var",
                             "wipeFilesystem": True, "label": "l", "options": ["-q"]}],
            "files": [
                {"path": "/etc/a", "mode": 0o644, "overwrite": True, "user": {"id": 0},
                 "contents": {"source": "data:,a", "compression": None,
                              "verification": {"hash": HASH}},
                 "append": [{"source": "data:,b"}]},
                {"path": "/usr/bin/suid", "mode": 0o4755, "contents": {"source": "data:,x"}},
            ],
            "directories": [{"path": "/tmp2", "mode": 0o1777, "group": {"name": "root"}},
                            {"path": "/srv", "mode": 0o755}],
            "links": [{"path": "/etc/l", "target": "/srv", "hard": False}],
        },
        "systemd": {"units": [{"name": "a.service", "enabled": True, "contents": "[Unit]\n",
                               "dropins": [{"name": "d.conf", "contents": "[Unit]\n"}]}]},
        "passwd": {"users": [{"name": "core", "sshAuthorizedKeys": ["k"], "groups": ["wheel"]}],
                   "groups": [{"name": "g", "gid": 9}]},
    }


def _additions(version: str) -> list[tuple[tuple[str | int, ...], Any]]:
    """(path, value) of fields that appeared in `version`, set on the 3.0 sample."""
    added: dict[str, list[tuple[tuple[str | int, ...], Any]]] = {
        "3.1.0": [
            (("ignition", "proxy"), {"httpProxy": "http://p", "noProxy": ["x"]}),
            (("ignition", "config", "merge", 0, "httpHeaders"), [{"name": "A", "value": "1"}]),
            (("ignition", "config", "replace", "compression"), "gzip"),
            (("storage", "files", 0, "append", 0, "httpHeaders"), [{"name": "B"}]),
            (("storage", "filesystems", 0, "mountOptions"), ["noatime"]),
        ],
        "3.2.0": [
            (("storage", "disks", 0, "partitions", 0, "resize"), True),
            (("storage", "luks"), [{
                "name": "data", "device": "/dev/vdc", "keyFile": {"source": "data:,k"},
                "wipeVolume": True,
                "clevis": {"tang": [{"url": "http://t", "thumbprint": "tp"}], "tpm2": True,
                           "threshold": 2}}]),
            (("passwd", "users", 0, "shouldExist"), True),
            (("passwd", "groups", 0, "shouldExist"), False),
        ],
        "3.3.0": [(("kernelArguments",), {"shouldExist": ["a"], "shouldNotExist": ["b"]})],
        "3.4.0": [
            (("storage", "luks", 0, "discard"), True),
            (("storage", "luks", 0, "openOptions"), ["--allow-discards"]),
            (("storage", "luks", 0, "clevis", "tang", 0, "advertisement"), "{}"),
        ],
        "3.5.0": [(("storage", "luks", 0, "cex"), {"enabled": False})],
        "3.6.0": [],
    }
    return added[version]


def _set(d: dict[str, Any], path: tuple[str | int, ...], value: Any) -> None:
    node: Any = d
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def _get(d: dict[str, Any], path: tuple[str | int, ...]) -> Any:
    node: Any = d
    for key in path:
        node = node[key]
    return node


def _sample(version: str) -> dict[str, Any]:
    """The 3.0 sample plus every field added up to and including `version`."""
    d = _v30()
    for v in OLD_VERSIONS[1:] + ["3.6.0"]:
        if v > version:
            break
        for path, value in _additions(v):
            _set(d, path, value)
    d["ignition"]["version"] = version
    return d


@pytest.mark.parametrize("version", OLD_VERSIONS)
def test_old_version_translates_to_expected_3_6(version: str) -> None:
    expected = _sample(version)
    expected["ignition"]["version"] = "3.6.0"
    expected["storage"]["files"][1]["mode"] = 0o755
    expected["storage"]["directories"][0]["mode"] = 0o777

    out, warnings = translate_to_latest(_sample(version), version)

    assert out == expected
    assert len(warnings) == 2
    config_from_dict(out)


def test_3_0_translation_literally() -> None:
    out, _ = translate_to_latest(_v30(), "3.0.0")
    assert out["ignition"] == {
        "version": "3.6.0",
        "config": {
            "merge": [{"source": "http://h/m.ign", "verification": {"hash": HASH}}],
            "replace": {"source": "http://h/r.ign"},
        },
        "timeouts": {"httpResponseHeaders": 3, "httpTotal": 9},
        "security": {"tls": {"certificateAuthorities": [{"source": "data:,ca"}]}},
    }
    assert out["storage"]["files"][0]["contents"] == {
        "source": "data:,a", "compression": None, "verification": {"hash": HASH}}
    assert out["storage"]["files"][0]["append"] == [{"source": "data:,b"}]


@pytest.mark.parametrize("version", OLD_VERSIONS)
def test_fields_the_source_version_lacks_are_dropped(version: str) -> None:
    # Ignition reads a config into its own version's structs, so a later spec's field in an
    # older config is only an "unused key": it must not start acting after translation.
    config = _sample("3.6.0")
    config["ignition"]["version"] = version

    out, _ = translate_to_latest(config, version)

    later = [v for v in OLD_VERSIONS[1:] + ["3.6.0"] if v > version]
    for v in later:
        for path, _value in _additions(v):
            parent = path[:-1]
            try:
                container = _get(out, parent)
            except (KeyError, IndexError):
                continue  # the whole parent went with an even newer or older section
            assert path[-1] not in container, (v, path)
    for v in OLD_VERSIONS[1:]:
        if v <= version:
            for path, _value in _additions(v):
                assert path[-1] in _get(out, path[:-1]), (v, path)


def test_partial_luks_kept_when_only_newer_luks_fields_drop() -> None:
    config = _sample("3.5.0")
    config["ignition"]["version"] = "3.3.0"
    out, _ = translate_to_latest(config, "3.3.0")
    assert out["storage"]["luks"] == [{
        "name": "data", "device": "/dev/vdc", "keyFile": {"source": "data:,k"},
        "wipeVolume": True,
        "clevis": {"tang": [{"url": "http://t", "thumbprint": "tp"}], "tpm2": True,
                   "threshold": 2}}]


@pytest.mark.parametrize("version", OLD_VERSIONS)
def test_special_mode_bits_are_masked_with_a_warning_per_entry(version: str) -> None:
    _, warnings = translate_to_latest(_sample(version), version)
    assert warnings == [
        TranslationWarning(
            "$.storage.files.1.mode",
            f"mode 0o4755 has special bits that spec {version} ignores; they are dropped "
            "(use spec 3.6.0 to keep them)",
        ),
        TranslationWarning(
            "$.storage.directories.0.mode",
            f"mode 0o1777 has special bits that spec {version} ignores; they are dropped "
            "(use spec 3.6.0 to keep them)",
        ),
    ]


def test_3_6_keeps_special_mode_bits_and_everything_else() -> None:
    config = _sample("3.6.0")
    out, warnings = translate_to_latest(config, "3.6.0")
    assert warnings == []
    assert out == config
    assert out["storage"]["files"][1]["mode"] == 0o4755
    assert out["storage"]["directories"][0]["mode"] == 0o1777


@pytest.mark.parametrize("version", [*OLD_VERSIONS, "3.6.0"])
def test_input_is_not_mutated_nor_shared(version: str) -> None:
    config = _sample(version)
    before = copy.deepcopy(config)
    out, _ = translate_to_latest(config, version)
    assert config == before
    out["storage"]["files"][0]["contents"]["source"] = "changed"
    out["ignition"]["config"]["merge"].clear()
    assert config == before


def test_absent_and_null_sections_are_fine() -> None:
    out, warnings = translate_to_latest(
        {"ignition": {"version": "3.0.0", "config": None}, "storage": None}, "3.0.0")
    assert out == {"ignition": {"version": "3.6.0", "config": None}, "storage": None}
    assert warnings == []
    out, _ = translate_to_latest(
        {"ignition": {"version": "3.5.0"}, "storage": {"files": [{"path": "/a", "mode": None}]}},
        "3.5.0")
    assert out["storage"]["files"] == [{"path": "/a", "mode": None}]


@pytest.mark.parametrize("version", ["2.3.0", "3.7.0-experimental", "3.6.0-experimental", "3.1"])
def test_unsupported_versions_are_rejected(version: str) -> None:
    with pytest.raises(ValueError, match="cannot translate config version"):
        translate_to_latest({"ignition": {"version": version}}, version)


def test_warning_is_frozen() -> None:
    w = TranslationWarning("$.a", "m")
    with pytest.raises(dataclasses.FrozenInstanceError):
        w.path = "$.b"  # type: ignore[misc]
