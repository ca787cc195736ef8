"""Fixtures for the Mastodon adapter's tests: the recorded payloads, a fake clock, a strict
respx router on the recordings' instance (http://localhost:3000) and accounts made through
the public ``sg.Client`` API."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

import socialgate as sg

INSTANCE = "http://localhost:3000"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mastodon"
# Distinctive, so that a leak anywhere in an error is easy to spot.
TOKEN = "SECRET-MASTODON-TOKEN-4f9a2c"

MakeAccount = Callable[..., Awaitable[sg.Account]]
_CACHE: dict[str, dict[str, Any]] = {}


def recording(name: str) -> dict[str, Any]:
    """A recorded exchange from tests/fixtures/mastodon/ (a fresh copy each time):
    ``{"source", "request", "status", "headers", "body"}``."""
    if name not in _CACHE:
        _CACHE[name] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return copy.deepcopy(_CACHE[name])


def body(name: str) -> Any:
    return recording(name)["body"]


def replay(name: str, **overrides: Any) -> httpx.Response:
    """The recorded answer as an ``httpx.Response`` (status, headers and JSON body)."""
    rec = recording(name)
    headers = {**rec["headers"], **overrides.pop("headers", {})}
    headers.pop("content-type", None)
    payload = overrides.pop("json", rec["body"])
    return httpx.Response(overrides.pop("status", rec["status"]), headers=headers, json=payload)


@pytest.fixture
def fake_clock() -> sg.FakeClock:
    # The recordings were made on 2026-08-01 around 13:50 UTC; start just before them.
    return sg.FakeClock(start=1_785_592_000.0)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    """Every request must hit a mocked route, and every mocked route must be called."""
    with respx.mock(base_url=INSTANCE, assert_all_mocked=True, assert_all_called=True) as router:
        yield router


@pytest.fixture
async def make_account(fake_clock: sg.FakeClock) -> AsyncIterator[MakeAccount]:
    """``await make_account(**client_options)``: a Mastodon account on the recordings'
    instance, on a fresh client closed at teardown. All clients share the FakeClock."""
    clients: list[sg.Client] = []

    async def make(**options: Any) -> sg.Account:
        client = sg.Client(token_store=sg.MemoryTokenStore(), clock=fake_clock, **options)
        await client.__aenter__()
        clients.append(client)
        return client.account("mastodon", sg.BearerToken(TOKEN), base_url=INSTANCE)

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def acct(make_account: MakeAccount) -> sg.Account:
    return await make_account()
