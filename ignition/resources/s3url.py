"""Where an S3 object is: `s3://` and S3 `arn:` URLs parsed as Ignition parses
them, and the S3 request URLs (endpoint, Host, signed path) for an object or
a bucket. The fetching itself (region lookup, credentials) is in s3.py.

Facts from coreos/ignition internal/resource/url.go (fetchFromS3, parseARN,
awsPartitionRegionHints):
- `s3://bucket/key`: the key is the URL path, percent-decoded, without its
  leading slashes.
- `arn:<partition>:s3:::bucket/key` and
  `arn:<partition>:s3:<region>:<account>:accesspoint/<name>/object/<key>`;
  the key of an ARN is taken as written (Go keeps an opaque URL escaped).
- `?versionId=<id>` on either form fetches that version of the object.
- An access point ARN names its region; an ARN's partition gives a region
  hint (aws us-east-1, aws-cn cn-north-1, aws-us-gov us-gov-west-1).
- The object is fetched from the dual-stack endpoint.

An `endpoint` (IGNITION_S3_ENDPOINT, for tests) is the base URL of every
request, which then uses path style: `<base>/<bucket>/<key>`, access points
`<base>/<name>-<account>/<key>`; `{region}` in it is replaced by the region
the request is meant for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from ignition import redact
from ignition.errors import FetchError
from ignition.resources import sigv4

# Ignition's awsPartitionRegionHints.
PARTITION_REGION_HINTS = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}

REGION = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
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
        if not REGION.fullmatch(region) or not _ACCOUNT.fullmatch(account) or not _AP_NAME.fullmatch(parts[1]):
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
