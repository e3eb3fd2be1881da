"""Platform `hetzner`: the server's user data from the Hetzner Cloud metadata service."""

from __future__ import annotations

from typing import ClassVar

from ignition.providers.metadata import LINK_LOCAL, UserDataProvider


class HetznerProvider(UserDataProvider):
    name: ClassVar[str] = "hetzner"
    what: ClassVar[str] = "the Hetzner Cloud metadata service"
    default_base: ClassVar[str] = LINK_LOCAL
    path: ClassVar[str] = "/hetzner/v1/userdata"

