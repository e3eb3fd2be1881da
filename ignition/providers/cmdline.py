"""The config named on the kernel command line, which takes precedence over
every provider: `ignition.config.url=` (or `coreos.config.url=`, the Container
Linux spelling)."""

from __future__ import annotations

from ignition import redact
from ignition.context import ProviderContext
from ignition.errors import FetchError

URL_KEYS = ("ignition.config.url", "coreos.config.url")  # first found wins, in this order


def parse(text: str) -> list[tuple[str, str | None]]:
    """Kernel command line words as (key, value); double quotes group spaces
    as the kernel's own parser does (`key="a b"`)."""
    words: list[tuple[str, str | None]] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        buf: list[str] = []
        quoted = False
        while i < n and (quoted or not text[i].isspace()):
            if text[i] == '"':
                quoted = not quoted
            else:
                buf.append(text[i])
            i += 1
        word = "".join(buf)
        key, sep, value = word.partition("=")
        words.append((key, value if sep else None))
    return words


def lookup(text: str, key: str) -> str | None:
    """The value of the last `key=` on the command line (later words override
    earlier ones, as in the kernel)."""
    value = None
    for k, v in parse(text):
        if k == key and v is not None:
            value = v
    return value


def fetch_config(ctx: ProviderContext) -> tuple[bytes, str] | None:
    """(config, source) when the command line names a config, else None."""
    try:
        with open(ctx.env.cmdline_path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise FetchError(f"reading the kernel command line {ctx.env.cmdline_path}: {e.strerror}") from e
    for key in ("ignition.config.device", "ignition.config.path"):
        if lookup(text, key) is not None:
            raise FetchError(f"{key} on the kernel command line is not supported in this build yet; "
                             "use ignition.config.url")
    for key in URL_KEYS:
        url = lookup(text, key)
        if url:
            ctx.logger.info(f"fetching config from {key}: {redact.url(url)}")
            return ctx.fetcher.fetch(url), "cmdline"
    return None
