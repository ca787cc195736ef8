"""Map AT Protocol views onto socialgate's Profile, Post and Media models. Pure, no I/O.

- profiles: ``app.bsky.actor.defs#profileViewDetailed`` / ``#profileView`` /
  ``#profileViewBasic`` (the DID is the id, the handle the handle);
- posts: ``app.bsky.feed.defs#postView`` (the ``at://`` URI is the id; text, reply refs and
  languages come from the record, counts from the view, images from the hydrated embed);
- notifications: ``app.bsky.notification.listNotifications#notification`` whose record is a
  post (mentions): the same Post, without counts and with image URLs built from blob CIDs;
- thread views: ``#threadViewPost`` replies flattened depth-first.

Anything that does not fit raises ``UpstreamSchemaError`` with the raw item attached.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from socialgate._errors import UpstreamSchemaError
from socialgate._models import Media, Metrics, Post, Profile, builder

from .spec import WEB_URL

__all__ = [
    "NETWORK",
    "blob_cid",
    "media_from_embed_view",
    "media_from_record",
    "obj",
    "parse_at_uri",
    "parse_datetime",
    "post_from_notification",
    "post_from_view",
    "post_url",
    "profile_from_view",
    "profile_url",
    "thread_replies",
]

NETWORK = "bluesky"
POST_COLLECTION = "app.bsky.feed.post"
CDN = "https://cdn.bsky.app/img"
_SHAPE_ERRORS = (AttributeError, KeyError, TypeError, ValueError)

JSON = dict[str, Any]


# Model(**fields) without BaseModel.__init__ (same validation): one per item mapped.
_new_profile = builder(Profile)
_new_post = builder(Post)


def _schema_error(message: str, item: Any) -> UpstreamSchemaError:
    try:
        text = json.dumps(item, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(item)
    return UpstreamSchemaError(message, body=text[:10_000], network=NETWORK)


def parse_at_uri(uri: str) -> tuple[str, str, str]:
    """``at://<authority>/<collection>/<rkey>`` -> (authority, collection, rkey)."""
    if not isinstance(uri, str) or not uri.startswith("at://"):
        raise ValueError(f"not an at:// URI: {uri!r}")
    parts = uri[len("at://") :].split("/")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"not an at:// record URI (authority/collection/rkey): {uri!r}")
    return parts[0], parts[1], parts[2]


def parse_datetime(value: Any) -> datetime | None:
    """An AT Protocol datetime; ``None`` for absent or unusable values (records are written by
    clients, and some write timestamps without a zone)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def obj(value: Any) -> JSON:
    """``value`` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def profile_url(handle: str | None, did: str) -> str:
    """The bsky.app page; the DID stands in for a handle that no longer resolves."""
    who = handle if handle and handle != "handle.invalid" else did
    return f"{WEB_URL}/profile/{who}"


def post_url(uri: str, handle: str | None) -> str | None:
    try:
        authority, collection, rkey = parse_at_uri(uri)
    except ValueError:
        return None
    if collection != POST_COLLECTION:
        return None
    return f"{profile_url(handle, authority)}/post/{rkey}"


def _verified(view: JSON) -> bool | None:
    state = view.get("verification")
    if not isinstance(state, dict):
        return None
    return "valid" in (state.get("verifiedStatus"), state.get("trustedVerifierStatus"))


def profile_from_view(view: Any) -> Profile:
    """Any profile view (detailed, plain or basic); counts only the detailed view has."""
    if not isinstance(view, dict) or not isinstance(view.get("did"), str):
        raise _schema_error("a Bluesky profile view has no did", view)
    try:
        did, handle = view["did"], _str(view.get("handle"))
        return _new_profile(
            {
                "network": NETWORK,
                "id": did,
                "handle": handle,
                "display_name": _str(view.get("displayName")),
                "description": _str(view.get("description")),
                "url": profile_url(handle, did),
                "avatar_url": _str(view.get("avatar")),
                "followers_count": _int(view.get("followersCount")),
                "following_count": _int(view.get("followsCount")),
                "posts_count": _int(view.get("postsCount")),
                "created_at": parse_datetime(view.get("createdAt")),
                "verified": _verified(view),
                "raw": view,
            }
        )
    except _SHAPE_ERRORS as exc:
        raise _schema_error(f"a Bluesky profile view does not fit: {exc}", view) from None


def _aspect(item: JSON) -> tuple[int | None, int | None]:
    ratio = item.get("aspectRatio")
    if not isinstance(ratio, dict):
        return None, None
    return _int(ratio.get("width")), _int(ratio.get("height"))


def blob_cid(blob: Any) -> str | None:
    if not isinstance(blob, dict):
        return None
    ref = blob.get("ref")
    if isinstance(ref, dict) and isinstance(ref.get("$link"), str):
        return str(ref["$link"])
    return _str(blob.get("cid"))  # legacy blob form


def _record_media(record_embed: Any) -> JSON:
    """The record's own media embed (inside recordWithMedia when quoting)."""
    if not isinstance(record_embed, dict):
        return {}
    if record_embed.get("$type") == "app.bsky.embed.recordWithMedia":
        media = record_embed.get("media")
        return media if isinstance(media, dict) else {}
    return record_embed


def media_from_embed_view(view: Any, record_embed: Any = None) -> tuple[Media, ...]:
    """Images and video of a hydrated embed (``images#view``, ``video#view``, also inside
    ``recordWithMedia#view``). Ids are the blob CIDs from the record where it has them."""
    if not isinstance(view, dict):
        return ()
    kind = view.get("$type")
    if kind == "app.bsky.embed.recordWithMedia#view":
        return media_from_embed_view(view.get("media"), _record_media(record_embed))
    source = _record_media(record_embed)
    if kind == "app.bsky.embed.images#view":
        images = source.get("images")
        blobs: list[Any] = images if isinstance(images, list) else []
        result = []
        for i, image in enumerate(view.get("images") or []):
            if not isinstance(image, dict):
                continue
            raw_blob = obj(blobs[i]).get("image") if i < len(blobs) else None
            width, height = _aspect(image)
            fullsize = _str(image.get("fullsize"))
            result.append(
                Media(
                    id=blob_cid(raw_blob) or _cid_from_cdn(fullsize) or fullsize or str(i),
                    kind="image",
                    url=fullsize,
                    preview_url=_str(image.get("thumb")),
                    alt_text=image.get("alt") if isinstance(image.get("alt"), str) else None,
                    width=width,
                    height=height,
                    network=NETWORK,
                    raw=image,
                )
            )
        return tuple(result)
    if kind == "app.bsky.embed.video#view":
        width, height = _aspect(view)
        cid = blob_cid(source.get("video")) or _str(view.get("cid"))
        return (
            Media(
                id=cid or str(view.get("playlist")),
                kind="video",
                url=_str(view.get("playlist")),
                preview_url=_str(view.get("thumbnail")),
                alt_text=_str(view.get("alt")),
                width=width,
                height=height,
                network=NETWORK,
                raw=view,
            ),
        )
    return ()


def _cid_from_cdn(url: str | None) -> str | None:
    # https://cdn.bsky.app/img/feed_fullsize/plain/<did>/<cid>@jpeg
    if not url:
        return None
    last = url.rsplit("/", 1)[-1]
    return last.split("@", 1)[0] or None


def media_from_record(record: Any, did: str) -> tuple[Media, ...]:
    """Images and video of a bare record (notifications carry no hydrated embed): CDN URLs
    are built from the blob CIDs the way the AppView builds them."""
    if not isinstance(record, dict):
        return ()
    embed = _record_media(record.get("embed"))
    kind = embed.get("$type")
    result: list[Media] = []
    if kind == "app.bsky.embed.images":
        for image in embed.get("images") or []:
            if not isinstance(image, dict):
                continue
            cid = blob_cid(image.get("image"))
            if cid is None:
                continue
            width, height = _aspect(image)
            result.append(
                Media(
                    id=cid,
                    kind="image",
                    url=f"{CDN}/feed_fullsize/plain/{did}/{cid}@jpeg",
                    preview_url=f"{CDN}/feed_thumbnail/plain/{did}/{cid}@jpeg",
                    alt_text=image.get("alt") if isinstance(image.get("alt"), str) else None,
                    width=width,
                    height=height,
                    network=NETWORK,
                    raw=image,
                )
            )
    elif kind == "app.bsky.embed.video":
        cid = blob_cid(embed.get("video"))
        if cid is not None:
            width, height = _aspect(embed)
            result.append(
                Media(
                    id=cid,
                    kind="video",
                    alt_text=_str(embed.get("alt")),
                    width=width,
                    height=height,
                    network=NETWORK,
                    raw=embed,
                )
            )
    return tuple(result)


def _reply_refs(record: JSON) -> tuple[str | None, str | None]:
    reply = record.get("reply")
    if not isinstance(reply, dict):
        return None, None
    return _str(obj(reply.get("parent")).get("uri")), _str(obj(reply.get("root")).get("uri"))


def _lang(record: JSON) -> str | None:
    langs = record.get("langs")
    if isinstance(langs, list) and langs and isinstance(langs[0], str):
        return str(langs[0])
    return None


def _post(
    *,
    uri: str,
    author: Profile | None,
    author_id: str | None,
    record: JSON,
    indexed_at: Any,
    metrics: Metrics,
    media: tuple[Media, ...],
    raw: JSON,
) -> Post:
    parent, root = _reply_refs(record)
    text = record.get("text")
    return _new_post(
        {
            "network": NETWORK,
            "id": uri,
            "author_id": author_id,
            "author": author,
            "text": text if isinstance(text, str) else "",
            "created_at": parse_datetime(record.get("createdAt")) or parse_datetime(indexed_at),
            "url": post_url(uri, author.handle if author else None),
            "reply_to_id": parent,
            "conversation_id": root or uri,
            "lang": _lang(record),
            "metrics": metrics,
            "media": media,
            "raw": raw,
        }
    )


def post_from_view(view: Any) -> Post:
    """A ``postView``."""
    if not isinstance(view, dict) or not isinstance(view.get("uri"), str):
        raise _schema_error("a Bluesky post view has no uri", view)
    record = view.get("record")
    if not isinstance(record, dict):
        raise _schema_error("a Bluesky post view has no record", view)
    try:
        author = profile_from_view(view["author"]) if view.get("author") is not None else None
        return _post(
            uri=view["uri"],
            author=author,
            author_id=author.id if author else None,
            record=record,
            indexed_at=view.get("indexedAt"),
            metrics=Metrics(
                likes=_int(view.get("likeCount")),
                reposts=_int(view.get("repostCount")),
                replies=_int(view.get("replyCount")),
                quotes=_int(view.get("quoteCount")),
                bookmarks=_int(view.get("bookmarkCount")),
            ),
            media=media_from_embed_view(view.get("embed"), record.get("embed")),
            raw=view,
        )
    except UpstreamSchemaError:
        raise
    except _SHAPE_ERRORS as exc:
        raise _schema_error(f"a Bluesky post view does not fit: {exc}", view) from None


def post_from_notification(item: Any) -> Post:
    """A notification whose record is a post (mention, reply, quote)."""
    if not isinstance(item, dict) or not isinstance(item.get("uri"), str):
        raise _schema_error("a Bluesky notification has no uri", item)
    record = item.get("record")
    if not isinstance(record, dict):
        raise _schema_error("a Bluesky notification has no record", item)
    try:
        author = profile_from_view(item["author"]) if item.get("author") is not None else None
        did = author.id if author else parse_at_uri(item["uri"])[0]
        return _post(
            uri=item["uri"],
            author=author,
            author_id=did,
            record=record,
            indexed_at=item.get("indexedAt"),
            metrics=Metrics(),
            media=media_from_record(record, did),
            raw=item,
        )
    except UpstreamSchemaError:
        raise
    except _SHAPE_ERRORS as exc:
        raise _schema_error(f"a Bluesky notification does not fit: {exc}", item) from None


def _is_thread_post(node: Any) -> bool:
    return isinstance(node, dict) and isinstance(node.get("post"), dict)


def thread_replies(thread: Any) -> Iterator[Post]:
    """Every reply under a ``threadViewPost``, depth-first (a reply, then its replies), with
    ``reply_to_id`` the parent in the tree. Not-found and blocked replies are skipped."""
    if not _is_thread_post(thread):
        return
    stack: list[tuple[Any, str]] = [
        (child, thread["post"]["uri"]) for child in reversed(thread.get("replies") or [])
    ]
    while stack:
        node, parent_uri = stack.pop()
        if not _is_thread_post(node):
            continue
        post = post_from_view(node["post"])
        if post.reply_to_id != parent_uri:
            post = post.model_copy(update={"reply_to_id": parent_uri})
        yield post
        stack.extend((child, post.id) for child in reversed(node.get("replies") or []))
