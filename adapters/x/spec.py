"""X (Twitter) API v2 as data: endpoints' buckets and limits, OAuth flavour, error bodies.

Limits are the documented 15-minute defaults (per user token / per app-only bearer); the
live ``x-rate-limit-*`` headers correct them on every response. Sources: docs.x.com rate-limit
pages and ../shared/design/NETWORKS.md.
"""

from __future__ import annotations

from typing import Any

import httpx

from socialgate._models import Capability
from socialgate._spec import BucketSpec, ErrorInfo, OAuthSpec, ProviderSpec, Route

_15_MIN = 900.0

BUCKETS = {
    "users.me": BucketSpec(_15_MIN, user_limit=75),
    "users.lookup": BucketSpec(_15_MIN, user_limit=900, app_limit=300),
    "users.followers": BucketSpec(_15_MIN, user_limit=15, app_limit=15),
    "tweets.lookup": BucketSpec(_15_MIN, user_limit=900, app_limit=450),
    "tweets.timeline": BucketSpec(_15_MIN, user_limit=900, app_limit=10_000),
    "tweets.mentions": BucketSpec(_15_MIN, user_limit=300, app_limit=450),
    "tweets.search": BucketSpec(_15_MIN, user_limit=300, app_limit=450),
    "tweets.search_all": BucketSpec(_15_MIN, user_limit=300, app_limit=300),
    "tweets.create": BucketSpec(_15_MIN, user_limit=100),
    "tweets.delete": BucketSpec(_15_MIN, user_limit=50),
    # Media limits are not published per endpoint; learnt from headers.
    "media.upload": BucketSpec(_15_MIN),
}

_ID = r"[0-9]{1,19}"
ROUTES = (
    Route("GET", r"/2/users/me", "users.me"),
    Route("GET", rf"/2/users/{_ID}/followers", "users.followers"),
    Route("GET", rf"/2/users/{_ID}/tweets", "tweets.timeline"),
    Route("GET", rf"/2/users/{_ID}/mentions", "tweets.mentions"),
    Route("GET", rf"/2/users/{_ID}|/2/users/by/username/[A-Za-z0-9_]+|/2/users", "users.lookup"),
    Route("GET", r"/2/tweets/search/recent", "tweets.search"),
    Route("GET", r"/2/tweets/search/all", "tweets.search_all"),
    Route("GET", rf"/2/tweets/{_ID}|/2/tweets", "tweets.lookup"),
    Route("POST", r"/2/tweets", "tweets.create"),
    Route("DELETE", rf"/2/tweets/{_ID}", "tweets.delete"),
    Route("*", r"/2/media/upload.*|/2/media/metadata", "media.upload"),
)

# X's problem types: the live API still answers with the api.twitter.com prefix; the current
# OpenAPI description uses api.x.com. Both are read.
_PROBLEM_PREFIXES = ("https://api.x.com/2/problems/", "https://api.twitter.com/2/problems/")


def _problem_kind(value: Any) -> str | None:
    if isinstance(value, str):
        for prefix in _PROBLEM_PREFIXES:
            if value.startswith(prefix):
                return value[len(prefix) :]
    return None


# Problem types that are really rate limits, and their scope.
_LIMIT_PROBLEMS = {
    "rate-limit-exceeded": "window",
    "usage-capped": "monthly",
}
# v1.1-style numeric codes: 88 rate limit; 89/32 bad token; 326 locked account.
_AUTH_CODES = {"89", "32"}


def parse_error(status: int, body: Any, headers: httpx.Headers) -> ErrorInfo:
    """X answers problem+json (``type``/``title``/``detail``), ``{"errors": [...]}``, or OAuth
    ``{"error", "error_description"}`` bodies."""
    if not isinstance(body, dict):
        return ErrorInfo()
    kind = _problem_kind(body.get("type"))
    if kind is not None:
        message = body.get("detail") or body.get("title")
        return ErrorInfo(
            code=kind,
            message=str(message) if message else None,
            rate_limit_scope=_LIMIT_PROBLEMS.get(kind),  # type: ignore[arg-type]
        )
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        code = first.get("code")
        sub_kind = _problem_kind(first.get("type"))
        message = first.get("message") or first.get("detail") or body.get("title")
        scope = "window" if str(code) == "88" else _LIMIT_PROBLEMS.get(sub_kind or "")
        return ErrorInfo(
            code=str(code) if code is not None else sub_kind,
            message=str(message) if message else None,
            rate_limit_scope=scope,  # type: ignore[arg-type]
            status_override=401 if str(code) in _AUTH_CODES else None,
        )
    error = body.get("error")
    if isinstance(error, str):
        description = body.get("error_description")
        return ErrorInfo(code=error, message=str(description) if description else None)
    # "about:blank" problems: the detail says more than the title when they differ.
    title = body.get("detail") or body.get("title")
    return ErrorInfo(message=str(title) if title else None)


SPEC = ProviderSpec(
    name="x",
    display_name="X",
    aliases=("twitter",),
    base_url="https://api.x.com",
    web_url="https://x.com",
    oauth=OAuthSpec(
        authorize_url="https://x.com/i/oauth2/authorize",
        token_url="https://api.x.com/2/oauth2/token",
        revoke_url="https://api.x.com/2/oauth2/revoke",
        pkce=True,
        token_auth="client_secret_basic",
        default_scopes=(
            "tweet.read",
            "tweet.write",
            "users.read",
            "follows.read",
            "media.write",
            "offline.access",
        ),
    ),
    buckets=BUCKETS,
    routes=ROUTES,
    default_bucket="default",
    reset_style="epoch",
    parse_error=parse_error,
    capabilities=frozenset(Capability),
)
