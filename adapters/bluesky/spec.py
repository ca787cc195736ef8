"""Bluesky (AT Protocol) as data: XRPC routes, budgets, write-point costs and error bodies.

Limits are bsky.social's published defaults (../shared/design/NETWORKS.md, docs.bsky.app
"rate limits"): 3000 requests per 5 minutes, ``createSession`` 30 per 5 minutes (300 a day),
repo writes 5000 points an hour and 35 000 a day per DID (create 3, update 2, delete 1). The
live ``RateLimit-*`` + ``RateLimit-Policy`` headers correct the request buckets on every
answer. Other PDSes have other limits, which is why the write-point buckets are only data
the adapter reserves against (see ``adapter.WritePoints``), never hard-coded in a loop.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import httpx

from socialgate._models import Capability
from socialgate._spec import BucketSpec, ErrorInfo, ProviderSpec, Route

ENTRY_URL = "https://bsky.social"
WEB_URL = "https://bsky.app"

_5_MIN = 300.0
_HOUR = 3600.0
_DAY = 86_400.0

BUCKETS = {
    # Every XRPC call (per IP at bsky.social; per credential here).
    "default": BucketSpec(_5_MIN, user_limit=3000),
    # com.atproto.server.createSession, per account.
    "session.create": BucketSpec(_5_MIN, user_limit=30),
    "session.create.day": BucketSpec(_DAY, user_limit=300, scope="daily"),
    # Repo write points per DID. Requests to the write endpoints are sent on the header-learned
    # "repo.write" bucket; these two static budgets are reserved together by the adapter.
    "repo.write.hour": BucketSpec(_HOUR, user_limit=5000),
    "repo.write.day": BucketSpec(_DAY, user_limit=35_000, scope="daily"),
}

# Points one repo write costs (bsky.social's PDS).
WRITE_COST = {"create": 3, "update": 2, "delete": 1}

# XRPC paths may sit under a prefix (a PDS behind a path, the sandbox's /bluesky).
_X = r"(?:/.*)?/xrpc/"
ROUTES = (
    Route("POST", _X + r"com\.atproto\.server\.createSession", "session.create"),
    Route("POST", _X + r"com\.atproto\.server\.refreshSession", "session.refresh"),
    Route(
        "POST",
        _X + r"com\.atproto\.repo\.(?:createRecord|putRecord|deleteRecord|applyWrites)",
        "repo.write",
    ),
)

# Largest image the app.bsky.embed.images lexicon accepts (uploadBlob itself takes 50 MB).
IMAGE_MAX_BYTES = 2_000_000
MAX_IMAGES = 4
PAGE_SIZE = 100

# Errors whose HTTP status misleads: the PDS answers an expired access token with 400.
_AUTH_ERRORS = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired"})
_NOT_FOUND_ERRORS = frozenset({"NotFound", "RecordNotFound", "HandleNotFound", "BlobNotFound"})
_FORBIDDEN_ERRORS = frozenset(
    {"AccountTakedown", "AccountDeactivated", "BlockedActor", "BlockedByActor"}
)
# AppView answers unknown actors and posts with a 400 InvalidRequest and these messages.
_NOT_FOUND_MESSAGE = re.compile(r"\b(?:not found|could not locate record)\b", re.IGNORECASE)
_POLICY_WINDOW = re.compile(r";\s*w=(\d+)")


def _policy_window(headers: httpx.Headers) -> float | None:
    match = _POLICY_WINDOW.search(headers.get("ratelimit-policy", ""))
    return float(match.group(1)) if match else None


def parse_error(status: int, body: Any, headers: httpx.Headers) -> ErrorInfo:
    """XRPC errors are ``{"error": "<Name>", "message": "..."}``; the name picks the class
    where the status does not (400 ExpiredToken is an auth failure, 400 "Profile not found"
    a 404). A 429 whose policy window is a day or more is a daily quota."""
    code = message = None
    if isinstance(body, dict):
        raw_code, raw_message = body.get("error"), body.get("message")
        code = str(raw_code) if isinstance(raw_code, str) else None
        message = str(raw_message) if isinstance(raw_message, str) else None
    override = None
    if code in _AUTH_ERRORS and status in (400, 401):
        override = 401
    elif code in _NOT_FOUND_ERRORS or (
        status == 400 and code == "InvalidRequest" and _NOT_FOUND_MESSAGE.search(message or "")
    ):
        override = 404
    elif code in _FORBIDDEN_ERRORS:
        override = 403
    scope: Literal["window", "daily"] | None = None
    if status == 429 or code == "RateLimitExceeded":
        window = _policy_window(headers)
        scope = "daily" if window is not None and window >= _DAY else "window"
    return ErrorInfo(
        code=code,
        message=message,
        rate_limit_scope=scope,
        status_override=override,
    )


SPEC = ProviderSpec(
    name="bluesky",
    display_name="Bluesky",
    aliases=("bsky",),
    base_url=ENTRY_URL,
    web_url=WEB_URL,
    buckets=BUCKETS,
    routes=ROUTES,
    default_bucket="default",
    # RateLimit-Reset is epoch seconds at bsky.social.
    reset_style="epoch",
    parse_error=parse_error,
    capabilities=frozenset(Capability),
)
