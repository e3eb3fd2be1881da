"""Platform `packet`: Equinix Metal (formerly Packet): the server's user data from
its metadata service, fetched with `Accept: */*` as Ignition does.

Not done: Ignition's Status hook, which after every stage reads
`phone_home_url` from `/metadata` and POSTs the stage's state there; the
provider protocol of this build has no status hook yet."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from ignition.providers.metadata import UserDataProvider


class PacketProvider(UserDataProvider):
    name: ClassVar[str] = "packet"
    what: ClassVar[str] = "the Equinix Metal metadata service"
    default_base: ClassVar[str] = "https://metadata.packet.net"
    path: ClassVar[str] = "/userdata"
    headers: ClassVar[Mapping[str, str]] = {"Accept": "*/*"}
