"""Platform `upcloud`: the server's user data from the UpCloud metadata service."""

from __future__ import annotations

from typing import ClassVar

from ignition.providers.metadata import LINK_LOCAL, UserDataProvider


class UpCloudProvider(UserDataProvider):
    name: ClassVar[str] = "upcloud"
    what: ClassVar[str] = "the UpCloud metadata service"
    default_base: ClassVar[str] = LINK_LOCAL
    path: ClassVar[str] = "/metadata/v1/user_data"

