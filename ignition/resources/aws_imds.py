"""The EC2 instance metadata service, for S3: the instance's region and its
role credentials.

IMDSv2 as the AWS SDKs speak it: a session token from
`PUT /latest/api/token` (`X-aws-ec2-metadata-token-ttl-seconds: 21600`, the
TTL Ignition's aws provider asks for), sent back as
`X-aws-ec2-metadata-token`; when the token endpoint answers 403, 404 or 405
the SDKs fall back to IMDSv1 (no token), and so does this. Paths:
`/latest/meta-data/placement/region`,
`/latest/meta-data/iam/security-credentials/` (the role name) and
`/latest/meta-data/iam/security-credentials/<role>` (JSON with AccessKeyId,
SecretAccessKey, Token, Expiration; Code must be "Success").

The base URL comes from IGNITION_AWS_IMDS_URL (default http://169.254.169.254)
so tests point it at 127.0.0.1. Tokens and credentials never reach a log line
or an error message.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable

import requests

from ignition.log import Logger
from ignition.resources.http import DEFAULT_HEADERS, HttpClient
from ignition.resources.sigv4 import Credentials

ENV_URL = "IGNITION_AWS_IMDS_URL"
DEFAULT_URL = "http://169.254.169.254"
TOKEN_TTL = "21600"
TIMEOUT = (2.0, 5.0)  # connect, read: the service is on the host, it answers at once or not at all
ATTEMPTS = 3


class ImdsError(Exception):
    """IMDS did not give what was asked; the text is safe to log."""


class Imds:
    def __init__(self, http: HttpClient, logger: Logger, base: str = DEFAULT_URL,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.http = http
        self.logger = logger
        self.base = base.rstrip("/")
        self._sleep = sleep
        self._token: str | None = None
        self._token_known = False

    def _request(self, method: str, path: str, headers: dict[str, str]) -> requests.Response:
        reason = ""
        for attempt in range(1, ATTEMPTS + 1):
            if attempt > 1:
                self._sleep(0.2 * 2 ** (attempt - 2))
            try:
                resp = self.http.session.request(
                    method, self.base + path, headers={"User-Agent": DEFAULT_HEADERS["User-Agent"], **headers},
                    proxies={}, timeout=TIMEOUT, allow_redirects=False,
                )
            except requests.RequestException as e:
                reason = type(e).__name__
                continue
            if resp.status_code < 500:
                return resp
            reason = f"HTTP {resp.status_code}"
            resp.close()
        raise ImdsError(f"{method} {path} on the instance metadata service failed: {reason}")

    def token(self) -> str | None:
        """The IMDSv2 session token, or None when only IMDSv1 is offered."""
        if not self._token_known:
            resp = self._request("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": TOKEN_TTL})
            with resp:
                if resp.status_code == 200 and resp.text.strip():
                    self._token = resp.text.strip()
                elif resp.status_code in (403, 404, 405):
                    self.logger.info("IMDSv2 token refused; using IMDSv1")
                else:
                    raise ImdsError(f"IMDSv2 token request answered HTTP {resp.status_code}")
            self._token_known = True
        return self._token

    def get(self, path: str) -> str | None:
        """The text at /latest/meta-data/`path`, or None when it is absent (404)."""
        token = self.token()
        headers = {"X-aws-ec2-metadata-token": token} if token else {}
        with self._request("GET", "/latest/meta-data/" + path, headers) as resp:
            if resp.status_code == 404:
                return None
            if resp.status_code != 200:
                raise ImdsError(f"GET /latest/meta-data/{path} answered HTTP {resp.status_code}")
            return resp.text

    def region(self) -> str | None:
        """The instance's region, or None (logged) when IMDS cannot tell."""
        try:
            region = (self.get("placement/region") or "").strip()
        except ImdsError as e:
            self.logger.warning(f"failed to determine the EC2 region, falling back to the default: {e}")
            return None
        if not region:
            self.logger.warning("failed to determine the EC2 region (none in IMDS), falling back to the default")
            return None
        return region

    def role_credentials(self) -> Credentials:
        """The instance role's temporary credentials; ImdsError when there is
        no role or IMDS does not answer."""
        names = self.get("iam/security-credentials/")
        role = (names or "").strip().splitlines()[0].strip() if (names or "").strip() else ""
        if not role:
            raise ImdsError("no IAM role is attached to this instance")
        body = self.get(f"iam/security-credentials/{role}")
        if body is None:
            raise ImdsError(f"no credentials for the IAM role {role!r}")
        try:
            doc = json.loads(body)
        except ValueError:
            raise ImdsError(f"the credentials of the IAM role {role!r} are not JSON") from None
        if not isinstance(doc, dict) or doc.get("Code", "Success") != "Success":
            code = doc.get("Code") if isinstance(doc, dict) else None
            raise ImdsError(f"IMDS refused the credentials of the IAM role {role!r} (Code {code!r})")
        key, secret, token = doc.get("AccessKeyId"), doc.get("SecretAccessKey"), doc.get("Token", "")
        if not (isinstance(key, str) and key and isinstance(secret, str) and secret and isinstance(token, str)):
            raise ImdsError(f"the credentials of the IAM role {role!r} lack AccessKeyId or SecretAccessKey")
        return Credentials(key, secret, token, _expiration(doc.get("Expiration")))


def _expiration(value: object) -> datetime.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=datetime.UTC)
