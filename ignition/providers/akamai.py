"""Platform `akamai` (Akamai Connected Cloud, formerly Linode): the user data
from the Linode metadata service.

A token first (PUT /v1/token with its lifetime), then GET /v1/user-data with
`Metadata-Token`. Both with the `Accept` values Ignition sends: the service
rejects Ignition's usual config Accept header. The user data is stored
base64-encoded and may be gzip-compressed. The token is never logged.
"""

from __future__ import annotations

from typing import ClassVar

from ignition import redact
from ignition.context import ProviderContext
from ignition.errors import FetchError
from ignition.providers.metadata import (
    LINK_LOCAL,
    base_url,
    decode_base64,
    gunzip_if_gzipped,
    request,
    user_data,
)
from ignition.providers.waiting import Waiter

TOKEN_TTL_HEADER = "Metadata-Token-Expiry-Seconds"
TOKEN_HEADER = "Metadata-Token"
TOKEN_TTL = "300"
WHAT = "the Akamai metadata service"


class AkamaiProvider:
    name: ClassVar[str] = "akamai"

    def fetch_config(self, ctx: ProviderContext) -> bytes | None:
        base = base_url(ctx, self.name, LINK_LOCAL)
        waiter = Waiter(ctx, f"{WHAT} ({redact.url(base)})")
        token_url = base + "/v1/token"
        resp = request(ctx, "PUT", token_url, waiter=waiter,
                       headers={"Accept": "text/plain", TOKEN_TTL_HEADER: TOKEN_TTL})
        token = resp.body.strip()
        if resp.status != 200 or not token:
            detail = "an empty token" if resp.status == 200 else f"HTTP {resp.status}"
            raise FetchError(f"{WHAT} answered the token request {redact.url(token_url)} with {detail}")
        url = base + "/v1/user-data"
        resp = request(ctx, "GET", url, waiter=waiter,
                       headers={"Accept": "*/*", TOKEN_HEADER: token.decode("ascii", "replace")})
        data = user_data(resp, url, WHAT, ctx)
        if data is None:
            return None
        return gunzip_if_gzipped(decode_base64(data, WHAT), WHAT)
