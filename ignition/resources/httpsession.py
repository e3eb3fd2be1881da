"""The requests Session behind HttpClient's slow path (split from http.py so
that importing http.py does not import requests): proxies, URLs and headers
the fast path (httpconn.py) does not take, and the s3, gs and metadata helpers
that talk to the session directly."""

from __future__ import annotations

import http.cookiejar
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from ignition.config.types import Proxy
from ignition.resources.httperrors import MAX_REDIRECTS
from ignition.resources.proxy import proxy_for
from ignition.resources.tls import LazySSLContext


class _Session(requests.Session):
    """A session that forgets every header (defaults and the config's
    httpHeaders) when it follows a redirect, as Ignition does, and chooses the
    proxy again from the config for the redirect's target."""

    def __init__(self, proxy: Proxy) -> None:
        super().__init__()
        self._proxy = proxy

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        prepared_request.headers.clear()

    def rebuild_proxies(
        self, prepared_request: requests.PreparedRequest, proxies: Any
    ) -> dict[str, str]:
        return proxies_for(str(prepared_request.url), self._proxy)


def proxies_for(url: str, proxy: Proxy) -> dict[str, str]:
    """requests' `proxies` argument for `url` under the config's proxy settings."""
    chosen = proxy_for(url, proxy)
    scheme = urlsplit(url).scheme
    return {scheme: chosen} if chosen else {}


class _Adapter(HTTPAdapter):
    """Every connection (direct or through a proxy) verifies against our
    context only, not against a bundle path requests would pick. The context
    is built when a TLS connection first needs it (tls.LazySSLContext)."""

    def __init__(self, ssl_context: LazySSLContext, pool_maxsize: int) -> None:
        self._ssl_context = ssl_context
        super().__init__(max_retries=0, pool_maxsize=pool_maxsize)

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: bool | str, cert: str | tuple[str, str] | None = None
    ) -> Any:
        attrs: Any = super().build_connection_pool_key_attributes(request, verify, cert)
        host_params, pool_kwargs = attrs
        if host_params.get("scheme") == "https":
            pool_kwargs["ssl_context"] = self._ssl_context.get()
        return host_params, pool_kwargs

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        proxy_kwargs["ssl_context"] = self._ssl_context.get()
        return super().proxy_manager_for(proxy, **proxy_kwargs)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        conn.cert_reqs = "CERT_REQUIRED"
        conn.ca_certs = None
        conn.ca_cert_dir = None


def make_session(proxy: Proxy, ssl_context: LazySSLContext, pool_maxsize: int) -> requests.Session:
    """Proxies and CAs from the config only (never the environment), no
    default headers, Go's redirect limit, no cookies kept."""
    session = _Session(proxy)
    session.trust_env = False
    session.headers = CaseInsensitiveDict()
    session.max_redirects = MAX_REDIRECTS
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    adapter = _Adapter(ssl_context, pool_maxsize)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def resize(session: requests.Session, size: int) -> None:
    """Let each of the session's adapters keep `size` connections per host."""
    for adapter in session.adapters.values():
        if not isinstance(adapter, HTTPAdapter) or getattr(adapter, "_pool_maxsize", 0) >= size:
            continue
        adapter.close()  # drops idle connections of the old, smaller pools
        # init_poolmanager is what HTTPAdapter itself calls; a subclass's
        # override (our TLS context) stays in effect.
        adapter.init_poolmanager(getattr(adapter, "_pool_connections", 10), size,
                                 block=getattr(adapter, "_pool_block", False))
