"""Filesystem decisions (reuse / create / wipe), mkfs arguments and the GPT
reader, all without devices."""

from __future__ import annotations

import struct
import uuid
import zlib

import pytest

from ignition.config.types import Filesystem
from ignition.errors import StageError
from ignition.stages.disks.filesystems import plan_filesystem
from ignition.stages.disks.gpt import parse_disk
from ignition.stages.disks.model import FsInfo
from ignition.stages.disks.probe import parse_export

U = "8a7c8e59-d0a2-4ac2-9b4f-1d3f6f0e2c11"


def fs(**kw: object) -> Filesystem:
    kw.setdefault("device", "/dev/x1")
    return Filesystem(**kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt,argv", [
    ("ext4", ["mkfs.ext4", "-E", "lazy_itable_init=1", "-F", "-U", U, "-L", "data", "/dev/sdz1"]),
    ("btrfs", ["mkfs.btrfs", "-E", "lazy_itable_init=1", "--force", "-U", U, "-L", "data", "/dev/sdz1"]),
    ("xfs", ["mkfs.xfs", "-E", "lazy_itable_init=1", "-f", "-m", "uuid=" + U, "-L", "data", "/dev/sdz1"]),
    ("swap", ["mkswap", "-E", "lazy_itable_init=1", "-f", "-U", U, "-L", "data", "/dev/sdz1"]),
])
def test_mkfs_user_options_first_flags_after_device_last(fmt: str, argv: list[str]) -> None:
    p = plan_filesystem(fs(format=fmt, label="data", uuid=U.upper(), wipe_filesystem=True,
                           options=("-E", "lazy_itable_init=1")), "/dev/sdz1", FsInfo("ext4", "x", "y"))
    assert p.action == "create" and list(p.argv) == argv


def test_vfat_uuid_without_dash_and_label_with_n() -> None:
    p = plan_filesystem(fs(format="vfat", label="EFI", uuid="ABCD-1234"), "/dev/sdz1", FsInfo())
    assert list(p.argv) == ["mkfs.fat", "-i", "abcd1234", "-n", "EFI", "/dev/sdz1"]


def test_tool_names_follow_distro_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IGNITION_TOOL_MKFS_EXT4", "/opt/mke2fs")
    assert plan_filesystem(fs(format="ext4"), "/dev/a", FsInfo()).argv[0] == "/opt/mke2fs"


@pytest.mark.parametrize("found,kw,action", [
    (FsInfo("ext4", "data", U), {"format": "ext4"}, "reuse"),
    (FsInfo("ext4", "data", U), {"format": "ext4", "label": "data", "uuid": U.upper()}, "reuse"),
    (FsInfo("vfat", "EFI", "ABCD-1234"), {"format": "vfat", "uuid": "abcd1234"}, "reuse"),
    (FsInfo(), {"format": "xfs"}, "create"),
    (FsInfo(), {"format": "none"}, "none"),
    (FsInfo("ext4"), {"format": "none", "wipe_filesystem": True}, "wipe"),
    (FsInfo("ext4", "data"), {"format": "ext4", "wipe_filesystem": True}, "create"),
])
def test_decisions(found: FsInfo, kw: dict[str, object], action: str) -> None:
    assert plan_filesystem(fs(**kw), "/dev/a", found).action == action


@pytest.mark.parametrize("found,kw", [
    (FsInfo("xfs"), {"format": "ext4"}),
    (FsInfo("ext4", "other"), {"format": "ext4", "label": "data"}),
    (FsInfo("ext4", "data", U), {"format": "ext4", "uuid": "00000000-0000-0000-0000-000000000000"}),
    (FsInfo("ext4"), {"format": "none"}),
    (FsInfo(ambivalent=True), {"format": "ext4"}),
])
def test_existing_other_filesystem_without_wipe_fails(found: FsInfo, kw: dict[str, object]) -> None:
    with pytest.raises(StageError, match=r"not of the correct type|more than one signature"):
        plan_filesystem(fs(**kw), "/dev/a", found)


def test_parse_blkid_export() -> None:
    assert parse_export("DEVNAME=/dev/a\nUUID=u\nTYPE=ext4\nLABEL=a=b\n") == {
        "DEVNAME": "/dev/a", "UUID": "u", "TYPE": "ext4", "LABEL": "a=b"}


def gpt_image(parts: list[tuple[int, int, int, str, str, str]], total: int = 4096,
              corrupt: str = "") -> bytes:
    """A minimal GPT (512-byte sectors, 128 entries) built from the spec."""
    img = bytearray(total * 512)
    entries = bytearray(128 * 128)
    for n, first, last, tguid, pguid, name in parts:
        struct.pack_into("<16s16sQQQ72s", entries, (n - 1) * 128, uuid.UUID(tguid).bytes_le,
                         uuid.UUID(pguid).bytes_le, first, last, 0, name.encode("utf-16-le"))
    ecrc = zlib.crc32(bytes(entries))
    for lba, entries_lba, other in ((1, 2, total - 1), (total - 1, total - 33, 1)):
        hdr = bytearray(struct.pack("<8sIIIIQQQQ16sQIII", b"EFI PART", 0x10000, 92, 0, 0, lba, other, 34,
                                    total - 34, uuid.uuid4().bytes_le, entries_lba, 128, 128, ecrc))
        struct.pack_into("<I", hdr, 16, zlib.crc32(bytes(hdr)))
        img[lba * 512: lba * 512 + 92] = hdr
        img[entries_lba * 512: entries_lba * 512 + len(entries)] = entries
    if corrupt == "header":
        img[512 + 40] ^= 1
    return bytes(img)


def read_from(img: bytes) -> object:
    return lambda lba, count: img[lba * 512:(lba + count) * 512]


def test_gpt_reader_gives_numbers_guids_and_labels() -> None:
    t = "0fc63daf-8483-4772-8e79-3d69d8477de4"
    img = gpt_image([(1, 2048, 4095, t, U, "ROOT"), (3, 100, 199, t, t, "")])
    st = parse_disk("/dev/x", 512, 4096, read_from(img))  # type: ignore[arg-type]
    assert st.table == "gpt" and (st.first_usable, st.last_usable) == (34, 4062)
    assert [(p.number, p.start, p.size, p.guid, p.label) for p in st.partitions] == [
        (1, 2048, 2048, U, "ROOT"), (3, 100, 100, t, "")]


def test_gpt_reader_reports_damage_and_absence() -> None:
    img = gpt_image([(1, 2048, 4095, U, U, "x")], corrupt="header")
    st = parse_disk("/dev/x", 512, 4096, read_from(img))  # type: ignore[arg-type]
    assert st.table == "corrupt" and "primary: GPT header checksum mismatch" in st.problem
    st = parse_disk("/dev/x", 512, 4096, read_from(bytes(4096 * 512)))  # type: ignore[arg-type]
    assert st.table == "none" and st.partitions == ()
