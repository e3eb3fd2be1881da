"""Rendering a config: following `ignition.config.replace` and `ignition.config.merge`
depth first, as Ignition's ConfigFetcher.RenderConfig does, and building the Fetcher
that a config's `timeouts`, `proxy` and `security.tls.certificateAuthorities` call for.

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

import base64
import hashlib
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ignition import SPEC_VERSION, redact
from ignition.config.merge import merge
from ignition.config.types import Config, Proxy, Resource, Timeouts
from ignition.errors import ConfigError, FetchError
from ignition.log import MSG_CONFIG_FETCHED, Logger
from ignition.resources.fetcher import Fetcher
from ignition.state import FetchedConfig

if TYPE_CHECKING:  # requests is imported only when something is fetched over HTTP
    from ignition.resources.http import HttpClient
    from ignition.resources.tls import CABundle

MAX_DEPTH = 10  # references nested deeper than this are refused (Ignition has no limit)
MAX_WORKERS = 4  # concurrent fetches of one merge list


@dataclass(frozen=True)
class Settings:
    """What a config says about fetching: the part of it a Fetcher is built from."""

    timeouts: Timeouts
    proxy: Proxy
    cas: tuple[Resource, ...]

    @classmethod
    def of(cls, config: Config) -> Settings:
        ign = config.ignition
        return cls(ign.timeouts, ign.proxy, ign.security.tls.certificate_authorities)


@dataclass(frozen=True)
class LazyFetcher(Fetcher):
    """A Fetcher whose HTTP client is made by `factory` on first use, so a stage that
    fetches nothing over HTTP neither imports requests nor decodes CA bundles."""

    factory: Callable[[], HttpClient] | None = field(default=None, repr=False, compare=False)

    def http_client(self) -> HttpClient:
        with self._lock:
            if self.http is None and self.factory is not None:
                object.__setattr__(self, "http", self.factory())
        return super().http_client()


class Fetchers:
    """Makes the Fetcher for each set of Settings (one per set, reused) and fetches each
    CA bundle once (by its resource), as Ignition caches CAs by source."""

    def __init__(self, logger: Logger, offline: bool = False) -> None:
        self.logger = logger
        self.offline = offline
        self._lock = threading.Lock()
        self._fetchers: dict[Settings, Fetcher] = {}
        self._cas: dict[Resource, bytes] = {}

    def provider(self, fetch_timeout: float) -> Fetcher:
        """The Fetcher for the provider's own fetch, before any config is known: Ignition's
        defaults, with the whole fetch (all attempts) bounded by -fetch-timeout."""

        def make() -> HttpClient:
            from ignition.resources.http import HttpClient

            client = HttpClient(self.logger)
            client.total_timeout = max(0.0, float(fetch_timeout))  # 0: no limit, as httpTotal
            return client

        return LazyFetcher(self.logger, self.offline, factory=make)

    def for_settings(self, settings: Settings) -> Fetcher:
        with self._lock:
            found = self._fetchers.get(settings)
            if found is None:
                found = LazyFetcher(self.logger, self.offline, factory=lambda: self.client(settings))
                self._fetchers[settings] = found
            return found

    def for_config(self, config: Config) -> Fetcher:
        return self.for_settings(Settings.of(config))

    def ca(self, res: Resource, settings: Settings) -> bytes:
        """The bytes of one CA bundle (decompressed, hash checked), fetched once. A remote
        bundle is fetched with the timeouts and proxy of `settings` and the system roots."""
        with self._lock:
            cached = self._cas.get(res)
        if cached is not None:
            return cached
        shown = redact.url(res.source or "")
        plain = self.for_settings(replace(settings, cas=()))
        try:
            data = plain.fetch_resource(res)
        except FetchError as e:
            if type(e) is not FetchError:
                raise  # NeedsNetwork stays what it is
            raise FetchError(f"fetching the certificate authority {shown}: {e}") from e
        with self._lock:
            self._cas[res] = data
        return data

    def client(self, settings: Settings, *, sleep: Callable[[float], None] | None = None) -> HttpClient:
        """A new HTTP client with the settings' timeouts, proxy and CA bundles."""
        from ignition.resources.http import HttpClient
        from ignition.resources.tls import CABundle

        bundles: list[bytes | CABundle] = [CABundle(c.source or "", self.ca(c, settings)) for c in settings.cas]
        if sleep is None:
            return HttpClient(self.logger, settings.timeouts, settings.proxy, bundles)
        return HttpClient(self.logger, settings.timeouts, settings.proxy, bundles, sleep=sleep)

    def inline_cas(self, config: Config, settings: Settings) -> Config:
        """`config` with each CA bundle rewritten as a data URL of its bytes (headers and
        compression dropped, verification kept: it is of the decompressed bytes), so the
        stages after fetch need no network for them, as Ignition's RewriteCAsWithDataUrls."""
        cas = config.ignition.security.tls.certificate_authorities
        if not cas:
            return config
        inlined = tuple(
            replace(c, source=data_url(self.ca(c, settings)), compression=None, http_headers=())
            for c in cas
        )
        ign = config.ignition
        tls = replace(ign.security.tls, certificate_authorities=inlined)
        return replace(config, ignition=replace(ign, security=replace(ign.security, tls=tls)))


def data_url(data: bytes) -> str:
    return "data:;base64," + base64.b64encode(data).decode("ascii")


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


@dataclass
class Renderer:
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
                          f"{hashlib.sha512(raw).hexdigest()}")
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
