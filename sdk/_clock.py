"""One injectable clock: wall time, monotonic time and sleep, so tests never wait for real."""

from __future__ import annotations

import asyncio
import heapq
import time
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "FakeClock", "SystemClock"]


class Clock(Protocol):
    def time(self) -> float:
        """Wall-clock seconds since the epoch (rate-limit resets are given in wall time)."""
        ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...

    def now(self) -> datetime:
        """Aware UTC datetime for ``time()``."""
        ...


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """Virtual time for tests and simulations (``sg.Client(clock=FakeClock())``).

    ``sleep`` returns without waiting for real, and time behaves as it would for concurrent
    code: sleepers wake in deadline order, and the clock moves to a sleeper's deadline only
    after everything else that can run (requests in flight) has had its turn and no earlier
    sleeper is pending. ``sleeps`` records every requested sleep.
    """

    # How many event-loop turns to let runnable work settle before time moves.
    SETTLE_TURNS = 50

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._t = float(start)
        self._mono = 0.0
        self._seq = 0
        self._pending: list[tuple[float, int]] = []
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self._t

    def monotonic(self) -> float:
        return self._mono

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._t, UTC)

    def advance(self, seconds: float) -> None:
        self._t += seconds
        self._mono += seconds

    async def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        self.sleeps.append(seconds)
        self._seq += 1
        entry = (self._t + seconds, self._seq)
        heapq.heappush(self._pending, entry)
        try:
            while True:
                for _ in range(self.SETTLE_TURNS):
                    await asyncio.sleep(0)
                if self._pending[0] == entry:
                    if entry[0] > self._t:
                        self.advance(entry[0] - self._t)
                    return
        finally:
            self._pending.remove(entry)
            heapq.heapify(self._pending)
