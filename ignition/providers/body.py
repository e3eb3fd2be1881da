"""A provider's config body, read in bounded chunks and capped.

A config is parsed in memory, so its body is too; without a cap a broken or
hostile metadata service (or a huge file on a config drive) would fill the
initramfs's RAM before anything could say why. The cap is
ignition.resources.stream.MEMORY_LIMIT (64 MiB), the one the fetch path
already applies to referenced configs, CA bundles and key files: real configs
are kilobytes (the clouds cap user data at 16 KiB to a few MiB) and anything
large belongs in a resource that streams to disk (storage.files). Go's
Ignition has no cap; nothing a real config needs is refused.

Bodies are counted as they arrive, so a body over the cap is dropped at the
first chunk past it, never held whole; gzip-compressed user data is
inflated through the same bounded pipeline (a gzip bomb is refused, not
expanded). A body shorter than its Content-Length fails at once, as in the
resources path: Ignition reads it as an unexpected EOF and does not retry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, BinaryIO

from ignition.errors import FetchError
from ignition.resources import stream

if TYPE_CHECKING:
    import http.client

    import requests


def limit() -> int:
    """The cap, read at each use so that tests can lower it."""
    return stream.MEMORY_LIMIT


def too_large(source: str) -> FetchError:
    return FetchError(f"the config from {source} is larger than {limit() >> 20} MiB, the limit for a config "
                      "(it is read into memory): make the config smaller; put large contents in "
                      "storage.files with a source")


def read_capped(read: Callable[[int], bytes], source: str, declared: int | None = None) -> bytes:
    """Everything `read(n)` returns until it returns nothing, refused as
    soon as it passes the cap (or at once when `declared` already does)."""
    cap = limit()
    if declared is not None and declared > cap:
        raise too_large(source)
    chunks: list[bytes] = []
    size = 0
    while chunk := read(stream.CHUNK):
        size += len(chunk)
        if size > cap:
            raise too_large(source)
        chunks.append(chunk)
    return b"".join(chunks)


def read_file(f: BinaryIO, source: str) -> bytes:
    """An open config file, refused when it is over the cap (a growing or
    lying file is counted as it is read)."""
    import os

    return read_capped(f.read, source, os.fstat(f.fileno()).st_size or None)


def _declared(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _short(source: str, e: BaseException) -> FetchError | None:
    from ignition.resources.httperrors import incomplete

    got = incomplete(e)
    if got is None:
        return None
    return FetchError(f"fetching the config from {source}: the server sent {got} and closed the connection")


def read_http_client(resp: http.client.HTTPResponse, source: str) -> bytes:
    """The body of an http.client response (scoped IPv6, Scaleway's port).
    read(n) returns short at EOF without complaint; what Content-Length
    still expected is left in resp.length."""
    import http.client  # only the providers that talk http.client pay for it (not every stage's start)

    try:
        data = read_capped(resp.read, source, _declared(resp.getheader("Content-Length")))
    except http.client.IncompleteRead as e:
        raise _short(source, e) or FetchError(f"fetching the config from {source}: {e!r}") from e
    if resp.length:
        raise FetchError(f"fetching the config from {source}: the server sent {len(data)} of the "
                         f"{len(data) + resp.length} bytes its Content-Length announced and closed the connection")
    return data


def read_requests(resp: requests.Response, source: str) -> bytes:
    """The body of a streamed requests response, through iter_content as
    Response.content reads it (same decoding, same exceptions: a broken
    connection is retried by the caller), but counted."""
    import requests

    chunks = resp.iter_content(stream.CHUNK)
    try:
        return read_capped(lambda _: next(chunks, b""), source, _declared(resp.headers.get("Content-Length")))
    except requests.RequestException as e:
        short = _short(source, e)
        if short is None:
            raise
        raise short from e


def gunzip_capped(data: bytes, source: str) -> bytes:
    """`data` inflated (gzip members, as gzip(1) reads them), refused once
    the output passes the cap."""
    from ignition.resources.stream import MemorySink, Pipeline, write_chunked

    sink = MemorySink(source, limit())
    pipe = Pipeline(sink, "gzip", None, source)
    try:
        write_chunked(pipe, data)
        pipe.finish()
    except FetchError as e:
        if sink.size > limit():
            raise too_large(f"{source} (once decompressed)") from e
        reason = str(e).removeprefix(f"{source} is not valid gzip data: ")
        raise FetchError(f"the user data from {source} looks gzip-compressed but is not valid gzip: {reason}") \
            from e
    return sink.getvalue()
