"""Where things are on the machine, with Ignition's environment overrides.

Tests and developers point these elsewhere; in the initramfs the defaults
apply. `IGNITION_*` names that Ignition itself reads keep its meaning.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from ignition.record import record

FW_CFG_CONFIG = "/sys/firmware/qemu_fw_cfg/by_name/opt/com.coreos/config"
METADATA_URL_PREFIX = "IGNITION_METADATA_URL_"


@record(kw_only=False, slots=False)
class Environment:
    """Where the machine's inputs are: paths and URLs, overridable by IGNITION_* variables."""

    cmdline_path: str = "/proc/cmdline"  # IGNITION_KERNEL_CMDLINE_PATH
    config_file: str = "config.ign"  # IGNITION_CONFIG_FILE, the file platform's config
    system_config_dir: str = "/usr/lib/ignition"  # IGNITION_SYSTEM_CONFIG_DIR
    system_local_config_dir: str = "/etc/ignition"  # IGNITION_SYSTEM_LOCAL_CONFIG_DIR
    system_runtime_config_dir: str = "/run/ignition"  # IGNITION_SYSTEM_RUNTIME_CONFIG_DIR
    fw_cfg_dir: str = FW_CFG_CONFIG  # IGNITION_QEMU_FW_CFG_DIR (ours, for tests)
    boot_id_path: str = "/proc/sys/kernel/random/boot_id"
    # Ours, for tests and unusual clouds: a provider's metadata base URL,
    # IGNITION_METADATA_URL_<PLATFORM> (e.g. _AWS=http://127.0.0.1:8080), as (platform, url) pairs.
    metadata_urls: tuple[tuple[str, str], ...] = ()
    # Ours: a directory whose subdirectories stand in for mounted config drives,
    # one per filesystem label (config-2, cidata, ...); no mount is done then.
    config_drive_dir: str | None = None  # IGNITION_CONFIG_DRIVE_DIR
    dev_dir: str = "/dev"  # IGNITION_DEV_DIR (ours): where disk/by-label and the CD-ROMs sr* are
    networkd_leases_dir: str = "/run/systemd/netif/leases"  # IGNITION_NETWORKD_LEASES_DIR (ours)
    # IGNITION_WRITE_AUTHORIZED_KEYS_FRAGMENT, a distro's choice as in Ignition: "true"/"1" writes
    # SSH keys to ~/.ssh/authorized_keys.d/ignition, "false"/"0" to ~/.ssh/authorized_keys.
    authorized_keys_fragment: str = "true"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Environment:
        env = os.environ if environ is None else environ
        d = cls()
        return cls(
            cmdline_path=env.get("IGNITION_KERNEL_CMDLINE_PATH", d.cmdline_path),
            config_file=env.get("IGNITION_CONFIG_FILE", d.config_file),
            system_config_dir=env.get("IGNITION_SYSTEM_CONFIG_DIR", d.system_config_dir),
            system_local_config_dir=env.get("IGNITION_SYSTEM_LOCAL_CONFIG_DIR", d.system_local_config_dir),
            system_runtime_config_dir=env.get(
                "IGNITION_SYSTEM_RUNTIME_CONFIG_DIR", d.system_runtime_config_dir
            ),
            fw_cfg_dir=env.get("IGNITION_QEMU_FW_CFG_DIR", d.fw_cfg_dir),
            metadata_urls=tuple(sorted(
                (k[len(METADATA_URL_PREFIX):].lower().replace("_", "-"), v)
                for k, v in env.items() if k.startswith(METADATA_URL_PREFIX) and v
            )),
            config_drive_dir=env.get("IGNITION_CONFIG_DRIVE_DIR") or None,
            dev_dir=env.get("IGNITION_DEV_DIR", d.dev_dir),
            networkd_leases_dir=env.get("IGNITION_NETWORKD_LEASES_DIR", d.networkd_leases_dir),
            # Ignition treats an empty value as unset.
            authorized_keys_fragment=env.get("IGNITION_WRITE_AUTHORIZED_KEYS_FRAGMENT") or d.authorized_keys_fragment,
        )

    def metadata_url(self, platform: str) -> str | None:
        """The overridden metadata base URL of `platform`, if any."""
        for name, url in self.metadata_urls:
            if name == platform:
                return url
        return None

    @property
    def system_dirs(self) -> tuple[str, str, str]:
        """The three system config dirs, highest priority first."""
        return (self.system_runtime_config_dir, self.system_local_config_dir, self.system_config_dir)
