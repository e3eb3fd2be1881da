"""s3:// and arn: (Amazon S3) resources, fetched as Ignition fetches them,
without an AWS SDK: requests signed by hand (sigv4.py), credentials and
region from the EC2 instance metadata service (aws_imds.py), URLs and ARNs
parsed and request URLs built by s3url.py.

Facts from coreos/ignition internal/resource/url.go (fetchFromS3,
awsPartitionRegionHints) and internal/providers/aws (NewFetcher, Init):
- Region: an access point ARN names it. Otherwise the bucket's region is
  asked for (anonymous HEAD on the bucket, answer in `x-amz-bucket-region`,
  as GetBucketRegion does) at a hint: the ARN partition's default region
  (aws us-east-1, aws-cn cn-north-1, aws-us-gov us-gov-west-1), else on the
  aws platform the instance's own region from IMDS, else us-east-1.
- Credentials: on the aws platform the EC2 instance role's, from IMDSv2
  (IMDSv1 when the token endpoint is refused); when they cannot be had (no
  role attached, IMDS error) the object is fetched anonymously. On every
  other platform: anonymous, and IMDS is never contacted.
- The object is fetched from the dual-stack endpoint; compression is not
  supported for these schemes (the Fetcher refuses it).

Environment overrides, for tests (which point them at 127.0.0.1):
- IGNITION_AWS_IMDS_URL: base URL of the instance metadata service
  (default http://169.254.169.254).
- IGNITION_S3_ENDPOINT: base URL of every S3 request, which then uses path
  style: `<base>/<bucket>/<key>`, access points `<base>/<name>-<account>/<key>`.
  `{region}` in it is replaced by the region the request is meant for.
"""

from __future__ import annotations

import datetime
import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

from ignition import redact
from ignition.errors import FetchError
from ignition.log import Logger
from ignition.resources import aws_imds, sigv4
from ignition.resources.http import DEFAULT_HEADERS, DIAL_TIMEOUT, HttpClient
from ignition.resources.proxy import proxy_for
from ignition.resources.s3url import REGION, Location, bucket_target, object_target, parse
from ignition.resources.stream import MemorySink, Writer

ENV_ENDPOINT = "IGNITION_S3_ENDPOINT"
DEFAULT_REGION = "us-east-1"
REGION_LOOKUP_ATTEMPTS = 3


@dataclass
class _Cache:
    """What one run learns once: the instance region, role credentials (kept
    until shortly before they expire) and bucket regions."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    instance_region: str | None = None
    creds: sigv4.Credentials | None = None
    creds_known: bool = False
    bucket_regions: dict[str, str] = field(default_factory=dict)


_CACHES: weakref.WeakKeyDictionary[HttpClient, _Cache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()
CREDS_REFRESH_MARGIN = datetime.timedelta(minutes=5)


def _cache(http: HttpClient) -> _Cache:
    with _CACHES_LOCK:
        cache = _CACHES.get(http)
        if cache is None:
            cache = _CACHES[http] = _Cache()
        return cache


def fetch(
    url: str,
    http: HttpClient,
    logger: Logger,
    *,
    platform: str | None = None,
    environ: Mapping[str, str] | None = None,
    now: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
) -> bytes:
    """The bytes of the S3 object `url` names, in memory."""
    sink = MemorySink(redact.url(url), limit=None)
    fetch_into(url, sink, http, logger, platform=platform, environ=environ, now=now)
    return sink.getvalue()


def fetch_into(
    url: str,
    sink: Writer,
    http: HttpClient,
    logger: Logger,
    *,
    platform: str | None = None,
    environ: Mapping[str, str] | None = None,
    now: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
) -> None:
    """Stream the S3 object `url` names into `sink`. `platform` (default: the
    logger's) decides whether the EC2 instance role and region are used."""
    env = os.environ if environ is None else environ
    platform = logger.platform if platform is None else platform
    shown = redact.url(url)
    loc = parse(url)
    endpoint = env.get(ENV_ENDPOINT) or None
    on_aws = platform == "aws"
    imds = aws_imds.Imds(http, logger, env.get(aws_imds.ENV_URL) or aws_imds.DEFAULT_URL) if on_aws else None
    cache = _cache(http)
    with cache.lock:
        region = loc.region or _bucket_region(http, logger, cache, loc, imds, endpoint)
        creds = _credentials(logger, cache, imds, now()) if imds is not None else None
    target = object_target(loc, region, endpoint)
    headers = {"Host": target.host}
    if creds is not None:
        headers = sigv4.sign("GET", target.path, target.query, headers, creds, region, now())
    how = "with the EC2 instance role's credentials" if creds is not None else "anonymously"
    logger.info(f"fetching {shown} from region {region} {how}")
    try:
        http.get_into(target.url, sink, headers)
    except FetchError as e:
        hint = ""
        if "HTTP 403" in str(e):
            hint = ("; S3 refused access: the object is not public and no instance role credentials were "
                    "available" if creds is None else
                    "; S3 refused access: the instance role may lack s3:GetObject on it")
        elif "HTTP 301" in str(e) or "HTTP 400" in str(e):
            hint = f"; the bucket may not be in {region}"
        raise FetchError(f"fetching {shown}: {e}{hint}") from None


def _bucket_region(http: HttpClient, logger: Logger, cache: _Cache, loc: Location,
                   imds: aws_imds.Imds | None, endpoint: str | None) -> str:
    known = cache.bucket_regions.get(loc.bucket)
    if known:
        return known
    hint = loc.region_hint
    if not hint and imds is not None:
        if cache.instance_region is None:
            cache.instance_region = imds.region() or DEFAULT_REGION
        hint = cache.instance_region
    hint = hint or DEFAULT_REGION
    region = bucket_region(http, logger, loc.bucket, hint, endpoint)
    cache.bucket_regions[loc.bucket] = region
    return region


def bucket_region(http: HttpClient, logger: Logger, bucket: str, hint: str, endpoint: str | None,
                  sleep: Callable[[float], None] = time.sleep) -> str:
    """The region of `bucket`, asked of the S3 endpoint of `hint`'s partition
    with an anonymous HEAD, which S3 answers (200, 301, 403 alike) with the
    bucket's region in `x-amz-bucket-region`."""
    target = bucket_target(bucket, hint, endpoint)
    logger.info(f"looking up the region of S3 bucket {bucket!r} via {hint}")
    reason = ""
    for attempt in range(1, REGION_LOOKUP_ATTEMPTS + 1):
        if attempt > 1:
            sleep(0.2 * 2 ** (attempt - 2))
        try:
            resp = http.session.request(
                "HEAD", target.url,
                headers={"Host": target.host, "User-Agent": DEFAULT_HEADERS["User-Agent"]},
                proxies=_proxies(target.url, http),
                timeout=(DIAL_TIMEOUT, http.response_headers_timeout),
                allow_redirects=False,
            )
        except requests.RequestException as e:
            reason = type(e).__name__
            continue
        with resp:
            region = resp.headers.get("x-amz-bucket-region", "")
            if region:
                if not REGION.fullmatch(region):
                    raise FetchError(f"S3 named an invalid region for bucket {bucket!r}")
                return region
            if resp.status_code == 404:
                raise FetchError(f"could not find S3 bucket {bucket!r} (HTTP 404 from the {hint} endpoint)")
            reason = f"HTTP {resp.status_code} without x-amz-bucket-region"
            if resp.status_code < 500:
                break
    raise FetchError(f"couldn't determine the region for S3 bucket {bucket!r}: {reason}")


def _proxies(url: str, http: HttpClient) -> dict[str, str]:
    chosen = proxy_for(url, http.proxy)
    return {urlsplit(url).scheme: chosen} if chosen else {}


def _credentials(logger: Logger, cache: _Cache, imds: aws_imds.Imds,
                 now: datetime.datetime) -> sigv4.Credentials | None:
    creds = cache.creds
    fresh = creds is not None and (creds.expiration is None or creds.expiration - CREDS_REFRESH_MARGIN > now)
    if cache.creds_known and (creds is None or fresh):
        return creds
    try:
        creds = imds.role_credentials()
    except aws_imds.ImdsError as e:
        logger.info(f"no EC2 instance role credentials ({e}); fetching S3 objects anonymously")
        creds = None
    cache.creds, cache.creds_known = creds, True
    return creds
