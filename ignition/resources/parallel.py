"""Fetching independent resources concurrently, with the outcome of serial fetching.

Ignition fetches every resource one after the other; with per-request
latency that is where first boots spend their time. Here remote resources go
to a bounded thread pool sharing the Fetcher's one HttpClient (its keep-alive
pools: connections to the same server are reused, and a pool is made at
least as large as the number of workers so no connection is opened and thrown
away). data: URLs need no I/O and are decoded in the calling thread.

Each resource streams into a sink of the caller's (a staged file on the
target in the files stage), made in the fetching thread when its fetch
starts. Results come back in the order asked for. When a resource fails for good, the
others stop: jobs not started yet that come after it in order are cancelled,
and the running ones are told to stop retrying (see cancel.py: no new
attempt, their backoff sleep ends at once; an attempt already on the wire is
let finish). A job stopped that way has not failed. The error reported is
that of the lowest index that really failed: every job before the failing
one had started (the pool's queue is FIFO and none of them is cancelled) and
made at least its first attempt, so a resource that fails for good on its
first attempt is reported over any later one, whatever the timing. No thread
of ours outlives the call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, TypeVar

from ignition import redact
from ignition.config.types import Resource
from ignition.resources import stream
from ignition.resources.cancel import Cancelled, cancel_scope
from ignition.resources.fetcher import Fetcher
from ignition.resources.stream import MemorySink, Sink

if TYPE_CHECKING:
    from ignition.resources.http import HttpClient

# Ours (Ignition fetches serially). Per-request latency, not bandwidth, is what a first boot
# waits for: N workers need ceil(files / N) round trips. With bench/bench_fetch.py (200 files,
# 20 ms each) 16 workers could not go under 13 rounds (0.26 s), 32 need 7 (0.16 s measured) and
# 64 need 4 (0.11-0.12 s measured); past 64 the server's CPU decides (100 and 200 workers: no
# gain). 64 was no better than 32 while requests cost 1 ms of CPU a request; the fast path
# (httpconn.py) costs about 0.25 ms. At most 64 connections to one server, each reused
# (docs/benchmarks.md says what that costs a server); fewer remote files, fewer workers.
DEFAULT_WORKERS = 64
S = TypeVar("S", bound=Sink)
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
    """Let the client keep `size` connections per host (its fast pool and,
    made or not yet, its requests adapters), so `size` concurrent requests
    reuse their connections instead of opening extra ones that would be
    discarded after use."""
    client.ensure_pool_size(size)


def fetch_all(fetcher: Fetcher, resources: Sequence[Resource], workers: int = DEFAULT_WORKERS) -> list[bytes]:
    """The bytes of every resource in memory (as Fetcher.fetch_resource
    returns them), in order. Raises FetchFailed for the lowest-index resource
    that failed."""
    def memory(i: int) -> MemorySink:
        return MemorySink(redact.url(resources[i].source or ""), stream.MEMORY_LIMIT)

    sinks = fetch_all_into(fetcher, resources, memory, workers)
    return [s.getvalue() for s in sinks]


def fetch_all_into(fetcher: Fetcher, resources: Sequence[Resource], make_sink: Callable[[int], S],
                   workers: int = DEFAULT_WORKERS) -> list[S]:
    """Stream every resource into the sink `make_sink(index)` makes for it
    (in the fetching thread, when its fetch starts), and return the closed
    sinks in order. On failure every sink made is discarded and FetchFailed
    is raised for the lowest-index resource that failed."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    results: list[S | None] = [None] * len(resources)
    remote = [i for i, r in enumerate(resources) if not _inline(r)]

    def one(i: int) -> S:
        sink = make_sink(i)
        try:
            fetcher.fetch_resource_into(resources[i], sink)
            sink.close()
        except BaseException:
            sink.discard()
            raise
        return sink

    def discard_all() -> None:
        for r in results:
            if r is not None:
                r.discard()

    if len(remote) <= 1 or workers == 1:
        for i in range(len(resources)):
            try:
                results[i] = one(i)
            except Exception as e:
                discard_all()
                raise FetchFailed(i, e) from e
        return _complete(results)

    if any(_is_http(resources[i]) for i in remote):
        ensure_pool_size(fetcher.http_client(), min(workers, len(remote)))
    failed: dict[int, BaseException] = {}
    cancel = threading.Event()
    stopped_at = len(resources)  # the lowest index whose failure stopped the others

    def job(i: int) -> S:
        if i > stopped_at:  # dequeued just as the pool was told to stop: do not start
            raise Cancelled(f"resource #{i} not fetched: resource #{stopped_at} failed")
        with cancel_scope(cancel):
            return one(i)

    with ThreadPoolExecutor(max_workers=min(workers, len(remote)), thread_name_prefix="ignition-fetch") as pool:
        futures: dict[int, Future[S]] = {i: pool.submit(job, i) for i in remote}

        def stop(index: int) -> None:
            nonlocal stopped_at
            stopped_at = min(stopped_at, index)
            cancel.set()
            for j, fut in futures.items():
                if j > index:
                    fut.cancel()  # only succeeds for jobs not started yet

        # Inline resources are decoded while the pool works.
        for i in range(len(resources)):
            if i in futures:
                continue
            try:
                results[i] = one(i)
            except Exception as e:  # re-raised below for the lowest index
                failed[i] = e
                stop(i)
                break
        pending: set[Future[S]] = set(futures.values())
        while pending and not cancel.is_set():
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for i, fut in futures.items():
                if fut in done and fut.exception() is not None:
                    stop(i)
                    break
        # Leaving the with-block waits for the jobs still running; told to stop,
        # they end after their current attempt at most.
    for i, fut in futures.items():
        if fut.cancelled():
            continue
        error = fut.exception()
        if error is None:
            results[i] = fut.result()
        elif not isinstance(error, Cancelled):
            failed[i] = error
    if failed:
        discard_all()  # nothing of a failed stage stays staged
        index = min(failed)
        raise FetchFailed(index, failed[index]) from failed[index]
    return _complete(results)


def _complete(results: list[S | None]) -> list[S]:
    done = [r for r in results if r is not None]
    assert len(done) == len(results), "a resource neither fetched nor failed"
    return done
