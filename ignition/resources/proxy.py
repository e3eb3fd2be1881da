"""Choosing the proxy for a URL from the config's `ignition.proxy` (never
from the environment), with the semantics of Go's
golang.org/x/net/http/httpproxy, which Ignition uses."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from ignition.config.types import Proxy


def proxy_for(url: str, proxy: Proxy) -> str | None:
    """The proxy for `url` with the semantics of Go's
    golang.org/x/net/http/httpproxy (what Ignition uses): httpProxy for http,
    httpsProxy for https, never for localhost or a loopback address, and not
    for hosts matched by noProxy (`*`, exact or suffix domain with an optional
    leading `.` or `*.`, IP, CIDR, each optionally with `:port`)."""
    parts = urlsplit(url)
    chosen = {"http": proxy.http_proxy, "https": proxy.https_proxy}.get(parts.scheme)
    if not chosen:
        return None
    host = (parts.hostname or "").lower()
    try:
        port = str(parts.port or (443 if parts.scheme == "https" else 80))
    except ValueError:
        return None
    ip = _parse_ip(host)
    if host == "localhost" or (ip is not None and ip.is_loopback):
        return None
    for entry in proxy.no_proxy:
        if _no_proxy_match(entry.strip().lower(), host, port, ip):
            return None
    return chosen if "://" in chosen else "http://" + chosen


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


def _no_proxy_match(
    entry: str, host: str, port: str, ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None
) -> bool:
    if not entry:
        return False
    if entry == "*":
        return True
    if "/" in entry:
        try:
            return ip is not None and ip in ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return False
    ehost, eport = entry, ""
    m = re.fullmatch(r"\[([^\]]*)\](?::(\d*))?|([^:]*):(\d*)", entry)
    if m:
        ehost = m.group(1) if m.group(1) is not None else m.group(3)
        eport = (m.group(2) if m.group(1) is not None else m.group(4)) or ""
    if not ehost:
        return False
    if eport and eport != port:
        return False
    eip = _parse_ip(ehost)
    if eip is not None:
        return ip is not None and ip == eip
    if ip is not None:
        return False
    if ehost.startswith("*."):
        ehost = ehost[1:]
    if ehost.startswith("."):
        return host.endswith(ehost)
    return host == ehost or host.endswith("." + ehost)
