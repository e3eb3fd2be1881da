"""Writes the validation corpus: one config file per case plus manifest.json.

Run `python tests/data/configs/generate.py` after changing a case; commit the generated files
together with this script. Each case states what a correct validator must say (verdict, error
paths, warning paths, JSON paths as our report prints them); the expectations are written by
hand from Ignition's rules (inventory §2.2), not copied from our output.

Manifest fields per case:
- file, version (the spec string the config declares; for syntax errors the one it meant),
  valid, errors, warnings (sorted lists of JSON paths; a path repeats when it has two entries)
- go_differs: why Go's ignition-validate 2.14 gives the other verdict (the oracle test asserts
  that it still does)
- ours_bug: why our validator is wrong on this case today (test_corpus expects the failure)
- note: anything else worth knowing
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
VERSIONS = ("3.0.0", "3.1.0", "3.2.0", "3.3.0", "3.4.0", "3.5.0", "3.6.0")
SHA512 = "sha512-" + "0123456789abcdef" * 8
SHA256 = "sha256-" + "0123456789abcdef" * 4
GUID = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
INSTALL = "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n"
NO_INSTALL = "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n"

# Reasons shared by several cases
GO_UNIT_PATH = ("a node at a systemd unit/dropin path is an error since Ignition 2.15; "
                "ignition-validate 2.14 accepts it")
GO_EXPERIMENTAL = ("Ignition 2.14 accepts 3.4.0-experimental (its own experimental spec); current "
                   "Ignition and we reject every old experimental version")

NAME_REQUIRED = ("the spec marks name required, but Ignition (2.14 and current) never checks that it is set; "
                 "an array, volume, user or group without a name cannot be created, so ours rejects it")

CASES: list[dict[str, Any]] = []


def minor(version: str) -> int:
    return int(version.split(".")[1])


def add(name: str, cfg: dict[str, Any] | None = None, version: str = "3.6.0", *,
        errors: tuple[str, ...] | list[str] = (), warnings: tuple[str, ...] | list[str] = (),
        text: str | bytes | None = None, valid: bool | None = None, go_differs: str | None = None,
        ours_bug: str | None = None, note: str | None = None) -> None:
    if text is None:
        body = dict(cfg or {})
        ign = dict(body.get("ignition") or {})
        ign.setdefault("version", version)
        body = {"ignition": ign, **{k: v for k, v in body.items() if k != "ignition"}}
        text = json.dumps(body, indent=2) + "\n"
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    taken = {c["file"] for c in CASES}
    n = 2
    while f"{slug}.json" in taken:
        slug = re.sub(r"-\d+$", "", slug) if n > 2 else slug
        slug, n = f"{slug}-{n}", n + 1
    case: dict[str, Any] = {
        "file": f"{slug}.json",
        "name": name,
        "version": version,
        "valid": (not errors) if valid is None else valid,
        "errors": sorted(errors),
        "warnings": sorted(warnings),
        "_text": text,
    }
    for key, value in (("go_differs", go_differs), ("ours_bug", ours_bug), ("note", note)):
        if value:
            case[key] = value
    CASES.append(case)


def st(**kw: Any) -> dict[str, Any]:
    return {"storage": kw}


def files(*fs: dict[str, Any]) -> dict[str, Any]:
    return st(files=list(fs))


def src(source: str, path: str = "/f", **kw: Any) -> dict[str, Any]:
    return {"path": path, "contents": {"source": source, **kw}}


def units(*us: dict[str, Any]) -> dict[str, Any]:
    return {"systemd": {"units": list(us)}}


def parts(*ps: dict[str, Any]) -> dict[str, Any]:
    return st(disks=[{"device": "/dev/vda", "partitions": list(ps)}])


def fs(**kw: Any) -> dict[str, Any]:
    return st(filesystems=[{"device": "/dev/vdb", **kw}])


def luks(**kw: Any) -> dict[str, Any]:
    return st(luks=[{"name": "root", "device": "/dev/vda2", **kw}])


def raid(**kw: Any) -> dict[str, Any]:
    return st(raid=[{"name": "md0", "level": "raid1", "devices": ["/dev/vdb", "/dev/vdc"], **kw}])


def ign(version: str, **kw: Any) -> dict[str, Any]:
    return {"ignition": {"version": version, **kw}}


F0 = "$.storage.files.0"
C0 = F0 + ".contents"
D0 = "$.storage.directories.0"
LK0 = "$.storage.links.0"
P0 = "$.storage.disks.0.partitions.0"
P1 = "$.storage.disks.0.partitions.1"
FS0 = "$.storage.filesystems.0"
L0 = "$.storage.luks.0"
R0 = "$.storage.raid.0"
U0 = "$.systemd.units.0"
M = "$.ignition.config.merge"
RP = "$.ignition.config.replace"
CA = "$.ignition.security.tls.certificateAuthorities"


def versions_since(m: int) -> list[str]:
    return [v for v in VERSIONS if minor(v) >= m]


# ---------------------------------------------------------------- versions and syntax
for v in VERSIONS:
    add(f"minimal {v}", {}, v)
add("empty text", text="", version="3.6.0", valid=False, note="EmptyConfig: not a config (empty)")
add("whitespace only", text=" \n\t\n", version="3.6.0", valid=False, note="EmptyConfig: not a config (empty)")
SYNTAX = {
    "truncated object": '{\n  "ignition": {"version": "3.3.0"}\n',
    "trailing comma": '{"ignition": {"version": "3.3.0"},}\n',
    "single quotes": "{'ignition': {'version': '3.3.0'}}\n",
    "unquoted key": '{ignition: {"version": "3.3.0"}}\n',
    "comment": '// config\n{"ignition": {"version": "3.3.0"}}\n',
    "extra closing brace": '{"ignition": {"version": "3.3.0"}}}\n',
    "missing colon": '{"ignition" {"version": "3.3.0"}}\n',
    "bare word": "ignition\n",
    "two objects": '{"ignition": {"version": "3.3.0"}}\n{"ignition": {"version": "3.3.0"}}\n',
    "byte order mark": '\ufeff{"ignition": {"version": "3.3.0"}}\n',
    "control char in string": '{"ignition": {"version": "3.3.0"}, "storage": {"files": [{"path": "/a\tb"}]}}\n',
    "bad escape": '{"ignition": {"version": "3.3.0"}, "storage": {"files": [{"path": "/a\\qb"}]}}\n',
    "syntax error deep inside": ('{\n  "ignition": {"version": "3.3.0"},\n  "storage": {\n    "files": [\n'
                                 '      {"path": "/a", "mode": 420,}\n    ]\n  }\n}\n'),
}
for name, t in SYNTAX.items():
    add(f"syntax {name}", text=t, version="3.3.0", errors=["$"])
add("syntax not utf-8", text=b'{"ignition": {"version": "3.3.0"}, "storage": {"files": [{"path": "/\xff"}]}}\n',
    version="3.3.0", errors=["$"],
    go_differs="Go's JSON decoder (2.14 and current Ignition) replaces invalid UTF-8 with U+FFFD and accepts "
               "the config; ours rejects it deliberately (RFC 8259 JSON is UTF-8, and a path with U+FFFD is "
               "never what the user meant)")
add("syntax NaN number", text='{"ignition": {"version": "3.3.0"}, "storage": {"files": [{"path": "/a", '
                              '"mode": NaN}]}}\n', version="3.3.0", errors=["$"])
add("syntax Infinity under an unknown key", text='{"ignition": {"version": "3.3.0"}, "x": -Infinity}\n',
    version="3.3.0", errors=["$"])
for name, t in {"top-level array": "[1, 2]\n", "top-level string": '"3.3.0"\n',
                "top-level null": "null\n", "top-level number": "3\n"}.items():
    add(f"syntax {name}", text=t, version="3.3.0", errors=["$"])

V = "$.ignition.version"
for bad in ("3.0", "three", "", "v3.0.0", "3.0.0.0", " 3.0.0", "3.0.0 ", "-3.0.0"):
    add(f"version unparsable {bad!r}", text=json.dumps({"ignition": {"version": bad}}) + "\n",
        version=bad, errors=[V])
add("version with leading zero", text='{"ignition": {"version": "03.3.0"}}\n', version="03.3.0")
add("version with empty pre-release", text='{"ignition": {"version": "3.3.0-"}}\n', version="3.3.0-")
add("version missing", text='{"ignition": {}}\n', version="", errors=[V])
add("version null", text='{"ignition": {"version": null}}\n', version="", errors=[V])
add("version a number", text='{"ignition": {"version": 3}}\n', version="3", errors=[V])
add("ignition section missing", text='{"storage": {}}\n', version="", errors=[V])
add("ignition not an object", text='{"ignition": "3.3.0"}\n', version="", errors=[V],
    note="ours reports the missing version; the type error is not reported separately")
GO_V2 = ("Container Linux spec 2.x: translated to 3.1.0 as Flatcar's converter does; upstream Ignition "
         "(and Go 2.14) reject it")
for good in ("2.0.0", "2.1.0", "2.2.0", "2.3.0", "2.4.0"):
    add(f"version container linux {good}", text=json.dumps({"ignition": {"version": good}}) + "\n",
        version=good, go_differs=GO_V2)
for bad in ("3.7.0", "4.0.0", "3.3.1", "1.0.0", "2.5.0-experimental", "3.0.0-experimental", "3.3.0-experimental",
            "3.5.0-experimental", "3.6.0-experimental", "3.7.0-experimental"):
    add(f"version unsupported {bad}", text=json.dumps({"ignition": {"version": bad}}) + "\n",
        version=bad, errors=[V])
add("version 3.4.0-experimental", text='{"ignition": {"version": "3.4.0-experimental"}}\n',
    version="3.4.0-experimental", errors=[V], go_differs=GO_EXPERIMENTAL)
add("3.4.0-experimental with luks discard", luks(discard=True), "3.4.0-experimental", errors=[V],
    go_differs=GO_EXPERIMENTAL)
add("3.4.0-experimental full of errors", files({"path": "a"}), "3.4.0-experimental", errors=[V],
    note="ours stops at the version; Go 2.14 reports the path")
add("version with build metadata", text='{"ignition": {"version": "3.3.0+build.1"}}\n',
    version="3.3.0+build.1", errors=[V])
add("version key capitalised", text='{"ignition": {"Version": "3.3.0"}}\n', version="3.3.0",
    warnings=["$.ignition.Version"])
add("duplicate ignition key", text='{"ignition": {"version": "3.1.0"}, "ignition": {"version": "3.3.0"}}\n',
    version="3.3.0", note="the last duplicate wins, in Go and in Python")
add("2.x config with 2.x fields",
    text=json.dumps({"ignition": {"version": "2.3.0"}, "storage": {"files": [
        {"filesystem": "root", "path": "/etc/hostname", "mode": 420, "contents": {"source": "data:,core"}}]},
        "networkd": {"units": [{"name": "00-eth0.network", "contents": "[Match]\nName=eth0\n"}]}}, indent=2),
    version="2.3.0", go_differs=GO_V2)

# ---------------------------------------------------------------- types and nulls
add("type storage is a list", {"storage": []}, "3.3.0", errors=["$.storage"])
add("type files is an object", {"storage": {"files": {"path": "/a"}}}, "3.3.0", errors=["$.storage.files"])
add("type mode is a string", files({"path": "/a", "mode": "0644"}), "3.3.0", errors=[F0 + ".mode"])
add("type path is a number", files({"path": 1}), "3.3.0", errors=[F0 + ".path"])
add("type overwrite is a string", files({"path": "/a", "overwrite": "true"}), "3.3.0",
    errors=[F0 + ".overwrite"])
add("type user id is a string", files({"path": "/a", "user": {"id": "0"}}), "3.3.0", errors=[F0 + ".user.id"])
add("type units is an object", {"systemd": {"units": {}}}, "3.3.0", errors=["$.systemd.units"])
add("type enabled is a number", units({"name": "a.service", "enabled": 1}), "3.3.0", errors=[U0 + ".enabled"])
add("type ssh keys is a string", {"passwd": {"users": [{"name": "core", "sshAuthorizedKeys": "ssh-ed25519 A"}]}},
    "3.3.0", errors=["$.passwd.users.0.sshAuthorizedKeys"])
add("type kernel argument is a number", {"kernelArguments": {"shouldExist": [1]}}, "3.3.0",
    errors=["$.kernelArguments.shouldExist.0"])
add("type timeout is a string", ign("3.3.0", timeouts={"httpTotal": "10"}), "3.3.0",
    errors=["$.ignition.timeouts.httpTotal"])
add("type mode is a float", files({"path": "/a", "mode": 420.5}), "3.3.0", errors=[F0 + ".mode"])
add("type mode is an integral float", text=('{"ignition": {"version": "3.3.0"}, "storage": {"files": '
                                            '[{"path": "/a", "mode": 420.0}]}}\n'),
    version="3.3.0", errors=[F0 + ".mode"],
    note="JSON Schema would call 420.0 an integer; Go's decoder rejects a fraction part for an int field")
add("type mode in exponent notation", text=('{"ignition": {"version": "3.3.0"}, "storage": {"files": '
                                            '[{"path": "/a", "mode": 4.2e2}]}}\n'),
    version="3.3.0", errors=[F0 + ".mode"], note="Go rejects exponent notation for an int field")
add("type uid overflows int64", text=('{"ignition": {"version": "3.3.0"}, "passwd": {"users": '
                                      '[{"name": "a", "uid": 9223372036854775808}]}}\n'),
    version="3.3.0", errors=["$.passwd.users.0.uid"])
add("nulls everywhere", text=json.dumps({"ignition": {"version": "3.3.0", "config": None, "timeouts": None},
                                        "storage": {"files": None, "disks": None}, "systemd": None,
                                        "passwd": {"users": None}}) + "\n", version="3.3.0")
add("null mode and user", files({"path": "/a", "mode": None, "user": None, "contents": None}), "3.3.0")
add("null path", files({"path": None}), "3.3.0", errors=[F0 + ".path"])
add("null unit name", units({"name": None}), "3.3.0", errors=[U0 + ".name"])

V33 = '{"ignition": {"version": "3.3.0"}, '
add("deeply nested unknown value", text=V33 + '"x": ' + "[" * 1000 + "]" * 1000 + "}\n", version="3.3.0",
    warnings=["$.x"])
add("syntax nesting too deep", text=V33 + '"x": ' + "[" * 20000 + "]" * 20000 + "}\n", version="3.3.0",
    errors=["$"])
add("integer of 5000 digits under an unknown key", text=V33 + '"x": ' + "9" * 5000 + "}\n", version="3.3.0",
    warnings=["$.x"])
add("integer of 5000 digits as mode", text=V33 + '"storage": {"files": [{"path": "/a", "mode": ' + "9" * 5000
    + "}]}}\n", version="3.3.0", errors=[F0 + ".mode"])

# ---------------------------------------------------------------- unknown keys
add("unknown top-level key", {"storge": {}}, "3.3.0", warnings=["$.storge"])
add("unknown key in ignition", ign("3.3.0", cofig={}), "3.3.0", warnings=["$.ignition.cofig"])
add("unknown key in a file", files({"path": "/a", "permissions": 420}), "3.3.0",
    warnings=[F0 + ".permissions"])
add("unknown key in a resource", files(src("https://h/a", sha="x")), "3.3.0", warnings=[C0 + ".sha"])
add("unknown key in a partition", parts({"number": 1, "size": 100}), "3.3.0", warnings=[P0 + ".size"])
add("unknown key in a unit", units({"name": "a.service", "enable": True}), "3.3.0", warnings=[U0 + ".enable"])
add("unknown keys with an error", {**files({"path": "a", "x": 1}), "y": 2}, "3.3.0",
    errors=[F0 + ".path"], warnings=[F0 + ".x", "$.y"])
add("unknown key differing in case", files({"Path": "/a", "path": "/a"}), "3.3.0",
    warnings=[F0 + ".Path"], note="Go's JSON decoder matches keys case-insensitively")
add("file key Path capitalised", files({"Path": "/a"}), "3.3.0", warnings=[F0 + ".Path"])
add("later field in 3.0: proxy", ign("3.0.0", proxy={"httpProxy": "http://p"}), "3.0.0",
    warnings=["$.ignition.proxy"])
add("later field in 3.1: luks", luks(), "3.1.0", warnings=["$.storage.luks"])
add("later field in 3.2: kernelArguments", {"kernelArguments": {"shouldExist": ["quiet"]}}, "3.2.0",
    warnings=["$.kernelArguments"])
add("later field in 3.1: partition resize", parts({"number": 1, "resize": True}), "3.1.0",
    warnings=[P0 + ".resize"])
add("later field in 3.1: user shouldExist", {"passwd": {"users": [{"name": "a", "shouldExist": False}]}},
    "3.1.0", warnings=["$.passwd.users.0.shouldExist"])
add("later field in 3.0: mountOptions", fs(format="ext4", mountOptions=["ro"]), "3.0.0",
    warnings=[FS0 + ".mountOptions"])
add("later field in 3.0: merge httpHeaders", ign("3.0.0", config={"merge": [
    {"source": "https://h/m", "httpHeaders": [{"name": "A", "value": "b"}]}]}), "3.0.0",
    warnings=[M + ".0.httpHeaders"])
add("later field in 3.3: luks discard", luks(discard=True), "3.3.0", warnings=[L0 + ".discard"])
add("later field in 3.4: luks cex", luks(cex={"enabled": True}), "3.4.0", warnings=[L0 + ".cex"])
add("later field in 3.3: tang advertisement", luks(clevis={"tang": [
    {"url": "http://t", "thumbprint": "x", "advertisement": "{}"}]}), "3.3.0",
    warnings=[L0 + ".clevis.tang.0.advertisement"])

# ---------------------------------------------------------------- special mode bits
for v in VERSIONS:
    w = [] if minor(v) >= 6 else [F0 + ".mode"]
    add(f"setuid file mode {v}", files({"path": "/usr/bin/x", "mode": 0o4755}), v, warnings=w)
for v in ("3.0.0", "3.3.0", "3.5.0", "3.6.0"):
    w = [] if minor(v) >= 6 else [D0 + ".mode"]
    add(f"sticky directory mode {v}", st(directories=[{"path": "/tmp/x", "mode": 0o1777}]), v, warnings=w)
add("setgid and plain modes 3.3.0", files({"path": "/a", "mode": 0o2755}, {"path": "/b", "mode": 0o644}),
    "3.3.0", warnings=[F0 + ".mode"])
for v in ("3.0.0", "3.3.0", "3.6.0"):
    add(f"mode too big {v}", files({"path": "/f", "mode": 0o10000}), v, errors=[F0 + ".mode"])
    # -1 has every bit set, 07000 included: Ignition warns about them too before 3.6
    add(f"mode negative {v}", st(directories=[{"path": "/d", "mode": -1}]), v, errors=[D0 + ".mode"],
        warnings=[D0 + ".mode"] if minor(v) < 6 else [],
        note="ours' error message quotes the mode after masking (-3585), not -1" if minor(v) < 6 else None)
add("mode max 3.6.0", files({"path": "/f", "mode": 0o7777}), "3.6.0")
add("mode zero", files({"path": "/f", "mode": 0}), "3.3.0")

# ---------------------------------------------------------------- node paths
for v in VERSIONS:
    add(f"nodes valid {v}", st(files=[{"path": "/a"}], directories=[{"path": "/d"}],
                               links=[{"path": "/l", "target": "/a"}]), v)
    add(f"file path relative {v}", files({"path": "etc/x"}), v, errors=[F0 + ".path"])
add("file path empty", files({"path": ""}), "3.3.0", errors=[F0 + ".path"])
add("file path dotdot", files({"path": "/a/../b"}), "3.3.0", errors=[F0 + ".path"])
add("file path dot", files({"path": "/a/./b"}), "3.3.0", errors=[F0 + ".path"])
add("directory path trailing slash", st(directories=[{"path": "/a/"}]), "3.3.0", errors=[D0 + ".path"])
add("link path double slash", st(links=[{"path": "//a", "target": "/b"}]), "3.3.0", errors=[LK0 + ".path"])
add("directory root path", st(directories=[{"path": "/"}]), "3.3.0")
add("file path missing", files({"mode": 420}), "3.3.0", errors=[F0 + ".path"])
add("duplicate file", files({"path": "/a"}, {"path": "/a"}), "3.3.0", errors=["$.storage.files.1"])
add("duplicate file and link", st(files=[{"path": "/a"}], links=[{"path": "/a", "target": "/b"}]), "3.3.0",
    errors=[LK0])
add("duplicate directory and file", st(files=[{"path": "/a"}], directories=[{"path": "/a"}]), "3.3.0",
    errors=[F0])
add("duplicate directory", st(directories=[{"path": "/a"}, {"path": "/a"}]), "3.0.0",
    errors=["$.storage.directories.1"])
add("file under a link", st(files=[{"path": "/l/x"}], links=[{"path": "/l", "target": "/t"}]), "3.3.0",
    errors=[F0])
add("directory under a link", st(directories=[{"path": "/l/x/y"}], links=[{"path": "/l", "target": "/t"}]),
    "3.3.0", errors=[D0])
add("link under a link", st(links=[{"path": "/l", "target": "/t"}, {"path": "/l/x", "target": "/t"}]),
    "3.3.0", errors=["$.storage.links.1"])
GO_PATH_BYTES = ("Go 2.14 checks only that a path is absolute and clean, so a NUL byte or a name longer "
                 "than Linux allows passes validation and fails in the files stage; ours rejects what no "
                 "filesystem can hold before anything is written")
add("NUL byte in a file path", files({"path": "/etc/a\u0000b"}), "3.3.0", errors=[F0 + ".path"],
    go_differs=GO_PATH_BYTES)
add("NUL byte in a directory path", st(directories=[{"path": "/\u0000"}]), "3.6.0", errors=[D0 + ".path"],
    go_differs=GO_PATH_BYTES)
add("NUL byte in a link target", st(links=[{"path": "/l", "target": "/t\u0000"}]), "3.6.0",
    errors=[LK0 + ".target"], go_differs=GO_PATH_BYTES)
add("NUL byte in a filesystem path", st(filesystems=[{"device": "/dev/vdb", "format": "ext4",
                                                      "path": "/var\u0000"}]), "3.6.0",
    errors=["$.storage.filesystems.0.path"], go_differs=GO_PATH_BYTES)
add("file name of 256 bytes", files({"path": "/" + "a" * 256}), "3.6.0", errors=[F0 + ".path"],
    go_differs=GO_PATH_BYTES)
add("file name of 255 bytes", files({"path": "/" + "a" * 255}), "3.6.0")
add("file name of 128 two-byte characters", files({"path": "/" + "\u00e9" * 128}), "3.6.0",
    errors=[F0 + ".path"], go_differs=GO_PATH_BYTES)
add("file path of 4200 bytes", files({"path": ("/" + "d" * 200) * 21}), "3.6.0", errors=[F0 + ".path"],
    go_differs=GO_PATH_BYTES)
add("file path of 4095 bytes", files({"path": ("/" + "d" * 194) * 21}), "3.6.0")
add("path sharing a prefix with a link", st(files=[{"path": "/lx"}], links=[{"path": "/l", "target": "/t"}]),
    "3.3.0")
for v in ("3.3.0", "3.6.0"):
    add(f"file at a unit path {v}", {**files({"path": "/etc/systemd/system/a.service"}),
                                     **units({"name": "a.service", "contents": INSTALL})}, v,
        errors=[F0 + ".path"], go_differs=GO_UNIT_PATH if minor(v) <= 3 else None)
add("directory at a dropin path", {**st(directories=[{"path": "/etc/systemd/system/a.service.d/x.conf"}]),
                                   **units({"name": "a.service", "dropins": [
                                       {"name": "x.conf", "contents": "[Unit]\nA=b\n"}]})}, "3.3.0",
    errors=[D0 + ".path"], go_differs=GO_UNIT_PATH)
add("link at a unit path", {**st(links=[{"path": "/etc/systemd/system/a.service", "target": "/x"}]),
                            **units({"name": "a.service", "contents": INSTALL})}, "3.6.0",
    errors=[LK0 + ".path"])
add("file at a unit path without contents", {**files({"path": "/etc/systemd/system/a.service"}),
                                             **units({"name": "a.service", "enabled": True})}, "3.3.0")

# ---------------------------------------------------------------- files, owners, links
for v in ("3.0.0", "3.3.0", "3.6.0"):
    add(f"overwrite with source {v}", files({**src("data:,x"), "overwrite": True}), v)
    add(f"overwrite without source {v}", files({"path": "/f", "overwrite": True}), v,
        errors=[F0 + ".overwrite"])
add("overwrite false without source", files({"path": "/f", "overwrite": False}), "3.3.0")
add("append without contents", files({"path": "/f", "append": [{"source": "data:,x"}, {"source": "data:,x"}]}),
    "3.3.0", note="append entries are not deduplicated")
add("append bad scheme", files({"path": "/f", "append": [{"source": "ftp://x"}]}), "3.3.0",
    errors=[F0 + ".append.0.source"])
add("owner by id and by name", files({"path": "/f", "user": {"id": 0}, "group": {"name": "wheel"}}), "3.3.0")
add("user id and name", files({"path": "/f", "user": {"id": 0, "name": "root"}}), "3.3.0", errors=[F0 + ".user"])
add("group id and name", st(directories=[{"path": "/d", "group": {"id": 0, "name": "root"}}]), "3.3.0",
    errors=[D0 + ".group"])
add("link owner id and name", st(links=[{"path": "/l", "target": "/t", "user": {"id": 1, "name": "a"}}]),
    "3.3.0", errors=[LK0 + ".user"])
add("link without target", st(links=[{"path": "/l"}]), "3.3.0", errors=[LK0 + ".target"])
add("link with empty target", st(links=[{"path": "/l", "target": ""}]), "3.3.0", errors=[LK0 + ".target"])
for v in ("3.0.0", "3.2.0"):
    add(f"link without target {v}", st(links=[{"path": "/l"}]), v, errors=[LK0 + ".target"],
        go_differs="Ignition's spec 3.0-3.2 packages do not check a link's target (the check came with 3.3, "
                   "when target became optional in Go); an empty symlink target cannot be created, so ours "
                   "rejects it in every spec")
add("relative symlink target", st(links=[{"path": "/etc/localtime", "target": "../usr/share/zoneinfo/UTC"}]),
    "3.3.0")
add("hard link to a file", st(files=[{"path": "/f"}], links=[{"path": "/l", "target": "/f", "hard": True}]),
    "3.3.0")
add("hard link to a directory", st(directories=[{"path": "/d"}], links=[{"path": "/l", "target": "/d",
                                                                          "hard": True}]), "3.3.0", errors=[LK0])
add("symlink to a directory", st(directories=[{"path": "/d"}], links=[{"path": "/l", "target": "/d"}]), "3.3.0")
add("hard link owner warns", st(links=[{"path": "/l", "target": "/f", "hard": True, "user": {"id": 1},
                                        "group": {"name": "g"}}]), "3.6.0",
    warnings=[LK0 + ".user.id", LK0 + ".group.name"])
add("symlink owner", st(links=[{"path": "/l", "target": "/f", "user": {"id": 1}}]), "3.3.0")

# ---------------------------------------------------------------- resources
ALL_SOURCES = ["http://h/a", "https://h/a", "tftp://h/a", "s3://b/k?versionId=1", "data:,hello%20x",
               "data:;base64,aGk=", "data:text/plain;charset=utf-8;base64,aGk="]
for v in VERSIONS:
    extra = (["gs://b/o"] if minor(v) >= 2 else []) + (["arn:aws:s3:::bucket/key"] if minor(v) >= 4 else [])
    add(f"sources valid {v}", st(files=[src(s, f"/f{i}") for i, s in enumerate(ALL_SOURCES + extra)]), v)
add("empty source is no source", files(src("")), "3.3.0")
add("source unknown scheme", files(src("ftp://h/a")), "3.3.0", errors=[C0 + ".source"])
add("source file scheme", files(src("file:///etc/passwd")), "3.3.0", errors=[C0 + ".source"])
add("source without scheme", files(src("h/a")), "3.3.0", errors=[C0 + ".source"])
add("source unparsable", files(src("http://[::1")), "3.3.0", errors=[C0 + ".source"])
add("gs in 3.1", files(src("gs://b/o")), "3.1.0", errors=[C0 + ".source"])
add("gs in 3.2", files(src("gs://b/o")), "3.2.0")
add("arn in 3.3", files(src("arn:aws:s3:::bucket/key")), "3.3.0", errors=[C0 + ".source"])
add("arn not s3", files(src("arn:aws:iam::123456789012:role/x")), "3.4.0", errors=[C0 + ".source"])
add("arn without object", files(src("arn:aws:s3:::bucket")), "3.4.0", errors=[C0 + ".source"])
add("arn access point", files(src("arn:aws:s3:us-east-1:123456789012:accesspoint/ap/object/k")), "3.5.0")
add("arn empty versionId", files(src("arn:aws:s3:::bucket/key?versionId=")), "3.6.0", errors=[C0 + ".source"])
add("s3 empty versionId", files(src("s3://b/k?versionId=")), "3.3.0", errors=[C0 + ".source"])
add("s3 first versionId counts", files(src("s3://b/k?versionId=1&versionId=")), "3.3.0")
add("data url bad base64", files(src("data:;base64,!!!")), "3.3.0", errors=[C0 + ".source"])
add("data url without comma", files(src("data:text/plain")), "3.3.0", errors=[C0 + ".source"])
add("data url with a space", files(src("data:,hello world")), "3.3.0", errors=[C0 + ".source"])
add("data url with a raw non-ascii character", files(src("data:,caf\u00e9")), "3.3.0", errors=[C0 + ".source"])
add("data url with an escape in base64", files(src("data:;base64,aGk%3D")), "3.3.0", errors=[C0 + ".source"])
add("data url with an unknown media type", files(src("data:font/woff,x")), "3.3.0", errors=[C0 + ".source"])
add("data url with a quoted parameter", files(src('data:text/plain;name="a;b,c",x')), "3.3.0")
add("compression gzip", files(src("https://h/a.gz", compression="gzip")), "3.3.0")
add("compression empty", files(src("https://h/a", compression="")), "3.3.0")
add("compression xz", files(src("https://h/a", compression="xz")), "3.3.0", errors=[C0 + ".compression"])
add("compression xz 3.0.0", files(src("https://h/a", compression="xz")), "3.0.0", errors=[C0 + ".compression"])
add("sha512 valid 3.0.0", files(src("https://h/a", verification={"hash": SHA512})), "3.0.0")
add("sha256 valid 3.1.0", files(src("https://h/a", verification={"hash": SHA256})), "3.1.0")
add("sha256 in 3.0.0", files(src("https://h/a", verification={"hash": SHA256})), "3.0.0",
    errors=[C0 + ".verification.hash"])
add("hash without dash", files(src("https://h/a", verification={"hash": "sha512"})), "3.3.0",
    errors=[C0 + ".verification.hash"])
add("hash md5", files(src("https://h/a", verification={"hash": "md5-" + "a" * 32})), "3.3.0",
    errors=[C0 + ".verification.hash"])
add("hash wrong size", files(src("https://h/a", verification={"hash": "sha512-abcd"})), "3.3.0",
    errors=[C0 + ".verification.hash"])
add("hash not hex", files(src("https://h/a", verification={"hash": "sha256-" + "z" * 64})), "3.3.0",
    errors=[C0 + ".verification.hash"],
    go_differs="Ignition (2.14 and current) checks only the digest's length; ours also rejects non-hex "
               "digits, which can never match (deliberate)")
add("hash uppercase hex", files(src("https://h/a", verification={"hash": SHA512.upper().replace("SHA", "sha")})),
    "3.3.0")
add("verification without source", files({"path": "/f", "contents": {"verification": {"hash": SHA512}}}),
    "3.3.0", errors=[C0 + ".verification.hash"])
add("verification empty", files(src("https://h/a", verification={})), "3.3.0")
add("headers valid", files(src("https://h/a", httpHeaders=[{"name": "A", "value": "1"}, {"name": "B"}])), "3.3.0")
add("headers on tftp", files(src("tftp://h/a", httpHeaders=[{"name": "A", "value": "1"}])), "3.3.0",
    errors=[C0 + ".httpHeaders"])
add("headers on data url", files(src("data:,x", httpHeaders=[{"name": "A", "value": "1"}])), "3.3.0",
    errors=[C0 + ".httpHeaders"])
add("headers without source", files({"path": "/f", "contents": {"httpHeaders": [{"name": "A"}]}}), "3.3.0",
    errors=[C0 + ".httpHeaders"])
add("header name empty", files(src("https://h/a", httpHeaders=[{"name": "", "value": "1"}])), "3.3.0",
    errors=[C0 + ".httpHeaders.0.name"])
add("header name missing", files(src("https://h/a", httpHeaders=[{"value": "1"}])), "3.3.0",
    errors=[C0 + ".httpHeaders.0.name"])
add("header duplicate", files(src("https://h/a", httpHeaders=[{"name": "A"}, {"name": "A"}])), "3.3.0",
    errors=[C0 + ".httpHeaders.1"])
add("header empty value", files(src("https://h/a", httpHeaders=[{"name": "A", "value": ""}])), "3.3.0",
    errors=[C0 + ".httpHeaders.0.value"])

# ---------------------------------------------------------------- ignition: merge, replace, CAs, proxy
for v in VERSIONS:
    add(f"merge and replace valid {v}", ign(v, config={"merge": [{"source": "https://h/m.ign"},
                                                                 {"source": "data:,%7B%7D"}],
                                                       "replace": {"source": "https://h/r.ign"}}), v)
add("merge empty list", ign("3.3.0", config={"merge": []}), "3.3.0")
add("merge with verification", ign("3.3.0", config={"merge": [{"source": "https://h/m",
                                                               "verification": {"hash": SHA512}}]}), "3.3.0")
add("merge with compression", ign("3.3.0", config={"merge": [{"source": "https://h/m.gz",
                                                              "compression": "gzip"}]}), "3.3.0")
add("merge with compression in 3.0.0", ign("3.0.0", config={"merge": [{"source": "https://h/m.gz",
                                                                       "compression": "gzip"}]}), "3.0.0",
    warnings=[M + ".0.compression"])
add("merge with headers", ign("3.3.0", config={"merge": [{"source": "https://h/m", "httpHeaders": [
    {"name": "Authorization", "value": "Bearer x"}, {"name": "X-Drop"}]}]}), "3.3.0",
    note="a header without value removes the parent's header of that name when configs are merged")
add("merge tftp s3 gs", ign("3.3.0", config={"merge": [{"source": "tftp://h/m"}, {"source": "s3://b/m"},
                                                       {"source": "gs://b/m"}]}), "3.3.0")
add("merge without source", ign("3.3.0", config={"merge": [{}]}), "3.3.0", errors=[M + ".0"])
add("merge with empty source", ign("3.3.0", config={"merge": [{"source": ""}]}), "3.3.0", errors=[M + ".0"])
add("merge duplicate source", ign("3.3.0", config={"merge": [{"source": "https://h/m"},
                                                             {"source": "https://h/m"}]}), "3.3.0",
    errors=[M + ".1"])
add("merge bad scheme", ign("3.3.0", config={"merge": [{"source": "ftp://h/m"}]}), "3.3.0",
    errors=[M + ".0.source"])
add("merge bad hash", ign("3.3.0", config={"merge": [{"source": "https://h/m",
                                                      "verification": {"hash": "sha512-00"}}]}), "3.3.0",
    errors=[M + ".0.verification.hash"])
add("merge bad compression", ign("3.3.0", config={"merge": [{"source": "https://h/m", "compression": "bz2"}]}),
    "3.3.0", errors=[M + ".0.compression"])
add("merge headers on data url", ign("3.3.0", config={"merge": [{"source": "data:,%7B%7D", "httpHeaders": [
    {"name": "A", "value": "b"}]}]}), "3.3.0", errors=[M + ".0.httpHeaders"])
add("merge header empty value", ign("3.3.0", config={"merge": [{"source": "https://h/m", "httpHeaders": [
    {"name": "A", "value": ""}]}]}), "3.3.0", errors=[M + ".0.httpHeaders.0.value"])
add("merge header duplicate", ign("3.3.0", config={"merge": [{"source": "https://h/m", "httpHeaders": [
    {"name": "A", "value": "1"}, {"name": "A", "value": "2"}]}]}), "3.3.0", errors=[M + ".0.httpHeaders.1"])
add("merge entry is a string", ign("3.3.0", config={"merge": ["https://h/m"]}), "3.3.0", errors=[M + ".0"])
add("replace empty object", ign("3.3.0", config={"replace": {}}), "3.3.0")
add("replace null source", ign("3.3.0", config={"replace": {"source": None}}), "3.3.0")
add("replace with verification", ign("3.3.0", config={"replace": {"source": "https://h/r",
                                                                  "verification": {"hash": SHA512}}}), "3.3.0")
add("replace verification without source", ign("3.3.0", config={"replace": {"verification": {"hash": SHA512}}}),
    "3.3.0", errors=[RP + ".verification.hash"])
add("replace compression without source", ign("3.3.0", config={"replace": {"compression": "gzip"}}), "3.3.0")
add("replace bad scheme", ign("3.3.0", config={"replace": {"source": "nfs://h/r"}}), "3.3.0",
    errors=[RP + ".source"])
add("replace and merge together", ign("3.3.0", config={"replace": {"source": "https://h/r"},
                                                       "merge": [{"source": "https://h/m"}]}), "3.3.0")
add("replace is a list", ign("3.3.0", config={"replace": [{"source": "https://h/r"}]}), "3.3.0",
    errors=[RP])
add("ca valid", ign("3.3.0", security={"tls": {"certificateAuthorities": [
    {"source": "https://h/ca.pem", "verification": {"hash": SHA512}},
    {"source": "data:,-----BEGIN%20CERTIFICATE-----"}]}}), "3.3.0")
add("ca without source", ign("3.3.0", security={"tls": {"certificateAuthorities": [{"compression": "gzip"}]}}),
    "3.3.0", errors=[CA + ".0"])
add("ca duplicate", ign("3.3.0", security={"tls": {"certificateAuthorities": [
    {"source": "https://h/ca"}, {"source": "https://h/ca"}]}}), "3.3.0", errors=[CA + ".1"])
add("ca bad scheme", ign("3.0.0", security={"tls": {"certificateAuthorities": [{"source": "ldap://h"}]}}),
    "3.0.0", errors=[CA + ".0.source"])
add("timeouts", ign("3.3.0", timeouts={"httpResponseHeaders": 0, "httpTotal": 600}), "3.3.0")
add("proxy valid", ign("3.3.0", proxy={"httpProxy": "http://p:3128", "httpsProxy": "https://p:3129",
                                       "noProxy": ["example.com", ".local", "10.0.0.0/8", "*"]}), "3.3.0")
add("proxy bad scheme", ign("3.3.0", proxy={"httpProxy": "socks5://p"}), "3.3.0",
    errors=["$.ignition.proxy.httpProxy"])
add("proxy https bad scheme", ign("3.3.0", proxy={"httpsProxy": "ftp://p"}), "3.3.0",
    errors=["$.ignition.proxy.httpsProxy"])
add("https proxy over http warns", ign("3.3.0", proxy={"httpsProxy": "http://p"}), "3.3.0",
    warnings=["$.ignition.proxy.httpsProxy"])
add("noProxy duplicate", ign("3.3.0", proxy={"noProxy": ["a", "a"]}), "3.3.0",
    errors=["$.ignition.proxy.noProxy.1"])

# ---------------------------------------------------------------- disks and partitions
for v in VERSIONS:
    add(f"disk valid {v}", st(disks=[{"device": "/dev/vda", "wipeTable": True, "partitions": [
        {"number": 1, "label": "boot", "startMiB": 1, "sizeMiB": 100, "typeGuid": GUID, "guid": ""},
        {"number": 2, "label": "root", "startMiB": 101, "sizeMiB": 0},
        {"label": "data"}, {"number": 3, "startMiB": 0, "sizeMiB": 50}]}]), v)
add("disk device empty", st(disks=[{"device": ""}]), "3.3.0", errors=["$.storage.disks.0.device"])
add("disk device relative", st(disks=[{"device": "vda"}]), "3.3.0", errors=["$.storage.disks.0.device"])
add("disk device missing", st(disks=[{"wipeTable": True}]), "3.3.0", errors=["$.storage.disks.0.device"])
add("disk duplicate", st(disks=[{"device": "/dev/vda"}, {"device": "/dev/vda"}]), "3.3.0",
    errors=["$.storage.disks.1"])
add("partition numbers collide", parts({"number": 1}, {"number": 1, "label": "x"}), "3.3.0",
    errors=[P1, P1])
add("partition labels collide", parts({"number": 1, "label": "a"}, {"number": 2, "label": "a"}), "3.3.0",
    errors=[P1])
add("partition labels collide without numbers", parts({"label": "a"}, {"label": "a"}), "3.3.0",
    errors=[P1, P1])
add("partition needs number or label", parts({"sizeMiB": 10}), "3.3.0", errors=[P0])
add("partition label 36", parts({"number": 1, "label": "x" * 36}), "3.3.0")
add("partition label too long", parts({"number": 1, "label": "x" * 37}), "3.3.0", errors=[P0 + ".label"])
add("partition label with colon", parts({"number": 1, "label": "a:b"}), "3.3.0", errors=[P0 + ".label"])
add("partition guid bad", parts({"number": 1, "guid": "1234"}), "3.3.0", errors=[P0 + ".guid"])
add("partition typeGuid bad", parts({"number": 1, "typeGuid": "linux"}), "3.3.0", errors=[P0 + ".typeGuid"])
add("partition guid lowercase", parts({"number": 1, "guid": GUID.lower()}), "3.3.0")
add("partition delete", parts({"number": 1, "shouldExist": False}), "3.3.0")
add("partition delete with label", parts({"number": 1, "shouldExist": False, "label": "x"}), "3.3.0",
    errors=[P0])
add("partition delete with size", parts({"number": 1, "shouldExist": False, "sizeMiB": 10}), "3.3.0",
    errors=[P0])
add("partition delete with resize", parts({"number": 1, "shouldExist": False, "resize": True}), "3.3.0")
add("partition delete beside a numberless one", parts({"number": 1, "shouldExist": False}, {"label": "a"}),
    "3.3.0", go_differs="Ignition rejected deleting a partition beside a numberless one until mid-2026 "
    "(2.14 does); current Ignition accepts it: the new partition takes the lowest free number after the deletes")
add("partitions overlap", parts({"number": 1, "startMiB": 1, "sizeMiB": 10},
                                {"number": 2, "startMiB": 5, "sizeMiB": 10}), "3.3.0", errors=[P1])
add("partition of size 0 starting inside another", parts({"number": 1, "startMiB": 1, "sizeMiB": 10},
                                                       {"number": 2, "startMiB": 5, "sizeMiB": 0}), "3.3.0",
    errors=[P1])
add("partition of size 0 starting after another", parts({"number": 1, "startMiB": 1, "sizeMiB": 10},
                                                      {"number": 2, "startMiB": 11, "sizeMiB": 0}), "3.3.0")
add("partitions adjacent", parts({"number": 1, "startMiB": 1, "sizeMiB": 10},
                                 {"number": 2, "startMiB": 11, "sizeMiB": 10}), "3.3.0")
add("partition start 0 not checked", parts({"number": 1, "startMiB": 1, "sizeMiB": 10},
                                           {"number": 2, "startMiB": 0, "sizeMiB": 10}), "3.3.0")
add("partition resize 3.2.0", parts({"number": 4, "label": "root", "resize": True, "sizeMiB": 0}), "3.2.0")

# ---------------------------------------------------------------- filesystems
for v in VERSIONS:
    add(f"filesystem valid {v}", fs(format="ext4", path="/var", label="var", wipeFilesystem=True,
                                    options=["-b", "4096"], **({"mountOptions": ["noatime"]} if minor(v) else {})), v)
add("filesystem bare", fs(), "3.3.0")
add("filesystem device empty", st(filesystems=[{"device": "", "format": "ext4"}]), "3.3.0",
    errors=[FS0 + ".device"])
add("filesystem device relative", st(filesystems=[{"device": "vdb", "format": "ext4"}]), "3.3.0",
    errors=[FS0 + ".device"])
add("filesystem path relative", fs(format="xfs", path="var"), "3.3.0", errors=[FS0 + ".path"])
add("filesystem path unclean", fs(format="xfs", path="/var/"), "3.3.0", errors=[FS0 + ".path"])
add("filesystem path empty is no path", fs(format="xfs", path=""), "3.3.0")
add("filesystem duplicate", st(filesystems=[{"device": "/dev/vdb"}, {"device": "/dev/vdb"}]), "3.3.0",
    errors=["$.storage.filesystems.1"])
add("filesystem same path twice", st(filesystems=[{"device": "/dev/vdb", "format": "ext4", "path": "/var"},
                                                  {"device": "/dev/vdc", "format": "ext4", "path": "/var"}]),
    "3.3.0", note="not checked statically, as in Ignition")
add("filesystem format unknown", fs(format="zfs"), "3.3.0", errors=[FS0 + ".format"])
for f in ("ext4", "btrfs", "xfs", "vfat", "swap"):
    add(f"filesystem format {f}", fs(format=f), "3.0.0")
add("filesystem none in 3.2", fs(format="none"), "3.2.0", errors=[FS0 + ".format"])
add("filesystem none in 3.3", fs(format="none"), "3.3.0")
add("filesystem path needs format", fs(path="/var"), "3.3.0", errors=[FS0 + ".format"])
add("filesystem wipe needs format", fs(wipeFilesystem=True), "3.3.0", errors=[FS0 + ".format"])
add("filesystem options need format", fs(options=["-m", "0"]), "3.3.0", errors=[FS0 + ".format"])
add("filesystem uuid needs format", fs(uuid="b81e7d4f-1e4e-4f39-9a2a-7b3d0f9b1c2e"), "3.3.0",
    errors=[FS0 + ".format"])
add("filesystem label needs format", fs(label="x"), "3.3.0", errors=[FS0 + ".format", FS0 + ".label"])
for f, n in (("ext4", 16), ("xfs", 12), ("vfat", 11), ("swap", 15), ("btrfs", 256)):
    add(f"filesystem {f} label {n}", fs(format=f, label="x" * n), "3.3.0")
    add(f"filesystem {f} label too long", fs(format=f, label="x" * (n + 1)), "3.3.0", errors=[FS0 + ".label"])
add("filesystem on partitioned disk warns", st(disks=[{"device": "/dev/vdb", "partitions": [{"number": 1}]}],
                                               filesystems=[{"device": "/dev/vdb", "format": "ext4"}]), "3.6.0",
    warnings=[FS0 + ".device"])
add("filesystem on wiped disk warns", st(disks=[{"device": "/dev/vdb", "wipeTable": True}],
                                         filesystems=[{"device": "/dev/vdb", "format": "ext4"}]), "3.6.0",
    warnings=[FS0 + ".device"])
add("filesystem on wiped disk with wipeFilesystem", st(
    disks=[{"device": "/dev/vdb", "wipeTable": True}],
    filesystems=[{"device": "/dev/vdb", "format": "ext4", "wipeFilesystem": True}]), "3.6.0")

# ---------------------------------------------------------------- raid
for v in ("3.0.0", "3.3.0", "3.6.0"):
    add(f"raid valid {v}", raid(spares=1, options=["--assume-clean"]), v)
for lvl in ("linear", "raid0", "0", "stripe", "raid1", "1", "mirror", "raid4", "4", "raid5", "5",
            "raid6", "6", "raid10", "10"):
    add(f"raid level {lvl}", raid(level=lvl), "3.3.0")
add("raid without level", st(raid=[{"name": "md0", "devices": ["/dev/vdb"]}]), "3.3.0", errors=[R0 + ".level"])
add("raid empty level", raid(level=""), "3.3.0", errors=[R0 + ".level"])
add("raid level unknown", raid(level="raid7"), "3.3.0", errors=[R0 + ".level"])
add("raid0 spares", raid(level="stripe", spares=1), "3.3.0", errors=[R0 + ".level"])
add("linear spares", raid(level="linear", spares=2), "3.3.0", errors=[R0 + ".level"])
add("raid without devices", raid(devices=[]), "3.3.0", errors=[R0 + ".devices"])
add("raid device relative", raid(devices=["vdb"]), "3.3.0", errors=[R0 + ".devices.0"])
add("raid device duplicate", raid(devices=["/dev/vdb", "/dev/vdb"]), "3.3.0", errors=[R0 + ".devices.1"])
add("raid options may repeat", raid(options=["--x", "--x"]), "3.3.0")
add("raid duplicate", st(raid=[{"name": "a", "level": "1", "devices": ["/dev/x"]},
                               {"name": "a", "level": "1", "devices": ["/dev/y"]}]), "3.3.0",
    errors=["$.storage.raid.1"])
add("raid without name", st(raid=[{"level": "raid1", "devices": ["/dev/vdb", "/dev/vdc"]}]), "3.3.0",
    errors=[R0 + ".name"], go_differs=NAME_REQUIRED)

# ---------------------------------------------------------------- luks and clevis
for v in versions_since(2):
    add(f"luks valid {v}", luks(label="x" * 47, uuid="7a2b1c0d-0000-4000-8000-000000000000",
                                options=["--cipher", "aes-xts-plain64"], wipeVolume=True,
                                keyFile={"source": "data:,secret"},
                                clevis={"tpm2": True, "threshold": 2, "tang": [
                                    {"url": "https://t", "thumbprint": "abc"}]}), v)
add("luks name with slash", st(luks=[{"name": "a/b", "device": "/dev/vda2"}]), "3.3.0", errors=[L0 + ".name"])
add("luks label too long", luks(label="x" * 48), "3.3.0", errors=[L0 + ".label"])
add("luks without device", st(luks=[{"name": "a"}]), "3.3.0", errors=[L0 + ".device"])
add("luks device relative", st(luks=[{"name": "a", "device": "vda2"}]), "3.3.0", errors=[L0 + ".device"])
add("luks keyFile bad scheme", luks(keyFile={"source": "file:///k"}), "3.3.0", errors=[L0 + ".keyFile.source"])
add("luks keyFile bad hash", luks(keyFile={"source": "https://h/k", "verification": {"hash": "sha1-00"}}),
    "3.3.0", errors=[L0 + ".keyFile.verification.hash"])
add("luks duplicate", st(luks=[{"name": "a", "device": "/dev/x"}, {"name": "a", "device": "/dev/y"}]), "3.3.0",
    errors=["$.storage.luks.1"])
add("luks without name", st(luks=[{"device": "/dev/vda2"}]), "3.3.0", errors=[L0 + ".name"],
    go_differs=NAME_REQUIRED)
add("luks discard and openOptions", luks(discard=True, openOptions=["--perf-no_read_workqueue"]), "3.4.0")
add("clevis custom valid", luks(clevis={"custom": {"pin": "tpm2", "config": "{}", "needsNetwork": False}}),
    "3.3.0")
add("clevis custom any pin in 3.6", luks(clevis={"custom": {"pin": "pkcs11", "config": "{}"}}), "3.6.0")
add("clevis custom pin before 3.6", luks(clevis={"custom": {"pin": "pkcs11", "config": "{}"}}), "3.3.0",
    errors=[L0 + ".clevis.custom.pin"])
add("clevis custom with tpm2", luks(clevis={"tpm2": True, "custom": {"pin": "tang", "config": "{}"}}), "3.3.0",
    errors=[L0 + ".clevis"])
add("clevis custom with threshold", luks(clevis={"threshold": 2, "custom": {"pin": "sss", "config": "{}"}}),
    "3.3.0", errors=[L0 + ".clevis"])
add("clevis custom config without pin", luks(clevis={"custom": {"config": "{}"}}), "3.3.0",
    errors=[L0 + ".clevis.custom.pin"])
add("clevis custom pin without config", luks(clevis={"custom": {"pin": "tpm2"}}), "3.3.0",
    errors=[L0 + ".clevis.custom.config"])
add("clevis custom only needsNetwork", luks(clevis={"custom": {"needsNetwork": True}}), "3.3.0",
    errors=[L0 + ".clevis.custom.pin", L0 + ".clevis.custom.config"])
add("tang bad url", luks(clevis={"tang": [{"url": "ftp://t", "thumbprint": "x"}]}), "3.3.0",
    errors=[L0 + ".clevis.tang.0.url"])
add("tang without thumbprint", luks(clevis={"tang": [{"url": "http://t"}]}), "3.3.0",
    errors=[L0 + ".clevis.tang.0.thumbprint"])
add("tang duplicate url", luks(clevis={"tang": [{"url": "http://t", "thumbprint": "x"},
                                                {"url": "http://t", "thumbprint": "y"}]}), "3.3.0",
    errors=[L0 + ".clevis.tang.1"])
add("tang advertisement valid", luks(clevis={"tang": [{"url": "http://t", "thumbprint": "x",
                                                       "advertisement": '{"payload": "x"}'}]}), "3.4.0")
add("tang advertisement bad", luks(clevis={"tang": [{"url": "http://t", "thumbprint": "x",
                                                     "advertisement": "{nope"}]}), "3.4.0",
    errors=[L0 + ".clevis.tang.0.advertisement"])
add("cex valid", luks(cex={"enabled": True}), "3.5.0")
add("cex with clevis", luks(cex={"enabled": True}, clevis={"tpm2": True}), "3.5.0", errors=[L0 + ".cex"])
add("cex with key file", luks(cex={"enabled": True}, keyFile={"source": "data:,k"}), "3.6.0",
    errors=[L0 + ".cex"])
add("cex disabled with clevis", luks(cex={"enabled": False}, clevis={"tpm2": True}), "3.6.0")

# ---------------------------------------------------------------- systemd
for v in VERSIONS:
    add(f"units valid {v}", units({"name": "a.service", "enabled": True, "contents": INSTALL, "dropins": [
        {"name": "10-x.conf", "contents": "[Service]\nEnvironment=A=1 \\\n  B=2\n"}]},
        {"name": "b.mount", "mask": True}, {"name": "c.timer", "enabled": True}), v)
for ext in ("socket", "device", "mount", "automount", "swap", "target", "path", "timer", "snapshot",
            "slice", "scope"):
    add(f"unit extension {ext}", units({"name": f"x.{ext}"}), "3.3.0")
add("unit bad extension", units({"name": "a.conf"}), "3.3.0", errors=[U0 + ".name"])
add("unit without extension", units({"name": "sshd"}), "3.3.0", errors=[U0 + ".name"])
add("unit named by its extension alone", units({"name": ".service"}), "3.3.0")
add("unit name missing", units({"enabled": True}), "3.3.0", errors=[U0 + ".name"])
GO_UNIT_NAME = ("Go 2.14 checks only a unit's extension and a dropin's .conf suffix, so a NUL byte fails in "
                "the files stage and a '/' writes the file into another directory (a dropin '../x.conf' lands "
                "beside the units); ours rejects a name that is not one file name")
add("NUL byte in a unit name", units({"name": "a\u0000b.service", "contents": INSTALL}), "3.3.0",
    errors=[U0 + ".name"], go_differs=GO_UNIT_NAME)
add("NUL byte in a dropin name", units({"name": "a.service", "dropins": [{"name": "x\u0000.conf",
                                                                          "contents": "[Unit]\n"}]}), "3.6.0",
    errors=[U0 + ".dropins.0.name"], go_differs=GO_UNIT_NAME)
add("slash in a unit name", units({"name": "sub/a.service", "contents": INSTALL}), "3.3.0",
    errors=[U0 + ".name"], go_differs=GO_UNIT_NAME)
add("dropin name climbing out of its directory", units({"name": "a.service", "dropins": [
    {"name": "../x.conf", "contents": "[Unit]\n"}]}), "3.3.0", errors=[U0 + ".dropins.0.name"],
    go_differs=GO_UNIT_NAME)
add("dropin bad extension", units({"name": "a.service", "dropins": [{"name": "x.txt"}]}), "3.3.0",
    errors=[U0 + ".dropins.0.name"])
add("dropin name missing", units({"name": "a.service", "dropins": [{"contents": "[Unit]\n"}]}), "3.3.0",
    errors=[U0 + ".dropins.0.name"])
add("unit contents without =", units({"name": "a.service", "contents": "[Unit]\nDescription\n"}), "3.3.0",
    errors=[U0 + ".contents"])
add("unit contents unclosed section", units({"name": "a.service", "contents": "[Unit\nA=b\n"}), "3.3.0",
    errors=[U0 + ".contents"])
add("unit contents garbage after section", units({"name": "a.service", "contents": "[Unit] x\n"}), "3.3.0",
    errors=[U0 + ".contents"])
add("unit contents empty", units({"name": "a.service", "contents": ""}), "3.3.0")
add("unit contents comments only", units({"name": "a.service", "contents": "# a\n; b\n"}), "3.3.0")
add("dropin contents bad", units({"name": "a.service", "dropins": [
    {"name": "x.conf", "contents": "[Service]\nfoo bar\n"}]}), "3.3.0", errors=[U0 + ".dropins.0.contents"])
add("unit text before a section warns", units({"name": "a.service", "contents": "A=b\n[Unit]\nB=c\n"}),
    "3.6.0", warnings=[U0 + ".contents"])
add("enabled without install warns", units({"name": "a.service", "enabled": True, "contents": NO_INSTALL}),
    "3.3.0", warnings=[U0 + ".contents"])
add("disabled without install", units({"name": "a.service", "enabled": False, "contents": NO_INSTALL}), "3.3.0")
add("unit duplicate", units({"name": "a.service"}, {"name": "a.service"}), "3.3.0", errors=["$.systemd.units.1"])
add("dropin duplicate", units({"name": "a.service", "dropins": [{"name": "x.conf"}, {"name": "x.conf"}]}),
    "3.3.0", errors=[U0 + ".dropins.1"])
add("template without install warns", units({"name": "t@.service", "contents": NO_INSTALL},
                                            {"name": "t@a.service", "enabled": True}), "3.6.0",
    warnings=["$.systemd.units.1.contents"])
add("template with install", units({"name": "t@.service", "contents": INSTALL},
                                   {"name": "t@a.service", "enabled": True}), "3.3.0")
add("mask and enabled", units({"name": "a.service", "mask": True, "enabled": False}), "3.3.0")

# ---------------------------------------------------------------- passwd
for v in ("3.0.0", "3.3.0", "3.6.0"):
    add(f"passwd valid {v}", {"passwd": {
        "users": [{"name": "core", "passwordHash": "$6$x$y", "sshAuthorizedKeys": ["ssh-ed25519 A", "ssh-ed25519 B"],
                   "uid": 1000, "gecos": "Core", "homeDir": "/home/core", "noCreateHome": False,
                   "primaryGroup": "core", "groups": ["wheel", "sudo"], "noUserGroup": False,
                   "noLogInit": True, "shell": "/bin/bash", "system": False},
                  {"name": "other", "sshAuthorizedKeys": ["ssh-ed25519 A"]}],
        "groups": [{"name": "g", "gid": 2000, "passwordHash": "*", "system": True}, {"name": "h"}]}}, v)
add("user delete 3.2.0", {"passwd": {"users": [{"name": "old", "shouldExist": False}],
                                     "groups": [{"name": "oldg", "shouldExist": False}]}}, "3.2.0")
add("user duplicate", {"passwd": {"users": [{"name": "core"}, {"name": "core"}]}}, "3.3.0",
    errors=["$.passwd.users.1"])
add("group duplicate", {"passwd": {"groups": [{"name": "g"}, {"name": "g"}]}}, "3.3.0",
    errors=["$.passwd.groups.1"])
add("ssh key duplicate", {"passwd": {"users": [{"name": "core", "sshAuthorizedKeys": ["k", "k"]}]}}, "3.3.0",
    errors=["$.passwd.users.0.sshAuthorizedKeys.1"])
add("user groups duplicate", {"passwd": {"users": [{"name": "core", "groups": ["wheel", "wheel"]}]}}, "3.3.0",
    errors=["$.passwd.users.0.groups.1"])
add("user without name", {"passwd": {"users": [{"uid": 1000}]}}, "3.3.0", errors=["$.passwd.users.0.name"],
    go_differs=NAME_REQUIRED)
add("group without name", {"passwd": {"groups": [{"gid": 1000}]}}, "3.3.0", errors=["$.passwd.groups.0.name"],
    go_differs=NAME_REQUIRED)
# Go 2.14 accepts these; so do we (docs/conformance.md): useradd refuses them in the files stage.
add("user with an empty name", {"passwd": {"users": [{"name": ""}]}}, "3.3.0")
add("group with an empty name", {"passwd": {"groups": [{"name": ""}]}}, "3.3.0")
add("user with a relative homeDir", {"passwd": {"users": [{"name": "core", "homeDir": "home/core"}]}}, "3.3.0")
GO_NUL_TEXT = ("Go 2.14 checks no passwd text for NUL bytes; useradd's argv (and /etc/passwd) cannot carry "
               "one, so it fails in the files stage; ours rejects it before anything is written")
NUL_USER_FIELDS = {"name": "co\u0000re", "passwordHash": "$6$x\u0000y", "gecos": "Co\u0000re",
                   "homeDir": "/home/co\u0000re", "primaryGroup": "wh\u0000eel", "shell": "/bin/ba\u0000sh"}
for key, value in NUL_USER_FIELDS.items():
    user = {"name": "core", key: value}
    add(f"NUL byte in a user {key}", {"passwd": {"users": [user]}}, "3.3.0",
        errors=[f"$.passwd.users.0.{key}"], go_differs=GO_NUL_TEXT)
add("NUL byte in an SSH key", {"passwd": {"users": [{"name": "core", "sshAuthorizedKeys": ["ssh-ed25519 A\u0000B"]}]}},
    "3.3.0", errors=["$.passwd.users.0.sshAuthorizedKeys.0"], go_differs=GO_NUL_TEXT)
add("NUL byte in a user group", {"passwd": {"users": [{"name": "core", "groups": ["wh\u0000eel"]}]}}, "3.6.0",
    errors=["$.passwd.users.0.groups.0"], go_differs=GO_NUL_TEXT)
add("NUL byte in a group name", {"passwd": {"groups": [{"name": "g\u0000x"}]}}, "3.3.0",
    errors=["$.passwd.groups.0.name"], go_differs=GO_NUL_TEXT)
add("NUL byte in a group passwordHash", {"passwd": {"groups": [{"name": "gx", "passwordHash": "a\u0000b"}]}},
    "3.3.0", errors=["$.passwd.groups.0.passwordHash"], go_differs=GO_NUL_TEXT)

# ---------------------------------------------------------------- kernel arguments
for v in versions_since(3):
    add(f"kargs valid {v}", {"kernelArguments": {"shouldExist": ["quiet", "console=ttyS0 earlyprintk"],
                                                 "shouldNotExist": ["rhgb"]}}, v)
add("kargs duplicate", {"kernelArguments": {"shouldExist": ["quiet", "quiet"]}}, "3.3.0",
    errors=["$.kernelArguments.shouldExist.1"])
add("kargs wanted and unwanted", {"kernelArguments": {"shouldExist": ["quiet"], "shouldNotExist": ["quiet"]}},
    "3.3.0", errors=["$.kernelArguments.shouldNotExist.0"])
add("kargs unwanted duplicate", {"kernelArguments": {"shouldNotExist": ["a", "a"]}}, "3.6.0",
    errors=["$.kernelArguments.shouldNotExist.1"])

# ---------------------------------------------------------------- several errors at once
add("many errors", {**st(files=[{"path": "a"}, {"path": "/b", "mode": 99999}, {"path": "/b"}],
                         filesystems=[{"device": "/dev/vdb", "label": "x"}]),
                    **units({"name": "a"})}, "3.3.0",
    errors=[F0 + ".path", "$.storage.files.1.mode", "$.storage.files.2", FS0 + ".format", FS0 + ".label",
            U0 + ".name"], warnings=["$.storage.files.1.mode"], note="99999 has special bits too")
add("errors and warnings", {**files({"path": "/a", "mode": 0o4755, "overwrite": True}),
                            **ign("3.3.0", proxy={"httpsProxy": "http://p"})}, "3.3.0",
    errors=[F0 + ".overwrite"], warnings=[F0 + ".mode", "$.ignition.proxy.httpsProxy"])


# ---------------------------------------------------------------- realistic full configs
def full_config(v: str) -> dict[str, Any]:
    m = minor(v)
    cfg: dict[str, Any] = {
        "ignition": {"version": v, "timeouts": {"httpTotal": 300},
                     "security": {"tls": {"certificateAuthorities": [{"source": "https://ca.example.com/ca.pem"}]}},
                     "config": {"merge": [{"source": "https://cfg.example.com/extra.ign",
                                           "verification": {"hash": SHA512}}]}},
        "storage": {
            "disks": [{"device": "/dev/disk/by-id/virtio-data", "wipeTable": True, "partitions": [
                {"number": 1, "label": "var", "sizeMiB": 8192, "typeGuid": GUID},
                {"number": 2, "label": "home", "sizeMiB": 0}]}],
            "filesystems": [
                {"device": "/dev/disk/by-partlabel/var", "format": "xfs", "path": "/var", "label": "var",
                 "wipeFilesystem": True},
                {"device": "/dev/disk/by-partlabel/home", "format": "ext4", "path": "/home", "label": "home",
                 "wipeFilesystem": True, "options": ["-m", "0"]}],
            "files": [
                {"path": "/etc/hostname", "mode": 0o644, "overwrite": True, "contents": {"source": "data:,node1%0A"}},
                {"path": "/etc/motd", "append": [{"source": "data:,welcome%0A"}]},
                {"path": "/usr/local/bin/setup.sh", "mode": 0o755, "user": {"name": "root"},
                 "group": {"id": 0}, "contents": {"source": "https://h.example.com/setup.sh",
                                                  "verification": {"hash": SHA512}}},
                {"path": "/etc/sysctl.d/90-net.conf", "contents": {
                    "source": "data:;base64,bmV0LmlwdjQuaXBfZm9yd2FyZD0xCg=="}}],
            "directories": [{"path": "/var/lib/app", "mode": 0o750, "user": {"name": "core"}},
                            {"path": "/etc/app"}],
            "links": [{"path": "/etc/localtime", "target": "../usr/share/zoneinfo/Europe/Berlin"},
                      {"path": "/usr/local/bin/app", "target": "/opt/app/bin/app"}],
        },
        "systemd": {"units": [
            {"name": "app.service", "enabled": True, "contents": INSTALL,
             "dropins": [{"name": "10-env.conf", "contents": "[Service]\nEnvironment=MODE=prod\n"}]},
            {"name": "docker.service", "mask": True},
            {"name": "getty@tty1.service", "dropins": [{"name": "autologin.conf", "contents":
                                                        "[Service]\nExecStart=\nExecStart=-/sbin/agetty "
                                                        "--autologin core --noclear %I $TERM\n"}]}]},
        "passwd": {"users": [{"name": "core", "sshAuthorizedKeys": ["ssh-ed25519 AAAAC3Nza core@example"],
                              "groups": ["wheel", "docker"]},
                             {"name": "app", "system": True, "noCreateHome": True, "shell": "/sbin/nologin"}],
                   "groups": [{"name": "docker", "system": True}]},
    }
    if m >= 1:
        cfg["ignition"]["proxy"] = {"httpsProxy": "https://proxy.example.com:3128", "noProxy": [".example.com"]}
        cfg["storage"]["filesystems"][0]["mountOptions"] = ["noatime"]
        cfg["ignition"]["config"]["merge"][0]["httpHeaders"] = [{"name": "Authorization", "value": "Basic x"}]
    if m >= 2:
        cfg["storage"]["luks"] = [{"name": "secrets", "device": "/dev/disk/by-id/virtio-secrets",
                                   "clevis": {"tpm2": True}, "wipeVolume": True}]
        cfg["storage"]["filesystems"].append({"device": "/dev/mapper/secrets", "format": "ext4",
                                              "path": "/var/secrets", "wipeFilesystem": True})
    if m >= 3:
        cfg["kernelArguments"] = {"shouldExist": ["console=ttyS0,115200n8"], "shouldNotExist": ["quiet"]}
    if m >= 4:
        cfg["storage"]["luks"][0]["discard"] = True
    return cfg


for v in VERSIONS:
    add(f"full config {v}", full_config(v), v)
broken = full_config("3.3.0")
broken["storage"]["files"].append({"path": "/etc/hostname"})
broken["storage"]["filesystems"][1]["label"] = "home-volume-long-label"
broken["systemd"]["units"][0]["dropins"][0]["name"] = "10-env"
add("full config with three mistakes 3.3.0", broken, "3.3.0",
    errors=["$.storage.files.4", "$.storage.filesystems.1.label", "$.systemd.units.0.dropins.0.name"])
coreos = {
    "passwd": {"users": [{"name": "core", "sshAuthorizedKeys": ["ssh-rsa AAAAB3NzaC1yc2E core"]}]},
    "storage": {"raid": [{"name": "data", "level": "raid1", "devices": ["/dev/disk/by-id/a", "/dev/disk/by-id/b"]}],
                "filesystems": [{"device": "/dev/md/data", "path": "/var/data", "format": "xfs",
                                 "wipeFilesystem": True, "label": "DATA"}],
                "files": [{"path": "/etc/zincati/config.d/51-updates.toml", "mode": 0o644, "contents": {
                    "source": "data:,%5Bupdates%5D%0Astrategy%20%3D%20%22periodic%22%0A"}}]},
    "systemd": {"units": [{"name": "var-data.mount", "enabled": True, "contents":
                           "[Mount]\nWhat=/dev/md/data\nWhere=/var/data\nType=xfs\n[Install]\n"
                           "RequiredBy=local-fs.target\n"}]},
}
add("raid mirror with mount unit 3.3.0", coreos, "3.3.0")
add("raid mirror with mount unit 3.6.0", coreos, "3.6.0")


def write() -> None:
    names = [c["file"] for c in CASES]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise SystemExit(f"duplicate case files: {sorted(dupes)}")
    for old in HERE.glob("*.json"):
        if old.name != "manifest.json":
            old.unlink()
    manifest = []
    for case in CASES:
        text = case.pop("_text")
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        (HERE / case["file"]).write_bytes(data)
        manifest.append(case)
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(manifest)} cases")


if __name__ == "__main__":
    write()
