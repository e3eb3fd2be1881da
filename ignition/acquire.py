"""Finding the machine's config, in Ignition's order of precedence: the kernel
command line, then a system `user.ign`, then the platform's provider. No config
at all is not an error: the machine is provisioned with an empty config."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from ignition.config.parse import EmptyConfig, parse
from ignition.config.types import Config, config_from_dict, config_to_dict
from ignition.context import ProviderContext
from ignition.errors import FetchError
from ignition.log import MSG_CONFIG_FETCHED
from ignition.providers import Provider, cmdline, system
from ignition.state import FetchedConfig

EMPTY = {"ignition": {"version": "3.6.0"}}


@dataclass(frozen=True)
class Acquired:
    config: Config
    fetched: tuple[FetchedConfig, ...]


def empty_config() -> Config:
    return config_from_dict(EMPTY)


def acquire(ctx: ProviderContext, provider: Provider) -> Acquired:
    raw: bytes | None
    found = cmdline.fetch_config(ctx) or system.fetch_config(ctx)
    if found is not None:
        raw, source = found
    else:
        with ctx.logger.op(f"fetching config from platform {ctx.platform}"):
            raw = provider.fetch_config(ctx)
        source = ctx.platform
    if raw is None:
        ctx.logger.info("no config was provided; provisioning with an empty config")
        return Acquired(empty_config(), ())
    ctx.logger.debug(f"parsing config with SHA512: {hashlib.sha512(raw).hexdigest()}")
    try:
        parsed = parse(raw)
    except EmptyConfig:
        ctx.logger.info(f"the config from {source} is empty; provisioning with an empty config")
        return Acquired(empty_config(), ())
    for entry in parsed.report.entries:
        ctx.logger.warning(str(entry))
    ctx.logger.info(
        f'fetched user config from "{source}"',
        MESSAGE_ID=MSG_CONFIG_FETCHED,
        IGNITION_CONFIG_TYPE="user",
        IGNITION_CONFIG_SRC=source,
        IGNITION_CONFIG_REFERENCED="false",
    )
    cfg = parsed.config.ignition.config
    if cfg.merge or cfg.replace.source:
        raise FetchError(
            "ignition.config.merge and ignition.config.replace are not supported in this build yet; "
            "inline the referenced configs"
        )
    return Acquired(parsed.config, (FetchedConfig("user", source, False),))


def cache_bytes(config: Config) -> bytes:
    """The config cache: the rendered config in the latest spec, which every
    later stage parses instead of fetching again."""
    return json.dumps(config_to_dict(config), separators=(",", ":")).encode() + b"\n"
