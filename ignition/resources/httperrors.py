"""Short, secret-free reasons for failed HTTP attempts (split from http.py).

Library messages quote URLs with their query strings, so a reason is built
from the root cause and scrubbed of the URL's masked parts.
"""

from __future__ import annotations

import re
import ssl
import sys
from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

from ignition.resources.tls import ssl_reason

MAX_REDIRECTS = 10  # Go's http.Client default


def incomplete(e: BaseException) -> str | None:
    """"N of M bytes" when `e` comes from a body shorter than its Content-Length."""
    import http.client

    cur: BaseException | None = e
    seen: set[int] = set()
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        # A malformed chunk (urllib3's InvalidChunkLength) is an IncompleteRead too: not this case.
        if isinstance(cur, http.client.IncompleteRead) and type(cur).__name__ == "IncompleteRead":
            # urllib3's IncompleteRead keeps partial/expected as byte counts (http.client's as bytes).
            got, left = cur.partial, cur.expected
            got_n = got if isinstance(got, int) else len(got)
            if isinstance(left, int):
                return f"{got_n} of the {got_n + left} bytes its Content-Length announced"
            return f"{got_n} bytes, fewer than its Content-Length announced"
        nxt = cur.args[1] if len(cur.args) > 1 and isinstance(cur.args[1], BaseException) else None
        cur = nxt or cur.__cause__ or cur.__context__
    return None


def describe(e: BaseException, secrets: Sequence[str]) -> str:
    """A short reason for a failed attempt built from the root cause, so it
    carries no URL (requests' messages quote URLs with their query strings);
    what is left is scrubbed of the URL's masked parts too."""
    return _scrub(_root_reason(e), secrets)


def _root_reason(e: BaseException) -> str:
    seen: set[int] = set()
    cur: BaseException | None = e
    chain: list[BaseException] = []
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        chain.append(cur)
        nxt = getattr(cur, "reason", None)
        if not isinstance(nxt, BaseException):
            nxt = cur.args[0] if cur.args and isinstance(cur.args[0], BaseException) else None
        cur = nxt or cur.__cause__ or cur.__context__
    for c in chain:
        if isinstance(c, ssl.SSLError):
            return f"TLS error: {ssl_reason(c)}"
    # requests' exceptions, if requests is in use at all (the fast path does not import it).
    req = sys.modules.get("requests")
    for c in chain:
        if (req is not None and isinstance(c, req.exceptions.ReadTimeout)) or type(c).__name__ == "ReadTimeoutError":
            return "no response within the httpResponseHeaders timeout"
        if (req is not None and isinstance(c, req.exceptions.ConnectTimeout)) \
                or type(c).__name__ == "ConnectTimeoutError":
            return "connection timed out"
        if req is not None and isinstance(c, req.exceptions.TooManyRedirects):
            return f"more than {MAX_REDIRECTS} redirects"
    for c in reversed(chain):
        if isinstance(c, OSError) and c.strerror:
            return f"{type(c).__name__}: {c.strerror}"
    root = chain[-1]
    text = str(root)
    # Strip anything URL-like from library messages as a last resort.
    text = re.sub(r"(url|host)[:=]\s*\S+", r"\1=<redacted>", text, flags=re.IGNORECASE)
    return f"{type(root).__name__}: {text}" if text else type(root).__name__


def secrets_of(url: str) -> list[str]:
    """The parts of `url` that redact.url masks, to scrub from any message."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    found = []
    if parts.password:
        found += [parts.password, unquote(parts.password)]
    if parts.query:
        found.append(parts.query)
        for p in parts.query.split("&"):
            if "=" in p and p.split("=", 1)[1]:
                value = p.split("=", 1)[1]
                found += [value, unquote(value)]
    # Values shorter than 4 characters are left alone: scrubbing them would
    # mangle every message and they protect nothing.
    return sorted({s for s in found if len(s) >= 4}, key=len, reverse=True)


def _scrub(text: str, secrets: Sequence[str]) -> str:
    for s in secrets:
        text = text.replace(s, "***")
    return text
