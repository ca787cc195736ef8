"""Map X (Twitter) API v2 JSON bodies onto socialgate's Profile, Post and Media models.

Pure functions without I/O. A response body looks like
``{"data": ..., "includes": {"users": [...], "media": [...]}, "meta": {...}}``; the
``includes`` expansions are indexed once per response, and each author ``Profile`` or
``Media`` is built at most once per response however many posts refer to it.

Field names follow the wire format X sends (``retweet_count``, ``tweet_count``,
``referenced_tweets``, ``note_tweet``); the ``post`` spellings of the newer OpenAPI
description (``repost_count``, ``post_count``, ``referenced_posts``, ``note_post``) are read
as a fallback. Anything that does not fit raises ``UpstreamSchemaError`` carrying the raw
body, never a bare ``KeyError`` or pydantic ``ValidationError``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from socialgate._errors import UpstreamSchemaError
from socialgate._models import Media, Metrics, Post, Profile, builder

__all__ = [
    "NETWORK",
    "media_from_x",
    "post_from_response",
    "post_from_tweet",
    "posts_from_response",
    "profile_from_response",
    "profile_from_user",
    "profiles_from_response",
]

NETWORK = "x"

_WEB = "https://x.com/"
_MEDIA_KINDS = {"photo": "image", "video": "video", "animated_gif": "gif"}
_PLAYABLE = frozenset({"video", "gif"})
# Frozen and shared: most list responses carry no public_metrics at all.
_NO_METRICS = Metrics()
# What a malformed item can raise while being read or validated. pydantic's
# ValidationError is a ValueError.
_SHAPE_ERRORS = (AttributeError, KeyError, TypeError, ValueError)

JSON = dict[str, Any]

# Model(**fields) without BaseModel.__init__ (same validation): this module builds one per item.
_new_profile = builder(Profile)
_new_media = builder(Media)
_new_metrics = builder(Metrics)
_new_post = builder(Post)


def _schema_error(message: str, body: Any) -> UpstreamSchemaError:
    try:
        text = json.dumps(body, ensure_ascii=False, default=str)
    except (TypeError, ValueError):  # circular or otherwise unserialisable
        text = repr(body)
    return UpstreamSchemaError(message, body=text, network=NETWORK)


def _kind_of(value: Any) -> str:
    return type(value).__name__


def _datetime(value: Any, owner: str, owner_id: str, body: Any) -> datetime | None:
    """``created_at`` of the ``owner`` (``"tweet"``, ``"user"``) with id ``owner_id``."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise _schema_error(
            f"{owner} {owner_id}: created_at is not an ISO 8601 timestamp: {value!r}", body
        ) from None
    if parsed.tzinfo is None:
        raise _schema_error(f"{owner} {owner_id}: created_at has no timezone: {value!r}", body)
    return parsed


def _index(items: Any, key: str, where: str, body: Any) -> dict[str, JSON]:
    if not isinstance(items, list):
        raise _schema_error(f"{where} must be a list, got {_kind_of(items)}", body)
    index: dict[str, JSON] = {}
    for item in items:
        if not isinstance(item, dict):
            raise _schema_error(f"{where} holds a {_kind_of(item)}, not an object", body)
        value = item.get(key)
        if type(value) is str:
            index[value] = item
    return index


class _Includes:
    """The expansions of one response, indexed by key, with built models cached."""

    __slots__ = ("_media", "_media_models", "_profiles", "_users", "body")

    def __init__(self, includes: Any, body: Any) -> None:
        self.body = body
        self._users: dict[str, JSON] = {}
        self._media: dict[str, JSON] = {}
        self._profiles: dict[str, Profile | None] = {}
        self._media_models: dict[str, Media | None] = {}
        if includes is None:
            return
        if not isinstance(includes, dict):
            raise _schema_error(f"`includes` must be an object, got {_kind_of(includes)}", body)
        users = includes.get("users")
        if users is not None:
            self._users = _index(users, "id", "includes.users", body)
        media = includes.get("media")
        if media is not None:
            self._media = _index(media, "media_key", "includes.media", body)

    def author(self, author_id: Any) -> Profile | None:
        if type(author_id) is not str:
            return None  # a missing author_id; a wrong type is rejected by Post itself
        try:
            return self._profiles[author_id]
        except KeyError:
            pass
        user = self._users.get(author_id)
        profile = None if user is None else _profile(user, self.body)
        self._profiles[author_id] = profile
        return profile

    def media(self, keys: Any, tweet_id: str) -> tuple[Media, ...]:
        if not isinstance(keys, list):
            raise _schema_error(
                f"tweet {tweet_id}: attachments.media_keys must be a list, got {_kind_of(keys)}",
                self.body,
            )
        found: list[Media] = []
        cache = self._media_models
        for key in keys:
            if type(key) is not str:
                raise _schema_error(
                    f"tweet {tweet_id}: media key {key!r} is not a string", self.body
                )
            try:
                model = cache[key]
            except KeyError:
                item = self._media.get(key)
                model = None if item is None else _media(item, self.body)
                cache[key] = model
            if model is not None:
                found.append(model)
        return tuple(found)


def _profile(user: Any, body: Any) -> Profile:
    if not isinstance(user, dict):
        raise _schema_error(f"a user must be an object, got {_kind_of(user)}", body)
    user_id = user.get("id")
    if type(user_id) is not str or not user_id:
        raise _schema_error(f"user has no string `id` (got {user_id!r})", body)
    metrics = user.get("public_metrics")
    if metrics is None:
        followers = following = posts = None
    elif isinstance(metrics, dict):
        followers = metrics.get("followers_count")
        following = metrics.get("following_count")
        posts = metrics.get("tweet_count")
        if posts is None:
            posts = metrics.get("post_count")
    else:
        raise _schema_error(
            f"user {user_id}: public_metrics must be an object, got {_kind_of(metrics)}", body
        )
    verified = user.get("verified")
    if verified is None:
        verified_type = user.get("verified_type")
        if verified_type is not None:
            verified = verified_type != "none"
    username = user.get("username")
    try:
        return _new_profile(
            {
                "network": NETWORK,
                "id": user_id,
                "handle": username,
                "display_name": user.get("name"),
                "description": user.get("description"),
                "url": f"{_WEB}{username}" if username else f"{_WEB}i/user/{user_id}",
                "avatar_url": user.get("profile_image_url"),
                "followers_count": followers,
                "following_count": following,
                "posts_count": posts,
                "created_at": _datetime(user.get("created_at"), "user", user_id, body),
                "verified": verified,
                "raw": user,
            }
        )
    except _SHAPE_ERRORS as exc:
        raise _schema_error(f"user {user_id} could not be mapped: {exc}", body) from exc


def _best_mp4(variants: Any, media_key: str, body: Any) -> str | None:
    if variants is None:
        return None
    if not isinstance(variants, list):
        raise _schema_error(
            f"media {media_key}: variants must be a list, got {_kind_of(variants)}", body
        )
    best: str | None = None
    best_rate = -1
    for variant in variants:
        if not isinstance(variant, dict):
            raise _schema_error(f"media {media_key}: a variant is not an object", body)
        url = variant.get("url")
        if variant.get("content_type") != "video/mp4" or not url:
            continue
        rate = variant.get("bit_rate")
        rate = rate if type(rate) is int else 0
        if rate > best_rate:
            best, best_rate = url, rate
    return best


def _media(media: Any, body: Any) -> Media:
    if not isinstance(media, dict):
        raise _schema_error(f"a media item must be an object, got {_kind_of(media)}", body)
    media_id = media.get("media_key") or media.get("media_id_string") or media.get("id")
    if type(media_id) is not str:
        raise _schema_error(f"media has no string `media_key` or id (got {media_id!r})", body)
    width = media.get("width")
    height = media.get("height")
    media_type = media.get("type")
    try:
        if media_type is not None:
            kind = _MEDIA_KINDS.get(media_type, "other")
        elif isinstance(media.get("image"), dict):
            # An upload answer: {"media_key", "image": {"image_type", "w", "h"}} (no "type").
            kind = "image"
            image = media["image"]
            if width is None:
                width = image.get("w")
            if height is None:
                height = image.get("h")
        elif isinstance(media.get("video"), dict):
            kind = "video"
        else:
            kind = "other"
        url = media.get("url")
        if url is None and kind in _PLAYABLE:
            url = _best_mp4(media.get("variants"), media_id, body)
        return _new_media(
            {
                "id": media_id,
                "kind": kind,
                "url": url,
                "preview_url": media.get("preview_image_url"),
                "alt_text": media.get("alt_text"),
                "width": width,
                "height": height,
                "network": NETWORK,
                "raw": media,
            }
        )
    except _SHAPE_ERRORS as exc:
        raise _schema_error(f"media {media_id} could not be mapped: {exc}", body) from exc


def _metrics(metrics: Any, tweet_id: str, body: Any) -> Metrics:
    if not isinstance(metrics, dict):
        raise _schema_error(
            f"tweet {tweet_id}: public_metrics must be an object, got {_kind_of(metrics)}", body
        )
    reposts = metrics.get("retweet_count")
    if reposts is None:
        reposts = metrics.get("repost_count")
    return _new_metrics(
        {
            "likes": metrics.get("like_count"),
            "reposts": reposts,
            "replies": metrics.get("reply_count"),
            "quotes": metrics.get("quote_count"),
            "views": metrics.get("impression_count"),
            "bookmarks": metrics.get("bookmark_count"),
        }
    )


def _reply_to(refs: Any, tweet_id: str, body: Any) -> str | None:
    if not isinstance(refs, list):
        raise _schema_error(
            f"tweet {tweet_id}: referenced_tweets must be a list, got {_kind_of(refs)}", body
        )
    for ref in refs:
        if not isinstance(ref, dict):
            raise _schema_error(f"tweet {tweet_id}: a referenced tweet is not an object", body)
        if ref.get("type") == "replied_to":
            return ref.get("id")
    return None


def _post(tweet: Any, ctx: _Includes) -> Post:
    body = ctx.body
    if not isinstance(tweet, dict):
        raise _schema_error(f"a tweet must be an object, got {_kind_of(tweet)}", body)
    tweet_id = tweet.get("id")
    if type(tweet_id) is not str or not tweet_id:
        raise _schema_error(f"tweet has no string `id` (got {tweet_id!r})", body)
    try:
        author_id = tweet.get("author_id")
        author = ctx.author(author_id)

        note = tweet.get("note_tweet")
        if note is None:
            note = tweet.get("note_post")
        text = note.get("text") if isinstance(note, dict) else None
        if text is None:
            text = tweet.get("text", "")

        refs = tweet.get("referenced_tweets")
        if refs is None:
            refs = tweet.get("referenced_posts")
        reply_to_id = None if refs is None else _reply_to(refs, tweet_id, body)

        public_metrics = tweet.get("public_metrics")
        metrics = (
            _NO_METRICS if public_metrics is None else _metrics(public_metrics, tweet_id, body)
        )

        media: tuple[Media, ...] = ()
        attachments = tweet.get("attachments")
        if attachments is not None:
            if not isinstance(attachments, dict):
                raise _schema_error(
                    f"tweet {tweet_id}: attachments must be an object, got {_kind_of(attachments)}",
                    body,
                )
            keys = attachments.get("media_keys")
            if keys:
                media = ctx.media(keys, tweet_id)

        username = author.handle if author is not None else None
        url = (
            f"{_WEB}{username}/status/{tweet_id}" if username else f"{_WEB}i/web/status/{tweet_id}"
        )
        return _new_post(
            {
                "network": NETWORK,
                "id": tweet_id,
                "author_id": author_id,
                "author": author,
                "text": text,
                "created_at": _datetime(tweet.get("created_at"), "tweet", tweet_id, body),
                "url": url,
                "reply_to_id": reply_to_id,
                "conversation_id": tweet.get("conversation_id"),
                "lang": tweet.get("lang"),
                "metrics": metrics,
                "media": media,
                "raw": tweet,
            }
        )
    except _SHAPE_ERRORS as exc:
        raise _schema_error(f"tweet {tweet_id} could not be mapped: {exc}", body) from exc


def _body_data(body: Any, what: str) -> Any:
    if not isinstance(body, dict):
        raise _schema_error(f"{what}: the response body must be an object", body)
    return body.get("data")


def _missing_data(body: JSON, what: str) -> UpstreamSchemaError:
    detail = ""
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0].get("detail") or errors[0].get("message") or errors[0].get("title")
        if first:
            detail = f" (errors: {first})"
    return _schema_error(f"{what}: the response has no `data` object{detail}", body)


# --- public API ------------------------------------------------------------------------


def profile_from_user(user: JSON) -> Profile:
    """One X user object (``data`` of a user lookup, or an ``includes.users`` entry)."""
    return _profile(user, user)


def post_from_tweet(tweet: JSON, includes: JSON | None = None) -> Post:
    """One tweet object; ``includes`` is the response's expansions, if any."""
    body = tweet if includes is None else {"data": tweet, "includes": includes}
    return _post(tweet, _Includes(includes, body))


def media_from_x(media: JSON) -> Media:
    """One X media object: an ``includes.media`` entry or a media upload answer."""
    return _media(media, media)


def posts_from_response(body: JSON) -> list[Post]:
    """A list of tweets (timeline, search, lookup by ids); no ``data`` means no results."""
    data = _body_data(body, "tweets")
    if data is None:
        return []
    ctx = _Includes(body.get("includes"), body)
    if isinstance(data, list):
        return [_post(tweet, ctx) for tweet in data]
    if isinstance(data, dict):
        return [_post(data, ctx)]
    raise _schema_error(f"tweets: `data` must be a list or an object, got {_kind_of(data)}", body)


def post_from_response(body: JSON) -> Post:
    """A single-tweet lookup (or create) answer."""
    data = _body_data(body, "tweet")
    if data is None:
        raise _missing_data(body, "tweet")
    if not isinstance(data, dict):
        raise _schema_error(f"tweet: `data` must be an object, got {_kind_of(data)}", body)
    return _post(data, _Includes(body.get("includes"), body))


def profiles_from_response(body: JSON) -> list[Profile]:
    """A list of users (followers, following, lookup by ids); no ``data`` means none."""
    data = _body_data(body, "users")
    if data is None:
        return []
    if isinstance(data, list):
        return [_profile(user, body) for user in data]
    if isinstance(data, dict):
        return [_profile(data, body)]
    raise _schema_error(f"users: `data` must be a list or an object, got {_kind_of(data)}", body)


def profile_from_response(body: JSON) -> Profile:
    """A single-user lookup answer (``/2/users/me``, ``/2/users/by/username/...``)."""
    data = _body_data(body, "user")
    if data is None:
        raise _missing_data(body, "user")
    if not isinstance(data, dict):
        raise _schema_error(f"user: `data` must be an object, got {_kind_of(data)}", body)
    return _profile(data, body)
