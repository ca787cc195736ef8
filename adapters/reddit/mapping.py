"""Reddit JSON (things: ``t1`` comments, ``t2`` accounts, ``t3`` submissions) to socialgate models.

Choices, each checked against recorded payloads in tests/fixtures/reddit/:

- ids are fullnames (``t3_abc``, ``t1_def``, ``t2_ghi``), the form Reddit's API takes back;
- ``Post.text`` is a comment's ``body``, or a submission's title followed by a blank line and
  its ``selftext`` when it has one (Markdown, as ``raw_json=1`` returns it): the title is a
  submission's main content, and a link post has no other text. The title is also kept as
  the extra field ``title`` and the subreddit as ``subreddit``;
- ``reply_to_id`` is a comment's ``parent_id``; ``conversation_id`` is the submission
  (``link_id`` for comments, the submission's own fullname for submissions);
- metrics: ``likes`` = ``ups`` (Reddit no longer shows downvotes, so it equals the score),
  ``replies`` = ``num_comments`` for submissions, ``views`` = ``view_count`` (usually null);
  Reddit has no reposts, quotes or public bookmark counts;
- ``Profile.verified`` is Reddit's own ``verified`` flag (an account Reddit verified by email),
  not a public-figure badge: Reddit has none. ``followers_count`` is the subscriber count of the
  user's profile subreddit, which Reddit reports as 0 to others for many accounts.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from socialgate._errors import UpstreamSchemaError
from socialgate._models import Media, Metrics, Post, Profile, builder

from .spec import WEB_URL

__all__ = [
    "comments_in_tree",
    "post_from_thing",
    "posts_from_listing",
    "profile_from_user",
]

NETWORK = "reddit"
_THREAD = re.compile(r"/comments/([a-z0-9]+)", re.IGNORECASE)


# Model(**fields) without BaseModel.__init__ (same validation): one per item mapped.
_new_profile = builder(Profile)
_new_post = builder(Post)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _time(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(float(value), UTC)


def _url(value: Any) -> str | None:
    """Reddit escapes ``&`` in URLs unless ``raw_json=1``; undo it either way."""
    text = _str(value)
    return html.unescape(text) if text else None


def profile_from_user(data: dict[str, Any]) -> Profile:
    """A ``t2`` account (``/api/v1/me``, ``/user/<name>/about``)."""
    name = _str(data.get("name"))
    raw_id = _str(data.get("id"))
    if name is None or raw_id is None:
        raise UpstreamSchemaError(
            "Reddit's account has no id or name", network=NETWORK, body=str(data)[:10_000]
        )
    sub: dict[str, Any] = data["subreddit"] if isinstance(data.get("subreddit"), dict) else {}
    return _new_profile(
        {
            "network": NETWORK,
            "id": raw_id if raw_id.startswith("t2_") else f"t2_{raw_id}",
            "handle": name,
            "display_name": _str(sub.get("title")) or name,
            "description": _str(sub.get("public_description")),
            "url": f"{WEB_URL}/user/{name}/",
            "avatar_url": _url(data.get("icon_img")) or _url(data.get("snoovatar_img")),
            "followers_count": _int(sub.get("subscribers")),
            "created_at": _time(data.get("created_utc")),
            "verified": data.get("verified") if isinstance(data.get("verified"), bool) else None,
            "raw": data,
        }
    )


def _author(data: dict[str, Any]) -> Profile | None:
    fullname = _str(data.get("author_fullname"))
    name = _str(data.get("author"))
    if fullname is None or name is None or name == "[deleted]":
        return None
    return Profile(network=NETWORK, id=fullname, handle=name, url=f"{WEB_URL}/user/{name}/", raw={})


def _web(path: Any) -> str | None:
    text = _str(path)
    if text is None:
        return None
    return text if text.startswith("http") else WEB_URL + text


def post_from_thing(thing: dict[str, Any]) -> Post | None:
    """A ``t3`` submission or ``t1`` comment (listing child, ``/api/info`` item, comment
    tree node or inbox mention); ``None`` for other kinds (``more``, messages)."""
    kind = thing.get("kind")
    data = thing.get("data")
    if kind not in ("t1", "t3") or not isinstance(data, dict):
        return None
    name = _str(data.get("name")) or (f"{kind}_{data['id']}" if _str(data.get("id")) else None)
    if name is None:
        raise UpstreamSchemaError(
            f"Reddit's {kind} item has no id", network=NETWORK, body=str(data)[:10_000]
        )
    likes = _int(data.get("ups"))
    if likes is None:
        likes = _int(data.get("score"))
    extra: dict[str, Any] = {}
    if _str(data.get("subreddit")):
        extra["subreddit"] = data["subreddit"]
    if kind == "t3":
        title = data.get("title") if isinstance(data.get("title"), str) else ""
        extra["title"] = title
        body = data.get("selftext")
        text = f"{title}\n\n{body}" if isinstance(body, str) and body else title
        reply_to = None
        conversation: str | None = name
        replies = _int(data.get("num_comments"))
        url = _web(data.get("permalink"))
    else:
        text = data.get("body")
        reply_to = _str(data.get("parent_id"))
        conversation = _str(data.get("link_id")) or _thread_of(data.get("context"))
        # An inbox item's num_comments counts the whole thread, not this comment's replies.
        replies = None
        context = _str(data.get("context"))
        url = _web(data.get("permalink")) or _web(context.split("?", 1)[0] if context else None)
    return _new_post(
        {
            "network": NETWORK,
            "id": name,
            "author_id": _str(data.get("author_fullname")),
            "author": _author(data),
            "text": text if isinstance(text, str) else "",
            "created_at": _time(data.get("created_utc")),
            "url": url,
            "reply_to_id": reply_to,
            "conversation_id": conversation,
            "metrics": Metrics(likes=likes, replies=replies, views=_int(data.get("view_count"))),
            "media": tuple(media_of(data)),
            "raw": data,
            **extra,
        }
    )


def _thread_of(context: Any) -> str | None:
    match = _THREAD.search(context) if isinstance(context, str) else None
    return f"t3_{match.group(1)}" if match else None


def posts_from_listing(body: Any) -> list[Post]:
    """The posts of a ``Listing`` (or of ``/api/morechildren``'s ``json.data.things``)."""
    if isinstance(body, dict) and isinstance(body.get("json"), dict):
        data = body["json"].get("data") or {}
        children = data.get("things") or []
    else:
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("children"), list):
            raise UpstreamSchemaError(
                "Reddit answered something that is not a Listing",
                network=NETWORK,
                body=str(body)[:10_000],
            )
        children = data["children"]
    return [p for c in children if isinstance(c, dict) and (p := post_from_thing(c)) is not None]


def comments_in_tree(children: list[Any]) -> Iterator[dict[str, Any]]:
    """Depth-first walk of a comment tree's ``t1`` and ``more`` things, parents first."""
    for child in children:
        if not isinstance(child, dict):
            continue
        yield child
        data = child.get("data")
        replies = data.get("replies") if isinstance(data, dict) else None
        if isinstance(replies, dict):
            nested = (replies.get("data") or {}).get("children")
            if isinstance(nested, list):
                yield from comments_in_tree(nested)


# -- media ---------------------------------------------------------------------------------

_KIND_BY_E = {"Image": "image", "AnimatedImage": "gif", "RedditVideo": "video"}


def media_of(data: dict[str, Any]) -> Iterator[Media]:
    """Media of a submission (gallery ``media_metadata``, hosted video, image preview) or the
    inline images of a comment. Link posts' previews are thumbnails of another site and are
    not media of the post."""
    metadata = data.get("media_metadata")
    if isinstance(metadata, dict) and metadata:
        yield from _gallery(data, metadata)
        return
    video = _reddit_video(data)
    images = (data.get("preview") or {}).get("images") if isinstance(data, dict) else None
    first = images[0] if isinstance(images, list) and images else None
    source = first.get("source", {}) if isinstance(first, dict) else {}
    if video is not None:
        fallback = _url(video.get("fallback_url"))
        video_id = None
        if fallback:
            video_id = fallback.split("v.redd.it/", 1)[-1].split("/", 1)[0]
        yield Media(
            id=video_id or str(data.get("id", "")),
            kind="gif" if video.get("is_gif") else "video",
            url=fallback,
            preview_url=_url(source.get("url")),
            width=_int(video.get("width")),
            height=_int(video.get("height")),
            network=NETWORK,
            raw=video,
        )
        return
    if data.get("post_hint") == "image" and isinstance(first, dict):
        is_gif = bool((first.get("variants") or {}).get("gif"))
        yield Media(
            id=str(first.get("id") or data.get("id", "")),
            kind="gif" if is_gif else "image",
            url=_url(data.get("url_overridden_by_dest")) or _url(data.get("url")),
            preview_url=_url(source.get("url")),
            width=_int(source.get("width")),
            height=_int(source.get("height")),
            network=NETWORK,
            raw=first,
        )


def _reddit_video(data: dict[str, Any]) -> dict[str, Any] | None:
    for key in ("secure_media", "media"):
        holder = data.get(key)
        if isinstance(holder, dict) and isinstance(holder.get("reddit_video"), dict):
            video: dict[str, Any] = holder["reddit_video"]
            return video
    return None


def _gallery(data: dict[str, Any], metadata: dict[str, Any]) -> Iterator[Media]:
    items = (data.get("gallery_data") or {}).get("items")
    order: list[tuple[str, str | None]] = []
    if isinstance(items, list):
        order = [
            (str(i["media_id"]), _str(i.get("caption")))
            for i in items
            if isinstance(i, dict) and i.get("media_id")
        ]
    known = {media_id for media_id, _ in order}
    order += [(key, None) for key in metadata if key not in known]
    for media_id, caption in order:
        meta = metadata.get(media_id)
        if not isinstance(meta, dict) or meta.get("status") != "valid":
            continue  # still processing or failed: Reddit gives no URL
        source: dict[str, Any] = meta["s"] if isinstance(meta.get("s"), dict) else {}
        previews: list[Any] = meta["p"] if isinstance(meta.get("p"), list) else []
        largest: dict[str, Any] = (
            previews[-1] if previews and isinstance(previews[-1], dict) else {}
        )
        yield Media(
            id=media_id,
            kind=_KIND_BY_E.get(str(meta.get("e")), "other"),
            url=_url(source.get("u")) or _url(source.get("gif")) or _url(source.get("mp4")),
            preview_url=_url(largest.get("u")),
            alt_text=caption,
            width=_int(source.get("x")),
            height=_int(source.get("y")),
            network=NETWORK,
            raw=meta,
        )
