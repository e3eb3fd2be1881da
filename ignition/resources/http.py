"""HTTP(S) fetching with Ignition's retry policy, headers, proxy and CA rules.

Figures from coreos/ignition internal/resource/http.go (`initialBackoff`,
`maxBackoff`, `defaultHttpResponseHeaderTimeout`, `defaultHttpTotalTimeout`) and
url.go (`configHeaders`, `CheckRedirect`):
- the backoff starts at 100 ms and is doubled *before* each wait, so the first
  wait is 200 ms, then 400 ms, 800 ms, ... capped at 5 s (docs/operator-notes.md
  says 100 ms; the code waits 200 ms first);
- no attempt limit: only `timeouts.httpTotal` (0/None = unlimited) bounds the
  loop, and the error is then "unable to fetch resource in time";
- `timeouts.httpResponseHeaders` (default 10 s) bounds each attempt's wait for
  the response headers; dialing is bounded by 30 s as Go's dialer is;
- status < 500 ends the loop (200/204 ok, 404 "resource not found", anything
  else "failed to fetch resource"); >= 500 and transport errors are retried.

Ours on top: a fetch running under cancel.cancel_scope (a sibling of a parallel
fetch that failed for good) makes no new attempt once told to stop, and its
backoff sleep ends at once (cancel.Cancelled).
"""

from __future__ import annotations

import http.cookiejar
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import HTTPError as Urllib3Error

import ignition
from ignition import redact
from ignition.config.types import Proxy, Timeouts
from ignition.errors import FetchError
from ignition.log import Logger
from ignition.resources import cancel as cancel_mod
from ignition.resources.httperrors import MAX_REDIRECTS
from ignition.resources.httperrors import describe as _describe
from ignition.resources.httperrors import incomplete as _incomplete
from ignition.resources.httperrors import secrets_of as _secrets_of
from ignition.resources.proxy import proxy_for
from ignition.resources.stream import CHUNK, MemorySink, Writer
from ignition.resources.tls import CABundle, LazySSLContext

INITIAL_BACKOFF = 0.1  # seconds; doubled before the first wait, as Ignition does
MAX_BACKOFF = 5.0
DEFAULT_RESPONSE_HEADERS_TIMEOUT = 10
DIAL_TIMEOUT = 30.0

DEFAULT_HEADERS: Mapping[str, str] = {
    "User-Agent": f"Ignition/{ignition.__version__}",
    # Same form as Ignition's configHeaders, with the spec version this build speaks.
    "Accept": f"application/vnd.coreos.ignition+json;version={ignition.SPEC_VERSION}, */*;q=0.1",
    # Never let a server compress transparently: `compression` in the config says what the bytes are.
    "Accept-Encoding": "identity",
}

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
        return _proxies(str(prepared_request.url), self._proxy)


def _proxies(url: str, proxy: Proxy) -> dict[str, str]:
    chosen = proxy_for(url, proxy)
    scheme = urlsplit(url).scheme
    return {scheme: chosen} if chosen else {}


class _Adapter(HTTPAdapter):
    """Every connection (direct or through a proxy) verifies against our
    context only, not against a bundle path requests would pick. The context
    is built when a TLS connection first needs it (tls.LazySSLContext)."""

    def __init__(self, ssl_context: LazySSLContext) -> None:
        self._ssl_context = ssl_context
        super().__init__(max_retries=0)

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


class _GiveUp(Exception):
    """A failure that retrying cannot fix."""


class _Retry(Exception):
    """A failed attempt worth another one after the backoff."""


class HttpClient:
    """GETs with Ignition's retry loop over one requests.Session. Connections
    are reused; `get` never changes the session (headers, proxies and timeouts
    go with each request, cookies are refused) and urllib3's pools are
    thread-safe, so a thread pool may share one client."""

    def __init__(
        self,
        logger: Logger,
        timeouts: Timeouts | None = None,
        proxy: Proxy | None = None,
        cas: Sequence[bytes | CABundle] = (),
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        timeouts = timeouts or Timeouts()
        proxy = proxy or Proxy()
        headers = timeouts.http_response_headers
        if headers is None:
            headers = DEFAULT_RESPONSE_HEADERS_TIMEOUT
        # 0 means no limit, as Go's ResponseHeaderTimeout (requests would take 0 as "do not wait").
        self.response_headers_timeout: float | None = float(headers) if headers else None
        self.total_timeout = float(timeouts.http_total or 0)
        self.proxy = proxy
        self._sleep = sleep
        self._monotonic = monotonic
        session = _Session(proxy)
        session.trust_env = False  # proxies and CAs come from the config only, never the environment
        session.headers = CaseInsensitiveDict()
        session.max_redirects = MAX_REDIRECTS
        session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        adapter = _Adapter(LazySSLContext(cas))
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        self.session = session

    def close(self) -> None:
        self.session.close()

    def get(self, url: str, headers: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> bytes:
        """The body in memory (metadata services, small documents)."""
        sink = MemorySink(redact.url(url), limit=None)
        self.get_into(url, sink, headers)
        return sink.getvalue()

    def get_into(self, url: str, sink: Writer, headers: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> None:
        """Stream the body into `sink`; each attempt starts it over (sink.reset)."""
        shown = redact.url(url)
        merged: CaseInsensitiveDict[str] = CaseInsensitiveDict(DEFAULT_HEADERS)
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        for name, value in pairs:
            merged[name] = value  # last value of a name wins, as Go's Header.Set does
        secrets = _secrets_of(url)
        deadline = self._monotonic() + self.total_timeout if self.total_timeout else None
        delay = INITIAL_BACKOFF
        attempt = 0
        reason = ""
        cancel = cancel_mod.current()
        while True:
            attempt += 1
            self.logger.info(f"GET {shown}: attempt #{attempt}")
            try:
                if attempt > 1:
                    sink.reset()
                self._attempt(url, sink, shown, merged, deadline, secrets)
                return
            except _GiveUp as e:
                raise FetchError(str(e)) from None
            except _Retry as e:
                reason = str(e)
                self.logger.info(f"GET {shown}: attempt #{attempt} failed: {reason}")
            delay = min(delay * 2, MAX_BACKOFF)
            if deadline is not None and self._monotonic() + delay >= deadline:
                raise FetchError(
                    f"unable to fetch resource in time: GET {shown} failed {attempt} times within "
                    f"httpTotal={self.total_timeout:g}s (last: {reason})"
                )
            if cancel is None:
                self._sleep(delay)
            elif self._wait_cancelled(cancel, delay):
                self.logger.info(f"GET {shown}: not retrying, another resource failed")
                raise cancel_mod.Cancelled(
                    f"GET {shown}: stopped retrying after {attempt} attempts because another resource "
                    f"failed (last: {reason})"
                )

    def _wait_cancelled(self, cancel: threading.Event, delay: float) -> bool:
        """Sleep through the backoff unless `cancel` is set first; True if it was."""
        if self._sleep is time.sleep:
            return cancel.wait(delay)
        self._sleep(delay)  # an injected clock (tests): sleep on it, then look
        return cancel.is_set()

    def _attempt(
        self, url: str, sink: Writer, shown: str, headers: CaseInsensitiveDict[str], deadline: float | None,
        secrets: Sequence[str],
    ) -> None:
        read_timeout = self.response_headers_timeout
        connect_timeout = DIAL_TIMEOUT
        if deadline is not None:
            remaining = deadline - self._monotonic()
            if remaining <= 0:
                raise _Retry("httpTotal exhausted")
            read_timeout = remaining if read_timeout is None else min(read_timeout, remaining)
            connect_timeout = min(connect_timeout, remaining)
        try:
            resp = self.session.get(
                url,
                headers=headers,
                proxies=_proxies(url, self.proxy),
                timeout=(connect_timeout, read_timeout),
                stream=True,
                allow_redirects=True,
            )
        except (requests.exceptions.TooManyRedirects, requests.exceptions.InvalidURL,
                requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema) as e:
            raise _GiveUp(f"failed to fetch resource {shown}: {_describe(e, secrets)}") from e
        except requests.RequestException as e:
            raise _Retry(_describe(e, secrets)) from e
        with resp:
            code = resp.status_code
            self.logger.info(f"GET {shown}: HTTP {code} {resp.reason or ''}".rstrip())
            if code >= 500:
                raise _Retry(f"HTTP {code}")
            if code == 404:
                raise _GiveUp(f"resource not found: {shown} (HTTP 404)")
            if code not in (200, 204):
                raise _GiveUp(f"failed to fetch resource {shown}: HTTP {code}")
            self._read_body(resp, sink, shown, deadline, secrets)

    def _read_body(
        self, resp: requests.Response, sink: Writer, shown: str, deadline: float | None, secrets: Sequence[str]
    ) -> None:
        try:
            # Raw bytes: a Content-Encoding the server added anyway is not undone,
            # as with Go's transport once Accept-Encoding is set explicitly.
            for chunk in resp.raw.stream(CHUNK, decode_content=False):
                sink.write(chunk)  # a FetchError of the sink (ENOSPC, bad gzip) is final
                if deadline is not None and self._monotonic() > deadline:
                    raise _Retry("httpTotal exhausted while reading the body")
        except (requests.RequestException, Urllib3Error, OSError) as e:
            short = _incomplete(e)
            if short is not None:
                # Go's client fails here and Ignition does not retry: a server that
                # keeps cutting the body short must not hang the boot (without
                # httpTotal the loop has no end).
                raise _GiveUp(f"failed to fetch resource {shown}: the server sent {short} and "
                              "closed the connection") from e
            raise _Retry(f"reading the body: {_describe(e, secrets)}") from e
