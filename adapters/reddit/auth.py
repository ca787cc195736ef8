"""Reddit's grants beyond the authorization code, its User-Agent rule, and re-grant accounts.

- ``password_grant`` ("script" apps, the owner's own account) and ``app_only_token``
  (``client_credentials``, or ``installed_client`` with a ``device_id`` for apps without a
  secret) post to the token endpoint with HTTP Basic client auth, as Reddit requires.
- Neither grant yields a refresh token, so an access token from them dies after its
  ``expires_in`` (one hour historically, 24 h in recordings since 2023). ``script_account`` and
  ``app_only_account`` return accounts whose token manager runs the grant again shortly before
  expiry, or once after a 401 (``TokenManager.renew_with``: single-flight, stored first).
- A descriptive User-Agent is mandatory: Reddit throttles or blocks generic ones (see
  ``user_agent_for``).
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import httpx

from socialgate import __version__
from socialgate._client import DEFAULT_USER_AGENT
from socialgate._credentials import OAuth2Token, OAuthApp
from socialgate._errors import (
    AuthenticationError,
    BadRequest,
    RateLimited,
    SocialGateError,
    TransportError,
    error_class_for_status,
)
from socialgate._ratelimit_headers import parse_retry_after

from .spec import SPEC

if TYPE_CHECKING:
    from socialgate._account import Account
    from socialgate._client import Client

__all__ = [
    "INSTALLED_CLIENT_GRANT",
    "app_only_account",
    "app_only_token",
    "password_grant",
    "script_account",
    "user_agent_for",
]

INSTALLED_CLIENT_GRANT = "https://oauth.reddit.com/grants/installed_client"
TOKEN_PATH = "/api/v1/access_token"
# User-Agents that identify a library, not an application: Reddit rate-limits them hard.
_GENERIC_PREFIXES = ("python-requests/", "python-httpx/", "python-urllib/", "curl/", "aiohttp/")
Grant = Callable[[], Awaitable[OAuth2Token]]


# -- User-Agent ------------------------------------------------------------------------------


def _configured_user_agent(client: Client) -> str:
    return client.user_agent


def _is_generic(user_agent: str) -> bool:
    return (
        not user_agent.strip()
        or user_agent == DEFAULT_USER_AGENT
        or (user_agent.lower().startswith(_GENERIC_PREFIXES))
    )


def user_agent_for(client: Client, app: OAuthApp | None, base_url: str) -> str:
    """The User-Agent this app sends to Reddit.

    ``OAuthApp.extra["user_agent"]`` wins, then ``sg.Client(user_agent=...)``. Reddit asks for
    ``<platform>:<app id>:<version> (by /u/<username>)`` and throttles or blocks generic agents,
    so socialgate's own default is refused with ``BadRequest`` when the account talks to
    reddit.com. Against another base URL (the sandbox, a test double) a derived agent naming
    the client id is used instead, so demos run without configuration.
    """
    explicit = app.extra.get("user_agent") if app is not None else None
    if explicit:
        return explicit
    configured = _configured_user_agent(client)
    if not _is_generic(configured):
        return configured
    if (httpx.URL(base_url).host or "").endswith("reddit.com"):
        raise BadRequest(
            "Reddit requires a unique, descriptive User-Agent such as "
            "'python:com.example.crm-sync:v1.2 (by /u/yourname)' and blocks generic ones; "
            "pass sg.Client(user_agent=...) or OAuthApp(extra={'user_agent': ...})",
            network=SPEC.name,
        )
    app_id = app.client_id if app is not None else "anonymous"
    return f"socialgate:{app_id}:{__version__} (by /u/unknown; not for reddit.com)"


# -- grants ----------------------------------------------------------------------------------


def _basic(app: OAuthApp) -> str:
    # Installed apps have no secret and authenticate as "client_id:" (empty password).
    pair = f"{quote(app.client_id, safe='')}:{quote(app.client_secret or '', safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def _reddit_base(client: Client, base_url: str | None) -> str:
    return (base_url or client.base_urls.get(SPEC.name) or SPEC.base_url).rstrip("/")


def _token_url(base: str) -> str:
    # On Reddit the token endpoint lives on www.reddit.com; elsewhere (the sandbox) under the
    # same base as the API, as the core maps it.
    if base == SPEC.base_url:
        assert SPEC.oauth is not None
        return SPEC.oauth.token_url
    return base + TOKEN_PATH


async def _grant(
    client: Client,
    app: OAuthApp,
    form: Mapping[str, str],
    *,
    what: str,
    base_url: str | None,
    secrets: tuple[str, ...] = (),
) -> OAuth2Token:
    base = _reddit_base(client, base_url)
    headers = {
        "Authorization": _basic(app),
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
        "User-Agent": user_agent_for(client, app, base),
    }
    request = client.http.build_request(
        "POST", _token_url(base), content=urlencode(dict(form)).encode(), headers=headers
    )
    hidden = (*secrets, *app.secrets())
    try:
        response = await client.http.send(request)
    except httpx.TransportError as exc:
        error: SocialGateError = TransportError(
            f"{type(exc).__name__} talking to Reddit's token endpoint ({what})",
            network=SPEC.name,
        )
        error.scrub(hidden)
        raise error from exc
    try:
        data: Any = response.json()
    except ValueError:
        data = None
    if response.status_code == 200 and isinstance(data, dict) and "access_token" in data:
        return OAuth2Token.from_token_response(data, now=client.clock.now())
    error = _grant_error(response, data, what, client.clock.time())
    error.scrub(hidden)
    raise error


def _grant_error(response: httpx.Response, data: Any, what: str, now: float) -> SocialGateError:
    status = response.status_code
    code = data.get("error") if isinstance(data, dict) else None
    common: dict[str, Any] = {
        "network": SPEC.name,
        "status": status,
        "code": str(code) if code is not None else None,
        "upstream_message": data.get("message") if isinstance(data, dict) else None,
    }
    if status == 429:
        retry = response.headers.get("retry-after")
        return RateLimited(
            f"Reddit's token endpoint is rate limiting {what}; retry later",
            retry_after=parse_retry_after(retry, now=now) if retry else None,
            **common,
        )
    if status == 401:
        return AuthenticationError(
            f"Reddit refused the app's client id or secret ({what}); check the OAuthApp and "
            "the app type (script, web or installed) at reddit.com/prefs/apps",
            **common,
        )
    if code == "invalid_grant":
        # Reddit answers a bad username or password with HTTP 200.
        return AuthenticationError(
            f"Reddit refused {what} (invalid_grant): wrong username or password, a two-factor "
            "account without otp=, or a user who is not a developer of this script app",
            **common,
        )
    if status < 400:
        return AuthenticationError(
            f"Reddit's token endpoint answered {what} without an access token "
            f"({code or 'no error code'})",
            **common,
        )
    cls = error_class_for_status(status)
    return cls(f"Reddit's token endpoint answered HTTP {status} to {what}", **common)


async def password_grant(
    client: Client,
    app: OAuthApp,
    username: str,
    password: str,
    *,
    otp: str | None = None,
    scopes: tuple[str, ...] | list[str] | None = None,
    base_url: str | None = None,
) -> OAuth2Token:
    """A token for the owner of a "script" app (OAuth password grant). ``otp`` is the current
    two-factor code if the account uses one. The token has no refresh token; use
    ``script_account`` for an account that renews it by itself."""
    secret = f"{password}:{otp}" if otp else password
    form = {"grant_type": "password", "username": username, "password": secret}
    if scopes:
        form["scope"] = " ".join(scopes)
    return await _grant(
        client,
        app,
        form,
        what="the password grant",
        base_url=base_url,
        secrets=(password, secret),
    )


async def app_only_token(
    client: Client,
    app: OAuthApp,
    *,
    device_id: str | None = None,
    scopes: tuple[str, ...] | list[str] | None = None,
    base_url: str | None = None,
) -> OAuth2Token:
    """An application-only token (no user): ``client_credentials`` for apps with a secret, or
    ``installed_client`` with ``device_id`` (20-30 characters; Reddit suggests
    ``DO_NOT_TRACK_THIS_DEVICE``) for installed apps. Reads only; shared budget of the app."""
    if device_id is not None:
        form = {"grant_type": INSTALLED_CLIENT_GRANT, "device_id": device_id}
    elif app.client_secret:
        form = {"grant_type": "client_credentials"}
    else:
        raise BadRequest(
            "an app without a client secret (an installed app) needs device_id= for an "
            "application-only token",
            network=SPEC.name,
        )
    if scopes:
        form["scope"] = " ".join(scopes)
    return await _grant(client, app, form, what="the application-only grant", base_url=base_url)


async def script_account(
    client: Client,
    app: OAuthApp,
    username: str,
    password: str,
    *,
    key: str | None = None,
    scopes: tuple[str, ...] | list[str] | None = None,
) -> Account:
    """An account for a script app's owner that logs in again by itself before its token
    expires. The password stays in this process's memory only. Accounts with two-factor
    authentication cannot be renewed this way (the code changes every 30 s)."""

    def grant() -> Awaitable[OAuth2Token]:
        return password_grant(client, app, username, password, scopes=scopes)

    return await _renewing_account(
        client, app, grant, key or f"script:{app.client_id}:{username.lower()}"
    )


async def app_only_account(
    client: Client,
    app: OAuthApp,
    *,
    device_id: str | None = None,
    key: str | None = None,
    scopes: tuple[str, ...] | list[str] | None = None,
) -> Account:
    """An application-only account that fetches a new app token by itself before expiry."""

    def grant() -> Awaitable[OAuth2Token]:
        return app_only_token(client, app, device_id=device_id, scopes=scopes)

    return await _renewing_account(
        client, app, grant, key or f"app:{app.client_id}:{device_id or 'confidential'}"
    )


async def _renewing_account(client: Client, app: OAuthApp, grant: Grant, key: str) -> Account:
    from .adapter import RedditAdapter

    stored = await client.token_store.get(SPEC.name, key)
    token = stored if isinstance(stored, OAuth2Token) else await grant()
    account = client.account(SPEC.name, token, app=app, key=key)
    adapter = account.adapter
    assert isinstance(adapter, RedditAdapter)
    adapter.renew_with(grant)
    return account
