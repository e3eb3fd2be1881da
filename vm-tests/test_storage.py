"""RAID and LUKS for real: the build machine's kernel has neither md nor
device-mapper, the guest's Debian cloud kernel has both. What the guest made is
read back from the host (blkid and cryptsetup on the disk images, userspace
only) and from the guest's own listing of /sysroot at the end of the initrd."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest
from vmharness import VM, Boot

pytestmark = pytest.mark.vm

STAGES = ["fetch-offline", "kargs", "disks", "mount", "files", "umount"]
LUKS_UUID = "5f1c7f36-8a7e-4c39-9d0f-3b0e9c6a2d41"
# A generated key is 4096 random bytes, hex: no run of hex this long may reach a log.
KEY_LIKE = re.compile(r"[0-9a-f]{256}")  # longer than any digest logged (SHA512: 128)


def blkid(image: Path) -> dict[str, str]:
    out = subprocess.run(["blkid", "-p", "-o", "export", str(image)], capture_output=True, text=True,
                         check=False).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def stages_run(boot: Boot) -> list[str]:
    return re.findall(r"ignition\[\d+\]: [\w-]+: Stage: ([\w-]+)", boot.operator_console)


def config(storage: dict[str, object]) -> str:
    return json.dumps({"ignition": {"version": "3.4.0"}, "storage": storage})


def test_raid1_over_two_disks_with_ext4_mounted_and_a_file_on_it(vm: VM) -> None:
    vda, vdb = vm.disk("vda", "64M"), vm.disk("vdb", "64M")
    boot = vm.boot(config({
        "raid": [{"name": "data", "level": "raid1", "devices": ["/dev/vda", "/dev/vdb"]}],
        "filesystems": [{"device": "/dev/md/data", "format": "ext4", "wipeFilesystem": True,
                         "label": "mirrored", "path": "/var/data"}],
        "files": [{"path": "/var/data/hello", "contents": {"source": "data:,on%20a%20mirror"}}],
    }), disks=[vda, vdb], name="raid1")
    boot.assert_clean()
    assert stages_run(boot) == STAGES, boot.explain()
    assert "disks: op(1): [finished] creating RAID array data (raid1 over /dev/vda, /dev/vdb)" \
        in boot.operator_console, boot.explain()
    assert "[finished] creating ext4 on /dev/md/data" in boot.operator_console, boot.explain()
    assert "mount: op(1): [finished] mounting '/dev/md/data' at '/var/data'" in boot.operator_console
    assert boot.verdict == "complete", boot.explain()
    listing = boot.sysroot()
    assert "/var/data/lost+found" in listing  # the array's filesystem, mounted
    assert listing["/var/data/hello"]["sha256"] == hashlib.sha256(b"on a mirror").hexdigest(), listing
    # Both members carry the md superblock (the host reads it without md).
    for image in (vda, vdb):
        assert blkid(image).get("TYPE") == "linux_raid_member", (image, blkid(image))
    assert blkid(vda)["UUID"] == blkid(vdb)["UUID"]  # one array
    for image in (vda, vdb):  # mdadm reads the superblock from a plain file, no md needed
        examine = subprocess.run(["mdadm", "--examine", str(image)], capture_output=True, text=True, check=False)
        assert examine.returncode == 0, examine.stderr
        assert "Raid Level : raid1" in examine.stdout and "Raid Devices : 2" in examine.stdout, examine.stdout
        assert "Name : any:data" in examine.stdout, examine.stdout  # --homehost any, as Ignition


def test_luks_with_a_generated_key_lands_in_crypttab_of_the_root(vm: VM) -> None:
    vda = vm.disk("vda", "64M")
    boot = vm.boot(config({
        "luks": [{"name": "data", "device": "/dev/vda", "uuid": LUKS_UUID, "label": "secret",
                  "wipeVolume": True}],
        "filesystems": [{"device": "/dev/mapper/data", "format": "ext4", "wipeFilesystem": True,
                         "path": "/var/data"}],
        "files": [{"path": "/var/data/hello", "contents": {"source": "data:,encrypted"}}],
    }), disks=[vda], name="luks-generated-key")
    boot.assert_clean()
    assert stages_run(boot) == STAGES, boot.explain()
    assert "disks: op(1): [finished] creating LUKS volume data on /dev/vda" in boot.operator_console, boot.explain()
    assert "[finished] creating ext4 on /dev/mapper/data" in boot.operator_console, boot.explain()
    assert boot.verdict == "complete", boot.explain()

    listing = boot.sysroot()
    assert listing["/var/data/hello"]["sha256"] == hashlib.sha256(b"encrypted").hexdigest(), listing
    line = f"data UUID={LUKS_UUID} /etc/luks/data luks,x-initrd.attach\n"
    crypttab = listing["/etc/crypttab"]
    assert crypttab["sha256"] == hashlib.sha256(line.encode()).hexdigest(), (crypttab, line)
    assert (crypttab["mode"] & 0o7777, crypttab["uid"], crypttab["gid"]) == (0o600, 0, 0), crypttab
    key = listing["/etc/luks/data"]
    assert (key["mode"] & 0o7777, key["size"]) == (0o600, 8192), key  # 4096 random bytes, hex
    assert listing["/etc/luks"]["mode"] & 0o7777 == 0o700, listing["/etc/luks"]

    probe = blkid(vda)
    assert (probe.get("TYPE"), probe.get("UUID"), probe.get("LABEL")) == ("crypto_LUKS", LUKS_UUID, "secret"), probe
    assert probe.get("VERSION") == "2", probe
    dump = subprocess.run(["cryptsetup", "luksDump", str(vda)], capture_output=True, text=True, check=False)
    assert dump.returncode == 0, dump.stderr  # the header is read in userspace, no device-mapper needed
    assert re.search(r"^Version:\s+2$", dump.stdout, re.M), dump.stdout
    assert len(re.findall(r"^\s+\d+: luks2$", dump.stdout, re.M)) == 1, dump.stdout  # one key slot
    # The key never reaches the journal or the console, nor does its data URL.
    assert not KEY_LIKE.search(boot.console), "a key-like hex string reached the console"
    assert "base64," not in boot.console


def test_luks_with_a_key_file_is_reused_by_a_second_first_boot(vm: VM, tmp_path: Path) -> None:
    key = b"a key the config gives, not one made up"
    luks = {"name": "data", "device": "/dev/vda", "uuid": LUKS_UUID,
            "keyFile": {"source": "data:;base64," + base64.b64encode(key).decode()}}
    vda = vm.disk("vda", "64M")

    def storage(wipe: bool, name: str) -> str:
        return config({
            "luks": [{**luks, "wipeVolume": wipe}],
            "filesystems": [{"device": "/dev/mapper/data", "format": "ext4", "wipeFilesystem": wipe,
                             "path": "/var/data"}],
            "files": [{"path": f"/var/data/{name}", "contents": {"source": f"data:,{name}"}}],
        })

    first = vm.boot(storage(True, "first"), disks=[vda], name="luks-keyfile-first")
    first.assert_clean()
    assert first.verdict == "complete", first.explain()
    keyfile = tmp_path / "key"
    keyfile.write_bytes(key)
    opens = subprocess.run(["cryptsetup", "luksOpen", "--test-passphrase", "--key-file", str(keyfile), str(vda)],
                           capture_output=True, text=True, check=False)
    assert opens.returncode == 0, opens.stderr  # the config's key opens the volume (checked in userspace)

    # Same disk, wipeVolume and wipeFilesystem false: the volume and its
    # filesystem are kept, and the first boot's file is still there.
    second = vm.boot(storage(False, "second"), disks=[vda], name="luks-keyfile-second")
    second.assert_clean()
    assert second.verdict == "complete", second.explain()
    assert any("LUKS volume data on /dev/vda already matches; reusing it" in m for m in second.messages()), \
        second.explain()
    assert "luksFormat" not in second.console, second.explain()
    listing = second.sysroot()
    assert listing["/var/data/first"]["sha256"] == hashlib.sha256(b"first").hexdigest(), listing
    assert listing["/var/data/second"]["sha256"] == hashlib.sha256(b"second").hexdigest(), listing
    assert listing["/etc/luks/data"]["sha256"] == hashlib.sha256(key).hexdigest(), listing
    line = f"data UUID={LUKS_UUID} /etc/luks/data luks,x-initrd.attach\n"
    assert listing["/etc/crypttab"]["sha256"] == hashlib.sha256(line.encode()).hexdigest(), listing
    assert key.decode() not in first.console + second.console
