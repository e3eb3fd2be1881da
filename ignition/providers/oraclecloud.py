"""Platform `oraclecloud`: the instance metadata `user_data` from the
Oracle Cloud instance metadata service v2 (which requires
`Authorization: Bearer Oracle`), base64-encoded as OCI stores it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from ignition.providers.metadata import LINK_LOCAL, UserDataProvider


class OracleCloudProvider(UserDataProvider):
    name: ClassVar[str] = "oraclecloud"
    what: ClassVar[str] = "the Oracle Cloud instance metadata service"
    default_base: ClassVar[str] = LINK_LOCAL
    path: ClassVar[str] = "/opc/v2/instance/metadata/user_data"
    headers: ClassVar[Mapping[str, str]] = {"Authorization": "Bearer Oracle"}
    base64: ClassVar[bool] = True
