"""RFC 2397 data URLs: `data:[<mediatype>][;base64],<data>`."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_to_bytes

from ignition.errors import FetchError


def decode(url: str) -> bytes:
    """The bytes a data URL carries. Errors never quote the URL: it may hold
    a secret."""
    if url[:5].lower() != "data:":
        raise FetchError("not a data URL")
    header, sep, payload = url[5:].partition(",")
    if not sep:
        raise FetchError("invalid data URL: no ',' separates the media type from the data")
    if "#" in payload:
        # In a URL '#' starts a fragment; Ignition rejects it in data URLs.
        raise FetchError("invalid data URL: '#' must be percent-encoded as %23")
    data = unquote_to_bytes(payload)
    if header.split(";")[-1].strip().lower() == "base64":
        try:
            compact = b"".join(data.split())
            return base64.b64decode(compact + b"=" * (-len(compact) % 4), validate=True)
        except (binascii.Error, ValueError) as e:
            raise FetchError(f"invalid data URL: the base64 data does not decode ({e})") from e
    return data
