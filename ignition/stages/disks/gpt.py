"""Reading a GPT straight from the disk's bytes.

libparted does not expose a partition's unique GUID, and a table it cannot
parse raises interactive "fix it?" exceptions; the format is simple enough to
read exactly here (UEFI spec 2.x, section 5.3).
"""

from __future__ import annotations

import fcntl
import os
import struct
import uuid
import zlib
from collections.abc import Callable

from ignition.stages.disks.model import DiskState, PartInfo, empty_disk

BLKSSZGET = 0x1268
BLKGETSIZE64 = 0x80081272
HEADER = struct.Struct("<8sIIIIQQQQ16sQIII")
ENTRY = struct.Struct("<16s16sQQQ72s")


def guid_str(raw: bytes) -> str:
    return str(uuid.UUID(bytes_le=raw))


def parse_header(block: bytes) -> tuple[dict[str, int], str]:
    """The header fields, or ({}, why it is not a valid header)."""
    if block[:8] != b"EFI PART":
        return {}, "no GPT signature"
    (_sig, _rev, hsize, hcrc, _res, cur, backup, first, last, _dguid, entries_lba, n, esize,
     ecrc) = HEADER.unpack_from(block)
    if not 92 <= hsize <= len(block):
        return {}, f"bad GPT header size {hsize}"
    hdr = bytearray(block[:hsize])
    hdr[16:20] = b"\0\0\0\0"
    if zlib.crc32(bytes(hdr)) != hcrc:
        return {}, "GPT header checksum mismatch"
    if esize < 128 or n > 4096:
        return {}, f"unsupported GPT entry array ({n} entries of {esize} bytes)"
    return {"current": cur, "backup": backup, "first": first, "last": last, "entries_lba": entries_lba,
            "n": n, "esize": esize, "ecrc": ecrc}, ""


def parse_entries(raw: bytes, n: int, esize: int) -> tuple[PartInfo, ...]:
    parts = []
    for i in range(n):
        tguid, pguid, first, last, _attrs, name = ENTRY.unpack_from(raw, i * esize)
        if tguid == b"\0" * 16:
            continue
        label = name.decode("utf-16-le", "replace").split("\0", 1)[0]
        parts.append(PartInfo(i + 1, first, last - first + 1, guid_str(tguid), guid_str(pguid), label))
    return tuple(parts)


def read_disk(device: str) -> DiskState:
    """Probe `device` (read-only): sector size, length and its GPT."""
    fd = os.open(device, os.O_RDONLY | os.O_CLOEXEC)
    try:
        buf = bytearray(4)
        fcntl.ioctl(fd, BLKSSZGET, buf)
        ssz = struct.unpack("<I", buf)[0]
        buf = bytearray(8)
        fcntl.ioctl(fd, BLKGETSIZE64, buf)
        total = struct.unpack("<Q", buf)[0] // ssz
        return parse_disk(device, ssz, total, lambda lba, count: os.pread(fd, count * ssz, lba * ssz))
    finally:
        os.close(fd)


def parse_disk(device: str, ssz: int, total: int, read: Callable[[int, int], bytes]) -> DiskState:
    """Primary header first; a valid backup is used when the primary is damaged
    but reported, because writing would silently repair it."""
    problems = []
    for lba in (1, total - 1):
        hdr, why = parse_header(read(lba, 1))
        if not hdr:
            problems.append(f"{'primary' if lba == 1 else 'backup'}: {why}")
            continue
        count = (hdr["n"] * hdr["esize"] + ssz - 1) // ssz
        raw = read(hdr["entries_lba"], count)[: hdr["n"] * hdr["esize"]]
        if zlib.crc32(raw) != hdr["ecrc"]:
            problems.append(f"{'primary' if lba == 1 else 'backup'}: GPT entry array checksum mismatch")
            continue
        if lba != 1:
            return empty_disk(device, ssz, total, "corrupt", "; ".join(problems))
        return DiskState(device, ssz, total, "gpt", hdr["first"], hdr["last"],
                         parse_entries(raw, hdr["n"], hdr["esize"]))
    if all(p.endswith("no GPT signature") for p in problems):
        return empty_disk(device, ssz, total, "none")
    return empty_disk(device, ssz, total, "corrupt", "; ".join(problems))

