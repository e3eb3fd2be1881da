"""Platform `digitalocean`: the droplet's user data from its metadata service."""

from __future__ import annotations

from typing import ClassVar

from ignition.providers.metadata import LINK_LOCAL, UserDataProvider


class DigitalOceanProvider(UserDataProvider):
    name: ClassVar[str] = "digitalocean"
    what: ClassVar[str] = "the DigitalOcean metadata service"
    default_base: ClassVar[str] = LINK_LOCAL
    path: ClassVar[str] = "/metadata/v1/user-data"

