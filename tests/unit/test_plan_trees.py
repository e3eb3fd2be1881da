"""ignition-plan reads the target's root (and each mounted filesystem) from
the disk image itself: ext2/3/4 with debugfs on the image file, no root, no
mount, no device opened. Other formats are named as not known."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from ignition.log import Logger
from ignition.plan import Plan
from ignition.planner import ext4tree
from ignition.planner.cli import main
from ignition.planner.recording import PlanRunner
from tests.unit.planimages import MIB, ext4_from, image, os_tree, sh

pytestmark = pytest.mark.allow_subprocess


class _Quiet:
    def emit(self, priority: int, message: str, fields: object) -> None:
        return None


def plan_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    rc = main(["--json", *argv])
    out = capsys.readouterr()
    return rc, json.loads(out.out) if out.out.startswith("{") else {"stderr": out.err}


def write(tmp_path: Path, config: dict[str, Any]) -> str:
    path = tmp_path / "c.ign"
    path.write_text(json.dumps(config))
    return str(path)


@pytest.fixture
def os_image(tmp_path: Path) -> Path:
    """64 MiB: partition 1 'root' (32 MiB ext4 'debian-root' holding os_tree), free space after it."""
    img = image(tmp_path / "os.img", 64, [(1, 32, "root")])
    ext4_from(img, 1, 32, "debian-root", os_tree(tmp_path / "tree"))
    return img


def _walk(top: Path) -> dict[str, tuple[str, Any]]:
    out: dict[str, tuple[str, Any]] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = "/" + str(p.relative_to(top))
            st = p.lstat()
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", None)
            elif stat.S_ISREG(st.st_mode):
                out[rel] = ("file", st.st_size)
            else:
                out[rel] = ("other", None)
    return out


def test_the_copied_tree_is_the_tree_mkfs_was_given(tmp_path: Path, os_image: Path) -> None:
    dest, scratch = tmp_path / "copy", tmp_path / "scratch"
    dest.mkdir()
    scratch.mkdir()
    got = ext4tree.copy_tree(PlanRunner(Logger(_Quiet(), "t", "file"), Plan()), str(os_image), MIB, str(dest),
                             str(scratch))
    want = _walk(tmp_path / "tree")
    want["/lost+found"] = ("dir", None)  # mkfs.ext4 adds it
    want["/odd/fifo"] = ("file", 0)  # planned as an empty file: a FIFO would block a reader
    assert _walk(dest) == want
    assert got.others == ["/odd/fifo"] and got.entries == len(want)
    # Bytes only where the files stage reads them; everywhere else the size alone (a sparse file).
    assert (dest / "etc" / "passwd").read_text() == (tmp_path / "tree" / "etc" / "passwd").read_text()
    unit = "usr/lib/systemd/system/sshd.service"
    assert (dest / unit).read_text() == (tmp_path / "tree" / unit).read_text()
    assert (dest / "usr" / "bin" / "tool").read_bytes() == bytes(5004)
    assert (dest / "odd" / "hard").stat().st_ino == (dest / "etc" / "hostname").stat().st_ino
    assert os.listdir(scratch) == []


def test_not_an_ext4_filesystem_is_unreadable_with_debugfs_reason(tmp_path: Path) -> None:
    img = image(tmp_path / "blank.img", 8)
    dest = tmp_path / "d"
    dest.mkdir()
    with pytest.raises(ext4tree.Unreadable, match=r"debugfs cannot read it: .*(magic|superblock)"):
        ext4tree.copy_tree(PlanRunner(Logger(_Quiet(), "t", "file"), Plan()), str(img), 0, str(dest), str(tmp_path))


def test_demo_like_config_against_an_os_image_plans_on_its_root(tmp_path: Path, os_image: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    data = "data:,x"
    config = {"ignition": {"version": "3.4.0"},
              "passwd": {"users": [{"name": "core", "sshAuthorizedKeys": ["ssh-ed25519 AAAA k"]},
                                   {"name": "new"}]},
              "storage": {"files": [{"path": "/usr/local/bin/run", "mode": 0o755, "contents": {"source": data}},
                                    {"path": "/bin/through-the-link", "contents": {"source": data}},
                                    {"path": "/etc/hostname", "overwrite": True, "contents": {"source": data}}]}}
    rc, doc = plan_json(capsys, write(tmp_path, config), "--disk", f"/dev/vda={os_image}")
    assert rc == 0, doc
    assert doc["trees"] == [{"path": "/", "device": "/dev/vda1", "node": "/dev/vda1", "format": "ext4",
                             "contents": "read", "entries": len(_walk(tmp_path / "tree")) + 1,
                             "why": "chosen: partition label 'root'; --root-device to name another; "
                                    "ext4 label debian-root read from the image"}]
    # core is in the image's /etc/passwd: not added (nothing of it to modify), and its
    # key file gets its ids from there.
    assert doc["users"] == [{"name": "new", "action": "add"}]
    keys = next(f for f in doc["files"] if f["path"] == "/home/core/.ssh/authorized_keys.d/ignition")
    assert keys["owner"] == "1000:1000"
    kinds = [(f["kind"], f["path"]) for f in doc["files"]]
    # /usr/local/bin and /bin exist in the image: no directory is made for them;
    # the old /etc/hostname is removed first, as overwrite says.
    assert ("remove", "/etc/hostname") in kinds and ("file", "/bin/through-the-link") in kinds
    assert not any(k[1] in ("/usr", "/usr/local", "/usr/local/bin", "/bin", "/etc") for k in kinds)


def test_an_existing_file_in_the_image_fails_the_plan_as_it_fails_the_boot(
        tmp_path: Path, os_image: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = {"ignition": {"version": "3.4.0"},
              "storage": {"files": [{"path": "/etc/hostname", "contents": {"source": "data:,x"}}]}}
    rc = main([write(tmp_path, config), "--disk", f"/dev/vda={os_image}"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "storage.files.0" in err and "exists there already and overwrite is false" in err


def test_a_mounted_filesystem_hides_the_roots_directory_and_shows_its_own(
        tmp_path: Path, os_image: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Partition 2 of the image already holds an ext4 'DATA' with a file 'kept'.
    sh("sfdisk", "--quiet", "--append", str(os_image), input=f"start={40 * MIB // 512}, size={16 * MIB // 512}, "
       "name=data\n".encode())
    data_tree = tmp_path / "data-tree"
    data_tree.mkdir()
    (data_tree / "kept").write_text("old\n")
    ext4_from(os_image, 40, 16, "DATA", data_tree)
    files = [{"path": "/var/data/under-the-mount", "contents": {"source": "data:,new"}},
             {"path": "/var/data/kept", "contents": {"source": "data:,new"}}]
    config = {"ignition": {"version": "3.4.0"},
              "storage": {"filesystems": [{"device": "/dev/disk/by-label/DATA", "format": "ext4", "path": "/var/data"}],
                          "files": files}}
    rc = main([write(tmp_path, config), "--disk", f"/dev/vda={os_image}"])
    out, err = capsys.readouterr()
    # The root's own /var/data/under-the-mount is beneath the mount: the boot does not see it,
    # but 'kept' on the mounted filesystem is there, and overwrite is false.
    assert rc == 1
    assert "storage.files.1" in err and "exists there already" in err, err
    assert "  tree /var/data: /dev/disk/by-label/DATA (/dev/vda2), read from the image, 2 nodes" in out
    files.pop()
    rc, doc = plan_json(capsys, write(tmp_path, config), "--disk", f"/dev/vda={os_image}")
    assert rc == 0 and [(t["path"], t["contents"]) for t in doc["trees"]] == [("/", "read"), ("/var/data", "read")]


def test_root_device_names_the_root_and_a_wrong_one_is_a_usage_error(
        tmp_path: Path, os_image: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, {"ignition": {"version": "3.4.0"},
                              "passwd": {"users": [{"name": "core", "groups": ["wheel"]}]}})
    rc, doc = plan_json(capsys, config, "--disk", f"/dev/vda={os_image}", "--root-device", "LABEL=debian-root")
    assert rc == 0 and doc["trees"][0]["device"] == "LABEL=debian-root" and doc["trees"][0]["node"] == "/dev/vda1"
    assert doc["users"] == [{"name": "core", "action": "modify"}]
    rc = main([config, "--disk", f"/dev/vda={os_image}", "--root-device", "LABEL=nothing"])
    assert rc == 2 and "--root-device LABEL=nothing: no device of the described machine" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main([config, "--root", str(tmp_path), "--root-device", "/dev/vda1"])
    assert e.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_two_roots_are_a_usage_error_naming_both(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    img = image(tmp_path / "two.img", 64, [(1, 16, "root"), (17, 16, "other")], [(17, 16, "root")])
    rc = main([write(tmp_path, {"ignition": {"version": "3.4.0"}}), "--disk", f"/dev/vda={img}"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "several devices could be the root (/dev/vda1: partition label 'root'; /dev/vda2: filesystem " \
           "label 'root')" in err


def test_a_root_the_plan_cannot_read_is_named_as_not_known(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    img = image(tmp_path / "vfat.img", 64, [(1, 32, "root")])
    sh("mkfs.fat", "-n", "ROOT", "--offset", str(MIB // 512), str(img), str(32 * 1024))
    rc = main([write(tmp_path, {"ignition": {"version": "3.4.0"}}), "--disk", f"/dev/vda={img}"])
    out = capsys.readouterr().out
    assert rc == 0
    assert ("  tree /: /dev/vda1, CONTENTS NOT KNOWN (chosen: partition label 'root'; --root-device to name "
            "another; its contents are not known: ignition-plan reads ext2/3/4 only, not vfat; planned as empty)"
            ) in out


def test_a_root_the_config_makes_at_slash_is_new_and_empty(tmp_path: Path, os_image: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    config = {"ignition": {"version": "3.4.0"},
              "storage": {"filesystems": [{"device": "/dev/vda1", "format": "ext4", "wipeFilesystem": True,
                                           "label": "root", "path": "/"}],
                          "files": [{"path": "/etc/hostname", "contents": {"source": "data:,x"}}]}}
    rc, doc = plan_json(capsys, write(tmp_path, config), "--disk", f"/dev/vda={os_image}")
    assert rc == 0, doc["result"]
    # The disks stage runs before the initrd mounts the root, so even that root is the new
    # filesystem; the image's /etc/hostname is gone with the old one: no overwrite is needed.
    assert [(t["path"], t["contents"]) for t in doc["trees"]] == [("/", "new"), ("/", "new")]
    assert [(f["kind"], f["path"]) for f in doc["files"]][:2] == [("directory", "/etc"), ("file", "/etc/hostname")]


def test_without_any_root_an_empty_tree_is_assumed_and_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, doc = plan_json(capsys, write(tmp_path, {"ignition": {"version": "3.4.0"}}))
    assert rc == 0
    assert [(t["path"], t["contents"]) for t in doc["trees"]] == [("/", "minimal")]
    assert "--root-device" in doc["trees"][0]["why"]


def test_without_debugfs_the_root_is_named_as_not_known(tmp_path: Path, os_image: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("IGNITION_TOOL_DEBUGFS", str(tmp_path / "no-such-debugfs"))
    rc, doc = plan_json(capsys, write(tmp_path, {"ignition": {"version": "3.4.0"}}), "--disk", f"/dev/vda={os_image}")
    assert rc == 0
    assert [(t["path"], t["contents"]) for t in doc["trees"]] == [("/", "unknown")]
    assert "debugfs (e2fsprogs) is not installed; planned as empty" in doc["trees"][0]["why"]
