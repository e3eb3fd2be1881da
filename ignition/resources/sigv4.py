"""AWS Signature Version 4 for S3 requests, written from the published
specification (docs.aws.amazon.com, "Signature Calculations for the
Authorization Header"): canonical request, string to sign, derived signing
key, Authorization header. Only what fetching an object needs: the payload
is always empty (GET/HEAD), so its hash is the SHA-256 of nothing.

Nothing here logs; callers must never log the headers this returns (they
carry the access key id, the signature and the session token).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class Credentials:
    """An access key pair and, for role credentials, the session token and
    the time they expire. Secrets are kept out of repr()."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(default="", repr=False)
    expiration: datetime.datetime | None = None


def uri_encode(text: str, *, keep_slash: bool = False) -> str:
    """S3's URI encoding: everything but A-Z a-z 0-9 - . _ ~ is percent-encoded
    from UTF-8 (and "/" too, except in an object key path). S3 paths are
    encoded once, unlike other services' double encoding."""
    return quote(text, safe="/" if keep_slash else "")


def canonical_request(
    method: str,
    canonical_uri: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    payload_hash: str = EMPTY_SHA256,
) -> tuple[str, str]:
    """The canonical request and its signed-headers list. `canonical_uri` is
    the already encoded path, exactly as sent on the wire."""
    canonical_query = "&".join(
        f"{k}={v}" for k, v in sorted((uri_encode(k), uri_encode(v)) for k, v in query)
    )
    normalized = sorted((name.strip().lower(), " ".join(value.split())) for name, value in headers.items())
    canonical_headers = "".join(f"{name}:{value}\n" for name, value in normalized)
    signed_headers = ";".join(name for name, _ in normalized)
    text = "\n".join([method, canonical_uri, canonical_query, canonical_headers, signed_headers, payload_hash])
    return text, signed_headers


def signing_key(secret_access_key: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(f"AWS4{secret_access_key}".encode(), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return key


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sign(
    method: str,
    canonical_uri: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    creds: Credentials,
    region: str,
    now: datetime.datetime,
    service: str = "s3",
    payload_hash: str = EMPTY_SHA256,
) -> dict[str, str]:
    """`headers` (which must include Host) plus x-amz-date,
    x-amz-content-sha256, x-amz-security-token (role credentials) and
    Authorization, all of them signed."""
    amz_date = now.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    out = dict(headers)
    out["x-amz-date"] = amz_date
    out["x-amz-content-sha256"] = payload_hash
    if creds.session_token:
        out["x-amz-security-token"] = creds.session_token
    request, signed_headers = canonical_request(method, canonical_uri, list(query), out, payload_hash)
    string_to_sign = "\n".join(
        [ALGORITHM, amz_date, scope, hashlib.sha256(request.encode()).hexdigest()]
    )
    signature = hmac.new(
        signing_key(creds.secret_access_key, amz_date[:8], region, service),
        string_to_sign.encode(),
        hashlib.sha256,
    ).hexdigest()
    out["Authorization"] = (
        f"{ALGORITHM} Credential={creds.access_key_id}/{scope},"
        f"SignedHeaders={signed_headers},Signature={signature}"
    )
    return out
