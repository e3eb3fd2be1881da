"""Platform `gcp`: the instance attribute `user-data` from the GCP
metadata server. Addressed by IP, not metadata.google.internal, as Ignition
does, so a poisoned resolver cannot serve a config; the server answers only
requests carrying `Metadata-Flavor: Google`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from ignition.providers.metadata import LINK_LOCAL, UserDataProvider


class GcpProvider(UserDataProvider):
    name: ClassVar[str] = "gcp"
    what: ClassVar[str] = "the GCP metadata server"
    default_base: ClassVar[str] = LINK_LOCAL
    path: ClassVar[str] = "/computeMetadata/v1/instance/attributes/user-data"
    headers: ClassVar[Mapping[str, str]] = {"Metadata-Flavor": "Google"}
