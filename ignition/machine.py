"""The machine the disks and mount stages look at.

Every question those stages ask about a device (where does this config path
lead, does it exist, what GPT is on it, what signature, is it in use, which
disk and number is this partition) goes through a Machine. `Machine` itself
is the running machine: each method does what the stages did inline before
(sysfs, ioctls, blkid), looked up in its module at call time so the tests
that replace those functions keep working.

`ignition-plan` hands the stages a planned machine instead (planner/machine.py),
built from image files and blank disks, so the same stage code plans a config
on a laptop without opening any device of it. A dry run also tells the machine
what the disks stage decided (`partitioned`, `formatted`, `created`); the running
machine ignores that, a planned one answers later questions from it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ignition.config.types import Filesystem
    from ignition.context import StageContext
    from ignition.run import Runner
    from ignition.stages.disks.model import DiskPlan, DiskState, FsInfo, FsPlan


class Machine:
    """The running machine (the default of every StageContext)."""

    # A planned machine knows what each device holds after the disks stage's
    # own steps; the running one can only say so once they are done.
    predicts: bool = False

    def wait_for_node(self, path: str, timeout: float) -> str:
        """The node `path` leads to, once it exists; StageError when it does not come."""
        from ignition.stages.disks import aliases

        return aliases.wait_for_node(path, timeout)

    def realpath(self, path: str) -> str:
        return os.path.realpath(path)

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def read_disk(self, node: str) -> DiskState:
        """Sector size, length and GPT of the disk `node` (read-only); OSError if unreadable."""
        from ignition.stages.disks import gpt

        return gpt.read_disk(node)

    def probe_filesystem(self, run: Runner, node: str) -> FsInfo:
        """The signature on `node`, as blkid's low-level probe sees it."""
        from ignition.stages.disks import probe

        return probe.probe_filesystem(run, node)

    def in_use(self, node: str) -> str:
        """Why the block device `node` is mounted, swap or held, or ""."""
        from ignition.stages.disks import busy

        return busy.in_use(os.path.basename(os.path.realpath(node)))

    def kernel_partitions(self, disk: str) -> dict[int, str]:
        """Partition number -> kernel node name of the disk `disk`."""
        from ignition.stages.disks import udev

        return udev.kernel_partitions(disk)

    def partition_of(self, device: str) -> tuple[str, int] | None:
        """(disk node, partition number) when `device` is a partition, else None."""
        from ignition.stages.disks import udev

        name = os.path.basename(os.path.realpath(device))
        sys_dir = os.path.realpath(os.path.join(udev.SYS_BLOCK, name))
        try:
            with open(os.path.join(sys_dir, "partition"), encoding="ascii") as f:
                number = int(f.read().strip())
        except (OSError, ValueError):
            return None
        return "/dev/" + os.path.basename(os.path.dirname(sys_dir)), number

    def luks_header(self, run: Runner, node: str) -> str:
        """Where cryptsetup reads the LUKS header of `node` (isLuks, luksUUID, luksDump): the device itself."""
        return node

    def luks_uuid(self, run: Runner, device: str) -> str:
        """The UUID of the LUKS volume on `device`; CommandError if cryptsetup cannot read it."""
        from ignition import distro

        res = run.run([distro.tool("cryptsetup"), "luksUUID", os.path.realpath(device)], probe=True)
        return res.stdout.decode("ascii", "replace").strip()

    def has_program(self, name: str) -> bool:
        """Whether the initramfs has the program `name` (a distribution's helper)."""
        import shutil

        return shutil.which(name) is not None

    def require_md(self, run: Runner) -> None:
        """The kernel's md driver, before any disk is written."""
        from ignition.stages.disks import raid

        raid.require_md(run)

    def require_dm(self, ctx: StageContext) -> None:
        """The kernel's device-mapper (dm_crypt), before any disk is written."""
        from ignition.stages.disks import luks

        luks.require_dm(ctx)

    # What a dry run of the disks stage decided. The running machine does not
    # change in a dry run, so it keeps nothing.
    def partitioned(self, plans: list[DiskPlan]) -> None:
        """The partition tables the stage would write."""

    def formatted(self, device: str, fs: Filesystem, plan: FsPlan) -> None:
        """What the stage would do with the filesystem entry on `device`."""

    def created(self, path: str, kind: str, members: tuple[str, ...]) -> None:
        """A device the stage would make: a RAID array or an opened LUKS volume (`kind` "raid"/"luks")."""


HOST = Machine()
