"""Reddit OAuth: the authorization URL, code exchange and refresh with HTTP Basic client auth,
the password (script) and application-only grants, self-renewing script accounts, and the
mandatory User-Agent. Token answers are the recorded ones (asyncpraw, asyncprawcore)."""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

import socialgate as sg
from socialgate.adapters.reddit import (
    app_only_account,
    app_only_token,
    password_grant,
    script_account,
)

from .conftest import (
    API,
    APP,
    REFRESH,
    TOKEN,
    TOKEN_URL,
    USER_AGENT,
    MakeAccount,
    assert_no_secret,
    body,
    replay,
)

BASIC = "Basic " + base64.b64encode(b"test-client-id:test-client-secret").decode()
WEB_APP = sg.OAuthApp(
    "test-client-id", "test-client-secret", redirect_uri="https://crm.example/cb/reddit"
)


def form(route: respx.Route, call: int = 0) -> dict[str, str]:
    raw = route.calls[call].request.content.decode()
    return {k: v[0] for k, v in parse_qs(raw).items()}


def token_answer(name: str, access: str, **changes: Any) -> httpx.Response:
    data = copy.deepcopy(body(name))
    data["access_token"] = access
    data.update(changes)
    return httpx.Response(200, json=data)


# --- authorization code ----------------------------------------------------------------------


async def test_authorization_url_asks_for_a_permanent_grant(
    make_client: Callable[..., sg.Client],
) -> None:
    client = make_client(apps={"reddit": WEB_APP})
    request = client.oauth("reddit").authorization_url(scopes=["identity", "read", "submit"])
    url = urlsplit(request.url)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert (url.scheme, url.netloc, url.path) == ("https", "www.reddit.com", "/api/v1/authorize")
    assert query["duration"] == "permanent"
    assert query["scope"] == "identity read submit"
    assert query["response_type"] == "code" and query["client_id"] == "test-client-id"
    assert query["redirect_uri"] == "https://crm.example/cb/reddit"
    assert "code_challenge" not in query and request.code_verifier is None  # no PKCE


async def test_code_exchange_uses_basic_auth(
    api: respx.MockRouter, make_client: Callable[..., sg.Client]
) -> None:
    route = api.post(TOKEN_URL).mock(return_value=replay("token_refresh_code_grant"))
    client = make_client(apps={"reddit": WEB_APP})
    token = await client.oauth("reddit").exchange_code("the-code")
    sent = route.calls[0].request
    assert sent.headers["Authorization"] == BASIC
    assert form(route) == {
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": "https://crm.example/cb/reddit",
    }
    assert token.refresh_token == "1234"
    assert "identity" in token.scopes and "submit" in token.scopes


async def test_refresh_keeps_the_permanent_refresh_token(
    api: respx.MockRouter, make_account: MakeAccount, fake_clock: sg.FakeClock
) -> None:
    expired = sg.OAuth2Token(
        TOKEN, refresh_token=REFRESH, expires_at=fake_clock.now() - timedelta(minutes=1)
    )
    refresh = api.post(TOKEN_URL).mock(return_value=token_answer("token_refresh", "fresh-token-1"))
    me = api.get(f"{API}/api/v1/me").mock(return_value=replay("me"))
    acct = await make_account(credential=expired)
    await acct.profiles.me()
    assert refresh.calls[0].request.headers["Authorization"] == BASIC
    assert form(refresh) == {"grant_type": "refresh_token", "refresh_token": REFRESH}
    assert me.calls[0].request.headers["Authorization"] == "Bearer fresh-token-1"
    # Reddit does not rotate refresh tokens (the recorded answer carries none): kept.
    stored = await acct.client.token_store.get("reddit", acct.key)
    assert isinstance(stored, sg.OAuth2Token)
    assert (stored.access_token, stored.refresh_token) == ("fresh-token-1", REFRESH)
    assert stored.expires_at == fake_clock.now() + timedelta(seconds=3600)


async def test_refresh_sends_the_user_agent(
    api: respx.MockRouter, make_account: MakeAccount, fake_clock: sg.FakeClock
) -> None:
    expired = sg.OAuth2Token(TOKEN, refresh_token=REFRESH, expires_at=fake_clock.now())
    refresh = api.post(TOKEN_URL).mock(return_value=token_answer("token_refresh", "fresh-3"))
    api.get(f"{API}/api/v1/me").mock(return_value=replay("me"))
    acct = await make_account(credential=expired)
    await acct.profiles.me()
    assert refresh.calls[0].request.headers.get("User-Agent") == USER_AGENT


async def test_a_401_refreshes_once_and_resends(
    api: respx.MockRouter, make_account: MakeAccount
) -> None:
    api.post(TOKEN_URL).mock(return_value=token_answer("token_refresh_2025", "fresh-token-2"))
    me = api.get(f"{API}/api/v1/me").mock(side_effect=[replay("invalid_token_401"), replay("me")])
    acct = await make_account(credential=sg.OAuth2Token(TOKEN, refresh_token=REFRESH))
    profile = await acct.profiles.me()
    assert profile.handle == "Lil_SpazJoekp"
    assert [c.request.headers["Authorization"] for c in me.calls] == [
        f"Bearer {TOKEN}",
        "Bearer fresh-token-2",
    ]


async def test_a_revoked_refresh_token_asks_for_consent(
    api: respx.MockRouter, make_account: MakeAccount, fake_clock: sg.FakeClock
) -> None:
    api.post(TOKEN_URL).mock(return_value=replay("token_refresh_invalid"))
    expired = sg.OAuth2Token(TOKEN, refresh_token=REFRESH, expires_at=fake_clock.now())
    acct = await make_account(credential=expired)
    with pytest.raises(sg.ReauthorizationRequired):
        await acct.profiles.me()


async def test_a_revoked_refresh_token_fails_without_leaking(
    api: respx.MockRouter, make_account: MakeAccount, fake_clock: sg.FakeClock
) -> None:
    api.post(TOKEN_URL).mock(return_value=replay("token_refresh_invalid"))
    expired = sg.OAuth2Token(TOKEN, refresh_token=REFRESH, expires_at=fake_clock.now())
    acct = await make_account(credential=expired)
    with pytest.raises(sg.SocialGateError) as info:
        await acct.profiles.me()
    assert info.value.status == 400
    assert_no_secret(info.value)


# --- password and application-only grants ----------------------------------------------------


async def test_password_grant(
    api: respx.MockRouter, make_client: Callable[..., sg.Client], fake_clock: sg.FakeClock
) -> None:
    route = api.post(TOKEN_URL).mock(return_value=replay("token_password_grant"))
    client = make_client()
    token = await password_grant(client, APP, "bot_owner", "hunter2-password")
    sent = route.calls[0].request
    assert sent.headers["Authorization"] == BASIC
    assert sent.headers["User-Agent"] == USER_AGENT
    assert form(route) == {
        "grant_type": "password",
        "username": "bot_owner",
        "password": "hunter2-password",
    }
    assert token.access_token == "<ACCESS_TOKEN>" and token.refresh_token is None
    assert token.expires_at == fake_clock.now() + timedelta(seconds=86400)
    assert token.scopes == ("*",)


async def test_password_grant_with_two_factor_code(
    api: respx.MockRouter, make_client: Callable[..., sg.Client]
) -> None:
    route = api.post(TOKEN_URL).mock(return_value=replay("token_password_grant"))
    await password_grant(make_client(), APP, "bot_owner", "pw-secret", otp="123456")
    assert form(route)["password"] == "pw-secret:123456"


async def test_password_grant_refused_with_http_200(
    api: respx.MockRouter, make_client: Callable[..., sg.Client]
) -> None:
    api.post(TOKEN_URL).mock(return_value=replay("token_password_invalid_grant"))
    with pytest.raises(sg.AuthenticationError) as info:
        await password_grant(make_client(), APP, "mc_bc_bot", "invalidpassword")
    err = info.value
    assert (err.code, err.status) == ("invalid_grant", 200)
    assert "invalidpassword" not in f"{err} {err!r} {err.args}"
    assert_no_secret(err)


async def test_client_credentials(
    api: respx.MockRouter, make_client: Callable[..., sg.Client]
) -> None:
    route = api.post(TOKEN_URL).mock(return_value=replay("token_client_credentials"))
    token = await app_only_token(make_client(), APP)
    assert form(route) == {"grant_type": "client_credentials"}
    assert route.calls[0].request.headers["Authorization"] == BASIC
    assert token.refresh_token is None


async def test_installed_client_authenticates_with_an_empty_secret(
    api: respx.MockRouter, make_client: Callable[..., sg.Client]
) -> None:
    route = api.post(TOKEN_URL).mock(return_value=replay("token_installed_client"))
    installed = sg.OAuthApp("installed-app-id")
    await app_only_token(make_client(), installed, device_id="DO_NOT_TRACK_THIS_DEVICE")
    assert form(route) == {
        "grant_type": "https://oauth.reddit.com/grants/installed_client",
        "device_id": "DO_NOT_TRACK_THIS_DEVICE",
    }
    expected = "Basic " + base64.b64encode(b"installed-app-id:").decode()
    assert route.calls[0].request.headers["Authorization"] == expected
    with pytest.raises(sg.BadRequest, match="device_id"):
        await app_only_token(make_client(), installed)


async def test_token_endpoint_429(
    api: respx.MockRouter, make_client: Callable[..., sg.Client]
) -> None:
    api.post(TOKEN_URL).mock(return_value=replay("too_many_requests_token_endpoint"))
    with pytest.raises(sg.RateLimited) as info:
        await app_only_token(make_client(), APP)
    assert info.value.status == 429 and info.value.upstream_message == "Too Many Requests"


# --- renewing accounts (no refresh token) ------------------------------------------------------


async def test_script_account_logs_in_again_before_expiry(
    api: respx.MockRouter, make_client: Callable[..., sg.Client], fake_clock: sg.FakeClock
) -> None:
    grants = api.post(TOKEN_URL).mock(
        side_effect=[
            token_answer("token_password_grant", "script-token-1"),
            token_answer("token_password_grant", "script-token-2"),
        ]
    )
    me = api.get(f"{API}/api/v1/me").mock(return_value=replay("me"))
    client = make_client()
    acct = await script_account(client, APP, "bot_owner", "pw-secret-1")
    await acct.profiles.me()
    fake_clock.advance(86_400 - 60)  # inside the refresh skew
    await acct.profiles.me()
    assert grants.call_count == 2
    assert [c.request.headers["Authorization"] for c in me.calls] == [
        "Bearer script-token-1",
        "Bearer script-token-2",
    ]
    stored = await client.token_store.get("reddit", acct.key)
    assert isinstance(stored, sg.OAuth2Token) and stored.access_token == "script-token-2"


async def test_script_account_renews_once_after_a_401(
    api: respx.MockRouter, make_client: Callable[..., sg.Client]
) -> None:
    api.post(TOKEN_URL).mock(
        side_effect=[
            token_answer("token_password_grant", "script-token-1"),
            token_answer("token_password_grant", "script-token-2"),
        ]
    )
    me = api.get(f"{API}/api/v1/me").mock(side_effect=[replay("invalid_token_401"), replay("me")])
    acct = await script_account(make_client(), APP, "bot_owner", "pw-secret-1")
    await acct.profiles.me()
    assert me.calls[1].request.headers["Authorization"] == "Bearer script-token-2"


async def test_app_only_account_reuses_a_stored_token(
    api: respx.MockRouter, make_client: Callable[..., sg.Client], fake_clock: sg.FakeClock
) -> None:
    api.get(f"{API}/api/info").mock(return_value=replay("info_comment"))
    client = make_client()
    stored = sg.OAuth2Token("stored-app-token", expires_at=fake_clock.now() + timedelta(hours=5))
    await client.token_store.set("reddit", "app:test-client-id:confidential", stored)
    acct = await app_only_account(client, APP)
    post = await acct.posts.get("t1_cklhv0f")
    assert post.id == "t1_cklhv0f"  # no token request was needed


# --- User-Agent ---------------------------------------------------------------------------------


async def test_generic_user_agent_is_refused_for_reddit(
    make_client: Callable[..., sg.Client],
) -> None:
    client = make_client(user_agent=None)
    with pytest.raises(sg.BadRequest, match="User-Agent"):
        client.account("reddit", sg.OAuth2Token(TOKEN), app=APP)
    generic = make_client(user_agent="python-requests/2.31")
    with pytest.raises(sg.BadRequest):
        generic.account("reddit", sg.OAuth2Token(TOKEN), app=APP)


async def test_user_agent_from_the_app_wins(
    api: respx.MockRouter, make_client: Callable[..., sg.Client]
) -> None:
    route = api.get(f"{API}/api/v1/me").mock(return_value=replay("me"))
    app = sg.OAuthApp("id-1", "secret-1", extra={"user_agent": "web:crm-sync:v2 (by /u/ops)"})
    acct = make_client(user_agent=None).account("reddit", sg.OAuth2Token(TOKEN), app=app)
    await acct.profiles.me()
    assert route.calls[0].request.headers["User-Agent"] == "web:crm-sync:v2 (by /u/ops)"


async def test_a_sandbox_gets_a_derived_user_agent(
    make_client: Callable[..., sg.Client],
) -> None:
    client = make_client(user_agent=None, base_urls={"reddit": "http://127.0.0.1:8765/reddit"})
    acct = client.account("reddit", sg.OAuth2Token(TOKEN), app=APP)
    assert acct.adapter.user_agent.startswith("socialgate:test-client-id:")  # type: ignore[attr-defined]


def test_token_expiry_is_timezone_aware() -> None:
    token = sg.OAuth2Token.from_token_response(
        body("token_refresh_2025"), now=datetime(2025, 10, 8, tzinfo=UTC)
    )
    assert token.expires_at == datetime(2025, 10, 9, tzinfo=UTC)
