"""Platforms: each knows where its machine's config lives.

A provider is a class registered under the `ignition.providers` entry point
group with a `name` and `fetch_config(ctx) -> bytes | None` (None: this machine
has no user config, which is not an error).

A provider may also define the optional status hook of Ignition's platform
contract, `status(ctx, stage, error)`: the engine calls it after every stage
with the stage's name and None on success or the one-line error on failure
(Equinix Metal shows it on the instance's timeline). Providers without it do
nothing. The hook reports and never decides: whatever it raises is logged as a
warning by `report_status`, and the stage's outcome and exit code stay as
they were."""

from __future__ import annotations

from typing import ClassVar, Protocol, runtime_checkable

from ignition.context import ProviderContext
from ignition.errors import IgnitionError, NeedsNetwork


class Provider(Protocol):
    name: ClassVar[str]

    def fetch_config(self, ctx: ProviderContext) -> bytes | None: ...


@runtime_checkable
class StatusReporter(Protocol):
    """The optional status hook; `error` is None when the stage succeeded."""

    def status(self, ctx: ProviderContext, stage: str, error: str | None) -> None: ...


def report_status(provider: object, ctx: ProviderContext, stage: str, error: str | None) -> None:
    """Call the provider's status hook, if it has one; never raises."""
    if not isinstance(provider, StatusReporter):
        return
    if ctx.dry_run:
        ctx.logger.info(f"dry run: not reporting the {stage} stage's status to the platform")
        return
    try:
        provider.status(ctx, stage, error)
    except NeedsNetwork as e:
        # fetch-offline runs before the network is up; Ignition tries anyway and
        # logs the failure, here it is said for what it is.
        ctx.logger.info(f"not reporting the {stage} stage's status to the platform: {e}")
    except Exception as e:  # any failure of the hook, a bug included, only warns
        detail = str(e) if isinstance(e, IgnitionError) else f"{type(e).__name__}: {e}"
        ctx.logger.warning(f"reporting the {stage} stage's status to the platform failed: {detail}")
