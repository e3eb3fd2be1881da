"""Platform `cloudstack`: the user data from a config drive (`config-2` /
`CONFIG-2`, `/cloudstack/userdata/user_data.txt`) or from the virtual router's
metadata service, whose address is the DHCP server of the lease
systemd-networkd got (`SERVER_ADDRESS=` in /run/systemd/netif/leases/*), at
`/latest/user-data`. The leases are read again on every attempt: the network
may still be coming up.
"""

from __future__ import annotations

import os
from typing import ClassVar

from ignition.context import ProviderContext
from ignition.providers.openstack import drive_or_metadata

DRIVES = (("config-2", "/cloudstack/userdata/user_data.txt"), ("CONFIG-2", "/cloudstack/userdata/user_data.txt"))
USER_DATA_PATH = "/latest/user-data"


def dhcp_server(leases_dir: str) -> str | None:
    """The first DHCP server address found in networkd's lease files."""
    try:
        names = sorted(os.listdir(leases_dir))
    except OSError:
        return None
    for name in names:
        try:
            with open(os.path.join(leases_dir, name), encoding="utf-8", errors="replace") as f:
                for line in f:
                    key, sep, value = line.strip().partition("=")
                    if sep and key == "SERVER_ADDRESS" and value:
                        return value
        except OSError:
            continue
    return None


class CloudStackProvider:
    name: ClassVar[str] = "cloudstack"

    def fetch_config(self, ctx: ProviderContext) -> bytes | None:
        override = ctx.env.metadata_url(self.name)

        def urls() -> list[str]:
            if override:
                return [override.rstrip("/") + USER_DATA_PATH]
            server = dhcp_server(ctx.env.networkd_leases_dir)
            if server is None:
                return []
            host = f"[{server}]" if ":" in server else server
            return [f"http://{host}{USER_DATA_PATH}"]

        return drive_or_metadata(ctx, DRIVES, urls, "the CloudStack metadata service")
