"""The whole journey on a real Debian 12 image: the first boot provisions it
(examples/demo.ign, the config `make demo` shows), switches root and boots
the OS, whose own check reports on the console what systemd, sshd and the
mounts see; a second boot runs nothing of ours and finds everything still
there. And a first boot whose files stage fails: emergency, no OS, the disk
left as far as the stages before it got."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import journey
import pytest
from journey import DEMO_CONFIG, FIRST_BOOT, JOURNEY_TIMEOUT, LATER_BOOT, Journey, one
from vmharness import CACHE, VM, Boot, choose_accel

pytestmark = pytest.mark.vm

KEY = json.loads(DEMO_CONFIG.read_text())["passwd"]["users"][0]["sshAuthorizedKeys"][0]
IGNITION_LINE = re.compile(r"\bignition\[\d+\]: ([\w-]+): (.*?)\r?$", re.M)


@dataclass
class Run:
    first: Boot
    second: Boot
    disk: Path


def new_vm(built: Journey, tmp: Path, name: str) -> VM:
    return VM(built.image, tmp, CACHE / "logs" / name, choose_accel(built.image))


def ignition_lines(boot: Boot) -> list[tuple[str, str]]:
    """(stage, message) of Ignition's journal lines on the console."""
    return IGNITION_LINE.findall(boot.console)


def assert_powered_off(boot: Boot) -> None:
    assert not boot.timed_out, boot.explain()
    assert boot.returncode == 0, boot.explain()  # the check powered the OS off


@pytest.fixture(scope="module")
def run(journey_build: Journey, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """Both boots of one copy of the image, shared by the tests below."""
    tmp = tmp_path_factory.mktemp("journey")
    disk = journey.copy_disk(journey_build.os_image, tmp / "disk.img")
    vm = new_vm(journey_build, tmp, "journey")
    config = DEMO_CONFIG.read_bytes()
    first = vm.boot(config, cmdline=FIRST_BOOT, disks=[disk], timeout=JOURNEY_TIMEOUT, name="journey-first-boot")
    # The config stays in fw_cfg, as a cloud keeps serving user data: only
    # the missing first-boot argument keeps it from being applied again.
    second = vm.boot(config, cmdline=LATER_BOOT, disks=[disk], timeout=JOURNEY_TIMEOUT, name="journey-second-boot")
    yield Run(first, second, disk)


def test_first_boot_provisions_switches_root_and_the_os_sees_it(run: Run) -> None:
    boot = run.first
    assert_powered_off(boot)
    assert "ignition-complete.target" in boot.console and "Reached target ignition-complete.target" in boot.console
    assert re.search(r"Switching root", boot.console), boot.explain()
    rep = journey.report(boot.console)
    assert rep, f"the OS's check printed nothing:\n{boot.explain()}"
    assert one(rep, "first-boot") == "yes"  # systemd's own first boot: presets applied
    assert one(rep, "hostname") == "demo-machine" and one(rep, "etc-hostname") == "demo-machine"
    user = one(rep, "user").split(":")
    assert user[0] == "core" and user[5] == "/home/core", user
    assert set(one(rep, "groups").split()) == {"core", "adm", "users"}
    # sshd is told to read Ignition's key file, and StrictModes accepts it.
    assert one(rep, "sshd").split()[1:] == [".ssh/authorized_keys", ".ssh/authorized_keys.d/ignition"]
    stats = {line.split()[0]: line.split()[1:3] for line in rep["stat"]}
    assert stats["/home/core/.ssh"] == ["700", "core:core"], stats
    assert stats["/home/core/.ssh/authorized_keys.d"] == ["700", "core:core"], stats
    assert stats["/home/core/.ssh/authorized_keys.d/ignition"] == ["600", "core:core"], stats
    assert rep["key"] == [KEY]
    # Enabled by preset on the first boot, ran before the check.
    assert one(rep, "is-enabled") == "enabled" and one(rep, "result") == "success"
    assert rep["runs"] == [f"demo.service ran on demo-machine, boot {one(rep, 'boot-id')}"]
    assert "DEMO-SERVICE demo.service ran on demo-machine" in boot.console
    # The data filesystem the disks stage made, mounted by the unit the config wrote.
    source, fstype, label, target = one(rep, "mount").split()
    assert (source, fstype, label, target) == ("/dev/vda2", "ext4", "demo-data", "/var/lib/demo")
    assert one(rep, "mount-unit") == "active enabled"
    assert one(rep, "file") == "644 root:root Welcome to a machine provisioned by ignition."
    assert one(rep, "failed") == ""
    assert one(rep, "machine-id") != "uninitialized"
    assert "demo-machine login:" in boot.console  # the serial getty, under the new hostname


def test_umount_stage_unmounts_before_switch_root(run: Run) -> None:
    boot = run.first
    lines = ignition_lines(boot)
    umount = [msg for stage, msg in lines if stage == "umount"]
    assert any(m.startswith("op(1): [finished] unmounting '/var/lib/demo'") for m in umount), umount
    assert "umount stage finished successfully" in umount, umount
    assert not any("not mounted" in m for m in umount), umount
    # Before the switch: the umount lines come before systemd switches root.
    console = boot.console
    assert console.index("umount stage finished successfully") < console.index("Switching root"), boot.explain()
    rep = journey.report(console)
    assert one(rep, "sysroot-mounts") == "0"  # nothing of /sysroot survived into the OS
    # The OS's journal holds the debug lines the console leaves out.
    in_journal = one(rep, "ignition-umount").split("|")
    assert "umount: executing: umount /sysroot/var/lib/demo" in in_journal, in_journal
    assert "umount: umount stage finished successfully" in in_journal, in_journal


def test_second_boot_runs_nothing_of_ours_and_keeps_everything(run: Run) -> None:
    boot = run.second
    assert_powered_off(boot)
    assert ignition_lines(boot) == [], boot.explain()
    rep = journey.report(boot.console)
    assert rep, f"the OS's check printed nothing:\n{boot.explain()}"
    first = journey.report(run.first.console)
    assert one(rep, "first-boot") == "no"
    assert one(rep, "ignition-lines") == "0"  # the journal of this boot, initrd included
    assert one(rep, "ignition-units") == "0"
    assert one(rep, "machine-id") == one(first, "machine-id")  # committed on the first boot
    for key in ("hostname", "user", "groups", "sshd", "key", "is-enabled", "mount", "mount-unit", "file"):
        assert rep[key] == first[key], key
    assert rep["stat"] == first["stat"]
    # The service ran again: its record has one line per boot.
    assert rep["runs"] == [*first["runs"], f"demo.service ran on demo-machine, boot {one(rep, 'boot-id')}"]
    assert one(rep, "boot-id") != one(first, "boot-id")
    assert one(rep, "failed") == ""


def test_disk_after_the_journey_read_from_the_host(run: Run) -> None:
    parts = journey.partitions(run.disk)
    assert [(p.number, p.name) for p in parts] == [(1, "root"), (2, "demo-data")]
    assert parts[1].start >= parts[0].start + parts[0].size
    assert journey.probe(run.disk, parts[1])["LABEL"] == "demo-data"
    readme = journey.read_file(run.disk, parts[1], "/README")
    assert readme is not None and "demo-data filesystem" in readme
    assert journey.read_file(run.disk, parts[0], "/etc/.ignition-result.json") is not None


# --- a first boot whose files stage fails ---------------------------------------

BAD_SHA512 = hashlib.sha512(b"not these bytes").hexdigest()
FAILING = json.dumps({
    "ignition": {"version": "3.4.0"},
    "passwd": {"users": [{"name": "core"}]},
    "storage": {
        "disks": [{"device": "/dev/vda", "partitions": [{"number": 2, "label": "demo-data", "sizeMiB": 0}]}],
        "filesystems": [{"device": "/dev/disk/by-partlabel/demo-data", "format": "ext4", "label": "demo-data",
                         "wipeFilesystem": True, "path": "/var/lib/demo"}],
        "files": [{"path": "/etc/motd.d/10-broken", "contents": {
            "source": "data:,hello", "verification": {"hash": f"sha512-{BAD_SHA512}"}}}],
    },
    "systemd": {"units": [{"name": "demo.service", "enabled": True,
                           "contents": "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n"}]},
})


def test_failed_files_stage_ends_in_emergency_and_never_boots_the_os(
        journey_build: Journey, tmp_path: Path) -> None:
    disk = journey.copy_disk(journey_build.os_image, tmp_path / "disk.img")
    vm = new_vm(journey_build, tmp_path, "journey-failing")
    boot = vm.boot(FAILING, cmdline=FIRST_BOOT, disks=[disk], timeout=JOURNEY_TIMEOUT, name="journey-failing")
    assert not boot.timed_out, boot.explain()
    assert boot.returncode == 0, boot.explain()  # rd.emergency=poweroff
    console = boot.console
    failure = re.search(r"ignition\[\d+\]: files: stage failed: (.*)", console)
    assert failure, boot.explain()
    assert "storage.files.0 (/etc/motd.d/10-broken): hash verification failed" in failure.group(1), failure.group(1)
    assert "Reached target emergency.target" in console, boot.explain()
    assert "Switching root" not in console and journey.report(console) == {}, boot.explain()

    # From the host: what the stages before files did (their plan succeeded),
    # and nothing of the files stage past its failure.
    parts = journey.partitions(disk)
    assert [(p.number, p.name) for p in parts] == [(1, "root"), (2, "demo-data")]
    assert journey.probe(disk, parts[1]).get("TYPE") == "ext4"
    root = parts[0]
    assert journey.probe(disk, root).get("LABEL") == "debian-root"
    assert not journey.exists(disk, root, "/etc/motd.d/10-broken")
    assert not journey.exists(disk, root, "/etc/systemd/system/demo.service")  # units come after files
    assert not journey.exists(disk, root, "/etc/systemd/system-preset/20-ignition.preset")
    assert not journey.exists(disk, root, "/etc/.ignition-result.json")
    assert journey.read_file(disk, root, "/etc/hostname") == "debian\n"
    assert journey.read_file(disk, root, "/etc/machine-id") == "uninitialized\n"  # the OS never ran
    # Users come first in the files stage (Ignition's order): core was added
    # before the file that failed.
    passwd = journey.read_file(disk, root, "/etc/passwd") or ""
    assert any(line.startswith("core:") for line in passwd.splitlines()), passwd
    # Nothing was written onto the data filesystem but its own lost+found.
    listing = journey.ls(disk, parts[1], "/")
    assert sorted(listing) == [".", "..", "lost+found"], listing
