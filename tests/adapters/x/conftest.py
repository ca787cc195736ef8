"""Fixtures for the X adapter's tier-3 tests: a fake clock, a strict respx router on
https://api.x.com, and accounts built through the public ``sg.Client`` API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import respx

import socialgate as sg

X_API = "https://api.x.com"
# Distinctive, so that a leak anywhere in an error is easy to spot.
TOKEN = "SECRET-TOKEN-abc123xyz"

MakeAccount = Callable[..., Awaitable[sg.Account]]


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    """Every request must hit a mocked route, and every mocked route must be called."""
    with respx.mock(base_url=X_API, assert_all_mocked=True, assert_all_called=True) as router:
        yield router


@pytest.fixture
async def make_account(fake_clock: sg.FakeClock) -> AsyncIterator[MakeAccount]:
    """``await make_account(**client_options)``: an X account on a fresh client that is
    closed at teardown. All clients share the test's FakeClock."""
    clients: list[sg.Client] = []

    async def make(**options: Any) -> sg.Account:
        client = sg.Client(token_store=sg.MemoryTokenStore(), clock=fake_clock, **options)
        await client.__aenter__()
        clients.append(client)
        return client.account("x", sg.BearerToken(TOKEN))

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def acct(make_account: MakeAccount) -> sg.Account:
    """An X account with the client's default options (max_retries=2, on_rate_limit='wait')."""
    return await make_account()
