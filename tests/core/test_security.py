"""Secrets never show up in errors, reprs or logs."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import pytest
import respx

import socialgate as sg

SECRET = "SECRET-TOKEN-abc123xyz"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 429, 500])
async def test_error_texts_never_contain_the_token(
    x_api: respx.MockRouter, client: sg.Client, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # A hostile or buggy upstream echoing the token back must not leak it either.
    x_api.get("/2/tweets/20").respond(
        status,
        json={"title": "Oops", "detail": f"bad token {SECRET}", "type": "about:blank"},
        headers={"x-rate-limit-remaining": "5"},
    )
    acct = client.with_options(max_retries=0).account("x", sg.BearerToken(SECRET))
    with pytest.raises(sg.SocialGateError) as info:
        await acct.posts.get("20")
    err = info.value
    for text in (str(err), repr(err), err.body or "", err.upstream_message or "", caplog.text):
        assert SECRET not in text
    assert err.network == "x" and err.status == status


def test_credential_reprs_mask_secrets() -> None:
    creds = [
        sg.BearerToken(SECRET),
        sg.OAuth2Token(access_token=SECRET, refresh_token=SECRET + "r"),
        sg.OAuth1Token("ck", SECRET, SECRET + "t", SECRET + "s"),
        sg.AppPassword("alice.bsky.social", SECRET),
        sg.OAuthApp("cid", SECRET),
    ]
    for cred in creds:
        assert SECRET not in repr(cred) and SECRET not in str(cred)


def test_naive_expiry_is_rejected() -> None:
    from datetime import datetime

    with pytest.raises(ValueError, match="timezone-aware"):
        sg.OAuth2Token(access_token="a", expires_at=datetime(2030, 1, 1))


async def test_refresh_failure_text_has_no_secret(
    x_api: respx.MockRouter, client: sg.Client, clock: sg.FakeClock
) -> None:
    x_api.post("/2/oauth2/token").respond(
        503, text=f"upstream down; token {SECRET}r", headers={"content-type": "text/plain"}
    )
    token = sg.OAuth2Token(
        access_token=SECRET, refresh_token=SECRET + "r", expires_at=clock.now() - timedelta(1)
    )
    acct = client.account("x", token, app=sg.OAuthApp("cid", "app-secret-999"), key="k")
    with pytest.raises(sg.SocialGateError) as info:
        await acct.posts.get("20")
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)
    assert isinstance(info.value, sg.ServerError)


def test_transport_error_is_built_without_headers() -> None:
    err = sg.TransportError("ConnectError talking to X", network="x", sent=False)
    assert err.sent is False and "Authorization" not in str(err)
    _ = httpx  # the SDK wraps httpx errors; see test_retries for the mapping


async def test_cookies_never_cross_accounts(x_api: respx.MockRouter, client: sg.Client) -> None:
    """One connection pool serves every account: a cookie one answer sets must not ride along
    on another account's requests."""
    route = x_api.get("/2/tweets/20").respond(
        200,
        json={"data": {"id": "20", "text": "t"}},
        headers={"set-cookie": "session=alice-session-123; Path=/; Domain=api.x.com"},
    )
    await client.account("x", sg.BearerToken("alice-token")).posts.get("20")
    await client.account("x", sg.BearerToken("bob-token-xyz")).posts.get("20")
    assert "cookie" not in route.calls.last.request.headers
