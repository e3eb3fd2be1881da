"""Platform `scaleway`: the user data `cloud-init` from the Scaleway
metadata service.

The service answers user-data requests only from a source port below 1024 (a
port only root may bind, so other users of the instance cannot read it). Each
attempt binds a random privileged port, as Ignition does, trying another when
that one is taken.
"""

from __future__ import annotations

import errno
import http.client
import random
from collections.abc import Mapping
from typing import ClassVar
from urllib.parse import urlsplit

from ignition import redact
from ignition.errors import FetchError
from ignition.providers import body
from ignition.providers.metadata import Response, Transport, UserDataProvider

PRIVILEGED_PORTS = range(1, 1024)
BIND_TRIES = 20


def privileged_port_transport(method: str, url: str, headers: Mapping[str, str], timeout: float) -> Response:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise FetchError(f"the Scaleway metadata URL must be plain http://host[:port], not {parts.scheme}://")
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    bind_host = "::" if ":" in parts.hostname else "0.0.0.0"
    for port in random.sample(PRIVILEGED_PORTS, min(BIND_TRIES, len(PRIVILEGED_PORTS))):
        conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout,
                                          source_address=(bind_host, port))
        try:
            conn.request(method, target or "/", headers=dict(headers))
            resp = conn.getresponse()
            return Response(resp.status, body.read_http_client(resp, redact.url(url)))
        except PermissionError as e:
            raise FetchError(
                f"binding source port {port} (below 1024, which the Scaleway metadata service requires) "
                "was refused: ignition must run as root or with CAP_NET_BIND_SERVICE"
            ) from e
        except OSError as e:
            if e.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL):
                raise
        finally:
            conn.close()
    raise OSError(errno.EADDRINUSE, f"no free source port below 1024 after {BIND_TRIES} tries")


class ScalewayProvider(UserDataProvider):
    name: ClassVar[str] = "scaleway"
    what: ClassVar[str] = "the Scaleway metadata service"
    default_base: ClassVar[str] = "http://169.254.42.42"
    path: ClassVar[str] = "/user_data/cloud-init"

    def transport(self) -> Transport:
        return privileged_port_transport
