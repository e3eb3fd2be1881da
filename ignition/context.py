"""What a stage or provider is handed. Frozen: the only mutable part is the
state, which the engine saves after a successful stage."""

from __future__ import annotations

from dataclasses import field
from typing import TYPE_CHECKING

from ignition.machine import HOST, Machine
from ignition.paths import Paths
from ignition.record import record

# Only for the annotations: a stage imports what it uses, and the start-up of
# one that uses little (kargs, umount) stays small.
if TYPE_CHECKING:
    from ignition.config.types import Config
    from ignition.environment import Environment
    from ignition.log import Logger
    from ignition.plan import Plan
    from ignition.resources.fetcher import Fetcher
    from ignition.run import Runner
    from ignition.state import State
    from ignition.sysroot import Sysroot

__all__ = ["Paths", "ProviderContext", "StageContext"]


@record(kw_only=False, slots=False)
class ProviderContext:
    """What a provider needs to find the machine's config; there is no config
    yet at that point."""

    platform: str
    logger: Logger
    run: Runner
    fetcher: Fetcher
    env: Environment
    fetch_timeout: float  # seconds, Ignition's -fetch-timeout
    dry_run: bool = False


@record(kw_only=False, slots=False)
class StageContext:
    """What a stage works with: the config, the target root, the runner, the fetcher, the state and the log."""

    config: Config
    root: Sysroot
    run: Runner
    fetcher: Fetcher
    state: State
    platform: str
    logger: Logger
    env: Environment
    paths: Paths
    dry_run: bool = False
    plan: Plan | None = None  # set in a dry run
    # Where device look-ups go: the running machine, or a described one (ignition-plan).
    machine: Machine = field(default=HOST)

    def write_host_file(self, path: str, data: bytes, mode: int) -> None:
        """Write a file outside the target (flags under /run); planned in a dry run."""
        if self.plan is not None:
            self.plan.add("write", path, type="host file", mode=f"{mode:04o}", size=len(data))
            return
        from ignition.state import write_private

        write_private(path, data, mode)
