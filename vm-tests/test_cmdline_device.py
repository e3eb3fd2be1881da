"""The config on a labelled filesystem named by the kernel command line
(`ignition.config.device=` and `ignition.config.path=`), with no fw_cfg
config: the provider waits for the disk, mounts it read-only and reads it."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from vmharness import FIRST_BOOT, VM

pytestmark = pytest.mark.vm

CONFIG = json.dumps({
    "ignition": {"version": "3.4.0"},
    "storage": {"files": [{"path": "/etc/from-device", "contents": {"source": "data:,from%20the%20device"}}]},
})


def config_disk(vm: VM, label: str, files: dict[str, str]) -> Path:
    """An ext4 disk image labelled `label` holding `files`, made from the host without mounting."""
    src = vm.workdir / f"src-{label}"
    for path, text in files.items():
        (src / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (src / path.lstrip("/")).write_text(text)
    src.mkdir(exist_ok=True)
    image = vm.disk("config", "16M")
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", label, "-d", str(src), str(image)], check=True)
    return image


def test_config_from_a_labelled_device_on_the_command_line(vm: VM) -> None:
    data = vm.disk("vda", "64M")
    boot = vm.boot(None, cmdline=(*FIRST_BOOT, "ignition.config.device=IGNCONFIG",
                                  "ignition.config.path=/ignition/config.ign"),
                   disks=[data, config_disk(vm, "IGNCONFIG", {"/ignition/config.ign": CONFIG})],
                   name="cmdline-device")
    boot.assert_clean()
    assert any("reading the config /ignition/config.ign from the filesystem labelled IGNCONFIG" in m
               for m in boot.messages()), boot.explain()
    assert any('fetched user config from "cmdline"' in m for m in boot.messages()), boot.explain()
    written = boot.sysroot()["/etc/from-device"]
    assert written["sha256"] == hashlib.sha256(b"from the device").hexdigest(), written
    assert boot.critical() == [] and boot.verdict == "complete", boot.explain()
