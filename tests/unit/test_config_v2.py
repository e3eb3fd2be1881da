"""Container Linux era configs (spec 2.0.0-2.4.0) translated to spec 3.1.0.

Every translation that succeeds is also fed to the real 3.1 parser (`parse`), which proves the
result is a valid spec 3.1 config and not just a dict of the right shape."""

from __future__ import annotations

import contextlib
import copy
import json
import random
from collections.abc import Mapping
from typing import Any

import pytest

from ignition.config.parse import parse
from ignition.config.v2 import V2_VERSIONS, V2Note, origin_path, schema_v2, translate_v2, translate_v2_traced
from ignition.errors import ConfigError

HASH = "sha512-" + "c6" * 64
UUID = "9d6e42cd-dcef-4177-b4c6-2a0c979e3d82"


def cfg(version: str = "2.2.0", **sections: Any) -> dict[str, Any]:
    return {"ignition": {"version": version}, **sections}


def ok(config: Mapping[str, Any], mapping: Mapping[str, str] | None = None) -> tuple[dict[str, Any], list[V2Note]]:
    """Translate, require no error, and require the result to parse as a valid 3.1 config."""
    out, notes = translate_v2(config, config["ignition"]["version"], mapping)
    assert [n for n in notes if n.kind == "error"] == [], notes
    parsed = parse(json.dumps(out).encode())
    assert parsed.version == "3.1.0"
    assert parsed.report.errors == []
    return out, notes


def errors(config: Mapping[str, Any], mapping: Mapping[str, str] | None = None) -> dict[str, str]:
    """JSON path -> message of every error; an untranslatable config yields no dict at all."""
    out, notes = translate_v2(config, config["ignition"]["version"], mapping)
    assert out == {}
    found = {n.json_path: n.message for n in notes if n.kind == "error"}
    assert found
    return found


def warnings(notes: list[V2Note]) -> dict[str, str]:
    return {n.json_path: n.message for n in notes if n.kind == "warning"}


def file(path: str, fs: str = "root", **kw: Any) -> dict[str, Any]:
    return {"filesystem": fs, "path": path, "mode": 420, **kw}


# --- versions and structure -------------------------------------------------------------------

@pytest.mark.parametrize("version", V2_VERSIONS)
def test_every_spec2_version_translates_to_31(version: str) -> None:
    out, notes = ok(cfg(version))
    assert out == {"ignition": {"version": "3.1.0"}}
    assert notes == []


@pytest.mark.parametrize("version", ["2.5.0-experimental", "2.3.0-experimental", "1.0.0", "3.0.0", "2.9.0"])
def test_unsupported_version_is_an_error_at_the_version(version: str) -> None:
    out, notes = translate_v2(cfg(version), version)
    assert out == {}
    assert [(n.kind, n.json_path) for n in notes] == [("error", "$.ignition.version")]
    assert "2.0.0, 2.1.0, 2.2.0, 2.3.0, 2.4.0" in notes[0].message


@pytest.mark.parametrize("version", V2_VERSIONS)
def test_schemas_are_draft_2020_12_and_nullable(version: str) -> None:
    schema = schema_v2(version)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["storage"]["type"] == ["object", "null"]
    assert "additionalProperties" not in json.dumps(schema)
    file_props = schema["$defs"]["file"]["properties"]
    assert ("append" in file_props) == (version >= "2.2.0")
    assert ("directories" in schema["properties"]["storage"]["properties"]) == (version >= "2.1.0")
    assert ("proxy" in schema["properties"]["ignition"]["properties"]) == (version == "2.4.0")


def test_wrong_type_is_an_error_with_the_original_path() -> None:
    found = errors(cfg(storage={"files": [{"filesystem": "root", "path": 5}]}))
    assert found == {"$.storage.files.0.path":
                     "must be a string, not an integer (Absolute path of the file within its filesystem.)"}


def test_missing_required_field_is_an_error() -> None:
    found = errors(cfg(storage={"files": [{"path": "/etc/x"}]}))
    assert found == {"$.storage.files.0.filesystem": "is required by spec 2.2.0: set it"}


def test_unknown_key_warns_and_a_field_newer_than_the_version_is_dropped() -> None:
    config = cfg("2.0.0", storage={"directories": [{"filesystem": "root", "path": "/srv"}],
                                   "files": [file("/etc/a", append=True, contents={"source": "data:,a"})]})
    out, notes = ok(config)
    assert set(warnings(notes)) == {"$.storage.directories", "$.storage.files.0.append"}
    assert "spec 2.0.0 has no such field" in warnings(notes)["$.storage.directories"]
    # 2.0.0 had no append: the entry replaces the file, as Ignition 2.0 did.
    assert out["storage"] == {"files": [{"path": "/etc/a", "overwrite": True, "mode": 420,
                                         "contents": {"source": "data:,a"}}]}


def test_nothing_raises_for_garbage() -> None:
    for data in ({"ignition": None}, {"ignition": {"version": "2.2.0"}, "storage": []},
                 {"ignition": {"version": "2.2.0"}, "passwd": {"users": [None, 3]}}):
        _, notes = translate_v2(data, "2.2.0")
        assert all(isinstance(n, V2Note) for n in notes)


def test_note_prints_kind_path_and_message() -> None:
    note = V2Note("error", ("storage", "files", 0, "path"), "bad")
    assert str(note) == "error at $.storage.files.0.path: bad"


# --- filesystems referenced by name -----------------------------------------------------------

def test_file_on_root_keeps_its_path() -> None:
    out, _ = ok(cfg(storage={"files": [file("/etc/hostname", contents={"source": "data:,core1"})]}))
    assert out["storage"]["files"][0]["path"] == "/etc/hostname"


def test_named_filesystem_with_mount_gets_the_mapped_path_and_prefixes_its_nodes() -> None:
    config = cfg("2.1.0", storage={
        "filesystems": [{"name": "data", "mount": {"device": "/dev/sdb1", "format": "xfs",
                                                    "wipeFilesystem": True, "label": "DATA"}}],
        "files": [file("/conf/app.ini", fs="data", contents={"source": "data:,x"})],
        "directories": [{"filesystem": "data", "path": "/cache/", "mode": 493}],
    })
    out, _ = ok(config, {"data": "/srv/data"})
    assert out["storage"]["filesystems"] == [{"device": "/dev/sdb1", "format": "xfs", "wipeFilesystem": True,
                                              "label": "DATA", "path": "/srv/data"}]
    assert out["storage"]["files"][0]["path"] == "/srv/data/conf/app.ini"
    assert out["storage"]["directories"] == [{"path": "/srv/data/cache", "mode": 493}]


def test_file_on_filesystem_without_mount_path_is_an_error_that_says_what_to_do() -> None:
    config = cfg(storage={
        "filesystems": [{"name": "data", "mount": {"device": "/dev/sdb1", "format": "ext4"}}],
        "files": [file("/x", fs="data")],
    })
    found = errors(config)
    assert list(found) == ["$.storage.files.0.filesystem"]
    assert "filesystem 'data' ($.storage.filesystems.0) has a mount but no mount path" in found[
        "$.storage.files.0.filesystem"]
    assert "give the filesystem a path" in found["$.storage.files.0.filesystem"]


def test_filesystem_no_file_refers_to_is_only_formatted() -> None:
    config = cfg(storage={"filesystems": [{"name": "docker", "mount": {
        "device": "/dev/sdb", "format": "btrfs", "wipeFilesystem": True}}]})
    out, _ = ok(config)
    assert out["storage"]["filesystems"] == [{"device": "/dev/sdb", "format": "btrfs", "wipeFilesystem": True}]


@pytest.mark.parametrize(("premounted", "expected"), [("/sysroot", "/etc/x"), ("/sysroot/", "/etc/x"),
                                                      ("/sysroot/var", "/var/etc/x")])
def test_premounted_filesystem_under_sysroot(premounted: str, expected: str) -> None:
    config = cfg(storage={"filesystems": [{"name": "sys", "path": premounted}],
                          "files": [file("/etc/x", fs="sys", contents={"source": "data:,"})]})
    out, _ = ok(config)
    assert out["storage"] == {"files": [{"path": expected, "overwrite": True, "mode": 420,
                                         "contents": {"source": "data:,"}}]}


def test_premounted_filesystem_outside_sysroot_is_an_error() -> None:
    config = cfg(storage={"filesystems": [{"name": "m", "path": "/mnt/stuff"}], "files": [file("/x", fs="m")]})
    found = errors(config)
    assert "is mounted at /mnt/stuff in the initramfs, outside the target root /sysroot" in found[
        "$.storage.files.0.filesystem"]


def test_oem_filesystem_defaults_to_usr_share_oem() -> None:
    config = cfg(storage={
        "filesystems": [{"name": "oem", "mount": {"device": "/dev/disk/by-label/OEM", "format": "ext4"}}],
        "files": [file("/grub.cfg", fs="oem", contents={"source": "data:,set%20linux_append%3D"})],
    })
    out, _ = ok(config)
    assert out["storage"]["filesystems"][0]["path"] == "/usr/share/oem"
    assert out["storage"]["files"][0]["path"] == "/usr/share/oem/grub.cfg"


def test_reformatted_root_is_formatted_but_not_mounted_and_files_stay_on_root() -> None:
    config = cfg(storage={
        "filesystems": [{"name": "root", "mount": {"device": "/dev/disk/by-label/ROOT", "format": "ext4",
                                                    "wipeFilesystem": True, "label": "ROOT"}}],
        "files": [file("/etc/x", contents={"source": "data:,1"})],
    })
    out, _ = ok(config, {"root": "/elsewhere"})
    assert out["storage"]["filesystems"] == [{"device": "/dev/disk/by-label/ROOT", "format": "ext4",
                                              "wipeFilesystem": True, "label": "ROOT"}]
    assert out["storage"]["files"][0]["path"] == "/etc/x"


def test_undefined_filesystem_name_is_an_error() -> None:
    found = errors(cfg(storage={"files": [file("/x", fs="nope")]}))
    assert found == {"$.storage.files.0.filesystem":
                     "no filesystem is named 'nope': define it in storage.filesystems or use root"}


def test_last_filesystem_with_a_name_wins() -> None:
    config = cfg(storage={"filesystems": [{"name": "d", "path": "/mnt"}, {"name": "d", "path": "/sysroot/d"}],
                          "files": [file("/f", fs="d")]})
    out, _ = ok(config)
    assert out["storage"]["files"][0]["path"] == "/d/f"


@pytest.mark.parametrize("fs", [{"name": "a"}, {"name": "a", "path": "/sysroot", "mount": {
    "device": "/dev/sdb", "format": "ext4"}}])
def test_filesystem_needs_exactly_one_of_mount_and_path(fs: dict[str, Any]) -> None:
    found = errors(cfg(storage={"filesystems": [fs]}))
    assert list(found) == ["$.storage.filesystems.0"]


def test_bad_mapping_is_reported_at_the_filesystem_name() -> None:
    config = cfg(storage={"filesystems": [{"name": "d", "mount": {"device": "/dev/sdb", "format": "ext4"}}]})
    found = errors(config, {"d": "relative/dir"})
    assert "must be absolute" in found["$.storage.filesystems.0.name"]


def test_mount_create_with_force_becomes_wipe_and_options() -> None:
    config = cfg("2.0.0", storage={"filesystems": [{"name": "var", "mount": {
        "device": "/dev/sdb1", "format": "xfs", "create": {"force": True, "options": ["-L", "var"]}}}]})
    out, _ = ok(config, {"var": "/var"})
    assert out["storage"]["filesystems"] == [{"device": "/dev/sdb1", "format": "xfs", "wipeFilesystem": True,
                                              "options": ["-L", "var"], "path": "/var"}]


def test_mount_create_without_force_cannot_be_translated() -> None:
    config = cfg("2.0.0", storage={"filesystems": [{"name": "var", "mount": {
        "device": "/dev/sdb1", "format": "xfs", "create": {"options": ["-f"]}}}]})
    found = errors(config, {"var": "/var"})
    assert "set create.force to true" in found["$.storage.filesystems.0.mount.create"]


def test_two_filesystems_on_one_device_is_an_error() -> None:
    mount = {"device": "/dev/sdb", "format": "ext4"}
    found = errors(cfg(storage={"filesystems": [{"name": "a", "mount": mount}, {"name": "b", "mount": mount}]}))
    assert "also used by $.storage.filesystems.0.mount" in found["$.storage.filesystems.1.mount.device"]


# --- files: overwrite, append, mode ------------------------------------------------------------

def test_overwrite_default_true_becomes_explicit_and_false_is_kept() -> None:
    config = cfg(storage={"files": [file("/a", contents={"source": "data:,a"}),
                                    file("/b", overwrite=False, contents={"source": "data:,b"})]})
    out, _ = ok(config)
    assert [f["overwrite"] for f in out["storage"]["files"]] == [True, False]


def test_file_without_contents_is_an_empty_file() -> None:
    out, _ = ok(cfg(storage={"files": [file("/etc/flag")]}))
    assert out["storage"]["files"] == [{"path": "/etc/flag", "overwrite": True, "mode": 420,
                                        "contents": {"source": ""}}]


def test_append_true_becomes_an_append_resource_without_overwrite() -> None:
    config = cfg(storage={"files": [file("/etc/profile.env", append=True, contents={
        "source": "data:,export%20A%3D1", "compression": "", "verification": {"hash": HASH}})]})
    out, _ = ok(config)
    assert out["storage"]["files"] == [{"path": "/etc/profile.env", "overwrite": False, "mode": 420,
                                        "append": [{"source": "data:,export%20A%3D1",
                                                    "verification": {"hash": HASH}}]}]


def test_append_with_overwrite_true_is_an_error() -> None:
    found = errors(cfg(storage={"files": [file("/a", append=True, overwrite=True)]}))
    assert "drop overwrite" in found["$.storage.files.0.overwrite"]


def test_several_entries_for_one_path_become_one_file_with_an_append_list() -> None:
    config = cfg(storage={"files": [
        file("/etc/motd", contents={"source": "data:,hello"}),
        {"filesystem": "root", "path": "/etc/motd", "append": True, "contents": {"source": "data:,world"}},
        {"filesystem": "root", "path": "/etc/motd", "append": True, "contents": {"source": "data:,!"}},
    ]})
    out, notes = ok(config)
    assert out["storage"]["files"] == [{"path": "/etc/motd", "overwrite": True, "mode": 420,
                                        "contents": {"source": "data:,hello"},
                                        "append": [{"source": "data:,world"}, {"source": "data:,!"}]}]
    assert warnings(notes) == {}


def test_later_append_entry_with_another_mode_wins_with_a_warning() -> None:
    config = cfg(storage={"files": [file("/a", append=True, contents={"source": "data:,1"}),
                                    file("/a", append=True, mode=384, contents={"source": "data:,2"})]})
    out, notes = ok(config)
    assert out["storage"]["files"][0]["mode"] == 384
    assert "Ignition 2 applied last" in warnings(notes)["$.storage.files.1.mode"]


def test_two_replacing_entries_for_one_path_is_an_error() -> None:
    found = errors(cfg(storage={"files": [file("/a"), file("/a")]}))
    assert found == {"$.storage.files.1.path": "/a is also declared by $.storage.files.0: spec 3 allows one "
                     "file, directory or link per path; remove one of them"}


def test_unset_mode_is_kept_unset_with_a_warning() -> None:
    out, notes = ok(cfg(storage={"files": [{"filesystem": "root", "path": "/a", "contents": {"source": "data:,"}}]}))
    assert "mode" not in out["storage"]["files"][0]
    assert "mode 0000" in warnings(notes)["$.storage.files.0"]


def test_unclean_path_is_cleaned_and_dotdot_is_an_error() -> None:
    out, _ = ok(cfg(storage={"files": [file("//etc/./x/", contents={"source": "data:,"})]}))
    assert out["storage"]["files"][0]["path"] == "/etc/x"
    found = errors(cfg(storage={"files": [file("/etc/../x")]}))
    assert "must not contain '..'" in found["$.storage.files.0.path"]


def test_relative_path_is_an_error() -> None:
    found = errors(cfg(storage={"files": [file("etc/x")]}))
    assert found == {"$.storage.files.0.path": "must be an absolute path (start with /)"}


# --- directories and links ----------------------------------------------------------------------

def test_links_keep_symlink_targets_and_prefix_hard_link_targets() -> None:
    config = cfg("2.1.0", storage={
        "filesystems": [{"name": "var", "mount": {"device": "/dev/sdb1", "format": "ext4"}}],
        "links": [{"filesystem": "var", "path": "/lib/soft", "target": "/etc/x"},
                  {"filesystem": "var", "path": "/lib/hard", "target": "/data/x", "hard": True,
                   "user": {"name": "core"}, "group": {"id": 500}}],
        "files": [file("/data/x", fs="var", contents={"source": "data:,"})],
    })
    out, _ = ok(config, {"var": "/var"})
    assert out["storage"]["links"] == [
        {"path": "/var/lib/soft", "target": "/etc/x"},
        {"path": "/var/lib/hard", "user": {"name": "core"}, "group": {"id": 500}, "hard": True,
         "target": "/var/data/x"},
    ]


def test_node_below_a_link_of_the_same_config_is_an_error() -> None:
    config = cfg(storage={"links": [{"filesystem": "root", "path": "/opt", "target": "/var/opt"}],
                          "files": [file("/opt/bin/tool")]})
    found = errors(config)
    assert "lies below the link /opt that this config creates ($.storage.links.0)" in found[
        "$.storage.files.0.path"]


def test_file_and_directory_at_one_path_is_an_error() -> None:
    config = cfg(storage={"files": [file("/srv")], "directories": [{"filesystem": "root", "path": "/srv"}]})
    found = errors(config)
    assert found == {"$.storage.directories.0.path": "/srv is also declared by $.storage.files.0: spec 3 "
                     "allows one file, directory or link per path; remove one of them"}


# --- networkd ------------------------------------------------------------------------------------

def test_networkd_units_become_files_under_etc_systemd_network() -> None:
    config = cfg("2.2.0", networkd={"units": [
        {"name": "00-eth.network", "contents": "[Match]\nType=!vlan bond bridge\nName=eth*\n\n[Network]\nBond=bond0",
         "dropins": [{"name": "dropin-1.conf", "contents": "[Match]\nName=bond0\n\n[Network]\nDHCP=true"}]},
        {"name": "99-eth.network", "contents": "[Match]\nName=eth12\n\n[Network]\nBond=bond0"},
    ]})
    out, _ = ok(config)
    # The data URLs are byte for byte those of Flatcar's converter test.
    assert out["storage"]["files"] == [
        {"path": "/etc/systemd/network/00-eth.network", "overwrite": True, "mode": 420, "contents": {
            "source": "data:,%5BMatch%5D%0AType=%21vlan%20bond%20bridge%0AName=eth%2A%0A%0A"
                      "%5BNetwork%5D%0ABond=bond0"}},
        {"path": "/etc/systemd/network/00-eth.network.d/dropin-1.conf", "overwrite": True, "mode": 420,
         "contents": {"source": "data:,%5BMatch%5D%0AName=bond0%0A%0A%5BNetwork%5D%0ADHCP=true"}},
        {"path": "/etc/systemd/network/99-eth.network", "overwrite": True, "mode": 420,
         "contents": {"source": "data:,%5BMatch%5D%0AName=eth12%0A%0A%5BNetwork%5D%0ABond=bond0"}},
    ]


def test_networkd_unit_without_contents_writes_only_its_dropins() -> None:
    config = cfg(networkd={"units": [{"name": "10-x.network", "dropins": [{"name": "m.conf", "contents": "[Link]"}]}]})
    out, _ = ok(config)
    assert [f["path"] for f in out["storage"]["files"]] == ["/etc/systemd/network/10-x.network.d/m.conf"]


@pytest.mark.parametrize("name", ["../../etc/shadow.network", "eth0.conf", ""])
def test_networkd_name_must_be_a_plain_network_file_name(name: str) -> None:
    found = errors(cfg(networkd={"units": [{"name": name, "contents": "x"}]}))
    assert list(found) == ["$.networkd.units.0.name"]


def test_networkd_file_colliding_with_a_storage_file_is_an_error() -> None:
    config = cfg(storage={"files": [file("/etc/systemd/network/00-eth0.network")]},
                 networkd={"units": [{"name": "00-eth0.network", "contents": "[Match]"}]})
    found = errors(config)
    assert "also declared by $.storage.files.0" in found["$.networkd.units.0.name"]


# --- ignition section and resources ------------------------------------------------------------------

def test_config_append_becomes_merge_and_the_rest_carries_over() -> None:
    config = cfg("2.2.0", ignition={
        "version": "2.2.0",
        "config": {"append": [{"source": "https://example.com/a.ign", "verification": {"hash": HASH}}],
                   "replace": {"source": "tftp://10.0.0.1/r.ign"}},
        "timeouts": {"httpResponseHeaders": 5, "httpTotal": 10},
        "security": {"tls": {"certificateAuthorities": [{"source": "s3://bucket/ca.pem"}]}},
    })
    out, _ = ok(config)
    assert out["ignition"] == {
        "version": "3.1.0",
        "config": {"merge": [{"source": "https://example.com/a.ign", "verification": {"hash": HASH}}],
                   "replace": {"source": "tftp://10.0.0.1/r.ign"}},
        "timeouts": {"httpResponseHeaders": 5, "httpTotal": 10},
        "security": {"tls": {"certificateAuthorities": [{"source": "s3://bucket/ca.pem"}]}},
    }


def test_spec_24_headers_and_proxy() -> None:
    headers = [{"name": "Authorization", "value": "Basic YWxhZGRpbjpvcGVuc2VzYW1l"}]
    config = cfg("2.4.0", ignition={
        "version": "2.4.0", "config": {"append": [{"source": "https://h/a.ign", "httpHeaders": headers}]},
        "proxy": {"httpProxy": "http://proxy:3128", "httpsProxy": "", "noProxy": ["example.net"]}},
        storage={"files": [file("/a", contents={"source": "https://h/a", "httpHeaders": headers})]})
    out, _ = ok(config)
    assert out["ignition"]["config"]["merge"] == [{"source": "https://h/a.ign", "httpHeaders": headers}]
    assert out["ignition"]["proxy"] == {"httpProxy": "http://proxy:3128", "noProxy": ["example.net"]}
    assert out["storage"]["files"][0]["contents"]["httpHeaders"] == headers


def test_oem_url_cannot_be_translated() -> None:
    config = cfg(ignition={"version": "2.2.0", "config": {"append": [{"source": "oem:///base.ign"}]}},
                 storage={"files": [file("/a", contents={"source": "oem:///grub.cfg"})]})
    found = errors(config)
    assert set(found) == {"$.ignition.config.append.0.source", "$.storage.files.0.contents.source"}
    assert "inline the contents as a data URL or serve them over http(s)" in found[
        "$.storage.files.0.contents.source"]


def test_unknown_url_scheme_is_an_error() -> None:
    found = errors(cfg(storage={"files": [file("/a", contents={"source": "ftp://h/a"})]}))
    assert "URL scheme ftp is not supported" in found["$.storage.files.0.contents.source"]


# --- passwd and systemd ------------------------------------------------------------------------------

def test_user_create_object_is_flattened() -> None:
    config = cfg("2.0.0", passwd={"users": [{"name": "dev", "passwordHash": "$6$x",
                                             "sshAuthorizedKeys": ["ssh-ed25519 A"],
                                             "create": {"uid": 1010, "gecos": "Dev", "homeDir": "/home/dev",
                                                        "groups": ["docker", "sudo"], "shell": "/bin/bash",
                                                        "noCreateHome": False, "noUserGroup": True}}]})
    out, _ = ok(config)
    assert out["passwd"] == {"users": [{"name": "dev", "passwordHash": "$6$x", "sshAuthorizedKeys": ["ssh-ed25519 A"],
                                        "uid": 1010, "gecos": "Dev", "homeDir": "/home/dev", "shell": "/bin/bash",
                                        "groups": ["docker", "sudo"], "noUserGroup": True}]}


def test_top_level_user_fields_beside_create_are_ignored_with_a_warning() -> None:
    config = cfg("2.1.0", passwd={"users": [{"name": "dev", "uid": 1, "create": {"uid": 2}}]})
    out, notes = ok(config)
    assert out["passwd"]["users"][0]["uid"] == 2
    assert "move uid into create or drop create" in warnings(notes)["$.passwd.users.0.uid"]


def test_user_and_group_fields_and_empty_strings() -> None:
    config = cfg("2.2.0", passwd={"users": [{"name": "core", "uid": 500, "shell": "", "system": True}],
                                  "groups": [{"name": "ops", "gid": 900, "passwordHash": "", "system": True}]})
    out, _ = ok(config)
    assert out["passwd"] == {"users": [{"name": "core", "uid": 500, "system": True}],
                             "groups": [{"name": "ops", "gid": 900, "system": True}]}


def test_duplicate_users_are_an_error() -> None:
    found = errors(cfg(passwd={"users": [{"name": "core"}, {"name": "core"}]}))
    assert "also listed at $.passwd.users.0" in found["$.passwd.users.1.name"]


def test_units_enable_enabled_mask_and_dropins() -> None:
    config = cfg("2.1.0", systemd={"units": [
        {"name": "a.service", "enable": True, "contents": "[Service]\n"},
        {"name": "b.service", "enable": True, "enabled": False},
        {"name": "c.service", "mask": True, "contents": ""},
        {"name": "d.service", "dropins": [{"name": "10-x.conf", "contents": "[Service]\nNice=5\n"}]},
    ]})
    out, _ = ok(config)
    assert out["systemd"]["units"] == [
        {"name": "a.service", "enabled": True, "contents": "[Service]\n"},
        {"name": "b.service", "enabled": False},
        {"name": "c.service", "mask": True},
        {"name": "d.service", "dropins": [{"name": "10-x.conf", "contents": "[Service]\nNice=5\n"}]},
    ]


def test_duplicate_units_and_dropins_are_errors() -> None:
    found = errors(cfg(systemd={"units": [
        {"name": "a.service", "dropins": [{"name": "x.conf"}, {"name": "x.conf"}]}, {"name": "a.service"}]}))
    assert set(found) == {"$.systemd.units.1.name", "$.systemd.units.0.dropins.1.name"}


# --- disks and raid ------------------------------------------------------------------------------------

def test_sector_start_and_size_become_mib_when_exact() -> None:
    config = cfg("2.2.0", storage={"disks": [{"device": "/dev/sdb", "wipeTable": True, "partitions": [
        {"label": "DATA", "number": 1, "start": 2048, "size": 4194304, "typeGuid": UUID},
        {"label": "REST", "number": 2, "start": 0, "size": 0}]}]})
    out, notes = ok(config)
    assert out["storage"]["disks"] == [{"device": "/dev/sdb", "wipeTable": True, "partitions": [
        {"label": "DATA", "number": 1, "sizeMiB": 2048, "startMiB": 1, "typeGuid": UUID},
        {"label": "REST", "number": 2, "sizeMiB": 0, "startMiB": 0}]}]
    assert "assuming 512-byte sectors" in warnings(notes)["$.storage.disks.0.partitions.0.size"]
    assert "$.storage.disks.0.partitions.1.size" not in warnings(notes)


def test_sector_size_not_a_whole_mib_is_an_error_with_the_choices() -> None:
    config = cfg(storage={"disks": [{"device": "/dev/sdb", "partitions": [{"number": 1, "start": 34, "size": 3000}]}]})
    found = errors(config)
    assert "replace start by startMiB (0 or 1)" in found["$.storage.disks.0.partitions.0.start"]
    assert "replace size by sizeMiB (1 or 2)" in found["$.storage.disks.0.partitions.0.size"]


def test_sectors_and_mib_both_set_is_an_error() -> None:
    config = cfg("2.3.0", storage={"disks": [{"device": "/dev/sdb", "partitions": [{"size": 2048, "sizeMiB": 1}]}]})
    found = errors(config)
    assert found == {"$.storage.disks.0.partitions.0.size": "size (in sectors) and sizeMiB are both set: "
                     "keep only sizeMiB"}


def test_spec_23_partition_fields() -> None:
    config = cfg("2.3.0", storage={"disks": [{"device": "/dev/sdb", "partitions": [
        {"number": 3, "shouldExist": False, "wipePartitionEntry": True},
        {"number": 1, "label": "", "sizeMiB": 100, "startMiB": 0, "guid": UUID}]}]})
    out, _ = ok(config)
    assert out["storage"]["disks"][0]["partitions"] == [
        {"number": 3, "wipePartitionEntry": True, "shouldExist": False},
        {"label": "", "number": 1, "sizeMiB": 100, "startMiB": 0, "guid": UUID}]


def test_raid_and_duplicate_disk() -> None:
    config = cfg(storage={"raid": [{"name": "md0", "level": "raid1", "devices": ["/dev/sdb", "/dev/sdc"],
                                    "spares": 0, "options": ["--assume-clean"]}]})
    out, _ = ok(config)
    assert out["storage"]["raid"] == [{"name": "md0", "level": "raid1", "devices": ["/dev/sdb", "/dev/sdc"],
                                       "options": ["--assume-clean"]}]
    found = errors(cfg(storage={"disks": [{"device": "/dev/sdb"}, {"device": "/dev/sdb"}]}))
    assert list(found) == ["$.storage.disks.1.device"]


# --- real configs ----------------------------------------------------------------------------------------

def test_typical_container_linux_config() -> None:
    """What `ct` produced for a Container Linux machine: networkd, etcd drop-in, a user, a
    hostname on root, an appended base config, a swap and a data disk."""
    config = {
        "ignition": {"version": "2.2.0", "config": {"append": [{"source": "http://10.0.0.1:8080/base.ign"}]}},
        "storage": {
            "disks": [{"device": "/dev/vdb", "wipeTable": True,
                       "partitions": [{"label": "DATA", "number": 1, "start": 0, "size": 0}]}],
            "filesystems": [{"name": "data", "mount": {"device": "/dev/disk/by-partlabel/DATA", "format": "ext4",
                                                        "wipeFilesystem": True, "label": "DATA"}}],
            "files": [
                {"filesystem": "root", "path": "/etc/hostname", "mode": 420,
                 "contents": {"source": "data:,node1", "verification": {}}, "user": {}, "group": {}},
                {"filesystem": "root", "path": "/etc/coreos/update.conf", "mode": 420, "append": True,
                 "contents": {"source": "data:,%0AREBOOT_STRATEGY%3Doff"}},
            ],
        },
        "systemd": {"units": [
            {"name": "etcd-member.service", "enable": True, "dropins": [
                {"name": "20-clct-etcd-member.conf",
                 "contents": "[Service]\nEnvironment=\"ETCD_IMAGE_TAG=v3.3.9\"\n"}]},
            {"name": "data.mount", "enabled": True,
             "contents": "[Mount]\nWhat=/dev/disk/by-label/DATA\nWhere=/data\n\n[Install]\nWantedBy=local-fs.target\n"},
        ]},
        "networkd": {"units": [{"name": "00-eth0.network", "contents":
                                "[Match]\nName=eth0\n\n[Network]\nAddress=10.0.0.5/24\nGateway=10.0.0.1\n"}]},
        "passwd": {"users": [{"name": "core", "sshAuthorizedKeys": ["ssh-rsa AAAAB3Nza core@example"]},
                             {"name": "deploy", "create": {"uid": 1100, "groups": ["docker"], "shell": "/bin/bash"}}]},
    }
    out, notes = ok(config)
    assert notes == []
    assert out == {
        "ignition": {"version": "3.1.0", "config": {"merge": [{"source": "http://10.0.0.1:8080/base.ign"}]}},
        "storage": {
            "disks": [{"device": "/dev/vdb", "wipeTable": True,
                       "partitions": [{"label": "DATA", "number": 1, "sizeMiB": 0, "startMiB": 0}]}],
            "filesystems": [{"device": "/dev/disk/by-partlabel/DATA", "format": "ext4", "wipeFilesystem": True,
                             "label": "DATA"}],
            "files": [
                {"path": "/etc/hostname", "overwrite": True, "mode": 420, "contents": {"source": "data:,node1"}},
                {"path": "/etc/coreos/update.conf", "overwrite": False, "mode": 420,
                 "append": [{"source": "data:,%0AREBOOT_STRATEGY%3Doff"}]},
                {"path": "/etc/systemd/network/00-eth0.network", "overwrite": True, "mode": 420, "contents": {
                    "source": "data:,%5BMatch%5D%0AName=eth0%0A%0A%5BNetwork%5D%0A"
                              "Address=10.0.0.5%2F24%0AGateway=10.0.0.1%0A"}},
            ],
        },
        "systemd": {"units": [
            {"name": "etcd-member.service", "enabled": True, "dropins": [
                {"name": "20-clct-etcd-member.conf",
                 "contents": "[Service]\nEnvironment=\"ETCD_IMAGE_TAG=v3.3.9\"\n"}]},
            {"name": "data.mount", "enabled": True,
             "contents": "[Mount]\nWhat=/dev/disk/by-label/DATA\nWhere=/data\n\n[Install]\nWantedBy=local-fs.target\n"},
        ]},
        "passwd": {"users": [{"name": "core", "sshAuthorizedKeys": ["ssh-rsa AAAAB3Nza core@example"]},
                             {"name": "deploy", "uid": 1100, "shell": "/bin/bash", "groups": ["docker"]}]},
    }
    parsed = parse(json.dumps(out).encode())
    network = next(f for f in parsed.config.storage.files if f.path.startswith("/etc/systemd/network/"))
    assert network.contents.source is not None


def test_flatcar_converter_reference_config() -> None:
    """Flatcar's v24tov31 test config with the deprecated fields (user create, mount.create with
    force, networkd) and its expected 3.1 result."""
    headers = [{"name": "Authorization", "value": "Basic YWxhZGRpbjpvcGVuc2VzYW1l"},
               {"name": "User-Agent", "value": "Mozilla/5.0 (compatible; MSIE 6.0; Windows NT 5.1)"}]
    ref = {"source": "https://example.com", "verification": {"hash": HASH}}
    owner = {"user": {"id": 1000}, "group": {"name": "groupname"}}
    config = {
        "ignition": {"version": "2.4.0", "config": {"append": [ref], "replace": ref},
                     "timeouts": {"httpResponseHeaders": 5, "httpTotal": 10},
                     "security": {"tls": {"certificateAuthorities": [ref]}},
                     "proxy": {"httpProxy": "https://proxy.example.net/", "httpsProxy": "https://secure.proxy.example.net/",
                               "noProxy": ["www.example.net", "www.example2.net"]}},
        "passwd": {"users": [{"name": "user", "create": {"uid": 1010, "groups": ["docker"]}}]},
        "networkd": {"units": [{"name": "99-eth.network", "contents": "[Match]\nName=eth12\n\n[Network]\nBond=bond0"}]},
        "storage": {
            "disks": [{"device": "/dev/sda", "wipeTable": True, "partitions": [
                {"label": "var", "number": 1, "sizeMiB": 5000, "startMiB": 2048, "typeGuid": UUID, "guid": UUID,
                 "wipePartitionEntry": True, "shouldExist": True}]}],
            "raid": [{"name": "array", "level": "raid10", "devices": ["/dev/sdb", "/dev/sdc"], "spares": 1,
                      "options": ["foobar"]}],
            "filesystems": [{"name": "/var", "mount": {
                "device": "/dev/disk/by-partlabel/var", "format": "xfs", "label": "var", "uuid": UUID,
                "create": {"force": True, "options": ["--label=var", f"--uuid={UUID}"]}}}],
            "files": [
                {"filesystem": "/var", "path": "/varfile", "overwrite": False, "append": True, "mode": 420, **owner,
                 "contents": {"compression": "gzip", "source": "https://example.com",
                              "verification": {"hash": HASH}, "httpHeaders": headers}},
                {"filesystem": "root", "path": "/empty", "overwrite": False, "mode": 420},
            ],
            "directories": [{"filesystem": "root", "path": "/rootdir", "overwrite": True, "mode": 420, **owner}],
            "links": [{"filesystem": "root", "path": "/rootlink", "overwrite": True, "hard": False,
                       "target": "/foobar", **owner}],
        },
    }
    out, notes = ok(config, {"/var": "/var"})
    assert notes == []
    assert out == {
        "ignition": {"version": "3.1.0", "config": {"merge": [ref], "replace": ref},
                     "timeouts": {"httpResponseHeaders": 5, "httpTotal": 10},
                     "security": {"tls": {"certificateAuthorities": [ref]}},
                     "proxy": {"httpProxy": "https://proxy.example.net/",
                               "httpsProxy": "https://secure.proxy.example.net/",
                               "noProxy": ["www.example.net", "www.example2.net"]}},
        "storage": {
            "disks": [{"device": "/dev/sda", "wipeTable": True, "partitions": [
                {"label": "var", "number": 1, "sizeMiB": 5000, "startMiB": 2048, "typeGuid": UUID, "guid": UUID,
                 "wipePartitionEntry": True, "shouldExist": True}]}],
            "raid": [{"name": "array", "level": "raid10", "devices": ["/dev/sdb", "/dev/sdc"], "spares": 1,
                      "options": ["foobar"]}],
            "filesystems": [{"device": "/dev/disk/by-partlabel/var", "format": "xfs", "wipeFilesystem": True,
                             "label": "var", "uuid": UUID, "options": ["--label=var", f"--uuid={UUID}"],
                             "path": "/var"}],
            "files": [
                {"path": "/var/varfile", "overwrite": False, "mode": 420, **owner,
                 "append": [{"source": "https://example.com", "compression": "gzip", "httpHeaders": headers,
                             "verification": {"hash": HASH}}]},
                {"path": "/empty", "overwrite": False, "mode": 420, "contents": {"source": ""}},
                {"path": "/etc/systemd/network/99-eth.network", "overwrite": True, "mode": 420,
                 "contents": {"source": "data:,%5BMatch%5D%0AName=eth12%0A%0A%5BNetwork%5D%0ABond=bond0"}},
            ],
            "directories": [{"path": "/rootdir", "overwrite": True, "mode": 420, **owner}],
            "links": [{"path": "/rootlink", "overwrite": True, **owner, "target": "/foobar"}],
        },
        "passwd": {"users": [{"name": "user", "uid": 1010, "groups": ["docker"]}]},
    }


# --- origins: 3.1 findings reported where the user wrote them ------------------------------------------

def test_origins_map_31_validation_errors_back_to_the_spec2_config() -> None:
    """Checks only spec 3 has (format names, GUID syntax, unit suffixes, number-or-label) run on
    the translation; the origins put their findings back on the spec 2 text, even where entries
    were skipped (a pre-mounted filesystem, a null disk) and fields moved (mount.format)."""
    config = cfg(storage={"filesystems": [{"name": "sys", "path": "/sysroot"},
                                          {"name": "d", "mount": {"device": "/dev/sdb", "format": "ext3"}}],
                          "disks": [None, {"device": "/dev/sdc", "partitions": [{"typeGuid": "zzz", "size": 4096}]}]},
                 systemd={"units": [{"name": "foo"}]})
    out, _, origins = translate_v2_traced(config, "2.2.0")
    with pytest.raises(ConfigError) as exc:
        parse(json.dumps(out).encode())
    found = {origin_path(origins, e.path) for e in exc.value.report.errors}  # type: ignore[attr-defined]
    assert found == {("storage", "filesystems", 1, "mount", "format"), ("storage", "disks", 1, "partitions", 0),
                     ("storage", "disks", 1, "partitions", 0, "typeGuid"), ("systemd", "units", 0, "name")}


def test_origins_of_merged_appends_networkd_files_and_converted_sizes() -> None:
    config = cfg(storage={"files": [file("/a", contents={"source": "data:,1"}), file("/b"),
                                    file("/a", append=True, contents={"source": "data:,2"})],
                          "disks": [{"device": "/dev/sdb", "partitions": [{"number": 1, "size": 2048}]}]},
                 networkd={"units": [{"name": "e.network", "contents": "[Match]"}]})
    out, _, origins = translate_v2_traced(config, "2.2.0")
    assert out["storage"]["files"][2]["path"] == "/etc/systemd/network/e.network"
    assert origin_path(origins, ("storage", "files", 0, "append", 0, "source")) == (
        "storage", "files", 2, "contents", "source")
    assert origin_path(origins, ("storage", "files", 2, "path")) == ("networkd", "units", 0, "name")
    assert origin_path(origins, ("storage", "disks", 0, "partitions", 0, "sizeMiB")) == (
        "storage", "disks", 0, "partitions", 0, "size")
    assert origin_path(origins, ("ignition", "version")) == ("ignition", "version")


def test_append_without_source_only_ensures_the_file_exists() -> None:
    out, notes = ok(cfg(storage={"files": [file("/etc/touched", append=True),
                                           file("/etc/touched", append=True, contents={"source": ""})]}))
    assert out["storage"]["files"] == [{"path": "/etc/touched", "overwrite": False, "mode": 420}]
    assert set(warnings(notes)) == {"$.storage.files.0.contents", "$.storage.files.1.contents"}


@pytest.mark.parametrize(("version", "kept"), [("2.0.0", False), ("2.1.0", False), ("2.2.0", True), ("2.3.0", True)])
def test_empty_password_hash_is_unset_before_22(version: str, kept: bool) -> None:
    out, _ = ok(cfg(version, passwd={"users": [{"name": "core", "passwordHash": ""}]}))
    assert ("passwordHash" in out["passwd"]["users"][0]) is kept


def test_mutated_configs_never_raise() -> None:
    """Seeded mutations of valid configs: translation reports, it never raises, and whatever it
    returns without an error is a config the 3.1 parser accepts or rejects with a report."""
    seeds = [
        cfg("2.0.0", storage={"filesystems": [{"name": "v", "mount": {"device": "/dev/sdb", "format": "ext4",
                                                                       "create": {"force": True}}}],
                              "files": [file("/a", fs="v", contents={"source": "data:,a"})]},
            passwd={"users": [{"name": "u", "create": {"uid": 5}}]}),
        cfg("2.2.0", storage={"disks": [{"device": "/dev/sdb", "partitions": [{"number": 1, "size": 2048}]}],
                              "files": [file("/a", append=True, contents={"source": "data:,a"})],
                              "links": [{"filesystem": "root", "path": "/l", "target": "/a", "hard": True}]},
            networkd={"units": [{"name": "a.network", "contents": "x", "dropins": [{"name": "b.conf"}]}]},
            systemd={"units": [{"name": "a.service", "enable": True, "dropins": [{"name": "c.conf"}]}]}),
        cfg("2.4.0", ignition={"version": "2.4.0", "proxy": {"noProxy": ["a"]},
                               "config": {"append": [{"source": "http://h/c", "httpHeaders": [{"name": "A",
                                                                                                 "value": "b"}]}]}}),
    ]
    values: list[Any] = [None, 0, -1, 2049, "", "/", "..", "x", "oem:///a", True, [], {}, [None], {"a": 1}, "root"]

    def paths(d: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if isinstance(d, dict):
            return [at] + [p for k, v in d.items() for p in paths(v, at + (k,))]
        if isinstance(d, list):
            return [at] + [p for i, v in enumerate(d) for p in paths(v, at + (i,))]
        return [at]

    rnd = random.Random(20)
    for _ in range(400):
        data = copy.deepcopy(rnd.choice(seeds))
        version = data["ignition"]["version"]
        for _ in range(rnd.randint(1, 3)):
            target = rnd.choice([p for p in paths(data) if p])
            parent = data
            for elem in target[:-1]:
                parent = parent[elem]
            parent[target[-1]] = copy.deepcopy(rnd.choice(values))
        out, notes = translate_v2(data, version, {"v": "/v"})
        assert all(n.kind in ("error", "warning") for n in notes)
        if out:
            with contextlib.suppress(ConfigError):
                parse(json.dumps(out).encode())


@pytest.mark.parametrize("where", ["file", "config", "ca"])
def test_sha256_is_not_a_container_linux_hash(where: str) -> None:
    sha256 = "sha256-" + "ab" * 32
    ref = {"source": "https://example.com/x", "verification": {"hash": sha256}}
    if where == "file":
        config = cfg(storage={"files": [file("/a", contents=ref)]})
        path = "$.storage.files.0.contents.verification.hash"
    elif where == "config":
        config = cfg(ignition={"version": "2.2.0", "config": {"append": [ref]}})
        path = "$.ignition.config.append.0.verification.hash"
    else:
        config = cfg(ignition={"version": "2.2.0", "security": {"tls": {"certificateAuthorities": [ref]}}})
        path = "$.ignition.security.tls.certificateAuthorities.0.verification.hash"
    found = errors(config)
    assert "know only sha512" in found[path]
    ref["verification"] = {"hash": HASH}
    ok(config)  # sha512 translates
