"""What the described machine holds: its devices (disks, partitions, arrays,
opened volumes) and what the disks stage decided about them."""

from __future__ import annotations

from ignition.planner.sources import SECTOR
from ignition.record import record
from ignition.stages.disks.model import FsInfo, FsPlan


@record(kw_only=False, frozen=False, slots=False)
class Device:
    """Something with contents: a disk, a partition, an array, an opened volume."""

    node: str
    size: int  # bytes (0: not known)
    image: str | None = None  # the file holding its bytes (None: blank)
    offset: int = 0
    fs: FsInfo | None = None  # what the disks stage made or wiped here (None: read the bytes)
    sector: int = SECTOR  # logical sector size in bytes
    disk: str = ""  # for a partition: its disk's node
    number: int = 0
    label: str = ""  # partition label
    guid: str = ""  # partition unique GUID ("" when chosen at boot)
    type_guid: str = ""  # partition type GUID


@record(kw_only=False, slots=False)
class Made:
    """A device the disks stage would make: a RAID array or an opened LUKS volume."""

    path: str
    kind: str  # "raid" or "luks"
    members: tuple[str, ...]
    found: tuple[FsInfo, ...]  # what was on each member before
    reused: bool = False  # an existing LUKS volume opened as it is: what it holds is not known


@record(kw_only=False, slots=False)
class Formatted:
    """One filesystem decision of the disks stage, with what was found."""

    device: str  # resolved node
    config_device: str
    plan: FsPlan
    label: str | None
    uuid: str | None


def partition_node(disk: str, number: int) -> str:
    """The kernel's naming: vda -> vda1, nvme0n1 / loop0 -> nvme0n1p1 / loop0p1;
    a by-id name -> its -partN link."""
    if disk.startswith("/dev/disk/"):
        return f"{disk}-part{number}"
    return f"{disk}p{number}" if disk[-1:].isdigit() else f"{disk}{number}"
