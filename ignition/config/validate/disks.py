"""Disks and their GPT partitions."""

from __future__ import annotations

import re

from ignition.config.report import Report
from ignition.config.types import Disk, Partition, Storage
from ignition.config.validate.keys import Path, flag_duplicates
from ignition.config.validate.paths import path_problem

_GUID = re.compile(r"(|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})\Z")
MAX_LABEL = 36  # a GPT partition name holds 36 UTF-16 code units


def check_disks(st: Storage, report: Report) -> None:
    for i, disk in enumerate(st.disks):
        entry: Path = ("storage", "disks", i)
        if not disk.device:
            report.add("error", "disk device is required: set device, e.g. /dev/disk/by-id/...",
                       entry + ("device",))
            continue
        problem = path_problem(disk.device)
        if problem:
            report.add("error", problem, entry + ("device",))
        for j, part in enumerate(disk.partitions):
            _partition(report, part, entry + ("partitions", j))
        _across_partitions(report, disk, entry)
    flag_duplicates(report, ((d.device, ("storage", "disks", i), f"disk {d.device}")
                             for i, d in enumerate(st.disks)))


def partition_key(p: Partition) -> str:
    """Ignition's merge key: the number, or the label for number 0 ("" for neither, which
    collides with another such partition, as in Ignition)."""
    if p.number:
        return f"number {p.number}"
    if p.label is not None:
        return f"label {p.label}"
    return ""


def _partition(report: Report, p: Partition, entry: Path) -> None:
    if p.should_exist is False and (p.label is not None or p.type_guid or p.guid
                                    or p.start_mib is not None or p.size_mib is not None):
        report.add("error", "shouldExist specified false with other options also specified: a "
                   "partition to delete is matched by number only; remove label, typeGuid, guid, "
                   "startMiB and sizeMiB", entry)
    if not p.number and p.label is None:
        report.add("error", "a partition number >= 1 or a label must be specified: set number "
                   "or label", entry)
    if p.label is not None:
        if len(p.label) > MAX_LABEL:
            report.add("error", f"partition labels may not exceed {MAX_LABEL} characters: "
                       "shorten the label", entry + ("label",))
        if ":" in p.label:
            report.add("error", "partition label will be truncated to text before the colon: "
                       "remove ':' from the label", entry + ("label",))
    for field, value in (("guid", p.guid), ("typeGuid", p.type_guid)):
        if value is not None and not _GUID.match(value):
            report.add("error", "doesn't match the form \"01234567-89AB-CDEF-EDCB-A98765432101\": "
                       f"write {field} as 8-4-4-4-12 hex digits", entry + (field,))


def _across_partitions(report: Report, disk: Disk, entry: Path) -> None:
    parts = disk.partitions
    numbers: set[int] = set()
    labels: set[str] = set()
    ranges: list[tuple[int, int]] = []
    for j, p in enumerate(parts):
        pentry = entry + ("partitions", j)
        if p.number:
            if p.number in numbers:
                report.add("error", f"partition numbers collide: {p.number} is used twice; "
                           "give each partition its own number", pentry)
            numbers.add(p.number)
        if p.start_mib and p.size_mib is not None:  # start 0 or absent: placed by sgdisk, unknown here
            # Inclusive MiB ranges; a size of 0 (fill the free space) is known to cover
            # at least its first MiB, so it overlaps whatever holds that MiB.
            last = p.start_mib + p.size_mib - 1 if p.size_mib else p.start_mib
            if any(p.start_mib <= e and s <= last for s, e in ranges):
                report.add("error", "partitions overlap: fix startMiB/sizeMiB so the ranges are "
                           "disjoint", pentry)
            ranges.append((p.start_mib, last))
        if p.label:
            if p.label in labels:
                report.add("error", "cannot use the same partition label twice: give each "
                           "partition its own label", pentry)
            labels.add(p.label)
    flag_duplicates(report, ((partition_key(p), entry + ("partitions", j),
                              f"partition {partition_key(p) or 'without number or label'}")
                             for j, p in enumerate(parts)))
