"""Fetching a resource by URL, then gunzip and hash verification.

In offline mode (fetch-offline) anything but a data URL raises NeedsNetwork,
which is how Ignition decides that the network must be brought up. http(s)
goes through an HttpClient (made with Ignition's defaults on first use unless
one built from the config's timeouts, proxy and CAs is given), tftp through
the tftp module.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ignition import redact
from ignition.config.types import Resource
from ignition.errors import FetchError, NeedsNetwork
from ignition.log import Logger
from ignition.resources import dataurl

if TYPE_CHECKING:  # requests is imported only when something is fetched over HTTP
    from ignition.resources.http import HttpClient

HASH_FUNCTIONS = {"sha512": 128, "sha256": 64}  # hex digits of each digest


@dataclass(frozen=True)
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
        httpHeaders); no source means no contents, as in Ignition."""
        if res.source is None:
            return b""
        headers = []
        for h in res.http_headers:
            if not h.value:
                raise FetchError(f"HTTP header {h.name!r} for {redact.url(res.source)} has no value")
            headers.append((h.name, h.value))
        return self.fetch(
            res.source,
            compression=res.compression,
            verification=res.verification.hash,
            headers=tuple(headers),
        )

    def fetch(
        self,
        url: str,
        *,
        compression: str | None = None,
        verification: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> bytes:
        shown = redact.url(url)
        try:
            scheme = urlsplit(url).scheme.lower() if ":" in url else ""
        except ValueError as e:
            raise FetchError(f"invalid URL {shown}: {e}") from e
        if scheme == "data":
            raw = dataurl.decode(url)
        elif scheme in ("http", "https", "tftp", "s3", "arn", "gs"):
            if self.offline:
                raise NeedsNetwork(f"resource requires networking: {shown}")
            if scheme in ("http", "https"):
                raw = self.http_client().get(url, headers)
            elif scheme == "tftp":
                from ignition.resources import tftp

                raw = tftp.get(url)
            elif scheme == "gs":
                from ignition.resources import gcs

                raw = gcs.fetch(url, self.http_client(), self.logger)
            else:
                from ignition.resources import s3

                if compression:  # Ignition's ErrCompressionUnsupported
                    raise FetchError(f"compression is not supported with {scheme} URLs ({shown}): "
                                     "store the object uncompressed and drop `compression`")
                raw = s3.fetch(url, self.http_client(), self.logger)
        else:
            raise FetchError(f"unsupported URL scheme {scheme!r} in {shown}")
        data = decompress(raw, compression, shown)
        if verification:
            verify(data, verification, shown)
        return data


def decompress(raw: bytes, compression: str | None, shown: str) -> bytes:
    if not compression:
        return raw
    if compression != "gzip":
        raise FetchError(f"invalid compression method {compression!r} for {shown}; use gzip or none")
    import gzip  # these imports wait for the first resource that needs them:
    import zlib  # a stage that fetches nothing starts faster without them

    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise FetchError(f"{shown} is not valid gzip data: {e}") from e


def verify(data: bytes, spec: str, shown: str) -> None:
    """Check `data` against `sha512-<hex>`/`sha256-<hex>` (the decompressed
    bytes, as Ignition checks them)."""
    fn, sep, want = spec.partition("-")
    hexdigits = set("0123456789abcdefABCDEF")
    if not sep or fn not in HASH_FUNCTIONS or len(want) != HASH_FUNCTIONS[fn] or not set(want) <= hexdigits:
        raise FetchError(f"malformed hash specifier {spec!r}: use sha512-<128 hex> or sha256-<64 hex>")
    import hashlib
    import hmac

    got = hashlib.new(fn, data).hexdigest()
    if not hmac.compare_digest(got, want.lower()):
        raise FetchError(f"hash verification failed for {shown} (calculated {fn}-{got} but expected {spec})")
