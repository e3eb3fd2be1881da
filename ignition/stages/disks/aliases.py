"""Stable names for the devices a config names, as Ignition's
/run/ignition/dev_aliases.

A config usually names devices by udev links (/dev/disk/by-label/..., by-id,
by-partlabel). udev removes and recreates those links whenever it processes an
event for the device, and writing a partition table or a filesystem causes
exactly such events. So each config path is resolved once, when the stage first
needs it, and every later command is given `<run dir>/dev_aliases/<config path>`,
a symlink to the node found then: a link that moves or briefly vanishes in the
middle of the stage cannot send a write elsewhere.

A device the stage itself makes (a partition, an array, an opened LUKS volume)
is first needed after the step that makes it, so it is resolved only then.
A dry run resolves the same way and creates nothing.
"""

from __future__ import annotations

import contextlib
import os
import time

from ignition.errors import StageError
from ignition.machine import HOST, Machine

POLL = 0.01  # seconds between looks while a device has not appeared yet


def wait_for_node(path: str, timeout: float = 30.0) -> str:
    """The node `path` leads to, once it exists (links followed)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return os.path.realpath(path, strict=True)
        except OSError:
            pass
        if time.monotonic() > deadline:
            if timeout <= 0:
                raise StageError(f"{path} does not exist")
            raise StageError(f"timed out after {timeout:g}s waiting for {path} to appear")
        time.sleep(POLL)


def alias_path(directory: str, device: str) -> str:
    """Where the alias of `device` lives. normpath of an absolute path cannot
    climb above "/", so the alias stays inside `directory`."""
    return os.path.join(directory, os.path.normpath("/" + device).lstrip("/"))


class DeviceAliases:
    """Config device path -> its alias, made on first use within one run."""

    def __init__(self, directory: str, dry_run: bool = False, machine: Machine = HOST) -> None:
        self.directory = directory
        self.dry_run = dry_run
        self.machine = machine
        self._made: dict[str, str] = {}

    def known(self, device: str) -> bool:
        return device in self._made

    def get(self, device: str, timeout: float = 30.0) -> str:
        """The alias of `device`, resolving it now if this run has not yet.
        In a dry run: the resolved node itself."""
        if device in self._made:
            return self._made[device]
        # A dry run looks, it does not wait: on a developer's machine the
        # config's devices are usually not there at all.
        node = self.machine.wait_for_node(device, 0.0 if self.dry_run else timeout)
        if self.dry_run:
            self._made[device] = node
            return node
        alias = alias_path(self.directory, device)
        try:
            parent = os.path.dirname(self.directory)
            os.makedirs(parent, mode=0o700, exist_ok=True)  # the run dir, private like the state file
            os.makedirs(os.path.dirname(alias), mode=0o750, exist_ok=True)
            # An alias left by an earlier run may point elsewhere: replace it.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(alias)
            os.symlink(node, alias)
        except OSError as e:
            raise StageError(f"creating the device alias {alias} for {device}: {e.strerror or e}") from e
        self._made[device] = alias
        return alias

    def node(self, device: str) -> str:
        """The kernel node behind the alias of `device` (for sysfs lookups)."""
        return self.machine.realpath(self.get(device))
