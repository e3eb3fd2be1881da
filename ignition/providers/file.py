"""Platform `file`: the config is a local file, `$IGNITION_CONFIG_FILE` or
`config.ign` in the working directory (Ignition's test and development platform)."""

from __future__ import annotations

from typing import ClassVar

from ignition.context import ProviderContext
from ignition.errors import FetchError
from ignition.providers import body


class FileProvider:
    name: ClassVar[str] = "file"

    def fetch_config(self, ctx: ProviderContext) -> bytes | None:
        path = ctx.env.config_file
        ctx.logger.info(f"reading config from file {path}")
        try:
            with open(path, "rb") as f:
                return body.read_file(f, path)
        except OSError as e:
            raise FetchError(
                f"reading the config file {path}: {e.strerror}; set IGNITION_CONFIG_FILE to the "
                "config's path"
            ) from e
