"""One injectable clock: wall time, monotonic time and sleep, so tests never wait for real."""

from __future__ import annotations

import asyncio
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
    """A clock that only moves when slept on or advanced: ``sleep`` returns at once and
    moves time forward. Use it in tests and simulations (``sg.Client(clock=FakeClock())``)."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._t = float(start)
        self._mono = 0.0
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
        self.advance(seconds)
        await asyncio.sleep(0)
