"""Waiting for a provider's config source (a metadata service, a config drive)
the way Ignition does: keep trying until it answers, with Ignition's backoff
for HTTP (the figures of ignition.resources.http: 200 ms doubling to 5 s) or a
fixed poll (Ignition checks for config drives every second).

Unlike Ignition, which waits for some sources forever, the wait is bounded by
`-fetch-timeout` (0 or less: unbounded), and what is being waited for is
logged at the first failure and then every LOG_EVERY seconds, so a hung first
boot says why in the journal.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ignition.context import ProviderContext
from ignition.errors import FetchError
from ignition.resources.http import INITIAL_BACKOFF, MAX_BACKOFF

LOG_EVERY = 5.0  # seconds between "still waiting" lines


class WaitTimeout(FetchError):
    """The source did not answer within -fetch-timeout."""


class Waiter:
    def __init__(
        self,
        ctx: ProviderContext,
        what: str,
        *,
        interval: float | None = None,
        sleep: Callable[[float], None] | None = None,
        monotonic: Callable[[], float] | None = None,
        timeout: float | None = None,
    ) -> None:
        self.ctx = ctx
        self.what = what
        self.interval = interval
        self._sleep = sleep or time.sleep
        self._monotonic = monotonic or time.monotonic
        self.start = self._monotonic()
        # `timeout` for sources Ignition bounds itself (a config device: 30 s), else -fetch-timeout.
        self.limit = ctx.fetch_timeout if timeout is None else timeout
        self.deadline = self.start + self.limit if self.limit > 0 else None
        self.attempts = 0
        self._delay = INITIAL_BACKOFF
        self._last_log: float | None = None

    def remaining(self) -> float | None:
        """Seconds left (never negative), None when unbounded."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - self._monotonic())

    def wait(self, reason: str) -> None:
        """Record a failed attempt, then sleep before the next one; raises
        WaitTimeout once -fetch-timeout would be passed."""
        self.attempts += 1
        now = self._monotonic()
        if self.interval is None:
            self._delay = min(self._delay * 2, MAX_BACKOFF)
            delay = self._delay
        else:
            delay = self.interval
        elapsed = now - self.start
        if self.deadline is not None and now + delay >= self.deadline:
            raise WaitTimeout(
                f"gave up waiting for {self.what} after {elapsed:.1f}s and {self.attempts} attempts "
                f"({'-fetch-timeout ' if self.limit == self.ctx.fetch_timeout else 'limit '}{self.limit:g}s); "
                f"last: {reason}"
            )
        if self._last_log is None or now - self._last_log >= LOG_EVERY:
            left = "" if self.deadline is None else f", giving up in {self.deadline - now:.0f}s"
            self.ctx.logger.info(f"waiting for {self.what}: {reason} (attempt {self.attempts}{left})")
            self._last_log = now
        else:
            self.ctx.logger.debug(f"{self.what}: attempt {self.attempts}: {reason}")
        self._sleep(delay)
