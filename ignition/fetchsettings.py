"""Building the Fetcher that a config's `timeouts`, `proxy` and
`security.tls.certificateAuthorities` call for: one Fetcher per set of Settings, its
HTTP client made on first use, each CA bundle fetched once (see render.py for the
order in which referenced configs are fetched with them).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from dataclasses import field, replace
from typing import TYPE_CHECKING

from ignition import redact
from ignition.config.types import Config, Proxy, Resource, Timeouts
from ignition.errors import FetchError
from ignition.log import Logger
from ignition.record import record
from ignition.resources.fetcher import Fetcher

if TYPE_CHECKING:  # requests is imported only when something is fetched over HTTP
    from ignition.resources.http import HttpClient
    from ignition.resources.tls import CABundle


@record(kw_only=False, slots=False)
class Settings:
    """What a config says about fetching: the part of it a Fetcher is built from."""

    timeouts: Timeouts
    proxy: Proxy
    cas: tuple[Resource, ...]

    @classmethod
    def of(cls, config: Config) -> Settings:
        ign = config.ignition
        return cls(ign.timeouts, ign.proxy, ign.security.tls.certificate_authorities)


@record(kw_only=False, slots=False)
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
