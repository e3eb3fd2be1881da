"""Runs one stage: pick the plugins, get the config (acquire it, or read the
cache), build the context, run, save the state. Turns every outcome into
Ignition's exit codes: 0 ok, 1 stage failed, 2 usage, 3 setup."""

from __future__ import annotations

import sys
from dataclasses import field
from typing import TYPE_CHECKING, TextIO

from ignition import __version__, acquire, registry, startup
from ignition import state as state_mod
from ignition.errors import ConfigError, IgnitionError, NeedsNetwork, SetupError, StageError, UsageError
from ignition.exits import EXIT_FAILED, EXIT_OK, EXIT_SETUP, EXIT_USAGE
from ignition.log import Logger, Sink, default_sink
from ignition.machine import HOST, Machine
from ignition.paths import Paths
from ignition.record import record

# What only some runs need (a dry run, a fetch stage, an internal error) is
# imported where it is used: every stage is a new process and pays for each
# module at start-up.
if TYPE_CHECKING:
    from ignition.config.types import Config
    from ignition.context import ProviderContext, StageContext
    from ignition.environment import Environment
    from ignition.fetchsettings import Fetchers
    from ignition.plan import Plan
    from ignition.providers import Provider
    from ignition.resources.fetcher import Fetcher
    from ignition.stages.base import Stage

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_SETUP", "EXIT_USAGE", "Options", "run"]


@record(kw_only=False, slots=False)
class Options:
    """One run of `ignition`, as its flags say."""

    platform: str
    stage: str
    root: str = "/"
    paths: Paths = field(default_factory=Paths)
    fetch_timeout: float = 120.0
    log_to_stdout: bool = False
    dry_run: bool = False
    plan_json: bool = False


def one_line(e: Exception) -> str:
    """An error as the one line an operator sees on the console before emergency mode."""
    return "; ".join(line.strip() for line in str(e).splitlines() if line.strip())


def run(opts: Options, env: Environment | None = None, sink: Sink | None = None,
        out: TextIO | None = None, machine: Machine = HOST) -> int:
    from ignition.context import ProviderContext, StageContext
    from ignition.environment import Environment
    from ignition.fetchsettings import Fetchers
    from ignition.providers import report_status
    from ignition.run import Runner
    from ignition.sysroot import Sysroot

    env = env or Environment.from_environ()
    logger = Logger(sink or default_sink(opts.log_to_stdout, opts.dry_run), opts.stage, opts.platform)
    try:
        stage: Stage = registry.stages().get(opts.stage)()
        provider: Provider = registry.providers().get(opts.platform)()
    except UsageError as e:
        sys.stderr.write(f"ignition: {e}\n")
        return EXIT_USAGE
    except SetupError as e:
        logger.crit(str(e))
        return EXIT_SETUP
    logger.info(f"Ignition {__version__}")
    logger.info(f"Stage: {opts.stage}")
    try:
        st = state_mod.load(opts.paths.state_file)
    except SetupError as e:
        logger.crit(str(e))
        return EXIT_SETUP

    plan: Plan | None = None
    if opts.dry_run:
        from ignition.plan import Plan
        from ignition.run import RecordingRunner
        from ignition.sysroot_dryrun import DryRunSysroot

        plan = Plan()
        runner: Runner = RecordingRunner(logger, plan)
        root: Sysroot = DryRunSysroot(opts.root, plan)
    else:
        runner, root = Runner(logger), Sysroot(opts.root)
    # Every Fetcher is built from the config it serves; until the config is known (the
    # provider's own fetch) Ignition's defaults apply, bounded by -fetch-timeout.
    fetchers = Fetchers(logger, offline=stage.config_source == "fetch" and stage.offline)
    pctx = ProviderContext(opts.platform, logger, runner, fetchers.provider(opts.fetch_timeout), env,
                           opts.fetch_timeout, opts.dry_run)

    def context(config: Config, fetcher: Fetcher) -> StageContext:
        return StageContext(config, root, runner, fetcher, st, opts.platform, logger, env,
                            opts.paths, opts.dry_run, plan, machine)

    startup.work_begins()  # cli.main paused the collector for the start-up
    error: str | None = None
    try:
        try:
            config = _config(stage, provider, opts, pctx, fetchers, st, plan)
        except NeedsNetwork as e:
            if not (stage.config_source == "fetch" and stage.offline):
                raise
            from ignition.stages.fetch_offline import signal_neednet

            signal_neednet(context(acquire.empty_config(), pctx.fetcher), str(e))
            _save_state(opts, st, plan)
        else:
            ctx = context(config, fetchers.for_config(config))
            if stage.applies(config):
                stage.run(ctx)
            else:
                logger.info(f"nothing to do in the {opts.stage} stage for this config")
            _save_state(opts, st, plan)
    except IgnitionError as e:
        error = one_line(e)
        logger.crit("stage failed: " + error)
    except Exception as e:  # a bug: still one clear CRITICAL line, details at debug
        import traceback

        for line in traceback.format_exc().splitlines():
            logger.debug(line)
        error = f"internal error ({type(e).__name__}: {e})"
        logger.crit(f"stage failed with an {error}; this is a bug in ignition, report it with this journal")
    finally:
        if plan is not None:
            plan.print(out or sys.stdout, opts.plan_json)
    # After every stage, as Ignition's main does; the hook never changes the outcome.
    report_status(provider, pctx, opts.stage, error)
    if error is not None:
        return EXIT_FAILED
    logger.info(f"{opts.stage} stage finished successfully")
    return EXIT_OK


def _config(stage: Stage, provider: Provider, opts: Options, pctx: ProviderContext, fetchers: Fetchers,
            st: state_mod.State, plan: Plan | None) -> Config:
    """The config the stage runs with: empty <- base configs <- user config. Fetch stages
    acquire and render the user config and cache it; the others read the cache. The base
    configs are never cached: every stage reads them again, as Ignition does."""
    fetching = stage.config_source == "fetch"
    base = acquire.base_configs(pctx.env, opts.platform, pctx.logger)
    cache = opts.paths.config_cache
    if not fetching:
        try:
            with open(cache, "rb") as f:
                raw = f.read()
        except FileNotFoundError as e:
            if plan is None:
                raise StageError(f"the config cache {cache} does not exist: the fetch-offline "
                                 "(and, when it needs the network, fetch) stage must run first") from e
            pctx.logger.info(f"dry run: no config cache at {cache}, acquiring the config as fetch would")
            user = acquire.acquire(pctx, provider, fetchers=fetchers, base=base.config).config
            return acquire.layer(base.config, user)
        except OSError as e:
            raise StageError(f"reading the config cache {cache}: {e.strerror}") from e
        from ignition.config.cache import read_cache

        cached = read_cache(raw)
        if cached is None:
            from ignition.config.parse import parse  # not ours: the full parser says what is wrong

            try:
                cached = parse(raw).config
            except ConfigError as e:
                raise StageError(f"the config cache {cache} is not a valid config ({e}); "
                                 "rerun the fetch stages") from e
        user = cached
        for path in (c.source for c in base.fetched):
            pctx.logger.info(f"merging the base config {path} under the cached config")
        return acquire.layer(base.config, user)

    from ignition.render import log_fetched

    for fetched in base.fetched:
        log_fetched(pctx.logger, fetched)
    got = acquire.acquire(pctx, provider, fetchers=fetchers, base=base.config)
    st.fetched_configs = list(base.fetched) + list(got.fetched)
    data = acquire.cache_bytes(got.config)
    if plan is not None:
        plan.add("write", cache, type="config cache", mode="0640", size=len(data))
    else:
        state_mod.write_private(cache, data, 0o640)
    return acquire.layer(base.config, got.config)


def _save_state(opts: Options, st: state_mod.State, plan: Plan | None) -> None:
    if plan is not None:
        plan.add("write", opts.paths.state_file, type="state file", mode="0600")
        return
    try:
        state_mod.save(opts.paths.state_file, st)
    except OSError as e:
        raise StageError(f"saving the state file {opts.paths.state_file}: {e.strerror}") from e
