"""Stages registered under Ignition's names whose work is still to come."""

from __future__ import annotations

from typing import ClassVar

from ignition.stages.base import PendingStage


class KargsStage(PendingStage):
    name: ClassVar[str] = "kargs"
    issue: ClassVar[str] = "kernel arguments"


class DisksStage(PendingStage):
    name: ClassVar[str] = "disks"
    issue: ClassVar[str] = "partitions, RAID, LUKS and filesystems"


class MountStage(PendingStage):
    name: ClassVar[str] = "mount"
    issue: ClassVar[str] = "mounting the config's filesystems"


class UmountStage(PendingStage):
    name: ClassVar[str] = "umount"
    issue: ClassVar[str] = "unmounting the config's filesystems"
