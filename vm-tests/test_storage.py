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


ROOT_AND_DATA = {
    "ignition": {"version": "3.4.0"},
    "passwd": {"users": [{"name": "core", "groups": ["wheel"],
                          "sshAuthorizedKeys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIvmtest core@vmtest"]}]},
    "storage": {
        "disks": [
            {"device": "/dev/vda", "wipeTable": True, "partitions": [
                {"number": 1, "label": "vm-root", "sizeMiB": 160},
                {"number": 2, "label": "vm-data", "sizeMiB": 0}]},
            {"device": "/dev/vdb", "wipeTable": True, "partitions": [
                {"number": 1, "label": "vm-swap", "sizeMiB": 32, "typeGuid": "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"},
                {"number": 2, "label": "vm-efi", "sizeMiB": 0, "typeGuid": "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"}]},
        ],
        "filesystems": [
            {"device": "/dev/disk/by-partlabel/vm-root", "format": "ext4", "label": "vm-root", "wipeFilesystem": True},
            {"device": "/dev/disk/by-partlabel/vm-data", "format": "xfs", "label": "vm-data", "wipeFilesystem": True,
             "path": "/var/lib/data"},
            {"device": "/dev/disk/by-partlabel/vm-swap", "format": "swap", "label": "vm-swap", "wipeFilesystem": True},
            {"device": "/dev/disk/by-partlabel/vm-efi", "format": "vfat", "label": "VM-EFI", "wipeFilesystem": True,
             "path": "/boot/efi"},
        ],
        "files": [
            {"path": "/etc/hostname", "mode": 0o644, "overwrite": True, "contents": {"source": "data:,vmtest%0A"}},
            {"path": "/var/lib/data/on-xfs", "contents": {"source": "data:,on%20xfs%0A"}},
            {"path": "/boot/efi/on-vfat", "contents": {"source": "data:,on%20vfat%0A"}},
        ],
    },
    "systemd": {"units": [{"name": "vmtest.service", "enabled": True,
                           "contents": "[Unit]\nDescription=vmtest\n[Service]\nType=oneshot\n"
                                       "ExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n"}]},
}


def partitions(image: Path) -> list[dict[str, object]]:
    """The image's GPT as sfdisk reads it from the file (no loop device)."""
    out = subprocess.run(["sfdisk", "--json", str(image)], capture_output=True, text=True, check=True).stdout
    return list(json.loads(out)["partitiontable"]["partitions"])


def probe_partition(image: Path, part: dict[str, object]) -> dict[str, str]:
    """blkid's low-level probe of one partition, by its offset in the image."""
    start, size = int(str(part["start"])) * 512, int(str(part["size"])) * 512
    out = subprocess.run(["blkid", "-p", "-o", "export", "-O", str(start), "-S", str(size), str(image)],
                         capture_output=True, text=True, check=False).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def ext4_file(image: Path, part: dict[str, object], path: str) -> str:
    """A file of the ext4 filesystem in a partition of the image (debugfs on a
    copy of the partition's bytes: nothing is mounted, the image is not written)."""
    start, size = int(str(part["start"])) * 512, int(str(part["size"])) * 512
    copy = image.with_suffix(f".p{start}")
    with open(image, "rb") as src, open(copy, "wb") as dst:
        src.seek(start)
        left = size
        while left:
            chunk = src.read(min(left, 1 << 20))
            dst.write(chunk)
            left -= len(chunk)
    try:
        return subprocess.run(["debugfs", "-R", f"cat {path}", str(copy)], capture_output=True, text=True,
                              check=True).stdout
    finally:
        copy.unlink()


def test_root_filesystem_made_by_the_disks_stage_gets_users_files_and_units(vm: VM) -> None:
    """Two disks: ext4 root and xfs data on the first, swap and vfat on the
    second; sysroot.mount waits for the root the disks stage makes
    (root=LABEL=vm-root), the mount stage mounts xfs and vfat, the files stage
    adds a user, files on all three filesystems and an enabled unit."""
    vda, vdb = vm.disk("vda", "512M"), vm.disk("vdb", "96M")  # xfs wants 300 MB at least
    boot = vm.boot(json.dumps(ROOT_AND_DATA), disks=[vda, vdb], name="root-two-disks",
                   cmdline=("ignition.firstboot", "ignition.platform.id=qemu", "root=LABEL=vm-root",
                            "rootfstype=ext4", "rw", "vmtest.seedroot"))
    boot.assert_clean()
    assert boot.verdict == "complete" and boot.critical() == [], boot.explain()
    assert stages_run(boot) == STAGES, boot.explain()

    # The partition tables and filesystems, read from the image files.
    a, b = partitions(vda), partitions(vdb)
    assert [p.get("name") for p in a] == ["vm-root", "vm-data"] and [p.get("name") for p in b] == ["vm-swap", "vm-efi"]
    assert int(str(a[0]["size"])) == 160 * 2048 and int(str(b[0]["size"])) == 32 * 2048
    assert str(b[1]["type"]).upper() == "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
    found = [(probe_partition(img, p).get("TYPE"), probe_partition(img, p).get("LABEL"))
             for img, parts in ((vda, a), (vdb, b)) for p in parts]
    assert found == [("ext4", "vm-root"), ("xfs", "vm-data"), ("swap", "vm-swap"), ("vfat", "VM-EFI")]

    # What the files stage wrote, as the guest listed /sysroot with everything mounted.
    tree = boot.sysroot()
    for path, text in (("/etc/hostname", b"vmtest\n"), ("/var/lib/data/on-xfs", b"on xfs\n"),
                       ("/boot/efi/on-vfat", b"on vfat\n")):
        assert tree[path]["sha256"] == hashlib.sha256(text).hexdigest(), path
    assert tree["/etc/systemd/system/vmtest.service"]["size"] > 0
    keys = tree["/home/core/.ssh/authorized_keys.d/ignition"]
    assert (keys["mode"] & 0o777, keys["uid"]) == (0o600, 1000), keys

    # And the root filesystem itself, read from the host.
    passwd = ext4_file(vda, a[0], "/etc/passwd")
    assert re.search(r"^core:x:1000:1000:", passwd, re.M), passwd
    assert "wheel:x:10:core" in ext4_file(vda, a[0], "/etc/group")
    assert "enable vmtest.service" in ext4_file(vda, a[0], "/etc/systemd/system-preset/20-ignition.preset")
    assert ext4_file(vda, a[0], "/etc/hostname") == "vmtest\n"
