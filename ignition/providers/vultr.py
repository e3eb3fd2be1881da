"""Platform `vultr`: the instance's user data from the Vultr metadata service."""

from __future__ import annotations

from typing import ClassVar

from ignition.providers.metadata import LINK_LOCAL, UserDataProvider


class VultrProvider(UserDataProvider):
    name: ClassVar[str] = "vultr"
    what: ClassVar[str] = "the Vultr metadata service"
    default_base: ClassVar[str] = LINK_LOCAL
    path: ClassVar[str] = "/user-data/user-data"

