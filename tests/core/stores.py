"""Budget stores for tests."""

from __future__ import annotations

from collections.abc import Sequence

import socialgate as sg
from socialgate._budgets import Budget, Decision, StaticBudget
from socialgate._ratelimit_headers import RateLimitInfo


class ProtocolOnlyStore:
    """A ``BudgetStore`` that is not ``MemoryBudgetStore`` (as a Redis store will not be):
    the limiter must use the async protocol, not the in-memory shortcuts."""

    def __init__(self) -> None:
        self.inner = sg.MemoryBudgetStore()
        self.calls: list[str] = []

    async def acquire(
        self, keys: Sequence[tuple[str, StaticBudget | None]], *, now: float, cost: float = 1
    ) -> Decision:
        self.calls.append("acquire")
        return await self.inner.acquire(keys, now=now, cost=cost)

    async def release(self, keys: Sequence[str]) -> None:
        self.calls.append("release")
        await self.inner.release(keys)

    async def update(self, key: str, info: RateLimitInfo, *, now: float) -> None:
        self.calls.append("update")
        await self.inner.update(key, info, now=now)

    async def exhaust(self, key: str, *, until: float, now: float, scope: str = "window") -> None:
        self.calls.append("exhaust")
        await self.inner.exhaust(key, until=until, now=now, scope=scope)

    async def get(self, key: str) -> Budget | None:
        return await self.inner.get(key)
