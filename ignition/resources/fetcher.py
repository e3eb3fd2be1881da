"""Fetching a resource by URL, then gunzip and hash verification.

In offline mode (fetch-offline) anything but a data URL raises NeedsNetwork,
which is how Ignition decides that the network must be brought up.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import zlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from ignition import redact
from ignition.errors import FetchError, NeedsNetwork
from ignition.log import Logger
from ignition.resources import dataurl

HASH_FUNCTIONS = {"sha512": 128, "sha256": 64}  # hex digits of each digest


@dataclass(frozen=True)
class Fetcher:
    logger: Logger
    offline: bool = False

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
            raise FetchError(
                f"fetching {scheme} resources is not implemented in this build yet ({shown}); "
                "use a data URL"
            )
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
    got = hashlib.new(fn, data).hexdigest()
    if not hmac.compare_digest(got, want.lower()):
        raise FetchError(f"hash verification failed for {shown} (calculated {fn}-{got} but expected {spec})")
