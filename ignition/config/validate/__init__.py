"""Semantic validation of a parsed config, after the JSON-level checks: what Ignition's
`Validate` methods and its duplicate-key pass report (inventory §2.2).

`version` is the spec the user wrote, not the one the config was translated to: features that
came later (gs:// URLs in 3.2, arn: in 3.4, sha256 in 3.1, format none in 3.3) are errors in an
older config, as they are in Ignition, which validates before translating.
"""

from __future__ import annotations

from ignition.config.report import Report
from ignition.config.types import Config
from ignition.config.validate.disks import check_disks
from ignition.config.validate.luks import check_luks
from ignition.config.validate.passwd import check_kernel_arguments, check_passwd
from ignition.config.validate.paths import check_nodes
from ignition.config.validate.resources import check_ignition
from ignition.config.validate.storage import check_filesystems, check_nodes_attrs, check_raid
from ignition.config.validate.systemd import check_systemd

__all__ = ["validate"]


def validate(config: Config, version: str) -> Report:
    minor = int(version.split(".")[1])
    report = Report()
    check_ignition(report, config.ignition, minor)
    check_nodes(config, report)
    check_nodes_attrs(config, report, minor)
    check_disks(config.storage, report)
    check_filesystems(config.storage, report, minor)
    check_raid(config.storage, report)
    check_luks(config.storage, report, minor)
    check_systemd(config.systemd, report)
    check_passwd(config.passwd, report)
    check_kernel_arguments(config.kernel_arguments, report)
    return report
