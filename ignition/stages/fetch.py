"""Stage fetch: runs with the network up when fetch-offline found that the
config needs it. The acquisition itself is done by the engine (it is the same
for both fetch stages); the stage body has nothing left to do."""

from __future__ import annotations

from typing import ClassVar

from ignition.config.types import Config
from ignition.context import StageContext
from ignition.stages.base import ConfigSource


class FetchStage:
    name: ClassVar[str] = "fetch"
    config_source: ClassVar[ConfigSource] = "fetch"
    offline: ClassVar[bool] = False

    def applies(self, config: Config) -> bool:
        return False

    def run(self, ctx: StageContext) -> None:
        return None
