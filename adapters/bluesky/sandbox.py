"""The Bluesky (AT Protocol) emulator for ``socialgate.sandbox`` (mounted at ``/bluesky``).

It speaks XRPC as bsky.social does: ``/xrpc/<nsid>`` paths, query parameters (arrays
repeated), JSON bodies and ``{"error", "message"}`` errors, over a seeded dataset
(``sandbox_data``). The entry host also serves as PDS under ``/pds``: sessions' DID documents
name ``<root>/pds`` as the ``#atproto_pds`` endpoint, so clients that follow the DID document
(as they must) send their reads and writes there; ``pds_requests`` counts them.

Methods: ``com.atproto.server.createSession`` / ``refreshSession`` / ``getSession``
(``sandbox_auth``), ``com.atproto.identity.resolveHandle``, ``com.atproto.repo.createRecord`` /
``deleteRecord`` / ``getRecord`` / ``uploadBlob``, ``app.bsky.actor.getProfile`` /
``getProfiles``, ``app.bsky.graph.getFollowers``, ``app.bsky.feed.getAuthorFeed`` /
``getPosts`` / ``getPostThread`` / ``searchPosts`` and
``app.bsky.notification.listNotifications`` (mentions and replies).

Rate limits are bsky.social's: 3000 requests per 5 minutes per client address, createSession
30 per 5 minutes and 300 a day per account, repo writes 5000 points an hour and 35 000 a day
per DID (create 3, delete 1). Every answer carries ``RateLimit-Limit/Remaining/Reset`` (epoch
seconds) and ``RateLimit-Policy: <limit>;w=<window>`` of the tightest limit it counted
against; a refusal is 429 ``RateLimitExceeded`` with those headers and ``Retry-After``.

Deliberate departures: search and notifications scan at most ``scan_budget`` posts per call
(option, default 25 000); author feeds hold no reposts; refresh JWTs have no grace period.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from socialgate.sandbox.emulator import Emulator
from socialgate.sandbox.faults import FAULT_SCOPE_KEY, NO_FAULT, FaultDecision
from socialgate.sandbox.limits import WindowState

from .sandbox_auth import DEMO_PASSWORD, Principal, Reply, SessionServer, xrpc_error
from .sandbox_data import POST, BlobRec, BlueskyDataset, cid_for
from .sandbox_reads import Reads
from .spec import BUCKETS, WRITE_COST

if TYPE_CHECKING:
    from socialgate.sandbox.app import SandboxContext

__all__ = ["BlueskyEmulator", "create_emulator"]

GLOBAL_LIMIT, GLOBAL_WINDOW = 3000, 300.0
BLOB_MAX_BYTES = 50_000_000
MAX_GRAPHEMES = 300
MAX_TEXT_BYTES = 3000
_NSID = re.compile(r"(?:/pds)?/xrpc/([a-zA-Z0-9.-]+)")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

# nsid -> (HTTP method, handler, auth: "required" | "optional" | "none")
_ROUTES: dict[str, tuple[str, str, str]] = {
    "com.atproto.server.createSession": ("POST", "_create_session", "none"),
    "com.atproto.server.refreshSession": ("POST", "_refresh_session", "none"),
    "com.atproto.server.getSession": ("GET", "_get_session", "required"),
    "com.atproto.identity.resolveHandle": ("GET", "resolve_handle", "optional"),
    "com.atproto.repo.getRecord": ("GET", "get_record", "optional"),
    "com.atproto.repo.createRecord": ("POST", "_create_record", "required"),
    "com.atproto.repo.deleteRecord": ("POST", "_delete_record", "required"),
    "com.atproto.repo.uploadBlob": ("POST", "_upload_blob", "required"),
    "app.bsky.actor.getProfile": ("GET", "get_profile", "optional"),
    "app.bsky.actor.getProfiles": ("GET", "get_profiles", "optional"),
    "app.bsky.graph.getFollowers": ("GET", "get_followers", "optional"),
    "app.bsky.feed.getAuthorFeed": ("GET", "get_author_feed", "optional"),
    "app.bsky.feed.getPosts": ("GET", "get_posts", "optional"),
    "app.bsky.feed.getPostThread": ("GET", "get_post_thread", "optional"),
    "app.bsky.feed.searchPosts": ("GET", "search_posts", "required"),
    "app.bsky.notification.listNotifications": ("GET", "list_notifications", "required"),
}
_WRITES = {"_create_record": "create", "_delete_record": "delete"}


def create_emulator(ctx: SandboxContext) -> BlueskyEmulator:
    return BlueskyEmulator(ctx)


def _limit_of(name: str) -> tuple[int, float]:
    bucket = BUCKETS[name]
    assert bucket.user_limit is not None
    return bucket.user_limit, bucket.window


def _headers(state: WindowState, window: float) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(state.limit),
        "RateLimit-Remaining": str(state.remaining),
        "RateLimit-Reset": str(state.reset),
        "RateLimit-Policy": f"{state.limit};w={int(window)}",
    }


def graphemes(text: str) -> int:
    """Roughly Unicode's extended grapheme clusters: combining marks, variation selectors,
    zero-width joiners (and what they join) and skin tones extend the previous character."""
    count, joined = 0, False
    for char in text:
        extends = (
            unicodedata.category(char) in ("Mn", "Me")
            or 0xFE00 <= ord(char) <= 0xFE0F
            or 0x1F3FB <= ord(char) <= 0x1F3FF
            or char == "\u200d"
        )
        if not extends and not joined:
            count += 1
        joined = char == "\u200d"
    return count


class BlueskyEmulator(Emulator):
    """The ASGI app. ``data``, ``sessions`` and ``reads`` are public for tests, and so are
    ``pds_requests`` (calls that went to the PDS path) and ``entry_requests``."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self.clock = ctx.clock
        self.data = BlueskyDataset(ctx.seed, ctx.posts, ctx.users, ctx.anchor)
        options = ctx.options
        self.sessions = SessionServer(
            self.data,
            ctx.clock,
            password=str(options.get("password", DEMO_PASSWORD)),
            access_ttl=float(options.get("access_ttl", 7200.0)),
        )
        self.reads = Reads(self.data, int(options.get("scan_budget", 25_000)))
        self.pds_requests = 0
        self.entry_requests = 0

    def _pds_url(self, request: Request) -> str:
        return str(request.base_url).rstrip("/") + "/pds"

    # -- dispatch ------------------------------------------------------------------------------

    async def handle(self, request: Request, method: str, path: str) -> Reply:
        match = _NSID.fullmatch(path)
        route = _ROUTES.get(match.group(1)) if match else None
        if match is None or route is None:
            return xrpc_error(404, "MethodNotImplemented", "Method Not Implemented")
        if path.startswith("/pds/"):
            self.pds_requests += 1
        else:
            self.entry_requests += 1
        expected, name, auth = route
        limiter = self.ctx.limiter
        client = request.client.host if request.client else "unknown"
        fault: FaultDecision = request.scope.get(FAULT_SCOPE_KEY, NO_FAULT)
        global_key = ("bluesky", "global", client)
        if fault.storm:
            peeked = limiter.peek(global_key, GLOBAL_LIMIT, GLOBAL_WINDOW)
            spent = WindowState(peeked.limit, 0, peeked.reset, False, peeked.limit)
            return self._too_many(spent, GLOBAL_WINDOW)
        state = limiter.hit(global_key, GLOBAL_LIMIT, GLOBAL_WINDOW)
        if not state.allowed:
            return self._too_many(state, GLOBAL_WINDOW)
        counted = [(state, GLOBAL_WINDOW)]
        if method != expected:
            return self._with(
                counted,
                xrpc_error(
                    400, "InvalidRequest", f"Incorrect HTTP method ({method}) expected {expected}"
                ),
            )
        if fault.error_status:
            return self._with(
                counted, xrpc_error(fault.error_status, "InternalServerError", "Internal Error")
            )
        who: Principal | None = None
        authorization = request.headers.get("authorization")
        if auth == "required" or (auth == "optional" and authorization):
            checked = self.sessions.principal(authorization)
            if not isinstance(checked, Principal):
                return self._with(counted, checked)
            who = checked
        if name in _WRITES:
            assert who is not None
            refused = self._points(who, WRITE_COST[_WRITES[name]], counted)
            if refused is not None:
                return refused
        if name == "_create_session":
            body = await _json_body(request)
            refused = self._session_quota(body, counted)
            if refused is not None:
                return refused
            reply = self.sessions.create(body, self._pds_url(request))
        elif name.startswith("_"):
            handler: Callable[..., Any] = getattr(self, name)
            reply = await handler(request, who)
        else:
            params = {k: request.query_params.getlist(k) for k in request.query_params}
            reply = self.reads.dispatch(name, params, who)
        return self._with(counted, reply)

    # -- rate limits ---------------------------------------------------------------------------

    @staticmethod
    def _with(counted: list[tuple[WindowState, float]], reply: Reply) -> Reply:
        """The reply with the headers of the tightest limit it counted against."""
        state, window = min(counted, key=lambda item: item[0].remaining)
        status, headers, body = reply
        return status, {**_headers(state, window), **headers}, body

    def _too_many(self, state: WindowState, window: float) -> Reply:
        headers = _headers(state, window)
        headers["Retry-After"] = str(max(state.reset - int(self.clock.time()), 0))
        return 429, headers, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}

    def _points(
        self, who: Principal, cost: int, counted: list[tuple[WindowState, float]]
    ) -> Reply | None:
        limiter = self.ctx.limiter
        for name in ("repo.write.hour", "repo.write.day"):
            limit, window = _limit_of(name)
            state = limiter.hit(("bluesky", name, who.did), limit, window, cost)
            if not state.allowed:
                return self._too_many(state, window)
            counted.append((state, window))
        return None

    def _session_quota(self, body: Any, counted: list[tuple[WindowState, float]]) -> Reply | None:
        identifier = body.get("identifier") if isinstance(body, dict) else None
        user = self.sessions.login(identifier)
        who = user.did if user is not None else str(identifier).lower()
        for name in ("session.create", "session.create.day"):
            limit, window = _limit_of(name)
            state = self.ctx.limiter.hit(("bluesky", name, who), limit, window)
            if not state.allowed:
                return self._too_many(state, window)
            counted.append((state, window))
        return None

    # -- sessions ------------------------------------------------------------------------------

    async def _refresh_session(self, request: Request, who: Principal | None) -> Reply:
        return self.sessions.refresh(request.headers.get("authorization"), self._pds_url(request))

    async def _get_session(self, request: Request, who: Principal | None) -> Reply:
        assert who is not None
        return self.sessions.get_session(who, self._pds_url(request))

    # -- repo writes ---------------------------------------------------------------------------

    def _commit(self) -> dict[str, str]:
        rev, _ = self.data.next_tid(int(self.clock.time() * 1_000_000))
        return {"cid": cid_for(f"commit|{rev}".encode()), "rev": rev}

    async def _create_record(self, request: Request, who: Principal | None) -> Reply:
        assert who is not None
        body = await _json_body(request)
        if not isinstance(body, dict):
            return xrpc_error(400, "InvalidRequest", "Request body must be a JSON object")
        for key in ("repo", "collection", "record"):
            if key not in body:
                return xrpc_error(400, "InvalidRequest", f'Input must have the property "{key}"')
        if self.data.actor(str(body["repo"])) is not who.user:
            return xrpc_error(400, "InvalidRequest", f"Could not find repo: {body['repo']}")
        if body["collection"] != POST:
            return xrpc_error(400, "InvalidRequest", f"This sandbox only stores {POST} records")
        record = body["record"]
        problem = self._check_post(record, who)
        if problem is not None:
            return xrpc_error(400, "InvalidRequest", f"Invalid {POST} record: {problem}")
        rec = self.data.add_post(who.user.index, record, int(self.clock.time() * 1_000_000))
        self.ctx.record_write("posts.create")
        return (
            200,
            {},
            {
                "uri": rec.uri,
                "cid": rec.cid,
                "commit": self._commit(),
                "validationStatus": "valid",
            },
        )

    def _check_post(self, record: Any, who: Principal) -> str | None:
        """The first lexicon violation of an app.bsky.feed.post record, worded like the PDS."""
        if not isinstance(record, dict) or record.get("$type") != POST:
            return f"Record/$type must be {POST}"
        text = record.get("text")
        if not isinstance(text, str):
            return 'Record must have the property "text"'
        if len(text.encode()) > MAX_TEXT_BYTES:
            return f"Record/text must not be longer than {MAX_TEXT_BYTES} characters"
        if graphemes(text) > MAX_GRAPHEMES:
            return f"Record/text must not be longer than {MAX_GRAPHEMES} graphemes"
        created = record.get("createdAt")
        if not isinstance(created, str) or not _DATETIME.match(created):
            return "Record/createdAt must be an valid atproto datetime (both RFC-3339 and ISO-8601)"
        langs = record.get("langs", [])
        if not isinstance(langs, list) or len(langs) > 3:
            return "Record/langs must not have more than 3 elements"
        for i, facet in enumerate(record.get("facets") or []):
            index = facet.get("index") if isinstance(facet, dict) else None
            if not isinstance(index, dict) or not all(
                isinstance(index.get(k), int) and index[k] >= 0 for k in ("byteStart", "byteEnd")
            ):
                return f"Record/facets/{i}/index must have byteStart and byteEnd >= 0"
            if not isinstance(facet.get("features"), list) or not facet["features"]:
                return f'Record/facets/{i} must have the property "features"'
        reply = record.get("reply")
        if reply is not None:
            for part in ("root", "parent"):
                ref = reply.get(part) if isinstance(reply, dict) else None
                if not isinstance(ref, dict) or not all(
                    isinstance(ref.get(k), str) for k in ("uri", "cid")
                ):
                    return f"Record/reply/{part} must be a strong ref (uri and cid)"
        embed = record.get("embed")
        if embed is not None:
            return self._check_embed(embed, who)
        return None

    def _check_embed(self, embed: Any, who: Principal) -> str | None:
        kind = embed.get("$type") if isinstance(embed, dict) else None
        if kind == "app.bsky.embed.recordWithMedia":
            return self._check_embed(embed.get("record"), who) or self._check_embed(
                embed.get("media"), who
            )
        if kind == "app.bsky.embed.record":
            ref = embed.get("record")
            if not isinstance(ref, dict) or not isinstance(ref.get("uri"), str):
                return "Record/embed/record must be a strong ref (uri and cid)"
            return None
        if kind == "app.bsky.embed.images":
            images = embed.get("images")
            if not isinstance(images, list) or not 1 <= len(images) <= 4:
                return "Record/embed/images must have between 1 and 4 elements"
            for i, image in enumerate(images):
                if not isinstance(image, dict) or not isinstance(image.get("alt"), str):
                    return f'Record/embed/images/{i} must have the property "alt"'
                blob = image.get("image")
                link = (blob.get("ref") or {}).get("$link") if isinstance(blob, dict) else None
                known = self.data.overlay.blobs.get(str(link))
                if known is None or known.owner != who.user.index:
                    return f"Could not find blob: {link}"
                if not known.mime.startswith("image/"):
                    return f"Record/embed/images/{i}/image has a mime type not accepted: image/*"
            return None
        return f"Record/embed has an unsupported $type {kind!r}"

    async def _delete_record(self, request: Request, who: Principal | None) -> Reply:
        assert who is not None
        body = await _json_body(request)
        if not isinstance(body, dict) or not all(
            isinstance(body.get(k), str) for k in ("repo", "collection", "rkey")
        ):
            return xrpc_error(400, "InvalidRequest", 'Input must have "repo", "collection", "rkey"')
        if self.data.actor(body["repo"]) is not who.user:
            return xrpc_error(400, "InvalidRequest", f"Could not find repo: {body['repo']}")
        uri = f"at://{who.did}/{body['collection']}/{body['rkey']}"
        if not self.data.delete(uri):
            return 200, {}, {}  # "or ensure it doesn't exist": nothing to commit
        self.ctx.record_write("posts.delete")
        return 200, {}, {"commit": self._commit()}

    async def _upload_blob(self, request: Request, who: Principal | None) -> Reply:
        assert who is not None
        data = await request.body()
        mime = request.headers.get("content-type", "").split(";", 1)[0].strip()
        if not data:
            return xrpc_error(400, "InvalidRequest", "Request body is empty")
        if len(data) > BLOB_MAX_BYTES:
            return xrpc_error(400, "BlobTooLarge", f"This file is too large. Max {BLOB_MAX_BYTES}")
        cid = cid_for(data, 0x55)
        mime = mime or "application/octet-stream"
        self.data.overlay.blobs[cid] = BlobRec(who.user.index, mime, len(data))
        self.ctx.record_write("media.upload")
        blob = {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": len(data)}
        return 200, {}, {"blob": blob}


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError:
        return None
