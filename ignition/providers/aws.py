"""Platform `aws`: the instance's user data from EC2's instance metadata
service (IMDS).

IMDSv2 first, as Ignition does: PUT /latest/api/token (TTL 21600 s) for a
session token, which also waits for the network, then GET
/2019-10-01/user-data with the token. An IMDS that refuses tokens (403, 404
or 405: IMDSv2 disabled, or an older or emulated service) is asked without one
(IMDSv1). A 404 for the user data means the instance has none.
"""

from __future__ import annotations

from typing import ClassVar

from ignition import redact
from ignition.context import ProviderContext
from ignition.errors import FetchError
from ignition.providers.metadata import LINK_LOCAL, base_url, request, user_data
from ignition.providers.waiting import Waiter

TOKEN_PATH = "/latest/api/token"
USER_DATA_PATH = "/2019-10-01/user-data"
TOKEN_TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"
TOKEN_TTL = "21600"
V1_FALLBACK_STATUSES = (403, 404, 405)
WHAT = "the AWS instance metadata service"


class AwsProvider:
    name: ClassVar[str] = "aws"

    def fetch_config(self, ctx: ProviderContext) -> bytes | None:
        base = base_url(ctx, self.name, LINK_LOCAL)
        waiter = Waiter(ctx, f"{WHAT} ({redact.url(base)})")
        token_url = base + TOKEN_PATH
        resp = request(ctx, "PUT", token_url, waiter=waiter, headers={TOKEN_TTL_HEADER: TOKEN_TTL})
        headers: dict[str, str] = {}
        if resp.status == 200 and resp.body.strip():
            headers[TOKEN_HEADER] = resp.body.strip().decode("ascii", "replace")
            ctx.logger.info("got an IMDSv2 session token")
        elif resp.status in V1_FALLBACK_STATUSES:
            ctx.logger.info(f"IMDSv2 token request refused (HTTP {resp.status}); falling back to IMDSv1")
        else:
            raise FetchError(f"{WHAT} answered the IMDSv2 token request {redact.url(token_url)} with "
                             f"HTTP {resp.status}{' and an empty token' if resp.status == 200 else ''}")
        url = base + USER_DATA_PATH
        return user_data(request(ctx, "GET", url, waiter=waiter, headers=headers), url, WHAT, ctx)
