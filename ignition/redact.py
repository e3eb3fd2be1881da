"""Keeping secrets out of logs and error messages.

Configs carry secrets in URLs (credentials, signed query strings) and in data
URLs (inline file contents: keys, certificates). Anything that logs or reports a
URL passes it through `url()` first.
"""

from __future__ import annotations


def url(raw: str) -> str:
    """A form of `raw` that is safe to log: data URLs are reduced to their
    size, passwords and query values are masked."""
    if raw.strip()[:5].lower() == "data:":
        return f"data URL ({len(raw)} characters)"
    from urllib.parse import urlsplit, urlunsplit  # here: a stage that logs no URL never loads it

    try:
        parts = urlsplit(raw)
    except ValueError:
        return "<unparsable URL>"
    if parts.scheme.lower() == "data":
        return f"data URL ({len(raw)} characters)"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"***@{host}"
    query = parts.query
    if query:
        query = "&".join(
            (p.split("=", 1)[0] + "=***") if "=" in p else p for p in query.split("&")
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
