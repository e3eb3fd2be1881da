"""Shared helpers for the files-stage unit tests (no tests here).

A temporary sysroot, a StageContext built on it from a JSON config, a list
sink that keeps the journal fields, and a fake Runner that records argv and
emulates the few tools the files stage calls (shadow-utils by editing the
temporary root's /etc/passwd and /etc/group, systemctl is-enabled by a
configurable answer), so unit tests run no program.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import posixpath
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ignition.config.parse import parse
from ignition.context import Paths, StageContext
from ignition.environment import Environment
from ignition.errors import CommandError
from ignition.log import Logger
from ignition.plan import Plan
from ignition.resources.fetcher import Fetcher
from ignition.run import RecordingRunner, Result, Runner
from ignition.state import State
from ignition.sysroot import Sysroot
from ignition.sysroot_dryrun import DryRunSysroot

# Names chosen so that they cannot exist on the build host.
TEST_USER = "ignitiontestuser"
TEST_GROUP = "ignitiontestgroup"
TEST_UID = 4242
TEST_GID = 4343


class ListSink:
    def __init__(self) -> None:
        self.entries: list[tuple[int, str, dict[str, str]]] = []

    def emit(self, priority: int, message: str, fields: Mapping[str, str]) -> None:
        self.entries.append((priority, message, dict(fields)))

    def with_field(self, name: str, value: str) -> list[dict[str, str]]:
        return [f for _, _, f in self.entries if f.get(name) == value]


@dataclass
class Call:
    argv: tuple[str, ...]
    input: bytes | None
    probe: bool


class FakeRunner(Runner):
    """Records every call; emulates shadow-utils (`--root=R` then options)
    on R's /etc/passwd and /etc/group, and answers `systemctl is-enabled`
    with `is_enabled` (a set of enabled unit names). Anything else succeeds."""

    def __init__(self, logger: Logger, enabled: Sequence[str] = ()) -> None:
        super().__init__(logger)
        self.calls: list[Call] = []
        self.enabled = set(enabled)
        self.next_uid = 5000

    @property
    def argvs(self) -> list[tuple[str, ...]]:
        return [c.argv for c in self.calls]

    def run(self, argv: Sequence[str], *, input: bytes | None = None, probe: bool = False,
            check: bool = True, env: Mapping[str, str] | None = None, timeout: float | None = None,
            secret_input: bool = False) -> Result:
        argv = tuple(argv)
        self.calls.append(Call(argv, input, probe))
        tool = os.path.basename(argv[0])
        if tool == "systemctl" and "is-enabled" in argv:
            if argv[-1] not in self.enabled:
                if check:
                    raise CommandError(argv, 1, b"disabled\n", b"")
                return Result(argv, 1, b"disabled\n", b"")
            return Result(argv, 0, b"enabled\n", b"")
        if tool in ("useradd", "groupadd", "userdel", "groupdel", "usermod", "groupmod"):
            self._shadow(tool, argv)
        return Result(argv, 0, b"", b"")

    def _shadow(self, tool: str, argv: tuple[str, ...]) -> None:
        root = next(a.split("=", 1)[1] for a in argv if a.startswith("--root="))
        name = argv[-1]
        opts = _options(argv[1:-1])
        etc = Path(root) / "etc"
        etc.mkdir(parents=True, exist_ok=True)
        passwd, group = etc / "passwd", etc / "group"
        if tool == "groupadd":
            gid = opts.get("--gid") or str(self._next())
            _append_line(group, f"{name}:x:{gid}:")
        elif tool == "useradd":
            uid = opts.get("--uid") or str(self._next())
            gid = opts.get("--gid") or ""
            if gid and not gid.isdigit():
                gid = next(ln.split(":")[2] for ln in _lines(group) if ln.split(":")[0] == gid)
            if not gid:
                gid = uid
                if "--no-user-group" not in argv:
                    _append_line(group, f"{name}:x:{gid}:")
            home = opts.get("--home-dir") or f"/home/{name}"
            shell = opts.get("--shell") or "/bin/sh"
            _append_line(passwd, f"{name}:x:{uid}:{gid}:{opts.get('--comment', '')}:{home}:{shell}")
            if "--create-home" in argv:
                # useradd --root chroots first: `..` cannot climb out of the root.
                os.makedirs(Path(root) / posixpath.normpath("/" + home).lstrip("/"), exist_ok=True)
        elif tool == "userdel":
            _remove_line(passwd, name)
        elif tool == "groupdel":
            _remove_line(group, name)
        elif tool == "usermod":
            lines = _lines(passwd)
            out = []
            for line in lines:
                f = line.split(":")
                if f[0] == name:
                    if "--uid" in opts:
                        f[2] = opts["--uid"]
                    if "--comment" in opts:
                        f[4] = opts["--comment"]
                    if "--home" in opts:
                        f[5] = opts["--home"]
                    if "--shell" in opts:
                        f[6] = opts["--shell"]
                out.append(":".join(f))
            passwd.write_text("".join(f"{ln}\n" for ln in out))
        elif tool == "groupmod":
            out = []
            for ln in _lines(group):
                f = ln.split(":")
                if f[0] == name and "--gid" in opts:
                    f[2] = opts["--gid"]
                out.append(":".join(f))
            group.write_text("".join(f"{ln}\n" for ln in out))

    def _next(self) -> int:
        self.next_uid += 1
        return self.next_uid


_WITH_VALUE = {"--uid", "--gid", "--comment", "--home-dir", "--home", "--shell", "--groups", "--password"}


def _options(args: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    i = 0
    while i < len(args):
        if args[i] in _WITH_VALUE and i + 1 < len(args):
            out[args[i]] = args[i + 1]
            i += 2
        else:
            i += 1
    return out


def _lines(p: Path) -> list[str]:
    return p.read_text().splitlines() if p.exists() else []


def _append_line(p: Path, line: str) -> None:
    with p.open("a") as f:
        f.write(line + "\n")


def _remove_line(p: Path, name: str) -> None:
    p.write_text("".join(f"{ln}\n" for ln in _lines(p) if ln.split(":")[0] != name))


def data_url(data: bytes) -> str:
    return "data:;base64," + base64.b64encode(data).decode()


def text_url(text: str) -> str:
    return "data:," + quote(text)


def gz_url(data: bytes) -> str:
    return data_url(gzip.compress(data))


def sha512(data: bytes) -> str:
    return "sha512-" + hashlib.sha512(data).hexdigest()


def sha256(data: bytes) -> str:
    return "sha256-" + hashlib.sha256(data).hexdigest()


def config(version: str = "3.4.0", **sections: Any) -> bytes:
    doc: dict[str, Any] = {"ignition": {"version": version}}
    doc.update(sections)
    return json.dumps(doc).encode()


@dataclass
class Env:
    tmp: Path
    root: Path
    ctx: StageContext
    runner: Runner
    sink: ListSink
    plan: Plan | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def fake(self) -> FakeRunner:
        assert isinstance(self.runner, FakeRunner)
        return self.runner

    def p(self, path: str) -> Path:
        """Host path of a config path (no symlink chasing: for assertions)."""
        return self.root / path.lstrip("/")


def make_env(tmp_path: Path, cfg: bytes | dict[str, Any], *, dry: bool = False,
             enabled: Sequence[str] = (), state: State | None = None) -> Env:
    raw = cfg if isinstance(cfg, bytes) else json.dumps(cfg).encode()
    parsed = parse(raw).config
    root = tmp_path / "root"
    root.mkdir(parents=True, exist_ok=True)
    (tmp_path / "boot_id").write_text("5d7b1a0c-0a0b-4c4d-8e8f-101112131415\n")
    sink = ListSink()
    logger = Logger(sink, "files", "file")
    plan = Plan() if dry else None
    sysroot: Sysroot = DryRunSysroot(str(root), plan) if plan is not None else Sysroot(str(root))
    runner: Runner = RecordingRunner(logger, plan) if plan is not None else FakeRunner(logger, enabled)
    env = Environment(boot_id_path=str(tmp_path / "boot_id"))
    ctx = StageContext(parsed, sysroot, runner, Fetcher(logger), state or State(), "file", logger, env,
                       Paths(), dry, plan)
    return Env(tmp_path, root, ctx, runner, sink, plan)


def with_config(e: Env, cfg: bytes | dict[str, Any]) -> Env:
    """A second context on the same root (a second run)."""
    raw = cfg if isinstance(cfg, bytes) else json.dumps(cfg).encode()
    ctx = StageContext(parse(raw).config, e.ctx.root, e.runner, e.ctx.fetcher, e.ctx.state, "file",
                       e.ctx.logger, e.ctx.env, Paths(), e.ctx.dry_run, e.ctx.plan)
    return Env(e.tmp, e.root, ctx, e.runner, e.sink, e.plan)


def mode(p: Path) -> int:
    return stat.S_IMODE(os.lstat(p).st_mode)


def snapshot(top: Path) -> dict[str, tuple[Any, ...]]:
    """Every node under `top`: type+mode, owner, mtime-free content or link target."""
    out: dict[str, tuple[Any, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in [*dirnames, *filenames]:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                body: Any = os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    body = hashlib.sha256(f.read()).hexdigest()
            else:
                body = None
            out[os.path.relpath(p, top)] = (st.st_mode, st.st_uid, st.st_gid, st.st_nlink, body)
    st = os.lstat(top)
    out["."] = (st.st_mode, st.st_uid, st.st_gid, None, None)
    return out


def write_target_db(root: Path) -> None:
    """A target /etc/passwd and /etc/group naming a user and group the host lacks."""
    etc = root / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "passwd").write_text(f"root:x:0:0:root:/root:/bin/sh\n"
                                f"{TEST_USER}:x:{TEST_UID}:{TEST_GID}::/home/{TEST_USER}:/bin/sh\n")
    (etc / "group").write_text(f"root:x:0:\n{TEST_GROUP}:x:{TEST_GID}:\n")
