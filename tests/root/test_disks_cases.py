"""Disk-stage cases as data (no tests here), shared by test_disks.py and the
differential test_disks_oracle.py.
A case: disk sizes, a setup (pre-existing layout: sgdisk arguments per disk,
filesystems, files), a config with `{d0}`, `{d1}` for the disk nodes, and the
expected layout read back (number, label, start, size, type GUID, GUID when
given) and filesystems (type, label, uuid when given), files that must survive.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

LINUX = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
ESP = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
G1 = "11111111-2222-3333-4444-555555555555"
U1 = "8a7c8e59-d0a2-4ac2-9b4f-1d3f6f0e2c11"
M = 2048  # sectors per MiB
L64 = 131038  # last usable sector of a 64 MiB disk

Step = tuple[str, ...]  # ("sgdisk", "0", args...) | ("mkfs", "0p1", argv...) | ("file", "0p1", path, text)
# | ("corrupt", "0") | ("grow", "0", new size in MiB)
Part = tuple[int, str, int, int, str]  # number, label, start, size, type GUID (or "" = any)


@dataclass(frozen=True)
class Case:
    name: str
    config: dict[str, Any]
    parts: dict[int, list[Part]] = field(default_factory=dict)  # disk index -> expected table
    setup: tuple[Step, ...] = ()
    sizes: tuple[int, ...] = (64,)
    sector: int = 512  # logical sector size of the loop disks
    fs: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # "0p1" -> (type, label, uuid or "")
    files: dict[str, dict[str, str]] = field(default_factory=dict)  # "0p1" -> {path: text}
    guids: dict[str, str] = field(default_factory=dict)  # "0p1" -> unique GUID
    error: str = ""  # negative case: text in the failure
    oracle: bool = True  # also compared against Go Ignition
    go_writes_first: bool = False  # Go fails only after writing the table (ours: before)

    def render(self, disks: list[str]) -> dict[str, Any]:
        text = json.dumps(self.config)
        for i, d in enumerate(disks):
            text = text.replace(f"{{d{i}}}", d)
        return dict(json.loads(text))


def cfg(disks: list[dict[str, Any]] | None = None, fss: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    storage: dict[str, Any] = {}
    if disks:
        storage["disks"] = disks
    if fss:
        storage["filesystems"] = fss
    return {"ignition": {"version": "3.3.0"}, "storage": storage}


def d0(*parts: dict[str, Any], wipe: bool = False) -> dict[str, Any]:
    return {"device": "{d0}", "wipeTable": wipe, "partitions": list(parts)}


EXISTING_A = (("sgdisk", "0", "--new=1:2048:+20480", "--change-name=1:A"),)
EXISTING_AB = (("sgdisk", "0", "--new=1:2048:+20480", "--change-name=1:A", "--new=2:22528:+20480",
                "--change-name=2:B"),)
EXT4_FILE = (("mkfs", "0p1", "mkfs.ext4", "-q", "-F", "-L", "keep", "-U", U1), ("file", "0p1", "kept.txt", "hello\n"))

POSITIVE = [
    Case("create", cfg([d0({"number": 1, "label": "ROOT", "sizeMiB": 10},
                           {"number": 2, "label": "DATA", "sizeMiB": 20})]),
         {0: [(1, "ROOT", M, 10 * M, LINUX), (2, "DATA", 11 * M, 20 * M, LINUX)]}),
    Case("create.withstartmib", cfg([d0({"number": 1, "label": "s", "startMiB": 5, "sizeMiB": 10})]),
         {0: [(1, "s", 5 * M, 10 * M, LINUX)]}),
    Case("create.types.guids", cfg([d0({"number": 3, "label": "efi", "sizeMiB": 4, "typeGuid": ESP, "guid": G1})]),
         {0: [(3, "efi", M, 4 * M, ESP)]}, guids={"0p3": G1}),
    Case("number0", cfg([d0({"label": "a", "sizeMiB": 2}, {"label": "b", "sizeMiB": 0})]),
         {0: [(1, "a", M, 2 * M, LINUX), (2, "b", 3 * M, L64 - 3 * M + 1, LINUX)]}),
    Case("wipetable", cfg([d0({"number": 2, "label": "new", "sizeMiB": 4}, wipe=True)]),
         {0: [(2, "new", M, 4 * M, LINUX)]}, setup=EXISTING_AB),
    Case("append", cfg([d0({"number": 2, "label": "B", "sizeMiB": 5})]),
         {0: [(1, "A", M, 10 * M, LINUX), (2, "B", 11 * M, 5 * M, LINUX)]}, setup=EXISTING_A),
    Case("resize.keeps.data", cfg([d0({"number": 1, "sizeMiB": 30, "resize": True})]),
         {0: [(1, "A", M, 30 * M, LINUX)]}, setup=EXISTING_A + EXT4_FILE,
         fs={"0p1": ("ext4", "keep", U1)}, files={"0p1": {"kept.txt": "hello\n"}}),
    Case("match.all", cfg([d0({"number": 1, "label": "A", "startMiB": 1, "sizeMiB": 10, "typeGuid": LINUX})]),
         {0: [(1, "A", M, 10 * M, LINUX)]}, setup=EXISTING_A + EXT4_FILE, files={"0p1": {"kept.txt": "hello\n"}}),
    Case("recreate.wipeentry", cfg([d0({"number": 1, "label": "B", "sizeMiB": 20, "wipePartitionEntry": True})]),
         {0: [(1, "B", M, 20 * M, LINUX)]}, setup=EXISTING_A),
    Case("resizeroot.withzeros", cfg([d0({"number": 1, "label": "A", "startMiB": 0, "sizeMiB": 0,
                                          "wipePartitionEntry": True})]),
         {0: [(1, "A", M, L64 - M + 1, LINUX)]}, setup=EXISTING_A + EXT4_FILE, files={"0p1": {"kept.txt": "hello\n"}}),
    Case("delete", cfg([d0({"number": 2, "shouldExist": False, "wipePartitionEntry": True})]),
         {0: [(1, "A", M, 10 * M, LINUX)]}, setup=EXISTING_AB),
    Case("delete.all", cfg([d0({"number": 1, "shouldExist": False, "wipePartitionEntry": True},
                               {"number": 2, "shouldExist": False, "wipePartitionEntry": True})]),
         {0: []}, setup=EXISTING_AB),
    Case("wipetable.to.empty", cfg([d0(wipe=True)]), {0: []}, setup=EXISTING_AB),
    Case("lone.high.number", cfg([d0({"number": 6, "label": "six", "sizeMiB": 4})]),
         {0: [(6, "six", M, 4 * M, LINUX)]}),
    Case("high.number.beside.low", cfg([d0({"number": 9, "label": "nine", "sizeMiB": 4})]),
         {0: [(1, "A", M, 10 * M, LINUX), (9, "nine", 11 * M, 4 * M, LINUX)]}, setup=EXISTING_A),
    Case("noop.nonexistent", cfg([d0({"number": 5, "shouldExist": False})]),
         {0: [(1, "A", M, 10 * M, LINUX)]}, setup=EXISTING_A),
    Case("match.recreate.delete.add",
         cfg([d0({"number": 1, "label": "A", "sizeMiB": 10}, {"number": 2, "label": "B2", "sizeMiB": 15,
                                                             "wipePartitionEntry": True},
                 {"number": 3, "shouldExist": False, "wipePartitionEntry": True},
                 {"number": 4, "label": "D", "sizeMiB": 5})]),
         {0: [(1, "A", M, 10 * M, LINUX), (2, "B2", 11 * M, 15 * M, LINUX), (4, "D", 26 * M, 5 * M, LINUX)]},
         setup=(("sgdisk", "0", "--new=1:2048:+20480", "--change-name=1:A", "--new=2:22528:+20480",
                 "--change-name=2:B", "--new=3:43008:+20480", "--change-name=3:C"),)),
    Case("deletes.before.creates", cfg([d0({"number": 1, "startMiB": 0, "sizeMiB": 0, "wipePartitionEntry": True},
                                           {"number": 2, "shouldExist": False, "wipePartitionEntry": True})]),
         {0: [(1, "", M, L64 - M + 1, LINUX)]}, setup=EXISTING_AB),
    Case("wipebadtable", cfg([d0({"number": 1, "label": "fresh", "sizeMiB": 8}, wipe=True)]),
         {0: [(1, "fresh", M, 8 * M, LINUX)]}, setup=EXISTING_AB + (("corrupt", "0"),)),
    Case("multidisk", {"ignition": {"version": "3.3.0"}, "storage": {"disks": [
        d0({"number": 1, "label": "one", "sizeMiB": 8}),
        {"device": "{d1}", "partitions": [{"number": 1, "label": "two", "sizeMiB": 0}]}]}},
         {0: [(1, "one", M, 8 * M, LINUX)], 1: [(1, "two", M, L64 - M + 1, LINUX)]}, sizes=(64, 64)),
    Case("fs.ext4", cfg([d0({"number": 1, "label": "r", "sizeMiB": 0})],
                        [{"device": "{d0}p1", "format": "ext4", "label": "root", "uuid": U1, "wipeFilesystem": True}]),
         {0: [(1, "r", M, L64 - M + 1, LINUX)]}, fs={"0p1": ("ext4", "root", U1)}),
    Case("fs.xfs", cfg([d0({"number": 1, "sizeMiB": 0})],
                       [{"device": "{d0}p1", "format": "xfs", "label": "x", "uuid": U1, "wipeFilesystem": True}]),
         {0: [(1, "", M, 511 * M - 33, LINUX)]}, sizes=(512,), fs={"0p1": ("xfs", "x", U1)}),
    Case("fs.btrfs", cfg([d0({"number": 1, "sizeMiB": 0})],
                         [{"device": "{d0}p1", "format": "btrfs", "label": "b", "uuid": U1, "wipeFilesystem": True}]),
         {0: [(1, "", M, 255 * M - 33, LINUX)]}, sizes=(256,), fs={"0p1": ("btrfs", "b", U1)}),
    Case("fs.swap", cfg([d0({"number": 1, "sizeMiB": 16})],
                        [{"device": "{d0}p1", "format": "swap", "label": "sw", "uuid": U1}]),
         {0: [(1, "", M, 16 * M, LINUX)]}, fs={"0p1": ("swap", "sw", U1)}),
    Case("fs.vfat", cfg([d0({"number": 1, "sizeMiB": 16})],
                        [{"device": "{d0}p1", "format": "vfat", "label": "EFI", "uuid": "ABCD-1234"}]),
         {0: [(1, "", M, 16 * M, LINUX)]}, fs={"0p1": ("vfat", "EFI", "ABCD-1234")}),
    Case("fs.reuse.keeps.files", cfg(None, [{"device": "{d0}p1", "format": "ext4", "label": "keep"}]),
         {0: [(1, "A", M, 10 * M, LINUX)]}, setup=EXISTING_A + EXT4_FILE,
         fs={"0p1": ("ext4", "keep", U1)}, files={"0p1": {"kept.txt": "hello\n"}}),
    Case("fs.none.wipe.erases", cfg(None, [{"device": "{d0}p1", "format": "none", "wipeFilesystem": True}]),
         {0: [(1, "A", M, 10 * M, LINUX)]}, setup=EXISTING_A + EXT4_FILE, fs={"0p1": ("", "", "")}),
    Case("fs.wholedisk", cfg(None, [{"device": "{d0}", "format": "ext4", "label": "whole", "wipeFilesystem": True}]),
         {}, setup=EXISTING_A, fs={"0": ("ext4", "whole", "")}),
    Case("number0.fills.gap", cfg([d0({"label": "gap", "startMiB": 40, "sizeMiB": 2})]),
         {0: [(1, "A", M, 10 * M, LINUX), (2, "gap", 40 * M, 2 * M, LINUX), (3, "C", 30 * M, 5 * M, LINUX)]},
         setup=(("sgdisk", "0", "--new=1:2048:+20480", "--change-name=1:A", "--new=3:61440:+10240",
                 "--change-name=3:C"),)),
    # The stage waits for udev's by-partlabel link of a partition it just made.
    # Not compared with Go: its sgdisk re-read drops the partitions on this
    # kernel and only the stand-in's partx for /dev/loopNpM brings them back.
    Case("fs.by-partlabel", cfg([d0({"number": 1, "label": "ign-test-plabel", "sizeMiB": 16})],
                                [{"device": "/dev/disk/by-partlabel/ign-test-plabel", "format": "ext4", "label": "pl",
                                  "wipeFilesystem": True}]),
         {0: [(1, "ign-test-plabel", M, 16 * M, LINUX)]}, fs={"0p1": ("ext4", "pl", "")}, oracle=False),
    # The backup GPT is not at the end: like sgdisk, the free space ends at the
    # table's last usable sector, not at the disk's.
    Case("grown.disk.size0", cfg([d0({"number": 2, "label": "rest", "sizeMiB": 0})]),
         {0: [(1, "A", M, 10 * M, LINUX), (2, "rest", 11 * M, 32 * M - 34 - 11 * M + 1, LINUX)]}, sizes=(32,),
         setup=EXISTING_A + (("grow", "0", "64"),)),
    # 4096-byte sectors: 256 per MiB, the GPT's entries fill sectors 2..5.
    Case("sector4k", cfg([d0({"number": 1, "label": "a", "sizeMiB": 3}, {"number": 0, "label": "b", "sizeMiB": 0})],
                         [{"device": "{d0}p1", "format": "ext4", "label": "k4", "wipeFilesystem": True}]),
         {0: [(1, "a", 256, 3 * 256, LINUX), (2, "b", 4 * 256, 64 * 256 - 6 - 4 * 256 + 1, LINUX)]}, sector=4096,
         fs={"0p1": ("ext4", "k4", "")}),
    # Fields the config leaves out match anything: partition 1 is kept as it is, data and all.
    Case("match.label.only", cfg([d0({"number": 1, "label": "A"})]),
         {0: [(1, "A", M, 10 * M, LINUX)]}, setup=EXISTING_A + EXT4_FILE,
         fs={"0p1": ("ext4", "keep", U1)}, files={"0p1": {"kept.txt": "hello\n"}}),
    # An xfs with the asked label and uuid is reused, not remade.
    Case("fs.xfs.reuse.label.uuid", cfg(None, [{"device": "{d0}p1", "format": "xfs", "label": "keepx", "uuid": U1}]),
         {0: [(1, "A", M, 300 * M, LINUX)]}, sizes=(512,),
         setup=(("sgdisk", "0", "--new=1:2048:+614400", "--change-name=1:A"),
                ("mkfs", "0p1", "mkfs.xfs", "-q", "-f", "-L", "keepx", "-m", f"uuid={U1}"),
                ("file", "0p1", "kept.txt", "xfs data\n")),
         fs={"0p1": ("xfs", "keepx", U1)}, files={"0p1": {"kept.txt": "xfs data\n"}}),
    Case("fs.swap.reuse", cfg(None, [{"device": "{d0}p1", "format": "swap", "label": "sw"}]),
         {0: [(1, "A", M, 10 * M, LINUX)]},
         setup=EXISTING_A + (("mkfs", "0p1", "mkswap", "-L", "sw", "-U", U1),), fs={"0p1": ("swap", "sw", U1)}),
    Case("fs.ext4.wipe.existing", cfg(None, [{"device": "{d0}p1", "format": "ext4", "label": "new",
                                               "wipeFilesystem": True}]),
         {0: [(1, "A", M, 10 * M, LINUX)]}, setup=EXISTING_A + EXT4_FILE, fs={"0p1": ("ext4", "new", "")}),
]

NEGATIVE = [
    Case("delete.nowipe", cfg([d0({"number": 1, "shouldExist": False})]), setup=EXISTING_A + EXT4_FILE,
         error="partition 1 exists but is specified as nonexistent"),
    Case("match.fail", cfg([d0({"number": 1, "label": "other"})]), setup=EXISTING_A + EXT4_FILE,
         error="partition 1 didn't match: label did not match (specified \"other\", got \"A\")"),
    Case("partialmatch.fail", cfg([d0({"number": 1, "label": "A", "startMiB": 1, "sizeMiB": 12},
                                       {"number": 2, "label": "n", "sizeMiB": 1})]),
         setup=EXISTING_A + EXT4_FILE,
         error=f"partition 1 didn't match: size did not match (specified {12 * M}, got {10 * M})"),
    Case("resize.mismatch", cfg([d0({"number": 1, "label": "B", "sizeMiB": 20, "resize": True})]),
         setup=EXISTING_A + EXT4_FILE, error="partition 1 didn't match: label did not match"),
    Case("fs.wrongtype.nowipe", cfg([d0({"number": 2, "label": "new", "sizeMiB": 4})],
                                    [{"device": "{d0}p1", "format": "xfs"}]),
         setup=EXISTING_A + EXT4_FILE, error="not of the correct type", go_writes_first=True),
    Case("does.not.fit", cfg([d0({"number": 2, "label": "big", "sizeMiB": 100})]), setup=EXISTING_A + EXT4_FILE,
         error="does not fit"),
    Case("failstofill", cfg([d0({"number": 1, "sizeMiB": 0})]), setup=EXISTING_A + EXT4_FILE,
         error="partition 1 didn't match: size did not match"),
    Case("fs.none.nowipe", cfg(None, [{"device": "{d0}p1", "format": "none"}]), setup=EXISTING_A + EXT4_FILE,
         error="not of the correct type"),
    # An existing filesystem of the right type but another label or uuid is not
    # reused without wipeFilesystem, and not touched.
    Case("fs.label.mismatch.nowipe", cfg(None, [{"device": "{d0}p1", "format": "ext4", "label": "other"}]),
         setup=EXISTING_A + EXT4_FILE, error="not of the correct type"),
    Case("fs.uuid.mismatch.nowipe", cfg(None, [{"device": "{d0}p1", "format": "ext4", "label": "keep",
                                                "uuid": "00000000-0000-4000-8000-000000000001"}]),
         setup=EXISTING_A + EXT4_FILE, error="not of the correct type"),
    Case("corrupt.nowipe", cfg([d0({"number": 1, "sizeMiB": 4})]), setup=EXISTING_A + (("corrupt", "0"),),
         error="damaged", oracle=False),
]
