"""Files outside the target that the stages share, named by Ignition's flags."""

from __future__ import annotations

import os

from ignition.record import record


@record(kw_only=False, slots=False)
class Paths:
    """Files outside the target that stages share (Ignition's flags)."""

    config_cache: str = "/run/ignition.json"
    state_file: str = "/run/ignition/state"
    neednet: str = "/run/ignition/neednet"

    @property
    def run_dir(self) -> str:
        """Ignition's /run/ignition: the state file's directory (private, 0700)."""
        return os.path.dirname(os.path.abspath(self.state_file))

    @property
    def dev_aliases(self) -> str:
        """Where the disks stage keeps its stable device names (Ignition's dev_aliases)."""
        return os.path.join(self.run_dir, "dev_aliases")
