"""Compose ``app.bsky.feed.post`` records: reply refs, quote and image embeds.

Pure functions over post views (from ``getPosts``) and ``Media`` returned by
``acct.media.upload`` (whose ``raw["blob"]`` is the uploaded blob ref).
"""

from __future__ import annotations

from typing import Any

from socialgate._errors import BadRequest, NotSupported
from socialgate._models import Media

from . import mapping
from .spec import MAX_IMAGES, SPEC

__all__ = ["embed", "images", "reply_refs", "strong_ref"]


def strong_ref(view: dict[str, Any]) -> dict[str, str]:
    """``com.atproto.repo.strongRef`` of a post view."""
    return {"uri": str(view["uri"]), "cid": str(view["cid"])}


def _root_ref(view: dict[str, Any]) -> dict[str, str] | None:
    root = mapping.obj(mapping.obj(view.get("record")).get("reply")).get("root")
    if (
        isinstance(root, dict)
        and isinstance(root.get("uri"), str)
        and isinstance(root.get("cid"), str)
    ):
        return {"uri": root["uri"], "cid": root["cid"]}
    return None


def reply_refs(parent: dict[str, Any]) -> dict[str, dict[str, str]]:
    """``{root, parent}`` for replying to ``parent``: its own root when it is a reply."""
    return {"root": _root_ref(parent) or strong_ref(parent), "parent": strong_ref(parent)}


def images(media: tuple[Media, ...]) -> dict[str, Any]:
    """An ``app.bsky.embed.images`` embed (empty when there is no media)."""
    if not media:
        return {}
    if len(media) > MAX_IMAGES:
        raise BadRequest(f"Bluesky posts take at most {MAX_IMAGES} images", network=SPEC.name)
    result = []
    for item in media:
        blob = item.raw.get("blob") if isinstance(item.raw, dict) else None
        if item.kind != "image":
            raise NotSupported(
                f"Bluesky does not support {item.kind} attachments: only images can be attached",
                network=SPEC.name,
            )
        if not isinstance(blob, dict):
            raise BadRequest(
                f"media {item.id!r} has no Bluesky blob: upload it with acct.media.upload()",
                network=SPEC.name,
            )
        image: dict[str, Any] = {"image": blob, "alt": item.alt_text or ""}
        if item.width and item.height:
            image["aspectRatio"] = {"width": item.width, "height": item.height}
        result.append(image)
    return {"$type": "app.bsky.embed.images", "images": result}


def embed(media: tuple[Media, ...], quoted: dict[str, Any] | None) -> dict[str, Any]:
    """Images, a quoted post, or both (``recordWithMedia``); empty when neither."""
    pictures = images(media)
    if quoted is None:
        return pictures
    record = {"$type": "app.bsky.embed.record", "record": strong_ref(quoted)}
    if not pictures:
        return record
    return {"$type": "app.bsky.embed.recordWithMedia", "record": record, "media": pictures}
