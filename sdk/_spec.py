"""ProviderSpec: every quirk of one network, as data the generic code reads.

An adapter declares one frozen ``ProviderSpec``: base URL, headers it must send, OAuth
endpoints and flavour, rate-limit buckets (static budgets) and which route uses which, how
reset headers are to be read, and how its error bodies are parsed. Nothing in the SDK core
branches on a network's name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from ._models import Capability

__all__ = [
    "BucketSpec",
    "ErrorInfo",
    "OAuthSpec",
    "ProviderSpec",
    "Route",
]

Scope = Literal["window", "daily", "monthly"]
ResetStyle = Literal["auto", "epoch", "delta", "iso"]


@dataclass(frozen=True, slots=True)
class BucketSpec:
    """A static budget: ``limit`` requests per ``window`` seconds.

    ``user_limit`` applies to user-context credentials, ``app_limit`` to app-only ones
    (X publishes both for most endpoints); ``None`` means "learn it from headers".
    ``shared_by_app`` makes every credential of one OAuth app draw from the same budget
    (Reddit counts per client id). ``scope`` says what exhaustion means: a short ``window``
    is waited out, ``daily``/``monthly`` exhaustion raises at once.
    """

    window: float
    user_limit: int | None = None
    app_limit: int | None = None
    scope: Scope = "window"
    shared_by_app: bool = False
    cost: int = 1

    def limit_for(self, app_only: bool) -> int | None:
        if app_only:
            return self.app_limit if self.app_limit is not None else self.user_limit
        return self.user_limit if self.user_limit is not None else self.app_limit


@dataclass(frozen=True, slots=True)
class Route:
    """Maps requests to a bucket: ``method`` (or ``*``) and a regex on the URL path."""

    method: str
    pattern: str
    bucket: str

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and _compiled(self.pattern).fullmatch(
            path
        ) is not None


_PATTERN_CACHE: dict[str, re.Pattern[str]] = {}
_Matcher = tuple[re.Pattern[str], dict[str | None, str]]
# id(routes) -> (routes, {method: matcher}); the tuple is kept to check the id.
_MATCHERS: dict[int, tuple[tuple[Route, ...], dict[str, _Matcher | None]]] = {}


def _route_matcher(routes: tuple[Route, ...], method: str) -> _Matcher | None:
    """One regex for every route that applies to ``method``, each route's pattern in its own
    named group, in order: ``fullmatch`` tries them left to right, as the loop would, but in
    C. Returns the regex and each group's bucket; ``None`` (use the loop) when a pattern
    cannot be combined (its own named groups)."""
    parts: list[str] = []
    buckets: dict[str | None, str] = {}
    for route in routes:
        if route.method not in ("*", method):
            continue
        name = f"sg_route_{len(parts)}"
        buckets[name] = route.bucket
        parts.append(f"(?P<{name}>{route.pattern})")
    if not parts:
        return None
    try:
        return re.compile("|".join(parts)), buckets
    except re.error:
        return None


def _compiled(pattern: str) -> re.Pattern[str]:
    compiled = _PATTERN_CACHE.get(pattern)
    if compiled is None:
        compiled = _PATTERN_CACHE[pattern] = re.compile(pattern)
    return compiled


@dataclass(frozen=True, slots=True)
class OAuthSpec:
    """A network's OAuth 2.0 endpoints and flavour."""

    authorize_url: str
    token_url: str
    revoke_url: str | None = None
    pkce: bool = True
    # How the client authenticates at the token endpoint: HTTP Basic, form fields, or
    # public client (client_id only).
    token_auth: Literal["client_secret_basic", "client_secret_post", "none"] = "client_secret_basic"
    # How a client without a secret (a public or installed app) authenticates: client_id
    # in the form, or HTTP Basic with an empty secret (Reddit).
    public_client_auth: Literal["form", "basic_empty_secret"] = "form"
    scope_separator: str = " "
    default_scopes: tuple[str, ...] = ()
    extra_authorize_params: tuple[tuple[str, str], ...] = ()
    client_id_param: str = "client_id"
    # Refresh this many seconds before the access token expires.
    refresh_skew: float = 120.0


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """What an adapter's error parser read from an error answer.

    ``rate_limit_scope`` marks a body-level rate limit (a 200/400/403 that is really a 429);
    ``reauth`` marks a revoked or dead credential; ``status_override`` lets a body code pick
    the error class where the HTTP status misleads (Graph's 400 for throttling);
    ``retry_after`` carries a wait the body states, for answers without a header.
    """

    code: str | None = None
    message: str | None = None
    rate_limit_scope: Scope | None = None
    reauth: bool = False
    status_override: int | None = None
    # Seconds to wait, when the body says so ("try again in 5 minutes").
    retry_after: float | None = None


def default_error_parser(status: int, body: Any, headers: httpx.Headers) -> ErrorInfo:
    """Reads the common shapes: ``{"error": "...", "error_description": "..."}``,
    ``{"error": {"code", "message"}}``, ``{"message": ...}`` and ``{"errors": [...]}``."""
    if not isinstance(body, dict):
        return ErrorInfo()
    err = body.get("error")
    if isinstance(err, dict):
        return ErrorInfo(code=_str(err.get("code")), message=_str(err.get("message")))
    if isinstance(err, str):
        return ErrorInfo(
            code=err, message=_str(body.get("error_description") or body.get("message"))
        )
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return ErrorInfo(code=_str(first.get("code")), message=_str(first.get("message")))
    return ErrorInfo(code=_str(body.get("code")), message=_str(body.get("message")))


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


ErrorParser = Callable[[int, Any, httpx.Headers], ErrorInfo]


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """Everything the generic client needs to know about one network."""

    name: str
    display_name: str
    base_url: str
    aliases: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    oauth: OAuthSpec | None = None
    buckets: Mapping[str, BucketSpec] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    default_bucket: str = "default"
    # How to read a numeric reset header: "auto" treats values above 1e9 as epoch seconds
    # and smaller ones as seconds-until; "iso" values are detected in any style.
    reset_style: ResetStyle = "auto"
    # Extra seconds to wait past a server-given reset (its resolution is one second).
    reset_margin: float = 0.0
    parse_error: ErrorParser = default_error_parser
    capabilities: frozenset[Capability] = frozenset()
    web_url: str | None = None

    def bucket_for(self, method: str, path: str) -> str:
        cached = _MATCHERS.get(id(self.routes))
        if cached is None or cached[0] is not self.routes:
            cached = _MATCHERS[id(self.routes)] = (self.routes, {})
        matchers = cached[1]
        if method in matchers:
            matcher = matchers[method]
        else:
            matcher = matchers[method] = _route_matcher(self.routes, method)
        if matcher is not None:
            pattern, buckets = matcher
            found = pattern.fullmatch(path)
            return self.default_bucket if found is None else buckets[found.lastgroup]
        for route in self.routes:
            if route.matches(method, path):
                return route.bucket
        return self.default_bucket
