"""A partition table in memory that places partitions the way sgdisk does.

Go Ignition resolves "start 0" / "size 0" / "number 0" by running
`sgdisk --pretend` and commits with sgdisk; the rules are reproduced here so a
plan computed without touching the disk lands on the same sectors:
- number 0: the lowest free entry number;
- start 0: the first sector of the largest free block (the first of equal
  ones), aligned; an explicit start is aligned too (earlier if that stays free,
  else later);
- size 0: up to the last sector of the free block holding the *default* start;
- alignment: 1 MiB, halved while an existing partition is not aligned to it
  (never below 8 sectors).
"""

from __future__ import annotations

from dataclasses import replace

from ignition.errors import StageError
from ignition.record import record
from ignition.stages.disks.model import MIB, PartInfo

MAX_ENTRIES = 128
LINUX_DATA = "0fc63daf-8483-4772-8e79-3d69d8477de4"


class PlanError(StageError):
    """The config cannot be applied to the disk as it is; nothing was written."""


@record(kw_only=False, frozen=False, slots=False)
class Layout:
    """A disk's usable sectors and partitions while new partitions are placed."""

    first: int
    last: int
    sector_size: int
    parts: dict[int, PartInfo]

    def alignment(self) -> int:
        align = max(MIB // self.sector_size, 1)
        for p in self.parts.values():
            while align > 8 and p.start % align:
                align //= 2
        return align

    def is_free(self, sector: int) -> bool:
        if not self.first <= sector <= self.last:
            return False
        return not any(p.start <= sector <= p.end for p in self.parts.values())

    def free_blocks(self) -> list[tuple[int, int]]:
        blocks = []
        cur = self.first
        for p in sorted(self.parts.values(), key=lambda p: p.start):
            if p.start > cur:
                blocks.append((cur, min(p.start - 1, self.last)))
            cur = max(cur, p.end + 1)
        if cur <= self.last:
            blocks.append((cur, self.last))
        return blocks

    def last_in_free(self, sector: int) -> int:
        for a, b in self.free_blocks():
            if a <= sector <= b:
                return b
        return 0

    def align(self, sector: int) -> int:
        align = self.alignment()
        if sector % align == 0:
            return sector
        earlier = sector // align * align
        if earlier >= self.first and all(self.is_free(s) for s in _span(earlier, sector)):
            return earlier
        later = earlier + align
        if later <= self.last and all(self.is_free(s) for s in _span(sector, later + 1)):
            return later
        return sector

    def default_start(self) -> int:
        blocks = self.free_blocks()
        if not blocks:
            return 0
        best = blocks[0]
        for blk in blocks[1:]:
            if blk[1] - blk[0] > best[1] - best[0]:
                best = blk
        return self.align(best[0])

    def free_number(self) -> int:
        for n in range(1, MAX_ENTRIES + 1):
            if n not in self.parts:
                return n
        raise PlanError("the partition table has no free entry left (128 used)")

    def create(self, want: PartInfo, start: int | None, size: int | None, what: str) -> PartInfo:
        """Place `want` (its number may be 0) like `sgdisk --new=N:start:+size`."""
        number = want.number or self.free_number()
        if number in self.parts:
            raise PlanError(f"{what}: partition {number} already exists")
        low = self.default_start()
        high = self.last_in_free(low) if low else 0
        first = self.align(start) if start else low
        last = first + size - 1 if size else high
        if not first or not self.is_free(first) or last < first or self.last_in_free(first) < last:
            raise PlanError(self._why(number, first, last, what))
        part = replace(want, number=number, start=first, size=last - first + 1)
        self.parts[number] = part
        return part

    def _why(self, number: int, first: int, last: int, what: str) -> str:
        mib = MIB // self.sector_size
        where = f"partition {number} ({_mib(first, mib)} to {_mib(last + 1, mib)})"
        if not self.free_blocks():
            return f"{what}: {where} does not fit: the disk has no free space left"
        if first and (first < self.first or last > self.last):
            return (f"{what}: {where} does not fit on the disk (usable sectors {self.first}..{self.last}); "
                    "make sizeMiB or startMiB smaller")
        for p in sorted(self.parts.values(), key=lambda p: p.start):
            if p.start <= last and first <= p.end:
                return (f"{what}: {where} overlaps partition {p.number} (sectors {p.start}..{p.end}); "
                        "change startMiB/sizeMiB or delete that partition")
        return f"{what}: {where} does not fit in the free space; make sizeMiB smaller"


def _span(a: int, b: int) -> range:
    return range(a, b)


def _mib(sectors: int, per_mib: int) -> str:
    return f"{sectors / per_mib:g} MiB"
