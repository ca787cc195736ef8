"""The X API v2 adapter: which endpoint answers each contract call, and how to read it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from socialgate._adapter import Adapter
from socialgate._errors import BadRequest, NotFound, UpstreamSchemaError
from socialgate._models import Draft, Media, Post, Profile
from socialgate._pagination import PageQuery, PageRequest, TokenInMeta

from . import mapping
from .spec import SPEC

TWEET_FIELDS = (
    "attachments,author_id,conversation_id,created_at,entities,in_reply_to_user_id,lang,"
    "note_tweet,public_metrics,referenced_tweets,reply_settings,possibly_sensitive"
)
USER_FIELDS = (
    "created_at,description,id,name,profile_image_url,public_metrics,url,username,verified,"
    "verified_type"
)
MEDIA_FIELDS = "alt_text,duration_ms,height,media_key,preview_image_url,type,url,variants,width"
POST_EXPANSIONS = "author_id,attachments.media_keys,referenced_tweets.id"

POST_PARAMS = {
    "tweet.fields": TWEET_FIELDS,
    "user.fields": USER_FIELDS,
    "media.fields": MEDIA_FIELDS,
    "expansions": POST_EXPANSIONS,
}
USER_PARAMS = {"user.fields": USER_FIELDS}

# Chunk size for APPEND: X accepts up to 5 MB per segment.
UPLOAD_CHUNK = 4 * 1024 * 1024
UPLOAD_TIMEOUT = 600.0
# Options of POST /2/tweets a Draft may pass through (CreatePostsRequest in the OpenAPI spec).
CREATE_OPTIONS = frozenset(
    {
        "card_uri",
        "community_id",
        "direct_message_deep_link",
        "for_super_followers_only",
        "geo",
        "made_with_ai",
        "nullcast",
        "paid_partnership",
        "poll",
        "reply_settings",
        "share_with_followers",
        "edit_options",
    }
)
_MEDIA_CATEGORY = {"image/gif": "tweet_gif"}


def _x_time(value: datetime) -> str:
    if value.tzinfo is None:
        raise BadRequest("since/until must be timezone-aware datetimes", network="x")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _window(since: datetime | None, until: datetime | None) -> dict[str, str]:
    params = {}
    if since is not None:
        params["start_time"] = _x_time(since)
    if until is not None:
        params["end_time"] = _x_time(until)
    return params


def _posts(body: Any, response: httpx.Response) -> list[Post]:
    return mapping.posts_from_response(body)


def _profiles(body: Any, response: httpx.Response) -> list[Profile]:
    return mapping.profiles_from_response(body)


def _not_found_if_empty(body: Any, what: str) -> None:
    """X answers a missing item with 200 and only ``errors``."""
    if isinstance(body, dict) and "data" not in body and body.get("errors"):
        first = body["errors"][0] if isinstance(body["errors"][0], dict) else {}
        raise NotFound(
            f"X has no {what}: {first.get('detail') or first.get('title') or 'not found'}",
            network="x",
            status=200,
            code=str(first.get("type", "")).rsplit("/", 1)[-1] or None,
            upstream_message=first.get("detail"),
        )


class XAdapter(Adapter):
    spec = SPEC
    bearer_is_app_only = True

    def __init__(self, account: Any) -> None:
        super().__init__(account)
        self._me_id: str | None = None

    # -- profiles ----------------------------------------------------------------------------

    async def me(self) -> Profile:
        body = await self.account.call_json("GET", "/2/users/me", params=USER_PARAMS)
        profile = mapping.profile_from_response(body)
        self._me_id = profile.id
        return profile

    async def get_profile(self, id_or_handle: str) -> Profile:
        path = self._user_path(id_or_handle)
        body = await self.account.call_json("GET", path, params=USER_PARAMS)
        _not_found_if_empty(body, f"user '{id_or_handle}'")
        return mapping.profile_from_response(body)

    async def followers(self, user_id: str, options: dict[str, Any]) -> PageQuery[Profile]:
        uid = await self._user_id(user_id)
        params = {**USER_PARAMS, "max_results": options.pop("page_size", 1000), **options}
        return PageQuery(
            PageRequest("GET", f"/2/users/{uid}/followers", params),
            TokenInMeta("pagination_token"),
            _profiles,
            bucket="users.followers",
        )

    # -- posts -------------------------------------------------------------------------------

    async def get_post(self, post_id: str) -> Post:
        body = await self.account.call_json("GET", f"/2/tweets/{post_id}", params=POST_PARAMS)
        _not_found_if_empty(body, f"post {post_id}")
        return mapping.post_from_response(body)

    async def list_posts(
        self, user_id: str, since: datetime | None, until: datetime | None, options: dict[str, Any]
    ) -> PageQuery[Post]:
        uid = await self._user_id(user_id)
        params = {
            **POST_PARAMS,
            "max_results": options.pop("page_size", 100),
            **_window(since, until),
            **options,
        }
        return PageQuery(
            PageRequest("GET", f"/2/users/{uid}/tweets", params),
            TokenInMeta("pagination_token"),
            _posts,
            bucket="tweets.timeline",
        )

    async def search_posts(
        self, query: str, since: datetime | None, until: datetime | None, options: dict[str, Any]
    ) -> PageQuery[Post]:
        archive = bool(options.pop("archive", False))
        path, bucket = (
            ("/2/tweets/search/all", "tweets.search_all")
            if archive
            else ("/2/tweets/search/recent", "tweets.search")
        )
        params = {
            **POST_PARAMS,
            "query": query,
            "max_results": options.pop("page_size", 100),
            **_window(since, until),
            **options,
        }
        return PageQuery(
            PageRequest("GET", path, params), TokenInMeta("next_token"), _posts, bucket
        )

    async def replies(self, post_id: str, options: dict[str, Any]) -> PageQuery[Post]:
        # Replies are the rest of the post's conversation; recent search covers 7 days,
        # archive=True searches everything (needs full-archive access).
        return await self.search_posts(f"conversation_id:{post_id}", None, None, options)

    async def mentions(
        self, since: datetime | None, until: datetime | None, options: dict[str, Any]
    ) -> PageQuery[Post]:
        uid = await self._own_id()
        params = {
            **POST_PARAMS,
            "max_results": options.pop("page_size", 100),
            **_window(since, until),
            **options,
        }
        return PageQuery(
            PageRequest("GET", f"/2/users/{uid}/mentions", params),
            TokenInMeta("pagination_token"),
            _posts,
            bucket="tweets.mentions",
        )

    async def create_post(self, draft: Draft) -> Post:
        unknown = set(draft.options) - CREATE_OPTIONS
        if unknown:
            raise BadRequest(
                f"X does not take Draft options {sorted(unknown)}; known: {sorted(CREATE_OPTIONS)}",
                network="x",
            )
        payload: dict[str, Any] = {"text": draft.text, **draft.options}
        if draft.media:
            payload["media"] = {"media_ids": [m.id for m in draft.media]}
        if draft.reply_to_id:
            payload["reply"] = {"in_reply_to_tweet_id": draft.reply_to_id}
        if draft.quote_id:
            payload["quote_tweet_id"] = draft.quote_id
        body = await self.account.call_json(
            "POST", "/2/tweets", json=payload, bucket="tweets.create"
        )
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or "id" not in data:
            raise UpstreamSchemaError(
                "X accepted the post but its answer has no data.id; the post may exist",
                network="x",
                body=str(body)[:10_000],
            )
        return Post(
            network="x",
            id=str(data["id"]),
            author_id=self._me_id,
            text=str(data.get("text", draft.text)),
            url=f"https://x.com/i/web/status/{data['id']}",
            reply_to_id=draft.reply_to_id,
            media=draft.media,
            raw=data,
        )

    async def delete_post(self, post_id: str) -> None:
        body = await self.account.call_json(
            "DELETE", f"/2/tweets/{post_id}", bucket="tweets.delete"
        )
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or data.get("deleted") is not True:
            _not_found_if_empty(body, f"post {post_id}")
            raise UpstreamSchemaError(
                f"X did not confirm deleting post {post_id}", network="x", body=str(body)[:10_000]
            )

    # -- media -------------------------------------------------------------------------------

    async def upload_media(
        self, data: bytes, mime_type: str, alt_text: str | None, options: dict[str, Any]
    ) -> Media:
        category = (
            options.pop("media_category", None)
            or _MEDIA_CATEGORY.get(mime_type)
            or ("tweet_video" if mime_type.startswith("video/") else "tweet_image")
        )
        init = await self.account.call_json(
            "POST",
            "/2/media/upload/initialize",
            json={"media_type": mime_type, "total_bytes": len(data), "media_category": category},
            bucket="media.upload",
        )
        media_id = _data_field(init, "id", "media upload INIT")
        for index, start in enumerate(range(0, len(data), UPLOAD_CHUNK)):
            # Re-sending one segment index replaces it, so APPEND is safe to retry.
            await self.account.call(
                "POST",
                f"/2/media/upload/{media_id}/append",
                data={"segment_index": str(index)},
                files={"media": ("chunk", data[start : start + UPLOAD_CHUNK], mime_type)},
                bucket="media.upload",
                idempotent=True,
            )
        final = await self.account.call_json(
            "POST", f"/2/media/upload/{media_id}/finalize", bucket="media.upload", idempotent=True
        )
        state: dict[str, Any] = final.get("data", {}) if isinstance(final, dict) else {}
        polled = False

        async def check() -> float | None:
            # Called again after each wait: fetch STATUS only once check_after_secs passed.
            nonlocal state, polled
            if polled:
                status = await self.account.call_json(
                    "GET",
                    "/2/media/upload",
                    params={"command": "STATUS", "media_id": media_id},
                    bucket="media.upload",
                )
                state = status.get("data", {}) if isinstance(status, dict) else {}
            info = state.get("processing_info") or {}
            if info.get("state") in (None, "succeeded"):
                return None
            if info.get("state") == "failed":
                error = info.get("error") or {}
                raise BadRequest(
                    f"X could not process the media: {error.get('message') or 'failed'}",
                    network="x",
                    code=str(error.get("code")) if error.get("code") else None,
                )
            polled = True
            return float(info.get("check_after_secs") or 1)

        await self.account.poll(check, max_seconds=UPLOAD_TIMEOUT, what="X media processing")
        if alt_text:
            await self.account.call(
                "POST",
                "/2/media/metadata",
                json={"id": media_id, "metadata": {"alt_text": {"text": alt_text}}},
                bucket="media.upload",
                idempotent=True,
            )
        kind = "gif" if mime_type == "image/gif" else mime_type.split("/", 1)[0]
        size = state.get("image") or state.get("video") or {}
        return Media(
            id=media_id,
            kind=kind if kind in ("image", "video", "gif") else "other",
            alt_text=alt_text,
            width=size.get("w"),
            height=size.get("h"),
            network="x",
            raw={**state, "media_key": state.get("media_key") or init["data"].get("media_key")},
        )

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _user_path(id_or_handle: str) -> str:
        value = id_or_handle.strip()
        if value.isdigit():
            return f"/2/users/{value}"
        return f"/2/users/by/username/{value.removeprefix('@')}"

    async def _user_id(self, id_or_handle: str) -> str:
        if id_or_handle.isdigit():
            return id_or_handle
        return (await self.get_profile(id_or_handle)).id

    async def _own_id(self) -> str:
        if self._me_id is None:
            await self.me()
        assert self._me_id is not None
        return self._me_id


def _data_field(body: Any, field: str, what: str) -> str:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or field not in data:
        raise UpstreamSchemaError(
            f"{what}: X's answer has no data.{field}", network="x", body=str(body)[:10_000]
        )
    return str(data[field])
