"""Reddit's OAuth 2 for the sandbox, and the bearer tokens it accepts.

- ``GET /api/v1/authorize`` consents at once, as the demo user (or the seeded account named by
  the sandbox-only ``sandbox_user`` parameter), and redirects to ``redirect_uri`` with ``state``
  and ``code``; codes live 60 seconds and work once. ``duration=permanent`` earns a refresh
  token, ``temporary`` (Reddit's default) does not.
- ``POST /api/v1/access_token`` needs HTTP Basic client auth (``client_id:secret``, or
  ``client_id:`` for installed apps; the first secret a client id is seen with sticks) and
  takes the grants Reddit takes: ``authorization_code``, ``refresh_token``, ``password``
  (script apps: any seeded account name; a password starting with ``wrong`` is refused with
  HTTP 200 ``{"error": "invalid_grant"}``, as Reddit answers), ``client_credentials`` and
  ``https://oauth.reddit.com/grants/installed_client`` (with a 20-30 character ``device_id``).
  Access tokens live ``access_ttl`` seconds of the sandbox clock (86400, as Reddit has issued
  since 2023). Refresh tokens are permanent and, as on Reddit, not rotated: a refresh answer
  repeats the same refresh token.
- ``POST /api/v1/revoke_token`` forgets an access or refresh token (and a refresh token's
  access tokens), answering 204.

Bearer tokens: ``sandbox-user-demo`` is the demo user of the app ``sandbox-demo-app``,
``sandbox-app-*`` is application-only (each distinct token its own client id), and issued
tokens are their grant's. Anything else is refused with 401 and
``WWW-Authenticate: Bearer realm="reddit", error="invalid_token"``.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from socialgate._clock import Clock
from socialgate.sandbox import APP_TOKEN_PREFIX, DEMO_USER_TOKEN
from socialgate.sandbox.emulator import Reply

from .sandbox_data import RedditDataset
from .sandbox_wire import status_body

__all__ = ["OAuthServer", "Principal"]

DEMO_APP = "sandbox-demo-app"
ACCESS_TTL = 86_400.0
CODE_TTL = 60.0
INSTALLED = "https://oauth.reddit.com/grants/installed_client"
ALL_SCOPES = frozenset({"*"})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a bearer token speaks for: an app alone, or a user through an app."""

    app: str
    user: int | None = None
    scopes: frozenset[str] = ALL_SCOPES

    def allows(self, scope: str) -> bool:
        return "*" in self.scopes or scope in self.scopes


@dataclass(slots=True)
class _Grant:
    client_id: str
    user: int | None
    scopes: frozenset[str]
    expires: float = 0.0
    redirect_uri: str = ""
    permanent: bool = False
    refresh: str | None = None


def _oauth_error(status: int, error: str) -> Reply:
    return status, {}, {"error": error}


class OAuthServer:
    def __init__(self, data: RedditDataset, clock: Clock, access_ttl: float = ACCESS_TTL) -> None:
        self.data = data
        self.clock = clock
        self.access_ttl = access_ttl
        self._secrets: dict[str, str] = {}
        self._codes: dict[str, _Grant] = {}
        self._access: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}

    def principal(self, authorization: str | None) -> Principal | None:
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        token = authorization[7:].strip()
        if token == DEMO_USER_TOKEN:
            return Principal(app=DEMO_APP, user=0)
        if token.startswith(APP_TOKEN_PREFIX) and len(token) > len(APP_TOKEN_PREFIX):
            return Principal(app=token)
        grant = self._access.get(token)
        if grant is None or grant.expires <= self.clock.time():
            return None
        return Principal(app=grant.client_id, user=grant.user, scopes=grant.scopes)

    # -- endpoints -------------------------------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> Reply:
        missing = [n for n in ("client_id", "response_type", "state", "redirect_uri")
                   if not query.get(n)]  # fmt: skip
        redirect = query.get("redirect_uri", "")
        if missing or query.get("response_type") != "code" or not urlsplit(redirect).scheme:
            return 400, {}, {"error": "invalid_request", "missing": missing}
        user = 0
        wanted = query.get("sandbox_user")
        if wanted:
            rec = self.data.user_by_name(wanted)
            if rec is None and wanted.isdigit() and int(wanted) < self.data.n_users:
                rec = self.data.user(int(wanted))
            if rec is None:
                return 400, {}, {"error": "invalid_request", "detail": "no such sandbox user"}
            user = rec.index
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Grant(
            client_id=query["client_id"],
            user=user,
            scopes=frozenset(query.get("scope", "").replace(",", " ").split()) or ALL_SCOPES,
            expires=self.clock.time() + CODE_TTL,
            redirect_uri=redirect,
            permanent=query.get("duration") == "permanent",
        )
        sep = "&" if urlsplit(redirect).query else "?"
        location = redirect + sep + urlencode({"state": query["state"], "code": code})
        return 302, {"location": location}, None

    def token(self, form: dict[str, str], authorization: str | None) -> Reply:
        client = self._client(authorization)
        if client is None:
            return 401, {"www-authenticate": 'Basic realm="reddit"'}, status_body(401)
        client_id, confidential = client
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange(form, client_id)
        if grant_type == "refresh_token":
            return self._refreshed(form, client_id)
        if grant_type == "password":
            if not confidential:
                return _oauth_error(200, "unauthorized_client")
            return self._password(form, client_id)
        if grant_type == "client_credentials":
            if not confidential:
                return _oauth_error(200, "unauthorized_client")
            return self._issue(_Grant(client_id=client_id, user=None, scopes=ALL_SCOPES))
        if grant_type == INSTALLED:
            device = form.get("device_id", "")
            if not 20 <= len(device) <= 30:
                return _oauth_error(400, "invalid_request")
            answer = self._issue(_Grant(client_id=client_id, user=None, scopes=ALL_SCOPES))
            answer[2]["device_id"] = device
            return answer
        return _oauth_error(400, "unsupported_grant_type")

    def revoke(self, form: dict[str, str], authorization: str | None) -> Reply:
        if self._client(authorization) is None:
            return 401, {}, status_body(401)
        token = form.get("token", "")
        self._access.pop(token, None)
        grant = self._refresh.pop(token, None)
        if grant is not None:
            for access in [a for a, g in self._access.items() if g.refresh == token]:
                del self._access[access]
        return 204, {}, None

    # -- internals -----------------------------------------------------------------------------

    def _client(self, authorization: str | None) -> tuple[str, bool] | None:
        """``(client_id, has_secret)`` from HTTP Basic, or ``None`` when it is missing/wrong."""
        if not authorization or not authorization.lower().startswith("basic "):
            return None
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        raw_id, sep, raw_secret = decoded.partition(":")
        client_id, secret = unquote(raw_id), unquote(raw_secret)
        if not client_id or not sep:
            return None
        known = self._secrets.setdefault(client_id, secret)
        if not hmac.compare_digest(known, secret):
            return None
        return client_id, bool(secret)

    def _exchange(self, form: dict[str, str], client_id: str) -> Reply:
        grant = self._codes.pop(form.get("code", ""), None)
        if (
            grant is None
            or grant.expires <= self.clock.time()
            or grant.client_id != client_id
            or form.get("redirect_uri") != grant.redirect_uri
        ):
            return _oauth_error(200, "invalid_grant")
        return self._issue(grant, permanent=grant.permanent)

    def _refreshed(self, form: dict[str, str], client_id: str) -> Reply:
        token = form.get("refresh_token", "")
        grant = self._refresh.get(token)
        if grant is None or grant.client_id != client_id:
            # Reddit's answer to an unknown refresh token (asyncprawcore recorded it).
            return 400, {}, status_body(400)
        answer = self._issue(grant)
        answer[2]["refresh_token"] = token
        self._access[answer[2]["access_token"]].refresh = token
        return answer

    def _password(self, form: dict[str, str], client_id: str) -> Reply:
        user = self.data.user_by_name(form.get("username", ""))
        password = form.get("password", "")
        if user is None or not password or password.startswith("wrong"):
            return _oauth_error(200, "invalid_grant")
        return self._issue(_Grant(client_id=client_id, user=user.index, scopes=ALL_SCOPES))

    def _issue(self, grant: _Grant, *, permanent: bool = False) -> Reply:
        access = secrets.token_urlsafe(32)
        self._access[access] = _Grant(
            client_id=grant.client_id,
            user=grant.user,
            scopes=grant.scopes,
            expires=self.clock.time() + self.access_ttl,
        )
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": int(self.access_ttl),
            "scope": " ".join(sorted(grant.scopes)),
        }
        if permanent:
            refresh = secrets.token_urlsafe(32)
            self._refresh[refresh] = _Grant(
                client_id=grant.client_id, user=grant.user, scopes=grant.scopes
            )
            self._access[access].refresh = refresh
            body["refresh_token"] = refresh
        return 200, {}, body
