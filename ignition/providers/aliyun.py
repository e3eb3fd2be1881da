"""Platform `aliyun`: the instance's user data from the Alibaba Cloud
metadata service, which has its own address (100.100.100.200), not the
link-local one."""

from __future__ import annotations

from typing import ClassVar

from ignition.providers.metadata import UserDataProvider


class AliyunProvider(UserDataProvider):
    name: ClassVar[str] = "aliyun"
    what: ClassVar[str] = "the Alibaba Cloud metadata service"
    default_base: ClassVar[str] = "http://100.100.100.200"
    path: ClassVar[str] = "/latest/user-data"

