"""X's OAuth 2.0 (authorization code + PKCE) for the sandbox, and the bearer tokens it accepts.

- ``GET /i/oauth2/authorize`` consents at once, as the demo user (or as the seeded user named
  by the sandbox-only ``sandbox_user`` parameter: a username, a user id, or a seeded index
  such as ``1``), and redirects to ``redirect_uri`` with
  ``state`` and ``code``. Codes live 30 seconds and work once.
- ``POST /2/oauth2/token``: ``authorization_code`` (the PKCE verifier must match the S256 or
  plain challenge) and ``refresh_token``. Access tokens live 7200 s of the sandbox clock.
  Refresh tokens come only with the ``offline.access`` scope, and rotate: each works once, and
  a used one is refused with ``invalid_grant``. A client id seen with HTTP Basic credentials
  keeps that secret (the first one it used), like a registered confidential client.
- ``POST /2/oauth2/revoke`` forgets an access or refresh token.

Bearer tokens: ``sandbox-app-*`` is app-only (each distinct token is its own app),
``sandbox-user-demo`` is the demo user (user context), and issued access tokens are their
user's. Anything else is refused with 401.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from socialgate._clock import Clock
from socialgate.sandbox import APP_TOKEN_PREFIX, DEMO_USER_TOKEN
from socialgate.sandbox.emulator import Reply

from .sandbox_data import XDataset

APP_PREFIX = APP_TOKEN_PREFIX
DEMO_TOKEN = DEMO_USER_TOKEN
DEMO_APP = "sandbox-demo-app"
ACCESS_TTL = 7_200.0
CODE_TTL = 30.0


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a bearer token speaks for: an app alone, or a user through an app."""

    app: str
    user: int | None = None
    scopes: frozenset[str] = frozenset()

    @property
    def app_only(self) -> bool:
        return self.user is None

    @property
    def limit_key(self) -> str:
        """X counts per app for app-only tokens and per user *and* app for user tokens."""
        return f"app:{self.app}" if self.user is None else f"user:{self.user}@{self.app}"


@dataclass(slots=True)
class _Grant:
    client_id: str
    user: int
    scopes: frozenset[str]
    expires: float = 0.0
    redirect_uri: str = ""
    challenge: str = ""
    method: str = "S256"


class OAuthServer:
    def __init__(self, data: XDataset, clock: Clock) -> None:
        self.data = data
        self.clock = clock
        self._codes: dict[str, _Grant] = {}
        self._access: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}
        self._used_refresh: set[str] = set()
        self._secrets: dict[str, str] = {}

    def principal(self, authorization: str | None) -> Principal | None:
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        token = authorization[7:].strip()
        if token.startswith(APP_PREFIX) and len(token) > len(APP_PREFIX):
            return Principal(app=token)
        if token == DEMO_TOKEN:
            return Principal(app=DEMO_APP, user=0, scopes=frozenset({"*"}))
        grant = self._access.get(token)
        if grant is None or grant.expires <= self.clock.time():
            return None
        return Principal(app=grant.client_id, user=grant.user, scopes=grant.scopes)

    # -- endpoints -------------------------------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> Reply:
        missing = [
            name
            for name in ("response_type", "client_id", "redirect_uri", "state", "code_challenge")
            if not query.get(name)
        ]
        if missing or query.get("response_type") != "code":
            detail = f"missing or invalid: {', '.join(missing or ['response_type'])}"
            return 400, {}, {"error": "invalid_request", "error_description": detail}
        method = query.get("code_challenge_method", "plain")
        if method not in ("S256", "plain"):
            return (
                400,
                {},
                {"error": "invalid_request", "error_description": "bad code_challenge_method"},
            )
        redirect = query["redirect_uri"]
        if not urlsplit(redirect).scheme:
            return 400, {}, {"error": "invalid_request", "error_description": "bad redirect_uri"}
        user = 0
        wanted = query.get("sandbox_user")
        if wanted:
            rec = self.data.user_by_username(wanted) or self.data.user_by_id(wanted)
            if rec is None and wanted.isdigit() and int(wanted) < self.data.n_users:
                rec = self.data.user(int(wanted))
            if rec is None:
                return 400, {}, {"error": "invalid_request", "error_description": "no such user"}
            user = rec.index
        code = secrets.token_urlsafe(48)
        self._codes[code] = _Grant(
            client_id=query["client_id"],
            user=user,
            scopes=frozenset(query.get("scope", "").split()),
            expires=self.clock.time() + CODE_TTL,
            redirect_uri=redirect,
            challenge=query["code_challenge"],
            method=method,
        )
        sep = "&" if urlsplit(redirect).query else "?"
        location = redirect + sep + urlencode({"state": query["state"], "code": code})
        return 302, {"location": location}, None

    def token(self, form: dict[str, str], authorization: str | None) -> Reply:
        client_id, error = self._client(form, authorization)
        if error is not None:
            return error
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange(form, client_id)
        if grant_type == "refresh_token":
            return self._rotate(form, client_id)
        return (
            400,
            {},
            {
                "error": "unsupported_grant_type",
                "error_description": "grant_type must be authorization_code or refresh_token",
            },
        )

    def revoke(self, form: dict[str, str], authorization: str | None) -> Reply:
        _client_id, error = self._client(form, authorization)
        if error is not None:
            return error
        token = form.get("token", "")
        self._access.pop(token, None)
        if self._refresh.pop(token, None) is not None:
            self._used_refresh.add(token)
        return 200, {}, {"revoked": True}

    # -- internals -----------------------------------------------------------------------------

    def _client(self, form: dict[str, str], authorization: str | None) -> tuple[str, Reply | None]:
        if authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
                raw_id, _, raw_secret = decoded.partition(":")
            except (ValueError, UnicodeDecodeError):
                raw_id = raw_secret = ""
            client_id, secret = unquote(raw_id), unquote(raw_secret)
            known = self._secrets.setdefault(client_id, secret) if client_id and secret else None
            if known is None or not hmac.compare_digest(known, secret):
                return "", (
                    401,
                    {},
                    {
                        "error": "unauthorized_client",
                        "error_description": "Missing valid authorization header",
                    },
                )
            return client_id, None
        client_id = form.get("client_id", "")
        if not client_id or client_id in self._secrets:
            # Unknown, or a confidential client that left out its credentials.
            return "", (
                401,
                {},
                {
                    "error": "unauthorized_client",
                    "error_description": "Missing valid authorization header",
                },
            )
        return client_id, None

    def _exchange(self, form: dict[str, str], client_id: str) -> Reply:
        code = form.get("code", "")
        grant = self._codes.pop(code, None)
        invalid: Reply = (
            400,
            {},
            {
                "error": "invalid_grant",
                "error_description": "Value passed for the authorization code was invalid.",
            },
        )
        if grant is None or grant.expires <= self.clock.time() or grant.client_id != client_id:
            return invalid
        if form.get("redirect_uri") != grant.redirect_uri:
            return invalid
        verifier = form.get("code_verifier", "")
        if grant.method == "S256":
            digest = hashlib.sha256(verifier.encode()).digest()
            expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        else:
            expected = verifier
        if not verifier or not hmac.compare_digest(expected, grant.challenge):
            return (
                400,
                {},
                {
                    "error": "invalid_request",
                    "error_description": "Value passed for the code_verifier was invalid.",
                },
            )
        return self._issue(grant)

    def _rotate(self, form: dict[str, str], client_id: str) -> Reply:
        token = form.get("refresh_token", "")
        grant = self._refresh.get(token)
        if grant is None or grant.client_id != client_id:
            reused = token in self._used_refresh
            return (
                400,
                {},
                {
                    "error": "invalid_grant",
                    "error_description": (
                        "Value passed for the token was invalid."
                        if not reused
                        else "Value passed for the token was invalid: it was already used."
                    ),
                },
            )
        del self._refresh[token]
        self._used_refresh.add(token)
        return self._issue(grant)

    def _issue(self, grant: _Grant) -> Reply:
        access = secrets.token_urlsafe(48)
        now = self.clock.time()
        self._access[access] = _Grant(
            client_id=grant.client_id,
            user=grant.user,
            scopes=grant.scopes,
            expires=now + ACCESS_TTL,
        )
        body: dict[str, Any] = {
            "token_type": "bearer",
            "expires_in": int(ACCESS_TTL),
            "access_token": access,
            "scope": " ".join(sorted(grant.scopes)),
        }
        if "offline.access" in grant.scopes:
            refresh = secrets.token_urlsafe(48)
            self._refresh[refresh] = _Grant(
                client_id=grant.client_id, user=grant.user, scopes=grant.scopes
            )
            body["refresh_token"] = refresh
        return 200, {}, body
