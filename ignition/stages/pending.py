"""Stages registered under Ignition's names whose work is still to come."""

from __future__ import annotations

from typing import ClassVar

from ignition.config.types import Config
from ignition.stages.base import PendingStage


class DisksStage(PendingStage):
    name: ClassVar[str] = "disks"
    issue: ClassVar[str] = "partitions, RAID, LUKS and filesystems"

    def applies(self, config: Config) -> bool:
        # As Ignition, the stage has nothing to do without any of these; with
        # any of them it must not pretend to have done it.
        s = config.storage
        return bool(s.disks or s.raid or s.luks or s.filesystems)
