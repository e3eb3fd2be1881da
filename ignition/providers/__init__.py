"""Platforms: each knows where its machine's config lives.

A provider is a class registered under the `ignition.providers` entry point
group with a `name` and `fetch_config(ctx) -> bytes | None` (None: this machine
has no user config, which is not an error)."""

from __future__ import annotations

from typing import ClassVar, Protocol

from ignition.context import ProviderContext


class Provider(Protocol):
    name: ClassVar[str]

    def fetch_config(self, ctx: ProviderContext) -> bytes | None: ...
