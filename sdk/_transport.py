"""The rate-limiting transport: reserve budget before sending, learn budgets from every answer.

It wraps another ``httpx.AsyncBaseTransport`` (httpx's own by default, so respx still
intercepts underneath it). Requests that carry a ``RequestContext`` in
``request.extensions["socialgate"]`` are budgeted; anything else passes straight through.
Waiting happens here and only here, through the injected clock; the retry loop never sleeps
for a rate limit on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import httpx

from ._budgets import BudgetStore, Decision, MemoryBudgetStore, StaticBudget
from ._clock import Clock
from ._errors import RateLimited
from ._ratelimit_headers import RateLimitInfo, parse_rate_limit_headers

__all__ = ["RateLimitTransport", "RequestContext"]

EXTENSION = "socialgate"
# Seconds to hold a bucket after a 429 that carried no hint at all.
_BARE_429_BACKOFF = 60.0

OnRateLimit = Literal["wait", "raise"]


@dataclass(slots=True)
class RequestContext:
    """What the transport needs to budget one request; built by the account."""

    network: str
    bucket: str
    key: str
    static: StaticBudget | None
    app_key: str
    reset_style: str = "auto"
    reset_margin: float = 0.0
    on_rate_limit: OnRateLimit = "wait"
    max_wait: float = 900.0
    cost: float = 1.0
    observe: Callable[[str, RateLimitInfo], None] | None = None
    extra_keys: list[str] = field(default_factory=list)

    def sub_key(self, name: str) -> str:
        # Limits named after the app (X's x-app-limit-24hour-*) are shared by every user.
        base = self.app_key if name.startswith("app") else self.key
        return f"{base}:{name}"


class RateLimitTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, store: BudgetStore, clock: Clock) -> None:
        self._inner = inner
        self._store = store
        # In-memory budgets are updated without awaiting (see MemoryBudgetStore).
        self._memory = store if type(store) is MemoryBudgetStore else None
        self._clock = clock
        # Sub-budgets learned from headers (X's 24-hour limits), per main key, so that later
        # requests reserve them too.
        self._discovered: dict[str, list[str]] = {}
        # Set when a key's budget learns something, so waiters reconsider at once.
        self._changed: dict[str, asyncio.Event] = {}

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        ctx = request.extensions.get(EXTENSION)
        if ctx is None:
            return await self._inner.handle_async_request(request)
        keys = self.reserve_now(ctx) or await self.reserve(ctx)
        try:
            response = await self._inner.handle_async_request(request)
        except BaseException:
            await self.release(ctx, keys)
            raise
        if not self.settle_now(ctx, keys, response.status_code, response.headers):
            await self.settle(ctx, keys, response.status_code, response.headers)
        return response

    # The lean send path (``Account`` over ``AiohttpTransport.send_raw``) calls ``reserve``
    # before its own send and ``settle`` (or ``release``, when nothing came back) after it,
    # so budgets behave the same on both paths. Both paths try the ``_now`` forms first: with
    # the in-memory store they do the same without a coroutine.

    def _keys(self, ctx: RequestContext) -> list[tuple[str, StaticBudget | None]]:
        """The budgets one request reserves: its bucket's, and any learned from headers."""
        keys = [(ctx.key, ctx.static)]
        discovered = self._discovered.get(ctx.key)
        if discovered:
            keys.extend((k, None) for k in discovered)
        return keys

    def reserve_now(self, ctx: RequestContext) -> list[tuple[str, StaticBudget | None]] | None:
        """``reserve`` without awaiting, for the in-memory store when the budget says go;
        ``None`` when the caller must ``await reserve(ctx)`` instead (another store, or a
        wait), and nothing was reserved."""
        memory = self._memory
        if memory is None:
            return None
        keys = self._keys(ctx)
        if memory.acquire_now(keys, now=self._clock.time(), cost=ctx.cost).wait > 0:
            return None  # nothing reserved: ``reserve`` asks again and waits
        return keys

    async def reserve(self, ctx: RequestContext) -> list[tuple[str, StaticBudget | None]]:
        """Wait for (or refuse) budget for one request; returns what ``settle`` takes."""
        keys = self._keys(ctx)
        now = self._clock.time()
        if self._memory is not None:
            decision = self._memory.acquire_now(keys, now=now, cost=ctx.cost)
        else:
            decision = await self._store.acquire(keys, now=now, cost=ctx.cost)
        if decision.wait > 0:
            await self._reserve(ctx, keys, decision, now)
        return keys

    def settle_now(
        self,
        ctx: RequestContext,
        keys: list[tuple[str, StaticBudget | None]],
        status: int,
        headers: Mapping[str, str],
    ) -> bool:
        """``settle`` without awaiting, for the in-memory store; ``False`` (and nothing done)
        when the caller must ``await settle(...)`` instead."""
        memory = self._memory
        if memory is None:
            return False
        now = self._clock.time()
        routed, bare_429 = self._lessons(ctx, status, headers, now)
        for key, info in routed:
            memory.update_now(key, info, now=now)
            self._signal(key)
        if bare_429:
            memory.exhaust_now(ctx.key, until=now + _BARE_429_BACKOFF, now=now)
        memory.release_now([k for k, _ in keys])
        self._signal(ctx.key)  # a first answer ends a slow start
        return True

    async def settle(
        self,
        ctx: RequestContext,
        keys: list[tuple[str, StaticBudget | None]],
        status: int,
        headers: Mapping[str, str],
    ) -> None:
        """An answer came back: learn from it, then end the reservation (any store;
        ``settle_now`` is the in-memory store's shortcut)."""
        await self.learn(ctx, status, headers)
        await self.release(ctx, keys)

    async def release(
        self, ctx: RequestContext, keys: list[tuple[str, StaticBudget | None]]
    ) -> None:
        """End a reservation (after ``learn``, or alone when the send failed)."""
        names = [k for k, _ in keys]
        if self._memory is not None:
            self._memory.release_now(names)
        else:
            await self._store.release(names)
        self._signal(ctx.key)  # a first answer ends a slow start

    async def _reserve(
        self,
        ctx: RequestContext,
        keys: list[tuple[str, StaticBudget | None]],
        decision: Decision,
        started: float,
    ) -> None:
        """Wait until ``keys`` have budget; ``decision`` is the first refusal."""
        while True:
            if decision.probe:
                await self._wait(decision.key, decision.wait)
            else:
                wait = decision.wait + ctx.reset_margin
                allowance = ctx.max_wait - (self._clock.time() - started)
                if decision.scope != "window" or ctx.on_rate_limit == "raise":
                    raise _refusal(ctx, decision, wait)
                if wait > allowance:
                    if decision.confirmed or allowance <= 0:
                        raise _refusal(ctx, decision, wait)
                    # The reset is only guessed from the configured window; an answer may
                    # correct it, so wait what the caller allows and look again.
                    wait = allowance
                await self._wait(decision.key, wait)
            decision = await self._store.acquire(keys, now=self._clock.time(), cost=ctx.cost)
            if decision.wait <= 0:
                return

    async def _wait(self, key: str | None, seconds: float) -> None:
        """Sleep until ``seconds`` pass or the key's budget learns something new (an answer
        may reveal an earlier reset than the one guessed from the configured window)."""
        if key is None:
            await self._clock.sleep(seconds)
            return
        event = self._changed.get(key)
        if event is None:
            event = self._changed[key] = asyncio.Event()
        sleeper = asyncio.ensure_future(self._clock.sleep(seconds))
        changed = asyncio.ensure_future(event.wait())
        try:
            await asyncio.wait((sleeper, changed), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, changed):
                if not task.done():
                    task.cancel()
            await asyncio.gather(sleeper, changed, return_exceptions=True)

    def _signal(self, key: str) -> None:
        if self._changed:
            event = self._changed.pop(key, None)
            if event is not None:
                event.set()

    async def learn(self, ctx: RequestContext, status: int, headers: Mapping[str, str]) -> None:
        """Update budgets from one answer's status and headers (any case-insensitive map);
        ``settle_now`` does the same for the in-memory store."""
        now = self._clock.time()
        routed, bare_429 = self._lessons(ctx, status, headers, now)
        for key, info in routed:
            await self._store.update(key, info, now=now)
            self._signal(key)
        if bare_429:
            await self._store.exhaust(ctx.key, until=now + _BARE_429_BACKOFF, now=now)
            self._signal(ctx.key)

    def _lessons(
        self, ctx: RequestContext, status: int, headers: Mapping[str, str], now: float
    ) -> tuple[list[tuple[str, RateLimitInfo]], bool]:
        """What one answer teaches: each limit with its budget key, and whether it was a 429
        that said nothing about the budget (then the bucket is held for a while)."""
        routed = self._route(ctx, headers, now)
        if status != 429:
            return routed, False
        told = any(info.remaining is not None or info.retry_after is not None for _, info in routed)
        return routed, not told

    def _route(
        self, ctx: RequestContext, headers: Mapping[str, str], now: float
    ) -> list[tuple[str, RateLimitInfo]]:
        """Each limit the headers describe, with the budget key it belongs to."""
        routed = []
        for info in parse_rate_limit_headers(headers, now=now, reset_style=ctx.reset_style):
            if info.name:
                key = ctx.sub_key(info.name)
                known = self._discovered.setdefault(ctx.key, [])
                if key not in known:
                    known.append(key)
            else:
                key = ctx.key
            routed.append((key, info))
            if ctx.observe is not None:
                ctx.observe(info.name or ctx.bucket, info)
        return routed


def _refusal(ctx: RequestContext, decision: Decision, wait: float) -> RateLimited:
    reset_at = (
        datetime.fromtimestamp(decision.reset_at, UTC) if decision.reset_at is not None else None
    )
    if decision.scope != "window":
        why = f"its {decision.scope} quota is used up"
        todo = "reschedule the work after the reset; waiting in-process is not sensible"
    elif ctx.on_rate_limit == "raise":
        why = "its budget is empty"
        todo = "retry after the reset, or use on_rate_limit='wait'"
    else:
        why = (
            f"its budget is empty and the wait ({wait:.0f}s) exceeds max_wait ({ctx.max_wait:.0f}s)"
        )
        todo = "retry after the reset, or raise max_wait"
    when = f" until {reset_at.isoformat()}" if reset_at else ""
    error = RateLimited(
        f"not sent: bucket '{ctx.bucket}' is rate limited{when}; {why}. {todo}.",
        network=ctx.network,
        retry_after=wait,
        reset_at=reset_at,
        scope=decision.scope,
        bucket=ctx.bucket,
        sent=False,
    )
    return error
