"""Reserve one request against several static budgets at once (write points per hour and day).

The core budgets a request against one static bucket (``ProviderSpec.buckets``, chosen by
route) plus sub-budgets learnt from headers. Bluesky's repo writes draw on two point budgets
per DID, 5000 an hour and 35 000 a day, with a cost per operation, and the answers' headers
describe the 3000-per-5-minutes limit instead. So the adapter reserves the points here, in
the client's ``BudgetStore`` (whose ``acquire`` already reserves on several keys atomically),
and sends the request itself on the header-learnt ``repo.write`` bucket. Waiting goes through
``Account.poll`` (the client's clock), so the adapter never sleeps on its own; daily
exhaustion raises at once, as the transport does for daily buckets.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from socialgate._budgets import StaticBudget
from socialgate._errors import RateLimited

if TYPE_CHECKING:
    from socialgate._account import Account

__all__ = ["reserve_static"]


@asynccontextmanager
async def reserve_static(
    account: Account, buckets: Sequence[str], *, key: str, cost: float = 1.0
) -> AsyncIterator[None]:
    """Reserve ``cost`` on each named spec bucket (keyed by ``key``, e.g. the DID) before the
    body runs; wait for the window like the transport does, or raise ``RateLimited``."""
    keys = []
    for name in buckets:
        bucket = account.spec.buckets[name]
        keys.append(
            (
                f"{account.network}|{key}|{name}",
                StaticBudget(bucket.user_limit, bucket.window, bucket.scope),
            )
        )
    client = account.client
    options = client.options
    waited = 0.0

    async def check() -> float | None:
        nonlocal waited
        decision = await client.budget_store.acquire(keys, now=client.clock.time(), cost=cost)
        if decision.wait <= 0:
            return None
        bucket = (decision.key or "").rsplit("|", 1)[-1]
        if (
            decision.scope != "window"
            or options.on_rate_limit == "raise"
            or waited + decision.wait > options.max_wait
        ):
            reset_at = datetime.fromtimestamp(decision.reset_at, UTC) if decision.reset_at else None
            raise RateLimited(
                f"not sent: {account.spec.display_name} budget '{bucket}' has fewer than "
                f"{cost:g} points left"
                + (f" until {reset_at.isoformat()}" if reset_at else "")
                + (
                    "; reschedule the work after the reset"
                    if decision.scope != "window"
                    else "; retry after the reset, or use on_rate_limit='wait' / a larger max_wait"
                ),
                network=account.network,
                retry_after=decision.wait,
                reset_at=reset_at,
                scope=decision.scope,
                bucket=bucket,
                sent=False,
            )
        waited += decision.wait
        return decision.wait

    await account.poll(check, max_seconds=options.max_wait, what="waiting for a rate-limit window")
    try:
        yield
    finally:
        await client.budget_store.release([k for k, _ in keys])
