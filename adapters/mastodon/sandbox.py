"""The Mastodon emulator for ``socialgate.sandbox`` (mounted at ``/mastodon``).

It speaks a Mastodon 4.x server's wire format (paths, parameters, entities, headers, errors)
over a seeded dataset (``sandbox_data``): accounts (verify_credentials, by id, lookup by
``acct``), followers, an account's statuses, a status and its context, v2 search, mention
notifications, status create (honouring ``Idempotency-Key``) and delete, media upload v2 with
asynchronous processing, app registration and OAuth 2.0 with PKCE (``sandbox_oauth``).
Listings page with ``max_id``/``min_id``/``since_id`` and answer a ``Link`` header; as on
Mastodon, the ``next`` link is only there when the page is full, so an empty page can follow.

Rate limits are Mastodon's defaults (rack-attack and the ``statuses`` family), in windows
aligned to the clock (a 5-minute window ends on a multiple of 5 minutes), shrunk by the
sandbox's ``time_scale``: 300 requests per 5 minutes per token (per address without one),
30 media uploads and 30 deletes per 30 minutes, 300 new statuses per 3 hours per account, 5
app registrations per 10 minutes per address. Every API answer carries
``X-RateLimit-Limit/Remaining/Reset`` (ISO-8601 reset) of the most limited throttle (of the
``statuses`` family on create); a refusal is ``429 {"error": "Too many requests"}``.

Options (``create_app(options={"mastodon": {...}})``): ``media_processing_seconds`` (default
1.0, sandbox clock): how long a video, gifv or audio upload through v2 stays in processing
(``POST /api/v2/media`` answers 202 and ``GET /api/v1/media/:id`` 206 until then); images are
ready at once (200).
Not emulated: timelines, favourites and the other actions, polls, quotes, scheduled statuses,
grouped notifications, streaming. Answers carry no ``Date`` header (the ASGI server adds one).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from socialgate.sandbox.emulator import Emulator, Reply
from socialgate.sandbox.faults import FAULT_SCOPE_KEY, NO_FAULT, FaultDecision

from . import sandbox_reads, sandbox_writes
from .sandbox_data import MastodonDataset
from .sandbox_oauth import OAuthServer, Principal
from .sandbox_wire import Wire, error
from .spec import BUCKETS

if TYPE_CHECKING:
    from socialgate.sandbox.app import SandboxContext

__all__ = ["MastodonEmulator", "create_emulator"]

Handler = Callable[..., Awaitable[Reply]]
IDEMPOTENCY_TTL = 3_600.0
# name -> (limit, period in seconds, counted per): token, user or address
THROTTLES: dict[str, tuple[int, float, str]] = {
    "api": (BUCKETS["default"].user_limit or 300, BUCKETS["default"].window, "token"),
    "api_ip": (300, 300.0, "ip"),
    "media": (BUCKETS["media.upload"].user_limit or 30, BUCKETS["media.upload"].window, "user"),
    "delete": (
        BUCKETS["statuses.delete"].user_limit or 30,
        BUCKETS["statuses.delete"].window,
        "user",
    ),
    "statuses": (
        BUCKETS["statuses.create"].user_limit or 300,
        BUCKETS["statuses.create"].window,
        "user",
    ),
    "apps": (5, 600.0, "ip"),
}
_ID = r"(?P<id>[^/]+)"
# (method, path, handler, who may call: public/user/anyone, scope, extra throttle)
_ROUTES: list[tuple[str, re.Pattern[str], str, str, str | None, str | None]] = [
    (method, re.compile(pattern), name, access, scope, throttle)
    for method, pattern, name, access, scope, throttle in (
        ("GET", r"/api/v1/accounts/verify_credentials", "verify_credentials", "user",
         "read:accounts", None),
        ("GET", r"/api/v1/accounts/lookup", "lookup", "public", "read:accounts", None),
        ("GET", rf"/api/v1/accounts/{_ID}/statuses", "account_statuses", "public",
         "read:statuses", None),
        ("GET", rf"/api/v1/accounts/{_ID}/followers", "followers", "public", "read:accounts",
         None),
        ("GET", rf"/api/v1/accounts/{_ID}", "account", "public", "read:accounts", None),
        ("GET", rf"/api/v1/statuses/{_ID}/context", "context", "public", "read:statuses", None),
        ("GET", rf"/api/v1/statuses/{_ID}", "status", "public", "read:statuses", None),
        ("POST", r"/api/v1/statuses", "create", "user", "write:statuses", "statuses"),
        ("DELETE", rf"/api/v1/statuses/{_ID}", "delete", "user", "write:statuses", "delete"),
        ("GET", r"/api/v2/search", "search", "public", "read:search", None),
        ("GET", r"/api/v1/notifications", "notifications", "user", "read:notifications", None),
        ("POST", r"/api/v(?P<version>[12])/media", "media_upload", "user", "write:media",
         "media"),
        ("GET", rf"/api/v1/media/{_ID}", "media_get", "user", "write:media", None),
        ("PUT", rf"/api/v1/media/{_ID}", "media_update", "user", "write:media", None),
        ("POST", r"/api/v1/apps", "apps", "anyone", None, "apps"),
    )
]  # fmt: skip


def create_emulator(ctx: SandboxContext) -> MastodonEmulator:
    return MastodonEmulator(ctx)


class MastodonEmulator(Emulator):
    """The ASGI app. ``data`` (the dataset and its overlay) and ``oauth`` are public for
    tests."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.clock = ctx.clock
        self.data = MastodonDataset(ctx.seed, ctx.posts, ctx.users, ctx.anchor)
        self.oauth = OAuthServer(self.data, ctx.clock)
        self.processing_seconds = float(ctx.options.get("media_processing_seconds", 1.0))
        # (user, Idempotency-Key) -> (status id, expiry)
        self.idempotency: dict[tuple[int, str], tuple[int, float]] = {}

    async def handle(self, request: Request, method: str, path: str) -> Reply:
        base = str(request.base_url).rstrip("/")
        if method == "GET" and path == "/.well-known/oauth-authorization-server":
            return 200, {}, self.oauth.metadata(base)
        if method == "GET" and path == "/oauth/authorize":
            return self.oauth.authorize(dict(request.query_params))
        if method == "POST" and path in ("/oauth/token", "/oauth/revoke"):
            form = {k: str(v) for k, v in (await read_form(request)).items()}
            auth = request.headers.get("authorization")
            if path == "/oauth/token":
                return self.oauth.token(form, auth)
            return self.oauth.revoke(form, auth)
        route = next(
            (
                (m, name, access, scope, throttle)
                for meth, rx, name, access, scope, throttle in _ROUTES
                if meth == method and (m := rx.fullmatch(path))
            ),
            None,
        )
        if route is None:
            return 404, {}, error("Not Found")
        match, name, access, scope, throttle = route
        principal = self.oauth.principal(request.headers.get("authorization"))
        address = request.client.host if request.client else "local"
        if isinstance(principal, str):
            headers = self._peek("api_ip", address)
            headers["www-authenticate"] = (
                f'Bearer realm="Doorkeeper", error="invalid_token", error_description="{principal}"'
            )
            return 401, headers, error(principal)
        fault: FaultDecision = request.scope.get(FAULT_SCOPE_KEY, NO_FAULT)
        names = ["api" if principal else "api_ip"]
        if throttle and (principal is None or principal.user is not None or throttle == "apps"):
            names.append(throttle)
        if fault.storm:
            headers = self._peek(names[-1], self._who(names[-1], principal, address))
            headers["x-ratelimit-remaining"] = "0"
            return 429, headers, error("Too many requests")
        refused, headers = self._count(names, principal, address)
        if refused:
            return 429, headers, error("Too many requests")
        if fault.error_status:
            return fault.error_status, headers, error("Service Unavailable")
        denied = self._denied(access, scope, principal)
        if denied is not None:
            return denied[0], headers, denied[1]
        wire = Wire(self.data, base, principal.user if principal else None, self.clock.time())
        module = sandbox_writes if hasattr(sandbox_writes, name) else sandbox_reads
        handler: Handler = getattr(module, name)
        status, extra, body = await handler(self, request, match.groupdict(), principal, wire)
        return status, {**headers, **extra}, body

    # -- access --------------------------------------------------------------------------------

    @staticmethod
    def _denied(access: str, scope: str | None, who: Principal | None) -> tuple[int, Any] | None:
        if access == "user" and who is None:
            return 401, error("The access token is invalid")
        if access == "user" and who is not None and who.user is None:
            return 422, error("This method requires an authenticated user")
        if scope and who is not None and not who.allows(scope):
            return 403, error("This action is outside the authorized scopes")
        return None

    # -- rate limits ---------------------------------------------------------------------------

    @staticmethod
    def _who(name: str, principal: Principal | None, address: str) -> str:
        per = THROTTLES[name][2]
        if per == "token" and principal is not None:
            return f"token:{principal.token}"
        if per == "user" and principal is not None and principal.user is not None:
            return f"user:{principal.user}"
        return f"ip:{address}"

    def _window(self, name: str, who: str) -> tuple[tuple[str, str, str, int], int, float, float]:
        limit, period, _ = THROTTLES[name]
        scaled = self.ctx.scaled(period)
        index = math.floor(self.clock.time() / scaled)
        return ("mastodon", name, who, index), limit, period, (index + 1) * scaled

    def _count(
        self, names: list[str], principal: Principal | None, address: str
    ) -> tuple[bool, dict[str, str]]:
        """Count the request against every throttle that applies; the headers describe the
        refusing one, else the ``statuses`` family (on create), else the most limited."""
        states = []
        for name in names:
            key, limit, period, end = self._window(name, self._who(name, principal, address))
            state = self.ctx.limiter.hit(key, limit, period)
            states.append((name, state.allowed, state.limit, state.remaining, end))
        refused = [s for s in states if not s[1]]
        chosen = (
            refused[0]
            if refused
            else next((s for s in states if s[0] == "statuses"), None)
            or min(states, key=lambda s: s[3])
        )
        return bool(refused), _headers(chosen[2], chosen[3], chosen[4])

    def _peek(self, name: str, who: str) -> dict[str, str]:
        key, limit, period, end = self._window(name, who)
        state = self.ctx.limiter.peek(key, limit, period)
        return _headers(state.limit, state.remaining, end)

    # -- idempotency ---------------------------------------------------------------------------

    def remembered(self, user: int, key: str | None) -> int | None:
        if not key:
            return None
        entry = self.idempotency.get((user, key))
        if entry is None or entry[1] <= self.clock.time():
            return None
        return entry[0]

    def remember(self, user: int, key: str | None, status_id: int) -> None:
        if key:
            self.idempotency[(user, key)] = (status_id, self.clock.time() + IDEMPOTENCY_TTL)


def _headers(limit: int, remaining: int, reset: float) -> dict[str, str]:
    moment = datetime.fromtimestamp(reset, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": str(max(remaining, 0)),
        "x-ratelimit-reset": moment,
    }


async def read_form(request: Request) -> dict[str, Any]:
    """A JSON or form body as a dict; ``name[]`` fields and repeated names become lists."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}
    form = await request.form()
    result: dict[str, Any] = {}
    for key, value in form.multi_items():
        if key.endswith("[]"):
            result.setdefault(key[:-2], []).append(value)
        elif key in result:
            previous = result[key]
            result[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            result[key] = value
    return result
