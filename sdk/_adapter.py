"""The adapter base class: what a network adapter implements, and nothing it may do itself.

An adapter says *what* to call and *how to map* the answer. It sends through
``self.account.call(...)`` (auth, budgets, retries and error mapping included) and describes
listings as ``PageQuery`` values the core paginates. It never sleeps, retries or parses
rate-limit headers. Every operation defaults to ``NotSupported``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

from ._errors import NotSupported
from ._models import Draft, Media, Post, Profile
from ._pagination import PageQuery
from ._spec import ProviderSpec

if TYPE_CHECKING:
    from ._account import Account

__all__ = ["Adapter"]


class Adapter:
    """Subclass per network; one instance per ``Account`` (it may cache, e.g. its own id)."""

    spec: ClassVar[ProviderSpec]
    # Whether a plain BearerToken is an app-only credential (X) or a user token (Mastodon).
    bearer_is_app_only: ClassVar[bool] = False

    def __init__(self, account: Account) -> None:
        self.account = account

    def unsupported(self, what: str, why: str = "") -> NotSupported:
        detail = f": {why}" if why else ""
        return NotSupported(
            f"{self.spec.display_name} does not support {what}{detail}", network=self.spec.name
        )

    def headers(self) -> dict[str, str]:
        """Headers every request of this account carries, beyond the spec's (Reddit's
        per-app User-Agent); read once when the account is created."""
        return {}

    def secrets(self) -> tuple[str, ...]:
        """Secrets the adapter holds beyond the credential (session tokens it obtained),
        scrubbed from every error like the credential's own."""
        return ()

    def auth(self) -> httpx.Auth | None:
        """The ``httpx.Auth`` for this account's credential; ``None`` uses the core default."""
        return None

    async def me(self) -> Profile:
        raise self.unsupported("profiles.me()")

    async def get_profile(self, id_or_handle: str) -> Profile:
        raise self.unsupported("profiles.get()")

    async def followers(self, user_id: str, options: dict[str, Any]) -> PageQuery[Profile]:
        raise self.unsupported("profiles.followers()")

    async def get_post(self, post_id: str) -> Post:
        raise self.unsupported("posts.get()")

    async def list_posts(
        self, user_id: str, since: datetime | None, until: datetime | None, options: dict[str, Any]
    ) -> PageQuery[Post]:
        raise self.unsupported("posts.list()")

    async def search_posts(
        self, query: str, since: datetime | None, until: datetime | None, options: dict[str, Any]
    ) -> PageQuery[Post]:
        raise self.unsupported("posts.search()")

    async def replies(self, post_id: str, options: dict[str, Any]) -> PageQuery[Post]:
        raise self.unsupported("posts.replies()")

    async def mentions(
        self, since: datetime | None, until: datetime | None, options: dict[str, Any]
    ) -> PageQuery[Post]:
        raise self.unsupported("mentions.list()")

    async def create_post(self, draft: Draft) -> Post:
        raise self.unsupported("posts.create()")

    async def delete_post(self, post_id: str) -> None:
        raise self.unsupported("posts.delete()")

    async def upload_media(
        self, data: bytes, mime_type: str, alt_text: str | None, options: dict[str, Any]
    ) -> Media:
        raise self.unsupported("media.upload()")
