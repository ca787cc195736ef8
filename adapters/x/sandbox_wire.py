"""X API v2 wire format for the sandbox: field selection, expansions, error bodies, and the
query-parameter checks X makes (names, field lists, ``max_results`` ranges, ids, times).

Spelling follows what X sends (``tweet.fields``, ``retweet_count``, ``tweet_count``,
``edit_history_tweet_ids``, ``includes.tweets``), as in the recorded payloads under
tests/fixtures/x/ and X's v2.159 OpenAPI description; the newer xdk description renames them
(``post.fields``, ``repost_count``...) and is not what the API answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from socialgate.sandbox.data import iso_millis, parse_rfc3339

from .sandbox_data import MediaRec, PostRec, UserRec, XDataset

PROBLEMS = "https://api.x.com/2/problems/"

TWEET_FIELDS = (
    "article", "attachments", "author_id", "card_uri", "community_id", "context_annotations",
    "conversation_id", "created_at", "display_text_range", "edit_controls",
    "edit_history_tweet_ids", "entities", "geo", "id", "in_reply_to_user_id", "lang",
    "media_metadata", "non_public_metrics", "note_tweet", "organic_metrics",
    "possibly_sensitive", "promoted_metrics", "public_metrics", "referenced_tweets",
    "reply_settings", "scopes", "source", "suggested_source_links",
    "suggested_source_links_with_counts", "text", "withheld",
)  # fmt: skip
USER_FIELDS = (
    "affiliation", "confirmed_email", "connection_status", "created_at", "description",
    "entities", "id", "is_identity_verified", "location", "most_recent_tweet_id", "name",
    "parody", "pinned_tweet_id", "profile_banner_url", "profile_image_url", "protected",
    "public_metrics", "receives_your_dm", "subscription", "subscription_type", "url",
    "username", "verified", "verified_followers_count", "verified_type", "withheld",
)  # fmt: skip
MEDIA_FIELDS = (
    "alt_text", "duration_ms", "height", "media_key", "non_public_metrics", "organic_metrics",
    "preview_image_url", "promoted_metrics", "public_metrics", "type", "url", "variants",
    "width",
)  # fmt: skip
POLL_FIELDS = ("duration_minutes", "end_datetime", "id", "options", "voting_status")
PLACE_FIELDS = (
    "contained_within", "country", "country_code", "full_name", "geo", "id", "name",
    "place_type",
)  # fmt: skip
TWEET_EXPANSIONS = (
    "article.cover_media", "article.media_entities", "attachments.media_keys",
    "attachments.media_source_tweet", "attachments.poll_ids", "author_id",
    "edit_history_tweet_ids", "entities.mentions.username", "geo.place_id",
    "in_reply_to_user_id", "entities.note.mentions.username", "referenced_tweets.id",
    "referenced_tweets.id.attachments.media_keys", "referenced_tweets.id.author_id",
)  # fmt: skip
USER_EXPANSIONS = ("affiliation.user_id", "most_recent_tweet_id", "pinned_tweet_id")
LIST_PARAMS = {
    "tweet.fields": TWEET_FIELDS,
    "user.fields": USER_FIELDS,
    "media.fields": MEDIA_FIELDS,
    "poll.fields": POLL_FIELDS,
    "place.fields": PLACE_FIELDS,
}
TWEET_PARAMS = (*LIST_PARAMS, "expansions")
USER_PARAMS = ("user.fields", "tweet.fields", "expansions")


def problem(status: int, title: str, detail: str | None = None) -> dict[str, Any]:
    """X's plain problem body (401, 403, 429, 5xx): ``type`` is ``about:blank``."""
    return {"title": title, "detail": detail or title, "type": "about:blank", "status": status}


def invalid_request(errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "errors": errors,
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": PROBLEMS + "invalid-request",
    }


def param_error(name: str, value: str, message: str) -> dict[str, Any]:
    return {"parameters": {name: [value]}, "message": message}


def not_found(kind: str, parameter: str, value: str, what: str = "id") -> dict[str, Any]:
    """One partial error of a lookup (X answers HTTP 200 with these in ``errors``)."""
    return {
        "value": value,
        "detail": f"Could not find {kind} with {what}: [{value}].",
        "title": "Not Found Error",
        "resource_type": kind,
        "parameter": parameter,
        "resource_id": value,
        "type": PROBLEMS + "resource-not-found",
    }


class Params:
    """The query string of one request, checked the way X checks it. ``errors`` collects
    every problem; the handler answers 400 with all of them if there is any."""

    def __init__(self, query: Mapping[str, str], allowed: Iterable[str]) -> None:
        self.query = query
        self.errors: list[dict[str, Any]] = []
        allowed = tuple(allowed)
        for name in query:
            if name not in allowed:
                self.errors.append(
                    param_error(
                        name,
                        query[name],
                        f"The query parameter [{name}] is not one of [{','.join(allowed)}]",
                    )
                )

    def fields(self, name: str) -> frozenset[str]:
        raw = self.query.get(name)
        if not raw:
            return frozenset()
        options = LIST_PARAMS[name]
        values = [v for v in raw.split(",") if v]
        bad = [v for v in values if v not in options]
        if bad:
            self.errors.append(
                param_error(
                    name,
                    ",".join(bad),
                    f"The `{name}` query parameter value [{bad[0]}] is not one of "
                    f"[{','.join(options)}]",
                )
            )
        return frozenset(values)

    def expansions(self, options: Iterable[str]) -> frozenset[str]:
        raw = self.query.get("expansions")
        if not raw:
            return frozenset()
        options = tuple(options)
        values = [v for v in raw.split(",") if v]
        bad = [v for v in values if v not in options]
        if bad:
            self.errors.append(
                param_error(
                    "expansions",
                    ",".join(bad),
                    f"The `expansions` query parameter value [{bad[0]}] is not one of "
                    f"[{','.join(options)}]",
                )
            )
        return frozenset(values)

    def max_results(self, low: int, high: int, default: int) -> int:
        raw = self.query.get("max_results")
        if raw is None:
            return default
        if not raw.lstrip("-").isdigit() or not low <= int(raw) <= high:
            self.errors.append(
                param_error(
                    "max_results",
                    raw,
                    f"The `max_results` query parameter value [{raw}] is not between {low} "
                    f"and {high}",
                )
            )
            return default
        return int(raw)

    def snowflake(self, name: str) -> int | None:
        raw = self.query.get(name)
        if raw is None:
            return None
        if not (raw.isdigit() and 1 <= len(raw) <= 19):
            self.errors.append(
                param_error(
                    name,
                    raw,
                    f"The `{name}` query parameter value [{raw}] does not match ^[0-9]{{1,19}}$",
                )
            )
            return None
        return int(raw)

    def time(self, name: str) -> float | None:
        raw = self.query.get(name)
        if raw is None:
            return None
        moment = parse_rfc3339(raw)
        if moment is None:
            self.errors.append(
                param_error(
                    name,
                    raw,
                    f"Invalid '{name}':'{raw}'. '{name}' must be a valid RFC 3339 timestamp "
                    "(YYYY-MM-DDTHH:mm:ssZ).",
                )
            )
        return moment

    def add(self, name: str, value: str, message: str) -> None:
        self.errors.append(param_error(name, value, message))


class Renderer:
    """Builds X's JSON for users, tweets and media with the requested fields, and the
    ``includes`` the requested expansions call for."""

    def __init__(
        self,
        data: XDataset,
        params: Params,
        *,
        tweet_expansions: bool = True,
    ) -> None:
        self.data = data
        self.tweet_fields = params.fields("tweet.fields")
        self.user_fields = params.fields("user.fields")
        self.media_fields = params.fields("media.fields")
        params.fields("poll.fields")
        params.fields("place.fields")
        self.expansions = params.expansions(
            TWEET_EXPANSIONS if tweet_expansions else USER_EXPANSIONS
        )
        self._users: dict[str, dict[str, Any]] = {}
        self._media: dict[str, dict[str, Any]] = {}
        self._tweets: dict[str, dict[str, Any]] = {}

    # -- objects -------------------------------------------------------------------------------

    def user(self, rec: UserRec) -> dict[str, Any]:
        out: dict[str, Any] = {"id": rec.id, "name": rec.name, "username": rec.username}
        f = self.user_fields
        data = self.data
        if "created_at" in f:
            out["created_at"] = iso_millis(rec.created_at)
        if "description" in f:
            out["description"] = rec.description
        if "location" in f:
            out["location"] = rec.location
        if "url" in f:
            out["url"] = rec.url
        if "protected" in f:
            out["protected"] = False
        if "verified" in f:
            out["verified"] = rec.verified
        if "verified_type" in f:
            out["verified_type"] = rec.verified_type
        if "profile_image_url" in f:
            out["profile_image_url"] = (
                f"https://pbs.twimg.com/profile_images/{rec.id}/sandbox_normal.jpg"
            )
        if "public_metrics" in f:
            out["public_metrics"] = {
                "followers_count": data.followers_count(rec.index),
                "following_count": data.following_count(rec.index),
                "tweet_count": data.tweet_count(rec.index),
                "listed_count": rec.listed_count,
                "like_count": rec.like_count,
                "media_count": data.tweet_count(rec.index) // 12,
            }
        return out

    def media(self, rec: MediaRec) -> dict[str, Any]:
        out: dict[str, Any] = {"media_key": rec.key, "type": rec.type}
        f = self.media_fields
        base = f"https://pbs.twimg.com/media/sbx{rec.id}"
        video = f"https://video.twimg.com/ext_tw_video/{rec.id}/pu/vid"
        thumb = "https://pbs.twimg.com/ext_tw_video_thumb"
        if "width" in f:
            out["width"] = rec.width
        if "height" in f:
            out["height"] = rec.height
        if "url" in f and rec.type == "photo":
            out["url"] = base + ".jpg"
        if "preview_image_url" in f and rec.type != "photo":
            out["preview_image_url"] = f"{thumb}/{rec.id}/pu/img/p.jpg"
        if "duration_ms" in f and rec.duration_ms is not None:
            out["duration_ms"] = rec.duration_ms
        if "alt_text" in f and rec.alt_text:
            out["alt_text"] = rec.alt_text
        if "public_metrics" in f and rec.view_count is not None:
            out["public_metrics"] = {"view_count": rec.view_count}
        if "variants" in f and rec.type != "photo":
            size = f"{rec.width}x{rec.height}"
            out["variants"] = [
                {
                    "bit_rate": 2_176_000,
                    "content_type": "video/mp4",
                    "url": f"{video}/{size}/v.mp4",
                },
                {"bit_rate": 632_000, "content_type": "video/mp4", "url": f"{video}/480x270/v.mp4"},
                {"content_type": "application/x-mpegURL", "url": f"{video}/pl/v.m3u8"},
            ]
        return out

    def tweet(self, rec: PostRec, *, expand: bool = True) -> dict[str, Any]:
        """A tweet; ``expand`` adds its expansions to ``includes`` (only for primary data:
        X expands ``includes.tweets`` only through the ``referenced_tweets.id.*`` forms)."""
        out: dict[str, Any] = {"id": rec.id, "text": rec.text, "edit_history_tweet_ids": [rec.id]}
        f = self.tweet_fields
        data = self.data
        if "author_id" in f:
            out["author_id"] = data.user(rec.author).id
        if "created_at" in f:
            out["created_at"] = iso_millis(rec.created_at)
        if "conversation_id" in f:
            out["conversation_id"] = str(rec.conversation)
        if "lang" in f:
            out["lang"] = rec.lang
        if "possibly_sensitive" in f:
            out["possibly_sensitive"] = False
        if "reply_settings" in f:
            out["reply_settings"] = "everyone"
        if "in_reply_to_user_id" in f and rec.reply_to_user is not None:
            out["in_reply_to_user_id"] = data.user(rec.reply_to_user).id
        if "referenced_tweets" in f and rec.reply_to is not None:
            out["referenced_tweets"] = [{"type": "replied_to", "id": str(rec.reply_to)}]
        if "attachments" in f and rec.media_keys:
            out["attachments"] = {"media_keys": list(rec.media_keys)}
        if "edit_controls" in f:
            out["edit_controls"] = {
                "edits_remaining": 5,
                "is_edit_eligible": False,
                "editable_until": iso_millis(rec.created_at + 3_600),
            }
        if "entities" in f and (rec.mentions or rec.hashtags):
            entities: dict[str, Any] = {}
            if rec.mentions:
                entities["mentions"] = [
                    {"start": s, "end": e, "username": data.user(j).username, "id": data.user(j).id}
                    for j, s, e in rec.mentions
                ]
            if rec.hashtags:
                entities["hashtags"] = [
                    {"start": s, "end": e, "tag": t} for t, s, e in rec.hashtags
                ]
            out["entities"] = entities
        if "public_metrics" in f:
            reposts, _, likes, quotes, bookmarks = rec.metrics
            out["public_metrics"] = {
                "retweet_count": reposts,
                "reply_count": data.reply_count(rec),
                "like_count": likes,
                "quote_count": quotes,
                "bookmark_count": bookmarks,
                "impression_count": likes * 37 + reposts * 11 + 5,
            }
        if expand:
            self._expand(rec)
        return out

    # -- includes ------------------------------------------------------------------------------

    def _expand(self, rec: PostRec) -> None:
        data, ex = self.data, self.expansions
        if "author_id" in ex:
            self._add_user(data.user(rec.author))
        if "in_reply_to_user_id" in ex and rec.reply_to_user is not None:
            self._add_user(data.user(rec.reply_to_user))
        if "entities.mentions.username" in ex:
            for j, _, _ in rec.mentions:
                self._add_user(data.user(j))
        if "attachments.media_keys" in ex:
            for key in rec.media_keys:
                media = data.media(key)
                if media is not None and key not in self._media:
                    self._media[key] = self.media(media)
        if "referenced_tweets.id" in ex and rec.reply_to is not None:
            parent = data.get_post(rec.reply_to)
            if parent is not None and parent.id not in self._tweets:
                self._tweets[parent.id] = self.tweet(parent, expand=False)
        if "referenced_tweets.id.author_id" in ex and rec.reply_to is not None:
            parent = data.get_post(rec.reply_to)
            if parent is not None:
                self._add_user(data.user(parent.author))

    def _add_user(self, rec: UserRec) -> None:
        if rec.id not in self._users:
            self._users[rec.id] = self.user(rec)

    def includes(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self._users:
            out["users"] = list(self._users.values())
        if self._tweets:
            out["tweets"] = list(self._tweets.values())
        if self._media:
            out["media"] = list(self._media.values())
        return out

    def body(self, data: Any, meta: dict[str, Any] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if data is not None and data != []:
            out["data"] = data
        includes = self.includes()
        if includes:
            out["includes"] = includes
        if meta is not None:
            out["meta"] = meta
        return out
