"""Auth as ``httpx.Auth`` flows: bearer, OAuth 1.0a signing, and OAuth 2.0 with refresh.

OAuth 2.0 refresh is single-flight per credential: every account and coroutine using one
credential shares one ``TokenManager``; a refresh takes its lock, re-reads the ``TokenStore``
(another process may have rotated the token already), refreshes at most once, and writes the
rotated token back to the store *before* anyone uses it, because X, Pinterest and TikTok
refresh tokens are single-use.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.oauth1 import ClientAuth as OAuth1ClientAuth
from authlib.oauth2.auth import ClientAuth as OAuth2ClientAuth

from ._clock import Clock
from ._credentials import OAuth1Token, OAuth2Token, OAuthApp
from ._errors import (
    AuthenticationError,
    ReauthorizationRequired,
    SocialGateError,
    error_class_for_status,
)
from ._spec import OAuthSpec
from ._tokens import TokenStore

__all__ = [
    "BearerAuth",
    "LeanAuth",
    "OAuth1Auth",
    "OAuth2Auth",
    "TokenManager",
    "client_auth_request",
]

# Posts a form to a token endpoint through the client (its default headers included).
Send = Callable[[str, dict[str, str], bytes], Awaitable[httpx.Response]]


class LeanAuth:
    """Auth that also works on the lean send path (``Account`` over aiohttp, no httpx
    request): the same decisions as the class's ``httpx.Auth`` flow, on plain values."""

    async def lean_authorize(self, url: str, headers: dict[str, str]) -> tuple[str, object]:
        """Put the credentials into ``headers``; return the URL to send to and a state that
        ``lean_renew`` gets back."""
        raise NotImplementedError

    def lean_authorize_now(self, url: str, headers: dict[str, str]) -> tuple[str, object] | None:
        """``lean_authorize`` without awaiting, when the credentials are at hand (a static
        token); ``None`` means "await ``lean_authorize``" and leaves ``headers`` alone."""
        return None

    async def lean_renew(
        self, status: int, content: bytes, state: object, url: str, headers: dict[str, str]
    ) -> tuple[str, object] | None:
        """After an answer: renew the credentials and return what ``lean_authorize`` returns
        to send once more, or ``None`` to keep the answer."""
        return None


class BearerAuth(httpx.Auth, LeanAuth):
    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    async def lean_authorize(self, url: str, headers: dict[str, str]) -> tuple[str, object]:
        headers["Authorization"] = self._header
        return url, None

    def lean_authorize_now(self, url: str, headers: dict[str, str]) -> tuple[str, object]:
        headers["Authorization"] = self._header
        return url, None


class OAuth1Auth(httpx.Auth):
    """OAuth 1.0a HMAC-SHA1 signing (authlib computes the signature)."""

    requires_request_body = True

    def __init__(self, token: OAuth1Token) -> None:
        self._client = OAuth1ClientAuth(
            token.consumer_key,
            client_secret=token.consumer_secret,
            token=token.token,
            token_secret=token.token_secret,
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        body: bytes | str = request.content
        is_form = request.headers.get("Content-Type", "").startswith(
            "application/x-www-form-urlencoded"
        )
        _, headers, _ = self._client.prepare(
            request.method, str(request.url), dict(request.headers), body if is_form else b""
        )
        request.headers["Authorization"] = headers["Authorization"]
        yield request


def client_auth_request(
    oauth: OAuthSpec, app: OAuthApp, form: dict[str, str]
) -> tuple[dict[str, str], bytes]:
    """Headers and body for a token-endpoint POST with the network's client auth method."""
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    if not app.client_secret and oauth.public_client_auth == "basic_empty_secret":
        # Reddit's installed apps: Basic auth with the client id and an empty secret.
        token = base64.b64encode(f"{app.client_id}:".encode()).decode()
        return {**headers, "Authorization": f"Basic {token}"}, urlencode(form).encode()
    if oauth.token_auth == "none" or not app.client_secret:
        form = {**form, oauth.client_id_param: app.client_id}
        return headers, urlencode(form).encode()
    if oauth.client_id_param != "client_id":
        # authlib only knows "client_id"; networks like TikTok call it "client_key".
        form = {**form, oauth.client_id_param: app.client_id}
    auth = OAuth2ClientAuth(app.client_id, app.client_secret, oauth.token_auth)
    _, headers, body = auth.prepare("POST", oauth.token_url, headers, urlencode(form))
    return dict(headers), body.encode() if isinstance(body, str) else body


class TokenManager:
    """Owns the current OAuth2 token of one credential and refreshes it, once at a time."""

    def __init__(
        self,
        *,
        network: str,
        key: str,
        token: OAuth2Token,
        store: TokenStore,
        oauth: OAuthSpec | None,
        app: OAuthApp | None,
        send: Send,
        clock: Clock,
    ) -> None:
        self.network = network
        self.key = key
        self._token = token
        self._store = store
        self._oauth = oauth
        self._app = app
        self._send = send
        self._clock = clock
        self._lock: asyncio.Lock | None = None
        self._loaded = False
        self._regrant: Callable[[], Awaitable[OAuth2Token]] | None = None
        self.refresh_count = 0

    @property
    def token(self) -> OAuth2Token:
        return self._token

    def secrets(self) -> tuple[str, ...]:
        return self._token.secrets()

    def renew_with(self, grant: Callable[[], Awaitable[OAuth2Token]]) -> None:
        """For tokens that come without a refresh token (Reddit script and app-only apps):
        run ``grant`` again, under the same single-flight lock, when the token expires or is
        refused."""
        self._regrant = grant

    def _can_refresh(self, token: OAuth2Token) -> bool:
        return bool(token.refresh_token and self._oauth and self._app) or self._regrant is not None

    def _needs_refresh(self, token: OAuth2Token) -> bool:
        skew = self._oauth.refresh_skew if self._oauth else 60.0
        return token.expires_within(skew, self._clock.now())

    async def current(self) -> OAuth2Token:
        """A token fit to send now, refreshing first if it is about to expire."""
        if not self._loaded:
            await self._load()
        token = self._token
        if self._needs_refresh(token) and self._can_refresh(token):
            token = await self.refresh(stale=token)
        return token

    async def _load(self) -> None:
        # The store holds the newest rotation; the token given in code may be long stale.
        lock = self._get_lock()
        async with lock:
            if self._loaded:
                return
            stored = await self._store.get(self.network, self.key)
            if isinstance(stored, OAuth2Token):
                self._token = stored
            else:
                await self._store.set(self.network, self.key, self._token)
            self._loaded = True

    def _get_lock(self) -> asyncio.Lock:
        # Created on first use, inside the running loop, never at import or construction.
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def refresh(self, *, stale: OAuth2Token) -> OAuth2Token:
        """Refresh unless someone already replaced ``stale``; returns the token to use."""
        async with self._get_lock():
            if self._token.access_token != stale.access_token and not self._needs_refresh(
                self._token
            ):
                return self._token
            stored = await self._store.get(self.network, self.key)
            if (
                isinstance(stored, OAuth2Token)
                and stored.access_token != stale.access_token
                and not self._needs_refresh(stored)
            ):
                self._token = stored
                return stored
            base = stored if isinstance(stored, OAuth2Token) else self._token
            if base.refresh_token and self._oauth and self._app:
                new = await self._refresh_with(base)
            elif self._regrant is not None:
                new = await self._regrant()
            else:
                raise ReauthorizationRequired(
                    "the access token expired or was rejected and there is no refresh token "
                    "(or no OAuthApp for this network); send the user through OAuth again",
                    network=self.network,
                )
            await self._store.set(self.network, self.key, new)
            self._token = new
            self.refresh_count += 1
            return new

    async def _refresh_with(self, token: OAuth2Token) -> OAuth2Token:
        assert self._oauth is not None and self._app is not None and token.refresh_token
        headers, body = client_auth_request(
            self._oauth,
            self._app,
            {"grant_type": "refresh_token", "refresh_token": token.refresh_token},
        )
        response = await self._send(self._oauth.token_url, headers, body)
        data = _json_or_none(response)
        if response.status_code >= 400 or not isinstance(data, dict) or "access_token" not in data:
            raise _refresh_error(self.network, response, data, token)
        return OAuth2Token.from_token_response(data, now=self._clock.now(), previous=token)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _refresh_error(
    network: str, response: httpx.Response, data: Any, token: OAuth2Token
) -> SocialGateError:
    code = data.get("error") if isinstance(data, dict) else None
    if isinstance(code, dict):  # some networks nest {"error": {"code": ..}}
        code = code.get("code")
    if not isinstance(code, str):
        code = None  # Reddit answers {"message": "Bad Request", "error": 400}
    description = data.get("error_description") if isinstance(data, dict) else None
    status = response.status_code
    # X answers a reused or revoked refresh token with invalid_request ("Value passed for the
    # token was invalid"); other networks use invalid_grant. Either way only consent helps.
    if code in ("invalid_grant", "invalid_token", "invalid_request") or (
        status in (400, 401) and code is None
    ):
        error: SocialGateError = ReauthorizationRequired(
            f"the refresh token was refused ({code or status}): it was revoked, expired or "
            "already used; send the user through OAuth consent again",
            network=network,
            status=status,
            code=str(code) if code else None,
            upstream_message=description,
        )
    elif status < 400:
        error = AuthenticationError(
            "the token endpoint answered without an access_token; check the OAuth app settings",
            network=network,
            status=status,
        )
    else:
        cls = error_class_for_status(status)
        error = cls(
            f"refreshing the access token failed with HTTP {status} ({code or 'no code'})",
            network=network,
            status=status,
            code=str(code) if code else None,
            upstream_message=description,
        )
    error.scrub(token.secrets())
    return error


class OAuth2Auth(httpx.Auth, LeanAuth):
    """Sends the manager's current token; on a 401 refreshes once and re-sends."""

    def __init__(self, manager: TokenManager) -> None:
        self._manager = manager

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("socialgate is async-only")
        yield request  # pragma: no cover

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._manager.current()
        request.headers["Authorization"] = f"Bearer {token.access_token}"
        response = yield request
        if response.status_code == 401 and self._manager._can_refresh(token):
            await response.aread()
            token = await self._manager.refresh(stale=token)
            request.headers["Authorization"] = f"Bearer {token.access_token}"
            yield request

    async def lean_authorize(self, url: str, headers: dict[str, str]) -> tuple[str, object]:
        token = await self._manager.current()
        headers["Authorization"] = f"Bearer {token.access_token}"
        return url, token

    async def lean_renew(
        self, status: int, content: bytes, state: object, url: str, headers: dict[str, str]
    ) -> tuple[str, object] | None:
        assert isinstance(state, OAuth2Token)
        if status != 401 or not self._manager._can_refresh(state):
            return None
        token = await self._manager.refresh(stale=state)
        headers["Authorization"] = f"Bearer {token.access_token}"
        return url, token
