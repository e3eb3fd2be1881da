"""Config drives: a small filesystem (ISO9660 or vfat) attached to the VM and
found by its label (`config-2` for OpenStack-style drives, `cidata` for
NoCloud-style ones), mounted read-only in a temporary directory for as long
as it takes to read one file, as Ignition does (`mount -o ro -t auto`).

With IGNITION_CONFIG_DRIVE_DIR set, its subdirectories named like the labels
stand in for already mounted drives and nothing is mounted (tests, and
machines where something else mounted the drive).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from typing import ClassVar

from ignition import distro
from ignition.context import ProviderContext
from ignition.errors import CommandError, FetchError
from ignition.providers import body
from ignition.providers.waiting import Waiter, WaitTimeout

BY_LABEL = "disk/by-label"
POLL_INTERVAL = 1.0  # seconds, Ignition's


def drive_path(ctx: ProviderContext, label: str) -> str | None:
    """Where the drive labelled `label` is (a device, or a directory standing
    in for the mounted drive), if it is there yet."""
    if ctx.env.config_drive_dir is not None:
        stand_in = os.path.join(ctx.env.config_drive_dir, label)
        return stand_in if os.path.isdir(stand_in) else None
    device = os.path.join(ctx.env.dev_dir, BY_LABEL, label)
    return device if os.path.exists(device) else None


@contextlib.contextmanager
def mounted(ctx: ProviderContext, device: str, fstype: str = "auto") -> Iterator[str]:
    """`device` mounted read-only; yields the mount point."""
    if ctx.env.config_drive_dir is not None:
        yield device
        return
    mnt = tempfile.mkdtemp(prefix="ignition-configdrive-")
    try:
        # probe=True: a read-only mount of the drive in a private temporary
        # directory changes nothing on the target, so a dry run reads it too.
        try:
            ctx.run.run([distro.tool("mount"), "-o", "ro", "-t", fstype, device, mnt], probe=True)
        except CommandError as e:
            raise FetchError(f"mounting the config drive {device} read-only: {e}") from e
        try:
            yield mnt
        finally:
            ctx.run.run([distro.tool("umount"), mnt], probe=True, check=False)
    finally:
        with contextlib.suppress(OSError):
            os.rmdir(mnt)


def read_file(root: str, path: str) -> bytes | None:
    """The file `path` of a mounted drive; None when it has no such file."""
    full = os.path.join(root, path.lstrip("/"))
    try:
        with open(full, "rb") as f:
            return body.read_file(f, f"{path} on the config drive")
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        raise FetchError(f"reading {path} from the config drive: {e.strerror}") from e


def first_drive(ctx: ProviderContext, labels: Sequence[str]) -> tuple[str, str] | None:
    """(label, path) of the first of `labels` present now."""
    for label in labels:
        path = drive_path(ctx, label)
        if path is not None:
            ctx.logger.info(f"found config drive {label} at {path}")
            return label, path
    return None


def wait_for_drive(ctx: ProviderContext, labels: Sequence[str]) -> tuple[str, str] | None:
    """(label, path) of the first drive found, polling every second until
    -fetch-timeout; None when none appeared (logged; Ignition then goes on
    without a config)."""
    shown = " or ".join(labels)
    waiter = Waiter(ctx, f"a config drive labelled {shown}", interval=POLL_INTERVAL)
    while True:
        found = first_drive(ctx, labels)
        if found is not None:
            return found
        try:
            waiter.wait(f"no filesystem labelled {shown} yet")
        except WaitTimeout as e:
            ctx.logger.warning(f"{e}; continuing without a config")
            return None


class ConfigDriveProvider:
    """A platform whose config is one file of a config drive: `sources` maps
    each label to the file's path on that drive."""

    name: ClassVar[str]
    sources: ClassVar[Sequence[tuple[str, str]]]

    def fetch_config(self, ctx: ProviderContext) -> bytes | None:
        found = wait_for_drive(ctx, [label for label, _ in self.sources])
        if found is None:
            return None
        label, device = found
        with mounted(ctx, device) as root:
            return self.read(ctx, label, root)

    def read(self, ctx: ProviderContext, label: str, root: str) -> bytes | None:
        path = dict(self.sources)[label]
        data = read_file(root, path)
        if data is None:
            ctx.logger.info(f"config drive {label} has no {path}; no config provided")
        return data
