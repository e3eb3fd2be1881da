"""TLS for resources: the system roots plus the config's
`security.tls.certificateAuthorities`, each of whose PEM blocks must be a
certificate that parses, as Ignition requires."""

from __future__ import annotations

import re
import ssl
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from ignition import redact
from ignition.errors import FetchError

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)


@dataclass(frozen=True)
class CABundle:
    """PEM bytes of one `security.tls.certificateAuthorities` entry and where
    they came from (shown redacted in errors)."""

    source: str
    pem: bytes


def build_ssl_context(cas: Sequence[bytes | CABundle] = ()) -> ssl.SSLContext:
    """The system roots plus certifi's plus every certificate of `cas`.
    Each PEM block must be a certificate that parses, as Ignition requires."""
    import certifi  # only when a TLS connection is made

    ctx = ssl.create_default_context()
    ctx.load_verify_locations(cafile=certifi.where())
    _load_cas(ctx, cas)
    return ctx


def check_cas(cas: Sequence[bytes | CABundle]) -> None:
    """Raise what build_ssl_context would raise for `cas`, without loading
    the system's and certifi's roots (tens of ms; see LazySSLContext)."""
    _load_cas(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), cas)


class LazySSLContext:
    """build_ssl_context(cas), built on first use: a config whose sources are
    all plain http never needs it, and its roots take tens of ms to load.
    The config's own CAs are checked at once, so a bad one still fails the
    stage whether or not anything is fetched over TLS."""

    def __init__(self, cas: Sequence[bytes | CABundle] = ()) -> None:
        check_cas(cas)
        self._cas = tuple(cas)
        self._ctx: ssl.SSLContext | None = None
        self._lock = threading.Lock()

    def get(self) -> ssl.SSLContext:
        with self._lock:
            if self._ctx is None:
                self._ctx = build_ssl_context(self._cas)
            return self._ctx


def _load_cas(ctx: ssl.SSLContext, cas: Sequence[bytes | CABundle]) -> None:
    for i, ca in enumerate(cas):
        bundle = ca if isinstance(ca, CABundle) else CABundle(f"CA bundle #{i}", ca)
        shown = redact.url(bundle.source)
        blocks = list(_PEM_BLOCK.finditer(bundle.pem))
        if not blocks:
            raise FetchError(f"unable to decode CA ({shown}): no PEM certificate found")
        for n, block in enumerate(blocks, 1):
            if block.group(1) != b"CERTIFICATE":
                raise FetchError(
                    f"unable to parse CA ({shown}): PEM block #{n} is a {block.group(1).decode()}, "
                    "not a CERTIFICATE"
                )
            try:
                ctx.load_verify_locations(cadata=block.group(0).decode("ascii"))
            except (ssl.SSLError, ValueError, UnicodeDecodeError) as e:
                raise FetchError(f"unable to parse CA ({shown}): PEM block #{n}: {ssl_reason(e)}") from e


def ssl_reason(e: BaseException) -> str:
    if isinstance(e, ssl.SSLCertVerificationError) and e.verify_message:
        return f"certificate verify failed: {e.verify_message}"
    if isinstance(e, ssl.SSLError) and e.reason:
        return str(e.reason).replace("_", " ").lower()
    return str(e)
