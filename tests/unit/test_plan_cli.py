"""`ignition-plan`: one plan of a whole config against a described machine,
its exit codes, its JSON document and its summary line."""

from __future__ import annotations

import hashlib
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from ignition.planner.cli import main
from tests.unit import fakeserver
from tests.unit.planimages import image, sh

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo.ign"

_module_server, server = fakeserver.fixtures()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def plan_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    rc, out, _ = run(capsys, "--json", *argv)
    return rc, json.loads(out)


def write(tmp_path: Path, config: dict[str, Any], name: str = "c.ign") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(config))
    return str(path)


def disks_config(*fss: dict[str, Any], parts: list[dict[str, Any]] | None = None,
                 wipe: bool = False) -> dict[str, Any]:
    return {"ignition": {"version": "3.4.0"},
            "storage": {"disks": [{"device": "/dev/vda", "wipeTable": wipe, "partitions": parts or []}],
                        "filesystems": list(fss)}}


@pytest.fixture
def two_parts(tmp_path: Path) -> Path:
    """64 MiB: partition 1 'A' (10 MiB, ext4 'keep'), partition 2 'B' (10 MiB, ext4 'DATA')."""
    return image(tmp_path / "disk.img", 64, [(1, 10, "A"), (11, 10, "B")], [(1, 10, "keep"), (11, 10, "DATA")])


def test_demo_config_on_a_blank_disk_succeeds_and_destroys_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys, str(DEMO))
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[-1].startswith("summary: 1 disks (1 rewritten), partitions 1 created / 0 deleted")
    assert lines[-1].endswith("boot succeeds; DESTRUCTIVE: no")
    stages = [line for line in lines if line.startswith("== ")]
    assert [s.split()[1].rstrip(":") for s in stages] == ["fetch-offline/fetch", "kargs", "disks", "mount",
                                                          "files", "umount"]
    assert "planned as a blank disk of --default-disk-size" in out
    assert "  mount /dev/disk/by-partlabel/demo-data (/dev/vda2, ext4) at /var/lib/demo" in lines
    assert "  unit demo.service: written, enabled" in lines
    assert "  unit var-lib-demo.mount: written, enabled" in lines
    assert "  user core: add" in lines


@pytest.mark.allow_subprocess
def test_demo_json_document_against_an_os_image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # As `make demo`'s image: partition 1 'root' (ext4 debian-root), free space after it.
    os_image = image(tmp_path / "os.img", 64, [(1, 32, "root")], [(1, 32, "debian-root")])
    rc, doc = plan_json(capsys, str(DEMO), "--disk", f"/dev/vda={os_image}")
    assert rc == 0
    assert doc["schemaVersion"] == 1 and doc["result"] == {"ok": True, "error": None, "exitCode": 0,
                                                          "stoppedAt": None}
    assert [(d["device"], d["source"], d["sizeBytes"], d["assumed"]) for d in doc["machine"]["disks"]] == [
        ("/dev/vda", "image", 64 << 20, False)]
    vda = doc["disks"][0]
    assert vda["tableBefore"] == "gpt" and [p["label"] for p in vda["before"]] == ["root"]
    assert [(p["number"], p["label"], p["start"], p["size"], p["action"], p["node"]) for p in vda["after"]] == [
        (1, "root", 2048, 32 * 2048, "keep", "/dev/vda1"),
        (2, "demo-data", 33 * 2048, (64 << 20) // 512 - 33 - 33 * 2048, "create", "/dev/vda2")]
    assert [(f["device"], f["node"], f["format"], f["action"]) for f in doc["filesystems"]] == [
        ("/dev/disk/by-partlabel/demo-data", "/dev/vda2", "ext4", "create")]
    assert doc["mounts"] == [{"device": "/dev/disk/by-partlabel/demo-data", "node": "/dev/vda2",
                              "path": "/var/lib/demo", "format": "ext4", "options": []}]
    files = {f["path"]: f for f in doc["files"]}
    assert (files["/usr/local/bin/demo-record"]["mode"], files["/usr/local/bin/demo-record"]["size"]) == (
        "0755", 224)
    assert files["/etc/hostname"]["source"].startswith("data URL (")  # redacted as the logs are
    assert doc["users"] == [{"name": "core", "action": "add"}]
    assert [(u["name"], u["written"], u["enabled"]) for u in doc["units"]] == [
        ("var-lib-demo.mount", True, True), ("demo.service", True, True)]
    assert doc["summary"]["destructive"] is False and doc["destroys"] == []


@pytest.mark.allow_subprocess
def test_deleting_and_reformatting_is_marked_destructive_with_what_it_destroys(
        tmp_path: Path, two_parts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, disks_config(
        {"device": "/dev/disk/by-partlabel/A", "format": "ext4", "label": "keep", "path": "/var"},
        {"device": "/dev/disk/by-partlabel/new", "format": "xfs", "wipeFilesystem": True},
        parts=[{"number": 2, "shouldExist": False, "wipePartitionEntry": True},
               {"number": 3, "label": "new", "sizeMiB": 8}]))
    rc, out, err = run(capsys, config, "--disk", f"/dev/vda={two_parts}")
    assert rc == 0, err
    assert "!! /dev/vda: deletes partition 2 'B', 10.0 MiB, ext4 label DATA" in out
    # partition 3 is made where 2 was, so mkfs meets its old filesystem
    assert "!! /dev/disk/by-partlabel/new (/dev/vda3): reformats as xfs, destroying ext4 label DATA" in out
    assert "filesystem on /dev/disk/by-partlabel/A (/dev/vda1): reuse the ext4 there (found ext4 label keep)" in out
    assert out.splitlines()[-1].endswith("DESTRUCTIVE: yes")
    table = out[out.index("    before (GPT):"):out.index("  filesystem on")]
    assert [line.split()[0:2] + [line.split()[-1]] for line in table.splitlines() if line.startswith("      ")
            and line.split()[0].isdigit()] == [["1", "'A'", "keep"], ["2", "'B'", "delete"],
                                               ["1", "'A'", "keep"], ["3", "'new'", "create"]]


@pytest.mark.allow_subprocess
def test_adding_a_partition_to_an_image_is_not_destructive(tmp_path: Path, two_parts: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, disks_config(
        {"device": "/dev/disk/by-partlabel/C", "format": "ext4", "label": "more", "path": "/srv"},
        parts=[{"number": 3, "label": "C", "sizeMiB": 16}]))
    rc, doc = plan_json(capsys, config, "--disk", f"/dev/vda={two_parts}")
    assert rc == 0
    assert [(p["number"], p["action"]) for p in doc["disks"][0]["after"]] == [(1, "keep"), (2, "keep"), (3, "create")]
    assert doc["disks"][0]["after"][2]["start"] == 21 * 2048
    assert doc["summary"]["destructive"] is False and doc["destroys"] == []
    assert doc["mounts"][0]["node"] == "/dev/vda3"


@pytest.mark.allow_subprocess
def test_a_boot_that_would_fail_exits_1_with_its_one_line_error(tmp_path: Path, two_parts: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, disks_config({"device": "/dev/disk/by-partlabel/B", "format": "xfs"}))
    rc, out, err = run(capsys, config, "--disk", f"/dev/vda={two_parts}")
    assert rc == 1
    assert err.startswith("ignition-plan: the boot would fail: $.storage.filesystems[0] "
                          "(/dev/disk/by-partlabel/B) is not of the correct type")
    assert len(err.splitlines()) == 1
    assert "the first boot would fail in the disks stage:" in out
    assert "BOOT FAILS; DESTRUCTIVE: no" in out.splitlines()[-1]
    # the stages after the failing one are not planned
    assert "== mount" not in out and "== files" not in out


@pytest.mark.allow_subprocess
def test_a_partition_that_does_not_fit_fails_the_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, disks_config(parts=[{"number": 1, "sizeMiB": 4096}]))
    rc, doc = plan_json(capsys, config, "--disk", "/dev/vda=blank:1G")
    assert rc == 1 and doc["result"]["exitCode"] == 1 and doc["result"]["stoppedAt"] == "disks"
    assert "does not fit" in doc["result"]["error"]
    # the disk is still shown, as it was read: nothing of it is planned
    assert [(d["device"], d["action"], d["before"], d["after"]) for d in doc["disks"]] == [
        ("/dev/vda", "unplanned", [], None)]
    assert doc["summary"]["disksRewritten"] == 0 and doc["summary"]["destructive"] is False


@pytest.mark.allow_subprocess
def test_a_failing_disk_is_shown_as_it_was_read(tmp_path: Path, two_parts: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, disks_config(parts=[{"number": 3, "sizeMiB": 100}]))
    rc, out, err = run(capsys, config, "--disk", f"/dev/vda={two_parts}")
    assert rc == 1 and "does not fit" in err
    shown = out[out.index("not planned: the stage fails first (GPT)"):out.index("the first boot would fail")]
    assert [line.split()[:2] for line in shown.splitlines()[2:]] == [["1", "'A'"], ["2", "'B'"]]


def test_an_invalid_config_prints_the_validators_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.ign"
    config.write_text('{"ignition": {"version": "3.2.0"},\n "storage": {"files": {}}}')
    rc, out, err = run(capsys, str(config))
    assert rc == 1
    assert out.startswith("error at $.storage.files, line 2 col 23: must be a list")
    assert "not valid" in err


@pytest.mark.parametrize("argv", [["--disk", "/dev/vda"], ["--disk", "/dev/vda=blank:huge"],
                                  ["--default-disk-size", "0"], ["--no-such-flag"], []])
def test_usage_errors_exit_2(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, {"ignition": {"version": "3.4.0"}})
    with pytest.raises(SystemExit) as e:
        rc = main([*argv, config] if argv else [])
        raise SystemExit(rc)
    assert e.value.code == 2
    assert capsys.readouterr().err.strip()


def test_a_missing_config_file_or_a_fifo_disk_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import os

    assert main([str(tmp_path / "none.ign")]) == 2
    assert "reading" in capsys.readouterr().err
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    config = write(tmp_path, disks_config(parts=[{"number": 1, "sizeMiB": 4}]))
    assert main([config, "--disk", f"/dev/vda={fifo}"]) == 2
    assert "is a FIFO" in capsys.readouterr().err


def test_spec_2_config_on_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    raw = json.dumps({"ignition": {"version": "2.2.0"}, "storage": {"files": [
        {"filesystem": "root", "path": "/etc/motd", "mode": 384, "contents": {"source": "data:,hi%0A"}}]}})
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw.encode())))
    rc, doc = plan_json(capsys, "-")
    assert rc == 0
    motd = next(f for f in doc["files"] if f["path"] == "/etc/motd")
    assert (motd["mode"], motd["size"], motd["kind"]) == ("0600", 3, "file")


def test_users_of_the_given_root_are_modified_not_added(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\ncore:x:1000:1000::/home/core:/bin/sh\n")
    (root / "etc/group").write_text("root:x:0:\ncore:x:1000:\n")
    before = sorted(p.name for p in (root / "etc").iterdir())
    config = write(tmp_path, {"ignition": {"version": "3.4.0"}, "passwd": {"users": [
        {"name": "core", "groups": ["wheel"]}, {"name": "alice"}]}})
    rc, doc = plan_json(capsys, config, "--root", str(root))
    assert rc == 0
    assert doc["users"] == [{"name": "core", "action": "modify"}, {"name": "alice", "action": "add"}]
    assert sorted(p.name for p in (root / "etc").iterdir()) == before  # read, never written


@pytest.mark.allow_socket
def test_remote_contents_are_fetched_and_a_wrong_hash_fails_the_plan(
        tmp_path: Path, server: HTTPServer, capsys: pytest.CaptureFixture[str]) -> None:
    body = b"remote contents\n"
    server.expect_request("/f").respond_with_data(body)
    url = server.url_for("/f")

    def config(digest: str) -> str:
        return write(tmp_path, {"ignition": {"version": "3.4.0"}, "storage": {"files": [
            {"path": "/etc/remote", "contents": {"source": url, "verification": {"hash": f"sha256-{digest}"}}}]}})

    rc, doc = plan_json(capsys, config(hashlib.sha256(body).hexdigest()))
    assert rc == 0
    assert next(f for f in doc["files"] if f["path"] == "/etc/remote")["size"] == len(body)
    rc, doc = plan_json(capsys, config("0" * 64))
    assert rc == 1 and doc["result"]["stoppedAt"] == "files"
    assert "hash" in doc["result"]["error"]


def test_offline_lists_remote_contents_unfetched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, {"ignition": {"version": "3.4.0"}, "storage": {"files": [
        {"path": "/etc/remote", "contents": {"source": "https://user:secret@example.com/f?token=abc"}}]}})
    rc, out, _ = run(capsys, config, "--offline")
    assert rc == 0
    assert "not fetched (--offline): https://user:***@example.com/f?token=***" in out
    assert "file /etc/remote 0644 0:0 size unknown (not fetched)" in out
    assert "secret" not in out and "abc" not in out


def test_raid_luks_and_kernel_arguments_are_planned_on_top_of_the_planned_partitions(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, {
        "ignition": {"version": "3.4.0"}, "kernelArguments": {"shouldExist": ["quiet"], "shouldNotExist": ["rhgb"]},
        "storage": {
            "disks": [{"device": "/dev/sda", "wipeTable": True, "partitions": [
                {"label": "r1", "sizeMiB": 100}, {"label": "r2", "sizeMiB": 100}, {"label": "c", "sizeMiB": 100}]}],
            "raid": [{"name": "data", "level": "raid1",
                      "devices": ["/dev/disk/by-partlabel/r1", "/dev/disk/by-partlabel/r2"]}],
            "luks": [{"name": "secret", "device": "/dev/disk/by-partlabel/c", "keyFile": {"source": "data:,k"},
                      "wipeVolume": True}],
            "filesystems": [{"device": "/dev/md/data", "format": "xfs", "path": "/srv", "label": "DATA"},
                            {"device": "/dev/mapper/secret", "format": "ext4", "path": "/var/secret"}]}})
    rc, doc = plan_json(capsys, config, "--disk", "/dev/sda=blank:1G")
    assert rc == 0, doc["result"]
    assert doc["kernelArguments"] == {"shouldExist": ["quiet"], "shouldNotExist": ["rhgb"]}
    assert [(r["path"], r["members"]) for r in doc["raid"]] == [("/dev/md/data", ["/dev/sda1", "/dev/sda2"])]
    assert [(v["path"], v["members"]) for v in doc["luks"]] == [("/dev/mapper/secret", ["/dev/sda3"])]
    assert [(f["device"], f["action"]) for f in doc["filesystems"]] == [("/dev/md/data", "create"),
                                                                        ("/dev/mapper/secret", "create")]
    assert [(m["device"], m["path"]) for m in doc["mounts"]] == [("/dev/md/data", "/srv"),
                                                                  ("/dev/mapper/secret", "/var/secret")]
    # the recorded commands name the planned nodes and never the key
    disks = next(s for s in doc["stages"] if s["name"] == "disks")
    commands = [s["target"] for s in disks["steps"] if s["action"] == "run"]
    assert any("mdadm" in c and "/dev/sda1 /dev/sda2" in c for c in commands)
    assert any("luksFormat" in c and c.endswith("/dev/sda3") for c in commands)
    assert any(f["path"] == "/etc/crypttab" and f["kind"] == "append" for f in doc["files"])


def test_a_by_label_name_of_a_planned_filesystem_is_mounted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, disks_config(
        {"device": "/dev/vda1", "format": "ext4", "label": "ROOTFS", "wipeFilesystem": True},
        {"device": "/dev/disk/by-label/ROOTFS", "format": "ext4", "label": "ROOTFS", "path": "/mnt"},
        parts=[{"number": 1, "sizeMiB": 64}]))
    rc, doc = plan_json(capsys, config, "--disk", "/dev/vda=blank:1G")
    assert rc == 0, doc["result"]
    # the second entry finds what the first one made: reused, not made twice
    assert [(f["node"], f["action"]) for f in doc["filesystems"]] == [("/dev/vda1", "create"), ("/dev/vda1", "reuse")]
    assert doc["mounts"][0]["node"] == "/dev/vda1"


def test_offline_cannot_render_a_remote_merge_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, {"ignition": {"version": "3.4.0", "config": {"merge": [
        {"source": "https://example.com/base.ign"}]}}})
    rc, _, err = run(capsys, config, "--offline")
    assert rc == 1
    assert "plan without --offline" in err


def test_the_laptops_own_base_configs_and_kernel_cmdline_are_not_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    system = tmp_path / "usr-lib-ignition"
    (system / "base.d").mkdir(parents=True)
    (system / "base.d" / "10-laptop.ign").write_text(json.dumps({"ignition": {"version": "3.4.0"}, "storage": {
        "files": [{"path": "/etc/from-the-laptop"}]}}))
    (system / "user.ign").write_text(json.dumps({"ignition": {"version": "3.4.0"}, "storage": {
        "files": [{"path": "/etc/laptop-user-ign"}]}}))
    cmdline = tmp_path / "cmdline"
    cmdline.write_text("ignition.config.url=data:,%7B%7D\n")
    for var in ("IGNITION_SYSTEM_CONFIG_DIR", "IGNITION_SYSTEM_LOCAL_CONFIG_DIR", "IGNITION_SYSTEM_RUNTIME_CONFIG_DIR"):
        monkeypatch.setenv(var, str(system))
    monkeypatch.setenv("IGNITION_KERNEL_CMDLINE_PATH", str(cmdline))
    config = write(tmp_path, {"ignition": {"version": "3.4.0"}, "storage": {"files": [{"path": "/etc/mine"}]}})
    rc, doc = plan_json(capsys, config)
    assert rc == 0
    assert [f["path"] for f in doc["files"] if f["kind"] == "file"] == ["/etc/mine", "/etc/.ignition-result.json"]


@pytest.mark.allow_subprocess
def test_wipe_table_keeps_what_lands_on_the_same_sectors_and_says_what_is_cut(
        tmp_path: Path, two_parts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, disks_config(parts=[{"number": 1, "label": "A", "startMiB": 1, "sizeMiB": 10},
                                                 {"number": 2, "label": "C", "sizeMiB": 4}], wipe=True))
    rc, doc = plan_json(capsys, config, "--disk", f"/dev/vda={two_parts}")
    assert rc == 0, doc["result"]
    disk = doc["disks"][0]
    assert [(p["number"], p["action"]) for p in disk["before"]] == [(1, "keep"), (2, "resize")]
    assert [(p["number"], p["label"], p["action"]) for p in disk["after"]] == [(1, "A", "keep"), (2, "C", "resize")]
    assert doc["destroys"] == ["/dev/vda: shrinks partition 2 'B' (ext4 label DATA) from 10.0 MiB to 4.0 MiB: "
                               "what lies past its new end is cut off"]
    assert doc["summary"]["destructive"] is True


@pytest.mark.allow_subprocess
def test_growing_a_partition_with_resize_is_not_destructive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    img = image(tmp_path / "one.img", 64, [(1, 10, "A")], [(1, 10, "keep")])
    config = write(tmp_path, disks_config({"device": "/dev/disk/by-partlabel/A", "format": "ext4", "label": "keep"},
                                          parts=[{"number": 1, "sizeMiB": 30, "resize": True}]))
    rc, doc = plan_json(capsys, config, "--disk", f"/dev/vda={img}")
    assert rc == 0, doc["result"]
    assert [(p["number"], p["size"], p["action"]) for p in doc["disks"][0]["after"]] == [(1, 30 * 2048, "resize")]
    assert [(f["action"], f["found"]["label"]) for f in doc["filesystems"]] == [("reuse", "keep")]
    assert doc["destroys"] == [] and doc["summary"]["partitionsResized"] == 1


@pytest.mark.allow_subprocess
@pytest.mark.parametrize(("label", "rc"), [("keep", 0), ("other", 1)])
def test_a_filesystem_beside_a_stale_signature_is_planned_as_the_boot_decides(
        tmp_path: Path, two_parts: Path, capsys: pytest.CaptureFixture[str], label: str, rc: int) -> None:
    # The first sector of an XFS over partition 1's ext4 'keep': blkid sees two signatures there.
    xfs = tmp_path / "xfs.img"
    with open(xfs, "wb") as f:
        f.truncate(300 << 20)
    sh("mkfs.xfs", "-q", "-f", str(xfs))
    with open(xfs, "rb") as src, open(two_parts, "r+b") as dst:
        dst.seek(1 << 20)
        dst.write(src.read(512))
    config = write(tmp_path, disks_config({"device": "/dev/disk/by-partlabel/A", "format": "ext4", "label": label}))
    got, doc = plan_json(capsys, config, "--disk", f"/dev/vda={two_parts}")
    assert got == rc
    if rc == 0:
        (fs,) = doc["filesystems"]
        assert (fs["action"], fs["found"]["ambivalent"], fs["found"]["label"]) == ("reuse", True, "keep")
        assert "blkid found more than one signature (ext4, xfs); reusing the ext4 filesystem" in fs["warning"]
    else:
        assert "none is the ext4 filesystem the config names (label 'other')" in doc["result"]["error"]
