"""A `user.ign` placed in a system config directory by the distro or an
installer; it pre-empts the platform's config. The runtime directory wins over
the local one, which wins over the vendor one."""

from __future__ import annotations

import os

from ignition.context import ProviderContext
from ignition.errors import FetchError
from ignition.providers import body


def fetch_config(ctx: ProviderContext) -> tuple[bytes, str] | None:
    for directory in ctx.env.system_dirs:
        path = os.path.join(directory, "user.ign")
        try:
            with open(path, "rb") as f:
                data = body.read_file(f, path)
        except FileNotFoundError:
            continue
        except OSError as e:
            raise FetchError(f"reading {path}: {e.strerror}") from e
        ctx.logger.info(f"using the system config {path}")
        return data, path
    return None
