"""Platform `ibmcloud` (IBM Cloud VPC): the user data on the NoCloud-style
config drive labelled `cidata`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from ignition.providers.configdrive import ConfigDriveProvider


class IbmCloudProvider(ConfigDriveProvider):
    name: ClassVar[str] = "ibmcloud"
    sources: ClassVar[Sequence[tuple[str, str]]] = (("cidata", "/user-data"),)
