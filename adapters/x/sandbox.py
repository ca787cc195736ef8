"""The X API v2 emulator for ``socialgate.sandbox`` (mounted at ``/x``).

It speaks X's real wire format (paths, parameters, JSON shapes, headers, errors) over a
seeded dataset (``sandbox_data``): users, timelines, mentions, followers, recent search with
``from:``, ``conversation_id:``, ``is:``/``has:``/``lang:`` operators, words, quoted phrases and
negation (``OR`` and parentheses are not emulated and answer 400), tweet lookup, create and
delete, media upload v2, and OAuth 2.0 with PKCE and rotating refresh tokens
(``sandbox_oauth``). Field selection and expansions are in ``sandbox_wire``.

Rate limits are X's: fixed 15-minute windows per endpoint bucket, counted per user and app
(user context) or per app (app-only), with the numbers of ``adapters/x/spec.py``. Every API
answer, errors included, carries ``x-rate-limit-limit/remaining/reset``; ``POST /2/tweets``
also carries X's 24-hour app and user limits. The OAuth endpoints carry none.

Deliberate departures from X: a scan of the seeded posts stops after ``scan_budget`` posts
(option, default 25 000) and answers with what it found and a ``next_token``, where X would
search an index; timelines are not capped at X's 3 200 (800 for mentions) newest posts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from socialgate.sandbox.data import CursorCodec
from socialgate.sandbox.emulator import Emulator, Reply
from socialgate.sandbox.faults import FAULT_SCOPE_KEY, NO_FAULT, FaultDecision

from . import sandbox_posts
from .sandbox_data import PostRec, XDataset
from .sandbox_media import MediaUploads
from .sandbox_oauth import OAuthServer, Principal
from .sandbox_wire import PROBLEMS, invalid_request, problem
from .spec import BUCKETS, SPEC

if TYPE_CHECKING:
    from socialgate.sandbox.app import SandboxContext

__all__ = ["APP_DAILY_POSTS", "USER_DAILY_POSTS", "XEmulator", "create_emulator"]

# X's 24-hour posting limits (x-app-limit-24hour-*, x-user-limit-24hour-*); spec.py has no
# daily buckets yet. 10 000 per app is documented; 2 400 per user is X's account limit.
APP_DAILY_POSTS = 10_000
USER_DAILY_POSTS = 2_400
_DAY = 86_400.0
# For buckets spec.py leaves to the headers (media upload): X's published per-user figure.
_FALLBACK_LIMIT = 500
_USER_ONLY = (
    "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  "
    "Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User "
    "Context]."
)
_CREATE_KEYS = frozenset({
    "text", "media", "reply", "quote_tweet_id", "reply_settings", "poll", "geo", "card_uri",
    "community_id", "direct_message_deep_link", "for_super_followers_only", "nullcast",
    "share_with_followers", "made_with_ai", "paid_partnership", "edit_options",
})  # fmt: skip
Handler = Callable[["XEmulator", Request, dict[str, str], Principal], Awaitable[Reply]]

_ROUTES: list[tuple[str, re.Pattern[str], str, bool]] = [
    (method, re.compile(pattern), name, user_only)
    for method, pattern, name, user_only in (
        ("GET", r"/2/users/me", "me", True),
        ("GET", r"/2/users/by/username/(?P<username>[^/]*)", "user_by_username", False),
        ("GET", r"/2/users/(?P<id>[^/]+)/followers", "followers", False),
        ("GET", r"/2/users/(?P<id>[^/]+)/tweets", "user_tweets", False),
        ("GET", r"/2/users/(?P<id>[^/]+)/mentions", "mentions", False),
        ("GET", r"/2/users/(?P<id>[^/]+)", "user", False),
        ("GET", r"/2/tweets/search/recent", "search", False),
        ("GET", r"/2/tweets/(?P<id>[^/]+)", "tweet", False),
        ("GET", r"/2/tweets", "tweets", False),
        ("POST", r"/2/tweets", "create", True),
        ("DELETE", r"/2/tweets/(?P<id>[^/]+)", "delete", True),
        ("POST", r"/2/media/upload/initialize", "media_init", True),
        ("POST", r"/2/media/upload/(?P<id>[^/]+)/append", "media_append", True),
        ("POST", r"/2/media/upload/(?P<id>[^/]+)/finalize", "media_finalize", True),
        ("GET", r"/2/media/upload", "media_status", True),
        ("POST", r"/2/media/metadata", "media_metadata", True),
    )
]


def create_emulator(ctx: SandboxContext) -> XEmulator:
    return XEmulator(ctx)


class XEmulator(Emulator):
    """The ASGI app. ``data`` (the dataset and its overlay), ``oauth`` and ``uploads`` are
    public for tests."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.clock = ctx.clock
        self.data = XDataset(ctx.seed, ctx.posts, ctx.users, ctx.anchor)
        self.oauth = OAuthServer(self.data, ctx.clock)
        self.uploads = MediaUploads(self.data, ctx.clock)
        self.codec = CursorCodec(ctx.seed)
        self.scan_budget = int(ctx.options.get("scan_budget", 25_000))

    async def handle(self, request: Request, method: str, path: str) -> Reply:
        if path == "/i/oauth2/authorize" and method == "GET":
            return self.oauth.authorize(dict(request.query_params))
        if path in ("/2/oauth2/token", "/2/oauth2/revoke") and method == "POST":
            form = {k: str(v) for k, v in (await request.form()).items()}
            auth = request.headers.get("authorization")
            if path.endswith("token"):
                return self.oauth.token(form, auth)
            return self.oauth.revoke(form, auth)
        route = next(
            (
                (m, name, user_only)
                for meth, rx, name, user_only in _ROUTES
                if meth == method and (m := rx.fullmatch(path))
            ),
            None,
        )
        if route is None:
            return 404, {}, problem(404, "Not Found Error", f"{method} {path} is not an endpoint")
        match, name, user_only = route
        bucket = SPEC.bucket_for(method, path)
        principal = self.oauth.principal(request.headers.get("authorization"))
        fault: FaultDecision = request.scope.get(FAULT_SCOPE_KEY, NO_FAULT)
        if principal is None:
            limit, window = self._limit(bucket, app_only=True)
            state = self.ctx.limiter.peek(("x", bucket, "unauthenticated"), limit, window)
            return 401, state.headers(), problem(401, "Unauthorized")
        limit, window = self._limit(bucket, principal.app_only)
        key = ("x", bucket, principal.limit_key)
        limiter = self.ctx.limiter
        if fault.storm:
            return 429, limiter.peek(key, limit, window).headers(), _too_many()
        state = limiter.hit(key, limit, window)
        headers = state.headers()
        if not state.allowed:
            return 429, headers, _too_many()
        if name == "create" and principal.user is not None:
            refused = self._daily(principal, headers)
            if refused:
                return 429, headers, _too_many()
        if fault.error_status:
            status = fault.error_status
            title = {
                500: "Internal Server Error",
                502: "Bad Gateway",
                503: "Service Unavailable",
                504: "Gateway Timeout",
            }.get(status, "Server Error")
            return status, headers, problem(status, title)
        if user_only and principal.user is None:
            body = {
                "title": "Unsupported Authentication",
                "detail": _USER_ONLY,
                "type": PROBLEMS + "unsupported-authentication",
                "status": 403,
            }
            return 403, headers, body
        handler: Handler = getattr(sandbox_posts, name, None) or getattr(XEmulator, "_" + name)
        status, extra, body = await handler(self, request, match.groupdict(), principal)
        return status, {**headers, **extra}, body

    # -- rate limits -------------------------------------------------------------------------

    @staticmethod
    def _limit(bucket: str, app_only: bool) -> tuple[int, float]:
        spec = BUCKETS.get(bucket)
        if spec is None:
            return _FALLBACK_LIMIT, 900.0
        return spec.limit_for(app_only) or _FALLBACK_LIMIT, spec.window

    def _daily(self, principal: Principal, headers: dict[str, str]) -> bool:
        """Count a post against X's 24-hour limits; ``True`` when one of them is spent."""
        limiter = self.ctx.limiter
        app = limiter.hit(("x", "tweets.create.24h", f"app:{principal.app}"), APP_DAILY_POSTS, _DAY)
        user = limiter.hit(
            ("x", "tweets.create.24h", f"user:{principal.user}"), USER_DAILY_POSTS, _DAY
        )
        headers.update(app.headers("x-app-limit-24hour-"))
        headers.update(user.headers("x-user-limit-24hour-"))
        return not (app.allowed and user.allowed)

    # -- create --------------------------------------------------------------------------------

    async def _create(self, request: Request, path: dict[str, str], who: Principal) -> Reply:
        assert who.user is not None
        body = await _json_body(request)
        if not isinstance(body, dict):
            return 400, {}, invalid_request([{"message": "Request body is not valid JSON"}])
        errors = [
            {
                "message": f"$.{key}: is not defined in the schema and the schema does not allow "
                "additional properties"
            }
            for key in sorted(set(body) - _CREATE_KEYS)
        ]
        text = body.get("text", "")
        media_ids = (body.get("media") or {}).get("media_ids", [])
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if not isinstance(text, str):
            errors.append({"message": f"$.text: {type(text).__name__} found, string expected"})
        if not isinstance(media_ids, list) or len(media_ids) > 4:
            errors.append({"message": "$.media.media_ids: must be a list of at most 4 ids"})
        if not errors and not text and not media_ids:
            errors.append({"message": "Post text and media cannot both be empty."})
        if not errors and len(text) > 280:
            errors.append({"message": "$.text: the text is longer than 280 characters."})
        if errors:
            return 400, {}, invalid_request(errors)
        parent = None
        if reply_to is not None:
            parent = self.data.get_post(int(reply_to)) if str(reply_to).isdigit() else None
            if parent is None:
                detail = "You attempted to reply to a Tweet that is deleted or not visible to you."
                return 403, {}, problem(403, "Forbidden", detail)
        media = [self.uploads.usable(str(m), who.user) for m in media_ids]
        if any(m is None for m in media):
            return 400, {}, invalid_request([{"message": "Your media IDs are invalid."}])
        mine = (p for p in self.data.overlay.posts.values() if p.author == who.user)
        if text and any(p.text == text for p in mine):
            detail = "You are not allowed to create a Tweet with duplicate content."
            return 403, {}, problem(403, "Forbidden", detail)
        num = self.data.next_post_num()
        mentions = tuple(
            (rec.index, m.start(), m.end())
            for m in re.finditer(r"@(\w{1,15})", text)
            if (rec := self.data.user_by_username(m.group(1))) is not None
        )
        hashtags = tuple((m.group(1), m.start(), m.end()) for m in re.finditer(r"#(\w+)", text))
        self.data.add_post(
            PostRec(
                num=num,
                author=who.user,
                text=text,
                created_at=float(int(self.clock.time())),
                conversation=parent.conversation if parent else num,
                reply_to=parent.num if parent else None,
                reply_to_user=parent.author if parent else None,
                mentions=mentions,
                hashtags=hashtags,
                media_keys=tuple(m.key for m in media if m is not None),
            )
        )
        self.ctx.record_write("posts.create")
        location = f"{str(request.base_url).rstrip('/')}/2/tweets/{num}"
        data = {"id": str(num), "text": text, "edit_history_tweet_ids": [str(num)]}
        return 201, {"location": location}, {"data": data}

    # -- media -------------------------------------------------------------------------------

    async def _media_init(self, request: Request, path: dict[str, str], who: Principal) -> Reply:
        assert who.user is not None
        return self.uploads.initialize(who.user, await _json_body(request))

    async def _media_append(self, request: Request, path: dict[str, str], who: Principal) -> Reply:
        assert who.user is not None
        form = await request.form()
        part = form.get("media")
        chunk: bytes | None
        if part is None or isinstance(part, str):
            chunk = part.encode() if isinstance(part, str) else None
        else:
            chunk = await part.read()
        segment = form.get("segment_index")
        result = self.uploads.append(
            who.user, path["id"], segment if isinstance(segment, str) else None, chunk
        )
        await form.close()
        return result

    async def _media_finalize(
        self, request: Request, path: dict[str, str], who: Principal
    ) -> Reply:
        assert who.user is not None
        reply = self.uploads.finalize(who.user, path["id"])
        if reply[0] == 200:
            self.ctx.record_write("media.upload")
        return reply

    async def _media_status(self, request: Request, path: dict[str, str], who: Principal) -> Reply:
        assert who.user is not None
        query = request.query_params
        return self.uploads.status(who.user, query.get("media_id"), query.get("command"))

    async def _media_metadata(
        self, request: Request, path: dict[str, str], who: Principal
    ) -> Reply:
        assert who.user is not None
        return self.uploads.metadata(who.user, await _json_body(request))


def _too_many() -> dict[str, Any]:
    return problem(429, "Too Many Requests")


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError:
        return None
