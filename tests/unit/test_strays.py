"""Temp files: one name, swept only when provably ours (issue 13), and the
error paths of staged and small writes leave none behind.

Every temp file the project makes is `.ignition-stage-` + 12 lowercase hex
(ignition/tmpfile.py). The files stage removes such regular files, and only
those, from every directory it may write in: the nodes' directories and the
ones of units, dropins, presets, LUKS keys, the result file and SSH keys.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from ignition.diskerrors import mount_source
from ignition.errors import FetchError
from ignition.staged import StagedFile
from ignition.stages.files.nodes import apply_nodes
from ignition.sysroot import Sysroot
from ignition.tmpfile import STRAY, TEMP_PREFIX
from tests.unit.test_files_support import config, make_env

OURS = TEMP_PREFIX + "0123456789ab"


def ours_in(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob(TEMP_PREFIX + "*") if STRAY.fullmatch(p.name))


def test_strays_in_every_directory_the_stage_writes_in_are_removed(tmp_path: Path) -> None:
    """No storage entries at all: units, a dropin, presets and SSH keys are
    what the config writes, and their directories are swept."""
    e = make_env(tmp_path, config(
        systemd={"units": [{"name": "a.service", "enabled": True, "contents": "[Install]\nWantedBy=x\n",
                            "dropins": [{"name": "d.conf", "contents": "[Unit]\n"}]}]},
        passwd={"users": [{"name": "core", "sshAuthorizedKeys": ["ssh-ed25519 A"]}]}))
    dirs = ["etc", "etc/systemd/system", "etc/systemd/system/a.service.d", "etc/systemd/system-preset",
            "etc/luks", "home/core/.ssh", "home/core/.ssh/authorized_keys.d"]
    for d in dirs:
        (e.root / d).mkdir(parents=True, exist_ok=True)
        (e.root / d / OURS).write_bytes(b"half")
    apply_nodes(e.ctx)
    assert ours_in(e.root) == []
    logged = [m for _, m, _ in e.sink.entries]
    assert f"files: removed /home/core/.ssh/authorized_keys.d/{OURS}, a temporary file left by an earlier run" \
        in logged


@pytest.mark.parametrize("name", [
    TEMP_PREFIX + "0123456789AB",  # upper case: mkstemp never writes it
    TEMP_PREFIX + "0123456789a",  # 11 digits
    TEMP_PREFIX + "0123456789abc",  # 13 digits
    OURS + ".bak",
    ".ignition-0123456789ab",  # the name of the pre-streaming writer: no release left one behind
    "ignition-stage-0123456789ab",
])
def test_a_user_file_with_a_name_like_ours_is_kept(tmp_path: Path, name: str) -> None:
    e = make_env(tmp_path, config(storage={"files": [{"path": "/etc/f", "contents": {"source": "data:,f"}}]}))
    (e.root / "etc").mkdir()
    (e.root / "etc" / name).write_bytes(b"keep")
    apply_nodes(e.ctx)
    assert (e.root / "etc" / name).read_bytes() == b"keep"


def test_a_link_or_directory_with_our_name_is_kept(tmp_path: Path) -> None:
    e = make_env(tmp_path, config(storage={"files": [{"path": "/etc/f", "contents": {"source": "data:,f"}}]}))
    (e.root / "etc/sub").mkdir(parents=True)
    (e.root / "etc/target").write_bytes(b"target")
    (e.root / "etc" / OURS).symlink_to("target")
    (e.root / "etc/sub" / OURS).mkdir()
    apply_nodes(e.ctx)
    assert (e.root / "etc" / OURS).is_symlink()
    assert (e.root / "etc/target").read_bytes() == b"target"
    assert (e.root / "etc/sub" / OURS).is_dir()


# error paths of the writers


def enospc_after(monkeypatch: pytest.MonkeyPatch, budget: int) -> None:
    """os.write writes `budget` bytes in all, then fails with ENOSPC."""
    real = os.write
    left = {"n": budget}

    def write(fd: int, data: Any) -> int:
        if left["n"] <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        n = real(fd, bytes(data)[:left["n"]])
        left["n"] -= n
        return n

    monkeypatch.setattr(os, "write", write)


def test_a_failed_append_is_cut_back_and_names_the_filesystem(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    root = Sysroot(str(tmp_path))
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/crypttab").write_bytes(b"old line\n")
    enospc_after(monkeypatch, 5)
    with pytest.raises(OSError) as e:
        root.append("/etc/crypttab", b"a new line that does not fit\n")
    assert e.value.errno == errno.ENOSPC
    assert e.value.strerror is not None
    assert e.value.strerror.startswith("no space left on the filesystem mounted at ")
    assert "while appending to /etc/crypttab (5 bytes written, taken back)" in e.value.strerror
    assert (tmp_path / "etc/crypttab").read_bytes() == b"old line\n"


def test_a_small_file_on_a_read_only_filesystem_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = Sysroot(str(tmp_path))
    real_open = os.open

    def ro_open(path: str, flags: int, mode: int = 0o777, **kw: Any) -> int:
        if os.path.basename(path).startswith(TEMP_PREFIX):
            raise OSError(errno.EROFS, "Read-only file system", path)
        return real_open(path, flags, mode, **kw)

    monkeypatch.setattr(os, "open", ro_open)
    with pytest.raises(OSError) as e:
        root.write_file("/etc/hostname", b"h\n")
    assert e.value.strerror is not None and e.value.strerror.startswith("the filesystem mounted at ")
    assert " is read-only while writing /etc/hostname (2 bytes): mount it read-write" in e.value.strerror
    assert e.value.filename is None  # the message carries the path; callers append filename when set
    assert os.listdir(tmp_path / "etc") == []


def test_a_staged_file_that_fails_to_close_is_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """NFS and FUSE report a failed write-back at close: that is the
    staging's failure, and the partial temp file goes."""
    s = StagedFile(str(tmp_path), "/var/big")
    s.write(b"data")
    real_close = os.close

    def close(fd: int) -> None:
        real_close(fd)
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "close", close)
    with pytest.raises(FetchError, match=r"I/O error on the filesystem mounted at .* while staging /var/big "
                                         r"\(4 bytes written\)"):
        s.close()
    monkeypatch.setattr(os, "close", real_close)
    assert os.listdir(tmp_path) == []


def test_a_failed_copy_across_filesystems_leaves_no_temp_file(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A rename across filesystems becomes a copy next to the final path: when
    that copy runs out of space, its temp file goes; the staged file stays
    for the stage's discard."""
    staging, final = tmp_path / "staging", tmp_path / "final"
    staging.mkdir()
    final.mkdir()
    s = StagedFile(str(staging), "/final/f")
    s.write(b"x" * 100)
    s.close()
    real_rename = os.rename

    def rename(src: str, dst: str) -> None:
        if os.path.dirname(src) == str(staging):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    enospc_after(monkeypatch, 10)
    with pytest.raises(OSError, match=r"no space left on the filesystem mounted at .* while copying /final/f"):
        s.install(str(final / "f"), 0o644, None, None)
    assert os.listdir(final) == []
    s.discard()
    assert os.listdir(staging) == []


def test_the_device_of_a_mount_point_with_odd_bytes(tmp_path: Path) -> None:
    """mountinfo escapes a space as \\040; the topmost of stacked mounts wins."""
    info = tmp_path / "mountinfo"
    info.write_text(
        "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
        "40 22 7:0 / /sysroot/my\\040var rw - ext4 /dev/loop0 rw\n"
        "41 40 7:1 / /sysroot/my\\040var rw - xfs /dev/loop1 rw\n")
    assert mount_source("/sysroot/my var", str(info)) == "/dev/loop1"
    assert mount_source("/", str(info)) == "/dev/sda1"
    assert mount_source("/nowhere", str(info)) is None


def test_a_link_loop_on_the_way_is_a_clean_error_naming_the_entry(tmp_path: Path) -> None:
    """Finding the staging directory meets the loop first: it stages higher
    up, and the node's write reports the loop with its config path; nothing
    stays staged."""
    from ignition.errors import StageError

    e = make_env(tmp_path, config(storage={"files": [{"path": "/etc/loop/x/f", "contents": {"source": "data:,f"}}]}))
    (e.root / "etc").mkdir()
    (e.root / "etc/loop").symlink_to("/etc/loop")
    with pytest.raises(StageError, match=r"^storage\.files\.0 \(/etc/loop/x/f\): too many levels of symbolic links"):
        apply_nodes(e.ctx)
    assert sorted(str(p.relative_to(e.root)) for p in e.root.rglob("*")) == ["etc", "etc/loop"]


def test_discarding_never_masks_the_error_on_its_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A close that fails while a staged file is thrown away still removes it."""
    s = StagedFile(str(tmp_path), "/var/f")
    s.write(b"data")
    real_close = os.close

    def close(fd: int) -> None:
        real_close(fd)
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "close", close)
    s.discard()
    monkeypatch.setattr(os, "close", real_close)
    assert os.listdir(tmp_path) == []
