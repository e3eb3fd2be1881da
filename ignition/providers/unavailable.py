"""Platforms whose config source needs a mechanism this build does not have
(a hypervisor backdoor, a guest driver, a daemon's pool file, a spool reader,
an address family, a sysfs FIFO). Each fails with an error naming what is
missing rather than provisioning the machine without its config.
"""

from __future__ import annotations

from typing import ClassVar

from ignition.context import ProviderContext
from ignition.errors import FetchError


class UnavailableProvider:
    name: ClassVar[str]
    mechanism: ClassVar[str]

    def fetch_config(self, ctx: ProviderContext) -> bytes | None:
        raise FetchError(f"platform {self.name} needs {self.mechanism}, which is not available in this build; "
                         "pass the config with ignition.config.url on the kernel command line instead")


class VmwareProvider(UnavailableProvider):
    name: ClassVar[str] = "vmware"
    mechanism: ClassVar[str] = ("the VMware guestinfo RPC (backdoor) interface to read "
                                "guestinfo.ignition.config.data")


class VirtualBoxProvider(UnavailableProvider):
    name: ClassVar[str] = "virtualbox"
    mechanism: ClassVar[str] = "the VBoxGuest driver to read the guest property /Ignition/Config"


class HyperVProvider(UnavailableProvider):
    name: ClassVar[str] = "hyperv"
    mechanism: ClassVar[str] = "the Hyper-V KVP daemon pool (key ignition.config in pool 0)"


class ZvmProvider(UnavailableProvider):
    name: ClassVar[str] = "zvm"
    mechanism: ClassVar[str] = "the vmur spool reader for z/VM reader device 000c"


class AppleHVProvider(UnavailableProvider):
    name: ClassVar[str] = "applehv"
    mechanism: ClassVar[str] = "vsock (HTTP over AF_VSOCK to CID 2 port 1024)"


class NvidiaBlueFieldProvider(UnavailableProvider):
    name: ClassVar[str] = "nvidiabluefield"
    mechanism: ClassVar[str] = "the mlxbf_bootctl bootfifo (/sys/bus/platform/devices/MLNXBF04:00/bootfifo)"
