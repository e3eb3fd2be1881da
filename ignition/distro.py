"""Names of the programs the stages call.

Ignition fixes these at link time so a distro can point them elsewhere; here
each can be overridden by an environment variable `IGNITION_TOOL_<NAME>` (name
upper-cased, `.` and `-` as `_`), e.g. `IGNITION_TOOL_MKFS_EXT4=/usr/sbin/mkfs.ext4`.
"""

from __future__ import annotations

import os

DEFAULTS: dict[str, str] = {
    name: name
    for name in (
        "blkid", "cryptsetup", "clevis", "debugfs", "dmsetup", "groupadd", "groupdel", "groupmod",
        "ignition-kargs-helper", "lsblk", "mdadm", "mkfs.btrfs", "mkfs.ext4", "mkfs.fat",
        "mkfs.xfs", "mkswap", "modprobe", "mount", "partx", "setfiles", "sfdisk",
        "systemctl", "udevadm", "umount", "useradd", "userdel", "usermod", "wipefs",
    )
}


def env_name(tool: str) -> str:
    return "IGNITION_TOOL_" + tool.upper().replace(".", "_").replace("-", "_")


def tool(name: str) -> str:
    """The program to run for `name`, after the distro's override."""
    if name not in DEFAULTS:
        raise KeyError(f"unknown tool {name!r}: add it to ignition.distro.DEFAULTS")
    return os.environ.get(env_name(name), DEFAULTS[name])
