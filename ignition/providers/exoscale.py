"""Platform `exoscale`: the instance's user data from the Exoscale metadata service."""

from __future__ import annotations

from typing import ClassVar

from ignition.providers.metadata import LINK_LOCAL, UserDataProvider


class ExoscaleProvider(UserDataProvider):
    name: ClassVar[str] = "exoscale"
    what: ClassVar[str] = "the Exoscale metadata service"
    default_base: ClassVar[str] = LINK_LOCAL
    path: ClassVar[str] = "/1.0/user-data"

