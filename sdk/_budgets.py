"""Rate-limit budgets: how many calls are left in each bucket, and when they come back.

A budget is keyed by (network, app, credential, bucket). It starts from the adapter's static
``BucketSpec`` (or unknown) and is corrected by every response's headers. ``acquire`` reserves
before a request is sent, so a well-behaved run never sends a request the budget says will be
refused; it answers "go" or "wait N seconds" and never sleeps itself. The ``BudgetStore``
protocol is small and async so a shared store (Redis) can implement ``acquire`` atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from ._ratelimit_headers import RateLimitInfo

__all__ = ["Budget", "BudgetStore", "Decision", "MemoryBudgetStore", "StaticBudget"]

# Reset times within this many seconds of each other describe the same window (headers
# have one-second resolution and Date-based skew correction jitters by as much).
_SAME_WINDOW_TOLERANCE = 1.5
# With no limit known yet, one request probes the budget and the others wait for its
# answer, polling this often (a few milliseconds, once per new bucket).
_PROBE_POLL = 0.005
# Meta's usage headers are percentages; at this level the next call risks a block.
_USAGE_STOP_PCT = 95.0
_USAGE_DEFAULT_BACKOFF = 300.0


@dataclass(frozen=True, slots=True)
class StaticBudget:
    """The configured starting point for a key: ``limit`` per ``window`` seconds."""

    limit: float | None
    window: float | None
    scope: str = "window"


@dataclass(frozen=True, slots=True)
class Decision:
    """``wait == 0`` means the reservation was made and the request may go."""

    wait: float
    key: str | None = None
    reset_at: float | None = None
    scope: str = "window"
    limit: float | None = None
    # A slow-start wait for the first answer of an unknown budget, not a rate limit.
    probe: bool = False
    # Whether reset_at is what the server said (False: a guess from the configured window).
    confirmed: bool = True


@dataclass(slots=True)
class Budget:
    limit: float | None
    remaining: float | None
    reset_at: float | None
    window: float | None
    scope: str = "window"
    inflight: int = 0
    updated_at: float = 0.0
    # True once reset_at came from the server; a locally guessed window yields to it.
    confirmed: bool = False
    # The scope this budget has when no quota hold is in force.
    base_scope: str = "window"
    # Whether any answer for this key has come back (headers or not).
    answered: bool = False
    # The last reset time the server stated; consecutive ones reveal the window length.
    server_reset: float | None = None

    def snapshot(self) -> Budget:
        return replace(self)


class BudgetStore(Protocol):
    async def acquire(
        self, keys: Sequence[tuple[str, StaticBudget | None]], *, now: float, cost: float = 1
    ) -> Decision:
        """Reserve ``cost`` on every key, or reserve nothing and say how long to wait."""
        ...

    async def release(self, keys: Sequence[str]) -> None:
        """A reserved request finished (after ``update`` when its answer had headers)."""
        ...

    async def update(self, key: str, info: RateLimitInfo, *, now: float) -> None:
        """Fold what a response said about ``key`` into its budget."""
        ...

    async def exhaust(self, key: str, *, until: float, now: float, scope: str = "window") -> None:
        """The server refused a call (429 or body-level limit): nothing left until ``until``.
        A ``daily``/``monthly`` scope makes calls fail fast instead of waiting until then."""
        ...

    async def get(self, key: str) -> Budget | None: ...


_GO = Decision(0.0)


class MemoryBudgetStore:
    """Budgets in this process's memory. Every method runs without awaiting, so each is
    atomic under asyncio and no lock is needed."""

    def __init__(self) -> None:
        self._budgets: dict[str, Budget] = {}

    def _budget(self, key: str, static: StaticBudget | None, now: float) -> Budget:
        budget = self._budgets.get(key)
        if budget is None:
            if static is None:
                budget = Budget(None, None, None, None)
            else:
                budget = Budget(static.limit, static.limit, None, static.window, static.scope)
                budget.base_scope = static.scope
            budget.updated_at = now
            self._budgets[key] = budget
        return budget

    @staticmethod
    def _roll(budget: Budget, now: float) -> None:
        """Start the next window once the current one has reset."""
        if budget.reset_at is None or now < budget.reset_at:
            return
        budget.remaining = budget.limit
        if budget.window:
            # Fixed windows follow each other; skip whole windows that passed unused.
            elapsed = now - budget.reset_at
            budget.reset_at += budget.window * (1 + int(elapsed // budget.window))
        else:
            budget.reset_at = None
        budget.confirmed = False
        budget.scope = budget.base_scope

    async def acquire(
        self, keys: Sequence[tuple[str, StaticBudget | None]], *, now: float, cost: float = 1
    ) -> Decision:
        return self.acquire_now(keys, now=now, cost=cost)

    async def release(self, keys: Sequence[str]) -> None:
        self.release_now(keys)

    async def update(self, key: str, info: RateLimitInfo, *, now: float) -> None:
        self.update_now(key, info, now=now)

    # The async methods above are the ``BudgetStore`` protocol. They never await, so the
    # rate limiter calls these synchronous twins directly when the store is this class.

    def acquire_now(
        self, keys: Sequence[tuple[str, StaticBudget | None]], *, now: float, cost: float = 1
    ) -> Decision:
        budgets = []
        worst: Decision | None = None
        for key, static in keys:
            budget = self._budget(key, static, now)
            self._roll(budget, now)
            budgets.append(budget)
            if budget.remaining is None and not budget.answered and budget.inflight > 0:
                # Slow start: nothing is known about this budget until the first answer.
                if worst is None:
                    worst = Decision(_PROBE_POLL, key, None, budget.scope, None, probe=True)
                continue
            if budget.remaining is not None and budget.remaining < cost:
                if budget.reset_at is None and budget.window:
                    budget.reset_at = now + budget.window
                wait = (budget.reset_at - now) if budget.reset_at is not None else 1.0
                if worst is None or wait > worst.wait:
                    worst = Decision(
                        max(wait, 0.0),
                        key,
                        budget.reset_at,
                        budget.scope,
                        budget.limit,
                        confirmed=budget.confirmed,
                    )
        if worst is not None:
            return worst
        for budget in budgets:
            if budget.remaining is not None:
                budget.remaining -= cost
                if budget.reset_at is None and budget.window:
                    budget.reset_at = now + budget.window  # a static window starts at first use
            budget.inflight += 1
        return _GO

    def release_now(self, keys: Sequence[str]) -> None:
        for key in keys:
            budget = self._budgets.get(key)
            if budget is not None:
                budget.answered = True
                if budget.inflight > 0:
                    budget.inflight -= 1

    def update_now(self, key: str, info: RateLimitInfo, *, now: float) -> None:
        budget = self._budget(key, None, now)
        budget.updated_at = now
        if info.scope != "window":
            budget.scope = budget.base_scope = info.scope
        if info.limit is not None:
            budget.limit = info.limit
        if info.window is not None:
            budget.window = info.window
        reset_at = info.reset_at
        if reset_at is None and info.retry_after is not None:
            reset_at = now + info.retry_after
        if info.usage_pct is not None:
            if info.usage_pct >= _USAGE_STOP_PCT:
                budget.remaining = 0
                budget.reset_at = reset_at or now + (budget.window or _USAGE_DEFAULT_BACKOFF)
            return
        if info.remaining is None:
            if info.retry_after is not None and reset_at is not None:
                budget.remaining = 0
                # A locally guessed reset (the configured window) must not outlast what the
                # server just said.
                held = budget.reset_at if budget.confirmed else None
                budget.reset_at = max(held or 0.0, reset_at)
                budget.confirmed = True
            return
        # ``update`` is called while the answered request still counts as in flight. The
        # other requests in flight were reserved locally but are not yet in the server's
        # count; subtracting them keeps the local view at or below the server's.
        others_in_flight = max(budget.inflight - 1, 0)
        server_view = max(info.remaining - others_in_flight, 0.0)
        if reset_at is None or budget.reset_at is None or not budget.confirmed:
            newer = True
        elif reset_at > budget.reset_at + _SAME_WINDOW_TOLERANCE:
            newer = True
        elif reset_at < budget.reset_at - _SAME_WINDOW_TOLERANCE:
            return  # a late answer from a window that has already rolled over
        else:
            newer = False
        if newer:
            budget.remaining = server_view
            if reset_at is not None:
                previous = budget.server_reset
                if previous is not None and reset_at > previous + _SAME_WINDOW_TOLERANCE:
                    # Fixed windows follow each other: the gap is the window (or a multiple
                    # when windows passed unused), which beats a configured guess.
                    observed = reset_at - previous
                    budget.window = min(budget.window or observed, observed)
                budget.server_reset = reset_at
                budget.reset_at = reset_at
                budget.confirmed = True
        else:
            current = budget.remaining if budget.remaining is not None else server_view
            budget.remaining = min(current, info.remaining)
        if info.retry_after is not None and reset_at is not None:
            budget.remaining = 0
            budget.reset_at = max(budget.reset_at or 0.0, reset_at)

    async def exhaust(self, key: str, *, until: float, now: float, scope: str = "window") -> None:
        self.exhaust_now(key, until=until, now=now, scope=scope)

    def exhaust_now(self, key: str, *, until: float, now: float, scope: str = "window") -> None:
        budget = self._budget(key, None, now)
        budget.scope = scope
        budget.remaining = 0
        budget.reset_at = max(budget.reset_at or 0.0, until) if budget.confirmed else until
        budget.confirmed = True
        budget.updated_at = now

    async def get(self, key: str) -> Budget | None:
        budget = self._budgets.get(key)
        return budget.snapshot() if budget is not None else None
