"""Stage files: where the machine gets its identity.

In Ignition's order: users and groups (files may be owned by them), files,
directories and links, then units, dropins and presets, then the result
file, then one SELinux relabel of everything written.
"""

from __future__ import annotations

from typing import ClassVar

from ignition.config.types import Config
from ignition.context import StageContext
from ignition.stages.base import ConfigSource
from ignition.stages.files.crypttab import apply_crypttab
from ignition.stages.files.nodes import apply_nodes
from ignition.stages.files.passwd import apply_passwd
from ignition.stages.files.result import RESULT_PATH, write_result
from ignition.stages.files.selinux import relabel
from ignition.stages.files.units import apply_units


class FilesStage:
    name: ClassVar[str] = "files"
    config_source: ClassVar[ConfigSource] = "cache"
    offline: ClassVar[bool] = False

    def applies(self, config: Config) -> bool:
        return True  # the result file is written for every config

    def run(self, ctx: StageContext) -> None:
        paths = apply_passwd(ctx)
        paths += apply_nodes(ctx)
        paths += apply_crypttab(ctx)
        paths += apply_units(ctx)
        write_result(ctx)
        paths.append(RESULT_PATH)
        relabel(ctx, paths)
        with ctx.logger.op("syncing what was written to disk"):
            ctx.root.sync()
