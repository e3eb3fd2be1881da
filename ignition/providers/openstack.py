"""Platforms `openstack` and `brightbox`: the user data from a config drive
(`config-2` / `CONFIG-2`, `/openstack/latest/user_data`) or from the metadata
service (`/openstack/latest/user_data`), whichever answers first, as Ignition
races them. A 404 from the service means the instance has no user data.

The service is asked at its IPv4 address 169.254.169.254 and, on single-stack
IPv6 clouds, at fe80::a9fe:a9fe scoped to the first interface that is up, not a
loopback and has an IPv6 address (the address and the choice of interface are
Ignition's, internal/providers/openstack). Both are asked at once and the
first answer wins. Ignition's own history varies here (one version raced the
two, the current one asks IPv6 only after IPv4 has failed for good, which on
an IPv6-only cloud can take as long as the IPv4 retries last); racing answers
as soon as either address does. `IGNITION_METADATA_URL_<PLATFORM>` and
`IGNITION_METADATA_URL_<PLATFORM>_IPV6` replace the two addresses; when either
is set, only the ones set are asked (tests point them at 127.0.0.1 and [::1]).

Ignition races the sources in goroutines and waits for ever; here one loop
checks for the drive, then asks the service once (at both addresses), then
backs off, until -fetch-timeout. In fetch-offline a drive that is already
there is used, and otherwise the network is asked for (Ignition always asks
for it on these platforms).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import ClassVar

from ignition import redact
from ignition.context import ProviderContext
from ignition.errors import NeedsNetwork
from ignition.providers import configdrive
from ignition.providers.metadata import ATTEMPT_TIMEOUT, LINK_LOCAL, race, user_data
from ignition.providers.waiting import Waiter

USER_DATA_PATH = "/openstack/latest/user_data"
DRIVES = (("config-2", USER_DATA_PATH), ("CONFIG-2", USER_DATA_PATH))
LINK_LOCAL_V6 = "fe80::a9fe:a9fe"  # Ignition's metadataServiceUrlIPv6 host
IF_INET6 = "/proc/net/if_inet6"
SYS_CLASS_NET = "/sys/class/net"
IFF_UP, IFF_LOOPBACK = 0x1, 0x8


def ipv6_interface(if_inet6: str = IF_INET6, sys_class_net: str = SYS_CLASS_NET) -> str | None:
    """The first interface (by index, as Go lists them) that is up, not a
    loopback and has an IPv6 address; None if there is none (yet)."""
    try:
        with open(if_inet6) as f:
            rows = [line.split() for line in f]
    except OSError:
        return None
    candidates = sorted({(int(r[1], 16), r[5]) for r in rows if len(r) >= 6})
    for _, name in candidates:
        try:
            with open(os.path.join(sys_class_net, name, "flags")) as f:
                flags = int(f.read().strip(), 16)
        except (OSError, ValueError):
            continue
        if flags & IFF_UP and not flags & IFF_LOOPBACK:
            return name
    return None


def metadata_urls(ctx: ProviderContext, platform: str, path: str) -> list[str]:
    """Where to ask for `path`: the overrides if any are set, else the IPv4
    address and, when an interface for it exists, the scoped IPv6 one."""
    v4 = ctx.env.metadata_url(platform)
    v6 = ctx.env.metadata_url(f"{platform}-ipv6")
    if v4 or v6:
        return [base.rstrip("/") + path for base in (v4, v6) if base]
    urls = [LINK_LOCAL + path]
    iface = ipv6_interface()
    if iface is not None:
        # RFC 6874: the zone's % is written %25 inside a URL.
        urls.append(f"http://[{LINK_LOCAL_V6}%25{iface}]{path}")
    return urls


def drive_or_metadata(ctx: ProviderContext, drives: Sequence[tuple[str, str]],
                      urls: Callable[[], Sequence[str]], what: str) -> bytes | None:
    """The file of the first drive of `drives` found, or the body of the first
    of `urls()` to answer (no URL while the service's address is not known yet)."""
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
        targets = list(urls())
        if ctx.fetcher.offline:
            shown = " or ".join(redact.url(t) for t in targets) or "the network"
            raise NeedsNetwork(f"resource requires networking: no config drive yet, {what} at {shown}")
        if not targets:
            reason = f"the address of {what} is not known yet"
        else:
            remaining = waiter.remaining()
            timeout = ATTEMPT_TIMEOUT if remaining is None else max(0.1, min(ATTEMPT_TIMEOUT, remaining))
            got = race(targets, {}, timeout)
            if isinstance(got, tuple):
                url, resp = got
                if len(targets) > 1:
                    ctx.logger.info(f"{what} answered first at {redact.url(url)}")
                return user_data(resp, url, what, ctx)
            reason = "; ".join(got)
        waiter.wait(reason)


class OpenStackProvider:
    name: ClassVar[str] = "openstack"
    what: ClassVar[str] = "the OpenStack metadata service"

    def fetch_config(self, ctx: ProviderContext) -> bytes | None:
        return drive_or_metadata(ctx, DRIVES, lambda: metadata_urls(ctx, self.name, USER_DATA_PATH), self.what)


class BrightboxProvider(OpenStackProvider):
    name: ClassVar[str] = "brightbox"
    what: ClassVar[str] = "the Brightbox metadata service"
