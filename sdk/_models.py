"""Typed, network-neutral models: Profile, Post, Metrics, Media, Draft and Capability.

Every model is frozen, keeps unknown fields (``extra="allow"``) and carries the network's own
JSON for the item in ``raw``, so normalising never loses anything. Datetimes are always
timezone-aware UTC: naive values are rejected rather than guessed.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar, cast

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SkipValidation
from pydantic_core import SchemaValidator

__all__ = ["Capability", "Draft", "Media", "Metrics", "Post", "Profile"]


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is UTC:
        return value  # what the adapters hand over: nothing to convert
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware (naive datetimes are ambiguous)")
    return value.astimezone(UTC)


UTCDateTime = Annotated[datetime, AfterValidator(_to_utc)]
# The upstream item exactly as received: kept as the same dict, not copied key by key
# (a large raw payload was the biggest share of validating a model).
Raw = SkipValidation[dict[str, Any]]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)


class Capability(enum.StrEnum):
    """What an account's network lets the SDK do; see ``Account.capabilities``."""

    PROFILES_ME = "profiles.me"
    PROFILES_GET = "profiles.get"
    FOLLOWERS = "profiles.followers"
    POSTS_GET = "posts.get"
    POSTS_LIST = "posts.list"
    POSTS_SEARCH = "posts.search"
    POSTS_REPLIES = "posts.replies"
    POSTS_CREATE = "posts.create"
    POSTS_DELETE = "posts.delete"
    MENTIONS = "mentions.list"
    MEDIA_UPLOAD = "media.upload"


class Metrics(_Model):
    """Engagement counts; ``None`` where the network does not say."""

    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    quotes: int | None = None
    views: int | None = None
    bookmarks: int | None = None


class Media(_Model):
    """A media item attached to a post, or returned by ``acct.media.upload``.

    ``kind`` is one of ``image``, ``video``, ``gif``, ``audio`` or ``other``.
    """

    id: str
    kind: str = "other"
    url: str | None = None
    preview_url: str | None = None
    alt_text: str | None = None
    width: int | None = None
    height: int | None = None
    network: str | None = None
    raw: Raw = Field(default_factory=dict, repr=False)


class Profile(_Model):
    """A user, page or channel on one network."""

    network: str
    id: str
    handle: str | None = None
    display_name: str | None = None
    description: str | None = None
    url: str | None = None
    avatar_url: str | None = None
    followers_count: int | None = None
    following_count: int | None = None
    posts_count: int | None = None
    created_at: UTCDateTime | None = None
    verified: bool | None = None
    raw: Raw = Field(default_factory=dict, repr=False)


class Post(_Model):
    """A post, comment or reply on one network."""

    network: str
    id: str
    author_id: str | None = None
    author: Profile | None = None
    text: str = ""
    created_at: UTCDateTime | None = None
    url: str | None = None
    reply_to_id: str | None = None
    conversation_id: str | None = None
    lang: str | None = None
    metrics: Metrics = Field(default_factory=Metrics)
    media: tuple[Media, ...] = ()
    raw: Raw = Field(default_factory=dict, repr=False)


class Draft(_Model):
    """What to publish with ``acct.posts.create``.

    ``options`` carries network-specific settings (for example Mastodon visibility or a
    Reddit subreddit); an adapter rejects options it does not know with ``BadRequest``.
    """

    text: str = ""
    media: tuple[Media, ...] = ()
    reply_to_id: str | None = None
    quote_id: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)


M = TypeVar("M", bound=BaseModel)


def builder(model: type[M]) -> Callable[[dict[str, Any]], M]:
    """``model``'s validator as a function of a dict of fields: the same validation and the
    same frozen instance as ``model(**fields)``, without ``BaseModel.__init__``'s Python frame
    and keyword packing (a third of building a ``Post``). For adapters' mapping hot paths."""
    validator = model.__pydantic_validator__
    if not isinstance(validator, SchemaValidator):  # a model whose schema is not built yet
        raise TypeError(f"{model.__name__} has no built validator; call model_rebuild() first")
    return cast(Callable[[dict[str, Any]], M], validator.validate_python)
