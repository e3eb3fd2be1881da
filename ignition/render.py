"""Rendering a config: following `ignition.config.replace` and `ignition.config.merge`
depth first, as Ignition's ConfigFetcher.RenderConfig does, each reference fetched with
the Fetcher its settings call for (fetchsettings.py).

Order, as in Ignition: a `replace` is fetched, rendered, and stands for the current
config; otherwise each `merge` child is fetched, rendered (its own references first),
then merged onto the config so far, in list order. Every reference is fetched with the
settings of everything merged so far (base configs, ancestors, earlier siblings with
their own children); a child's own settings are merged over that view for its children,
so a child may bring the CA or proxy its own children or later siblings need. (Ignition
mutates one fetcher as it goes, so there a grandchild's view loses the ancestors'
settings; ours keeps them.)

Where we beat Ignition: the siblings of one merge list are fetched concurrently (a small
pool) with the settings in force when the list is reached. They are still parsed,
logged, recorded and merged in list order, and a prefetched result is only used when
the settings serial rendering would have used for it are the same; otherwise that child
is fetched again, serially, with the right settings, and the speculative fetches still
running are abandoned at their next retry. The result is the one serial rendering gives;
the only trace of speculation is the extra request made with the earlier settings.

Cycles (a source already among the config's ancestors) and nesting deeper than
MAX_DEPTH are refused; Ignition recurses without a limit.
"""

from __future__ import annotations

import threading
from dataclasses import field
from typing import TYPE_CHECKING

from ignition import SPEC_VERSION, redact
from ignition.config.merge import merge
from ignition.config.types import Config, Resource
from ignition.digest import sha512_hex
from ignition.errors import ConfigError, FetchError
from ignition.fetchsettings import Fetchers, LazyFetcher, Settings
from ignition.log import MSG_CONFIG_FETCHED, Logger
from ignition.record import record
from ignition.state import FetchedConfig

if TYPE_CHECKING:  # concurrent.futures (and logging behind it) only when a merge list is fetched
    from concurrent.futures import Future

MAX_DEPTH = 10  # references nested deeper than this are refused (Ignition has no limit)
MAX_WORKERS = 4  # concurrent fetches of one merge list


class Abandoned(FetchError):
    """A speculative fetch that rendering no longer needs (see Prefetch)."""


class Prefetch:
    """The remote siblings of one merge list, fetched concurrently with the settings in
    force when the list is reached. Their HTTP clients sleep through an event, so once
    rendering finds that it needs other settings (a sibling set a CA, proxy or timeouts)
    the speculative fetches stop at their next retry instead of retrying with settings
    serial rendering would never have used (Ignition's default httpTotal is unlimited)."""

    def __init__(self, fetchers: Fetchers, settings: Settings, refs: dict[int, Resource],
                 workers: int) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.settings = settings
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(refs))),
                                        thread_name_prefix="ignition-render")
        fetcher = LazyFetcher(fetchers.logger, fetchers.offline,
                              factory=lambda: fetchers.client(settings, sleep=self._sleep))
        self._futures: dict[int, Future[bytes]] = {
            i: self._pool.submit(fetcher.fetch_resource, ref) for i, ref in refs.items()
        }

    def _sleep(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise Abandoned("speculative fetch abandoned")

    def take(self, index: int, settings: Settings) -> Future[bytes] | None:
        """The fetch of child `index` when it was made with `settings`, else None (and the
        remaining speculative fetches are abandoned: they used settings no longer in force)."""
        fut = self._futures.pop(index, None)
        if fut is None or self._stop.is_set():
            return None
        if settings != self.settings:
            self._stop.set()
            self._pool.shutdown(wait=False, cancel_futures=True)
            return None
        return fut

    def close(self) -> None:
        # Waits at most for the attempts in flight: an abandoned fetch stops at its next backoff.
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)


@record(kw_only=False, frozen=False, slots=False)
class Renderer:
    """Renders a config's merge and replace references, depth first, into one config."""

    logger: Logger
    fetchers: Fetchers
    fetched: list[FetchedConfig] = field(default_factory=list)
    workers: int = MAX_WORKERS

    def render(self, config: Config, outer: Config | None = None) -> Config:
        """`config` with its references resolved. `outer` is what was merged before it
        (base configs for the user config): its settings apply to the fetches too.
        Raises ConfigError when the rendered result is not valid."""
        rendered = self._render(config, outer, 0, ())
        if rendered is not config:
            from ignition.config.validate import validate

            report = validate(rendered, SPEC_VERSION)
            if report.is_fatal:
                raise ConfigError("merging configs resulted in an invalid config:\n" + str(report), report)
        return rendered

    def _render(self, config: Config, outer: Config | None, depth: int, chain: tuple[str, ...]) -> Config:
        refs = config.ignition.config
        if refs.replace.source is None and not refs.merge:
            return config
        if depth >= MAX_DEPTH:
            raise ConfigError(
                f"referenced configs nest deeper than {MAX_DEPTH} levels "
                f"({' -> '.join(redact.url(s) for s in chain)}); flatten ignition.config.merge/replace"
            )
        for ref in (refs.replace, *refs.merge):
            if ref.source is not None and ref.source in chain:
                loop = " -> ".join(redact.url(s) for s in (*chain, ref.source))
                raise ConfigError(f"referenced configs form a cycle ({loop}); remove the reference back")
        if refs.replace.source is not None:
            ref = refs.replace
            raw = self._fetch(ref, Settings.of(_over(outer, config)))
            child = self._parse(raw, ref, "replace")
            # The replacement stands for this config: its own settings, over what came before it.
            return self._render(child, outer, depth + 1, chain + (str(ref.source),))

        prefetch = self._prefetch(refs.merge, Settings.of(_over(outer, config)))
        try:
            merged = config
            for i, ref in enumerate(refs.merge):
                view = _over(outer, merged)  # the config so far: its settings fetch this child
                settings = Settings.of(view)
                fut = prefetch.take(i, settings) if prefetch is not None else None
                raw = self._fetched(fut, ref) if fut is not None else self._fetch(ref, settings)
                child = self._parse(raw, ref, "merge")
                child = self._render(child, view, depth + 1, chain + (str(ref.source),))
                merged = merge(merged, child)
        finally:
            if prefetch is not None:
                prefetch.close()
        return merged

    def _prefetch(self, refs: tuple[Resource, ...], settings: Settings) -> Prefetch | None:
        remote = {i: r for i, r in enumerate(refs) if r.source and not r.source.lower().startswith("data:")}
        if len(remote) < 2 or self.fetchers.offline:
            return None  # nothing to overlap (data URLs decode at once; offline fails at once)
        return Prefetch(self.fetchers, settings, remote, self.workers)

    def _fetch(self, ref: Resource, settings: Settings) -> bytes:
        try:
            return self.fetchers.for_settings(settings).fetch_resource(ref)
        except FetchError as e:
            raise _about(e, ref) from e

    def _fetched(self, fut: Future[bytes], ref: Resource) -> bytes:
        try:
            return fut.result()
        except FetchError as e:
            raise _about(e, ref) from e

    def _parse(self, raw: bytes, ref: Resource, how: str) -> Config:
        from ignition.config.parse import EmptyConfig, parse  # the validator loads only when needed

        shown = redact.url(str(ref.source))
        self.logger.debug(f"fetched referenced config ({how}) {shown} with SHA512: "
                          f"{sha512_hex(raw)}")
        try:
            parsed = parse(raw)
        except EmptyConfig as e:
            raise ConfigError(f"the referenced config {shown} is empty; it must be a config", e.report) from e
        except ConfigError as e:
            raise ConfigError(f"the referenced config {shown}: {e}", e.report) from e
        for entry in parsed.report.entries:
            self.logger.warning(f"{shown}: {entry}")
        record = FetchedConfig("user", shown, True)
        self.fetched.append(record)
        log_fetched(self.logger, record)
        return parsed.config


def _about(e: FetchError, ref: Resource) -> FetchError:
    if type(e) is not FetchError:
        return e  # NeedsNetwork stays what it is: fetch-offline turns it into the neednet flag
    return FetchError(f"fetching the referenced config {redact.url(str(ref.source))}: {e}")


def _over(outer: Config | None, config: Config) -> Config:
    return config if outer is None else merge(outer, config)


def log_fetched(logger: Logger, record: FetchedConfig) -> None:
    """Ignition's structured journal entry for each config fetched."""
    referenced = "referenced " if record.referenced else ""
    logger.info(
        f'fetched {referenced}{record.kind} config from "{record.source}"',
        MESSAGE_ID=MSG_CONFIG_FETCHED,
        IGNITION_CONFIG_TYPE=record.kind,
        IGNITION_CONFIG_SRC=record.source,
        IGNITION_CONFIG_REFERENCED="true" if record.referenced else "false",
    )
