"""Fixtures for the Reddit adapter's tests: a fake clock, a strict respx router, accounts built
through the public ``sg.Client`` API, and the recorded payloads of tests/fixtures/reddit/."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

import socialgate as sg

API = "https://oauth.reddit.com"
TOKEN_URL = "https://www.reddit.com/api/v1/access_token"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "reddit"
# Distinctive, so that a leak anywhere in an error is easy to spot.
TOKEN = "SECRET-REDDIT-TOKEN-abc123"
REFRESH = "SECRET-REDDIT-REFRESH-456"
USER_AGENT = "python:com.example.socialgate-tests:v1.0 (by /u/sg_tests)"
APP = sg.OAuthApp("test-client-id", "test-client-secret")

MakeAccount = Callable[..., Awaitable[sg.Account]]


def load(name: str) -> dict[str, Any]:
    """One recorded interaction (``source``, ``request``, ``status``, ``headers``, ``body``)."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def body(name: str) -> Any:
    return load(name)["body"]


def replay(name: str, **overrides: Any) -> httpx.Response:
    """The recorded answer as an ``httpx.Response``: status, rate-limit headers and body."""
    fx = load(name)
    headers = dict(fx["headers"])
    payload = overrides.pop("body", fx["body"])
    headers.update(overrides.pop("headers", {}))
    status = overrides.pop("status", fx["status"])
    if isinstance(payload, str):
        return httpx.Response(status, headers=headers, text=payload)
    return httpx.Response(status, headers=headers, json=payload)


def limits(remaining: float, used: int, reset: int) -> dict[str, str]:
    return {
        "x-ratelimit-remaining": f"{remaining:.1f}",
        "x-ratelimit-used": str(used),
        "x-ratelimit-reset": str(reset),
    }


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    """Every request must hit a mocked route, and every mocked route must be called."""
    with respx.mock(assert_all_mocked=True, assert_all_called=True) as router:
        yield router


@pytest.fixture
async def make_client(fake_clock: sg.FakeClock) -> AsyncIterator[Callable[..., sg.Client]]:
    clients: list[sg.Client] = []

    def make(**options: Any) -> sg.Client:
        options.setdefault("user_agent", USER_AGENT)
        options.setdefault("token_store", sg.MemoryTokenStore())
        client = sg.Client(clock=fake_clock, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def make_account(make_client: Callable[..., sg.Client]) -> MakeAccount:
    """``await make_account(credential=..., app=..., **client_options)``."""

    async def make(
        credential: sg.OAuth2Token | None = None, app: sg.OAuthApp | None = APP, **options: Any
    ) -> sg.Account:
        client = make_client(**options)
        await client.__aenter__()
        return client.account("reddit", credential or sg.OAuth2Token(TOKEN), app=app)

    return make


@pytest.fixture
async def acct(make_account: MakeAccount) -> sg.Account:
    return await make_account()


def assert_no_secret(err: BaseException) -> None:
    """No token appears anywhere an error can be read or logged."""
    assert isinstance(err, sg.SocialGateError)
    texts = [str(err), repr(err), err.message, getattr(err, "body", None) or "",
             err.upstream_message or "", *(str(a) for a in err.args)]  # fmt: skip
    for text in texts:
        for secret in (TOKEN, REFRESH, APP.client_secret or ""):
            assert secret not in text
