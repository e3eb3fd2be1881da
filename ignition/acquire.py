"""Finding the machine's config, in Ignition's order of precedence: the kernel
command line, then a system `user.ign`, then the platform's provider. No config
at all is not an error: the machine is provisioned with an empty config.

The user config is rendered (its merges and replaces followed, see render.py)
and its CA bundles are inlined as data URLs: that is what the config cache holds.
The system base configs are not cached: every stage reads them again and layers
`empty <- base <- user`, as Ignition does.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from ignition.config.merge import merge
from ignition.config.types import Config, config_from_dict, config_to_dict
from ignition.digest import sha512_hex
from ignition.errors import ConfigError, FetchError
from ignition.record import record
from ignition.state import FetchedConfig

# acquire() runs in the fetch stages only; the others need layer() and
# base_configs(), and skip importing the renderer and the fetch settings.
if TYPE_CHECKING:
    from ignition.context import ProviderContext
    from ignition.environment import Environment
    from ignition.fetchsettings import Fetchers
    from ignition.log import Logger
    from ignition.providers import Provider

EMPTY = {"ignition": {"version": "3.6.0"}}


@record(kw_only=False, slots=False)
class Acquired:
    """The user config a fetch stage acquired, and where it and its references came from."""

    config: Config  # the rendered user config, CAs inlined: what the cache holds
    fetched: tuple[FetchedConfig, ...]


@record(kw_only=False, slots=False)
class Base:
    """The merged base configs (base.d, base.platform.d) and where they came from."""

    config: Config | None  # None: no base config at all
    fetched: tuple[FetchedConfig, ...]


def empty_config() -> Config:
    return config_from_dict(EMPTY)


def layer(base: Config | None, user: Config) -> Config:
    """What a stage runs with: empty <- base <- user."""
    return user if base is None else merge(merge(empty_config(), base), user)


def base_configs(env: Environment, platform: str, logger: Logger) -> Base:
    """The system base configs merged in Ignition's order: the fragments of `base.d`
    across the three system dirs (a name in a higher-priority dir hides the same name in
    a lower one) in sorted name order, then those of `base.platform.d/<platform>`."""
    merged: Config | None = None
    fetched: list[FetchedConfig] = []
    for sub in ("base.d", os.path.join("base.platform.d", platform)):
        for path in _fragments(env, sub):
            cfg = _read_base(path, logger)
            if cfg is None:
                continue
            merged = cfg if merged is None else merge(merged, cfg)
            fetched.append(FetchedConfig("base", path, False))
    return Base(merged, tuple(fetched))


def _fragments(env: Environment, sub: str) -> list[str]:
    chosen: dict[str, str] = {}
    for directory in reversed(env.system_dirs):  # lowest priority first: later ones override
        d = os.path.join(directory, sub)
        try:
            names = os.listdir(d)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as e:
            raise FetchError(f"reading the base config directory {d}: {e.strerror}") from e
        for name in names:
            path = os.path.join(d, name)
            if os.path.isfile(path):
                chosen[name] = path
    return [chosen[name] for name in sorted(chosen)]


def _read_base(path: str, logger: Logger) -> Config | None:
    from ignition.config.parse import EmptyConfig, parse  # the validator loads only when needed

    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise FetchError(f"reading the base config {path}: {e.strerror}") from e
    try:
        parsed = parse(raw)
    except EmptyConfig:
        logger.info(f"the base config {path} is empty; ignoring it")
        return None
    except ConfigError as e:
        raise ConfigError(f"the base config {path} is not valid; fix or remove it: {e}", e.report) from e
    for entry in parsed.report.entries:
        logger.warning(f"{path}: {entry}")
    return parsed.config


def acquire(ctx: ProviderContext, provider: Provider, *, fetchers: Fetchers | None = None,
            base: Config | None = None) -> Acquired:
    """The user config, rendered, with its CAs inlined. `base` (the merged base configs)
    lends its fetch settings to the fetches of referenced configs and CAs."""
    from ignition.config.parse import EmptyConfig, parse  # the validator loads only when needed
    from ignition.fetchsettings import Fetchers, Settings
    from ignition.providers import cmdline, system
    from ignition.render import Renderer, log_fetched

    fetchers = fetchers or Fetchers(ctx.logger, ctx.fetcher.offline)
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
    ctx.logger.debug(f"parsing config with SHA512: {sha512_hex(raw)}")
    try:
        parsed = parse(raw)
    except EmptyConfig:
        ctx.logger.info(f"the config from {source} is empty; provisioning with an empty config")
        return Acquired(empty_config(), ())
    for entry in parsed.report.entries:
        ctx.logger.warning(str(entry))
    user = FetchedConfig("user", source, False)
    log_fetched(ctx.logger, user)
    renderer = Renderer(ctx.logger, fetchers, [user])
    rendered = renderer.render(parsed.config, base)
    config = fetchers.inline_cas(rendered, Settings.of(layer(base, rendered)))
    return Acquired(config, tuple(renderer.fetched))


def cache_bytes(config: Config) -> bytes:
    """The config cache: the rendered config in the latest spec, which every
    later stage parses instead of fetching again."""
    return json.dumps(config_to_dict(config), separators=(",", ":")).encode() + b"\n"
