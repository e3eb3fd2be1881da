"""ignition/sysroot.py on real trees under tmp_path: config paths resolve
inside the root whatever the links in it say, writes are atomic and land
inside the root, and a dry run writes nothing and records the plan."""

from __future__ import annotations

import hashlib
import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from ignition.errors import SysrootEscape
from ignition.plan import Plan
from ignition.sysroot import Sysroot
from ignition.sysroot_dryrun import DryRunSysroot

Snapshot = dict[str, tuple[str, int, bytes | str | None]]


def snapshot(top: Path) -> Snapshot:
    """Every path under `top` with its kind, mode and content (link target)."""
    out: Snapshot = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, top)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", stat.S_IMODE(st.st_mode), os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode), None)
            else:
                out[rel] = ("file", stat.S_IMODE(st.st_mode), Path(p).read_bytes())
    return out


def mode_of(p: Path) -> int:
    return stat.S_IMODE(os.lstat(p).st_mode)


def leftovers(top: Path) -> list[str]:
    return [str(p) for p in top.rglob(".ignition-*")]


def inside(host: str, root: Path) -> bool:
    return os.path.commonpath([str(root), host]) == str(root)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "root"
    r.mkdir()
    return r


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the root holding a sentinel a write must never reach."""
    o = tmp_path / "outside"
    o.mkdir()
    (o / "sentinel").write_bytes(b"host data\n")
    (o / "etc").mkdir()
    (o / "etc" / "passwd").write_bytes(b"host passwd\n")
    return o


@pytest.fixture
def umask077() -> Iterator[None]:
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


# resolve


def test_resolve_plain_paths(root: Path) -> None:
    s = Sysroot(str(root))
    assert s.resolve("/etc/hosts") == str(root / "etc/hosts")
    assert s.resolve("/") == str(root)
    assert s.resolve("//etc/./ssh//sshd_config") == str(root / "etc/ssh/sshd_config")
    assert s.resolve("/etc/ssh/..") == str(root / "etc")


def test_root_must_be_absolute() -> None:
    with pytest.raises(SysrootEscape):
        Sysroot("relative/root")


def test_resolve_rejects_relative_config_path(root: Path) -> None:
    with pytest.raises(SysrootEscape, match="not an absolute path"):
        Sysroot(str(root)).resolve("etc/hosts")


def test_resolve_dotdot_never_climbs_above_root(root: Path) -> None:
    s = Sysroot(str(root))
    assert s.resolve("/../../../etc/passwd") == str(root / "etc/passwd")
    assert s.resolve("/etc/../../../../etc/passwd") == str(root / "etc/passwd")


def test_resolve_follows_absolute_link_inside_root(root: Path) -> None:
    (root / "real/etc").mkdir(parents=True)
    (root / "etc").symlink_to("/real/etc")
    assert Sysroot(str(root)).resolve("/etc/hosts") == str(root / "real/etc/hosts")


def test_resolve_follows_relative_link(root: Path) -> None:
    (root / "usr/etc").mkdir(parents=True)
    (root / "etc").symlink_to("usr/etc")
    (root / "usr/lib").mkdir()
    (root / "usr/lib/os").symlink_to("../etc")
    s = Sysroot(str(root))
    assert s.resolve("/etc/hosts") == str(root / "usr/etc/hosts")
    assert s.resolve("/usr/lib/os/release") == str(root / "usr/etc/release")


def test_resolve_link_to_host_path_stays_inside(root: Path, outside: Path) -> None:
    # The link names the host's path of `outside`; inside the root it means root + that path.
    (root / "data").symlink_to(outside)
    host = Sysroot(str(root)).resolve("/data/sentinel")
    assert host == str(root) + str(outside / "sentinel")
    assert inside(host, root)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/", "etc/passwd"),
        ("../../../..", "etc/passwd"),
        ("../../../../../../../../../../../..", "etc/passwd"),
        ("/../../etc", "etc/etc/passwd"),
        ("/..", "etc/passwd"),
        ("..", "a/etc/passwd"),
        ("/etc/../../..", "etc/passwd"),
    ],
)
def test_resolve_escape_attempts_stay_inside(root: Path, target: str, expected: str) -> None:
    (root / "a/b").mkdir(parents=True)
    (root / "a/b/evil").symlink_to(target)
    host = Sysroot(str(root)).resolve("/a/b/evil/etc/passwd")
    assert host == str(root / expected)
    assert inside(host, root)


def test_resolve_chain_of_links(root: Path) -> None:
    (root / "target").mkdir()
    (root / "l1").symlink_to("/l2")
    (root / "l2").symlink_to("../l3")
    (root / "l3").symlink_to("/../../l4")
    (root / "l4").symlink_to("target")
    host = Sysroot(str(root)).resolve("/l1/file")
    assert host == str(root / "target/file")


def test_resolve_chain_escaping_through_every_hop(root: Path) -> None:
    (root / "x/y").mkdir(parents=True)
    (root / "x/y/up").symlink_to("../../../../..")
    (root / "x/hop").symlink_to("/x/y/up/x/y/up/..")
    host = Sysroot(str(root)).resolve("/x/hop/etc/shadow")
    assert host == str(root / "etc/shadow")
    assert inside(host, root)


@pytest.mark.parametrize("links", [{"a": "b", "b": "a"}, {"self": "/self"}, {"a": "/b/x", "b": "/a/y"}])
def test_resolve_loop_raises(root: Path, links: dict[str, str]) -> None:
    for name, target in links.items():
        (root / name).symlink_to(target)
    first = next(iter(links))
    with pytest.raises(SysrootEscape, match="too many levels of symbolic links"):
        Sysroot(str(root)).resolve(f"/{first}/file")


def test_resolve_never_follows_last_component(root: Path, outside: Path) -> None:
    (root / "etc").mkdir()
    (root / "etc/passwd").symlink_to(outside / "etc/passwd")
    (root / "etc/up").symlink_to("../../../..")
    (root / "etc/top").symlink_to("/")
    s = Sysroot(str(root))
    assert s.resolve("/etc/passwd") == str(root / "etc/passwd")
    assert s.resolve("/etc/up") == str(root / "etc/up")
    assert s.resolve("/etc/top") == str(root / "etc/top")
    # ... but a trailing slash makes it a directory that must be entered.
    assert s.resolve("/etc/top/") == str(root)


def test_resolve_results_always_under_root(root: Path, outside: Path) -> None:
    (root / "d").mkdir()
    links = {
        "d/abs": "/", "d/rel": "../../..", "d/host": str(outside), "d/dots": "/../..",
        "d/mixed": "../d/abs/../../d/rel", "d/dangling": "/nonexistent/../../..",
    }
    for name, target in links.items():
        (root / name).symlink_to(target)
    s = Sysroot(str(root))
    for name in links:
        for suffix in ("", "/", "/x", "/../..", "/etc/passwd", "/sentinel"):
            host = s.resolve(f"/{name}{suffix}")
            assert inside(host, root), (name, suffix, host)


# write_file


def test_write_file_content_and_default_mode(root: Path, umask077: None) -> None:
    Sysroot(str(root)).write_file("/etc/hostname", b"node1\n")
    assert (root / "etc/hostname").read_bytes() == b"node1\n"
    assert mode_of(root / "etc/hostname") == 0o644


@pytest.mark.parametrize("mode", [0o600, 0o755, 0o640, 0o400, 0o777])
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o777])
def test_write_file_mode_regardless_of_umask(root: Path, mode: int, umask: int) -> None:
    old = os.umask(umask)
    try:
        Sysroot(str(root)).write_file("/usr/local/bin/tool", b"#!/bin/sh\n", mode=mode)
    finally:
        os.umask(old)
    assert mode_of(root / "usr/local/bin/tool") == mode
    assert (root / "usr/local/bin/tool").read_bytes() == b"#!/bin/sh\n"


def test_write_file_creates_missing_parents_0755(root: Path, umask077: None) -> None:
    (root / "etc").mkdir(mode=0o750)
    os.chmod(root / "etc", 0o750)
    Sysroot(str(root)).write_file("/etc/systemd/system/x.service.d/10.conf", b"[Unit]\n", mode=0o600)
    for d in ("etc/systemd", "etc/systemd/system", "etc/systemd/system/x.service.d"):
        assert (root / d).is_dir()
        assert mode_of(root / d) == 0o755, d
    assert mode_of(root / "etc") == 0o750  # an existing parent is left alone
    assert mode_of(root / "etc/systemd/system/x.service.d/10.conf") == 0o600


def test_write_file_replaces_existing_file_atomically(root: Path) -> None:
    s = Sysroot(str(root))
    s.write_file("/etc/motd", b"old\n")
    before = os.stat(root / "etc/motd").st_ino
    s.write_file("/etc/motd", b"new contents\n", mode=0o600)
    assert (root / "etc/motd").read_bytes() == b"new contents\n"
    assert mode_of(root / "etc/motd") == 0o600
    assert os.stat(root / "etc/motd").st_ino != before  # renamed over, not rewritten in place
    assert leftovers(root) == []
    assert sorted(os.listdir(root / "etc")) == ["motd"]


def test_write_file_failure_leaves_old_file_intact(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = Sysroot(str(root))
    s.write_file("/etc/motd", b"old\n", mode=0o640)
    real_fchmod = os.fchmod
    calls = {"n": 0}

    def failing_fchmod(fd: int, mode: int) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError(5, "Input/output error")
        real_fchmod(fd, mode)

    monkeypatch.setattr(os, "fchmod", failing_fchmod)
    with pytest.raises(OSError, match=r"I/O error on the filesystem mounted at .* while writing /etc/motd "):
        s.write_file("/etc/motd", b"new\n", mode=0o600)
    assert (root / "etc/motd").read_bytes() == b"old\n"
    assert mode_of(root / "etc/motd") == 0o640
    assert leftovers(root) == []
    # The next attempt succeeds.
    s.write_file("/etc/motd", b"new\n", mode=0o600)
    assert (root / "etc/motd").read_bytes() == b"new\n"
    assert leftovers(root) == []


def test_write_file_replaces_final_symlink_instead_of_writing_through(root: Path, outside: Path) -> None:
    (root / "etc").mkdir()
    (root / "etc/passwd").symlink_to(outside / "etc/passwd")
    before = snapshot(outside)
    Sysroot(str(root)).write_file("/etc/passwd", b"root:x:0:0::/root:/bin/sh\n")
    assert not (root / "etc/passwd").is_symlink()
    assert (root / "etc/passwd").read_bytes() == b"root:x:0:0::/root:/bin/sh\n"
    assert snapshot(outside) == before


def test_write_file_through_absolute_symlinked_dir_lands_inside(root: Path, outside: Path) -> None:
    # /etc -> /real/etc, as on an ostree-style root; /real/etc does not exist on the host.
    (root / "real/etc").mkdir(parents=True)
    (root / "etc").symlink_to("/real/etc")
    before = snapshot(outside)
    Sysroot(str(root)).write_file("/etc/hostname", b"node1\n")
    assert (root / "real/etc/hostname").read_bytes() == b"node1\n"
    assert (root / "etc").is_symlink()
    assert snapshot(outside) == before
    assert leftovers(root) == []


def test_write_file_through_link_naming_a_host_dir_never_writes_outside(root: Path, outside: Path) -> None:
    # The link names the host path of `outside`, which exists on the host but not in the root:
    # the write must go to root + that path (created), never to the host directory.
    (root / "etc").symlink_to(outside / "etc")
    before = snapshot(outside)
    Sysroot(str(root)).write_file("/etc/passwd", b"core:x:1000:1000::/home/core:/bin/bash\n")
    assert snapshot(outside) == before
    landed = Path(str(root) + str(outside / "etc/passwd"))
    assert landed.read_bytes() == b"core:x:1000:1000::/home/core:/bin/bash\n"


def test_write_file_through_escaping_link_never_writes_outside(root: Path, outside: Path) -> None:
    (root / "var").mkdir()
    (root / "var/lib").symlink_to("../../../../../..")
    before = snapshot(outside)
    Sysroot(str(root)).write_file("/var/lib/sentinel", b"inside\n")
    assert (root / "sentinel").read_bytes() == b"inside\n"
    assert snapshot(outside) == before


# makedirs


def test_makedirs_returns_created_paths_in_order(root: Path, umask077: None) -> None:
    (root / "var").mkdir()
    s = Sysroot(str(root))
    assert s.makedirs("/var/lib/app/data") == ["/var/lib", "/var/lib/app", "/var/lib/app/data"]
    for d in ("var/lib", "var/lib/app", "var/lib/app/data"):
        assert mode_of(root / d) == 0o755
    assert s.makedirs("/var/lib/app/data") == []
    assert s.makedirs("/var/lib/app/other") == ["/var/lib/app/other"]
    assert s.makedirs("/") == []


def test_makedirs_mode_applies_to_the_leaf_and_parents_get_0755(root: Path, umask077: None) -> None:
    # Ignition creates missing parents with its default 0755; only the named directory
    # gets the config's mode (a 0700 /var/lib/secret must not leave /var/lib 0700).
    (root / "var").mkdir()
    created = Sysroot(str(root)).makedirs("/var/lib/secret", mode=0o700)
    assert created == ["/var/lib", "/var/lib/secret"]
    assert mode_of(root / "var/lib/secret") == 0o700
    assert mode_of(root / "var/lib") == 0o755


def test_makedirs_over_a_file_raises(root: Path) -> None:
    (root / "etc").write_bytes(b"not a dir")
    with pytest.raises(OSError):
        Sysroot(str(root)).makedirs("/etc/ssh")


# read_bytes / lexists


def test_read_bytes_and_lexists(root: Path) -> None:
    (root / "real/etc").mkdir(parents=True)
    (root / "real/etc/os-release").write_bytes(b"ID=test\n")
    (root / "etc").symlink_to("/real/etc")
    (root / "dangling").symlink_to("/nowhere")
    s = Sysroot(str(root))
    assert s.read_bytes("/etc/os-release") == b"ID=test\n"
    assert s.read_bytes("/etc/missing") is None
    assert s.read_bytes("/nodir/missing") is None
    assert s.lexists("/etc/os-release")
    assert s.lexists("/etc")
    assert s.lexists("/dangling")  # the link itself exists
    assert not s.lexists("/etc/missing")
    assert not s.lexists("/nodir/missing")


def test_read_bytes_of_final_symlink_never_reads_the_host(root: Path, outside: Path) -> None:
    # A link in the target naming an absolute path means that path inside the root (as in a
    # chroot); reading it must never return the host's file.
    (root / "etc").mkdir()
    (root / "etc/passwd").symlink_to(outside / "etc/passwd")
    Path(str(root) + str(outside / "etc")).mkdir(parents=True)
    Path(str(root) + str(outside / "etc/passwd")).write_bytes(b"target passwd\n")
    data = Sysroot(str(root)).read_bytes("/etc/passwd")
    assert data != b"host passwd\n"
    assert data == b"target passwd\n"


def test_relative(root: Path) -> None:
    s = Sysroot(str(root))
    assert s.relative(str(root)) == "/"
    assert s.relative(str(root / "etc/hosts")) == "/etc/hosts"


# DryRunSysroot


def details(plan: Plan) -> list[tuple[str, str, dict[str, str]]]:
    """The plan's entries; a mkdir's details are cut down to its mode (the other details of a
    planned directory are not this file's concern)."""
    out = []
    for e in plan.entries:
        d = dict(e.details)
        out.append((e.action, e.target, {"mode": d["mode"]} if e.action == "mkdir" else d))
    return out


def test_dry_run_writes_nothing_and_records_plan(tmp_path: Path, root: Path, outside: Path) -> None:
    (root / "etc").mkdir()
    (root / "etc/motd").write_bytes(b"old\n")
    (root / "var").symlink_to("/")  # an escape attempt, planned inside
    before = snapshot(tmp_path)
    plan = Plan()
    s = DryRunSysroot(str(root), plan)
    created = s.makedirs("/srv/www/html", mode=0o750)
    s.write_file("/etc/motd", b"new motd\n", mode=0o600)
    s.write_file("/srv/www/html/index.html", b"<html/>\n", mode=0o644, uid=33, gid=33)
    s.write_file("/opt/app/bin/run", b"#!/bin/sh\n", mode=0o755, uid=1000)
    s.write_file("/var/sentinel", b"x")
    assert snapshot(tmp_path) == before
    assert created == ["/srv", "/srv/www", "/srv/www/html"]

    def write(path: str, data: bytes, mode: str, owner: str) -> tuple[str, str, dict[str, str]]:
        return ("write", path, {"type": "file", "mode": mode, "owner": owner, "size": str(len(data)),
                                "sha256": hashlib.sha256(data).hexdigest()})

    assert details(plan) == [
        ("mkdir", "/srv", {"mode": "0750"}),
        ("mkdir", "/srv/www", {"mode": "0750"}),
        ("mkdir", "/srv/www/html", {"mode": "0750"}),
        write("/etc/motd", b"new motd\n", "0600", "0:0"),
        write("/srv/www/html/index.html", b"<html/>\n", "0644", "33:33"),
        ("mkdir", "/opt", {"mode": "0755"}),
        ("mkdir", "/opt/app", {"mode": "0755"}),
        ("mkdir", "/opt/app/bin", {"mode": "0755"}),
        write("/opt/app/bin/run", b"#!/bin/sh\n", "0755", "1000:0"),
        write("/var/sentinel", b"x", "0644", "0:0"),
    ]


def test_dry_run_makedirs_remembers_planned_dirs(tmp_path: Path, root: Path) -> None:
    before = snapshot(tmp_path)
    plan = Plan()
    s = DryRunSysroot(str(root), plan)
    assert s.makedirs("/a/b") == ["/a", "/a/b"]
    assert s.makedirs("/a/b") == []
    assert s.makedirs("/a/b/c") == ["/a/b/c"]
    s.write_file("/a/b/c/f", b"")
    assert [(e.action, e.target) for e in plan.entries] == [
        ("mkdir", "/a"), ("mkdir", "/a/b"), ("mkdir", "/a/b/c"), ("write", "/a/b/c/f"),
    ]
    assert snapshot(tmp_path) == before


def test_dry_run_reads_the_real_tree(tmp_path: Path, root: Path) -> None:
    (root / "etc").mkdir()
    (root / "etc/hostname").write_bytes(b"old\n")
    plan = Plan()
    s = DryRunSysroot(str(root), plan)
    s.write_file("/etc/hostname", b"new\n")
    assert s.read_bytes("/etc/hostname") == b"old\n"  # nothing was written
    assert s.lexists("/etc/hostname")
    assert s.makedirs("/etc") == []
    assert [e.action for e in plan.entries] == ["write"]


def test_dry_run_through_absolute_symlinked_dir_plans_no_mkdir(tmp_path: Path, root: Path) -> None:
    (root / "real/etc").mkdir(parents=True)
    (root / "etc").symlink_to("/real/etc")
    before = snapshot(tmp_path)
    plan = Plan()
    DryRunSysroot(str(root), plan).write_file("/etc/hostname", b"node1\n")
    assert snapshot(tmp_path) == before
    assert [(e.action, e.target) for e in plan.entries] == [("write", "/etc/hostname")]


def test_dry_run_plan_prints(root: Path) -> None:
    plan = Plan()
    DryRunSysroot(str(root), plan).write_file("/etc/a", b"abc", mode=0o600)
    out = io.StringIO()
    plan.print(out)
    digest = hashlib.sha256(b"abc").hexdigest()
    mkdir, write = out.getvalue().splitlines()
    assert mkdir.startswith("would mkdir /etc (mode 0755")
    assert write == f"would write /etc/a (type file, mode 0600, owner 0:0, size 3, sha256 {digest})"


def test_temporary_files_are_new_private_and_unique(tmp_path: Path) -> None:
    from ignition.tmpfile import STRAY, mkstemp

    made = [mkstemp(str(tmp_path)) for _ in range(50)]
    for fd, path in made:
        os.close(fd)
        assert STRAY.fullmatch(os.path.basename(path))  # the one name the stray sweep recognises
        assert os.stat(path).st_mode & 0o777 == 0o600
    assert len({p for _, p in made}) == 50

