"""The Bluesky sandbox's read endpoints: profiles, graph, feeds, threads, search, notifications.

Each takes the query parameters (lists, as XRPC repeats array parameters) and the caller and
returns ``(status, headers, body)``; a parameter the lexicon would reject answers 400
``InvalidRequest`` with the message the XRPC server uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .sandbox_auth import Principal, Reply, xrpc_error
from .sandbox_data import BlueskyDataset, PostRec, UserRec, iso_micros, tid, tid_micros
from .sandbox_views import Views

__all__ = ["Reads"]

Params = Mapping[str, list[str]]
_FILTERS = frozenset(
    {
        "posts_with_replies",
        "posts_no_replies",
        "posts_with_media",
        "posts_and_author_threads",
        "posts_with_video",
    }
)


def _one(params: Params, name: str) -> str | None:
    values = params.get(name)
    return values[-1] if values else None


def _epoch(value: str) -> float | None:
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text if "T" in text else text + "T00:00:00+00:00")
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


class _Invalid(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _required(params: Params, name: str) -> str:
    value = _one(params, name)
    if not value:
        raise _Invalid(f'Error: Params must have the property "{name}"')
    return value


def _limit(params: Params, default: int = 50, maximum: int = 100) -> int:
    raw = _one(params, "limit")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _Invalid("Error: limit must be an integer") from None
    if value < 1:
        raise _Invalid("Error: limit can not be less than 1")
    if value > maximum:
        raise _Invalid(f"Error: limit can not be greater than {maximum}")
    return value


class Reads:
    """The read endpoints. Each takes the query parameters (lists, as XRPC repeats array
    parameters) and the caller (``None`` when unauthenticated) and returns a reply."""

    def __init__(self, data: BlueskyDataset, scan_budget: int) -> None:
        self.data = data
        self.views = Views(data)
        self.scan_budget = scan_budget

    def dispatch(self, name: str, params: Params, who: Principal | None) -> Reply:
        try:
            result: Reply = getattr(self, name)(params, who)
        except _Invalid as invalid:
            return xrpc_error(400, "InvalidRequest", invalid.message)
        except ValueError as exc:  # a parameter that is not the type the lexicon says
            return xrpc_error(400, "InvalidRequest", f"Error: {exc}")
        return result

    def _actor(self, params: Params, name: str = "actor") -> UserRec:
        value = _required(params, name)
        user = self.data.actor(value)
        if user is None:
            raise _Invalid("Profile not found")
        return user

    # -- profiles and graph --------------------------------------------------------------------

    def get_profile(self, params: Params, who: Principal | None) -> Reply:
        return 200, {}, self.views.profile_detailed(self._actor(params))

    def get_profiles(self, params: Params, who: Principal | None) -> Reply:
        actors = params.get("actors") or []
        if not actors:
            raise _Invalid('Error: Params must have the property "actors"')
        if len(actors) > 25:
            raise _Invalid("Error: actors must not have more than 25 elements")
        users = [u for a in actors if (u := self.data.actor(a)) is not None]
        return 200, {}, {"profiles": [self.views.profile_detailed(u) for u in users]}

    def resolve_handle(self, params: Params, who: Principal | None) -> Reply:
        user = self.data.actor(_required(params, "handle"))
        if user is None or user.handle != _required(params, "handle").lower():
            raise _Invalid("Unable to resolve handle")
        return 200, {}, {"did": user.did}

    def get_followers(self, params: Params, who: Principal | None) -> Reply:
        user, limit = self._actor(params), _limit(params)
        below = self.data.n_users
        cursor = _one(params, "cursor")
        if cursor:
            decoded = tid_micros(cursor)
            if decoded is None:
                raise _Invalid("Malformed cursor")
            below = decoded[0]
        found = []
        for v in self.data.followers_desc(user.index, below):
            found.append(v)
            if len(found) > limit:
                break
        body: dict[str, Any] = {
            "subject": self.views.profile(user),
            "followers": [self.views.profile(self.data.user(v)) for v in found[:limit]],
        }
        if len(found) > limit:
            body["cursor"] = tid(found[limit - 1], 0)
        return 200, {}, body

    # -- feeds ---------------------------------------------------------------------------------

    def _before(self, params: Params) -> int | None:
        cursor = _one(params, "cursor")
        if not cursor:
            return None
        moment = _epoch(cursor)
        if moment is None:
            raise _Invalid("Malformed cursor")
        return round(moment * 1_000_000)

    def get_author_feed(self, params: Params, who: Principal | None) -> Reply:
        user, limit = self._actor(params), _limit(params)
        kind = _one(params, "filter") or "posts_with_replies"
        if kind not in _FILTERS:
            raise _Invalid(f"Error: filter must be one of {sorted(_FILTERS)}")
        items: list[PostRec] = []
        more = False
        for rec in self.data.author_feed(user.index, self._before(params)):
            if not self._passes(rec, kind, user):
                continue
            if len(items) == limit:
                more = True
                break
            items.append(rec)
        body: dict[str, Any] = {"feed": [self.views.feed_item(r) for r in items]}
        if more:
            body["cursor"] = iso_micros(items[-1].at_us, 6)
        return 200, {}, body

    def _passes(self, rec: PostRec, kind: str, user: UserRec) -> bool:
        if kind == "posts_no_replies":
            return rec.parent is None
        if kind == "posts_with_media":
            embed = rec.record.get("embed") or {}
            return embed.get("$type") in ("app.bsky.embed.images", "app.bsky.embed.recordWithMedia")
        if kind == "posts_with_video":
            return False
        if kind == "posts_and_author_threads":
            root = self.data.get(rec.root) if rec.root else None
            return rec.parent is None or (root is not None and root.author == user.index)
        return True

    def get_posts(self, params: Params, who: Principal | None) -> Reply:
        uris = params.get("uris") or []
        if not uris:
            raise _Invalid('Error: Params must have the property "uris"')
        if len(uris) > 25:
            raise _Invalid("Error: uris must not have more than 25 elements")
        found = [rec for u in uris if (rec := self.data.get(u)) is not None]
        return 200, {}, {"posts": [self.views.post_view(rec) for rec in found]}

    def get_post_thread(self, params: Params, who: Principal | None) -> Reply:
        uri = _required(params, "uri")
        depth = int(_one(params, "depth") or 6)
        height = int(_one(params, "parentHeight") or 80)
        if not 0 <= depth <= 1000 or not 0 <= height <= 1000:
            raise _Invalid("Error: depth and parentHeight must be between 0 and 1000")
        rec = self.data.get(uri)
        if rec is None:
            return xrpc_error(400, "NotFound", f"Post not found: {uri}")
        return 200, {}, {"thread": self.views.thread(rec, depth, height)}

    def get_record(self, params: Params, who: Principal | None) -> Reply:
        repo = self._actor(params, "repo")
        collection, rkey = _required(params, "collection"), _required(params, "rkey")
        rec = self.data.get(f"at://{repo.did}/{collection}/{rkey}")
        if rec is None:
            uri = f"at://{repo.did}/{collection}/{rkey}"
            return xrpc_error(400, "RecordNotFound", f"Could not locate record: {uri}")
        return 200, {}, {"uri": rec.uri, "cid": rec.cid, "value": rec.record}

    # -- search and notifications --------------------------------------------------------------

    def search_posts(self, params: Params, who: Principal | None) -> Reply:
        query, limit = _required(params, "q"), _limit(params, default=25)
        words: list[str] = []
        author = _one(params, "author")
        for token in query.lower().split():
            if token.startswith("from:"):
                author = token[5:].removeprefix("@")
            else:
                words.append(token)
        author_user = self.data.actor(author) if author else None
        if author and author_user is None:
            return 200, {}, {"posts": []}
        since = _epoch(_one(params, "since") or "") if _one(params, "since") else None
        until = _epoch(_one(params, "until") or "") if _one(params, "until") else None
        lang = _one(params, "lang")
        start = 0
        cursor = _one(params, "cursor")
        if cursor:
            if not cursor.isdigit():
                raise _Invalid("Malformed cursor")
            start = int(cursor)
        hits: list[PostRec] = []
        next_pos: int | None = None
        for pos, rec in self.data.everything(start):
            if pos - start >= self.scan_budget:
                next_pos = pos
                break
            at = rec.at_us / 1_000_000
            if (since is not None and at < since) or (until is not None and at >= until):
                continue
            if author_user is not None and rec.author != author_user.index:
                continue
            if lang and lang not in (rec.record.get("langs") or []):
                continue
            text = str(rec.record.get("text", "")).lower()
            if not all(w in text for w in words):
                continue
            if len(hits) == limit:
                next_pos = pos
                break
            hits.append(rec)
        body: dict[str, Any] = {"posts": [self.views.post_view(r) for r in hits]}
        if next_pos is not None:
            body["cursor"] = str(next_pos)
        return 200, {}, body

    def list_notifications(self, params: Params, who: Principal | None) -> Reply:
        assert who is not None
        limit = _limit(params)
        reasons = set(params.get("reasons") or [])
        before = self._before(params)
        me = who.user.index
        found: list[tuple[PostRec, str]] = []
        more = False
        for scanned, (_, rec) in enumerate(self.data.everything(0)):
            if scanned >= self.scan_budget:
                break
            if before is not None and rec.at_us >= before:
                continue
            if rec.author == me:
                continue
            reason = None
            if me in rec.mentions:
                reason = "mention"
            elif rec.parent:
                parent = self.data.get(rec.parent)
                if parent is not None and parent.author == me:
                    reason = "reply"
            if reason is None or (reasons and reason not in reasons):
                continue
            if len(found) == limit:
                more = True
                break
            found.append((rec, reason))
        body: dict[str, Any] = {
            "notifications": [self.views.notification(r, why) for r, why in found],
            "priority": False,
            "seenAt": iso_micros(self.data.anchor_us),
        }
        if more:
            body["cursor"] = iso_micros(found[-1][0].at_us, 6)
        return 200, {}, body
