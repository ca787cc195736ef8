"""Reddit's API as data: OAuth flavour, the per-client-id budget, and its error bodies.

Budget: Reddit allows 100 requests per minute per OAuth client id, averaged over a 10-minute
window (announced on r/redditdev and r/modnews, 2023-05-31), so one bucket of 1000 requests per
600 s is shared by every account of one app (``shared_by_app``). ``X-Ratelimit-Used`` /
``-Remaining`` (a float) / ``-Reset`` (seconds until the window ends) correct it on every
answer; the core reads them (``reset_style="delta"``).

Actions (submitting, commenting) have a second, per-user limit Reddit does not publish: it
answers HTTP 200 with ``{"json": {"errors": [["RATELIMIT", "... try again in 5 minutes.",
"ratelimit"]]}}``. Those routes use the per-credential ``actions`` bucket, so a user who is
told to pause does not hold every other account of the app.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import httpx

from socialgate._models import Capability
from socialgate._spec import BucketSpec, ErrorInfo, OAuthSpec, ProviderSpec, Route

__all__ = ["SPEC", "api_error_info", "parse_error", "parse_wait"]

WINDOW = 600.0
WEB_URL = "https://www.reddit.com"

BUCKETS = {
    # Every request of every account of one client id.
    "default": BucketSpec(WINDOW, user_limit=1000, shared_by_app=True),
    # Submits and comments: learnt from headers, held per credential after a RATELIMIT body.
    "actions": BucketSpec(WINDOW),
}

ROUTES = (Route("POST", r"/api/(submit|comment|submit_gallery_post\.json)/?", "actions"),)

# Reddit's API error codes (``json.errors[i][0]``) whose meaning is a known HTTP class.
_CODE_STATUS = {
    "USER_REQUIRED": 401,
    "INVALID_USER": 401,
    "NOT_AUTHOR": 403,
    "NO_PERMISSION": 403,
    "SUBREDDIT_NOTALLOWED": 403,
    "SUBREDDIT_NOTALLOWED_BANNED": 403,
    "THREAD_LOCKED": 403,
    "TOO_OLD": 403,
    "BANNED_FROM_SUBREDDIT": 403,
    "SUBREDDIT_NOEXIST": 404,
    "DELETED_LINK": 404,
    "DELETED_COMMENT": 404,
    "NO_THING_ID": 404,
    "ALREADY_SUB": 409,
}
_WAIT = re.compile(r"(\d+(?:\.\d+)?)\s*(millisecond|second|minute|hour)s?", re.IGNORECASE)
_UNIT = {"millisecond": 0.001, "second": 1.0, "minute": 60.0, "hour": 3600.0}


def parse_wait(message: str | None) -> float | None:
    """Seconds in "try again in 9 minutes" / "Take a break for 52 seconds"; ``None`` if the
    text names no duration. Reddit rounds to whole minutes, so the value is a lower bound."""
    if not message:
        return None
    match = _WAIT.search(message)
    if match is None:
        return None
    return float(match.group(1)) * _UNIT[match.group(2).lower()]


def api_error_info(errors: Sequence[Any], ratelimit: Any = None) -> ErrorInfo:
    """The first of Reddit's ``[code, message, field]`` errors as an ``ErrorInfo``.
    ``ratelimit`` is the seconds Reddit puts next to a RATELIMIT error when it does."""
    first = errors[0] if errors else None
    if isinstance(first, Sequence) and not isinstance(first, str):
        parts = [str(p) if p is not None else "" for p in first]
        code, message, field = [*parts, "", "", ""][:3]
    else:
        code, message, field = "", str(first or ""), ""
    text = f"{message} (field '{field}')" if field and code != "RATELIMIT" else message
    if code == "RATELIMIT":
        wait = float(ratelimit) if isinstance(ratelimit, int | float) else parse_wait(message)
        return ErrorInfo(
            code=code, message=text or None, rate_limit_scope="window", retry_after=wait
        )
    return ErrorInfo(
        code=code or None,
        message=text or None,
        status_override=_CODE_STATUS.get(code, 400),
    )


def parse_error(status: int, body: Any, headers: httpx.Headers) -> ErrorInfo:
    """Reddit's error shapes: ``{"json": {"errors": [[code, msg, field]]}}`` (``api_type=json``),
    ``{"reason", "explanation", "message"}``, ``{"message", "error": 403}``, the token
    endpoint's ``{"error": "invalid_grant"}``, and HTML pages (429, 401)."""
    if isinstance(body, dict):
        inner = body.get("json")
        if isinstance(inner, dict) and inner.get("errors"):
            return api_error_info(inner["errors"], inner.get("ratelimit"))
        reason = body.get("reason")
        message = body.get("explanation") or body.get("message")
        if isinstance(reason, str):
            return ErrorInfo(code=reason, message=str(message) if message else None)
        error = body.get("error")
        if isinstance(error, str):
            description = body.get("error_description") or body.get("message")
            return ErrorInfo(code=error, message=str(description) if description else None)
        if message:
            return ErrorInfo(message=str(message))
    challenge = headers.get("www-authenticate", "")
    if status == 401 and "invalid_token" in challenge:
        return ErrorInfo(code="invalid_token", message="the access token is invalid or expired")
    return ErrorInfo()


SPEC = ProviderSpec(
    name="reddit",
    display_name="Reddit",
    base_url="https://oauth.reddit.com",
    web_url=WEB_URL,
    oauth=OAuthSpec(
        authorize_url="https://www.reddit.com/api/v1/authorize",
        token_url="https://www.reddit.com/api/v1/access_token",
        revoke_url="https://www.reddit.com/api/v1/revoke_token",
        # Reddit's OAuth 2 has no PKCE; web and script apps keep a secret.
        pkce=False,
        token_auth="client_secret_basic",
        public_client_auth="basic_empty_secret",
        scope_separator=" ",
        default_scopes=(
            "identity",
            "read",
            "history",
            "submit",
            "edit",
            "privatemessages",
        ),
        # Without it Reddit issues a one-hour token and no refresh token.
        extra_authorize_params=(("duration", "permanent"),),
    ),
    buckets=BUCKETS,
    routes=ROUTES,
    default_bucket="default",
    reset_style="delta",
    # The reset is given in whole seconds; a little slack avoids landing just before it.
    reset_margin=1.0,
    parse_error=parse_error,
    capabilities=frozenset(Capability) - {Capability.FOLLOWERS},
)
