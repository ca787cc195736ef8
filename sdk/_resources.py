"""The resources on an account: ``profiles``, ``posts``, ``mentions`` and ``media``.

Each method is a thin front over the account's adapter: it checks the capability, builds a
``Paginator`` for listings, and leaves everything else to the adapter and the base client.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from ._models import Capability, Draft, Media, Post, Profile
from ._pagination import PageQuery, Paginator

if TYPE_CHECKING:
    from ._account import Account

__all__ = ["MediaResource", "MentionsResource", "PostsResource", "ProfilesResource"]

T = TypeVar("T")


class _Resource:
    def __init__(self, account: Account) -> None:
        self._account = account

    def _paginate(
        self,
        capability: Capability,
        query: Callable[[], Awaitable[PageQuery[T]]],
        limit: int | None,
        cursor: str | None,
    ) -> Paginator[T]:
        self._account.require(capability)
        return Paginator(
            query,
            self._account.fetch_page,
            limit=limit,
            cursor=cursor,
            on_error=self._account.scrub,
        )


class ProfilesResource(_Resource):
    async def me(self) -> Profile:
        """The profile of the account's own credential."""
        self._account.require(Capability.PROFILES_ME)
        return await self._account.guard(self._account.adapter.me())

    async def get(self, id_or_handle: str) -> Profile:
        """A profile by network id or handle (``@`` optional)."""
        self._account.require(Capability.PROFILES_GET)
        return await self._account.guard(self._account.adapter.get_profile(id_or_handle))

    def followers(
        self, user_id: str, *, limit: int | None = None, cursor: str | None = None, **options: Any
    ) -> Paginator[Profile]:
        adapter = self._account.adapter
        return self._paginate(
            Capability.FOLLOWERS, lambda: adapter.followers(user_id, dict(options)), limit, cursor
        )


class PostsResource(_Resource):
    async def get(self, post_id: str) -> Post:
        self._account.require(Capability.POSTS_GET)
        return await self._account.guard(self._account.adapter.get_post(post_id))

    def list(
        self,
        user_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        **options: Any,
    ) -> Paginator[Post]:
        """An author's posts, newest first."""
        adapter = self._account.adapter
        return self._paginate(
            Capability.POSTS_LIST,
            lambda: adapter.list_posts(user_id, since, until, dict(options)),
            limit,
            cursor,
        )

    def search(
        self,
        query: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        **options: Any,
    ) -> Paginator[Post]:
        adapter = self._account.adapter
        return self._paginate(
            Capability.POSTS_SEARCH,
            lambda: adapter.search_posts(query, since, until, dict(options)),
            limit,
            cursor,
        )

    def replies(
        self, post_id: str, *, limit: int | None = None, cursor: str | None = None, **options: Any
    ) -> Paginator[Post]:
        adapter = self._account.adapter
        return self._paginate(
            Capability.POSTS_REPLIES, lambda: adapter.replies(post_id, dict(options)), limit, cursor
        )

    async def create(self, draft: Draft | str) -> Post:
        """Publish. Not retried once it may have reached the network (no double posts)."""
        self._account.require(Capability.POSTS_CREATE)
        if isinstance(draft, str):
            draft = Draft(text=draft)
        return await self._account.guard(self._account.adapter.create_post(draft))

    async def delete(self, post_id: str) -> None:
        self._account.require(Capability.POSTS_DELETE)
        await self._account.guard(self._account.adapter.delete_post(post_id))


class MentionsResource(_Resource):
    def list(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        **options: Any,
    ) -> Paginator[Post]:
        """Posts that mention the account, newest first."""
        adapter = self._account.adapter
        return self._paginate(
            Capability.MENTIONS,
            lambda: adapter.mentions(since, until, dict(options)),
            limit,
            cursor,
        )


class MediaResource(_Resource):
    async def upload(
        self,
        data: bytes,
        *,
        mime_type: str,
        alt_text: str | None = None,
        **options: Any,
    ) -> Media:
        """Upload media to attach to a later ``posts.create``; waits for processing."""
        self._account.require(Capability.MEDIA_UPLOAD)
        return await self._account.guard(
            self._account.adapter.upload_media(data, mime_type, alt_text, dict(options))
        )
