"""Platform `proxmoxve`: the NoCloud config drive `cidata` that Proxmox VE
attaches. Its `/user-data` is often a cloud-config for cloud-init rather than
an Ignition config; as Ignition does, a file starting with `#cloud-config` or
that is not JSON is skipped and `/vendor-data` is tried next."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import ClassVar

from ignition.context import ProviderContext
from ignition.providers.configdrive import ConfigDriveProvider, read_file

CLOUD_CONFIG_HEADER = b"#cloud-config\n"
PATHS = ("/user-data", "/vendor-data")


def _is_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return False
    return True


class ProxmoxVEProvider(ConfigDriveProvider):
    name: ClassVar[str] = "proxmoxve"
    sources: ClassVar[Sequence[tuple[str, str]]] = (("cidata", "/user-data"),)

    def read(self, ctx: ProviderContext, label: str, root: str) -> bytes | None:
        for path in PATHS:
            data = read_file(root, path)
            if data is None:
                continue
            if data.startswith(CLOUD_CONFIG_HEADER):
                ctx.logger.info(f"{path} on the cidata drive is a cloud-config, not an Ignition config; skipped")
                continue
            if _is_json(data):
                ctx.logger.info(f"using {path} from the cidata drive")
                return data
            ctx.logger.info(f"{path} on the cidata drive is not JSON; skipped")
        ctx.logger.info("the cidata drive holds no Ignition config; no config provided")
        return None
