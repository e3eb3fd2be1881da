"""RFC 2397 data URLs: `data:[<mediatype>][;base64],<data>`.

The syntax accepted is the one Ignition's data URL parser accepts (and so
what a config must use to boot with either): a media type, if any, is
`type/subtype` of RFC 2045 tokens whose type is a known discrete or composite
type or an `x-` token; parameters are `;attr=value` or `;attr="quoted"`;
`;base64` comes last. Plain data holds only URL characters (no space, no
control characters, none of <>#"{}|\\^[]`) with valid %XX escapes; base64 data
holds only the base64 alphabet and newlines.
"""

from __future__ import annotations

import base64
import binascii
import re

from ignition.errors import FetchError

_TSPECIALS = set('()<>@,;:\\"/[]?=')
_DISCRETE = ("text", "image", "audio", "video", "application")
_COMPOSITE = ("message", "multipart")
_URL_EXCLUDED = set(' <>#"{}|\\^[]`')
_BASE64 = re.compile(r"[A-Za-z0-9+/=\n]*\Z")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _token(text: str) -> bool:
    return bool(text) and all(33 <= ord(c) < 127 and c not in _TSPECIALS for c in text)


def _url_char(c: str) -> bool:
    return 32 <= ord(c) < 127 and c not in _URL_EXCLUDED


def _media_type(mt: str) -> str:
    """Why `type/subtype` is not acceptable ("" if it is)."""
    kind, sep, sub = mt.partition("/")
    if not sep:
        return "the media type has no '/' (write e.g. text/plain, or nothing)"
    if not _token(kind) or not _token(sub):
        return "invalid character in the media type"
    if not (kind.lower().startswith("x-") or kind.startswith(_DISCRETE) or kind.startswith(_COMPOSITE)):
        return f"unknown media type {kind!r}"
    return ""


def _params(params: list[str]) -> tuple[bool, str]:
    """(base64?, why the parameters are not acceptable)."""
    for i, param in enumerate(params):
        attr, eq, value = param.partition("=")
        if not eq:
            if i == len(params) - 1 and attr == "base64":  # exactly, as Ignition: not BASE64
                return True, ""
            return False, "a parameter without '=' other than a final ';base64'"
        if not _token(attr):
            return False, "invalid character in a parameter name"
        if value.startswith('"'):
            if len(value) < 2 or not value.endswith('"') or not value.isascii():
                return False, "an unterminated or non-ASCII quoted parameter value"
        elif not _token(value):
            return False, "invalid character in a parameter value"
    return False, ""


def _split_header(text: str) -> list[str] | None:
    """[media type, param, ..., data], split at ';' up to the first ',' outside a quoted
    parameter value (which may hold both, and backslash escapes); [text] when there is
    no such ','; None for an unterminated quote."""
    parts: list[str] = []
    start, quoted, escaped = 0, False, False
    for i, c in enumerate(text):
        if quoted:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c in ";,":
            parts.append(text[start:i])
            start = i + 1
            if c == ",":
                return parts + [text[start:]]
    return None if quoted else [text]


def parse(url: str) -> tuple[bool, str]:
    """(base64?, the data part) of a syntactically valid data URL; FetchError otherwise.
    Errors never quote the URL: it may hold a secret."""
    if url[:5].lower() != "data:":
        raise FetchError("not a data URL")
    parts = _split_header(url[5:])
    if parts is None:
        raise FetchError("invalid data URL: an unterminated quoted parameter value")
    if len(parts) == 1:
        raise FetchError("invalid data URL: no ',' separates the media type from the data")
    mt, *params = parts[:-1]
    payload = parts[-1]
    why = _media_type(mt) if mt else ""
    is_b64, why_params = _params(params)
    why = why or why_params
    if why:
        raise FetchError(f"invalid data URL: {why}")
    if is_b64:
        if not _BASE64.match(payload):
            raise FetchError("invalid data URL: base64 data may hold only A-Z a-z 0-9 + / = and "
                             "newlines (no spaces, no %-escapes)")
    else:
        bad = next((i for i, c in enumerate(payload) if not _url_char(c)), None)
        if bad is not None:
            c = payload[bad]
            shown = "a space" if c == " " else repr(c) if c.isprintable() else f"byte {ord(c):#04x}"
            raise FetchError(f"invalid data URL: {shown} at data offset {bad} must be percent-encoded"
                             + (" (%23)" if c == "#" else " (%20)" if c == " " else ""))
        if _BAD_ESCAPE.search(payload):
            raise FetchError("invalid data URL: '%' must start an escape of two hex digits (%25 for '%')")
    return is_b64, payload


def decode(url: str) -> bytes:
    """The bytes a data URL carries."""
    is_b64, payload = parse(url)
    if is_b64:
        compact = "".join(payload.split())
        try:
            return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
        except (binascii.Error, ValueError) as e:
            raise FetchError(f"invalid data URL: the base64 data does not decode ({e})") from e
    from urllib.parse import unquote_to_bytes  # not at import: see fetcher.py

    return unquote_to_bytes(payload)
