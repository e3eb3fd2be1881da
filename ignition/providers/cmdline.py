"""The config named on the kernel command line, which takes precedence over
every provider: `ignition.config.url=` (or `coreos.config.url=`, the Container
Linux spelling), or else the file `ignition.config.path=` on the filesystem
labelled `ignition.config.device=` (both together), mounted read-only for the
read, as Ignition does."""

from __future__ import annotations

import os

from ignition import redact
from ignition.context import ProviderContext
from ignition.errors import FetchError

URL_KEYS = ("ignition.config.url", "coreos.config.url")  # first found wins, in this order
DEVICE_KEY, PATH_KEY = "ignition.config.device", "ignition.config.path"
DEVICE_TIMEOUT = 30.0  # seconds: Ignition's own limit for the labelled device to appear


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
    # An empty value counts as not given, as in Ignition.
    label, path = lookup(text, DEVICE_KEY) or "", lookup(text, PATH_KEY) or ""
    for key in URL_KEYS:
        url = lookup(text, key)
        if url:
            if label or path:
                ctx.logger.warning(f"{key} takes precedence; ignoring {DEVICE_KEY} and {PATH_KEY}")
            ctx.logger.info(f"fetching config from {key}: {redact.url(url)}")
            return ctx.fetcher.fetch(url), "cmdline"
    if label and path:
        return from_device(ctx, label, path), "cmdline"
    if label or path:
        raise FetchError(f"{DEVICE_KEY}= and {PATH_KEY}= must be given together on the kernel command line "
                         f"(found only {DEVICE_KEY if label else PATH_KEY})")
    return None


def from_device(ctx: ProviderContext, label: str, path: str) -> bytes:
    """The file `path` of the filesystem labelled `label`, waiting for it to appear."""
    # Imported here: only machines booted this way pay for the mount helpers.
    from ignition.providers.configdrive import drive_path, mounted, read_file
    from ignition.providers.waiting import Waiter, WaitTimeout

    if not label or label in (".", "..") or "/" in label:
        raise FetchError(f"{DEVICE_KEY}={label!r} is not a filesystem label: give the label alone, "
                         "as in /dev/disk/by-label/<label>")
    clean = "/" + os.path.normpath("/" + path).lstrip("/")  # never above the filesystem's root
    waiter = Waiter(ctx, f"the config device labelled {label}", interval=1.0, timeout=DEVICE_TIMEOUT)
    while (device := drive_path(ctx, label)) is None:
        try:
            waiter.wait(f"no filesystem labelled {label} yet")
        except WaitTimeout as e:
            raise FetchError(f"the config device labelled {label!r} ({DEVICE_KEY}) did not appear within "
                             f"{DEVICE_TIMEOUT:g}s; check the label and that the disk is attached") from e
    ctx.logger.info(f"reading the config {clean} from the filesystem labelled {label} ({device})")
    with mounted(ctx, device) as root:
        data = read_file(root, clean)
    if data is None:
        raise FetchError(f"the config file {clean} ({PATH_KEY}) is not on the filesystem labelled {label!r}; "
                         "check the path")
    return data
