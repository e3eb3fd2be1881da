"""Platform `packet`: Equinix Metal (formerly Packet): the server's user data from
its metadata service, fetched with `Accept: */*` as Ignition does, and the
platform's status hook, which reports every stage on the instance's timeline.

The status hook follows Ignition's PostStatus (internal/providers/packet): GET
`<base>/metadata` (also with `Accept: */*`), take `phone_home_url` from the
JSON, drop a trailing `/phone-home`, and POST `{"state": ..., "message": ...}`
as application/json to `<that>/events`; state `running` with
`[<stage>] Ignition status: finished successfully`, or state `failed` with
`[<stage>] Ignition error: <error>`. Those strings are Ignition's, since
Equinix's timeline shows them.

Unlike Ignition, which may wait for the metadata service without bound after
every stage, the hook gives up after STATUS_TIMEOUT seconds (or -fetch-timeout
if shorter), and a POST that the service answers with an error status is
reported (Ignition ignores the status code). URLs are logged redacted.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import ClassVar

import requests

from ignition import redact
from ignition.context import ProviderContext
from ignition.errors import FetchError
from ignition.providers.metadata import ATTEMPT_TIMEOUT, UserDataProvider, base_url, describe, request
from ignition.providers.waiting import Waiter
from ignition.resources.http import DEFAULT_HEADERS

STATUS_TIMEOUT = 30.0  # seconds for the whole hook; ours, so a dead service cannot hold the boot
METADATA_PATH = "/metadata"
PHONE_HOME_SUFFIX = "/phone-home"  # Ignition trims it off phone_home_url ...
EVENTS_PATH = "/events"  # ... and posts here instead
WHAT = "the Equinix Metal metadata service"


class PacketProvider(UserDataProvider):
    name: ClassVar[str] = "packet"
    what: ClassVar[str] = WHAT
    default_base: ClassVar[str] = "https://metadata.packet.net"
    path: ClassVar[str] = "/userdata"
    headers: ClassVar[Mapping[str, str]] = {"Accept": "*/*"}

    def status(self, ctx: ProviderContext, stage: str, error: str | None) -> None:
        budget = STATUS_TIMEOUT if ctx.fetch_timeout <= 0 else min(STATUS_TIMEOUT, ctx.fetch_timeout)
        ctx = dataclasses.replace(ctx, fetch_timeout=budget)
        events = events_url(ctx, base_url(ctx, self.name, self.default_base) + METADATA_PATH)
        payload = status_message(stage, error)
        ctx.logger.info(f"posting the {stage} stage's status ({payload['state']}) to "
                        f"the Equinix Metal timeline at {redact.url(events)}")
        post_json(events, payload, timeout=ATTEMPT_TIMEOUT)


def status_message(stage: str, error: str | None) -> dict[str, str]:
    """The event Ignition posts for `stage`."""
    if error is None:
        return {"state": "running", "message": f"[{stage}] Ignition status: finished successfully"}
    return {"state": "failed", "message": f"[{stage}] Ignition error: {error}"}


def events_url(ctx: ProviderContext, metadata_url: str) -> str:
    """The events URL named by the instance metadata's phone_home_url."""
    shown = redact.url(metadata_url)
    waiter = Waiter(ctx, f"{WHAT} ({shown})")
    resp = request(ctx, "GET", metadata_url, waiter=waiter, headers={"Accept": "*/*"})
    if resp.status != 200:
        raise FetchError(f"{WHAT} answered {shown} with HTTP {resp.status}")
    try:
        doc = json.loads(resp.body)
    except ValueError as e:
        raise FetchError(f"{WHAT} returned metadata that is not JSON ({shown}): {e}") from e
    phone_home = doc.get("phone_home_url") if isinstance(doc, dict) else None
    if not isinstance(phone_home, str) or not phone_home:
        raise FetchError(f"the instance metadata from {shown} has no phone_home_url")
    if phone_home.endswith(PHONE_HOME_SUFFIX):
        phone_home = phone_home[:-len(PHONE_HOME_SUFFIX)]
    return phone_home + EVENTS_PATH


def post_json(url: str, payload: Mapping[str, str], *, timeout: float) -> None:
    """One POST, as Ignition makes it (no retry)."""
    shown = redact.url(url)
    try:
        with requests.Session() as session:
            session.trust_env = False  # the phone-home service is on the provisioning network
            resp = session.post(url, data=json.dumps(payload).encode(), timeout=timeout,
                                headers={"Content-Type": "application/json",
                                         "User-Agent": DEFAULT_HEADERS["User-Agent"]})
            resp.close()
    except (OSError, requests.RequestException) as e:
        raise FetchError(f"POST {shown}: {describe(e)}") from None
    if resp.status_code >= 300:
        raise FetchError(f"POST {shown}: HTTP {resp.status_code}")
