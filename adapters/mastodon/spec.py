"""Mastodon (API v1/v2, servers 4.x) as data: buckets and their routes, OAuth flavour, error bodies.

Every instance is its own server: ``base_url`` is only the default (mastodon.social); pass
``base_url=`` to ``client.account("mastodon", ...)`` and ``client.oauth("mastodon", ...)``.
The OAuth endpoints below are rebased onto that URL by the core.

Limits are Mastodon's defaults (config/initializers/rack_attack.rb and RateLimiter families,
../shared/design/NETWORKS.md): 300 requests per 5 minutes per account; media uploads 30 per
30 minutes; status deletes and unreblogs 30 per 30 minutes; posting 300 statuses per 3 hours
(the ``statuses`` family, whose headers the create endpoint reports: the recordings show
``X-RateLimit-Limit: 300`` with a reset on a 3-hour boundary). Admins can change all of them;
the live ``X-RateLimit-*`` headers (reset as ISO-8601, skew corrected with ``Date`` by the
core) correct them on every answer.
"""

from __future__ import annotations

from typing import Any

import httpx

from socialgate._models import Capability
from socialgate._spec import BucketSpec, ErrorInfo, OAuthSpec, ProviderSpec, Route

BASE_URL = "https://mastodon.social"

BUCKETS = {
    "default": BucketSpec(300.0, user_limit=300),
    "media.upload": BucketSpec(1_800.0, user_limit=30),
    "statuses.delete": BucketSpec(1_800.0, user_limit=30),
    "statuses.create": BucketSpec(10_800.0, user_limit=300),
}

_ID = r"[^/]+"
ROUTES = (
    Route("POST", r"/api/v[12]/media", "media.upload"),
    Route("DELETE", rf"/api/v1/statuses/{_ID}", "statuses.delete"),
    Route("POST", rf"/api/v1/statuses/{_ID}/unreblog", "statuses.delete"),
    Route("POST", r"/api/v1/statuses", "statuses.create"),
)


def parse_error(status: int, body: Any, headers: httpx.Headers) -> ErrorInfo:
    """Mastodon answers ``{"error": "<human message>"}`` (422 validation failures add
    ``details``); its OAuth endpoints answer ``{"error": "<code>", "error_description"}``.
    The status picks the class: 422 is ``BadRequest``, 429 ``RateLimited``."""
    if not isinstance(body, dict):
        return ErrorInfo()
    error = body.get("error")
    description = body.get("error_description")
    if isinstance(error, str) and isinstance(description, str):
        return ErrorInfo(code=error, message=description)
    message = error if isinstance(error, str) else None
    details = body.get("details")
    if isinstance(details, dict) and details:
        # {"field": [{"error": "ERR_BLANK", "description": "can't be blank"}]}
        parts = [
            f"{field} {item.get('description') or item.get('error')}"
            for field, items in details.items()
            if isinstance(items, list)
            for item in items
            if isinstance(item, dict)
        ]
        if parts:
            message = f"{message or 'Validation failed'} ({'; '.join(parts)})"
    return ErrorInfo(message=message)


SPEC = ProviderSpec(
    name="mastodon",
    display_name="Mastodon",
    base_url=BASE_URL,
    web_url=BASE_URL,
    oauth=OAuthSpec(
        authorize_url=f"{BASE_URL}/oauth/authorize",
        token_url=f"{BASE_URL}/oauth/token",
        revoke_url=f"{BASE_URL}/oauth/revoke",
        pkce=True,
        # Doorkeeper takes client_id/client_secret as form fields (Basic works too).
        token_auth="client_secret_post",
        default_scopes=("read", "write"),
    ),
    buckets=BUCKETS,
    routes=ROUTES,
    default_bucket="default",
    # X-RateLimit-Reset is an ISO-8601 timestamp on Mastodon, an integer on some other
    # servers (GoToSocial); "auto" reads both.
    reset_style="auto",
    parse_error=parse_error,
    capabilities=frozenset(Capability),
)
