"""Talking to a cloud's metadata service.

Every provider takes its base URL from the environment
(`IGNITION_METADATA_URL_<PLATFORM>`, see ignition.environment) and falls back to
the real address, so tests point providers at 127.0.0.1. Requests never go
through a proxy (trust_env off): metadata services are link-local. The service
is waited for until it answers (see waiting.py); 5xx and transport errors are
retried, a 404 or an empty body means the machine has no user data.

Logged: the redacted URL, statuses and failure reasons; never header values
(tokens) nor bodies (user data).
"""

from __future__ import annotations

import base64
import binascii
import errno
import http.client
import queue
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import ClassVar
from urllib.parse import unquote, urlsplit

import requests

from ignition import redact
from ignition.context import ProviderContext
from ignition.errors import FetchError, NeedsNetwork
from ignition.providers import body
from ignition.providers.waiting import Waiter
from ignition.record import record
from ignition.resources.http import DEFAULT_HEADERS

LINK_LOCAL = "http://169.254.169.254"
ATTEMPT_TIMEOUT = 10.0  # seconds per attempt, Ignition's default httpResponseHeaders timeout


@record(kw_only=False, slots=False)
class Response:
    """A metadata service's answer: status and body."""

    status: int
    body: bytes


# method, url, headers, timeout -> Response; raises OSError or requests' errors on transport failures
Transport = Callable[[str, str, Mapping[str, str], float], Response]


def requests_transport(method: str, url: str, headers: Mapping[str, str], timeout: float) -> Response:
    if zone_of(url) is not None:
        return zoned_transport(method, url, headers, timeout)
    with requests.Session() as session:
        session.trust_env = False  # no proxy, no netrc: the service is on the local link
        with session.request(method, url, headers=dict(headers), timeout=timeout, allow_redirects=True,
                             stream=True) as resp:
            return Response(resp.status_code, body.read_requests(resp, redact.url(url)))


def zone_of(url: str) -> str | None:
    """The zone of a scoped IPv6 host (`http://[fe80::1%25eth0]/`: eth0), else None."""
    netloc = urlsplit(url).netloc
    if "[" not in netloc or "%" not in netloc:
        return None
    return unquote(netloc[netloc.index("[") + 1:netloc.index("]")]).partition("%")[2] or None


def zoned_transport(method: str, url: str, headers: Mapping[str, str], timeout: float) -> Response:
    """A request to a scoped IPv6 address (OpenStack's fe80::a9fe:a9fe%<iface>):
    requests hands the host to the resolver still percent-encoded
    (`fe80::a9fe:a9fe%25eth0`, which no resolver knows), so these go through
    http.client with the zone decoded. Plain http, no redirects, no proxy: the
    service is on the local link."""
    parts = urlsplit(url)
    if parts.scheme != "http":
        raise OSError(errno.EPROTONOSUPPORT, f"only http is supported for scoped IPv6 addresses, not {parts.scheme}")
    host = unquote(parts.netloc[parts.netloc.index("[") + 1:parts.netloc.index("]")])
    conn = http.client.HTTPConnection(host, parts.port or 80, timeout=timeout)
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request(method, path, headers=dict(headers))
        resp = conn.getresponse()
        return Response(resp.status, body.read_http_client(resp, redact.url(url)))
    finally:
        conn.close()


def base_url(ctx: ProviderContext, platform: str, default: str) -> str:
    """The metadata base URL of `platform`: the environment's override, else `default`."""
    override = ctx.env.metadata_url(platform)
    return (override or default).rstrip("/")


def describe(e: BaseException) -> str:
    """A short reason without the URL (requests' messages quote it)."""
    seen: set[int] = set()
    cur: BaseException | None = e
    timed_out = False
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, OSError) and cur.strerror:
            return f"{type(cur).__name__}: {cur.strerror}"
        timed_out = timed_out or isinstance(cur, (TimeoutError, requests.exceptions.Timeout))
        reason = getattr(cur, "reason", None)
        cur = reason if isinstance(reason, BaseException) else (cur.__cause__ or cur.__context__)
    if timed_out:
        return "no answer in time"
    if isinstance(e, requests.exceptions.ConnectionError):
        return "connection failed"
    return type(e).__name__


def attempt(method: str, url: str, headers: Mapping[str, str], timeout: float,
            transport: Transport = requests_transport) -> Response | str:
    """One try: the response, or why there was none."""
    merged = dict(DEFAULT_HEADERS)
    merged.update(headers)
    try:
        return transport(method, url, merged, timeout)
    except (OSError, requests.RequestException) as e:
        return describe(e)


def race(urls: Sequence[str], headers: Mapping[str, str], timeout: float,
         transport: Transport = requests_transport) -> tuple[str, Response] | list[str]:
    """GET every URL of `urls` at once (the same service at several addresses);
    the first answer that ends the wait (status < 500) wins and is returned with
    its URL at once, without waiting for the slower ones. Otherwise the reason
    of each failure, in the order of `urls`.

    The losers run out in daemon threads, each bounded by `timeout`; nothing of
    theirs is used."""
    if len(urls) == 1:
        got = attempt("GET", urls[0], headers, timeout, transport)
        if isinstance(got, Response) and got.status < 500:
            return urls[0], got
        return [_reason(urls[0], got)]
    answers: queue.Queue[tuple[int, Response | str]] = queue.Queue()

    def ask(i: int) -> None:
        answers.put((i, attempt("GET", urls[i], headers, timeout, transport)))

    for i in range(len(urls)):
        threading.Thread(target=ask, args=(i,), name="ignition-metadata-race", daemon=True).start()
    reasons: dict[int, str] = {}
    while len(reasons) < len(urls):
        i, got = answers.get()
        if isinstance(got, Response) and got.status < 500:
            return urls[i], got
        reasons[i] = _reason(urls[i], got)
    return [reasons[i] for i in range(len(urls))]


def _reason(url: str, got: Response | str) -> str:
    detail = f"HTTP {got.status}" if isinstance(got, Response) else got
    return f"GET {redact.url(url)}: {detail}"


def request(
    ctx: ProviderContext,
    method: str,
    url: str,
    *,
    waiter: Waiter,
    headers: Mapping[str, str] | None = None,
    retry_on: Collection[int] = (),
    transport: Transport = requests_transport,
) -> Response:
    """Send until the service gives an answer that is not retried (5xx and
    `retry_on` are; so are transport errors)."""
    shown = redact.url(url)
    if ctx.fetcher.offline:
        raise NeedsNetwork(f"resource requires networking: {waiter.what} at {shown}")
    while True:
        remaining = waiter.remaining()
        timeout = ATTEMPT_TIMEOUT if remaining is None else max(0.1, min(ATTEMPT_TIMEOUT, remaining))
        ctx.logger.debug(f"{method} {shown}")
        got = attempt(method, url, headers or {}, timeout, transport)
        if isinstance(got, Response):
            ctx.logger.debug(f"{method} {shown}: HTTP {got.status}")
            if got.status < 500 and got.status not in retry_on:
                return got
            reason = f"{method} {shown}: HTTP {got.status}"
        else:
            reason = f"{method} {shown}: {got}"
        waiter.wait(reason)


def user_data(resp: Response, url: str, what: str, ctx: ProviderContext) -> bytes | None:
    """The body of a user-data answer: None for 404 or an empty body."""
    shown = redact.url(url)
    if resp.status == 404:
        ctx.logger.info(f"{what} has no user data ({shown}: HTTP 404); no config provided")
        return None
    if resp.status not in (200, 204):
        raise FetchError(f"{what} refused the user data request: {shown} answered HTTP {resp.status}")
    if not resp.body.strip():
        ctx.logger.info(f"{what} returned empty user data ({shown}); no config provided")
        return None
    ctx.logger.info(f"fetched {len(resp.body)} bytes of user data from {what}")
    return resp.body


def decode_base64(data: bytes, what: str) -> bytes:
    try:
        return base64.b64decode(b"".join(data.split()), validate=True)
    except (binascii.Error, ValueError) as e:
        raise FetchError(f"the user data from {what} is not valid base64: {e}") from e


def gunzip_if_gzipped(data: bytes, what: str) -> bytes:
    if not data.startswith(b"\x1f\x8b"):
        return data
    return body.gunzip_capped(data, what)


class UserDataProvider:
    """A platform whose config is one GET of its metadata service."""

    name: ClassVar[str]
    what: ClassVar[str]  # "the DigitalOcean metadata service", for messages
    default_base: ClassVar[str] = LINK_LOCAL
    path: ClassVar[str]
    headers: ClassVar[Mapping[str, str]] = {}
    base64: ClassVar[bool] = False
    retry_on: ClassVar[Collection[int]] = ()

    def transport(self) -> Transport:
        return requests_transport

    def fetch_config(self, ctx: ProviderContext) -> bytes | None:
        url = base_url(ctx, self.name, self.default_base) + self.path
        waiter = Waiter(ctx, f"{self.what} ({redact.url(url)})")
        resp = request(ctx, "GET", url, waiter=waiter, headers=self.headers, retry_on=self.retry_on,
                       transport=self.transport())
        data = user_data(resp, url, self.what, ctx)
        if data is not None and self.base64:
            data = decode_base64(data, self.what)
        return data
