"""Stage fetch-offline: acquire the config without the network.

The engine does the acquisition in offline mode; anything that needs the
network there (an http config URL, a metadata service) ends it with the
neednet flag and no cache, and the fetch stage runs once the network is up.
When the config itself was acquired offline, this stage still looks through it
for what later stages will need the network for and raises the flag then too,
so the distro brings the network up before disks and files run.
"""

from __future__ import annotations

from typing import ClassVar

from ignition.config.types import Config, Resource
from ignition.context import StageContext
from ignition.stages.base import ConfigSource


class FetchOfflineStage:
    name: ClassVar[str] = "fetch-offline"
    config_source: ClassVar[ConfigSource] = "fetch"
    offline: ClassVar[bool] = True

    def applies(self, config: Config) -> bool:
        return True

    def run(self, ctx: StageContext) -> None:
        reasons = network_needs(ctx.config)
        if reasons:
            more = "; ..." if len(reasons) > 3 else ""
            signal_neednet(ctx, "the config " + "; ".join(reasons[:3]) + more)


def signal_neednet(ctx: StageContext, reason: str) -> None:
    ctx.logger.info(f"the network is needed: {reason}; writing {ctx.paths.neednet}")
    ctx.write_host_file(ctx.paths.neednet, b"", 0o644)


def _remote(res: Resource) -> bool:
    return bool(res.source) and not str(res.source).startswith("data:")


def network_needs(config: Config) -> list[str]:
    """Why later stages will need the network (empty: they will not)."""
    why: list[str] = []
    ign = config.ignition
    if any(_remote(r) for r in ign.config.merge) or _remote(ign.config.replace):
        why.append("merges or replaces a remote config")
    if any(_remote(r) for r in ign.security.tls.certificate_authorities):
        why.append("trusts a remote certificate authority")
    for i, f in enumerate(config.storage.files):
        if _remote(f.contents) or any(_remote(a) for a in f.append):
            why.append(f"fetches storage.files.{i} ({f.path}) from the network")
    for i, luks in enumerate(config.storage.luks):
        if _remote(luks.key_file):
            why.append(f"fetches the key file of storage.luks.{i} ({luks.name})")
        clevis = luks.clevis
        if any(not t.advertisement for t in clevis.tang):
            why.append(f"binds storage.luks.{i} ({luks.name}) to a tang server without an advertisement")
        if clevis.custom.needs_network:
            why.append(f"uses a custom clevis pin that needs the network for storage.luks.{i}")
    return why
