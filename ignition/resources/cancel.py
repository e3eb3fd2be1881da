"""Stopping retry loops from outside: when one of several concurrent fetches
fails for good, its siblings should not go on retrying for a result nobody
will use.

The fetch that may be stopped runs with `cancel_scope(event)` around it (in its
own thread); retry loops (HttpClient.get) ask `current()` for the event, stop
before a new attempt once it is set, and wait for it instead of sleeping
through their backoff. A context variable carries it, so code between the pool
and the retry loop (Fetcher, the s3 and gs helpers) needs no parameter for it.
Kept apart from http.py so that importing it does not import requests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from ignition.errors import FetchError

_CURRENT: ContextVar[threading.Event | None] = ContextVar("ignition_fetch_cancel", default=None)


class Cancelled(FetchError):
    """A fetch that stopped retrying because it was told to; not a failure of
    its own resource."""


def current() -> threading.Event | None:
    return _CURRENT.get()


@contextmanager
def cancel_scope(event: threading.Event) -> Iterator[None]:
    token = _CURRENT.set(event)
    try:
        yield
    finally:
        _CURRENT.reset(token)
