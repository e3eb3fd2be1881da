"""Platforms `openstack` and `brightbox`: the user data from a config drive
(`config-2` / `CONFIG-2`, `/openstack/latest/user_data`) or from the metadata
service (`/openstack/latest/user_data`), whichever answers first, as Ignition
races them. A 404 from the service means the instance has no user data.

Ignition races the sources in goroutines and waits for ever; here one loop
checks for the drive, then asks the service once, then backs off, until
-fetch-timeout. In fetch-offline a drive that is already there is used, and
otherwise the network is asked for (Ignition always asks for it on these
platforms).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from ignition import redact
from ignition.context import ProviderContext
from ignition.errors import NeedsNetwork
from ignition.providers import configdrive
from ignition.providers.metadata import ATTEMPT_TIMEOUT, LINK_LOCAL, Response, attempt, base_url, user_data
from ignition.providers.waiting import Waiter

USER_DATA_PATH = "/openstack/latest/user_data"
DRIVES = (("config-2", USER_DATA_PATH), ("CONFIG-2", USER_DATA_PATH))


def drive_or_metadata(ctx: ProviderContext, drives: Sequence[tuple[str, str]],
                      url: Callable[[], str | None], what: str) -> bytes | None:
    """The file of the first drive of `drives` found, or the body of `url()`
    (None while the service's address is not known yet)."""
    labels = [label for label, _ in drives]
    waiter = Waiter(ctx, f"a config drive labelled {' or '.join(labels)} or {what}")
    while True:
        found = configdrive.first_drive(ctx, labels)
        if found is not None:
            label, device = found
            path = dict(drives)[label]
            with configdrive.mounted(ctx, device) as root:
                data = configdrive.read_file(root, path)
            if data is None:
                ctx.logger.info(f"config drive {label} has no {path}; no config provided")
            return data
        target = url()
        if ctx.fetcher.offline:
            shown = redact.url(target) if target else "the network"
            raise NeedsNetwork(f"resource requires networking: no config drive yet, {what} at {shown}")
        if target is None:
            reason = f"the address of {what} is not known yet"
        else:
            remaining = waiter.remaining()
            timeout = ATTEMPT_TIMEOUT if remaining is None else max(0.1, min(ATTEMPT_TIMEOUT, remaining))
            got = attempt("GET", target, {}, timeout)
            if isinstance(got, Response) and got.status < 500:
                return user_data(got, target, what, ctx)
            detail = f"HTTP {got.status}" if isinstance(got, Response) else got
            reason = f"GET {redact.url(target)}: {detail}"
        waiter.wait(reason)


class OpenStackProvider:
    name: ClassVar[str] = "openstack"
    what: ClassVar[str] = "the OpenStack metadata service"

    def fetch_config(self, ctx: ProviderContext) -> bytes | None:
        url = base_url(ctx, self.name, LINK_LOCAL) + USER_DATA_PATH
        return drive_or_metadata(ctx, DRIVES, lambda: url, self.what)


class BrightboxProvider(OpenStackProvider):
    name: ClassVar[str] = "brightbox"
    what: ClassVar[str] = "the Brightbox metadata service"
