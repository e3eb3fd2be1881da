"""Fetching a resource by URL into a Sink, with gunzip and hash verification on the way.

In offline mode (fetch-offline) anything but a data URL raises NeedsNetwork,
which is how Ignition decides that the network must be brought up. http(s)
goes through an HttpClient (made with Ignition's defaults on first use unless
one built from the config's timeouts, proxy and CAs is given), tftp through
the tftp module.
"""

from __future__ import annotations

import threading
from dataclasses import field
from typing import TYPE_CHECKING

from ignition import redact
from ignition.config.types import Resource
from ignition.errors import FetchError, NeedsNetwork
from ignition.log import Logger
from ignition.record import record
from ignition.resources import stream
from ignition.resources.stream import MemorySink, Pipeline, Sink, write_chunked

if TYPE_CHECKING:  # requests is imported only when something is fetched over HTTP
    from ignition.resources.http import HttpClient


@record(kw_only=False, slots=False)
class Fetcher:
    """Fetches resources by scheme, decompresses and verifies them; HTTP client made on first use."""

    logger: Logger
    offline: bool = False
    http: HttpClient | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def http_client(self) -> HttpClient:
        """The HTTP client, created with Ignition's defaults on first use."""
        from ignition.resources.http import HttpClient

        with self._lock:
            if self.http is None:
                # Frozen for callers; the lazily made client is a cache, not state.
                object.__setattr__(self, "http", HttpClient(self.logger))
            assert self.http is not None
            return self.http

    def fetch_resource(self, res: Resource) -> bytes:
        """The bytes of a config Resource (source, compression, verification,
        httpHeaders), in memory: for configs, CA bundles and key files, capped
        at stream.MEMORY_LIMIT. No source means no contents, as in Ignition."""
        sink = MemorySink(redact.url(res.source or ""), stream.MEMORY_LIMIT)
        self.fetch_resource_into(res, sink)
        return sink.getvalue()

    def fetch_resource_into(self, res: Resource, sink: Sink) -> None:
        """Stream a config Resource into `sink` (decompressed, verified); the
        caller closes or discards the sink."""
        if res.source is None:
            return
        headers = []
        for h in res.http_headers:
            if not h.value:
                raise FetchError(f"HTTP header {h.name!r} for {redact.url(res.source)} has no value")
            headers.append((h.name, h.value))
        self.fetch_into(res.source, sink, compression=res.compression, verification=res.verification.hash,
                        headers=tuple(headers))

    def fetch(
        self,
        url: str,
        *,
        compression: str | None = None,
        verification: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> bytes:
        """The bytes at `url` in memory (capped as fetch_resource)."""
        sink = MemorySink(redact.url(url), stream.MEMORY_LIMIT)
        self.fetch_into(url, sink, compression=compression, verification=verification, headers=headers)
        return sink.getvalue()

    def fetch_into(
        self,
        url: str,
        sink: Sink,
        *,
        compression: str | None = None,
        verification: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        """The one fetch path: every scheme writes into a Pipeline (gunzip,
        hash) in front of `sink`, in bounded chunks."""
        shown = redact.url(url)
        try:
            from urllib.parse import urlsplit  # here: start-up of a stage that fetches nothing

            scheme = urlsplit(url).scheme.lower() if ":" in url else ""
        except ValueError as e:
            raise FetchError(f"invalid URL {shown}: {e}") from e
        if scheme not in ("data", "http", "https", "tftp", "s3", "arn", "gs"):
            raise FetchError(f"unsupported URL scheme {scheme!r} in {shown}")
        if scheme != "data" and self.offline:
            raise NeedsNetwork(f"resource requires networking: {shown}")
        if compression and scheme in ("s3", "arn"):  # Ignition's ErrCompressionUnsupported
            raise FetchError(f"compression is not supported with {scheme} URLs ({shown}): "
                             "store the object uncompressed and drop `compression`")
        pipe = Pipeline(sink, compression, verification, shown)
        if scheme == "data":
            from ignition.resources import dataurl

            write_chunked(pipe, dataurl.decode(url))
        elif scheme in ("http", "https"):
            self.http_client().get_into(url, pipe, headers)
        elif scheme == "tftp":
            from ignition.resources import tftp

            tftp.get_into(url, pipe)
        elif scheme == "gs":
            from ignition.resources import gcs

            gcs.fetch_into(url, pipe, self.http_client(), self.logger)
        else:
            from ignition.resources import s3

            s3.fetch_into(url, pipe, self.http_client(), self.logger)
        pipe.finish()
