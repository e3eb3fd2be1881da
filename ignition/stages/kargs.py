"""Stage kargs: kernel arguments are the distribution's business (where the
bootloader config lives, how to reboot into it), so Ignition hands them to a
helper the distribution ships, `ignition-kargs-helper`. The helper reboots
the machine when it changed anything; the first boot then starts over."""

from __future__ import annotations

from typing import ClassVar

from ignition import distro
from ignition.config.types import Config
from ignition.context import StageContext
from ignition.errors import CommandError, StageError
from ignition.stages.base import ConfigSource


class KargsStage:
    name: ClassVar[str] = "kargs"
    config_source: ClassVar[ConfigSource] = "cache"
    offline: ClassVar[bool] = False

    def applies(self, config: Config) -> bool:
        ka = config.kernel_arguments
        return bool(ka.should_exist or ka.should_not_exist)

    def run(self, ctx: StageContext) -> None:
        helper = distro.tool("ignition-kargs-helper")
        if not ctx.machine.has_program(helper):
            raise StageError(
                "kernelArguments are not supported on this distribution: its helper "
                f"{helper} is not installed (a distribution provides it, or points "
                f"{distro.env_name('ignition-kargs-helper')} at its own); remove kernelArguments from the config"
            )
        ka = ctx.config.kernel_arguments
        argv = [helper]
        for arg in ka.should_exist:
            argv += ["--should-exist", arg]
        for arg in ka.should_not_exist:
            argv += ["--should-not-exist", arg]
        with ctx.logger.op("updating kernel arguments"):
            try:
                ctx.run.run(argv)
            except CommandError as e:
                raise StageError(f"updating kernel arguments: {e}") from e
