"""Fetching independent resources concurrently, with the outcome of serial fetching.

Ignition fetches every resource one after the other; with per-request
latency that is where first boots spend their time. Here remote resources go
to a bounded thread pool sharing the Fetcher's one HttpClient (one requests
Session: connections to the same server are reused, and its pool is made at
least as large as the number of workers so no connection is opened and thrown
away). data: URLs need no I/O and are decoded in the calling thread.

Results come back in the order asked for. The pool starts the jobs in that
order (its queue is FIFO), so when the resource at index i fails, every
resource before it has already started: those are waited for, those after it
that have not started are cancelled (the ones already running are waited for
too, so no thread of ours outlives the call), and the error reported is the
one of the lowest failing index, which is the error serial fetching would
have reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from ignition.config.types import Resource
from ignition.resources.fetcher import Fetcher

if TYPE_CHECKING:
    from ignition.resources.http import HttpClient

DEFAULT_WORKERS = 8
_INLINE_SCHEMES = ("data:",)  # no I/O: a thread would only add overhead


class FetchFailed(Exception):
    """The resource at `index` (the lowest failing one) could not be fetched;
    `error` (also the __cause__) is what fetching it raised."""

    def __init__(self, index: int, error: BaseException) -> None:
        super().__init__(f"resource #{index}: {error}")
        self.index = index
        self.error = error


def _inline(res: Resource) -> bool:
    return res.source is None or res.source[:5].lower().startswith(_INLINE_SCHEMES)


def _is_http(res: Resource) -> bool:
    return res.source is not None and res.source[:8].lower().startswith(("http://", "https://"))


def ensure_pool_size(client: HttpClient, size: int) -> None:
    """Let each of the session's adapters keep `size` connections per host, so
    `size` concurrent requests reuse their connections instead of opening
    extra ones that urllib3 would discard after use."""
    from requests.adapters import HTTPAdapter

    for adapter in client.session.adapters.values():
        if not isinstance(adapter, HTTPAdapter) or getattr(adapter, "_pool_maxsize", 0) >= size:
            continue
        adapter.close()  # drops idle connections of the old, smaller pools
        # init_poolmanager is what HTTPAdapter itself calls; a subclass's
        # override (our TLS context) stays in effect.
        adapter.init_poolmanager(getattr(adapter, "_pool_connections", 10), size,
                                 block=getattr(adapter, "_pool_block", False))


def fetch_all(fetcher: Fetcher, resources: Sequence[Resource], workers: int = DEFAULT_WORKERS) -> list[bytes]:
    """The bytes of every resource (as Fetcher.fetch_resource returns them),
    in order. Raises FetchFailed for the lowest-index resource that failed."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    results: list[bytes | None] = [None] * len(resources)
    remote = [i for i, r in enumerate(resources) if not _inline(r)]
    if len(remote) <= 1 or workers == 1:
        for i, res in enumerate(resources):
            results[i] = _one(fetcher, res, i)
        return [r if r is not None else b"" for r in results]

    if any(_is_http(resources[i]) for i in remote):
        ensure_pool_size(fetcher.http_client(), min(workers, len(remote)))
    failed: dict[int, BaseException] = {}
    with ThreadPoolExecutor(max_workers=min(workers, len(remote)), thread_name_prefix="ignition-fetch") as pool:
        futures: dict[int, Future[bytes]] = {i: pool.submit(fetcher.fetch_resource, resources[i]) for i in remote}
        # Inline resources are decoded while the pool works; a failure there
        # cancels the remote ones after it like any other failure.
        for i, res in enumerate(resources):
            if i in futures:
                continue
            try:
                results[i] = fetcher.fetch_resource(res)
            except Exception as e:  # re-raised below for the lowest index
                failed[i] = e
                _cancel_after(futures, i)
                break
        for i, fut in futures.items():
            if failed and i > min(failed):
                break  # cancelled, or running and to be ignored
            try:
                results[i] = fut.result()
            except Exception as e:  # re-raised below for the lowest index
                failed[i] = e
                _cancel_after(futures, i)
        # Leaving the with-block waits for jobs still running: no fetch
        # outlives the call.
    if failed:
        index = min(failed)
        raise FetchFailed(index, failed[index]) from failed[index]
    return [r if r is not None else b"" for r in results]


def _one(fetcher: Fetcher, res: Resource, index: int) -> bytes:
    try:
        return fetcher.fetch_resource(res)
    except Exception as e:
        raise FetchFailed(index, e) from e


def _cancel_after(futures: dict[int, Future[bytes]], index: int) -> None:
    for j, fut in futures.items():
        if j > index:
            fut.cancel()
