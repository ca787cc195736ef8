"""Fixed-window rate limiting for the emulators, on an injectable clock with a time scale.

A window opens at the first request after the previous one closed (X's behaviour: the
15-minute window is counted from the first call) and lasts ``window / time_scale`` seconds of
the sandbox clock, so with ``time_scale=60`` a 15-minute window passes in 15 seconds.
``reset`` is the window's end as integer epoch seconds, rounded up, so a client that waits
until the advertised reset always finds a fresh window.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass

from socialgate._clock import Clock

__all__ = ["FixedWindowLimiter", "WindowState"]


@dataclass(frozen=True, slots=True)
class WindowState:
    """One key's window after a hit or a peek."""

    limit: int
    remaining: int
    reset: int
    allowed: bool
    used: int

    def headers(self, prefix: str = "x-rate-limit-") -> dict[str, str]:
        return {
            f"{prefix}limit": str(self.limit),
            f"{prefix}remaining": str(self.remaining),
            f"{prefix}reset": str(self.reset),
        }


class FixedWindowLimiter:
    """Counts requests per key in fixed windows; ``hit`` consumes, ``peek`` only looks."""

    def __init__(self, clock: Clock, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.clock = clock
        self.time_scale = float(time_scale)
        # key -> [window end (epoch float), used]
        self._windows: dict[Hashable, list[float]] = {}
        self._hits_since_prune = 0

    def scaled(self, seconds: float) -> float:
        """How long ``seconds`` of network time last on the sandbox clock."""
        return seconds / self.time_scale

    def _window(self, key: Hashable, window: float, now: float) -> list[float]:
        entry = self._windows.get(key)
        if entry is None or now >= entry[0]:
            entry = [now + self.scaled(window), 0.0]
            self._windows[key] = entry
        return entry

    def hit(self, key: Hashable, limit: int, window: float, cost: int = 1) -> WindowState:
        """Count one request (``cost`` units) if the window has room; say whether it had."""
        now = self.clock.time()
        self._maybe_prune(now)
        entry = self._window(key, window, now)
        allowed = entry[1] + cost <= limit
        if allowed:
            entry[1] += cost
        return self._state(entry, limit, allowed)

    def peek(self, key: Hashable, limit: int, window: float) -> WindowState:
        """The window as it stands, without counting (opens one if none is open)."""
        now = self.clock.time()
        entry = self._window(key, window, now)
        return self._state(entry, limit, entry[1] < limit)

    def reset(self) -> None:
        self._windows.clear()

    @staticmethod
    def _state(entry: list[float], limit: int, allowed: bool) -> WindowState:
        used = int(entry[1])
        return WindowState(
            limit=limit,
            remaining=max(limit - used, 0),
            reset=math.ceil(entry[0]),
            allowed=allowed,
            used=used,
        )

    def _maybe_prune(self, now: float) -> None:
        self._hits_since_prune += 1
        if self._hits_since_prune < 10_000:
            return
        self._hits_since_prune = 0
        for key in [k for k, entry in self._windows.items() if entry[0] <= now]:
            del self._windows[key]
