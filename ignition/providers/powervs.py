"""Platform `powervs` (IBM Power Virtual Server): the user data on the
OpenStack-style config drive labelled `config-2`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from ignition.providers.configdrive import ConfigDriveProvider


class PowerVSProvider(ConfigDriveProvider):
    name: ClassVar[str] = "powervs"
    sources: ClassVar[Sequence[tuple[str, str]]] = (("config-2", "/openstack/latest/user_data"),)
