"""Platforms `azure` and `azurestack`.

azure: the VM's userData from the instance metadata service (IMDS, header
`Metadata: true`, base64), retried also on 404, 410 and 429 as Ignition does
(IMDS answers those while the VM is still being set up). Without userData the
config is the OVF custom data: `CustomData.bin` on the provisioning CD-ROM
(UDF, with `ovf-env.xml`), waited for once per second.

azurestack: only the provisioning CD-ROM (UDF or ISO9660).

CD-ROMs are the `sr*` devices under /dev (IGNITION_DEV_DIR), mounted
read-only; with IGNITION_CONFIG_DRIVE_DIR its subdirectories stand in for the
mounted CD-ROMs. Unlike Ignition, an empty drive is found by a failed mount
rather than a CDROM_DRIVE_STATUS ioctl.
"""

from __future__ import annotations

import glob
import os
from typing import ClassVar

from ignition import redact
from ignition.context import ProviderContext
from ignition.errors import FetchError, NeedsNetwork
from ignition.providers import configdrive
from ignition.providers.metadata import LINK_LOCAL, base_url, decode_base64, request
from ignition.providers.waiting import Waiter

IMDS_PATH = "/metadata/instance/compute/userData?api-version=2021-01-01&format=text"
IMDS_RETRY_ON = (404, 410, 429)
OVF_ENV = "ovf-env.xml"
CUSTOM_DATA = "CustomData.bin"


def _cdroms(ctx: ProviderContext) -> list[str]:
    if ctx.env.config_drive_dir is not None:
        base = ctx.env.config_drive_dir
        try:
            return [os.path.join(base, n) for n in sorted(os.listdir(base))
                    if os.path.isdir(os.path.join(base, n))]
        except OSError:
            return []
    return sorted(glob.glob(os.path.join(glob.escape(ctx.env.dev_dir), "sr[0-9]*")))


def ovf_custom_data(ctx: ProviderContext, fstypes: str) -> bytes | None:
    """CustomData.bin of the provisioning CD-ROM; None when it has none."""
    waiter = Waiter(ctx, f"the Azure provisioning CD-ROM ({fstypes} with {OVF_ENV})", interval=1.0)
    while True:
        drives = _cdroms(ctx)
        reason = "no CD-ROM drive yet" if not drives else f"no {OVF_ENV} on {', '.join(drives)}"
        for device in drives:
            try:
                with configdrive.mounted(ctx, device, fstypes) as root:
                    if not os.path.exists(os.path.join(root, OVF_ENV)):
                        ctx.logger.debug(f"{device} has no {OVF_ENV}; not the provisioning CD-ROM")
                        continue
                    data = configdrive.read_file(root, CUSTOM_DATA)
            except FetchError as e:
                ctx.logger.debug(f"{device}: {e}")
                continue
            if data is None:
                ctx.logger.info(f"the provisioning CD-ROM {device} has no {CUSTOM_DATA}; no config provided")
            else:
                ctx.logger.info(f"read {len(data)} bytes of custom data from {device}")
            return data
        waiter.wait(reason)


class AzureProvider:
    name: ClassVar[str] = "azure"

    def fetch_config(self, ctx: ProviderContext) -> bytes | None:
        url = base_url(ctx, self.name, LINK_LOCAL) + IMDS_PATH
        shown = redact.url(url)
        try:
            resp = request(ctx, "GET", url, waiter=Waiter(ctx, f"the Azure instance metadata service ({shown})"),
                           headers={"Metadata": "true"}, retry_on=IMDS_RETRY_ON)
        except NeedsNetwork:
            raise
        except FetchError as e:
            ctx.logger.info(f"no userData from IMDS ({e}); trying the OVF custom data")
        else:
            if resp.status == 200 and resp.body.strip():
                ctx.logger.info("using the userData from the Azure instance metadata service")
                return decode_base64(resp.body, "the Azure instance metadata service")
            ctx.logger.info(f"IMDS has no userData ({shown}: HTTP {resp.status}, {len(resp.body)} bytes); "
                            "trying the OVF custom data")
        return ovf_custom_data(ctx, "udf")


class AzureStackProvider:
    name: ClassVar[str] = "azurestack"

    def fetch_config(self, ctx: ProviderContext) -> bytes | None:
        return ovf_custom_data(ctx, "udf,iso9660")
