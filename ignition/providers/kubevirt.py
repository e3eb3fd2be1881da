"""Platform `kubevirt`: whichever config drive KubeVirt attached, NoCloud
(`cidata`, `/user-data`) or OpenStack-style (`config-2`,
`/openstack/latest/user_data`); Ignition races the two, the first found wins."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from ignition.providers.configdrive import ConfigDriveProvider


class KubeVirtProvider(ConfigDriveProvider):
    name: ClassVar[str] = "kubevirt"
    sources: ClassVar[Sequence[tuple[str, str]]] = (
        ("cidata", "/user-data"),
        ("config-2", "/openstack/latest/user_data"),
    )
