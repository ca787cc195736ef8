"""Connecting an account: authorization URL with PKCE + state, callback check, code exchange."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

import socialgate as sg

APP = sg.OAuthApp("client-1", "secret-abcdef", redirect_uri="https://crm.example/cb")


async def test_authorization_url_and_code_exchange(
    x_api: respx.MockRouter, client: sg.Client
) -> None:
    flow = client.oauth("x", APP)
    auth = flow.authorization_url()
    url = urlsplit(auth.url)
    assert (url.scheme, url.netloc, url.path) == ("https", "x.com", "/i/oauth2/authorize")
    q = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert q["response_type"] == "code" and q["client_id"] == "client-1"
    assert q["redirect_uri"] == "https://crm.example/cb" and q["state"] == auth.state
    assert "offline.access" in q["scope"].split(" ")
    assert q["code_challenge_method"] == "S256"
    digest = hashlib.sha256(auth.code_verifier.encode()).digest()  # type: ignore[union-attr]
    assert q["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert auth.code_verifier not in repr(auth)  # the state travels in the URL anyway

    def token_endpoint(request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        assert form == {
            "grant_type": "authorization_code",
            "code": "the-code",
            "redirect_uri": "https://crm.example/cb",
            "code_verifier": auth.code_verifier,
        }
        expected = base64.b64encode(b"client-1:secret-abcdef").decode()
        assert request.headers["Authorization"] == f"Basic {expected}"
        return httpx.Response(
            200,
            json={
                "token_type": "bearer",
                "expires_in": 7200,
                "access_token": "acc-1",
                "scope": "tweet.read users.read offline.access",
                "refresh_token": "ref-1",
            },
        )

    x_api.post("/2/oauth2/token").mock(side_effect=token_endpoint)
    code = flow.parse_callback(
        f"https://crm.example/cb?state={auth.state}&code=the-code", auth.state
    )
    token = await flow.exchange_code(code, code_verifier=auth.code_verifier)
    assert token.access_token == "acc-1" and token.refresh_token == "ref-1"
    assert token.scopes == ("tweet.read", "users.read", "offline.access")
    assert token.expires_at is not None and token.expires_at.tzinfo is not None


def test_callback_state_mismatch_and_denial(client: sg.Client) -> None:
    flow = client.oauth("x", APP)
    with pytest.raises(sg.BadRequest, match="state mismatch"):
        flow.parse_callback("https://crm.example/cb?state=evil&code=c", "expected")
    with pytest.raises(sg.AuthenticationError, match="access_denied"):
        flow.parse_callback("https://crm.example/cb?error=access_denied&state=s", "s")


async def test_failed_exchange_is_a_clear_error_without_secrets(
    x_api: respx.MockRouter, client: sg.Client
) -> None:
    x_api.post("/2/oauth2/token").respond(
        400,
        json={
            "error": "invalid_request",
            "error_description": "Value passed for the authorization code was invalid.",
        },
    )
    with pytest.raises(sg.AuthenticationError) as info:
        await client.oauth("x", APP).exchange_code(
            "code-123456789", code_verifier="verifier-123456"
        )
    text = str(info.value)
    assert (
        "invalid_request" in text and "code-123456789" not in text and "secret-abcdef" not in text
    )


def test_oauth_endpoints_follow_a_base_url_override() -> None:
    c = sg.Client(base_urls={"x": "http://127.0.0.1:8765/x"}, token_store=sg.MemoryTokenStore())
    auth = c.oauth("x", APP).authorization_url()
    assert auth.url.startswith("http://127.0.0.1:8765/x/i/oauth2/authorize?")


async def test_revoke_sends_both_tokens_with_client_auth(
    x_api: respx.MockRouter, client: sg.Client
) -> None:
    seen: list[dict[str, str]] = []

    def endpoint(request: httpx.Request) -> httpx.Response:
        seen.append({k: v[0] for k, v in parse_qs(request.content.decode()).items()})
        assert request.headers["Authorization"].startswith("Basic ")
        return httpx.Response(200, json={"revoked": True})

    x_api.post("/2/oauth2/revoke").mock(side_effect=endpoint)
    token = sg.OAuth2Token(access_token="acc-123456", refresh_token="ref-123456")
    await client.oauth("x", APP).revoke(token)
    assert seen == [
        {"token": "acc-123456", "token_type_hint": "access_token"},
        {"token": "ref-123456", "token_type_hint": "refresh_token"},
    ]


async def test_failed_revoke_has_no_secret(x_api: respx.MockRouter, client: sg.Client) -> None:
    x_api.post("/2/oauth2/revoke").respond(400, json={"error": "invalid_request"})
    with pytest.raises(sg.AuthenticationError) as info:
        await client.oauth("x", APP).revoke("acc-123456")
    assert "acc-123456" not in str(info.value)
