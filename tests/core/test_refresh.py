"""OAuth 2.0 refresh: single-flight under concurrency, rotation persisted first, re-auth errors."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from urllib.parse import parse_qs

import httpx
import pytest
import respx

import socialgate as sg

TWEET = {"data": {"id": "20", "text": "just setting up my twttr"}}
APP = sg.OAuthApp(client_id="cid", client_secret="csecret-123456")


def expired_token(clock: sg.FakeClock, refresh: str = "refresh-1") -> sg.OAuth2Token:
    return sg.OAuth2Token(
        access_token="access-old-aaaaaaaa",
        refresh_token=refresh,
        expires_at=clock.now() - timedelta(seconds=10),
        scopes=("tweet.read", "offline.access"),
    )


class RotatingTokenEndpoint:
    """Issues a new access token and a new single-use refresh token on each refresh."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.calls = 0
        self.valid_access: set[str] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        assert form["grant_type"] == "refresh_token"
        assert request.headers["Authorization"].startswith("Basic ")  # client_secret_basic
        token = form["refresh_token"]
        if token in self.used:
            return httpx.Response(400, json={"error": "invalid_grant", "error_description": "used"})
        self.used.add(token)
        access = f"access-new-{self.calls:04d}"
        self.valid_access.add(access)
        return httpx.Response(
            200,
            json={
                "token_type": "bearer",
                "access_token": access,
                "refresh_token": f"refresh-{self.calls + 1}",
                "expires_in": 7200,
                "scope": "tweet.read offline.access",
            },
        )

    def api(self, request: httpx.Request) -> httpx.Response:
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if bearer not in self.valid_access:
            return httpx.Response(401, json={"title": "Unauthorized", "status": 401})
        return httpx.Response(200, json=TWEET)


async def test_hundred_concurrent_requests_refresh_exactly_once(
    x_api: respx.MockRouter, client: sg.Client, clock: sg.FakeClock, token_store: sg.TokenStore
) -> None:
    endpoint = RotatingTokenEndpoint()
    token_route = x_api.post("/2/oauth2/token").mock(side_effect=endpoint)
    api_route = x_api.get("/2/tweets/20").mock(side_effect=endpoint.api)
    acct = client.account("x", expired_token(clock), app=APP, key="user-1")

    posts = await asyncio.gather(*(acct.posts.get("20") for _ in range(100)))

    assert token_route.call_count == 1
    assert api_route.call_count == 100
    assert all(p.id == "20" for p in posts)
    stored = await token_store.get("x", "user-1")
    assert isinstance(stored, sg.OAuth2Token)
    assert stored.refresh_token == "refresh-2"
    assert stored.access_token == "access-new-0001"
    assert stored.expires_at == clock.now() + timedelta(seconds=7200)


async def test_two_accounts_on_one_credential_share_the_refresh(
    x_api: respx.MockRouter, client: sg.Client, clock: sg.FakeClock
) -> None:
    endpoint = RotatingTokenEndpoint()
    token_route = x_api.post("/2/oauth2/token").mock(side_effect=endpoint)
    x_api.get("/2/tweets/20").mock(side_effect=endpoint.api)
    a = client.account("x", expired_token(clock), app=APP, key="shared")
    b = client.with_options(max_wait=5).account(
        "twitter", expired_token(clock), app=APP, key="shared"
    )
    await asyncio.gather(a.posts.get("20"), b.posts.get("20"), a.posts.get("20"))
    assert token_route.call_count == 1


async def test_401_triggers_refresh_and_one_resend(
    x_api: respx.MockRouter, client: sg.Client, clock: sg.FakeClock
) -> None:
    endpoint = RotatingTokenEndpoint()
    token_route = x_api.post("/2/oauth2/token").mock(side_effect=endpoint)
    api_route = x_api.get("/2/tweets/20").mock(side_effect=endpoint.api)
    fresh_but_revoked = sg.OAuth2Token(
        access_token="access-revoked-zzzz",
        refresh_token="refresh-1",
        expires_at=clock.now() + timedelta(hours=1),
    )
    acct = client.account("x", fresh_but_revoked, app=APP, key="u")
    post = await acct.posts.get("20")
    assert post.id == "20"
    assert token_route.call_count == 1
    assert api_route.call_count == 2


async def test_store_holds_a_newer_rotation_than_the_code(
    x_api: respx.MockRouter, client: sg.Client, clock: sg.FakeClock, token_store: sg.TokenStore
) -> None:
    """Another process already rotated: the stored token wins and no refresh is made."""
    endpoint = RotatingTokenEndpoint()
    endpoint.valid_access.add("access-from-store")
    token_route = x_api.post("/2/oauth2/token").mock(side_effect=endpoint)
    x_api.get("/2/tweets/20").mock(side_effect=endpoint.api)
    await token_store.set(
        "x",
        "u",
        sg.OAuth2Token(
            access_token="access-from-store",
            refresh_token="refresh-9",
            expires_at=clock.now() + timedelta(hours=1),
        ),
    )
    acct = client.account("x", expired_token(clock), app=APP, key="u")
    await acct.posts.get("20")
    assert token_route.call_count == 0


async def test_invalid_grant_raises_reauthorization_required_without_secrets(
    x_api: respx.MockRouter, client: sg.Client, clock: sg.FakeClock
) -> None:
    x_api.post("/2/oauth2/token").respond(
        400,
        json={"error": "invalid_grant", "error_description": "token refresh-1 was revoked"},
    )
    api_route = x_api.get("/2/tweets/20").respond(200, json=TWEET)
    acct = client.account("x", expired_token(clock), app=APP, key="u")
    with pytest.raises(sg.ReauthorizationRequired) as info:
        await acct.posts.get("20")
    assert api_route.call_count == 0
    err = info.value
    assert err.network == "x" and err.status == 400 and err.code == "invalid_grant"
    for text in (str(err), repr(err), err.upstream_message or ""):
        assert "refresh-1" not in text
        assert "access-old-aaaaaaaa" not in text
        assert "csecret-123456" not in text


async def test_expired_token_without_refresh_token_needs_reauthorization(
    x_api: respx.MockRouter, client: sg.Client, clock: sg.FakeClock
) -> None:
    x_api.get("/2/tweets/20").respond(401, json={"title": "Unauthorized", "status": 401})
    token = sg.OAuth2Token(access_token="a-expired-xxxx", expires_at=clock.now())
    acct = client.account("x", token, app=APP, key="u")
    with pytest.raises(sg.AuthenticationError):
        await acct.posts.get("20")


async def test_rotated_token_is_written_to_the_encrypted_sqlite_store(
    x_api: respx.MockRouter, clock: sg.FakeClock, tmp_path
) -> None:
    endpoint = RotatingTokenEndpoint()
    x_api.post("/2/oauth2/token").mock(side_effect=endpoint)
    x_api.get("/2/tweets/20").mock(side_effect=endpoint.api)
    db = tmp_path / "tokens.sqlite3"
    store = sg.SQLiteTokenStore(db, key=b"k" * 32)
    async with sg.Client(clock=clock, token_store=store) as client:
        acct = client.account("x", expired_token(clock), app=APP, key="u")
        await acct.posts.get("20")
    reopened = sg.SQLiteTokenStore(db, key=b"k" * 32)
    stored = await reopened.get("x", "u")
    await reopened.aclose()
    assert isinstance(stored, sg.OAuth2Token) and stored.refresh_token == "refresh-2"
    raw = db.read_bytes()
    assert b"refresh-2" not in raw and b"access-new-0001" not in raw


async def test_tokens_without_refresh_are_regranted_once_under_concurrency(
    x_api: respx.MockRouter, client: sg.Client, clock: sg.FakeClock, token_store: sg.TokenStore
) -> None:
    """Script-style tokens carry no refresh token: renew_with runs the grant again, once."""
    endpoint = RotatingTokenEndpoint()
    x_api.get("/2/tweets/20").mock(side_effect=endpoint.api)
    grants = 0

    async def grant() -> sg.OAuth2Token:
        nonlocal grants
        grants += 1
        await asyncio.sleep(0)
        endpoint.valid_access.add(f"granted-{grants}")
        return sg.OAuth2Token(
            access_token=f"granted-{grants}", expires_at=clock.now() + timedelta(hours=1)
        )

    expired = sg.OAuth2Token(access_token="script-old-1234", expires_at=clock.now())
    acct = client.account("x", expired, key="script")
    assert acct.token_manager is not None
    acct.token_manager.renew_with(grant)
    await asyncio.gather(*(acct.posts.get("20") for _ in range(30)))
    assert grants == 1
    stored = await token_store.get("x", "script")
    assert isinstance(stored, sg.OAuth2Token) and stored.access_token == "granted-1"
    # Refused later (revoked upstream): one more grant, and the request is re-sent.
    endpoint.valid_access.discard("granted-1")
    await acct.posts.get("20")
    assert grants == 2
