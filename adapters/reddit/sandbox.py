"""The Reddit emulator for ``socialgate.sandbox`` (mounted at ``/reddit``).

It speaks oauth.reddit.com's wire format (paths, parameters, ``Listing`` JSON, ``api_type=json``
errors in HTTP 200 answers, ``X-Ratelimit-*`` headers) over a seeded dataset
(``sandbox_data``), and Reddit's OAuth 2 (``sandbox_oauth``) under the same prefix: the client
maps www.reddit.com's ``/api/v1/access_token`` and ``/api/v1/authorize`` onto the sandbox base.

Endpoints: ``/api/v1/me``, ``/user/<name>/about``, ``/api/user_data_by_account_ids``,
``/user/<name>[/submitted|/comments|/overview]``, ``/api/info``, ``/by_id/<fullnames>``,
``/search`` and ``/r/<sub>/search``, ``/r/<sub>/new``, ``/comments/<id>[/<slug>/<comment>]``,
``/api/morechildren``, ``/message/mentions``; writes ``/api/submit`` (self, link, image, video),
``/api/submit_gallery_post.json``, ``/api/comment``, ``/api/del``, and media upload through
``/api/media/asset.json`` and an S3-style form POST to ``/_s3/<bucket>``. Trailing slashes and
``.json`` suffixes are accepted, as Reddit accepts them.

Rate limits are Reddit's: ``requests_per_window`` (1000) requests per client id in fixed
``window``-second (600) windows aligned to the clock, shared by every token of the client id,
shrunk by ``time_scale``. Every API answer, errors included, carries ``X-Ratelimit-Used``,
``-Remaining`` (a float) and ``-Reset`` (seconds until the window ends); past the limit the
answer is 429. Submissions and comments also count against a per-user action limit
(``action_limit`` per ``action_window`` seconds, default 8 per 600) that answers HTTP 200 with
a ``RATELIMIT`` error, as Reddit does.

Deliberate departures: search matches every word of ``q`` in title and text (no operators) and
orders ``relevance``/``hot`` by date; a search or mention scan looks at the newest
``scan_budget`` submissions (20 000); listings stop after ``listing_cap`` (1000) items, like
Reddit's; there is no websocket (an image or video post is processed at once and appears in
the author's submissions); the User-Agent is not policed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from socialgate.sandbox.emulator import Emulator, Reply
from socialgate.sandbox.faults import FAULT_SCOPE_KEY, NO_FAULT, FaultDecision

from . import sandbox_reads, sandbox_writes
from .sandbox_data import RedditDataset
from .sandbox_oauth import ACCESS_TTL, OAuthServer, Principal
from .sandbox_wire import status_body

if TYPE_CHECKING:
    from socialgate.sandbox.app import SandboxContext

__all__ = ["RedditEmulator", "create_emulator"]

Handler = Callable[["RedditEmulator", Request, dict[str, str], Principal], Awaitable[Reply]]

# (method, path regex, handler name, needs a user, OAuth scope)
_ROUTES: list[tuple[str, re.Pattern[str], str, bool, str]] = [
    (method, re.compile(pattern), name, user, scope)
    for method, pattern, name, user, scope in (
        ("GET", r"/api/v1/me", "me", True, "identity"),
        ("GET", r"/user/(?P<name>[^/]+)/about", "about", False, "read"),
        ("GET", r"/api/user_data_by_account_ids", "user_data", False, "read"),
        ("GET", r"/user/(?P<name>[^/]+)(?:/(?P<kind>submitted|comments|overview))?",
         "user_listing", False, "history"),
        ("GET", r"/api/info", "info", False, "read"),
        ("GET", r"/by_id/(?P<names>[^/]+)", "by_id", False, "read"),
        ("GET", r"(?:/r/(?P<sub>[^/]+))?/search", "search", False, "read"),
        ("GET", r"/r/(?P<sub>[^/]+)/new", "subreddit_new", False, "read"),
        ("GET", r"(?:/r/[^/]+)?/comments/(?P<id>[a-z0-9]+)(?:/[^/]*(?:/(?P<focus>[a-z0-9]+))?)?",
         "comments", False, "read"),
        ("GET", r"/api/morechildren", "morechildren", False, "read"),
        ("GET", r"/message/mentions", "mentions", True, "privatemessages"),
        ("POST", r"/api/submit", "submit", True, "submit"),
        ("POST", r"/api/submit_gallery_post", "gallery", True, "submit"),
        ("POST", r"/api/comment", "comment", True, "submit"),
        ("POST", r"/api/del", "delete", True, "edit"),
        ("POST", r"/api/media/asset", "asset", True, "submit"),
    )
]  # fmt: skip


def create_emulator(ctx: SandboxContext) -> RedditEmulator:
    return RedditEmulator(ctx)


class RedditEmulator(Emulator):
    """The ASGI app. ``data``, ``oauth`` and ``assets`` are public for tests."""

    content_type = "application/json; charset=UTF-8"
    json_separators = None  # Reddit spaces its JSON (", ", ": ")

    def route(self, path: str) -> str:
        return _canonical(path)

    def __init__(self, ctx: SandboxContext) -> None:
        options = ctx.options
        self.ctx = ctx
        self.clock = ctx.clock
        self.data = RedditDataset(ctx.seed, ctx.posts, ctx.users, ctx.anchor)
        self.oauth = OAuthServer(self.data, ctx.clock, float(options.get("access_ttl", ACCESS_TTL)))
        self.limit = int(options.get("requests_per_window", 1000))
        self.window = float(options.get("window", 600.0))
        self.action_limit = int(options.get("action_limit", 8))
        self.action_window = float(options.get("action_window", 600.0))
        self.listing_cap = int(options.get("listing_cap", 1000))
        self.scan_budget = int(options.get("scan_budget", 20_000))
        self.assets: dict[str, sandbox_writes.Asset] = {}
        self._windows: dict[str, list[int]] = {}
        # Scans of comments (mentions, a user's comments), keyed with the overlay's size.
        self.scans: dict[tuple[Any, ...], list[Any]] = {}
        self._actions: dict[int, list[float]] = {}

    async def handle(self, request: Request, method: str, path: str) -> Reply:
        if path == "/api/v1/authorize" and method == "GET":
            return self.oauth.authorize(dict(request.query_params))
        if path in ("/api/v1/access_token", "/api/v1/revoke_token") and method == "POST":
            form = {k: str(v) for k, v in (await request.form()).items()}
            auth = request.headers.get("authorization")
            if path.endswith("access_token"):
                return self.oauth.token(form, auth)
            return self.oauth.revoke(form, auth)
        if path.startswith("/_s3/") and method == "POST":
            return await sandbox_writes.storage(self, request, path[len("/_s3/") :])
        route = next(
            (
                (m, name, needs_user, oauth_scope)
                for meth, rx, name, needs_user, oauth_scope in _ROUTES
                if meth == method and (m := rx.fullmatch(path))
            ),
            None,
        )
        if route is None:
            return 404, {}, status_body(404)
        match, name, needs_user, oauth_scope = route
        principal = self.oauth.principal(request.headers.get("authorization"))
        if principal is None:
            challenge = 'Bearer realm="reddit", error="invalid_token"'
            return 401, {"www-authenticate": challenge}, status_body(401)
        fault: FaultDecision = request.scope.get(FAULT_SCOPE_KEY, NO_FAULT)
        if fault.storm:
            return 429, self._budget(principal.app, count=False)[1], status_body(429)
        allowed, headers = self._budget(principal.app)
        if not allowed:
            return 429, headers, status_body(429)
        if fault.error_status:
            return fault.error_status, headers, status_body(fault.error_status)
        if needs_user and principal.user is None:
            return 403, headers, status_body(403)
        if not principal.allows(oauth_scope):
            challenge = 'Bearer realm="reddit", error="insufficient_scope"'
            return 403, {**headers, "www-authenticate": challenge}, status_body(403)
        handler: Handler = getattr(sandbox_reads, name, None) or getattr(sandbox_writes, name)
        status, extra, body = await handler(self, request, match.groupdict(), principal)
        return status, {**headers, **extra}, body

    # -- limits --------------------------------------------------------------------------------

    def _budget(self, client_id: str, *, count: bool = True) -> tuple[bool, dict[str, str]]:
        """Count one request of ``client_id`` in the current aligned window."""
        now = self.clock.time()
        length = self.ctx.scaled(self.window)
        index = int(now // length)
        entry = self._windows.get(client_id)
        if entry is None or entry[0] != index:
            entry = self._windows[client_id] = [index, 0]
        allowed = entry[1] < self.limit
        if allowed and count:
            entry[1] += 1
        reset = max(math.ceil((index + 1) * length - now), 1)
        headers = {
            "x-ratelimit-used": str(entry[1]),
            "x-ratelimit-remaining": f"{float(max(self.limit - entry[1], 0)):.1f}",
            "x-ratelimit-reset": str(reset),
        }
        return allowed, headers

    def action_wait(self, user: int) -> float | None:
        """Seconds until ``user`` may act again, or ``None`` (and the action is counted)."""
        now = self.clock.time()
        length = self.ctx.scaled(self.action_window)
        recent = [t for t in self._actions.get(user, []) if t > now - length]
        if len(recent) >= self.action_limit:
            self._actions[user] = recent
            return recent[0] + length - now
        recent.append(now)
        self._actions[user] = recent
        return None


def _canonical(path: str) -> str:
    path = path.rstrip("/") or "/"
    return path[: -len(".json")] if path.endswith(".json") else path
