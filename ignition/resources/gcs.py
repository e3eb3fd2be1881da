"""gs:// (Google Cloud Storage) resources, fetched without a Google SDK.

Facts from coreos/ignition internal/resource/url.go (fetchFromGCS): the
bucket is the URL host, the object the path (percent-decoded) without its
leading slashes. On GCE, when the instance has a service account (its
`scopes` answer), the read carries an OAuth token for the
`devstorage.read_only` scope from the metadata server; otherwise it is
anonymous. The object is read with the JSON API:
`<base>/storage/v1/b/<bucket>/o/<object, every reserved character escaped>?alt=media`.

Whether we are on GCE: IGNITION_GCE_METADATA_URL set (as Go's
GCE_METADATA_HOST), or the gcp platform, or the DMI product name starting
with "Google" (what the Go metadata client checks besides probing the
network). Nothing is probed over the network to find out.

Environment overrides, for tests (which point them at 127.0.0.1):
- IGNITION_GCS_URL: base URL of the storage API (default https://storage.googleapis.com).
- IGNITION_GCE_METADATA_URL: base URL of the metadata server (default
  http://169.254.169.254, the IP as Ignition uses it, not the DNS name); set
  to a URL it also means "on GCE"; set to the empty string it means "not on
  GCE" (anonymous, the metadata server is never contacted).
"""

from __future__ import annotations

import json
import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

import requests

from ignition import redact
from ignition.errors import FetchError
from ignition.log import Logger
from ignition.resources.http import DEFAULT_HEADERS, HttpClient
from ignition.resources.stream import MemorySink, Writer

ENV_STORAGE_URL = "IGNITION_GCS_URL"
ENV_METADATA_URL = "IGNITION_GCE_METADATA_URL"
DEFAULT_STORAGE_URL = "https://storage.googleapis.com"
DEFAULT_METADATA_URL = "http://169.254.169.254"
DMI_PRODUCT_NAME = "/sys/class/dmi/id/product_name"
SCOPE = "https://www.googleapis.com/auth/devstorage.read_only"
SERVICE_ACCOUNT = "/computeMetadata/v1/instance/service-accounts/default"
METADATA_TIMEOUT = (2.0, 5.0)
TOKEN_REFRESH_MARGIN = 60.0  # seconds before expiry at which a token is fetched again


def parse(url: str) -> tuple[str, str]:
    """The (bucket, object name) of a gs:// URL."""
    shown = redact.url(url)
    try:
        parts = urlsplit(url)
    except ValueError as e:
        raise FetchError(f"invalid URL {shown}: {e}") from e
    if parts.scheme.lower() != "gs":
        raise FetchError(f"{shown} is not a gs:// URL")
    bucket = parts.netloc
    name = unquote(parts.path).lstrip("/")
    if not bucket or "@" in bucket or ":" in bucket:
        raise FetchError(f"invalid GCS bucket in {shown}: use gs://<bucket>/<object>")
    if not name:
        raise FetchError(f"{shown} names no object: use gs://<bucket>/<object>")
    return bucket, name


def object_url(url: str, base: str = DEFAULT_STORAGE_URL) -> str:
    """The JSON API media URL of the object a gs:// URL names."""
    bucket, name = parse(url)
    return f"{base.rstrip('/')}/storage/v1/b/{quote(bucket, safe='')}/o/{quote(name, safe='')}?alt=media"


def on_gce(platform: str, environ: Mapping[str, str], dmi_path: str = DMI_PRODUCT_NAME) -> bool:
    override = environ.get(ENV_METADATA_URL)
    if override is not None:
        return bool(override)
    if platform == "gcp":
        return True
    try:
        with open(dmi_path, encoding="utf-8", errors="replace") as f:
            return f.read().strip().startswith("Google")
    except OSError:
        return False


@dataclass
class _Token:
    """An access token from the metadata server, and when it stops being good."""

    value: str
    expires: float  # monotonic


_TOKENS: weakref.WeakKeyDictionary[HttpClient, _Token | None] = weakref.WeakKeyDictionary()
_TOKENS_LOCK = threading.Lock()


def metadata_token(http: HttpClient, logger: Logger, base: str,
                   monotonic: Callable[[], float] = time.monotonic) -> str | None:
    """An OAuth access token of the instance's default service account, or
    None (logged) when the instance has none. Kept per HTTP client until a
    minute before it expires."""
    with _TOKENS_LOCK:
        if http in _TOKENS:
            cached = _TOKENS[http]
            if cached is None or cached.expires > monotonic():
                return cached.value if cached else None
        token = _fetch_token(http, logger, base.rstrip("/"), monotonic)
        _TOKENS[http] = token
        return token.value if token else None


def _metadata_get(http: HttpClient, url: str) -> requests.Response:
    return http.session.get(
        url, headers={"Metadata-Flavor": "Google", "User-Agent": DEFAULT_HEADERS["User-Agent"]},
        proxies={}, timeout=METADATA_TIMEOUT, allow_redirects=False,
    )


def _fetch_token(http: HttpClient, logger: Logger, base: str, monotonic: Callable[[], float]) -> _Token | None:
    try:
        with _metadata_get(http, base + SERVICE_ACCOUNT + "/scopes") as resp:
            if resp.status_code != 200:
                logger.info(f"falling back to unauthenticated GCS access: no service account "
                            f"(metadata server answered HTTP {resp.status_code})")
                return None
    except requests.RequestException as e:
        logger.info(f"falling back to unauthenticated GCS access: metadata server unreachable "
                    f"({type(e).__name__})")
        return None
    what = "getting an OAuth token for GCS from the metadata server"
    try:
        with _metadata_get(http, f"{base}{SERVICE_ACCOUNT}/token?scopes={quote(SCOPE, safe='')}") as resp:
            status, body = resp.status_code, resp.content
    except requests.RequestException as e:
        raise FetchError(f"{what}: {type(e).__name__}") from None
    if status != 200:
        raise FetchError(f"{what}: HTTP {status}")
    try:
        doc = json.loads(body)
    except ValueError:
        raise FetchError(f"{what}: the answer is not JSON") from None
    value = doc.get("access_token") if isinstance(doc, dict) else None
    if not isinstance(value, str) or not value:
        raise FetchError(f"{what}: the answer has no access_token")
    expires_in = doc.get("expires_in", 300)
    lifetime = float(expires_in) if isinstance(expires_in, int | float) else 300.0
    logger.info("using the instance's service account for GCS")
    return _Token(value, monotonic() + max(lifetime - TOKEN_REFRESH_MARGIN, 0.0))


def fetch(url: str, http: HttpClient, logger: Logger, *, platform: str | None = None,
          environ: Mapping[str, str] | None = None, dmi_path: str = DMI_PRODUCT_NAME) -> bytes:
    """The bytes of the GCS object `url` names, in memory."""
    sink = MemorySink(redact.url(url), limit=None)
    fetch_into(url, sink, http, logger, platform=platform, environ=environ, dmi_path=dmi_path)
    return sink.getvalue()


def fetch_into(url: str, sink: Writer, http: HttpClient, logger: Logger, *, platform: str | None = None,
               environ: Mapping[str, str] | None = None, dmi_path: str = DMI_PRODUCT_NAME) -> None:
    """Stream the GCS object `url` names into `sink`."""
    env = os.environ if environ is None else environ
    platform = logger.platform if platform is None else platform
    shown = redact.url(url)
    target = object_url(url, env.get(ENV_STORAGE_URL) or DEFAULT_STORAGE_URL)
    headers: dict[str, str] = {}
    if on_gce(platform, env, dmi_path):
        token = metadata_token(http, logger, env.get(ENV_METADATA_URL) or DEFAULT_METADATA_URL)
        if token:
            headers["Authorization"] = f"Bearer {token}"
    else:
        logger.debug("falling back to unauthenticated GCS access: not running in GCE")
    try:
        http.get_into(target, sink, headers)
    except FetchError as e:
        hint = ""
        if "HTTP 401" in str(e) or "HTTP 403" in str(e):
            hint = ("; GCS refused access: the object is not public" if not headers else
                    "; GCS refused access: the instance's service account may not read it")
        raise FetchError(f"fetching {shown}: {e}{hint}") from None
