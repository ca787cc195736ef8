"""Shared fixtures: a fake clock, an in-memory token store and a respx router for X."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import respx

import socialgate as sg

X_API = "https://api.x.com"


@pytest.fixture
def clock() -> sg.FakeClock:
    return sg.FakeClock()


@pytest.fixture
def token_store() -> sg.MemoryTokenStore:
    return sg.MemoryTokenStore()


@pytest.fixture
def x_api() -> respx.MockRouter:
    with respx.mock(base_url=X_API, assert_all_mocked=True, assert_all_called=False) as router:
        yield router


@pytest.fixture
async def client(clock: sg.FakeClock, token_store: sg.MemoryTokenStore) -> AsyncIterator[sg.Client]:
    async with sg.Client(clock=clock, token_store=token_store) as c:
        yield c
