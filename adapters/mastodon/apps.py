"""Registering an OAuth application on a Mastodon instance (``POST /api/v1/apps``), and
revoking a token it issued (``POST /oauth/revoke``).

Every instance is its own authorization server, so an app (client id and secret) is made per
instance, usually once, and stored next to the tokens it issues::

    app = await register_app(client, "https://fosstodon.org", client_name="CRM sync",
                             redirect_uris=["https://crm.example/callback"],
                             scopes=["read", "write"])
    flow = client.oauth("mastodon", app, base_url="https://fosstodon.org")
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import httpx

from socialgate._credentials import OAuthApp
from socialgate._errors import (
    APIError,
    RateLimited,
    TransportError,
    UpstreamSchemaError,
    error_class_for_status,
)
from socialgate._ratelimit_headers import parse_retry_after

from .spec import SPEC

if TYPE_CHECKING:
    from socialgate._client import Client

__all__ = ["register_app", "revoke_token"]


async def register_app(
    client: Client,
    base_url: str,
    *,
    client_name: str,
    redirect_uris: str | Sequence[str],
    scopes: str | Sequence[str] = ("read", "write"),
    website: str | None = None,
) -> OAuthApp:
    """Register an app on the instance at ``base_url``; the ``OAuthApp`` it answers carries the
    client id and secret, the first redirect URI and the scopes (``extra`` holds the
    instance's ``base_url`` and the app's ``id``). Mastodon limits registrations per IP
    address (5 per 10 minutes by default): register once and keep the app."""
    uris = [redirect_uris] if isinstance(redirect_uris, str) else list(redirect_uris)
    wanted = scopes.split() if isinstance(scopes, str) else list(scopes)
    if not uris:
        raise ValueError("register_app needs at least one redirect URI")
    form = {
        "client_name": client_name,
        # A newline-separated string is what every Mastodon version accepts (4.3+ also
        # takes an array).
        "redirect_uris": "\n".join(uris),
        "scopes": " ".join(wanted),
    }
    if website:
        form["website"] = website
    base = base_url.rstrip("/")
    try:
        response = await client.http.post(
            f"{base}/api/v1/apps", data=form, headers={"Accept": "application/json"}
        )
    except httpx.TransportError as exc:
        raise TransportError(
            f"{type(exc).__name__} registering an app on {base}: {exc or 'no detail'}",
            network=SPEC.name,
            sent=not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout),
        ) from exc
    body = _json(response)
    if response.status_code >= 400:
        raise _error(response, body)
    if not isinstance(body, dict) or not body.get("client_id") or not body.get("client_secret"):
        raise UpstreamSchemaError(
            "Mastodon registered the app but its answer has no client_id/client_secret",
            network=SPEC.name,
            status=response.status_code,
            body=response.text[:10_000],
        )
    extra = {"base_url": base}
    if body.get("id") is not None:
        extra["app_id"] = str(body["id"])
    granted = body.get("scopes")
    return OAuthApp(
        client_id=str(body["client_id"]),
        client_secret=str(body["client_secret"]),
        redirect_uri=uris[0],
        scopes=tuple(granted) if isinstance(granted, list) and granted else tuple(wanted),
        extra=extra,
    )


async def revoke_token(client: Client, base_url: str, app: OAuthApp, token: str) -> None:
    """Revoke ``token`` (an access token the app obtained) on the instance at ``base_url``.
    Mastodon tokens never expire, so this is how a disconnected account is cut off; it
    answers 200 for a token that is already gone, too."""
    form = {"client_id": app.client_id, "client_secret": app.client_secret or "", "token": token}
    base = base_url.rstrip("/")
    try:
        response = await client.http.post(
            f"{base}/oauth/revoke", data=form, headers={"Accept": "application/json"}
        )
    except httpx.TransportError as exc:
        raise TransportError(
            f"{type(exc).__name__} revoking a token on {base}: {exc or 'no detail'}",
            network=SPEC.name,
        ) from exc
    if response.status_code >= 400:
        error = _error(response, _json(response), "Mastodon refused to revoke the token")
        error.scrub([token, app.client_secret or ""])
        raise error


def _json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content) if response.content else None
    except ValueError:
        return None


def _error(
    response: httpx.Response, body: Any, what: str = "Mastodon refused to register the app"
) -> APIError:
    info = SPEC.parse_error(response.status_code, body, response.headers)
    what = f"{what}: HTTP {response.status_code}"
    if info.message:
        what += f": {info.message}"
    common: dict[str, Any] = {
        "network": SPEC.name,
        "status": response.status_code,
        "code": info.code,
        "upstream_message": info.message,
        "body": response.text[:10_000] if response.content else None,
    }
    if response.status_code == 429:
        retry_after = None
        if "retry-after" in response.headers:
            retry_after = parse_retry_after(response.headers["retry-after"], now=0.0)
        return RateLimited(
            what + ". Mastodon limits these calls per IP address (app registrations: 5 per "
            "10 minutes); register once and reuse the app.",
            retry_after=retry_after,
            **common,
        )
    return error_class_for_status(response.status_code)(what + ".", **common)
