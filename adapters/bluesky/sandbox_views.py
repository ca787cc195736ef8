"""The Bluesky sandbox's JSON views, shaped by the app.bsky lexicons.

Views: ``profileViewBasic`` / ``profileView`` / ``profileViewDetailed``, ``postView`` with
hydrated ``images#view`` / ``record#view`` / ``recordWithMedia#view`` embeds, ``feedViewPost``
with ``replyRef``, ``threadViewPost`` trees and notifications. Union members carry ``$type``
as the AppView sends them. Counts are seeded; ``replyCount`` is the real number of replies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from socialgate.sandbox.data import Seeded

from .sandbox_data import CDN, BlueskyDataset, PostRec, UserRec, iso_micros, tid

__all__ = ["Views"]

FEED = "app.bsky.feed.defs"


def _not_found(uri: str) -> dict[str, Any]:
    return {"$type": f"{FEED}#notFoundPost", "uri": uri, "notFound": True}


class Views:
    def __init__(self, data: BlueskyDataset) -> None:
        self.data = data
        self.rand = Seeded(data.seed, "bluesky-views")

    # -- profiles ------------------------------------------------------------------------------

    def _verification(self, user: UserRec) -> dict[str, Any] | None:
        if not user.verified:
            return None
        issuer = self.data.user(1 % self.data.n_users)
        return {
            "verifications": [
                {
                    "issuer": issuer.did,
                    "issuerHandle": issuer.handle,
                    "uri": f"at://{issuer.did}/app.bsky.graph.verification/"
                    + tid(self.data.anchor_us - user.index, 0),
                    "isValid": True,
                    "createdAt": user.created_at,
                }
            ],
            "verifiedStatus": "valid",
            "trustedVerifierStatus": "none",
        }

    def profile_basic(self, user: UserRec) -> dict[str, Any]:
        view: dict[str, Any] = {
            "did": user.did,
            "handle": user.handle,
            "displayName": user.display_name,
            "avatar": user.avatar,
            "associated": {"chat": {"allowIncoming": "following"}},
            "viewer": {"muted": False, "blockedBy": False},
            "labels": [],
            "createdAt": user.created_at,
        }
        verification = self._verification(user)
        if verification is not None:
            view["verification"] = verification
        return view

    def profile(self, user: UserRec) -> dict[str, Any]:
        view = self.profile_basic(user)
        view["description"] = user.description
        view["indexedAt"] = user.created_at
        return view

    def profile_detailed(self, user: UserRec) -> dict[str, Any]:
        view = self.profile(user)
        view["associated"] = {
            "lists": 0,
            "feedgens": 0,
            "starterPacks": 0,
            "labeler": False,
            "chat": {"allowIncoming": "following"},
        }
        view["banner"] = user.banner
        view["followersCount"] = self.data.followers_count(user.index)
        view["followsCount"] = self.data.following_count(user.index)
        view["postsCount"] = self.data.posts_count(user.index)
        return view

    # -- posts ---------------------------------------------------------------------------------

    def _counts(self, rec: PostRec) -> dict[str, int]:
        r = self.rand.rng("counts", rec.uri)
        return {
            "replyCount": self.data.reply_count(rec),
            "repostCount": r.randrange(30),
            "likeCount": r.randrange(200),
            "quoteCount": r.randrange(4),
            "bookmarkCount": r.randrange(10),
        }

    def _images_view(self, embed: Mapping[str, Any], did: str) -> dict[str, Any]:
        images = []
        for image in embed.get("images") or []:
            cid = image["image"]["ref"]["$link"]
            view = {
                "thumb": f"{CDN}/feed_thumbnail/plain/{did}/{cid}@jpeg",
                "fullsize": f"{CDN}/feed_fullsize/plain/{did}/{cid}@jpeg",
                "alt": image.get("alt", ""),
            }
            if "aspectRatio" in image:
                view["aspectRatio"] = image["aspectRatio"]
            images.append(view)
        return {"$type": "app.bsky.embed.images#view", "images": images}

    def _record_view(self, ref: Mapping[str, Any]) -> dict[str, Any]:
        uri = str(ref.get("uri"))
        quoted = self.data.get(uri)
        if quoted is None:
            record: dict[str, Any] = {
                "$type": "app.bsky.embed.record#viewNotFound",
                "uri": uri,
                "notFound": True,
            }
        else:
            counts = self._counts(quoted)
            record = {
                "$type": "app.bsky.embed.record#viewRecord",
                "uri": quoted.uri,
                "cid": quoted.cid,
                "author": self.profile_basic(self.data.user(quoted.author)),
                "value": quoted.record,
                "labels": [],
                "likeCount": counts["likeCount"],
                "replyCount": counts["replyCount"],
                "repostCount": counts["repostCount"],
                "quoteCount": counts["quoteCount"],
                "indexedAt": iso_micros(quoted.at_us),
                "embeds": [],
            }
            inner = quoted.record.get("embed")
            if isinstance(inner, dict) and inner.get("$type") == "app.bsky.embed.images":
                did = self.data.user(quoted.author).did
                record["embeds"] = [self._images_view(inner, did)]
        return {"$type": "app.bsky.embed.record#view", "record": record}

    def embed_view(self, rec: PostRec) -> dict[str, Any] | None:
        embed = rec.record.get("embed")
        if not isinstance(embed, dict):
            return None
        did = self.data.user(rec.author).did
        kind = embed.get("$type")
        if kind == "app.bsky.embed.images":
            return self._images_view(embed, did)
        if kind == "app.bsky.embed.record":
            return self._record_view(embed.get("record") or {})
        if kind == "app.bsky.embed.recordWithMedia":
            return {
                "$type": "app.bsky.embed.recordWithMedia#view",
                "record": self._record_view((embed.get("record") or {}).get("record") or {}),
                "media": self._images_view(embed.get("media") or {}, did),
            }
        return None

    def post_view(self, rec: PostRec, *, typed: bool = False) -> dict[str, Any]:
        view: dict[str, Any] = {"$type": f"{FEED}#postView"} if typed else {}
        view.update(
            {
                "uri": rec.uri,
                "cid": rec.cid,
                "author": self.profile_basic(self.data.user(rec.author)),
                "record": rec.record,
            }
        )
        embed = self.embed_view(rec)
        if embed is not None:
            view["embed"] = embed
        view.update(self._counts(rec))
        view["indexedAt"] = iso_micros(rec.at_us)
        view["viewer"] = {"threadMuted": False, "embeddingDisabled": False}
        view["labels"] = []
        return view

    def _ref_view(self, uri: str | None) -> dict[str, Any]:
        rec = self.data.get(uri) if uri else None
        return self.post_view(rec, typed=True) if rec is not None else _not_found(uri or "")

    def feed_item(self, rec: PostRec) -> dict[str, Any]:
        item: dict[str, Any] = {"post": self.post_view(rec)}
        if rec.parent:
            reply = {"root": self._ref_view(rec.root), "parent": self._ref_view(rec.parent)}
            parent = self.data.get(rec.parent)
            if parent is not None and parent.parent:
                grand = self.data.get(parent.parent)
                if grand is not None:
                    reply["grandparentAuthor"] = self.profile_basic(self.data.user(grand.author))
            item["reply"] = reply
        return item

    def thread(self, rec: PostRec, depth: int, parent_height: int) -> dict[str, Any]:
        node = self._thread_down(rec, depth)
        current, up = node, 0
        uri = rec.parent
        while uri and up < parent_height:
            parent = self.data.get(uri)
            if parent is None:
                current["parent"] = _not_found(uri)
                break
            parent_node = {"$type": f"{FEED}#threadViewPost", "post": self.post_view(parent)}
            current["parent"] = parent_node
            current, up, uri = parent_node, up + 1, parent.parent
        return node

    def _thread_down(self, rec: PostRec, depth: int) -> dict[str, Any]:
        node: dict[str, Any] = {"$type": f"{FEED}#threadViewPost", "post": self.post_view(rec)}
        if depth > 0:
            node["replies"] = [self._thread_down(k, depth - 1) for k in self.data.children(rec)]
        return node

    def notification(self, rec: PostRec, reason: str) -> dict[str, Any]:
        item: dict[str, Any] = {
            "uri": rec.uri,
            "cid": rec.cid,
            "author": self.profile(self.data.user(rec.author)),
            "reason": reason,
        }
        if reason == "reply" and rec.parent:
            item["reasonSubject"] = rec.parent
        item["record"] = rec.record
        item["isRead"] = False
        item["indexedAt"] = iso_micros(rec.at_us)
        item["labels"] = []
        return item
