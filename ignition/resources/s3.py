"""s3:// and arn: (Amazon S3) resources, fetched as Ignition fetches them,
without an AWS SDK: requests signed by hand (sigv4.py), credentials and
region from the EC2 instance metadata service (aws_imds.py).

Facts from coreos/ignition internal/resource/url.go (fetchFromS3, parseARN,
awsPartitionRegionHints) and internal/providers/aws (NewFetcher, Init):
- `s3://bucket/key`: the key is the URL path, percent-decoded, without its
  leading slashes.
- `arn:<partition>:s3:::bucket/key` and
  `arn:<partition>:s3:<region>:<account>:accesspoint/<name>/object/<key>`;
  the key of an ARN is taken as written (Go keeps an opaque URL escaped).
- `?versionId=<id>` on either form fetches that version of the object.
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
import re
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

import requests

from ignition import redact
from ignition.errors import FetchError
from ignition.log import Logger
from ignition.resources import aws_imds, sigv4
from ignition.resources.http import DEFAULT_HEADERS, DIAL_TIMEOUT, HttpClient
from ignition.resources.proxy import proxy_for

ENV_ENDPOINT = "IGNITION_S3_ENDPOINT"
DEFAULT_REGION = "us-east-1"
# Ignition's awsPartitionRegionHints.
PARTITION_REGION_HINTS = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}
REGION_LOOKUP_ATTEMPTS = 3

_REGION = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
_BUCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{2,254}")
_VIRTUAL_HOSTABLE = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")  # no dots: TLS wildcard certs
_AP_NAME = re.compile(r"[a-z0-9][a-z0-9-]{1,48}[a-z0-9]")
_ACCOUNT = re.compile(r"[0-9]{12}")


@dataclass(frozen=True)
class Location:
    """Where an S3 object is. `bucket` is empty for an access point; `region`
    is known only for access points; `region_hint` comes from an ARN's
    partition."""

    key: str
    bucket: str = ""
    access_point: str = ""
    account: str = ""
    region: str = ""
    region_hint: str = ""
    version_id: str | None = None


def parse(url: str) -> Location:
    """The Location of an `s3://` URL or an S3 `arn:` URL, or a FetchError
    saying what is wrong with it."""
    shown = redact.url(url)
    try:
        parts = urlsplit(url)
    except ValueError as e:
        raise FetchError(f"invalid URL {shown}: {e}") from e
    version_id = _version_id(parts.query, shown)
    scheme = parts.scheme.lower()
    if scheme == "s3":
        bucket = parts.netloc
        key = unquote(parts.path).lstrip("/")
        if not _BUCKET.fullmatch(bucket):
            raise FetchError(f"invalid S3 bucket name in {shown}: use s3://<bucket>/<key> "
                             "(3-255 of A-Z a-z 0-9 . _ -)")
        if not key:
            raise FetchError(f"{shown} names no object: use s3://<bucket>/<key>")
        return Location(key=key, bucket=bucket, version_id=version_id)
    if scheme == "arn":
        return _parse_arn("arn:" + parts.path, shown, version_id)
    raise FetchError(f"{shown} is not an S3 URL (s3:// or arn:)")


def _version_id(query: str, shown: str) -> str | None:
    values = parse_qs(query, keep_blank_values=True).get("versionId")
    if values is None:
        return None
    if not values[0]:
        raise FetchError(f"invalid S3 object versionId in {shown}: it is empty")
    return values[0]


def _parse_arn(arn: str, shown: str, version_id: str | None) -> Location:
    usage = ("use arn:<partition>:s3:::<bucket>/<key> or "
             "arn:<partition>:s3:<region>:<account>:accesspoint/<name>/object/<key>")
    fields = arn.split(":", 5)
    if len(fields) < 6:
        raise FetchError(f"invalid S3 ARN {shown}: it has {len(fields)} of the 6 ':'-separated fields; {usage}")
    _, partition, service, region, account, resource = fields
    if not partition or not resource:
        raise FetchError(f"invalid S3 ARN {shown}: empty partition or resource; {usage}")
    if service != "s3":
        raise FetchError(f"invalid S3 ARN {shown}: service {service!r} is not s3; {usage}")
    hint = PARTITION_REGION_HINTS.get(partition, "")
    if resource.startswith("accesspoint/"):
        parts = resource.split("/")
        if len(parts) < 4 or parts[2] != "object" or not parts[1]:
            raise FetchError(f"invalid S3 access point ARN {shown}: no /object/<key> after the name; {usage}")
        key = "/".join(parts[3:])
        if not region:
            raise FetchError(f"S3 ARN {shown} has no region: multi-region access points need SigV4A, "
                             "which this build does not speak; use the access point's regional ARN")
        if not _REGION.fullmatch(region) or not _ACCOUNT.fullmatch(account) or not _AP_NAME.fullmatch(parts[1]):
            raise FetchError(f"invalid S3 access point ARN {shown}: bad region, 12-digit account or name")
        if not key:
            raise FetchError(f"{shown} names no object; {usage}")
        return Location(key=key, access_point=parts[1], account=account, region=region,
                        region_hint=hint, version_id=version_id)
    if "/" not in resource:
        raise FetchError(f"invalid S3 ARN {shown}: no /<key> after the bucket; {usage}")
    if resource.startswith(("outpost/", "accesspoint:")):
        raise FetchError(f"S3 ARN {shown} is an Outposts or non-slash access point ARN, "
                         f"which this build does not fetch; {usage}")
    bucket, key = resource.split("/", 1)
    if not _BUCKET.fullmatch(bucket):
        raise FetchError(f"invalid S3 bucket name in {shown}; {usage}")
    if not key:
        raise FetchError(f"{shown} names no object; {usage}")
    return Location(key=key, bucket=bucket, region_hint=hint, version_id=version_id)


def dns_suffix(region: str) -> tuple[str, bool]:
    """The endpoint domain of `region`'s partition and whether it has
    dual-stack S3 endpoints."""
    if region.startswith("cn-"):
        return "amazonaws.com.cn", True
    if region.startswith("us-isob-"):
        return "sc2s.sgov.gov", False
    if region.startswith("us-iso-"):
        return "c2s.ic.gov", False
    return "amazonaws.com", True


@dataclass(frozen=True)
class Target:
    """One S3 request: the URL sent (already encoded), the Host header and
    the encoded path and query as they are signed."""

    url: str
    host: str
    path: str
    query: tuple[tuple[str, str], ...]


def _target(base: str, path: str, query: tuple[tuple[str, str], ...]) -> Target:
    parts = urlsplit(base)
    default_port = 443 if parts.scheme == "https" else 80
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port and parts.port != default_port:
        host = f"{host}:{parts.port}"
    full_path = parts.path.rstrip("/") + path
    q = "&".join(f"{sigv4.uri_encode(k)}={sigv4.uri_encode(v)}" for k, v in sorted(query))
    return Target(f"{parts.scheme}://{parts.netloc}{full_path}" + (f"?{q}" if q else ""), host, full_path, query)


def object_target(loc: Location, region: str, endpoint: str | None) -> Target:
    if any(seg in (".", "..") for seg in loc.key.split("/")):
        # Every HTTP stack on the way (urllib3 included) would fold them away.
        raise FetchError(f"S3 object key {loc.key!r} has '.' or '..' segments, which cannot be fetched")
    key_path = "/" + sigv4.uri_encode(loc.key, keep_slash=True)
    query = (("versionId", loc.version_id),) if loc.version_id is not None else ()
    if endpoint:
        base = endpoint.replace("{region}", region)
        if loc.access_point:
            return _target(base, f"/{loc.access_point}-{loc.account}{key_path}", query)
        return _target(base, f"/{sigv4.uri_encode(loc.bucket)}{key_path}", query)
    suffix, dualstack = dns_suffix(region)
    ds = ".dualstack" if dualstack else ""
    if loc.access_point:
        return _target(f"https://{loc.access_point}-{loc.account}.s3-accesspoint{ds}.{region}.{suffix}",
                       key_path, query)
    if _VIRTUAL_HOSTABLE.fullmatch(loc.bucket):
        return _target(f"https://{loc.bucket}.s3{ds}.{region}.{suffix}", key_path, query)
    return _target(f"https://s3{ds}.{region}.{suffix}", f"/{sigv4.uri_encode(loc.bucket)}{key_path}", query)


def bucket_target(bucket: str, region: str, endpoint: str | None) -> Target:
    if endpoint:
        return _target(endpoint.replace("{region}", region), f"/{sigv4.uri_encode(bucket)}", ())
    suffix, _ = dns_suffix(region)
    if _VIRTUAL_HOSTABLE.fullmatch(bucket):
        return _target(f"https://{bucket}.s3.{region}.{suffix}", "/", ())
    return _target(f"https://s3.{region}.{suffix}", f"/{sigv4.uri_encode(bucket)}", ())


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
    """The bytes of the S3 object `url` names. `platform` (default: the
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
        return http.get(target.url, headers)
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
                if not _REGION.fullmatch(region):
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
