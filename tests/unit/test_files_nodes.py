"""Files, directories and links written by the files stage, checked on a
temporary sysroot: bytes, modes, owners, link targets and what is NOT written."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from ignition.errors import IgnitionError, StageError
from ignition.stages.files.nodes import apply_nodes
from tests.unit.test_files_support import (
    TEST_GID,
    TEST_GROUP,
    TEST_UID,
    TEST_USER,
    Env,
    config,
    data_url,
    gz_url,
    make_env,
    mode,
    sha256,
    sha512,
    snapshot,
    text_url,
    write_target_db,
)

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")


def storage(tmp_path: Path, version: str = "3.4.0", **sections: Any) -> Env:
    return make_env(tmp_path, config(version, storage=sections))


def run(e: Env) -> None:
    apply_nodes(e.ctx)


# Files


def test_new_file_defaults_to_0644(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[{"path": "/etc/hello", "contents": {"source": text_url("hi\n")}}])
    run(e)
    assert e.p("/etc/hello").read_bytes() == b"hi\n"
    assert mode(e.p("/etc/hello")) == 0o644


def test_new_file_without_contents_is_empty(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[{"path": "/etc/empty"}])
    run(e)
    assert e.p("/etc/empty").read_bytes() == b""
    assert mode(e.p("/etc/empty")) == 0o644


def test_explicit_mode(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[{"path": "/etc/secret", "mode": 0o600, "contents": {"source": text_url("s")}}])
    run(e)
    assert mode(e.p("/etc/secret")) == 0o600


def test_setuid_mode_with_spec_3_6(tmp_path: Path) -> None:
    e = storage(tmp_path, "3.6.0", files=[{"path": "/usr/local/bin/tool", "mode": 0o4755,
                                           "contents": {"source": text_url("#!/bin/sh\n")}}])
    run(e)
    assert mode(e.p("/usr/local/bin/tool")) == 0o4755


def test_contents_from_base64_data_url(tmp_path: Path) -> None:
    blob = bytes(range(256)) * 3
    e = storage(tmp_path, files=[{"path": "/var/blob", "contents": {"source": data_url(blob)}}])
    run(e)
    assert e.p("/var/blob").read_bytes() == blob


def test_gzip_contents_are_decompressed(tmp_path: Path) -> None:
    text = b"compressed contents\n" * 50
    e = storage(tmp_path, files=[{"path": "/etc/gz", "contents": {"source": gz_url(text),
                                                                 "compression": "gzip"}}])
    run(e)
    assert e.p("/etc/gz").read_bytes() == text


@pytest.mark.parametrize("hasher", [sha512, sha256], ids=["sha512", "sha256"])
def test_good_hash_is_accepted(tmp_path: Path, hasher: Any) -> None:
    text = b"verified\n"
    e = storage(tmp_path, files=[{"path": "/etc/v", "contents": {
        "source": text_url(text.decode()), "verification": {"hash": hasher(text)}}}])
    run(e)
    assert e.p("/etc/v").read_bytes() == text


def test_hash_is_checked_on_decompressed_data(tmp_path: Path) -> None:
    text = b"gzip then hash\n"
    e = storage(tmp_path, files=[{"path": "/etc/v", "contents": {
        "source": gz_url(text), "compression": "gzip", "verification": {"hash": sha512(text)}}}])
    run(e)
    assert e.p("/etc/v").read_bytes() == text


def test_bad_hash_fails_and_writes_nothing_at_all(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[
        {"path": "/etc/first", "contents": {"source": text_url("first\n")}},
        {"path": "/etc/target", "overwrite": True, "contents": {
            "source": text_url("evil\n"), "verification": {"hash": sha512(b"something else")}}},
        {"path": "/etc/last", "contents": {"source": text_url("last\n")}},
    ], directories=[{"path": "/srv/dir"}], links=[{"path": "/etc/l", "target": "first"}])
    e.p("/etc").mkdir()
    e.p("/etc/target").write_bytes(b"original\n")
    before = snapshot(e.root)
    with pytest.raises(StageError, match=r"storage\.files\.1 \(/etc/target\)"):
        run(e)
    assert snapshot(e.root) == before
    assert e.p("/etc/target").read_bytes() == b"original\n"


def test_bad_hash_in_an_append_fragment_writes_nothing(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[
        {"path": "/etc/a", "contents": {"source": text_url("a")}},
        {"path": "/etc/b", "append": [{"source": text_url("x"), "verification": {"hash": sha256(b"y")}}]},
    ])
    before = snapshot(e.root)
    with pytest.raises(StageError):
        run(e)
    assert snapshot(e.root) == before


def test_existing_file_with_source_and_no_overwrite_fails(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[{"path": "/etc/other", "contents": {"source": text_url("o")}},
                                 {"path": "/etc/motd", "mode": 0o600, "contents": {"source": text_url("new\n")}}])
    e.p("/etc").mkdir()
    e.p("/etc/motd").write_bytes(b"old\n")
    os.chmod(e.p("/etc/motd"), 0o640)
    with pytest.raises(StageError, match=r"storage\.files\.1 \(/etc/motd\).*overwrite"):
        run(e)
    assert e.p("/etc/motd").read_bytes() == b"old\n"
    assert mode(e.p("/etc/motd")) == 0o640


def test_overwrite_replaces_and_resets_mode_to_0644(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[{"path": "/etc/motd", "overwrite": True,
                                  "contents": {"source": text_url("new\n")}}])
    e.p("/etc").mkdir()
    e.p("/etc/motd").write_bytes(b"old old old\n")
    os.chmod(e.p("/etc/motd"), 0o600)
    run(e)
    assert e.p("/etc/motd").read_bytes() == b"new\n"
    assert mode(e.p("/etc/motd")) == 0o644


def test_overwrite_with_explicit_mode(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[{"path": "/etc/motd", "overwrite": True, "mode": 0o640,
                                  "contents": {"source": text_url("new\n")}}])
    e.p("/etc").mkdir()
    e.p("/etc/motd").write_bytes(b"old\n")
    run(e)
    assert e.p("/etc/motd").read_bytes() == b"new\n"
    assert mode(e.p("/etc/motd")) == 0o640


def test_existing_file_without_source_keeps_contents_and_mode(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[{"path": "/etc/keep"}])
    e.p("/etc").mkdir()
    e.p("/etc/keep").write_bytes(b"precious\n")
    os.chmod(e.p("/etc/keep"), 0o600)
    run(e)
    assert e.p("/etc/keep").read_bytes() == b"precious\n"
    assert mode(e.p("/etc/keep")) == 0o600


def test_existing_file_without_source_gets_the_given_mode(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[{"path": "/etc/keep", "mode": 0o640}])
    e.p("/etc").mkdir()
    e.p("/etc/keep").write_bytes(b"precious\n")
    os.chmod(e.p("/etc/keep"), 0o600)
    run(e)
    assert e.p("/etc/keep").read_bytes() == b"precious\n"
    assert mode(e.p("/etc/keep")) == 0o640


def test_append_to_existing_file(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[{"path": "/etc/hosts", "append": [{"source": text_url("10.0.0.1 a\n")}]}])
    e.p("/etc").mkdir()
    e.p("/etc/hosts").write_bytes(b"127.0.0.1 localhost\n")
    os.chmod(e.p("/etc/hosts"), 0o644)
    run(e)
    assert e.p("/etc/hosts").read_bytes() == b"127.0.0.1 localhost\n10.0.0.1 a\n"


def test_append_to_new_file(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[{"path": "/etc/new", "append": [{"source": text_url("line\n")}]}])
    run(e)
    assert e.p("/etc/new").read_bytes() == b"line\n"
    assert mode(e.p("/etc/new")) == 0o644


def test_large_inline_fragments_are_appended_whole_and_in_order(tmp_path: Path) -> None:
    # Plain data: fragments are kept in memory until their turn (no temp file on the target);
    # gzip ones are still staged as files. Both kinds, several MiB, land in config order.
    big = os.urandom(3 << 20)
    e = storage(tmp_path, files=[{"path": "/var/log/frag", "append": [
        {"source": data_url(big), "verification": {"hash": sha512(big)}},
        {"source": gz_url(b"middle\n"), "compression": "gzip"},
        {"source": text_url("end\n")},
    ]}])
    run(e)
    assert e.p("/var/log/frag").read_bytes() == big + b"middle\nend\n"
    assert not [p for p in e.root.rglob(".ignition-stage-*")]


def test_append_after_contents_in_order(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[{"path": "/etc/frag", "contents": {"source": text_url("0\n")}, "append": [
        {"source": text_url("1\n")},
        {"source": gz_url(b"2\n"), "compression": "gzip"},
        {"source": text_url("3\n"), "verification": {"hash": sha512(b"3\n")}},
    ]}])
    run(e)
    assert e.p("/etc/frag").read_bytes() == b"0\n1\n2\n3\n"


def test_directory_at_file_path_fails(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[{"path": "/etc/conf", "contents": {"source": text_url("x")}}])
    e.p("/etc/conf").mkdir(parents=True)
    (e.p("/etc/conf") / "inside").write_bytes(b"keep")
    with pytest.raises(StageError, match=r"storage\.files\.0 \(/etc/conf\)"):
        run(e)
    assert e.p("/etc/conf").is_dir()
    assert (e.p("/etc/conf") / "inside").read_bytes() == b"keep"


def test_directory_at_file_path_fails_without_source(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[{"path": "/etc/conf"}])
    e.p("/etc/conf").mkdir(parents=True)
    with pytest.raises(StageError, match=r"storage\.files\.0 \(/etc/conf\)"):
        run(e)
    assert e.p("/etc/conf").is_dir()


def test_write_leaves_no_temp_file(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[{"path": "/etc/a", "contents": {"source": text_url("a")}}])
    run(e)
    assert sorted(os.listdir(e.p("/etc"))) == ["a"]


# Directories


def test_new_directory_defaults_to_0755(tmp_path: Path) -> None:
    e = storage(tmp_path, directories=[{"path": "/var/lib/app"}])
    run(e)
    assert e.p("/var/lib/app").is_dir()
    assert mode(e.p("/var/lib/app")) == 0o755
    assert mode(e.p("/var/lib")) == 0o755


def test_special_bits_dropped_before_spec_3_6(tmp_path: Path) -> None:
    # Specs before 3.6 translate with mode & ~07000, as Ignition does.
    e = storage(tmp_path, "3.4.0", files=[{"path": "/usr/local/bin/tool", "mode": 0o4755}],
                directories=[{"path": "/srv/shared", "mode": 0o1777}])
    run(e)
    assert mode(e.p("/usr/local/bin/tool")) == 0o755
    assert mode(e.p("/srv/shared")) == 0o777


def test_directory_explicit_mode(tmp_path: Path) -> None:
    e = storage(tmp_path, directories=[{"path": "/var/lib/app", "mode": 0o700}])
    run(e)
    assert mode(e.p("/var/lib/app")) == 0o700


def test_directory_sticky_mode_with_spec_3_6(tmp_path: Path) -> None:
    e = storage(tmp_path, "3.6.0", directories=[{"path": "/srv/shared", "mode": 0o1777}])
    run(e)
    assert mode(e.p("/srv/shared")) == 0o1777


def test_existing_directory_keeps_contents_mode_changes(tmp_path: Path) -> None:
    e = storage(tmp_path, directories=[{"path": "/srv/d", "mode": 0o750}])
    e.p("/srv/d").mkdir(parents=True)
    os.chmod(e.p("/srv/d"), 0o700)
    (e.p("/srv/d") / "f").write_bytes(b"kept")
    run(e)
    assert mode(e.p("/srv/d")) == 0o750
    assert (e.p("/srv/d") / "f").read_bytes() == b"kept"


def test_existing_directory_without_mode_keeps_mode(tmp_path: Path) -> None:
    e = storage(tmp_path, directories=[{"path": "/srv/d"}])
    e.p("/srv/d").mkdir(parents=True)
    os.chmod(e.p("/srv/d"), 0o700)
    run(e)
    assert mode(e.p("/srv/d")) == 0o700


def test_directory_overwrite_empties_it(tmp_path: Path) -> None:
    e = storage(tmp_path, directories=[{"path": "/srv/d", "overwrite": True}])
    (e.p("/srv/d/sub")).mkdir(parents=True)
    (e.p("/srv/d/sub/f")).write_bytes(b"gone")
    (e.p("/srv/d/g")).write_bytes(b"gone")
    os.chmod(e.p("/srv/d"), 0o700)
    run(e)
    assert e.p("/srv/d").is_dir()
    assert os.listdir(e.p("/srv/d")) == []
    assert mode(e.p("/srv/d")) == 0o755


def test_file_where_directory_is_asked_fails(tmp_path: Path) -> None:
    e = storage(tmp_path, directories=[{"path": "/srv/d"}])
    e.p("/srv").mkdir()
    e.p("/srv/d").write_bytes(b"a file")
    with pytest.raises(StageError, match=r"storage\.directories\.0 \(/srv/d\)"):
        run(e)
    assert e.p("/srv/d").read_bytes() == b"a file"


# Links


def test_symlink_relative_target_kept_verbatim(tmp_path: Path) -> None:
    e = storage(tmp_path, links=[{"path": "/etc/localtime", "target": "../usr/share/zoneinfo/UTC"}])
    run(e)
    assert e.p("/etc/localtime").is_symlink()
    assert os.readlink(e.p("/etc/localtime")) == "../usr/share/zoneinfo/UTC"


def test_symlink_absolute_target_kept_verbatim(tmp_path: Path) -> None:
    e = storage(tmp_path, links=[{"path": "/etc/resolv.conf", "target": "/run/systemd/resolve/stub-resolv.conf"}])
    run(e)
    assert os.readlink(e.p("/etc/resolv.conf")) == "/run/systemd/resolve/stub-resolv.conf"
    # The target is not created: a link is only a name.
    assert not e.p("/run").exists()


def test_existing_identical_symlink_is_a_no_op(tmp_path: Path) -> None:
    e = storage(tmp_path, links=[{"path": "/etc/l", "target": "/usr/x"}])
    e.p("/etc").mkdir()
    os.symlink("/usr/x", e.p("/etc/l"))
    ino = os.lstat(e.p("/etc/l")).st_ino
    run(e)
    assert os.readlink(e.p("/etc/l")) == "/usr/x"
    assert os.lstat(e.p("/etc/l")).st_ino == ino


def test_symlink_different_target_without_overwrite_fails(tmp_path: Path) -> None:
    e = storage(tmp_path, links=[{"path": "/etc/l", "target": "/usr/new"}])
    e.p("/etc").mkdir()
    os.symlink("/usr/old", e.p("/etc/l"))
    with pytest.raises(StageError, match=r"storage\.links\.0 \(/etc/l\)"):
        run(e)
    assert os.readlink(e.p("/etc/l")) == "/usr/old"


def test_symlink_overwrite_replaces(tmp_path: Path) -> None:
    e = storage(tmp_path, links=[{"path": "/etc/l", "target": "/usr/new", "overwrite": True}])
    e.p("/etc").mkdir()
    os.symlink("/usr/old", e.p("/etc/l"))
    run(e)
    assert os.readlink(e.p("/etc/l")) == "/usr/new"


def test_symlink_overwrite_replaces_a_file(tmp_path: Path) -> None:
    e = storage(tmp_path, links=[{"path": "/etc/l", "target": "/usr/new", "overwrite": True}])
    e.p("/etc").mkdir()
    e.p("/etc/l").write_bytes(b"file")
    run(e)
    assert os.readlink(e.p("/etc/l")) == "/usr/new"


def test_broken_symlink_overwritten_by_link(tmp_path: Path) -> None:
    e = storage(tmp_path, links=[{"path": "/etc/l", "target": "/usr/new", "overwrite": True}])
    e.p("/etc").mkdir()
    os.symlink("/nonexistent/target", e.p("/etc/l"))
    run(e)
    assert os.readlink(e.p("/etc/l")) == "/usr/new"
    assert not e.p("/nonexistent").exists()


def test_broken_symlink_overwritten_by_file_is_replaced_not_followed(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[{"path": "/etc/f", "overwrite": True, "contents": {"source": text_url("x")}}])
    e.p("/etc").mkdir()
    os.symlink("/nonexistent/target", e.p("/etc/f"))
    run(e)
    assert not e.p("/etc/f").is_symlink()
    assert e.p("/etc/f").read_bytes() == b"x"
    assert not e.p("/nonexistent").exists()


def test_file_on_existing_symlink_without_overwrite_fails(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[{"path": "/etc/f", "contents": {"source": text_url("x")}}])
    e.p("/etc").mkdir()
    e.p("/etc/real").write_bytes(b"real")
    os.symlink("real", e.p("/etc/f"))
    with pytest.raises(StageError, match=r"storage\.files\.0 \(/etc/f\)"):
        run(e)
    assert e.p("/etc/f").is_symlink()
    assert e.p("/etc/real").read_bytes() == b"real"


def test_hard_link_to_file_created_in_same_config(tmp_path: Path) -> None:
    # The link is shallower than its target: only "hard links last" makes it work.
    e = storage(tmp_path,
                files=[{"path": "/opt/deep/er/still/data", "contents": {"source": text_url("shared\n")}}],
                links=[{"path": "/hl", "target": "/opt/deep/er/still/data", "hard": True}])
    run(e)
    a, b = os.lstat(e.p("/hl")), os.lstat(e.p("/opt/deep/er/still/data"))
    assert (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)
    assert a.st_nlink == 2
    assert e.p("/hl").read_bytes() == b"shared\n"


def test_hard_link_existing_same_inode_is_a_no_op(tmp_path: Path) -> None:
    e = storage(tmp_path, links=[{"path": "/etc/hl", "target": "/etc/data", "hard": True}])
    e.p("/etc").mkdir()
    e.p("/etc/data").write_bytes(b"d")
    os.link(e.p("/etc/data"), e.p("/etc/hl"))
    run(e)
    assert os.lstat(e.p("/etc/hl")).st_ino == os.lstat(e.p("/etc/data")).st_ino


def test_hard_link_missing_target_fails(tmp_path: Path) -> None:
    e = storage(tmp_path, links=[{"path": "/etc/hl", "target": "/etc/missing", "hard": True}])
    with pytest.raises(StageError, match=r"storage\.links\.0 \(/etc/hl\)"):
        run(e)
    assert not e.p("/etc/hl").exists()


# Ordering


def test_directory_listed_after_deeper_file_gets_its_mode(tmp_path: Path) -> None:
    raw = (b'{"ignition": {"version": "3.4.0"}, "storage": {'
           b'"files": [{"path": "/a/b/c", "contents": {"source": "data:,c"}}],'
           b'"directories": [{"path": "/a", "mode": 448}]}}')
    e = make_env(tmp_path, raw)
    run(e)
    assert mode(e.p("/a")) == 0o700
    assert mode(e.p("/a/b")) == 0o755
    assert e.p("/a/b/c").read_bytes() == b"c"


def test_leading_directories_created_0755(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        e = storage(tmp_path, files=[{"path": "/x/y/z/f", "mode": 0o600}])
        run(e)
    finally:
        os.umask(old)
    for d in ("/x", "/x/y", "/x/y/z"):
        assert mode(e.p(d)) == 0o755, d
        assert os.lstat(e.p(d)).st_uid == os.geteuid()
    assert mode(e.p("/x/y/z/f")) == 0o600


# Symlink-escape attacks


def _escape_env(tmp_path: Path, link_target: str, extra_files: list[dict[str, Any]] | None = None) -> Env:
    files = [{"path": "/etc/x", "overwrite": True, "contents": {"source": text_url("inside\n")}},
             *(extra_files or [])]
    e = make_env(tmp_path / "a" / "b", config(storage={"files": files}))
    os.symlink(link_target, e.p("/etc"))
    return e


def _sentinels(tmp_path: Path) -> list[Path]:
    out = []
    for d in (tmp_path, tmp_path / "a", tmp_path / "a" / "b"):
        d.mkdir(parents=True, exist_ok=True)
        (d / "x").write_bytes(b"sentinel\n")
        out.append(d / "x")
    return out


def test_escape_through_link_to_slash(tmp_path: Path) -> None:
    sentinels = _sentinels(tmp_path)
    e = _escape_env(tmp_path, "/")
    run(e)
    assert e.p("/x").read_bytes() == b"inside\n"
    assert all(s.read_bytes() == b"sentinel\n" for s in sentinels)
    assert os.readlink(e.p("/etc")) == "/"


@pytest.mark.parametrize("target", ["..", "../../..", "../../../../../../../../.."])
def test_escape_through_relative_dotdot_link(tmp_path: Path, target: str) -> None:
    sentinels = _sentinels(tmp_path)
    e = _escape_env(tmp_path, target)
    run(e)
    assert e.p("/x").read_bytes() == b"inside\n"
    assert all(s.read_bytes() == b"sentinel\n" for s in sentinels)


def test_escape_through_absolute_link_to_host_path(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x").write_bytes(b"sentinel\n")
    e = _escape_env(tmp_path, str(outside))
    run(e)
    assert (outside / "x").read_bytes() == b"sentinel\n"
    assert os.listdir(outside) == ["x"]
    # Interpreted inside the root, as a chroot would.
    assert (e.root / str(outside).lstrip("/") / "x").read_bytes() == b"inside\n"


def test_escape_attempt_with_directory_link_and_append(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_bytes(b"host passwd\n")
    e = make_env(tmp_path / "r", config(storage={
        "files": [{"path": "/etc/passwd", "append": [{"source": text_url("evil:x:0:0::/:/bin/sh\n")}]}],
        "directories": [{"path": "/etc/newdir", "mode": 0o777}],
        "links": [{"path": "/etc/newlink", "target": "/anything"}],
    }))
    os.symlink(str(outside), e.p("/etc"))
    before = snapshot(outside)
    run(e)
    assert snapshot(outside) == before
    inner = e.root / str(outside).lstrip("/")
    assert (inner / "passwd").read_bytes() == b"evil:x:0:0::/:/bin/sh\n"
    assert (inner / "newdir").is_dir()
    assert os.readlink(inner / "newlink") == "/anything"


def test_escape_never_touches_host_root(tmp_path: Path) -> None:
    name = f"ignition-escape-{uuid.uuid4().hex}"
    e = make_env(tmp_path, config(storage={"files": [{"path": f"/etc/{name}",
                                                      "contents": {"source": text_url("x")}}]}))
    os.symlink("/", e.p("/etc"))
    run(e)
    assert not os.path.lexists(f"/{name}")
    assert e.p(f"/{name}").read_bytes() == b"x"


def test_hard_link_target_cannot_escape_the_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"host secret\n")
    e = make_env(tmp_path / "r", config(storage={"links": [
        {"path": "/stolen", "target": "/evil/secret", "hard": True}]}))
    os.symlink(str(outside), e.p("/evil"))
    with pytest.raises(StageError, match=r"storage\.links\.0"):
        run(e)
    assert not os.path.lexists(e.p("/stolen"))
    assert os.lstat(outside / "secret").st_nlink == 1


def test_symlink_loop_in_the_target_fails(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[{"path": "/etc/x", "contents": {"source": text_url("x")}}])
    os.symlink("/etc", e.p("/etc"))
    with pytest.raises(IgnitionError, match="symbolic links"):
        run(e)
    assert os.readlink(e.p("/etc")) == "/etc"


def test_two_entries_resolving_to_the_same_path_fail(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[
        {"path": "/etc/real/f", "contents": {"source": text_url("one")}},
        {"path": "/etc/alias/f", "contents": {"source": text_url("two")}},
    ])
    e.p("/etc/real").mkdir(parents=True)
    os.symlink("real", e.p("/etc/alias"))
    before = snapshot(e.root)
    with pytest.raises(StageError, match="symlink chasing") as info:
        run(e)
    assert "storage.files.0" in str(info.value) and "storage.files.1" in str(info.value)
    assert snapshot(e.root) == before


def test_file_and_directory_resolving_to_the_same_path_fail(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[{"path": "/alias/x"}], directories=[{"path": "/real/x"}])
    e.p("/real").mkdir()
    os.symlink("/real", e.p("/alias"))
    with pytest.raises(StageError, match="symlink chasing"):
        run(e)
    assert not e.p("/real/x").exists()


# Ownership


@needs_root
def test_owner_by_id(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[{"path": "/etc/owned", "user": {"id": TEST_UID}, "group": {"id": TEST_GID},
                                  "contents": {"source": text_url("o")}}],
                directories=[{"path": "/srv/owned", "user": {"id": TEST_UID}, "group": {"id": TEST_GID}}],
                links=[{"path": "/etc/owned-link", "target": "owned", "user": {"id": TEST_UID},
                        "group": {"id": TEST_GID}}])
    run(e)
    for p in ("/etc/owned", "/srv/owned", "/etc/owned-link"):
        st = os.lstat(e.p(p))
        assert (st.st_uid, st.st_gid) == (TEST_UID, TEST_GID), p
    assert mode(e.p("/etc/owned")) == 0o644


@needs_root
def test_owner_by_name_from_target_databases(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[{"path": "/home/f", "user": {"name": TEST_USER}, "group": {"name": TEST_GROUP},
                                  "contents": {"source": text_url("o")}}],
                directories=[{"path": "/home/d", "user": {"name": TEST_USER}}],
                links=[{"path": "/home/l", "target": "f", "group": {"name": TEST_GROUP}}])
    write_target_db(e.root)
    run(e)
    st = os.lstat(e.p("/home/f"))
    assert (st.st_uid, st.st_gid) == (TEST_UID, TEST_GID)
    st = os.lstat(e.p("/home/d"))
    assert (st.st_uid, st.st_gid) == (TEST_UID, 0)
    st = os.lstat(e.p("/home/l"))
    assert (st.st_uid, st.st_gid) == (0, TEST_GID)


@needs_root
def test_owner_change_on_existing_file_keeps_contents(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[{"path": "/etc/keep", "user": {"id": TEST_UID}}])
    e.p("/etc").mkdir()
    e.p("/etc/keep").write_bytes(b"precious")
    os.chmod(e.p("/etc/keep"), 0o640)
    run(e)
    st = os.lstat(e.p("/etc/keep"))
    assert (st.st_uid, st.st_gid) == (TEST_UID, 0)
    assert e.p("/etc/keep").read_bytes() == b"precious"
    assert mode(e.p("/etc/keep")) == 0o640


@needs_root
def test_setgid_directory_survives_chown(tmp_path: Path) -> None:
    e = storage(tmp_path, "3.6.0", directories=[{"path": "/srv/g", "mode": 0o2775,
                                                 "group": {"id": TEST_GID}}])
    run(e)
    assert mode(e.p("/srv/g")) == 0o2775
    assert os.lstat(e.p("/srv/g")).st_gid == TEST_GID


@needs_root
def test_setuid_file_survives_chown(tmp_path: Path) -> None:
    e = storage(tmp_path, "3.6.0", files=[{"path": "/usr/bin/su2", "mode": 0o4755, "user": {"id": TEST_UID},
                                           "contents": {"source": text_url("x")}}])
    run(e)
    assert mode(e.p("/usr/bin/su2")) == 0o4755
    assert os.lstat(e.p("/usr/bin/su2")).st_uid == TEST_UID


def test_unknown_user_name_fails(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[{"path": "/etc/f", "user": {"name": "ignitionnosuchuser"},
                                  "contents": {"source": text_url("x")}}])
    write_target_db(e.root)
    before = snapshot(e.root)
    with pytest.raises(StageError, match=r"storage\.files\.0 \(/etc/f\).*ignitionnosuchuser"):
        run(e)
    assert not e.p("/etc/f").exists()
    assert snapshot(e.root) == before


def test_unknown_group_name_fails(tmp_path: Path) -> None:
    e = storage(tmp_path, directories=[{"path": "/srv/d", "group": {"name": "ignitionnosuchgroup"}}])
    write_target_db(e.root)
    with pytest.raises(StageError, match="ignitionnosuchgroup"):
        run(e)
    assert not e.p("/srv/d").exists()


def test_name_lookup_ignores_the_host_databases(tmp_path: Path) -> None:
    # "root" exists on every host; the target has no /etc/passwd at all.
    e = storage(tmp_path, files=[{"path": "/etc/f", "user": {"name": "root"}}])
    with pytest.raises(StageError, match="target's /etc/passwd"):
        run(e)


# Failures of the filesystem itself are reported as stage errors naming the entry


def test_regular_file_where_a_leading_directory_should_be_fails_cleanly(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[{"path": "/etc/conf.d/x", "contents": {"source": text_url("x")}}])
    e.p("/etc").mkdir()
    e.p("/etc/conf.d").write_bytes(b"a file, not a directory")
    with pytest.raises(StageError, match=r"storage\.files\.0 \(/etc/conf\.d/x\)"):
        run(e)
    assert e.p("/etc/conf.d").read_bytes() == b"a file, not a directory"


def test_hard_link_to_an_existing_directory_fails_cleanly(tmp_path: Path) -> None:
    e = storage(tmp_path, links=[{"path": "/hl", "target": "/srv", "hard": True}])
    e.p("/srv").mkdir()
    with pytest.raises(StageError, match=r"storage\.links\.0 \(/hl\)"):
        run(e)
    assert not os.path.lexists(e.p("/hl"))


def test_leading_directories_behind_a_dangling_link_are_0755(tmp_path: Path) -> None:
    # /etc -> usr/etc, and neither /usr nor /usr/etc exists yet.
    e = storage(tmp_path, files=[{"path": "/etc/x", "contents": {"source": text_url("x")}}])
    os.symlink("usr/etc", e.p("/etc"))
    old = os.umask(0o077)
    try:
        run(e)
    finally:
        os.umask(old)
    assert e.p("/usr/etc/x").read_bytes() == b"x"
    assert mode(e.p("/usr")) == 0o755
    assert mode(e.p("/usr/etc")) == 0o755


# A node that fails leaves nothing behind (issue 13)


def test_failed_node_removes_the_directories_made_for_it(tmp_path: Path) -> None:
    """The parents of /new/deeper/f are made before its owner is looked up;
    the unknown user fails the node, and the parents go again."""
    e = storage(tmp_path, files=[{"path": "/new/deeper/f", "user": {"name": "nosuchuser"}}])
    e.p("/etc").mkdir()
    before = snapshot(e.root)
    with pytest.raises(StageError, match=r"storage\.files\.0"):
        run(e)
    assert snapshot(e.root) == before


def test_path_too_long_for_the_host_leaves_no_directories(tmp_path: Path) -> None:
    """A path within Linux's limits that exceeds PATH_MAX once the root is
    prefixed fails part-way through making its parents: a one-line error
    naming the entry, and none of the 20 directories made before it stays."""
    path = ("/" + "d" * 194) * 21
    e = storage(tmp_path, files=[{"path": path}])
    before = snapshot(e.root)
    with pytest.raises(StageError, match=r"storage\.files\.0 .*File name too long"):
        run(e)
    assert snapshot(e.root) == before


def test_directories_shared_with_an_earlier_node_stay(tmp_path: Path) -> None:
    e = storage(tmp_path, files=[{"path": "/a/ok", "contents": {"source": text_url("x")}},
                                 {"path": "/a/b/bad", "user": {"name": "nosuchuser"}}])
    with pytest.raises(StageError, match=r"storage\.files\.1"):
        run(e)
    assert e.p("/a/ok").read_bytes() == b"x"
    assert not e.p("/a/b").exists()
