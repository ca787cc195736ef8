"""The Reddit adapter: which endpoint answers each contract call, and how to read it.

Every request asks for ``raw_json=1`` so that text comes back as written, not HTML-escaped.
Listings page with ``after``/``before`` fullnames (``listing.Listing``); comment trees are
flattened depth-first, with the comments Reddit hid behind ``more`` stubs fetched in later
pages (``listing.CommentTree``). Writes answer HTTP 200 with errors in the body; those go
through ``Account.body_error`` (``RATELIMIT`` becomes ``RateLimited``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from socialgate._adapter import Adapter
from socialgate._errors import BadRequest, NotFound, NotSupported, UpstreamSchemaError
from socialgate._models import Draft, Media, Post, Profile
from socialgate._pagination import NewestFirst, PageQuery, PageRequest, PaginationStyle

from . import mapping, media
from .auth import Grant, user_agent_for
from .listing import CommentTree, Listing, created_times, tree_things
from .spec import SPEC, api_error_info

if TYPE_CHECKING:
    from socialgate._account import Account

__all__ = ["RedditAdapter"]

RAW = {"raw_json": 1}
PAGE_SIZE = 100
TREE_LIMIT = 500
# Options of POST /api/submit (and /api/comment) a Draft may carry.
CREATE_OPTIONS = frozenset(
    {
        "subreddit",
        "title",
        "url",
        "nsfw",
        "spoiler",
        "flair_id",
        "flair_text",
        "sendreplies",
        "resubmit",
        "video_kind",
        "media_timeout",
    }
)
# ``t`` values of Reddit search, narrowest first, with the seconds each one covers.
_WINDOWS = (("hour", 3600), ("day", 86_400), ("week", 604_800), ("month", 2_678_400),
            ("year", 31_622_400))  # fmt: skip
_WINDOW_SLACK = 600.0
_WHY = {
    "profiles.followers()": (
        "Reddit's API lists no user's followers (only a count, on the profile); "
        "/api/v1/me/friends covers the caller's own friends only"
    ),
}


def _fullname(value: str, default_kind: str = "t3") -> str:
    text = value.strip()
    if len(text) > 3 and text[0] == "t" and text[1].isdigit() and text[2] == "_":
        return text
    return f"{default_kind}_{text}"


def _user_name(value: str) -> str:
    text = value.strip()
    for prefix in ("/u/", "u/", "/user/", "user/", "@"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
    return text.strip("/")


def _epoch(value: datetime | None) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise BadRequest("since/until must be timezone-aware datetimes", network=SPEC.name)
    return value.astimezone(UTC).timestamp()


def _window_filter(
    since: datetime | None, until: datetime | None
) -> Callable[[Any, httpx.Response], list[Post]]:
    low, high = _epoch(since), _epoch(until)

    def parse(body: Any, response: httpx.Response) -> list[Post]:
        posts = mapping.posts_from_listing(body)
        if low is None and high is None:
            return posts
        kept = []
        for post in posts:
            when = post.created_at.timestamp() if post.created_at else None
            if when is not None and low is not None and when < low:
                continue
            if when is not None and high is not None and when >= high:
                continue
            kept.append(post)
        return kept

    return parse


class RedditAdapter(Adapter):
    spec = SPEC

    def __init__(self, account: Account) -> None:
        super().__init__(account)
        self.user_agent = user_agent_for(account.client, account.app, account.base_url)
        self._me: Profile | None = None

    def unsupported(self, what: str, why: str = "") -> NotSupported:
        return super().unsupported(what, why or _WHY.get(what, ""))

    def headers(self) -> dict[str, str]:
        return {"User-Agent": self.user_agent}

    def renew_with(self, grant: Grant) -> None:
        """Renew this account's token by running ``grant`` again (script and app-only tokens,
        which carry no refresh token); see ``socialgate.adapters.reddit.script_account``."""
        manager = self.account.token_manager
        if manager is not None:
            manager.renew_with(grant)

    # -- profiles ----------------------------------------------------------------------------

    async def me(self) -> Profile:
        body = await self.account.call_json("GET", "/api/v1/me", params=RAW)
        if not isinstance(body, dict):
            raise UpstreamSchemaError("Reddit's /api/v1/me is not an object", network="reddit")
        self._me = mapping.profile_from_user(body)
        return self._me

    async def get_profile(self, id_or_handle: str) -> Profile:
        name = await self._name_of(id_or_handle)
        body = await self.account.call_json("GET", f"/user/{name}/about", params=RAW)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise UpstreamSchemaError(
                "Reddit's /user/<name>/about has no data", network="reddit", body=str(body)
            )
        if data.get("is_suspended") and not data.get("id"):
            raise NotFound(
                f"Reddit account '{name}' is suspended; Reddit shows no profile for it",
                network="reddit",
                status=200,
            )
        return mapping.profile_from_user(data)

    # -- posts -------------------------------------------------------------------------------

    async def get_post(self, post_id: str) -> Post:
        fullname = _fullname(post_id)
        body = await self.account.call_json("GET", "/api/info", params={"id": fullname, **RAW})
        posts = mapping.posts_from_listing(body)
        if not posts:
            raise NotFound(f"Reddit has no post {fullname}", network="reddit", status=200)
        return posts[0]

    async def list_posts(
        self, user_id: str, since: datetime | None, until: datetime | None, options: dict[str, Any]
    ) -> PageQuery[Post]:
        name = await self._name_of(user_id)
        kind = options.pop("kind", "submitted")
        if kind not in ("submitted", "comments", "overview"):
            raise BadRequest(
                "kind= must be 'submitted', 'comments' or 'overview'", network="reddit"
            )
        return self._listing(f"/user/{name}/{kind}", since, until, options, sort="new")

    async def search_posts(
        self, query: str, since: datetime | None, until: datetime | None, options: dict[str, Any]
    ) -> PageQuery[Post]:
        if options.pop("slice_by_time", False):
            raise self.unsupported(
                "posts.search(slice_by_time=True)",
                "Reddit search has no date filter since it retired the 'timestamp:' "
                "(cloudsearch) syntax in 2018; only t=hour|day|week|month|year|all, relative "
                "to now. Each query stops at ~250-1000 results: split the query instead (per "
                "subreddit with subreddit=, or narrower terms)",
            )
        subreddit = options.pop("subreddit", None)
        params: dict[str, Any] = {"q": query, "type": options.pop("type", "link")}
        if subreddit:
            params["restrict_sr"] = "on" if options.pop("restrict_sr", True) else "off"
        sort = options.pop("sort", "new")
        window = options.pop("t", None) or self._time_window(since)
        if window:
            params["t"] = window
        path = f"/r/{subreddit}/search" if subreddit else "/search"
        return self._listing(path, since, until, {**params, **options}, sort=sort)

    async def replies(self, post_id: str, options: dict[str, Any]) -> PageQuery[Post]:
        fullname = _fullname(post_id)
        focus: str | None = None
        link = fullname
        if fullname.startswith("t1_"):
            comment = await self.get_post(fullname)
            link = comment.conversation_id or ""
            focus = fullname[3:]
            if not link.startswith("t3_"):
                raise UpstreamSchemaError(
                    f"Reddit's comment {fullname} names no submission", network="reddit"
                )
        elif not fullname.startswith("t3_"):
            raise BadRequest(
                f"replies() takes a submission (t3_) or comment (t1_) id, not {fullname}",
                network="reddit",
            )
        sort = options.pop("sort", "confidence")
        expand = bool(options.pop("expand_more", True))
        params = {"sort": sort, "limit": options.pop("page_size", TREE_LIMIT), **RAW, **options}
        path = f"/comments/{link[3:]}" + (f"/_/{focus}" if focus else "")
        return PageQuery(
            PageRequest("GET", path, params),
            CommentTree(link, sort, expand),
            _tree_parser(),
        )

    async def mentions(
        self, since: datetime | None, until: datetime | None, options: dict[str, Any]
    ) -> PageQuery[Post]:
        return self._listing("/message/mentions", since, until, options, sort=None)

    async def create_post(self, draft: Draft) -> Post:
        unknown = set(draft.options) - CREATE_OPTIONS
        if unknown:
            raise BadRequest(
                f"Reddit does not take Draft options {sorted(unknown)}; known: "
                f"{sorted(CREATE_OPTIONS)}",
                network="reddit",
            )
        if draft.quote_id:
            raise BadRequest("Reddit has no quote posts", network="reddit")
        if draft.reply_to_id:
            return await self._comment(draft)
        return await media.submit(self, draft)

    async def delete_post(self, post_id: str) -> None:
        fullname = _fullname(post_id)
        response = await self.account.call(
            "POST", "/api/del", params=RAW, data={"id": fullname}, idempotent=True
        )
        await self.check_json_errors(response, self.account.decode(response))

    async def upload_media(
        self, data: bytes, mime_type: str, alt_text: str | None, options: dict[str, Any]
    ) -> Media:
        return await media.upload(self, data, mime_type, alt_text, options)

    # -- helpers used by media.py ------------------------------------------------------------

    async def check_json_errors(
        self, response: httpx.Response, body: Any, *, bucket: str | None = None
    ) -> None:
        """Raise what an ``api_type=json`` answer's ``json.errors`` say (HTTP 200 anyway)."""
        inner = body.get("json") if isinstance(body, dict) else None
        if isinstance(inner, dict) and inner.get("errors"):
            info = api_error_info(inner["errors"], inner.get("ratelimit"))
            raise await self.account.body_error(response, info, bucket=bucket)

    async def own_name(self) -> str:
        if self._me is None:
            await self.me()
        assert self._me is not None and self._me.handle is not None
        return self._me.handle

    # -- internals ---------------------------------------------------------------------------

    async def _comment(self, draft: Draft) -> Post:
        if draft.media:
            raise BadRequest(
                "Reddit's API attaches no uploaded media to comments; link to it in the text",
                network="reddit",
            )
        if not draft.text.strip():
            raise BadRequest("a Reddit comment needs text", network="reddit")
        form = {"api_type": "json", "thing_id": _fullname(draft.reply_to_id or ""),
                "text": draft.text}  # fmt: skip
        response = await self.account.call(
            "POST", "/api/comment", params=RAW, data=form, bucket="actions"
        )
        body = self.account.decode(response)
        await self.check_json_errors(response, body, bucket="actions")
        things = ((body or {}).get("json", {}).get("data") or {}).get("things") or []
        post = mapping.post_from_thing(things[0]) if things else None
        if post is None:
            raise UpstreamSchemaError(
                "Reddit accepted the comment but did not return it; it may exist",
                network="reddit",
                body=str(body)[:10_000],
            )
        return post

    def _listing(
        self,
        path: str,
        since: datetime | None,
        until: datetime | None,
        options: dict[str, Any],
        *,
        sort: str | None,
    ) -> PageQuery[Post]:
        after, before = options.pop("after", None), options.pop("before", None)
        if after and before:
            raise BadRequest("pass after= or before=, not both", network="reddit")
        size = min(int(options.pop("page_size", PAGE_SIZE)), PAGE_SIZE)
        params: dict[str, Any] = {"limit": size, **RAW}
        if sort is not None:
            params["sort"] = options.pop("sort", sort)
        params.update(options)
        direction: Any = "before" if before else "after"
        if after or before:
            params[direction] = _fullname(str(after or before))
        # Only a newest-first listing can stop early at `since`.
        newest_first = params.get("sort", "new") == "new" and direction == "after"
        style: PaginationStyle = Listing(direction)
        if newest_first and since is not None:
            style = NewestFirst(style, since, created_times)
        return PageQuery(PageRequest("GET", path, params), style, _window_filter(since, until))

    def _time_window(self, since: datetime | None) -> str | None:
        low = _epoch(since)
        if low is None:
            return None
        age = self.account.client.clock.time() - low + _WINDOW_SLACK
        return next((name for name, seconds in _WINDOWS if age <= seconds), "all")

    async def _name_of(self, id_or_handle: str) -> str:
        value = id_or_handle.strip()
        if value.lower() == "me":
            return await self.own_name()
        if not value.startswith("t2_"):
            return _user_name(value)
        body = await self.account.call_json(
            "GET", "/api/user_data_by_account_ids", params={"ids": value, **RAW}
        )
        entry = body.get(value) if isinstance(body, dict) else None
        if not isinstance(entry, dict) or not entry.get("name"):
            raise NotFound(f"Reddit has no account {value}", network="reddit", status=200)
        return str(entry["name"])


def _tree_parser() -> Callable[[Any, httpx.Response], list[Post]]:
    def parse(body: Any, response: httpx.Response) -> list[Post]:
        path = response.request.url.path if response.request is not None else ""
        focus = path.rstrip("/").rsplit("/", 1)[-1] if "/_/" in path else None
        posts = []
        for thing in tree_things(body):
            post = mapping.post_from_thing(thing)
            if post is None or post.id == f"t1_{focus}":
                continue  # "more" stubs; the focused comment, which is not its own reply
            posts.append(post)
        return posts

    return parse
