"""Mastodon's app registration and OAuth 2.0 (Doorkeeper) for the sandbox, and the tokens it
accepts.

- ``POST /api/v1/apps`` registers an app (form or JSON; ``redirect_uris`` as a
  newline-separated string or an array) and answers a CredentialApplication.
- ``GET /oauth/authorize`` consents at once, as the demo user (or as the seeded account the
  sandbox-only ``sandbox_user`` parameter names: a username or an index), and redirects to
  the registered ``redirect_uri`` with ``code`` and ``state``. PKCE is S256 only, as on
  Mastodon. Codes live 10 minutes of the sandbox clock and work once.
- ``POST /oauth/token``: ``authorization_code`` (the redirect URI and the PKCE verifier must
  match) and ``client_credentials`` (an app token, no user). Client credentials go in the form
  (``client_secret_post``) or HTTP Basic. Tokens do not expire and carry no refresh token.
- ``POST /oauth/revoke`` revokes a token; using it afterwards answers 401.
- ``GET /.well-known/oauth-authorization-server`` describes all of this (RFC 8414).

Bearer tokens: ``sandbox-user-demo`` is the demo user with every scope (through the built-in
app ``sandbox-demo-app``/``sandbox-demo-secret``, which accepts any redirect URI), and the
tokens issued here. Anything else is refused with 401.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from socialgate._clock import Clock
from socialgate.sandbox import DEMO_USER_TOKEN
from socialgate.sandbox.emulator import Reply

from .sandbox_data import MastodonDataset
from .sandbox_wire import error

DEMO_CLIENT_ID = "sandbox-demo-app"
DEMO_CLIENT_SECRET = "sandbox-demo-secret"
CODE_TTL = 600.0
OOB = "urn:ietf:wg:oauth:2.0:oob"
SCOPES = ("read", "write", "follow", "push", "profile")
JSON = dict[str, Any]
_INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the "
    "redirection URI used in the authorization request, or was issued to another client."
)
_INVALID_CLIENT = (
    "Client authentication failed due to unknown client, no client authentication included, "
    "or unsupported authentication method."
)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a bearer token speaks for: a user through an app, or an app alone."""

    app: str
    token: str
    user: int | None = None
    scopes: frozenset[str] = frozenset()

    def allows(self, scope: str) -> bool:
        """``read:statuses`` is granted by ``read`` or itself."""
        return scope in self.scopes or scope.partition(":")[0] in self.scopes


@dataclass(slots=True)
class App:
    id: str
    name: str
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    website: str | None = None
    any_redirect: bool = False


@dataclass(slots=True)
class _Grant:
    client_id: str
    user: int | None
    scopes: frozenset[str]
    expires: float = 0.0
    redirect_uri: str = ""
    challenge: str = ""
    created: float = 0.0


class OAuthServer:
    def __init__(self, data: MastodonDataset, clock: Clock) -> None:
        self.data = data
        self.clock = clock
        self.apps: dict[str, App] = {
            DEMO_CLIENT_ID: App(
                "1",
                "Sandbox demo",
                DEMO_CLIENT_ID,
                DEMO_CLIENT_SECRET,
                (OOB,),
                SCOPES,
                any_redirect=True,
            )
        }
        self._codes: dict[str, _Grant] = {}
        self._tokens: dict[str, _Grant] = {}
        self._revoked: set[str] = set()

    def principal(self, authorization: str | None) -> Principal | str | None:
        """The token's principal; ``None`` without a bearer token; an error message (str)
        for a token that is unknown or revoked."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        token = authorization[7:].strip()
        if token == DEMO_USER_TOKEN:
            return Principal(DEMO_CLIENT_ID, token, 0, frozenset(SCOPES))
        if token in self._revoked:
            return "The access token was revoked"
        grant = self._tokens.get(token)
        if grant is None:
            return "The access token is invalid"
        return Principal(grant.client_id, token, grant.user, grant.scopes)

    # -- apps -----------------------------------------------------------------------------------

    def register(self, form: dict[str, Any]) -> Reply:
        name = str(form.get("client_name") or "").strip()
        raw = form.get("redirect_uris") or ""
        uris = [u for u in (raw if isinstance(raw, list) else str(raw).split()) if u]
        problems = []
        if not name:
            problems.append("Name can't be blank")
        if not uris:
            problems.append("Redirect URI can't be blank")
        elif any(u != OOB and not urlsplit(u).scheme for u in uris):
            problems.append("Redirect URI must be an absolute URI.")
        scopes = str(form.get("scopes") or "read").split()
        unknown = [s for s in scopes if s.partition(":")[0] not in SCOPES]
        if unknown:
            problems.append("Scopes are invalid")
        if problems:
            return 422, {}, error("Validation failed: " + ", ".join(problems))
        app = App(
            id=str(len(self.apps) + 1),
            name=name,
            client_id=secrets.token_urlsafe(32),
            client_secret=secrets.token_urlsafe(32),
            redirect_uris=tuple(uris),
            scopes=tuple(scopes),
            website=str(form["website"]) if form.get("website") else None,
        )
        self.apps[app.client_id] = app
        body = {
            "id": app.id,
            "name": app.name,
            "website": app.website,
            "scopes": list(app.scopes),
            "redirect_uris": list(app.redirect_uris),
            "vapid_key": base64.urlsafe_b64encode(hashlib.sha256(app.id.encode()).digest() * 2)
            .decode()
            .rstrip("="),
            "redirect_uri": "\n".join(app.redirect_uris),
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "client_secret_expires_at": 0,
        }
        return 200, {}, body

    # -- authorize --------------------------------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> Reply:
        app = self.apps.get(query.get("client_id", ""))
        redirect = query.get("redirect_uri", "")
        if app is None:
            return 401, {}, error("invalid_client", _INVALID_CLIENT)
        if not redirect or not (app.any_redirect or redirect in app.redirect_uris):
            return 400, {}, error("invalid_redirect_uri", "The requested redirect uri is malformed "
                                  "or doesn't match client redirect URI.")  # fmt: skip
        if query.get("response_type") != "code":
            return 400, {}, error("unsupported_response_type")
        challenge = query.get("code_challenge", "")
        if challenge and query.get("code_challenge_method", "plain") != "S256":
            return 400, {}, error("invalid_request", "Code challenge method must be S256.")
        scopes = frozenset(query.get("scope", "read").split())
        if any(s not in app.scopes and s.partition(":")[0] not in app.scopes for s in scopes):
            return 400, {}, error("invalid_scope", "The requested scope is invalid.")
        user = 0
        wanted = query.get("sandbox_user")
        if wanted:
            rec = self.data.account_by_acct(wanted, "")
            if rec is None and wanted.isdigit() and int(wanted) < self.data.n_users:
                rec = self.data.account(int(wanted))
            if rec is None or rec.domain:
                return 400, {}, error("invalid_request", "no such local sandbox user")
            user = rec.index
        code = secrets.token_urlsafe(32)
        self._codes[code] = _Grant(
            client_id=app.client_id,
            user=user,
            scopes=scopes,
            expires=self.clock.time() + CODE_TTL,
            redirect_uri=redirect,
            challenge=challenge,
        )
        if redirect == OOB:
            page = f"<html><body><code class='oauth-code'>{code}</code></body></html>"
            return 200, {"content-type": "text/html; charset=utf-8"}, page
        params = {"code": code}
        if "state" in query:
            params["state"] = query["state"]
        sep = "&" if urlsplit(redirect).query else "?"
        return 302, {"location": redirect + sep + urlencode(params)}, None

    # -- token ------------------------------------------------------------------------------------

    def token(self, form: dict[str, str], authorization: str | None) -> Reply:
        app = self._client(form, authorization)
        if app is None:
            return 401, {}, error("invalid_client", _INVALID_CLIENT)
        grant_type = form.get("grant_type")
        if grant_type == "client_credentials":
            scopes = frozenset(form.get("scope", "read").split())
            return self._issue(_Grant(app.client_id, None, scopes))
        if grant_type != "authorization_code":
            return 400, {}, error("unsupported_grant_type", "The authorization grant type is "
                                  "not supported by the authorization server.")  # fmt: skip
        grant = self._codes.pop(form.get("code", ""), None)
        if (
            grant is None
            or grant.client_id != app.client_id
            or grant.expires <= self.clock.time()
            or grant.redirect_uri != form.get("redirect_uri", "")
        ):
            return 400, {}, error("invalid_grant", _INVALID_GRANT)
        if grant.challenge:
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
            if not verifier or not hmac.compare_digest(expected, grant.challenge):
                return 400, {}, error("invalid_grant", _INVALID_GRANT)
        return self._issue(grant)

    def _issue(self, grant: _Grant) -> Reply:
        token = secrets.token_urlsafe(32)
        now = self.clock.time()
        self._tokens[token] = _Grant(grant.client_id, grant.user, grant.scopes, created=now)
        body = {
            "access_token": token,
            "token_type": "Bearer",
            "scope": " ".join(sorted(grant.scopes)),
            "created_at": int(now),
        }
        return 200, {}, body

    def revoke(self, form: dict[str, str], authorization: str | None) -> Reply:
        app = self._client(form, authorization)
        if app is None:
            return 403, {}, error("unauthorized_client", "You are not authorized to revoke "
                                  "this token")  # fmt: skip
        token = form.get("token", "")
        grant = self._tokens.get(token)
        if grant is not None and grant.client_id == app.client_id:
            del self._tokens[token]
            self._revoked.add(token)
        return 200, {}, {}

    def metadata(self, base: str) -> JSON:
        return {
            "issuer": base + "/",
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "revocation_endpoint": f"{base}/oauth/revoke",
            "scopes_supported": list(SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "grant_types_supported": ["authorization_code", "client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "service_documentation": "https://docs.joinmastodon.org/",
            "app_registration_endpoint": f"{base}/api/v1/apps",
        }

    def _client(self, form: dict[str, str], authorization: str | None) -> App | None:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode()
            except (binascii.Error, UnicodeDecodeError):
                return None
            user, _, password = decoded.partition(":")
            client_id, secret = unquote(user), unquote(password)
        app = self.apps.get(client_id)
        if app is None or not hmac.compare_digest(app.client_secret, secret):
            return None
        return app
