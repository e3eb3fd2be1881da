"""Semantic validation (inventory §2.2), through the whole parse pipeline.

Each case is (name, config, spec version, expected entries as (kind, JSON path)); the paths
follow Go's ignition-validate (a duplicate is reported at the later entry, a link in a node's
path at the node entry), which the differential tests compare with."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ignition.config.parse import parse
from ignition.config.report import Entry, json_path
from ignition.config.validate.paths import go_clean
from ignition.config.validate.unitfile import UnitSyntaxError, parse_unit
from ignition.errors import ConfigError

Expected = list[tuple[str, str]]
SHA512 = "sha512-" + "0123456789abcdef" * 8
SHA256 = "sha256-" + "0123456789abcdef" * 4
GUID = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
E, W = "error", "warning"


def entries(cfg: dict[str, Any], version: str) -> list[Entry]:
    text = json.dumps({"ignition": {"version": version}, **cfg})
    try:
        return parse(text.encode()).report.entries
    except ConfigError as e:
        return e.report.entries  # type: ignore[no-any-return, attr-defined]


def st(**kw: Any) -> dict[str, Any]:
    return {"storage": kw}


def files(*fs: dict[str, Any]) -> dict[str, Any]:
    return st(files=list(fs))


def src(source: str, **kw: Any) -> dict[str, Any]:
    return {"path": "/f", "contents": {"source": source, **kw}}


def units(*us: dict[str, Any]) -> dict[str, Any]:
    return {"systemd": {"units": list(us)}}


def luks(**kw: Any) -> dict[str, Any]:
    return st(luks=[{"name": "root", "device": "/dev/vda2", **kw}])


def part(**kw: Any) -> dict[str, Any]:
    return st(disks=[{"device": "/dev/vda", "partitions": [kw]}])


def parts(*ps: dict[str, Any]) -> dict[str, Any]:
    return st(disks=[{"device": "/dev/vda", "partitions": list(ps)}])


def fs(**kw: Any) -> dict[str, Any]:
    return st(filesystems=[{"device": "/dev/vdb", **kw}])


def raid(**kw: Any) -> dict[str, Any]:
    return st(raid=[{"name": "md0", "level": "raid1", "devices": ["/dev/vdb", "/dev/vdc"], **kw}])


F0 = "$.storage.files.0"
C0 = F0 + ".contents"
P0 = "$.storage.disks.0.partitions.0"
FS0 = "$.storage.filesystems.0"
L0 = "$.storage.luks.0"
U0 = "$.systemd.units.0"
INSTALL = "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n"

CASES: list[tuple[str, dict[str, Any], str, Expected]] = [
    # --- node paths ---
    ("nodes valid", st(files=[{"path": "/a"}], directories=[{"path": "/d"}],
                       links=[{"path": "/l", "target": "/a"}]), "3.6.0", []),
    ("path empty", files({"path": ""}), "3.6.0", [(E, F0 + ".path")]),
    ("path relative", files({"path": "etc/x"}), "3.6.0", [(E, F0 + ".path")]),
    ("path dotdot", files({"path": "/a/../b"}), "3.6.0", [(E, F0 + ".path")]),
    ("path trailing slash", st(directories=[{"path": "/a/"}]), "3.6.0",
     [(E, "$.storage.directories.0.path")]),
    ("path double slash", st(links=[{"path": "//a", "target": "/b"}]), "3.6.0",
     [(E, "$.storage.links.0.path")]),
    ("root path is clean", st(directories=[{"path": "/"}]), "3.6.0", []),
    ("duplicate file", files({"path": "/a"}, {"path": "/a"}), "3.6.0", [(E, "$.storage.files.1")]),
    ("duplicate across file and link", st(files=[{"path": "/a"}], links=[{"path": "/a", "target": "/b"}]),
     "3.6.0", [(E, "$.storage.links.0")]),
    ("duplicate across directory and file", st(files=[{"path": "/a"}], directories=[{"path": "/a"}]),
     "3.6.0", [(E, "$.storage.files.0")]),
    ("file under a link", st(files=[{"path": "/l/x"}], links=[{"path": "/l", "target": "/t"}]),
     "3.6.0", [(E, F0)]),
    ("link under a link", st(links=[{"path": "/l", "target": "/t"}, {"path": "/l/x", "target": "/t"}]),
     "3.6.0", [(E, "$.storage.links.1")]),
    ("prefix is not under", st(files=[{"path": "/lx"}], links=[{"path": "/l", "target": "/t"}]),
     "3.6.0", []),
    ("file at a unit path", {**files({"path": "/etc/systemd/system/a.service"}),
                             **units({"name": "a.service", "contents": INSTALL})},
     "3.6.0", [(E, F0 + ".path")]),
    ("directory at a dropin path", {**st(directories=[{"path": "/etc/systemd/system/a.service.d/x.conf"}]),
                                    **units({"name": "a.service", "dropins": [
                                        {"name": "x.conf", "contents": "[Unit]\nA=b\n"}]})},
     "3.6.0", [(E, "$.storage.directories.0.path")]),
    ("file at a unit path without contents", {**files({"path": "/etc/systemd/system/a.service"}),
                                              **units({"name": "a.service", "enabled": True})},
     "3.6.0", []),
    # --- resources ---
    ("sources valid", st(files=[src("http://h/a"), {**src("https://h/a"), "path": "/b"},
                                {**src("tftp://h/a"), "path": "/c"}, {**src("s3://b/k?versionId=1"), "path": "/d"},
                                {**src("data:,hello%20x"), "path": "/e"}, {**src("gs://b/o"), "path": "/g"},
                                {**src("arn:aws:s3:::bucket/key"), "path": "/h"},
                                {**src("data:;base64,aGk="), "path": "/i"}]), "3.4.0", []),
    ("empty source is no source", files(src("")), "3.6.0", []),
    ("unknown scheme", files(src("ftp://h/a")), "3.6.0", [(E, C0 + ".source")]),
    ("no scheme", files(src("h/a")), "3.6.0", [(E, C0 + ".source")]),
    ("unparsable url", files(src("http://[::1")), "3.6.0", [(E, C0 + ".source")]),
    ("gs before 3.2", files(src("gs://b/o")), "3.1.0", [(E, C0 + ".source")]),
    ("gs in 3.2", files(src("gs://b/o")), "3.2.0", []),
    ("arn before 3.4", files(src("arn:aws:s3:::bucket/key")), "3.3.0", [(E, C0 + ".source")]),
    ("arn not s3", files(src("arn:aws:iam::123456789012:role/x")), "3.4.0", [(E, C0 + ".source")]),
    ("arn without object", files(src("arn:aws:s3:::bucket")), "3.4.0", [(E, C0 + ".source")]),
    ("arn access point", files(src("arn:aws:s3:us-east-1:123456789012:accesspoint/ap/object/k")),
     "3.4.0", []),
    ("s3 empty versionId", files(src("s3://b/k?versionId=")), "3.6.0", [(E, C0 + ".source")]),
    ("s3 first versionId counts", files(src("s3://b/k?versionId=1&versionId=")), "3.6.0", []),
    ("data url bad base64", files(src("data:;base64,!!!")), "3.6.0", [(E, C0 + ".source")]),
    ("data url without comma", files(src("data:text/plain")), "3.6.0", [(E, C0 + ".source")]),
    ("compression gzip", files(src("https://h/a.gz", compression="gzip")), "3.6.0", []),
    ("compression xz", files(src("https://h/a", compression="xz")), "3.6.0", [(E, C0 + ".compression")]),
    ("sha512 valid", files(src("https://h/a", verification={"hash": SHA512})), "3.0.0", []),
    ("sha256 valid from 3.1", files(src("https://h/a", verification={"hash": SHA256})), "3.1.0", []),
    ("sha256 before 3.1", files(src("https://h/a", verification={"hash": SHA256})), "3.0.0",
     [(E, C0 + ".verification.hash")]),
    ("hash malformed", files(src("https://h/a", verification={"hash": "sha512"})), "3.6.0",
     [(E, C0 + ".verification.hash")]),
    ("hash unrecognized", files(src("https://h/a", verification={"hash": "md5-" + "a" * 32})), "3.6.0",
     [(E, C0 + ".verification.hash")]),
    ("hash wrong size", files(src("https://h/a", verification={"hash": "sha512-abcd"})), "3.6.0",
     [(E, C0 + ".verification.hash")]),
    ("hash not hex", files(src("https://h/a", verification={"hash": "sha256-" + "z" * 64})), "3.6.0",
     [(E, C0 + ".verification.hash")]),
    ("verification without source", files({"path": "/f", "contents": {"verification": {"hash": SHA512}}}),
     "3.6.0", [(E, C0 + ".verification.hash")]),
    ("headers valid", files(src("https://h/a", httpHeaders=[{"name": "A", "value": "1"}, {"name": "B"}])),
     "3.6.0", []),
    ("headers with tftp", files(src("tftp://h/a", httpHeaders=[{"name": "A", "value": "1"}])), "3.6.0",
     [(E, C0 + ".httpHeaders")]),
    ("headers without source", files({"path": "/f", "contents": {"httpHeaders": [{"name": "A"}]}}),
     "3.6.0", [(E, C0 + ".httpHeaders")]),
    ("header name empty", files(src("https://h/a", httpHeaders=[{"name": "", "value": "1"}])), "3.6.0",
     [(E, C0 + ".httpHeaders.0.name")]),
    ("header duplicate", files(src("https://h/a", httpHeaders=[{"name": "A"}, {"name": "A"}])), "3.6.0",
     [(E, C0 + ".httpHeaders.1")]),
    ("header empty value", files(src("https://h/a", httpHeaders=[{"name": "A", "value": ""}])), "3.6.0",
     [(E, C0 + ".httpHeaders.0.value")]),
    ("empty header names collide", files(src("https://h/a", httpHeaders=[{"name": ""}, {"name": ""}])),
     "3.6.0", [(E, C0 + ".httpHeaders.0.name"), (E, C0 + ".httpHeaders.1.name"), (E, C0 + ".httpHeaders.1")]),
    ("append checked", files({"path": "/f", "append": [{"source": "ftp://x"}]}), "3.6.0",
     [(E, F0 + ".append.0.source")]),
    ("ignition resources valid", {"ignition": {"version": "3.6.0", "config": {
        "merge": [{"source": "https://h/m.ign"}], "replace": {"source": "data:,%7B%7D"}},
        "security": {"tls": {"certificateAuthorities": [{"source": "https://h/ca.pem"}]}}}}, "3.6.0", []),
    ("merge without source", {"ignition": {"version": "3.6.0", "config": {"merge": [{}]}}}, "3.6.0",
     [(E, "$.ignition.config.merge.0")]),
    ("merge duplicate", {"ignition": {"version": "3.6.0", "config": {
        "merge": [{"source": "https://h/m"}, {"source": "https://h/m"}]}}}, "3.6.0",
     [(E, "$.ignition.config.merge.1")]),
    ("empty merge sources collide", {"ignition": {"version": "3.6.0", "config": {
        "merge": [{"source": ""}, {"source": ""}]}}}, "3.6.0",
     [(E, "$.ignition.config.merge.0"), (E, "$.ignition.config.merge.1"), (E, "$.ignition.config.merge.1")]),
    # Ignition requires a source only for merge entries and CAs: a replace without one is no replace.
    ("replace configured without source", {"ignition": {"version": "3.6.0", "config": {
        "replace": {"compression": "gzip"}}}}, "3.6.0", []),
    ("ca without source", {"ignition": {"version": "3.6.0", "security": {"tls": {
        "certificateAuthorities": [{"compression": "gzip"}]}}}}, "3.6.0",
     [(E, "$.ignition.security.tls.certificateAuthorities.0")]),
    ("proxy valid", {"ignition": {"version": "3.6.0", "proxy": {
        "httpProxy": "http://p:3128", "httpsProxy": "https://p:3129", "noProxy": ["x"]}}}, "3.6.0", []),
    ("proxy bad scheme", {"ignition": {"version": "3.6.0", "proxy": {"httpProxy": "socks5://p"}}}, "3.6.0",
     [(E, "$.ignition.proxy.httpProxy")]),
    ("https proxy over http warns", {"ignition": {"version": "3.6.0", "proxy": {"httpsProxy": "http://p"}}},
     "3.6.0", [(W, "$.ignition.proxy.httpsProxy")]),
    ("noProxy duplicate", {"ignition": {"version": "3.6.0", "proxy": {"noProxy": ["a", "a"]}}}, "3.6.0",
     [(E, "$.ignition.proxy.noProxy.1")]),
    # --- files, directories, links ---
    ("overwrite with source", files({**src("data:,x"), "overwrite": True}), "3.6.0", []),
    ("overwrite without source", files({"path": "/f", "overwrite": True}), "3.6.0", [(E, F0 + ".overwrite")]),
    ("mode max", files({"path": "/f", "mode": 0o7777}), "3.6.0", []),
    ("mode too big", files({"path": "/f", "mode": 0o10000}), "3.6.0", [(E, F0 + ".mode")]),
    ("mode negative", st(directories=[{"path": "/d", "mode": -1}]), "3.6.0",
     [(E, "$.storage.directories.0.mode")]),
    ("owner by id or name", files({"path": "/f", "user": {"id": 0}, "group": {"name": "wheel"}}), "3.6.0", []),
    ("user id and name", files({"path": "/f", "user": {"id": 0, "name": "root"}}), "3.6.0",
     [(E, F0 + ".user")]),
    ("group id and name", st(directories=[{"path": "/d", "group": {"id": 0, "name": "root"}}]), "3.6.0",
     [(E, "$.storage.directories.0.group")]),
    ("link without target", st(links=[{"path": "/l"}]), "3.6.0", [(E, "$.storage.links.0.target")]),
    ("link with empty target", st(links=[{"path": "/l", "target": ""}]), "3.6.0",
     [(E, "$.storage.links.0.target")]),
    ("hard link to a file", st(files=[{"path": "/f"}], links=[{"path": "/l", "target": "/f", "hard": True}]),
     "3.6.0", []),
    ("hard link to a directory", st(directories=[{"path": "/d"}],
                                    links=[{"path": "/l", "target": "/d", "hard": True}]),
     "3.6.0", [(E, "$.storage.links.0")]),
    ("hard link owner warns", st(links=[{"path": "/l", "target": "/f", "hard": True,
                                         "user": {"id": 1}, "group": {"name": "g"}}]), "3.6.0",
     [(W, "$.storage.links.0.user.id"), (W, "$.storage.links.0.group.name")]),
    ("symlink owner", st(links=[{"path": "/l", "target": "/f", "user": {"id": 1}}]), "3.6.0", []),
    # --- disks and partitions ---
    ("disk valid", st(disks=[{"device": "/dev/vda", "wipeTable": True, "partitions": [
        {"number": 1, "label": "boot", "startMiB": 1, "sizeMiB": 100, "typeGuid": GUID, "guid": ""},
        {"number": 2, "label": "root", "startMiB": 101, "sizeMiB": 0},
        {"label": "data"}, {"number": 3, "startMiB": 0, "sizeMiB": 50}]}]), "3.6.0", []),
    ("disk device empty", st(disks=[{"device": ""}]), "3.6.0", [(E, "$.storage.disks.0.device")]),
    ("disk device relative", st(disks=[{"device": "vda"}]), "3.6.0", [(E, "$.storage.disks.0.device")]),
    ("disk duplicate", st(disks=[{"device": "/dev/vda"}, {"device": "/dev/vda"}]), "3.6.0",
     [(E, "$.storage.disks.1")]),
    ("partition numbers collide", parts({"number": 1}, {"number": 1, "label": "x"}), "3.6.0",
     [(E, "$.storage.disks.0.partitions.1"), (E, "$.storage.disks.0.partitions.1")]),
    ("partition labels collide", parts({"number": 1, "label": "a"}, {"number": 2, "label": "a"}), "3.6.0",
     [(E, "$.storage.disks.0.partitions.1")]),
    ("partition labels collide without numbers", parts({"label": "a"}, {"label": "a"}), "3.6.0",
     [(E, "$.storage.disks.0.partitions.1"), (E, "$.storage.disks.0.partitions.1")]),
    ("partition needs number or label", part(sizeMiB=10), "3.6.0", [(E, P0)]),
    ("partitions without number or label collide", parts({"sizeMiB": 1}, {"sizeMiB": 2}), "3.6.0",
     [(E, P0), (E, "$.storage.disks.0.partitions.1"), (E, "$.storage.disks.0.partitions.1")]),
    ("partition label 36", part(number=1, label="x" * 36), "3.6.0", []),
    ("partition label too long", part(number=1, label="x" * 37), "3.6.0", [(E, P0 + ".label")]),
    ("partition label colon", part(number=1, label="a:b"), "3.6.0", [(E, P0 + ".label")]),
    ("partition guid bad", part(number=1, guid="1234"), "3.6.0", [(E, P0 + ".guid")]),
    ("partition typeGuid bad", part(number=1, typeGuid="linux"), "3.6.0", [(E, P0 + ".typeGuid")]),
    ("partition delete", part(number=1, shouldExist=False), "3.6.0", []),
    ("partition delete with label", part(number=1, shouldExist=False, label="x"), "3.6.0", [(E, P0)]),
    # Ignition's shouldExist=false check does not cover resize.
    ("partition delete with resize", part(number=1, shouldExist=False, resize=True), "3.6.0", []),
    ("partition delete beside a numberless one", parts({"number": 1, "shouldExist": False}, {"label": "a"}),
     "3.6.0", []),
    ("partition of size 0 starting inside another", parts({"number": 1, "startMiB": 1, "sizeMiB": 10},
                                                          {"number": 2, "startMiB": 10, "sizeMiB": 0}), "3.6.0",
     [(E, "$.storage.disks.0.partitions.1")]),
    ("partition of size 0 before another", parts({"number": 1, "startMiB": 1, "sizeMiB": 0},
                                                 {"number": 2, "startMiB": 1, "sizeMiB": 10}), "3.6.0",
     [(E, "$.storage.disks.0.partitions.1")]),
    ("partition of size 0 after another", parts({"number": 1, "startMiB": 1, "sizeMiB": 10},
                                                {"number": 2, "startMiB": 11, "sizeMiB": 0}), "3.6.0", []),
    ("file at the root", files({"path": "/", "contents": {"source": "data:,x"}, "overwrite": True}), "3.6.0",
     [(E, "$.storage.files.0.path")]),
    ("link at the root", st(links=[{"path": "/", "target": "/x"}]), "3.6.0", [(E, "$.storage.links.0.path")]),
    ("root directory overwritten", st(directories=[{"path": "/", "overwrite": True}]), "3.6.0",
     [(E, "$.storage.directories.0.path")]),
    ("root directory mode", st(directories=[{"path": "/", "mode": 0o755}]), "3.6.0", []),
    ("partitions overlap", parts({"number": 1, "startMiB": 1, "sizeMiB": 10},
                                 {"number": 2, "startMiB": 5, "sizeMiB": 10}), "3.6.0",
     [(E, "$.storage.disks.0.partitions.1")]),
    ("partitions adjacent", parts({"number": 1, "startMiB": 1, "sizeMiB": 10},
                                  {"number": 2, "startMiB": 11, "sizeMiB": 10}), "3.6.0", []),
    ("partition start 0 not checked", parts({"number": 1, "startMiB": 1, "sizeMiB": 10},
                                            {"number": 2, "startMiB": 0, "sizeMiB": 10}), "3.6.0", []),
    # --- filesystems ---
    ("filesystem valid", fs(format="ext4", path="/var", label="var", wipeFilesystem=True,
                            options=["-b", "4096"], mountOptions=["noatime"]), "3.6.0", []),
    ("filesystem bare", fs(), "3.6.0", []),
    ("filesystem device empty", st(filesystems=[{"device": "", "format": "ext4"}]), "3.6.0",
     [(E, FS0 + ".device")]),
    ("filesystem path relative", fs(format="xfs", path="var"), "3.6.0", [(E, FS0 + ".path")]),
    ("filesystem path empty is no path", fs(format="xfs", path=""), "3.6.0", []),
    ("filesystem duplicate", st(filesystems=[{"device": "/dev/vdb"}, {"device": "/dev/vdb"}]), "3.6.0",
     [(E, "$.storage.filesystems.1")]),
    ("filesystem format unknown", fs(format="zfs"), "3.6.0", [(E, FS0 + ".format")]),
    ("filesystem none before 3.3", fs(format="none"), "3.2.0", [(E, FS0 + ".format")]),
    ("filesystem none in 3.3", fs(format="none"), "3.3.0", []),
    ("filesystem needs format", fs(path="/var"), "3.6.0", [(E, FS0 + ".format")]),
    ("filesystem wipe needs format", fs(wipeFilesystem=True), "3.6.0", [(E, FS0 + ".format")]),
    ("filesystem label needs format", fs(label="x"), "3.6.0", [(E, FS0 + ".format"), (E, FS0 + ".label")]),
    ("filesystem ext4 label 16", fs(format="ext4", label="x" * 16), "3.6.0", []),
    ("filesystem ext4 label too long", fs(format="ext4", label="x" * 17), "3.6.0", [(E, FS0 + ".label")]),
    ("filesystem vfat label too long", fs(format="vfat", label="x" * 12), "3.6.0", [(E, FS0 + ".label")]),
    ("filesystem xfs label too long", fs(format="xfs", label="x" * 13), "3.6.0", [(E, FS0 + ".label")]),
    ("filesystem on partitioned disk warns", st(
        disks=[{"device": "/dev/vdb", "partitions": [{"number": 1}]}],
        filesystems=[{"device": "/dev/vdb", "format": "ext4"}]), "3.6.0", [(W, FS0 + ".device")]),
    ("filesystem on wiped disk warns", st(
        disks=[{"device": "/dev/vdb", "wipeTable": True}],
        filesystems=[{"device": "/dev/vdb", "format": "ext4"}]), "3.6.0", [(W, FS0 + ".device")]),
    ("filesystem on wiped disk with wipeFilesystem", st(
        disks=[{"device": "/dev/vdb", "wipeTable": True}],
        filesystems=[{"device": "/dev/vdb", "format": "ext4", "wipeFilesystem": True}]), "3.6.0", []),
    # --- raid ---
    ("raid valid", raid(spares=1), "3.6.0", []),
    ("raid without level", st(raid=[{"name": "md0", "devices": ["/dev/vdb"]}]), "3.6.0",
     [(E, "$.storage.raid.0.level")]),
    ("raid level unknown", raid(level="raid7"), "3.6.0", [(E, "$.storage.raid.0.level")]),
    ("raid0 spares", raid(level="stripe", spares=1), "3.6.0", [(E, "$.storage.raid.0.level")]),
    ("raid without devices", raid(devices=[]), "3.6.0", [(E, "$.storage.raid.0.devices")]),
    ("raid device relative", raid(devices=["vdb"]), "3.6.0", [(E, "$.storage.raid.0.devices.0")]),
    ("raid device duplicate", raid(devices=["/dev/vdb", "/dev/vdb"]), "3.6.0",
     [(E, "$.storage.raid.0.devices.1")]),
    ("raid options may repeat", raid(options=["--x", "--x"]), "3.6.0", []),
    ("raid duplicate", st(raid=[{"name": "a", "level": "1", "devices": ["/dev/x"]},
                                {"name": "a", "level": "1", "devices": ["/dev/y"]}]), "3.6.0",
     [(E, "$.storage.raid.1")]),
    # --- luks ---
    ("luks valid", luks(label="x" * 47, keyFile={"source": "data:,secret"}, clevis={
        "tpm2": True, "threshold": 2, "tang": [{"url": "https://t", "thumbprint": "abc",
                                                "advertisement": "{\"payload\": \"x\"}"}]}), "3.6.0", []),
    ("luks name with slash", st(luks=[{"name": "a/b", "device": "/dev/vda2"}]), "3.6.0", [(E, L0 + ".name")]),
    ("luks label too long", luks(label="x" * 48), "3.6.0", [(E, L0 + ".label")]),
    ("luks without device", st(luks=[{"name": "a"}]), "3.6.0", [(E, L0 + ".device")]),
    ("luks device relative", st(luks=[{"name": "a", "device": "vda2"}]), "3.6.0", [(E, L0 + ".device")]),
    ("luks keyFile bad scheme", luks(keyFile={"source": "file:///k"}), "3.6.0", [(E, L0 + ".keyFile.source")]),
    ("luks duplicate", st(luks=[{"name": "a", "device": "/dev/x"}, {"name": "a", "device": "/dev/y"}]),
     "3.6.0", [(E, "$.storage.luks.1")]),
    ("clevis custom valid", luks(clevis={"custom": {"pin": "tpm2", "config": "{}"}}), "3.5.0", []),
    ("clevis custom any pin in 3.6", luks(clevis={"custom": {"pin": "pkcs11", "config": "{}"}}), "3.6.0", []),
    ("clevis custom pin before 3.6", luks(clevis={"custom": {"pin": "pkcs11", "config": "{}"}}), "3.5.0",
     [(E, L0 + ".clevis.custom.pin")]),
    ("clevis custom with tpm2", luks(clevis={"tpm2": True, "custom": {"pin": "tang", "config": "{}"}}),
     "3.6.0", [(E, L0 + ".clevis")]),
    ("clevis custom config without pin beside threshold", luks(clevis={"threshold": 2, "custom": {"config": "{}"}}),
     "3.6.0", [(E, L0 + ".clevis.custom.pin")]),
    ("clevis custom incomplete", luks(clevis={"custom": {"needsNetwork": True}}), "3.6.0",
     [(E, L0 + ".clevis.custom.pin"), (E, L0 + ".clevis.custom.config")]),
    ("tang bad url", luks(clevis={"tang": [{"url": "ftp://t", "thumbprint": "x"}]}), "3.6.0",
     [(E, L0 + ".clevis.tang.0.url")]),
    ("tang without thumbprint", luks(clevis={"tang": [{"url": "http://t"}]}), "3.6.0",
     [(E, L0 + ".clevis.tang.0.thumbprint")]),
    ("tang bad advertisement", luks(clevis={"tang": [{"url": "http://t", "thumbprint": "x",
                                                      "advertisement": "{nope"}]}), "3.6.0",
     [(E, L0 + ".clevis.tang.0.advertisement")]),
    ("cex valid", luks(cex={"enabled": True}), "3.6.0", []),
    ("cex with clevis", luks(cex={"enabled": True}, clevis={"tpm2": True}), "3.6.0", [(E, L0 + ".cex")]),
    ("cex with key file", luks(cex={"enabled": True}, keyFile={"source": "data:,k"}), "3.6.0",
     [(E, L0 + ".cex")]),
    # --- systemd ---
    ("unit valid", units({"name": "a.service", "enabled": True, "contents": INSTALL,
                          "dropins": [{"name": "10-x.conf", "contents": "[Service]\nEnvironment=A=1 \\\n  B=2\n"}]},
                         {"name": "b.mount", "mask": True}, {"name": "c.timer", "enabled": True}), "3.6.0", []),
    ("unit bad extension", units({"name": "a.conf"}), "3.6.0", [(E, U0 + ".name")]),
    ("unit without extension", units({"name": "sshd"}), "3.6.0", [(E, U0 + ".name")]),
    ("unit named by its extension alone", units({"name": ".service"}), "3.6.0", []),
    ("dropin bad extension", units({"name": "a.service", "dropins": [{"name": "x.txt"}]}), "3.6.0",
     [(E, U0 + ".dropins.0.name")]),
    ("dropin named .conf", units({"name": "a.service", "dropins": [{"name": ".conf"}]}), "3.6.0", []),
    ("unit contents without =", units({"name": "a.service", "contents": "[Unit]\nDescription\n"}), "3.6.0",
     [(E, U0 + ".contents")]),
    ("unit contents unclosed section", units({"name": "a.service", "contents": "[Unit\nA=b\n"}), "3.6.0",
     [(E, U0 + ".contents")]),
    ("unit contents garbage after section", units({"name": "a.service", "contents": "[Unit] x\n"}), "3.6.0",
     [(E, U0 + ".contents")]),
    ("dropin contents bad", units({"name": "a.service", "dropins": [
        {"name": "x.conf", "contents": "[Service]\nfoo bar\n"}]}), "3.6.0", [(E, U0 + ".dropins.0.contents")]),
    ("unit text before a section warns", units({"name": "a.service", "contents": "A=b\n[Unit]\nB=c\n"}),
     "3.6.0", [(W, U0 + ".contents")]),
    ("enabled without install warns", units({"name": "a.service", "enabled": True,
                                             "contents": "[Service]\nExecStart=/bin/true\n"}), "3.6.0",
     [(W, U0 + ".contents")]),
    ("install without WantedBy warns", units({"name": "a.service", "enabled": True,
                                              "contents": "[Install]\nDefaultInstance=x\n"}), "3.6.0",
     [(W, U0 + ".contents")]),
    ("disabled without install", units({"name": "a.service", "enabled": False,
                                        "contents": "[Service]\nExecStart=/bin/true\n"}), "3.6.0", []),
    ("unit duplicate", units({"name": "a.service"}, {"name": "a.service"}), "3.6.0",
     [(E, "$.systemd.units.1")]),
    ("enabled instance of a template without install warns", units(
        {"name": "t@.service", "contents": "[Service]\nExecStart=/bin/true\n"},
        {"name": "t@a.service", "enabled": True}, {"name": "t@b.service"}), "3.6.0",
     [(W, "$.systemd.units.1.contents")]),
    ("enabled instance of a template with install", units(
        {"name": "t@.service", "contents": INSTALL}, {"name": "t@a.service", "enabled": True}), "3.6.0", []),
    ("enabled instance of a template not in the config", units({"name": "t@a.service", "enabled": True}),
     "3.6.0", []),
    ("dropin duplicate", units({"name": "a.service", "dropins": [{"name": "x.conf"}, {"name": "x.conf"}]}),
     "3.6.0", [(E, U0 + ".dropins.1")]),
    # --- passwd ---
    ("passwd valid", {"passwd": {"users": [{"name": "core", "sshAuthorizedKeys": ["ssh-ed25519 A", "ssh-ed25519 B"]},
                                           {"name": "other", "sshAuthorizedKeys": ["ssh-ed25519 A"]}],
                                 "groups": [{"name": "g"}, {"name": "h"}]}}, "3.6.0", []),
    ("user duplicate", {"passwd": {"users": [{"name": "core"}, {"name": "core"}]}}, "3.6.0",
     [(E, "$.passwd.users.1")]),
    ("group duplicate", {"passwd": {"groups": [{"name": "g"}, {"name": "g"}]}}, "3.6.0",
     [(E, "$.passwd.groups.1")]),
    ("ssh key duplicate", {"passwd": {"users": [{"name": "core", "sshAuthorizedKeys": ["k", "k"]}]}}, "3.6.0",
     [(E, "$.passwd.users.0.sshAuthorizedKeys.1")]),
    ("user groups duplicate", {"passwd": {"users": [{"name": "core", "groups": ["wheel", "wheel"]}]}}, "3.6.0",
     [(E, "$.passwd.users.0.groups.1")]),
    # --- kernel arguments ---
    ("kargs valid", {"kernelArguments": {"shouldExist": ["quiet", "a=1"], "shouldNotExist": ["rhgb"]}},
     "3.3.0", []),
    ("kargs duplicate", {"kernelArguments": {"shouldExist": ["quiet", "quiet"]}}, "3.6.0",
     [(E, "$.kernelArguments.shouldExist.1")]),
    ("kargs wanted and unwanted", {"kernelArguments": {"shouldExist": ["quiet"], "shouldNotExist": ["quiet"]}},
     "3.6.0", [(E, "$.kernelArguments.shouldNotExist.0")]),
]


@pytest.mark.parametrize(("cfg", "version", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_semantic_checks(cfg: dict[str, Any], version: str, expected: Expected) -> None:
    got = sorted((e.kind, json_path(e.path)) for e in entries(cfg, version))
    assert got == sorted(expected)


def test_case_names_are_unique() -> None:
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names))


# Ignition's own phrase leads each message (differential tests compare them); what to change follows.
PHRASES: list[tuple[dict[str, Any], str, str]] = [
    (files({"path": "/a"}, {"path": "/a"}), "$.storage.files.1", "duplicate entry defined: "),
    (files({"path": "a"}), F0 + ".path", "path not absolute: start it with /"),
    (files({"path": ""}), F0 + ".path", "path not specified: "),
    (files({"path": "/a/"}), F0 + ".path", "path is not fully simplified: write it as /a"),
    (files({"path": "/f", "mode": 0o10000}), F0 + ".mode", "illegal file mode "),
    (files(src("https://h", compression="xz")), C0 + ".compression", "invalid compression method "),
    (files(src("ftp://h")), C0 + ".source", "invalid url scheme "),
    (files(src("https://h", verification={"hash": "x"})), C0 + ".verification.hash", "malformed hash specifier: "),
    (files(src("https://h", verification={"hash": "md5-00"})), C0 + ".verification.hash",
     "unrecognized hash function "),
    (files(src("https://h", verification={"hash": "sha512-00"})), C0 + ".verification.hash",
     "incorrect size for hash sum: "),
    ({"ignition": {"version": "3.6.0", "config": {"merge": [{}]}}}, "$.ignition.config.merge.0",
     "source is required: "),
    ({"ignition": {"version": "3.6.0", "proxy": {"httpsProxy": "http://p"}}}, "$.ignition.proxy.httpsProxy",
     "insecure plaintext HTTP proxy specified for HTTPS resources: "),
    (st(files=[{"path": "/l/x"}], links=[{"path": "/l", "target": "/t"}]), F0, "file path includes link in config: "),
    (files({"path": "/f", "user": {"id": 0, "name": "root"}}), F0 + ".user", "cannot set both id and name: "),
    (part(sizeMiB=1), P0, "a partition number >= 1 or a label must be specified: "),
    (fs(format="zfs"), FS0 + ".format", "invalid filesystem format "),
    (raid(level="9"), "$.storage.raid.0.level", "unrecognized raid level "),
    (units({"name": "a.conf"}), U0 + ".name", "invalid systemd unit extension: "),
    (units({"name": "a.service", "contents": "[Unit]\nX\n"}), U0 + ".contents", "invalid unit content: "),
    (units({"name": "t@.service", "contents": "[Unit]\n"}, {"name": "t@x.service", "enabled": True}),
     "$.systemd.units.1.contents", 'template unit "t@.service" for "t@x.service" doesn\'t have Install section: '),
    (units({"name": "a.service", "enabled": True, "contents": "[Unit]\n"}), U0 + ".contents",
     'unit "a.service" is enabled, but has no install section so enable does nothing: '),
    (st(disks=[{"device": "/dev/vdb", "partitions": [{"number": 1}]}], filesystems=[{"device": "/dev/vdb"}]),
     FS0 + ".device", "filesystem overwrites partitioned device: "),
]


@pytest.mark.parametrize(("cfg", "path", "phrase"), PHRASES, ids=[p[2].split(":")[0] for p in PHRASES])
def test_messages_start_with_ignitions_phrase(cfg: dict[str, Any], path: str, phrase: str) -> None:
    (entry,) = [e for e in entries(cfg, "3.6.0") if json_path(e.path) == path]
    assert entry.message.startswith(phrase)
    assert entry.line > 0  # placed in the text like the schema's entries


def test_invalid_config_raises_with_every_error_and_place() -> None:
    text = ('{"ignition": {"version": "3.6.0"},\n "storage": {"files": [{"path": "a"},\n'
            ' {"path": "/b", "mode": 99999}]}}')
    with pytest.raises(ConfigError) as e:
        parse(text.encode())
    lines = str(e.value).splitlines()
    assert lines[0] == "config is not valid:"
    assert lines[1].startswith("error at $.storage.files.0.path, line 2 col 33: path not absolute")
    assert lines[2].startswith("error at $.storage.files.1.mode, line 3 col 25: illegal file mode")


def test_warnings_alone_keep_the_config_valid() -> None:
    p = parse(json.dumps({"ignition": {"version": "3.6.0", "proxy": {"httpsProxy": "http://p"}}}).encode())
    (w,) = p.report.entries
    assert w.kind == "warning" and w.line == 1


def test_messages_never_quote_a_data_url() -> None:
    secret = "data:;base64,c2VjcmV0!!"
    (entry,) = entries(files(src(secret)), "3.6.0")
    assert "c2VjcmV0" not in entry.message


@pytest.mark.parametrize(("p", "clean"), [("/a/b", "/a/b"), ("/a/", "/a"), ("//a", "/a"), ("/a/./b", "/a/b"),
                                          ("/../a", "/a"), ("", "."), ("/", "/"), ("a//b", "a/b")])
def test_go_clean(p: str, clean: str) -> None:
    assert go_clean(p) == clean


def test_unit_parser_reads_sections_continuations_and_comments() -> None:
    u = parse_unit("# top\n[Unit]\n; c\nDescription = a b \n\n[Service]\nExecStart=/bin/a \\\n  -x\\\n  -y\n")
    assert [(o.section, o.name, o.value) for o in u.options] == [
        ("Unit", "Description", "a b"), ("Service", "ExecStart", "/bin/a  -x -y")]
    assert u.stray_lines == ()
    assert parse_unit("A=1\n[S]\n").stray_lines == (1,)
    assert parse_unit("[S]\nA=b\\").options[0].value == "b"


@pytest.mark.parametrize("text", ["[S]\nA", "[S", "[S] x\n", "[S]\nA=1\nfoo bar\n"])
def test_unit_parser_rejects(text: str) -> None:
    with pytest.raises(UnitSyntaxError):
        parse_unit(text)
