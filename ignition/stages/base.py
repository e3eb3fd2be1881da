"""The stage contract.

`config_source` says where the engine gets the config before `run`: "fetch"
stages acquire it (kernel command line, system user.ign, the platform) and
write the cache; "cache" stages read the cache the fetch stages wrote.
Logic lives in plain functions taking the context; stages hold no state.
"""

from __future__ import annotations

from typing import ClassVar, Literal, Protocol

from ignition.config.types import Config
from ignition.context import StageContext
from ignition.errors import NotImplementedStageError

ConfigSource = Literal["fetch", "cache"]


class Stage(Protocol):
    name: ClassVar[str]
    config_source: ClassVar[ConfigSource]
    # fetch stages only: run without the network (fetch-offline)
    offline: ClassVar[bool]

    def applies(self, config: Config) -> bool: ...

    def run(self, ctx: StageContext) -> None: ...


class PendingStage:
    """A stage registered under its Ignition name whose implementation has not
    landed yet. It fails loudly: a provisioner that silently skips a stage
    would boot a machine that is not what its config says."""

    name: ClassVar[str] = ""
    config_source: ClassVar[ConfigSource] = "cache"
    offline: ClassVar[bool] = False
    issue: ClassVar[str] = ""

    def applies(self, config: Config) -> bool:
        return True

    def run(self, ctx: StageContext) -> None:
        raise NotImplementedStageError(
            f"the {self.name} stage is not implemented in this build yet ({self.issue}); "
            "this machine cannot be provisioned by it"
        )
