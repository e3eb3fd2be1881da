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

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import ignition
from ignition import redact
from ignition.config.types import Proxy, Timeouts
from ignition.errors import FetchError
from ignition.log import Logger
from ignition.resources import cancel as cancel_mod
from ignition.resources import httpconn
from ignition.resources.httperrors import MAX_REDIRECTS
from ignition.resources.httperrors import describe as _describe
from ignition.resources.httperrors import incomplete as _incomplete
from ignition.resources.httperrors import secrets_of as _secrets_of
from ignition.resources.stream import CHUNK, MemorySink, Writer
from ignition.resources.tls import CABundle, LazySSLContext

if TYPE_CHECKING:  # requests is imported only for what the fast path does not take
    import http.client

    import requests

INITIAL_BACKOFF = 0.1  # seconds; doubled before the first wait, as Ignition does
MAX_BACKOFF = 5.0
DEFAULT_RESPONSE_HEADERS_TIMEOUT = 10
DIAL_TIMEOUT = 30.0
DEFAULT_POOL_SIZE = 10  # connections kept per host, as requests' adapters keep by default
_REDIRECTS = (301, 302, 303, 307, 308)  # requests' REDIRECT_STATI

DEFAULT_HEADERS: Mapping[str, str] = {
    "User-Agent": f"Ignition/{ignition.__version__}",
    # Same form as Ignition's configHeaders, with the spec version this build speaks.
    "Accept": f"application/vnd.coreos.ignition+json;version={ignition.SPEC_VERSION}, */*;q=0.1",
    # Never let a server compress transparently: `compression` in the config says what the bytes are.
    "Accept-Encoding": "identity",
}


class _GiveUp(Exception):
    """A failure that retrying cannot fix."""


class _Retry(Exception):
    """A failed attempt worth another one after the backoff."""


class _Fallback(Exception):
    """The fast path cannot send this hop as requests would: the attempt
    starts over through requests."""


class HttpClient:
    """GETs with Ignition's retry loop. Connections are reused; `get` never
    changes shared state (headers, proxies and timeouts go with each request,
    cookies are refused) and the pools are thread-safe, so a thread pool may
    share one client.

    Two ways to the wire, chosen per attempt: the fast path (httpconn.py,
    http.client with a keep-alive pool) when the config names no proxy and
    the URL and headers are ones it sends exactly as requests would;
    otherwise, or with `fast=False`, a requests Session, made on first use
    (`session`; the s3, gs and metadata helpers use it directly)."""

    def __init__(
        self,
        logger: Logger,
        timeouts: Timeouts | None = None,
        proxy: Proxy | None = None,
        cas: Sequence[bytes | CABundle] = (),
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        fast: bool = True,
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
        self._ssl_context = LazySSLContext(cas)
        self.pool_size = DEFAULT_POOL_SIZE
        self._lock = threading.Lock()
        self._session: requests.Session | None = None
        # A proxy applies per URL, redirect targets included: simplest kept whole on requests.
        self._pool = httpconn.Pool(self._ssl_context.get, self.pool_size) \
            if fast and not (proxy.http_proxy or proxy.https_proxy) else None

    @property
    def session(self) -> requests.Session:
        """The requests Session (made on first use)."""
        with self._lock:
            if self._session is None:
                from ignition.resources.httpsession import make_session

                self._session = make_session(self.proxy, self._ssl_context, self.pool_size)
            return self._session

    @property
    def fast(self) -> bool:
        """Whether plain requests take the fast path (no proxy in the config)."""
        return self._pool is not None

    def ensure_pool_size(self, size: int) -> None:
        """Keep up to `size` connections per host, so `size` concurrent
        requests reuse their connections instead of opening extra ones that
        would be thrown away after use."""
        with self._lock:
            if size <= self.pool_size:
                return
            self.pool_size = size
            if self._pool is not None:
                self._pool.maxsize = size
            session = self._session
        if session is not None:
            from ignition.resources.httpsession import resize

            resize(session, size)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        if self._session is not None:
            self._session.close()

    def get(self, url: str, headers: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> bytes:
        """The body in memory (metadata services, small documents)."""
        sink = MemorySink(redact.url(url), limit=None)
        self.get_into(url, sink, headers)
        return sink.getvalue()

    def get_into(self, url: str, sink: Writer, headers: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> None:
        """Stream the body into `sink`; each attempt starts it over (sink.reset)."""
        shown = redact.url(url)
        # By lower-case name: (the name as last given, value), in first-given order, as
        # requests' CaseInsensitiveDict keeps them; the last value of a name wins, as Go's Set.
        merged: dict[str, tuple[str, str]] = {k.lower(): (k, v) for k, v in DEFAULT_HEADERS.items()}
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        for name, value in pairs:
            merged[name.lower()] = (name, value)
        send = list(merged.values())
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
                self._attempt(url, sink, shown, send, deadline, secrets)
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
        self, url: str, sink: Writer, shown: str, headers: list[tuple[str, str]], deadline: float | None,
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
        if self._pool is not None:
            target = httpconn.plain_target(url)
            if target is not None and httpconn.plain_headers(headers):
                try:
                    self._fast_attempt(self._pool, url, target, sink, shown, headers, connect_timeout,
                                       read_timeout, deadline, secrets)
                    return
                except _Fallback:
                    pass  # a redirect to a URL only requests sends as requests does: start over there
        self._requests_attempt(url, sink, shown, headers, connect_timeout, read_timeout, deadline, secrets)

    # the fast path (httpconn.py)

    def _fast_attempt(
        self, pool: httpconn.Pool, url: str, target: httpconn.Target, sink: Writer, shown: str,
        headers: list[tuple[str, str]], connect_timeout: float, read_timeout: float | None,
        deadline: float | None, secrets: Sequence[str],
    ) -> None:
        """One attempt as requests makes it: redirects followed (at most
        MAX_REDIRECTS, every header dropped), the final status judged, the
        body streamed."""
        import http.client

        redirects = 0
        while True:
            try:
                conn, resp = pool.send(target, headers, connect_timeout, read_timeout)
            except httpconn.ConnectTimeout as e:
                raise _Retry("connection timed out") from e
            except TimeoutError as e:
                raise _Retry("no response within the httpResponseHeaders timeout") from e
            except (OSError, http.client.HTTPException) as e:
                raise _Retry(_describe(e, secrets)) from e
            code = resp.status
            location = resp.getheader("location")
            if code not in _REDIRECTS or location is None:
                break
            self._drain(pool, target, conn, resp, secrets)  # the connection is no longer ours
            if redirects >= MAX_REDIRECTS:
                raise _GiveUp(f"failed to fetch resource {shown}: more than {MAX_REDIRECTS} redirects")
            redirects += 1
            url = _redirect_url(url, location) or ""
            next_target = httpconn.plain_target(url)
            if next_target is None:
                raise _Fallback()
            target, headers = next_target, []  # Ignition sends no header of its own after a redirect
        with_body = False
        try:
            self._check_status(shown, code, resp.reason)
            self._fast_body(resp, sink, shown, deadline, secrets)
            with_body = True
        finally:
            if with_body and not resp.will_close:
                pool.release(target, conn)
            else:
                conn.close()  # as requests closes a response whose body was not read

    def _drain(self, pool: httpconn.Pool, target: httpconn.Target, conn: http.client.HTTPConnection,
               resp: http.client.HTTPResponse, secrets: Sequence[str]) -> None:
        """Read a redirect's body away (requests does, to reuse the connection)."""
        import http.client

        try:
            while resp.read(CHUNK):
                pass
        except TimeoutError as e:
            conn.close()
            raise _Retry("no response within the httpResponseHeaders timeout") from e
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            raise _Retry(_describe(e, secrets)) from e
        if resp.will_close or resp.length:
            conn.close()
        else:
            pool.release(target, conn)

    def _fast_body(self, resp: http.client.HTTPResponse, sink: Writer, shown: str, deadline: float | None,
                   secrets: Sequence[str]) -> None:
        import http.client

        got = 0
        try:
            # Raw bytes: a Content-Encoding the server added anyway is not undone,
            # as with Go's transport once Accept-Encoding is set explicitly.
            while chunk := resp.read(CHUNK):
                got += len(chunk)
                sink.write(chunk)  # a FetchError of the sink (ENOSPC, bad gzip) is final
                if deadline is not None and self._monotonic() > deadline:
                    raise _Retry("httpTotal exhausted while reading the body")
        except TimeoutError as e:
            raise _Retry("reading the body: no response within the httpResponseHeaders timeout") from e
        except http.client.IncompleteRead as e:
            # A chunk cut short: http.client raises a bare IncompleteRead from the one
            # with the counts, which urllib3 reports (as bytes of a Content-Length).
            cut = e if isinstance(e.expected, int) else e.__cause__
            if isinstance(cut, http.client.IncompleteRead) and isinstance(cut.expected, int):
                raise _GiveUp(f"failed to fetch resource {shown}: the server sent {_incomplete(cut)} and "
                              "closed the connection") from e
            # A malformed or missing chunk size (urllib3's InvalidChunkLength): retried, and
            # described by its root cause (the ValueError of the size line) as urllib3's is.
            raise _Retry(f"reading the body: {_describe(e, secrets)}") from e
        except (OSError, http.client.HTTPException) as e:
            raise _Retry(f"reading the body: {_describe(e, secrets)}") from e
        if resp.length:
            # http.client returns short at EOF; urllib3 raises IncompleteRead there.
            # Go's client fails here and Ignition does not retry (see _read_body).
            raise _GiveUp(f"failed to fetch resource {shown}: the server sent {got} of the "
                          f"{got + resp.length} bytes its Content-Length announced and closed the connection")

    # through requests

    def _requests_attempt(
        self, url: str, sink: Writer, shown: str, headers: list[tuple[str, str]], connect_timeout: float,
        read_timeout: float | None, deadline: float | None, secrets: Sequence[str],
    ) -> None:
        import requests

        from ignition.resources.httpsession import proxies_for

        try:
            resp = self.session.get(
                url,
                headers=dict(headers),
                proxies=proxies_for(url, self.proxy),
                timeout=(connect_timeout, read_timeout),
                stream=True,
                allow_redirects=True,
            )
        except (requests.exceptions.TooManyRedirects, requests.exceptions.InvalidURL,
                requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema,
                requests.exceptions.InvalidHeader) as e:  # a header requests refuses: retrying cannot help
            raise _GiveUp(f"failed to fetch resource {shown}: {_describe(e, secrets)}") from e
        except requests.RequestException as e:
            raise _Retry(_describe(e, secrets)) from e
        with resp:
            code = resp.status_code
            self._check_status(shown, code, resp.reason)
            self._read_body(resp, sink, shown, deadline, secrets)

    def _check_status(self, shown: str, code: int, reason: str | None) -> None:
        """Log the answer; a 5xx is retried, any other code but 200 and 204 ends the fetch."""
        self.logger.info(f"GET {shown}: HTTP {code} {reason or ''}".rstrip())
        if code >= 500:
            raise _Retry(f"HTTP {code}")
        if code == 404:
            raise _GiveUp(f"resource not found: {shown} (HTTP 404)")
        if code not in (200, 204):
            raise _GiveUp(f"failed to fetch resource {shown}: HTTP {code}")

    def _read_body(
        self, resp: requests.Response, sink: Writer, shown: str, deadline: float | None, secrets: Sequence[str]
    ) -> None:
        import requests
        from urllib3.exceptions import HTTPError as Urllib3Error

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


def _redirect_url(current: str, location: str) -> str | None:
    """The next URL as requests computes it (SessionRedirectMixin.resolve_redirects)
    for an ASCII Location; None for anything else, left to requests."""
    if not location.isascii():
        return None  # requests re-decodes it (latin-1 to UTF-8) first
    try:
        if location.startswith("//"):
            location = f"{urlsplit(current).scheme}:{location}"
        if not urlsplit(location).netloc:
            return urljoin(current, location)
    except ValueError:
        return None
    return location
