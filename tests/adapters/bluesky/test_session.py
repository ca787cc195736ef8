"""Bluesky sessions through the public API: app password -> createSession once, persisted in the
TokenStore and reused by later clients; refreshSession before expiry and on ExpiredToken,
exactly once per credential under concurrency, written back before use; refusals."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
import respx

import socialgate as sg
from socialgate.adapters.bluesky.session import SIDECAR_SUFFIX, jwt_claims

from .conftest import DID, ENTRY, HANDLE, PASSWORD, PDS, MakeAccount, Sessions, body, xrpc

PROFILE = body("get_profiles.json")["profiles"][0]
# Sessions are managed at the entry host (the entryway), as Bluesky's own client does.
REFRESH = xrpc("com.atproto.server.refreshSession", ENTRY)


class RecordingStore(sg.MemoryTokenStore):
    """A memory store that remembers the order of writes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[str, sg.OAuth2Token | sg.BearerToken | Any]] = []

    async def set(self, network: str, key: str, credential: Any) -> None:
        await super().set(network, key, credential)
        self.writes.append((key, credential))


def bearer(request: httpx.Request) -> str:
    return request.headers.get("authorization", "").removeprefix("Bearer ")


def profile_route(api: respx.MockRouter, **kwargs: Any) -> respx.Route:
    route = api.get(xrpc("app.bsky.actor.getProfile"))
    if not kwargs:
        route.mock(return_value=httpx.Response(200, json=PROFILE))
    else:
        route.mock(**kwargs)
    return route


def refresh_route(api: respx.MockRouter, sessions: Sessions) -> respx.Route:
    def answer(request: httpx.Request) -> httpx.Response:
        data = body("create_session.json")
        data["accessJwt"], data["refreshJwt"] = sessions.pair()
        return httpx.Response(200, json=data)

    return api.post(REFRESH).mock(side_effect=answer)


async def test_session_created_once_stored_and_reused_by_a_second_client(
    make_account: MakeAccount,
    api: respx.MockRouter,
    login: respx.Route,
    sessions: Sessions,
    fake_clock: sg.FakeClock,
) -> None:
    store = RecordingStore()
    profiles = profile_route(api)
    first = await make_account(store=store)
    me = await first.profiles.me()
    assert me.id == "did:plc:wpe35pganb6d4pg4ekmfy6u5"  # the recorded profile body
    assert login.call_count == 1
    sent = json.loads(login.calls[0].request.content)
    assert sent == {"identifier": HANDLE, "password": PASSWORD}
    assert "authorization" not in login.calls[0].request.headers
    # Reads went to the PDS from the session's DID document, with the access JWT.
    access, refresh = sessions.issued[0]
    assert profiles.calls[0].request.url.host == "puffball.us-east.host.bsky.network"
    assert profiles.calls[0].request.url.params["actor"] == DID
    assert bearer(profiles.calls[0].request) == access

    key = first.key
    token = await store.get("bluesky", key)
    assert isinstance(token, sg.OAuth2Token)
    assert (token.access_token, token.refresh_token) == (access, refresh)
    assert token.expires_at == fake_clock.now() + timedelta(hours=2)  # from the JWT's exp
    assert token.refresh_expires_at == fake_clock.now() + timedelta(days=90)
    assert token.scopes == ("com.atproto.appPass",)
    sidecar = await store.get("bluesky", key + SIDECAR_SUFFIX)
    assert isinstance(sidecar, sg.BearerToken)
    assert json.loads(sidecar.token) == {"did": DID, "handle": HANDLE, "pds": PDS}

    second = await make_account(store=store)
    await second.profiles.get("chriskenny.bsky.social")
    assert login.call_count == 1
    assert bearer(profiles.calls[-1].request) == access


async def test_session_survives_a_restart_in_the_sqlite_store(
    make_account: MakeAccount, api: respx.MockRouter, login: respx.Route, tmp_path: Any
) -> None:
    profile_route(api)
    key = "Hxk9L0N4ym0wNCh7zpJyQY7TOuCGlp4sfrqhXm1FVJY"
    first_store = sg.SQLiteTokenStore(tmp_path / "tokens.db", key=key)
    await (await make_account(store=first_store)).profiles.me()
    # A new process: a new store object over the same file, a new client.
    second_store = sg.SQLiteTokenStore(tmp_path / "tokens.db", key=key)
    await (await make_account(store=second_store)).profiles.me()
    assert login.call_count == 1


async def test_fifty_concurrent_requests_refresh_an_expiring_session_once(
    make_account: MakeAccount,
    api: respx.MockRouter,
    login: respx.Route,
    sessions: Sessions,
    fake_clock: sg.FakeClock,
) -> None:
    store = RecordingStore()
    acct = await make_account(store=store)
    profiles = profile_route(api)
    await acct.profiles.me()
    old_refresh = sessions.issued[0][1]
    fake_clock.advance(7200 - 600)  # ten minutes left: inside the 15-minute refresh margin

    refreshes = refresh_route(api, sessions)

    def check(request: httpx.Request) -> httpx.Response:
        token = bearer(request)
        # The rotated session reached the store before any request used it.
        stored = [c for k, c in store.writes if isinstance(c, sg.OAuth2Token)]
        assert stored[-1].access_token == token
        return httpx.Response(200, json=PROFILE)

    profiles.mock(side_effect=check)
    await asyncio.gather(*(acct.profiles.get(f"user{i}.bsky.social") for i in range(50)))
    assert refreshes.call_count == 1
    assert bearer(refreshes.calls[0].request) == old_refresh
    new_access = sessions.issued[1][0]
    assert {bearer(c.request) for c in profiles.calls[1:]} == {new_access}
    assert login.call_count == 1
    assert acct.adapter.sessions.refresh_count == 1


async def test_expired_token_answer_refreshes_once_and_resends(
    make_account: MakeAccount, api: respx.MockRouter, login: respx.Route, sessions: Sessions
) -> None:
    acct = await make_account()
    expired = httpx.Response(400, json={"error": "ExpiredToken", "message": "Token has expired"})
    profiles = profile_route(api)
    await acct.profiles.me()
    first = sessions.issued[0][0]
    profiles.mock(
        side_effect=lambda r: expired if bearer(r) == first else httpx.Response(200, json=PROFILE)
    )
    refreshes = refresh_route(api, sessions)
    results = await asyncio.gather(*(acct.profiles.get("x.bsky.social") for _ in range(50)))
    assert all(p.handle == "chriskenny.bsky.social" for p in results)
    assert refreshes.call_count == 1  # fifty ExpiredToken answers, one refresh


async def test_refused_refresh_with_an_app_password_logs_in_again(
    make_account: MakeAccount,
    api: respx.MockRouter,
    login: respx.Route,
    sessions: Sessions,
    fake_clock: sg.FakeClock,
) -> None:
    acct = await make_account()
    profile_route(api)
    await acct.profiles.me()
    fake_clock.advance(7200)
    revoked = {"error": "ExpiredToken", "message": "Token has been revoked"}
    refreshes = api.post(REFRESH).mock(return_value=httpx.Response(400, json=revoked))
    await acct.profiles.me()
    assert refreshes.call_count == 1 and login.call_count == 2
    assert acct.adapter.sessions.create_count == 2


async def test_refused_refresh_of_a_session_token_needs_a_new_login(
    make_account: MakeAccount, api: respx.MockRouter, sessions: Sessions, fake_clock: sg.FakeClock
) -> None:
    access, refresh = sessions.pair()
    fake_clock.advance(7200 - 300)  # five minutes left: within the refresh margin
    credential = sg.OAuth2Token(access, refresh)
    acct = await make_account(credential=credential)
    revoked = {"error": "ExpiredToken", "message": "Token has been revoked"}
    api.post(f"{ENTRY}/xrpc/com.atproto.server.refreshSession").mock(
        return_value=httpx.Response(400, json=revoked)
    )
    with pytest.raises(sg.ReauthorizationRequired) as caught:
        await acct.profiles.get("chriskenny.bsky.social")
    error = caught.value
    assert error.code == "ExpiredToken" and error.status == 400
    assert "Token has been revoked" in str(error)
    for secret in (access, refresh):
        assert secret not in str(error) and secret not in repr(error)


async def test_session_token_credential_is_seeded_into_the_store_and_rotated(
    make_account: MakeAccount, api: respx.MockRouter, sessions: Sessions, fake_clock: sg.FakeClock
) -> None:
    access, refresh = sessions.pair()
    fake_clock.advance(7200 - 300)
    store = sg.MemoryTokenStore()
    acct = await make_account(credential=sg.OAuth2Token(access, refresh), store=store)
    refreshes = api.post(f"{ENTRY}/xrpc/com.atproto.server.refreshSession").mock(
        side_effect=lambda r: httpx.Response(200, json=sessions.answer())
    )
    profiles = profile_route(api)
    await acct.profiles.me()
    assert refreshes.call_count == 1 and bearer(refreshes.calls[0].request) == refresh
    stored = await store.get("bluesky", acct.key)
    assert isinstance(stored, sg.OAuth2Token) and stored.access_token == sessions.issued[1][0]
    assert bearer(profiles.calls[0].request) == sessions.issued[1][0]


async def test_invalid_app_password_is_an_authentication_error_without_the_password(
    make_account: MakeAccount, api: respx.MockRouter
) -> None:
    refused = {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
    login = api.post(f"{ENTRY}/xrpc/com.atproto.server.createSession").mock(
        return_value=httpx.Response(401, json=refused)
    )
    acct = await make_account()
    with pytest.raises(sg.AuthenticationError) as caught:
        await acct.profiles.me()
    error = caught.value
    assert login.call_count == 1  # a refused login is not retried
    assert error.status == 401 and error.code == "AuthenticationRequired"
    assert f"refused the app password for '{HANDLE}'" in str(error)
    assert "Invalid identifier or password" in str(error) and "App passwords" in str(error)
    for text in (str(error), repr(error), error.body or "", error.upstream_message or ""):
        assert PASSWORD not in text


async def test_main_password_with_email_2fa_gets_a_hint(
    make_account: MakeAccount, api: respx.MockRouter
) -> None:
    refused = {"error": "AuthFactorTokenRequired", "message": "A sign in code has been sent"}
    api.post(f"{ENTRY}/xrpc/com.atproto.server.createSession").mock(
        return_value=httpx.Response(401, json=refused)
    )
    with pytest.raises(sg.AuthenticationError, match="use an app password"):
        await (await make_account()).profiles.me()


async def test_bearer_session_token_learns_its_identity_and_does_not_refresh(
    make_account: MakeAccount, api: respx.MockRouter, sessions: Sessions
) -> None:
    access, _ = sessions.pair()
    acct = await make_account(credential=sg.BearerToken(access))
    session_body = {k: v for k, v in body("create_session.json").items() if "Jwt" not in k}
    get_session = api.get(f"{ENTRY}/xrpc/com.atproto.server.getSession").mock(
        return_value=httpx.Response(200, json=session_body)
    )
    profiles = profile_route(api)
    await acct.profiles.me()
    assert get_session.call_count == 1 and bearer(get_session.calls[0].request) == access
    assert profiles.calls[0].request.url.params["actor"] == DID
    assert profiles.calls[0].request.url.host == "puffball.us-east.host.bsky.network"
    profiles.mock(
        return_value=httpx.Response(
            400, json={"error": "ExpiredToken", "message": "Token has expired"}
        )
    )
    with pytest.raises(sg.AuthenticationError) as caught:
        await acct.profiles.get("chriskenny.bsky.social")
    assert caught.value.code == "ExpiredToken" and access not in str(caught.value)
    assert get_session.call_count == 1


async def test_short_lived_tokens_refresh_in_their_last_quarter_only(
    make_account: MakeAccount, api: respx.MockRouter, sessions: Sessions, fake_clock: sg.FakeClock
) -> None:
    # A PDS issuing 10-minute tokens: a 15-minute margin would refresh on every request.
    access, refresh = sessions.pair(access_ttl=600)
    acct = await make_account(credential=sg.OAuth2Token(access, refresh))
    refreshes = api.post(f"{ENTRY}/xrpc/com.atproto.server.refreshSession").mock(
        side_effect=lambda r: httpx.Response(200, json=sessions.answer(access_ttl=600))
    )
    api.get(f"{ENTRY}/xrpc/app.bsky.actor.getProfile").mock(
        return_value=httpx.Response(200, json=PROFILE)
    )
    profile_route(api)
    await acct.profiles.get("a.bsky.social")
    assert refreshes.call_count == 0
    fake_clock.advance(460)  # 140 s left: inside the last quarter (150 s)
    await acct.profiles.get("a.bsky.social")
    await acct.profiles.get("a.bsky.social")
    assert refreshes.call_count == 1


def test_jwt_claims_are_read_without_verification() -> None:
    sessions = Sessions(sg.FakeClock())
    access, refresh = sessions.pair()
    assert jwt_claims(access)["sub"] == DID and jwt_claims(refresh)["jti"] == "jti-1"
    assert jwt_claims("not-a-jwt") == {} and jwt_claims("a.!!!.c") == {}


async def test_no_session_token_in_error_texts(
    make_account: MakeAccount, api: respx.MockRouter, login: respx.Route, sessions: Sessions
) -> None:
    acct = await make_account()
    profiles = profile_route(api)
    await acct.profiles.me()
    access, refresh = sessions.issued[0]
    errors: list[sg.SocialGateError] = []
    for status, payload in (
        (400, {"error": "InvalidRequest", "message": "Profile not found"}),
        (403, {"error": "AccountTakedown", "message": "Account has been taken down"}),
        (500, {"error": "InternalServerError", "message": "Internal Server Error"}),
    ):
        profiles.mock(return_value=httpx.Response(status, json=payload))
        with pytest.raises(sg.SocialGateError) as caught:
            await acct.profiles.get("nobody.bsky.social")
        errors.append(caught.value)
    assert [type(e) for e in errors] == [sg.NotFound, sg.PermissionDenied, sg.ServerError]
    for error in errors:
        for text in (str(error), repr(error), getattr(error, "body", None) or ""):
            assert access not in text and refresh not in text and PASSWORD not in text


async def test_a_session_token_echoed_by_the_server_is_scrubbed(
    make_account: MakeAccount, api: respx.MockRouter, login: respx.Route, sessions: Sessions
) -> None:
    acct = await make_account()
    profiles = profile_route(api)
    await acct.profiles.me()
    access = sessions.issued[0][0]
    profiles.mock(
        return_value=httpx.Response(400, json={"error": "Bad", "message": f"bad token {access}"})
    )
    with pytest.raises(sg.BadRequest) as caught:
        await acct.profiles.get("x.bsky.social")
    assert access not in str(caught.value) and access not in (caught.value.body or "")


async def test_the_escape_hatch_goes_to_the_pds_too(
    acct: sg.Account, api: respx.MockRouter
) -> None:
    profiles = profile_route(api)
    response = await acct.request(
        "GET", "/xrpc/app.bsky.actor.getProfile", params={"actor": "chriskenny.bsky.social"}
    )
    assert response.json()["handle"] == "chriskenny.bsky.social"
    request = profiles.calls[0].request
    assert request.headers["host"] == "puffball.us-east.host.bsky.network"


async def test_a_plain_http_pds_is_not_trusted_from_an_https_entry(
    make_account: MakeAccount, api: respx.MockRouter, sessions: Sessions
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        data = sessions.answer()
        data["didDoc"]["service"][0]["serviceEndpoint"] = "http://pds.example.net"
        return httpx.Response(200, json=data)

    api.post(f"{ENTRY}/xrpc/com.atproto.server.createSession").mock(side_effect=answer)
    on_entry = api.get(f"{ENTRY}/xrpc/app.bsky.actor.getProfile").mock(
        return_value=httpx.Response(200, json=PROFILE)
    )
    await (await make_account()).profiles.me()
    assert on_entry.call_count == 1
