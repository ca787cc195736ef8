"""The Mastodon adapter: which endpoint answers each contract call, and how to read it.

Listings follow the ``Link`` header (``pagination.MastodonLinks``); search, which has no
links, pages by ``offset``. Status creation sends an ``Idempotency-Key`` (Mastodon keeps it for
an hour and answers a repeat with the status it already made), so it is retried like a read.
Media go through ``POST /api/v2/media``; a 202 means the server is still processing, and the
upload polls ``GET /api/v1/media/:id`` (206 while processing) until it answers 200.
"""

from __future__ import annotations

import mimetypes
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from socialgate._adapter import Adapter
from socialgate._errors import BadRequest, NotFound, UpstreamSchemaError
from socialgate._models import Draft, Media, Post, Profile
from socialgate._pagination import NewestFirst, Offset, PageQuery, PageRequest, PaginationStyle

from . import mapping
from .pagination import MastodonLinks, SinglePage, created_times
from .spec import SPEC

__all__ = ["MastodonAdapter"]

# Mastodon's maximum page sizes (docs.joinmastodon.org/methods/*).
STATUS_PAGE = 40
ACCOUNT_PAGE = 80
NOTIFICATION_PAGE = 80
SEARCH_PAGE = 40
UPLOAD_TIMEOUT = 600.0
POLL_FIRST, POLL_MAX = 1.0, 5.0
# POST /api/v1/statuses parameters a Draft may set through ``options``.
CREATE_OPTIONS = frozenset(
    {"visibility", "spoiler_text", "sensitive", "language", "poll", "quote_approval_policy"}
)
UPLOAD_OPTIONS = frozenset({"focus", "filename"})


def _epoch(value: datetime | None, name: str) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise BadRequest(f"{name} must be a timezone-aware datetime", network=SPEC.name)
    return value.astimezone(UTC).timestamp()


def _within(since: float | None, until: float | None, posts: list[Post]) -> list[Post]:
    if since is None and until is None:
        return posts
    kept = []
    for post in posts:
        moment = post.created_at.timestamp() if post.created_at else None
        if moment is not None and since is not None and moment < since:
            continue
        if moment is not None and until is not None and moment > until:
            continue
        kept.append(post)
    return kept


class MastodonAdapter(Adapter):
    spec = SPEC
    bearer_is_app_only = False

    def __init__(self, account: Any) -> None:
        super().__init__(account)
        base = httpx.URL(account.base_url)
        self._origin = str(base.copy_with(path="/", query=None, fragment=None))

    def _links(self, since: float | None = None) -> PaginationStyle:
        links = MastodonLinks(self._origin)
        return links if since is None else NewestFirst(links, since, created_times)

    # -- profiles ----------------------------------------------------------------------------

    async def me(self) -> Profile:
        body = await self.account.call_json("GET", "/api/v1/accounts/verify_credentials")
        return mapping.profile_from_account(body)

    async def get_profile(self, id_or_handle: str) -> Profile:
        """Digits are an account id; anything else (or ``@`` + digits) is a handle, looked up
        on the instance and, for a remote handle it does not know yet, resolved by search."""
        value = id_or_handle.strip()
        if value.isdigit():
            body = await self.account.call_json("GET", f"/api/v1/accounts/{value}")
            return mapping.profile_from_account(body)
        acct = value.removeprefix("@")
        try:
            body = await self.account.call_json(
                "GET", "/api/v1/accounts/lookup", params={"acct": acct}
            )
        except NotFound:
            if "@" not in acct:
                raise
            return await self._resolve_remote(acct)
        return mapping.profile_from_account(body)

    async def _resolve_remote(self, acct: str) -> Profile:
        params = {"q": f"@{acct}", "type": "accounts", "resolve": "true", "limit": 5}
        body = await self.account.call_json("GET", "/api/v2/search", params=params)
        accounts = body.get("accounts") if isinstance(body, dict) else None
        for account in accounts or []:
            if isinstance(account, dict) and str(account.get("acct", "")).lower() == acct.lower():
                return mapping.profile_from_account(account, body)
        raise NotFound(
            f"Mastodon knows no account @{acct} (lookup and search found none)",
            network=SPEC.name,
            status=404,
        )

    async def followers(self, user_id: str, options: dict[str, Any]) -> PageQuery[Profile]:
        uid = await self._user_id(user_id)
        params = {"limit": options.pop("page_size", ACCOUNT_PAGE), **options}
        return PageQuery(
            PageRequest("GET", f"/api/v1/accounts/{uid}/followers", params),
            self._links(),
            lambda body, response: mapping.profiles_from_accounts(body),
        )

    # -- posts -------------------------------------------------------------------------------

    async def get_post(self, post_id: str) -> Post:
        body = await self.account.call_json("GET", f"/api/v1/statuses/{post_id}")
        return mapping.post_from_status(body)

    async def list_posts(
        self, user_id: str, since: datetime | None, until: datetime | None, options: dict[str, Any]
    ) -> PageQuery[Post]:
        """``options``: Mastodon's ``exclude_replies``, ``exclude_reblogs``, ``only_media``,
        ``pinned``, ``tagged``, and ``page_size`` (max 40)."""
        lo, hi = _epoch(since, "since"), _epoch(until, "until")
        uid = await self._user_id(user_id)
        params = {"limit": options.pop("page_size", STATUS_PAGE), **options}
        return PageQuery(
            PageRequest("GET", f"/api/v1/accounts/{uid}/statuses", params),
            self._links(lo),
            lambda body, response: _within(lo, hi, mapping.posts_from_statuses(body)),
        )

    async def search_posts(
        self, query: str, since: datetime | None, until: datetime | None, options: dict[str, Any]
    ) -> PageQuery[Post]:
        """Full-text status search needs an instance with search enabled; without it Mastodon
        finds only statuses the user wrote or interacted with. Results are ranked, not dated,
        so ``since``/``until`` filter them without ending the search early. ``options``:
        ``account_id``, ``following``, ``resolve``, ``page_size`` (max 40)."""
        lo, hi = _epoch(since, "since"), _epoch(until, "until")
        size = int(options.pop("page_size", SEARCH_PAGE))
        params = {"q": query, "type": "statuses", "limit": size, **options}
        return PageQuery(
            PageRequest("GET", "/api/v2/search", params),
            # v2 search answers no Link header; it pages with offset (authenticated only).
            Offset(param="offset", size_param="limit", page_size=size, items_path=("statuses",)),
            lambda body, response: _within(lo, hi, _search_statuses(body)),
        )

    async def replies(self, post_id: str, options: dict[str, Any]) -> PageQuery[Post]:
        """Every status below ``post_id`` in its thread (the context's ``descendants``, in
        thread order); ``conversation_id`` is the thread's root."""
        return PageQuery(
            PageRequest("GET", f"/api/v1/statuses/{post_id}/context", dict(options)),
            SinglePage(),
            lambda body, response: _descendants(body, post_id),
        )

    async def mentions(
        self, since: datetime | None, until: datetime | None, options: dict[str, Any]
    ) -> PageQuery[Post]:
        lo, hi = _epoch(since, "since"), _epoch(until, "until")
        params = {
            "types[]": ["mention"],
            "limit": options.pop("page_size", NOTIFICATION_PAGE),
            **options,
        }
        return PageQuery(
            PageRequest("GET", "/api/v1/notifications", params),
            self._links(lo),
            lambda body, response: _within(lo, hi, mapping.posts_from_notifications(body)),
        )

    async def create_post(self, draft: Draft) -> Post:
        """``Draft.options``: ``visibility`` (public, unlisted, private, direct),
        ``spoiler_text``, ``sensitive``, ``language``, ``poll``, ``quote_approval_policy``,
        and ``idempotency_key`` to reuse a key across calls (a new one per call otherwise)."""
        options = dict(draft.options)
        key = str(options.pop("idempotency_key", "") or uuid.uuid4().hex)
        if "scheduled_at" in options:
            raise BadRequest(
                "posts.create publishes now; Mastodon answers a scheduled post with a "
                "ScheduledStatus, not a status: use acct.request('POST', '/api/v1/statuses')",
                network=SPEC.name,
            )
        unknown = set(options) - CREATE_OPTIONS
        if unknown:
            raise BadRequest(
                f"Mastodon does not take Draft options {sorted(unknown)}; known: "
                f"{sorted(CREATE_OPTIONS | {'idempotency_key'})}",
                network=SPEC.name,
            )
        payload: dict[str, Any] = {"status": draft.text, **options}
        if draft.media:
            payload["media_ids"] = [m.id for m in draft.media]
        if draft.reply_to_id:
            payload["in_reply_to_id"] = draft.reply_to_id
        if draft.quote_id:
            payload["quoted_status_id"] = draft.quote_id  # Mastodon 4.5+
        body = await self.account.call_json(
            "POST",
            "/api/v1/statuses",
            json=payload,
            headers={"Idempotency-Key": key},
            # Same key, same status: a re-sent create cannot post twice.
            idempotent=True,
        )
        return mapping.post_from_status(body)

    async def delete_post(self, post_id: str) -> None:
        await self.account.call("DELETE", f"/api/v1/statuses/{post_id}")

    # -- media -------------------------------------------------------------------------------

    async def upload_media(
        self, data: bytes, mime_type: str, alt_text: str | None, options: dict[str, Any]
    ) -> Media:
        """``options``: ``focus`` ("x,y" in -1..1) and ``filename``."""
        unknown = set(options) - UPLOAD_OPTIONS
        if unknown:
            raise BadRequest(
                f"Mastodon media upload does not take options {sorted(unknown)}; known: "
                f"{sorted(UPLOAD_OPTIONS)}",
                network=SPEC.name,
            )
        filename = options.pop("filename", None) or "upload" + (
            mimetypes.guess_extension(mime_type) or ""
        )
        form = {"description": alt_text} if alt_text else {}
        if "focus" in options:
            form["focus"] = str(options["focus"])
        response = await self.account.call(
            "POST", "/api/v2/media", data=form, files={"file": (filename, data, mime_type)}
        )
        state = _attachment(self.account.decode(response))
        ready = response.status_code == 200 and bool(state.get("url"))
        attempt = 0

        async def check() -> float | None:
            # The first check reads the upload's answer; later ones poll the attachment.
            nonlocal state, ready, attempt
            if attempt:
                polled = await self.account.call("GET", f"/api/v1/media/{state['id']}")
                state = _attachment(self.account.decode(polled))
                ready = polled.status_code == 200
            attempt += 1
            if ready:
                return None
            return min(POLL_FIRST * 2 ** (attempt - 1), POLL_MAX)

        await self.account.poll(check, max_seconds=UPLOAD_TIMEOUT, what="Mastodon media processing")
        return mapping.media_from_attachment(state)

    # -- helpers -----------------------------------------------------------------------------

    async def _user_id(self, id_or_handle: str) -> str:
        value = id_or_handle.strip()
        if value.isdigit():
            return value
        return (await self.get_profile(value)).id


def _attachment(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        raise UpstreamSchemaError(
            "Mastodon's media answer is not a MediaAttachment with an id",
            network=SPEC.name,
            body=str(body)[:10_000],
        )
    return body


def _search_statuses(body: Any) -> list[Post]:
    if not isinstance(body, dict):
        raise UpstreamSchemaError(
            "Mastodon's search answer is not an object", network=SPEC.name, body=str(body)[:10_000]
        )
    return mapping.posts_from_statuses(body.get("statuses") or [])


def _descendants(body: Any, post_id: str) -> list[Post]:
    if not isinstance(body, dict):
        raise UpstreamSchemaError(
            "Mastodon's context answer is not an object", network=SPEC.name, body=str(body)[:10_000]
        )
    ancestors = body.get("ancestors") or []
    first = ancestors[0] if isinstance(ancestors, list) and ancestors else None
    root = first.get("id") if isinstance(first, dict) else None
    return mapping.posts_from_statuses(
        body.get("descendants") or [], conversation_id=str(root or post_id)
    )
