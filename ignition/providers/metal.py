"""Platform `metal`: bare metal has no metadata service of its own; the config
comes from the kernel command line or a system `user.ign`, which the
acquisition tries before any provider."""

from __future__ import annotations

from typing import ClassVar

from ignition.context import ProviderContext


class MetalProvider:
    name: ClassVar[str] = "metal"

    def fetch_config(self, ctx: ProviderContext) -> bytes | None:
        ctx.logger.info("platform metal has no config source of its own")
        return None
