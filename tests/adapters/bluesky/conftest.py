"""Fixtures for the Bluesky adapter's tests: recorded payloads, session JWTs with real ``exp``
claims, a strict respx router over the entry host and the PDS, and accounts built through
the public ``sg.Client`` API on a FakeClock."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

import socialgate as sg

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bluesky"
ENTRY = "https://bsky.social"
# The PDS named by the recorded createSession answer's DID document.
PDS = "https://puffball.us-east.host.bsky.network"
DID = "did:plc:5c2r73erhng4bszmxlfdtscf"
HANDLE = "bskyr.bsky.social"
PASSWORD = "SECRET-app-pass-1234"

MakeAccount = Callable[..., Awaitable[sg.Account]]


def load(name: str) -> dict[str, Any]:
    """A recorded interaction: ``{"request", "status", "headers", "body"}`` (a deep copy)."""
    return copy.deepcopy(json.loads((FIXTURES / name).read_text()))


def body(name: str) -> Any:
    return load(name)["body"]


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def make_jwt(claims: dict[str, Any], typ: str = "at+jwt") -> str:
    """A JWT shaped like the PDS's (the signature is not checked by the SDK)."""
    return f"{_b64({'typ': typ, 'alg': 'ES256K'})}.{_b64(claims)}.c2lnbmF0dXJl"


class Sessions:
    """Session answers with JWTs whose ``exp`` follows the test's clock; each call issues a
    new, distinct pair (``n`` counts them)."""

    def __init__(self, clock: sg.FakeClock) -> None:
        self.clock = clock
        self.n = 0
        self.issued: list[tuple[str, str]] = []

    def pair(self, access_ttl: float = 7200.0) -> tuple[str, str]:
        self.n += 1
        now = int(self.clock.time())
        access = make_jwt(
            {
                "scope": "com.atproto.appPass",
                "sub": DID,
                "iat": now,
                "exp": now + int(access_ttl),
                "aud": "did:web:puffball.us-east.host.bsky.network",
                "n": self.n,
            }
        )
        refresh = make_jwt(
            {
                "scope": "com.atproto.refresh",
                "sub": DID,
                "aud": "did:web:bsky.social",
                "jti": f"jti-{self.n}",
                "iat": now,
                "exp": now + 90 * 86_400,
            },
            typ="refresh+jwt",
        )
        self.issued.append((access, refresh))
        return access, refresh

    def answer(self, access_ttl: float = 7200.0) -> dict[str, Any]:
        """The recorded createSession body with fresh JWTs (the recorder blanked them)."""
        data = body("create_session.json")
        data["accessJwt"], data["refreshJwt"] = self.pair(access_ttl)
        return data


@pytest.fixture
def sessions(fake_clock: sg.FakeClock) -> Sessions:
    return Sessions(fake_clock)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    """Every request must hit a mocked route (on the entry host or the PDS)."""
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        yield router


@pytest.fixture
def login(api: respx.MockRouter, sessions: Sessions) -> respx.Route:
    """createSession on the entry host, answering the recorded body with fresh JWTs."""
    return api.post(f"{ENTRY}/xrpc/com.atproto.server.createSession").mock(
        side_effect=lambda request: httpx.Response(200, json=sessions.answer())
    )


@pytest.fixture
async def make_account(fake_clock: sg.FakeClock) -> AsyncIterator[MakeAccount]:
    """``await make_account(credential=..., store=..., **client_options)``: a Bluesky account
    on a fresh client closed at teardown. All clients share the test's FakeClock."""
    clients: list[sg.Client] = []

    async def make(
        credential: Any = None, store: sg.TokenStore | None = None, **options: Any
    ) -> sg.Account:
        client = sg.Client(
            token_store=store if store is not None else sg.MemoryTokenStore(),
            clock=fake_clock,
            **options,
        )
        await client.__aenter__()
        clients.append(client)
        return client.account("bluesky", credential or sg.AppPassword(HANDLE, PASSWORD))

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def acct(make_account: MakeAccount, login: respx.Route) -> sg.Account:
    """A Bluesky account logged in with an app password (createSession mocked)."""
    return await make_account()


def xrpc(nsid: str, host: str = PDS) -> str:
    return f"{host}/xrpc/{nsid}"
