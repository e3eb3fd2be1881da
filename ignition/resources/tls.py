"""TLS for resources: the system roots plus the config's
`security.tls.certificateAuthorities`, each of whose PEM blocks must be a
certificate that parses, as Ignition requires."""

from __future__ import annotations

import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass

import certifi

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
    ctx = ssl.create_default_context()
    ctx.load_verify_locations(cafile=certifi.where())
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
    return ctx


def ssl_reason(e: BaseException) -> str:
    if isinstance(e, ssl.SSLCertVerificationError) and e.verify_message:
        return f"certificate verify failed: {e.verify_message}"
    if isinstance(e, ssl.SSLError) and e.reason:
        return str(e.reason).replace("_", " ").lower()
    return str(e)
