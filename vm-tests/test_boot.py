"""First boots of the initramfs: the generator, the stage units, the verdict."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest
from vmharness import VM, Boot, metrics

pytestmark = pytest.mark.vm

# Only files: no stage but files has work to do.
VALID = json.dumps({
    "ignition": {"version": "3.4.0"},
    "storage": {"files": [{"path": "/etc/hello", "contents": {"source": "data:,hello"}}]},
})
# A filesystem on the whole disk: the disks stage makes it, mount mounts it.
WITH_FILESYSTEM = json.dumps({
    "ignition": {"version": "3.4.0"},
    "storage": {
        "filesystems": [{"device": "/dev/vda", "format": "ext4", "wipeFilesystem": True,
                         "label": "data", "path": "/var/data"}],
        "files": [{"path": "/etc/hello", "contents": {"source": "data:,hello"}}],
    },
})
# LUKS with an IBM Crypto Express key: work this build cannot do (the real
# RAID and LUKS cases are in test_storage.py).
WITH_CEX = json.dumps({
    "ignition": {"version": "3.5.0"},
    "storage": {"luks": [{"name": "data", "device": "/dev/vda", "cex": {"enabled": True}}]},
})
# A relative path: the parser rejects it, naming where in the config.
INVALID = json.dumps({
    "ignition": {"version": "3.4.0"},
    "storage": {"files": [{"path": "etc/hello", "contents": {"source": "data:,hello"}}]},
})
IGNITION_PROCESS_LINE = re.compile(r"\bignition\[\d+\]:")
STAGES = ["fetch-offline", "kargs", "disks", "mount", "files", "umount"]


def blkid(image: Path) -> dict[str, str]:
    """Low-level probe of a disk image file from the host (read-only)."""
    out = subprocess.run(["blkid", "-p", "-o", "export", str(image)], capture_output=True, text=True,
                         check=False).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def stages_run(boot: Boot) -> list[str]:
    """Stages in the order they started, from their `Stage: X` console lines
    (umount runs at shutdown, after the journal has been reported)."""
    return re.findall(r"ignition\[\d+\]: [\w-]+: Stage: ([\w-]+)", boot.operator_console)


def test_first_boot_runs_every_stage_in_order_and_completes(vm: VM) -> None:
    boot = vm.boot(VALID, disks=[vm.disk("vda", "64M")], name="first-boot")
    boot.assert_clean()

    assert any('fetched user config from "qemu"' in m for m in boot.messages()), boot.explain()
    # The config needs no network: fetch is skipped, as in Ignition.
    assert "ignition-fetch.service - Ignition (fetch) was skipped" in boot.operator_console, boot.explain()
    assert stages_run(boot) == STAGES, boot.explain()
    for stage in STAGES:
        assert f"{stage}: {stage} stage finished successfully" in boot.operator_console, stage
    assert "files: op(1): [finished] writing file '/etc/hello'" in boot.operator_console, boot.explain()
    hello = boot.sysroot()["/etc/hello"]
    assert hello["sha256"] == hashlib.sha256(b"hello").hexdigest(), hello
    assert (hello["mode"] & 0o7777, hello["uid"], hello["gid"]) == (0o644, 0, 0), hello
    assert boot.critical() == [], boot.explain()
    assert "Reached target ignition-complete.target" in boot.operator_console, boot.explain()
    assert boot.verdict == "complete", boot.explain()


def test_first_boot_makes_a_filesystem_the_host_can_read(vm: VM) -> None:
    vda = vm.disk("vda", "64M")
    boot = vm.boot(WITH_FILESYSTEM, disks=[vda], name="first-boot-filesystem")
    boot.assert_clean()
    assert stages_run(boot) == STAGES, boot.explain()
    assert "disks: op(1): [finished] creating ext4 on /dev/vda" in boot.operator_console, boot.explain()
    assert "mount: op(1): [finished] mounting '/dev/vda' at '/var/data'" in boot.operator_console
    assert boot.verdict == "complete", boot.explain()
    assert "/var/data/lost+found" in boot.sysroot()  # mounted under /sysroot when the initrd ended
    # The umount stage (ExecStop of ignition-mount.service, stopped before the
    # power-off as before a switch-root) unmounted it, not systemd's shutdown.
    assert "umount: op(1): [finished] unmounting '/var/data'" in boot.operator_console, boot.explain()
    assert "is not mounted; nothing to unmount" not in boot.operator_console, boot.explain()
    probe = blkid(vda)
    assert (probe["TYPE"], probe["LABEL"]) == ("ext4", "data"), probe


def test_first_boot_stops_in_emergency_at_work_the_disks_stage_cannot_do(vm: VM) -> None:
    vda = vm.disk("vda", "64M")
    boot = vm.boot(WITH_CEX, disks=[vda], name="first-boot-cex")
    boot.assert_clean()

    assert "fetch-offline: fetch-offline stage finished successfully" in boot.operator_console, boot.explain()
    # cex needs IBM Crypto Express and zkey: the disks stage refuses it before
    # touching a disk, so this first boot ends in emergency mode with its
    # CRITICAL line, before mount and files run. It must never pass by
    # skipping the work.
    critical = boot.critical()
    assert len(critical) == 1, boot.explain()
    assert critical[0].startswith("disks: stage failed: LUKS volume data: cex"), critical
    assert "not available in this build" in critical[0], critical
    assert critical[0] in boot.operator_console  # the operator sees it on the console too
    assert stages_run(boot) == ["fetch-offline", "kargs", "disks"], boot.explain()
    assert "Failed to start ignition-disks.service" in boot.operator_console
    assert "Reached target emergency.target" in boot.operator_console
    assert boot.verdict == "emergency", boot.explain()
    assert vda.read_bytes().count(0) == 64 << 20  # nothing written


def test_later_boot_runs_nothing_of_ours(vm: VM) -> None:
    boot = vm.boot(VALID, cmdline=["ignition.platform.id=qemu"], name="later-boot")
    boot.assert_clean()

    assert boot.verdict == "complete", boot.explain()
    assert boot.journal == [], boot.explain()
    assert not IGNITION_PROCESS_LINE.search(boot.operator_console), boot.explain()
    assert "Ignition (" not in boot.operator_console, boot.explain()
    assert "ignition-generator: first boot" not in boot.operator_console
    # The generator did run, and queued the later-boot target instead.
    assert "Reached target ignition-subsequent.target" in boot.operator_console, boot.explain()
    assert "reboot: Power down" in boot.operator_console


@pytest.mark.parametrize("arg", ["coreos.first_boot=1", "coreos.first_boot=detected"])
def test_container_linux_first_boot_argument_runs_the_stages(vm: VM, arg: str) -> None:
    boot = vm.boot(VALID, cmdline=[arg, "coreos.oem.id=qemu"], name=f"first-boot-{arg}")
    boot.assert_clean()
    # coreos.oem.id names the platform when ignition.platform.id is absent.
    assert "fetch-offline: fetch-offline stage finished successfully" in boot.operator_console, boot.explain()
    assert any('fetched user config from "qemu"' in m for m in boot.messages()), boot.explain()
    assert stages_run(boot) == STAGES, boot.explain()
    assert boot.verdict == "complete", boot.explain()


def test_invalid_config_stops_the_first_boot_naming_the_field(vm: VM) -> None:
    boot = vm.boot(INVALID, name="invalid-config")
    boot.assert_clean()

    critical = boot.critical()
    assert len(critical) == 1, boot.explain()
    assert critical[0].startswith("fetch-offline: stage failed: config is not valid"), boot.explain()
    assert "error at $.storage.files.0.path" in critical[0]
    assert "path not absolute" in critical[0]
    assert "error at $.storage.files.0.path" in boot.operator_console
    assert "Failed to start ignition-fetch-offline.service" in boot.operator_console
    assert "Starting ignition-kargs.service" not in boot.operator_console
    assert boot.verdict == "emergency", boot.explain()


def test_the_critical_line_reaches_the_console_without_asking(vm: VM) -> None:
    # No journal forwarding on the command line: the module's journald
    # drop-in forwards CRITICAL entries, and only those.
    boot = vm.boot(INVALID, name="invalid-config-quiet", journal_on_console=False)
    boot.assert_clean()
    assert boot.verdict == "emergency", boot.explain()
    assert "fetch-offline: stage failed: config is not valid" in boot.operator_console, boot.explain()
    assert "error at $.storage.files.0.path" in boot.operator_console, boot.explain()
    assert "fetch-offline: Stage: fetch-offline" not in boot.operator_console  # INFO stays in the journal
    assert any("Stage: fetch-offline" in m for m in boot.messages())


def test_embedded_python_loads_the_native_libraries_the_stages_need(vm: VM) -> None:
    # pyparted (libparted), pyudev (libudev, by its soname: the image has no
    # ldconfig), requests and ssl (OpenSSL), and the entry points from the
    # dist-info: what fetch-offline alone does not prove.
    boot = vm.boot(None, cmdline=["vmtest.selfcheck"], disks=[vm.disk("vda", "64M")], name="selfcheck")
    boot.assert_clean()
    lines = [line for line in boot.console.splitlines() if "VMTEST-SELFCHECK" in line]
    assert len(lines) == 1, boot.explain()
    fields = dict(f.split("=", 1) for f in lines[0].split() if "=" in f)
    assert "VMTEST-SELFCHECK ok" in lines[0], lines[0]
    assert "vda" in fields["block"].split(",")
    assert int(fields["vda_sectors"]) == 64 * 1024 * 1024 // 512
    assert fields["ldconfig"] == "None"  # left out (1 MB); libudev was found without it
    assert fields["stages"].split(",") == sorted(
        ["fetch-offline", "fetch", "kargs", "disks", "mount", "files", "umount"])
    assert fields["pyc_flags"] == "1"  # the byte code compiled into the image is what runs
    metrics["python"] = {k: fields[k] for k in ("interpreter_start_seconds", "import_engine_seconds")}
