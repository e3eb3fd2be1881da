"""Config merging: each case is (name, parent, child, expected), all in spec 3.6.0 JSON form.

Expected results follow Ignition's config/merge/merge.go (and its merge_test.go where it has
the same case)."""

from typing import Any

import pytest

from ignition.config.codec import json_fields
from ignition.config.merge import _APPENDED, _KEYS, merge
from ignition.config.types import Config, config_from_dict, config_to_dict


def c(version: str = "3.6.0", **sections: Any) -> dict[str, Any]:
    """A config dict; an `ignition` section, if given, must carry its own version."""
    return {"ignition": {"version": version}, **sections}


def storage(**lists: Any) -> dict[str, Any]:
    return c(storage=lists)


def user(name: str, **kw: Any) -> dict[str, Any]:
    return c(passwd={"users": [{"name": name, **kw}]})


def kargs(**kw: Any) -> dict[str, Any]:
    return c(kernelArguments=kw)


def ign(**kw: Any) -> dict[str, Any]:
    return {"ignition": {"version": "3.6.0", **kw}}


def hdrs(*pairs: tuple[str, str | None]) -> list[dict[str, Any]]:
    return [{"name": n} if v is None else {"name": n, "value": v} for n, v in pairs]


def src(url: str, **kw: Any) -> dict[str, Any]:
    return {"source": url, **kw}


U1, U2, U3 = "https://e.com/1", "https://e.com/2", "https://e.com/3"

CASES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    # --- scalars and nested objects
    ("empty configs", c(), c(), c()),
    ("version is the child's", c("3.5.0"), c("3.6.0"), c("3.6.0")),
    (
        "child scalar replaces parent scalar",
        ign(timeouts={"httpTotal": 10}),
        ign(timeouts={"httpTotal": 20}),
        ign(timeouts={"httpTotal": 20}),
    ),
    (
        "unset child scalar keeps the parent's",
        ign(proxy={"httpProxy": "http://p:1", "httpsProxy": "http://p:2"}),
        ign(proxy={"httpsProxy": "http://q:2"}),
        ign(proxy={"httpProxy": "http://p:1", "httpsProxy": "http://q:2"}),
    ),
    (
        "false and zero in the child are set values and win",
        c(
            storage={"disks": [{"device": "/dev/vda", "wipeTable": True}]},
            ignition={"version": "3.6.0", "timeouts": {"httpTotal": 30}},
        ),
        c(
            storage={"disks": [{"device": "/dev/vda", "wipeTable": False}]},
            ignition={"version": "3.6.0", "timeouts": {"httpTotal": 0}},
        ),
        c(
            storage={"disks": [{"device": "/dev/vda", "wipeTable": False}]},
            ignition={"version": "3.6.0", "timeouts": {"httpTotal": 0}},
        ),
    ),
    (
        "nested objects merge field by field",
        ign(timeouts={"httpResponseHeaders": 5}, security={"tls": {"certificateAuthorities": [src(U1)]}}),
        ign(timeouts={"httpTotal": 60}, proxy={"noProxy": ["a"]}),
        ign(
            timeouts={"httpResponseHeaders": 5, "httpTotal": 60},
            security={"tls": {"certificateAuthorities": [src(U1)]}},
            proxy={"noProxy": ["a"]},
        ),
    ),
    # --- keyed lists of storage
    (
        "disks: same device merged, others appended after the parent's",
        storage(disks=[{"device": "/dev/vda", "wipeTable": True}, {"device": "/dev/vdb"}]),
        storage(disks=[{"device": "/dev/vdc"}, {"device": "/dev/vda", "partitions": [{"number": 1}]}]),
        storage(
            disks=[
                {"device": "/dev/vda", "wipeTable": True, "partitions": [{"number": 1}]},
                {"device": "/dev/vdb"},
                {"device": "/dev/vdc"},
            ]
        ),
    ),
    (
        "partitions keyed by non-zero number (label may change)",
        storage(disks=[{"device": "/dev/vda", "partitions": [{"number": 1, "label": "a", "startMiB": 4}]}]),
        storage(
            disks=[{"device": "/dev/vda", "partitions": [{"number": 1, "label": "b"}, {"number": 2, "label": "c"}]}]
        ),
        storage(
            disks=[
                {
                    "device": "/dev/vda",
                    "partitions": [{"number": 1, "label": "b", "startMiB": 4}, {"number": 2, "label": "c"}],
                }
            ]
        ),
    ),
    (
        "partitions without number keyed by label",
        storage(disks=[{"device": "/dev/vda", "partitions": [{"label": "root", "sizeMiB": 100}, {"label": "x"}]}]),
        storage(disks=[{"device": "/dev/vda", "partitions": [{"label": "root", "resize": True}, {"label": "y"}]}]),
        storage(
            disks=[
                {
                    "device": "/dev/vda",
                    "partitions": [{"label": "root", "sizeMiB": 100, "resize": True}, {"label": "x"}, {"label": "y"}],
                }
            ]
        ),
    ),
    (
        "partition number 0 counts as no number",
        storage(disks=[{"device": "/dev/vda", "partitions": [{"number": 0, "label": "data"}]}]),
        storage(disks=[{"device": "/dev/vda", "partitions": [{"label": "data", "sizeMiB": 5}]}]),
        storage(disks=[{"device": "/dev/vda", "partitions": [{"number": 0, "label": "data", "sizeMiB": 5}]}]),
    ),
    (
        "numbered and label-only partitions never match, even with the same label",
        storage(disks=[{"device": "/dev/vda", "partitions": [{"number": 1, "label": "a"}]}]),
        storage(disks=[{"device": "/dev/vda", "partitions": [{"label": "a", "sizeMiB": 5}]}]),
        storage(
            disks=[{"device": "/dev/vda", "partitions": [{"number": 1, "label": "a"}, {"label": "a", "sizeMiB": 5}]}]
        ),
    ),
    (
        "filesystems keyed by device; options and mountOptions appended without dedup",
        storage(
            filesystems=[
                {"device": "/dev/vda1", "format": "ext4", "options": ["-m", "0"], "mountOptions": ["ro"]},
                {"device": "/dev/vdb"},
            ]
        ),
        storage(
            filesystems=[
                {
                    "device": "/dev/vda1",
                    "format": "xfs",
                    "label": "root",
                    "options": ["-m"],
                    "mountOptions": ["ro", "noatime"],
                }
            ]
        ),
        storage(
            filesystems=[
                {
                    "device": "/dev/vda1",
                    "format": "xfs",
                    "label": "root",
                    "options": ["-m", "0", "-m"],
                    "mountOptions": ["ro", "ro", "noatime"],
                },
                {"device": "/dev/vdb"},
            ]
        ),
    ),
    (
        "raid keyed by name; devices by value; options appended",
        storage(raid=[{"name": "md0", "level": "raid1", "devices": ["/dev/a", "/dev/b"], "options": ["--x"]}]),
        storage(
            raid=[
                {"name": "md0", "devices": ["/dev/c", "/dev/a"], "options": ["--x"], "spares": 1},
                {"name": "md1", "level": "raid0", "devices": ["/dev/d"]},
            ]
        ),
        storage(
            raid=[
                {
                    "name": "md0",
                    "level": "raid1",
                    "devices": ["/dev/a", "/dev/b", "/dev/c"],
                    "options": ["--x", "--x"],
                    "spares": 1,
                },
                {"name": "md1", "level": "raid0", "devices": ["/dev/d"]},
            ]
        ),
    ),
    (
        "luks keyed by name; options appended, openOptions by value, keyFile merged",
        storage(
            luks=[
                {"name": "r", "device": "/dev/a", "options": ["--a"], "openOptions": ["--o"], "keyFile": {"source": U1}}
            ]
        ),
        storage(
            luks=[
                {
                    "name": "r",
                    "options": ["--a"],
                    "openOptions": ["--o", "--p"],
                    "discard": True,
                    "keyFile": {"verification": {"hash": "sha256-00"}},
                }
            ]
        ),
        storage(
            luks=[
                {
                    "name": "r",
                    "device": "/dev/a",
                    "options": ["--a", "--a"],
                    "openOptions": ["--o", "--p"],
                    "discard": True,
                    "keyFile": {"source": U1, "verification": {"hash": "sha256-00"}},
                }
            ]
        ),
    ),
    (
        "clevis tang servers keyed by url",
        storage(
            luks=[{"name": "r", "clevis": {"tang": [{"url": U1, "thumbprint": "t1"}, {"url": U2}], "threshold": 2}}]
        ),
        storage(
            luks=[{"name": "r", "clevis": {"tang": [{"url": U3}, {"url": U1, "advertisement": "{}"}], "tpm2": True}}]
        ),
        storage(
            luks=[
                {
                    "name": "r",
                    "clevis": {
                        "tang": [{"url": U1, "thumbprint": "t1", "advertisement": "{}"}, {"url": U2}, {"url": U3}],
                        "tpm2": True,
                        "threshold": 2,
                    },
                }
            ]
        ),
    ),
    (
        "files keyed by path, merged recursively",
        storage(
            files=[{"path": "/a", "mode": 0o644, "contents": {"source": U1}, "user": {"name": "core"}}, {"path": "/b"}]
        ),
        storage(files=[{"path": "/a", "mode": 0o600, "overwrite": True, "group": {"id": 0}}]),
        storage(
            files=[
                {
                    "path": "/a",
                    "mode": 0o600,
                    "overwrite": True,
                    "contents": {"source": U1},
                    "user": {"name": "core"},
                    "group": {"id": 0},
                },
                {"path": "/b"},
            ]
        ),
    ),
    (
        "file append lists are concatenated, the same source twice included",
        storage(files=[{"path": "/a", "append": [src(U1)]}]),
        storage(files=[{"path": "/a", "append": [src(U1), src(U2)]}]),
        storage(files=[{"path": "/a", "append": [src(U1), src(U1), src(U2)]}]),
    ),
    (
        "directories and links keyed by path within their own lists",
        storage(directories=[{"path": "/d", "mode": 0o755}], links=[{"path": "/l", "target": "/x"}]),
        storage(directories=[{"path": "/d", "mode": 0o700}, {"path": "/e"}], links=[{"path": "/l", "hard": True}]),
        storage(
            directories=[{"path": "/d", "mode": 0o700}, {"path": "/e"}],
            links=[{"path": "/l", "target": "/x", "hard": True}],
        ),
    ),
    (
        "a child file at a parent link's path removes the link",
        storage(links=[{"path": "/etc/x", "target": "/y"}, {"path": "/etc/keep", "target": "/z"}]),
        storage(files=[{"path": "/etc/x", "contents": {"source": U1}}]),
        storage(files=[{"path": "/etc/x", "contents": {"source": U1}}], links=[{"path": "/etc/keep", "target": "/z"}]),
    ),
    (
        "a child directory at a parent file's path removes the file, nothing is merged",
        storage(files=[{"path": "/a", "mode": 0o600, "user": {"id": 7}}, {"path": "/b"}]),
        storage(directories=[{"path": "/a"}]),
        storage(files=[{"path": "/b"}], directories=[{"path": "/a"}]),
    ),
    (
        "a child link at a parent directory's path is appended after the child's other links",
        storage(directories=[{"path": "/d"}], links=[{"path": "/l1", "target": "/t"}]),
        storage(links=[{"path": "/d", "target": "/t"}, {"path": "/l2", "target": "/t"}]),
        storage(
            links=[{"path": "/l1", "target": "/t"}, {"path": "/d", "target": "/t"}, {"path": "/l2", "target": "/t"}]
        ),
    ),
    # --- systemd and passwd
    (
        "units keyed by name, dropins keyed by name",
        c(
            systemd={
                "units": [
                    {
                        "name": "a.service",
                        "enabled": True,
                        "contents": "[Unit]\n",
                        "dropins": [{"name": "1.conf", "contents": "x"}],
                    }
                ]
            }
        ),
        c(
            systemd={
                "units": [
                    {"name": "b.service", "mask": True},
                    {
                        "name": "a.service",
                        "enabled": False,
                        "dropins": [{"name": "2.conf"}, {"name": "1.conf", "contents": "y"}],
                    },
                ]
            }
        ),
        c(
            systemd={
                "units": [
                    {
                        "name": "a.service",
                        "enabled": False,
                        "contents": "[Unit]\n",
                        "dropins": [{"name": "1.conf", "contents": "y"}, {"name": "2.conf"}],
                    },
                    {"name": "b.service", "mask": True},
                ]
            }
        ),
    ),
    (
        "users keyed by name; ssh keys and groups merged by value",
        user("core", sshAuthorizedKeys=["one", "two"], groups=["wheel"], shell="/bin/sh", uid=1000),
        user("core", sshAuthorizedKeys=["three", "two"], groups=["docker", "wheel"], shell="/bin/bash"),
        user(
            "core", sshAuthorizedKeys=["one", "two", "three"], groups=["wheel", "docker"], shell="/bin/bash", uid=1000
        ),
    ),
    (
        "a user's shouldExist false in the child wins",
        user("old", uid=1001),
        user("old", shouldExist=False),
        user("old", uid=1001, shouldExist=False),
    ),
    (
        "groups keyed by name; users and groups are separate key spaces",
        c(passwd={"users": [{"name": "x"}], "groups": [{"name": "x", "gid": 5}, {"name": "y"}]}),
        c(passwd={"groups": [{"name": "x", "system": True}], "users": [{"name": "z"}]}),
        c(
            passwd={
                "users": [{"name": "x"}, {"name": "z"}],
                "groups": [{"name": "x", "gid": 5, "system": True}, {"name": "y"}],
            }
        ),
    ),
    # --- resources and headers
    (
        "config.merge resources keyed by source; replace merged as an object",
        ign(config={"merge": [src(U1, compression="gzip"), src(U2)], "replace": src(U3)}),
        ign(config={"merge": [src(U3), src(U1, verification={"hash": "sha512-00"})]}),
        ign(
            config={
                "merge": [src(U1, compression="gzip", verification={"hash": "sha512-00"}), src(U2), src(U3)],
                "replace": src(U3),
            }
        ),
    ),
    (
        "certificate authorities keyed by source",
        ign(security={"tls": {"certificateAuthorities": [src(U1), src(U2)]}}),
        ign(security={"tls": {"certificateAuthorities": [src(U2, compression="gzip"), src(U3)]}}),
        ign(security={"tls": {"certificateAuthorities": [src(U1), src(U2, compression="gzip"), src(U3)]}}),
    ),
    (
        "headers keyed by name: child value replaces, new ones appended",
        ign(config={"merge": [src(U1, httpHeaders=hdrs(("old", "o"), ("same", "o")))]}),
        ign(config={"merge": [src(U1, httpHeaders=hdrs(("new", "n"), ("same", "n")))]}),
        ign(config={"merge": [src(U1, httpHeaders=hdrs(("old", "o"), ("same", "n"), ("new", "n")))]}),
    ),
    (
        "a child header without value removes the parent's (merge_test.go's case)",
        storage(
            files=[
                {
                    "path": "/f",
                    "contents": src(
                        U1, httpHeaders=hdrs(("old-header", "old"), ("same-header", "old"), ("to-remove-header", "v"))
                    ),
                }
            ]
        ),
        storage(
            files=[
                {
                    "path": "/f",
                    "contents": src(
                        U1, httpHeaders=hdrs(("to-remove-header", None), ("new-header", "new"), ("same-header", "new"))
                    ),
                }
            ]
        ),
        storage(
            files=[
                {
                    "path": "/f",
                    "contents": src(
                        U1, httpHeaders=hdrs(("old-header", "old"), ("same-header", "new"), ("new-header", "new"))
                    ),
                }
            ]
        ),
    ),
    (
        "a child header without value and no parent header of that name is kept as is",
        ign(config={"replace": src(U1, httpHeaders=hdrs(("a", "1")))}),
        ign(config={"replace": src(U1, httpHeaders=hdrs(("b", None)))}),
        ign(config={"replace": src(U1, httpHeaders=hdrs(("a", "1"), ("b", None)))}),
    ),
    (
        "headers of appended resources are not merged across entries",
        storage(files=[{"path": "/f", "append": [src(U1, httpHeaders=hdrs(("h", "old")))]}]),
        storage(files=[{"path": "/f", "append": [src(U1, httpHeaders=hdrs(("h", None)))]}]),
        storage(
            files=[
                {
                    "path": "/f",
                    "append": [src(U1, httpHeaders=hdrs(("h", "old"))), src(U1, httpHeaders=hdrs(("h", None)))],
                }
            ]
        ),
    ),
    # --- string lists
    (
        "noProxy merged by value",
        ign(proxy={"noProxy": ["a", "b"]}),
        ign(proxy={"noProxy": ["c", "a"]}),
        ign(proxy={"noProxy": ["a", "b", "c"]}),
    ),
    (
        "kernel arguments merged by value",
        kargs(shouldExist=["quiet", "a=1"], shouldNotExist=["rhgb"]),
        kargs(shouldExist=["a=1", "b"], shouldNotExist=["splash"]),
        kargs(shouldExist=["quiet", "a=1", "b"], shouldNotExist=["rhgb", "splash"]),
    ),
    (
        "kernel argument in the child's shouldNotExist removes it from the parent's shouldExist",
        kargs(shouldExist=["quiet", "debug"]),
        kargs(shouldNotExist=["debug"]),
        kargs(shouldExist=["quiet"], shouldNotExist=["debug"]),
    ),
    (
        "kernel argument in the child's shouldExist removes it from the parent's shouldNotExist",
        kargs(shouldNotExist=["mitigations=off", "x"]),
        kargs(shouldExist=["mitigations=off"]),
        kargs(shouldExist=["mitigations=off"], shouldNotExist=["x"]),
    ),
    # --- order
    (
        "result order: parent's entries in their order, then the child's new ones in theirs",
        c(systemd={"units": [{"name": "c.service"}, {"name": "a.service"}, {"name": "b.service"}]}),
        c(
            systemd={
                "units": [
                    {"name": "e.service"},
                    {"name": "b.service", "mask": True},
                    {"name": "d.service"},
                    {"name": "c.service", "enabled": True},
                ]
            }
        ),
        c(
            systemd={
                "units": [
                    {"name": "c.service", "enabled": True},
                    {"name": "a.service"},
                    {"name": "b.service", "mask": True},
                    {"name": "e.service"},
                    {"name": "d.service"},
                ]
            }
        ),
    ),
    (
        "sections absent from the child are kept whole",
        c(
            storage={"files": [{"path": "/a"}]},
            systemd={"units": [{"name": "a.service"}]},
            kernelArguments={"shouldExist": ["q"]},
        ),
        c(passwd={"users": [{"name": "core"}]}),
        c(
            storage={"files": [{"path": "/a"}]},
            systemd={"units": [{"name": "a.service"}]},
            passwd={"users": [{"name": "core"}]},
            kernelArguments={"shouldExist": ["q"]},
        ),
    ),
]


def _merged(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    return config_to_dict(merge(config_from_dict(parent), config_from_dict(child)))


@pytest.mark.parametrize(("name", "parent", "child", "expected"), CASES, ids=[case[0] for case in CASES])
def test_merge(name: str, parent: dict[str, Any], child: dict[str, Any], expected: dict[str, Any]) -> None:
    assert _merged(parent, child) == expected


INPUTS = [d for _, parent, child, _ in CASES for d in (parent, child)]


@pytest.mark.parametrize("config", INPUTS)
def test_empty_is_identity_on_both_sides(config: dict[str, Any]) -> None:
    # only the version comes from the (empty) child
    assert _merged(config, c()) == {**config, "ignition": {**config["ignition"], "version": "3.6.0"}}
    assert _merged(c(), config) == config


def test_every_list_of_the_spec_has_a_key_or_is_appended() -> None:
    # a list added to types.py must be given merge semantics on purpose
    def walk(cls: type) -> None:
        for jf in json_fields(cls):
            if jf.is_list:
                assert jf.type in _KEYS or (cls, jf.attr) in _APPENDED, f"{cls.__name__}.{jf.attr}"
            if jf.type not in (str, int, bool):
                walk(jf.type)

    walk(Config)


def test_inputs_are_left_alone() -> None:
    parent = config_from_dict(storage(files=[{"path": "/a", "append": [src(U1)]}]))
    child = config_from_dict(storage(files=[{"path": "/a", "append": [src(U2)]}]))
    before = (config_to_dict(parent), config_to_dict(child))
    merge(parent, child)
    assert (config_to_dict(parent), config_to_dict(child)) == before
