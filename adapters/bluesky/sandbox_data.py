"""The Bluesky sandbox's dataset: seeded accounts and post records derived on demand from
``(seed, index)``, plus an overlay of what clients wrote (records, deletions, blobs).

Layout, deterministic for one seed:

- account ``j`` (``0 <= j < users``) has a ``did:plc`` DID and a ``*.bsky.social`` handle;
  account 0 is the demo account ``sandbox-demo.bsky.social``;
- post ``i`` (``0 <= i < posts``) is an ``app.bsky.feed.post`` record by ``author(i)``; posts
  are spread over the six days before the anchor, oldest first; the record key is a TID of
  the post's time, so ``at://`` URIs map back to ``i`` without an index;
- a quarter of posts reply to one of the 30 posts before them (with root and parent refs);
  about one in eight mentions one of the first five accounts (mostly the demo account), one
  in five carries a #hashtag, one in ten a link, one in twelve images, one in thirty quotes
  an older post; some texts start with an emoji, so facet offsets count UTF-8 bytes;
- account ``v`` follows account ``u`` with a seeded probability.

Who wrote which post and who follows whom is the shared ``SeededGraph``; this module adds
Bluesky's DIDs, handles, records, facets and embeds.

CIDs have the real CIDv1 layout (sha-256 multihash, base32): ``bafyrei...`` for records over
their JSON (the real network hashes DAG-CBOR), ``bafkrei...`` for raw blobs.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from socialgate.sandbox.data import FIRST_NAMES, LAST_NAMES, WORDS, Seeded, SeededGraph, sentence

__all__ = ["BlueskyDataset", "PostRec", "UserRec", "cid_for", "iso_micros", "tid", "tid_micros"]

DEMO_HANDLE = "sandbox-demo.bsky.social"
POST = "app.bsky.feed.post"
CDN = "https://cdn.bsky.app/img"
MENTIONABLE = 5
REPLY_RATE = 0.25
MENTION_RATE = 0.12
TAG_RATE = 0.2
LINK_RATE = 0.1
IMAGE_RATE = 0.08
QUOTE_RATE = 0.03
EMOJI_RATE = 0.15
MAX_PARENT_GAP = 30
SPREAD_US = 6 * 86_400 * 1_000_000
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_EMOJI = ("🚀", "✨", "📈", "🦋", "☕", "🎉", "Grüße", "日本語")
_LANGS = (["en"], ["en"], ["en"], ["en"], ["en"], ["en", "de"], ["de"], ["ja"])
_ASPECTS = ((1200, 675), (1080, 1080), (1920, 1080), (720, 1280))


def tid(micros: int, clock_id: int) -> str:
    """A timestamp identifier: 53 bits of microseconds and 10 of clock id, sortable base32."""
    n = (micros << 10) | (clock_id & 0x3FF)
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[n & 31])
        n >>= 5
    return "".join(reversed(chars))


def tid_micros(value: str) -> tuple[int, int] | None:
    """``(micros, clock_id)`` of a TID, or ``None`` if it is not one."""
    if len(value) != 13 or any(c not in _TID_ALPHABET for c in value):
        return None
    n = 0
    for c in value:
        n = (n << 5) | _TID_ALPHABET.index(c)
    return n >> 10, n & 0x3FF


def cid_for(data: bytes, codec: int = 0x71) -> str:
    """A CIDv1 (base32) with a sha-256 multihash: codec 0x71 dag-cbor, 0x55 raw."""
    raw = bytes([0x01, codec, 0x12, 0x20]) + hashlib.sha256(data).digest()
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


def iso_micros(micros: int, digits: int = 3) -> str:
    moment = datetime.fromtimestamp(micros / 1_000_000, UTC)
    frac = f"{moment.microsecond:06d}"[:digits]
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + frac + "Z"


@dataclass(frozen=True, slots=True)
class UserRec:
    index: int
    did: str
    handle: str
    display_name: str
    description: str
    created_at: str
    avatar: str
    banner: str
    verified: bool


@dataclass(frozen=True, slots=True)
class PostRec:
    uri: str
    cid: str
    author: int
    record: dict[str, Any]
    at_us: int  # indexedAt, and the feed's sort key
    index: int | None = None  # seeded post number; None for client-created posts
    parent: str | None = None
    root: str | None = None
    mentions: tuple[int, ...] = ()

    @property
    def rkey(self) -> str:
        return self.uri.rsplit("/", 1)[-1]


@dataclass
class BlobRec:
    owner: int
    mime: str
    size: int


@dataclass
class Overlay:
    """What clients wrote. Created posts are kept newest last."""

    posts: dict[str, PostRec] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    blobs: dict[str, BlobRec] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)
    last_us: int = 0


class BlueskyDataset:
    def __init__(self, seed: int, posts: int, users: int | None, anchor: float) -> None:
        self.seed = seed
        self.n_posts = posts
        self.n_users = SeededGraph.user_count(posts, users)
        self.anchor_us = int(anchor * 1_000_000)
        self.step_us = max(1_000, SPREAD_US // max(posts, 1))
        self.rand = Seeded(seed, "bluesky")
        self.graph = SeededGraph(
            self.rand,
            self.n_users,
            posts,
            MENTIONABLE,
            reply_rate=REPLY_RATE,
            max_parent_gap=MAX_PARENT_GAP,
        )
        # The graph's queries, under the names the emulator calls on the dataset.
        self.author = self.graph.author
        self.follows = self.graph.follows
        self.followers_count = self.graph.followers_count
        self.following_count = self.graph.following_count
        self.followers_desc = self.graph.followers_desc
        self.is_reply = self.graph.seeded_reply
        self.parent = self.graph.parent
        self.seeded_children = self.graph.replies_to
        self.overlay = Overlay()
        self._post: Callable[[int], PostRec] = lru_cache(maxsize=65_536)(self._build_post)
        self._user: Callable[[int], UserRec] = lru_cache(maxsize=16_384)(self._build_user)
        self._root: Callable[[int], int] = lru_cache(maxsize=65_536)(self.graph.root)
        self._did_index = {self._did(j): j for j in range(self.n_users)}

    # -- accounts ------------------------------------------------------------------------------

    def _did(self, j: int) -> str:
        digest = hashlib.blake2b(f"{self.seed}|did|{j}".encode(), digest_size=15).digest()
        return "did:plc:" + base64.b32encode(digest).decode().lower()[:24]

    def user(self, j: int) -> UserRec:
        return self._user(j)

    def _build_user(self, j: int) -> UserRec:
        r = self.rand.rng("user", j)
        first, last = r.choice(FIRST_NAMES), r.choice(LAST_NAMES)
        if j == 0:
            handle, name = DEMO_HANDLE, "Sandbox Demo"
        else:
            handle, name = f"{first}{last}{j}.bsky.social".lower(), f"{first} {last}"
        topic = " and ".join(r.sample(WORDS, 2))
        did = self._did(j)
        avatar = cid_for(f"avatar|{did}".encode(), 0x55)
        banner = cid_for(f"banner|{did}".encode(), 0x55)
        created = self.anchor_us - 86_400_000_000 * (400 + r.randrange(700))
        return UserRec(
            index=j,
            did=did,
            handle=handle,
            display_name=name,
            description=f"Writing about {topic}. Sandbox account #{j}.",
            created_at=iso_micros(created),
            avatar=f"{CDN}/avatar/plain/{did}/{avatar}@jpeg",
            banner=f"{CDN}/banner/plain/{did}/{banner}@jpeg",
            verified=r.random() < 0.1,
        )

    def actor(self, value: str) -> UserRec | None:
        """An account by DID or handle (case-insensitive)."""
        if value.startswith("did:"):
            j = self._did_index.get(value)
            return None if j is None else self.user(j)
        wanted = value.lower()
        if wanted == DEMO_HANDLE:
            return self.user(0)
        digits = wanted.split(".", 1)[0]
        digits = digits[len(digits.rstrip("0123456789")) :]
        if digits:
            j = int(digits)
            if 0 < j < self.n_users and self.user(j).handle == wanted:
                return self.user(j)
        return None

    def posts_count(self, j: int) -> int:
        seeded = self.graph.seeded_posts_of(j)
        mine = sum(1 for p in self.overlay.posts.values() if p.author == j)
        gone = sum(
            1
            for uri in self.overlay.deleted
            if (rec := self.seeded_by_uri(uri, deleted_too=True)) is not None and rec.author == j
        )
        return seeded + mine - gone

    # -- seeded posts --------------------------------------------------------------------------

    def at_us(self, i: int) -> int:
        return self.anchor_us - (self.n_posts - i) * self.step_us

    def uri_of(self, i: int) -> str:
        return f"at://{self.user(self.author(i)).did}/{POST}/{tid(self.at_us(i), i % 1024)}"

    def post(self, i: int) -> PostRec:
        return self._post(i)

    def _build_post(self, i: int) -> PostRec:
        r = self.rand.rng("post", i)
        author = self.author(i)
        at_us = self.at_us(i)
        text = ""
        facets: list[dict[str, Any]] = []

        def add(part: str, feature: dict[str, Any] | None = None) -> None:
            nonlocal text
            if text:
                text += " "
            start = len(text.encode())
            text += part
            if feature is not None:
                index = {"byteStart": start, "byteEnd": len(text.encode())}
                facets.append(
                    {"$type": "app.bsky.richtext.facet", "index": index, "features": [feature]}
                )

        if r.random() < EMOJI_RATE:
            add(r.choice(_EMOJI))
        mentions: tuple[int, ...] = ()
        if r.random() < MENTION_RATE:
            target = 0 if r.random() < 0.6 else r.randrange(1, MENTIONABLE)
            if target != author and target < self.n_users:
                mentions = (target,)
                user = self.user(target)
                mention = {"$type": "app.bsky.richtext.facet#mention", "did": user.did}
                add(f"@{user.handle}", mention)
        add(sentence(r))
        if r.random() < TAG_RATE:
            tag = r.choice(WORDS)
            add(f"#{tag}", {"$type": "app.bsky.richtext.facet#tag", "tag": tag})
        if r.random() < LINK_RATE:
            url = f"https://example.com/{r.choice(WORDS)}"
            add(url, {"$type": "app.bsky.richtext.facet#link", "uri": url})
        record: dict[str, Any] = {"$type": POST, "text": text, "createdAt": iso_micros(at_us)}
        if facets:
            record["facets"] = facets
        record["langs"] = list(r.choice(_LANGS))
        parent = root = None
        if self.is_reply(i):
            p, rt = self.parent(i), self._root(i)
            parent, root = self.uri_of(p), self.uri_of(rt)
            record["reply"] = {
                "root": {"uri": root, "cid": self.post(rt).cid},
                "parent": {"uri": parent, "cid": self.post(p).cid},
            }
        if r.random() < IMAGE_RATE:
            record["embed"] = self._images(r, i)
        elif i > 0 and r.random() < QUOTE_RATE:
            q = i - 1 - r.randrange(min(100, i))
            record["embed"] = {
                "$type": "app.bsky.embed.record",
                "record": {"uri": self.uri_of(q), "cid": self.post(q).cid},
            }
        return PostRec(
            uri=self.uri_of(i),
            cid=cid_for(json.dumps(record, sort_keys=True).encode()),
            author=author,
            record=record,
            at_us=at_us,
            index=i,
            parent=parent,
            root=root,
            mentions=mentions,
        )

    def _images(self, r: Any, i: int) -> dict[str, Any]:
        images = []
        for k in range(1 + (r.random() < 0.3)):
            width, height = r.choice(_ASPECTS)
            images.append(
                {
                    "alt": f"A picture about {r.choice(WORDS)}" if r.random() < 0.6 else "",
                    "image": {
                        "$type": "blob",
                        "ref": {"$link": cid_for(f"image|{self.seed}|{i}|{k}".encode(), 0x55)},
                        "mimeType": "image/jpeg",
                        "size": 50_000 + r.randrange(900_000),
                    },
                    "aspectRatio": {"width": width, "height": height},
                }
            )
        return {"$type": "app.bsky.embed.images", "images": images}

    def index_of_uri(self, uri: str) -> int | None:
        parts = uri.removeprefix("at://").split("/")
        if len(parts) != 3 or parts[1] != POST:
            return None
        decoded = tid_micros(parts[2])
        if decoded is None:
            return None
        micros, _ = decoded
        gap = self.anchor_us - micros
        if gap <= 0 or gap % self.step_us:
            return None
        i = self.n_posts - gap // self.step_us
        if 0 <= i < self.n_posts and self.uri_of(i) == self._canonical(uri):
            return i
        return None

    def _canonical(self, uri: str) -> str:
        authority, _, rest = uri.removeprefix("at://").partition("/")
        user = self.actor(authority)
        return f"at://{user.did if user else authority}/{rest}"

    def seeded_by_uri(self, uri: str, *, deleted_too: bool = False) -> PostRec | None:
        i = self.index_of_uri(uri)
        if i is None:
            return None
        rec = self.post(i)
        if not deleted_too and rec.uri in self.overlay.deleted:
            return None
        return rec

    # -- lookups over seeded and created posts ---------------------------------------------

    def get(self, uri: str) -> PostRec | None:
        canonical = self._canonical(uri)
        rec = self.overlay.posts.get(canonical)
        return rec if rec is not None else self.seeded_by_uri(canonical)

    def children(self, rec: PostRec) -> list[PostRec]:
        """Direct replies, oldest first."""
        kids = []
        if rec.index is not None:
            for k in self.seeded_children(rec.index):
                kid = self.post(k)
                if kid.uri not in self.overlay.deleted:
                    kids.append(kid)
        kids.extend(self.overlay.posts[u] for u in self.overlay.children.get(rec.uri, ()))
        return kids

    def author_feed(self, j: int, before_us: int | None) -> Iterator[PostRec]:
        """Posts of account ``j`` newest first (created ones, then seeded), older than
        ``before_us`` when given."""
        mine = [
            p
            for p in reversed(self.overlay.posts.values())
            if p.author == j and (before_us is None or p.at_us < before_us)
        ]
        yield from mine
        hi = self.n_posts
        if before_us is not None:
            gap = self.anchor_us - before_us
            if gap > 0:  # seeded post i is older than before_us iff i < posts - gap // step
                hi = max(self.n_posts - gap // self.step_us, 0)
        for i in self.graph.seeded_indices_of(j, hi):
            rec = self.post(i)
            if rec.uri not in self.overlay.deleted:
                yield rec

    def everything(self, start: int) -> Iterator[tuple[int, PostRec]]:
        """``(position, post)`` over all posts newest first, from ``position`` on."""
        created = list(reversed(self.overlay.posts.values()))
        for pos in range(start, len(created)):
            yield pos, created[pos]
        base = len(created)
        for pos in range(max(start, base), base + self.n_posts):
            rec = self.post(self.n_posts - 1 - (pos - base))
            if rec.uri not in self.overlay.deleted:
                yield pos, rec

    def reply_count(self, rec: PostRec) -> int:
        return len(self.children(rec))

    # -- writes --------------------------------------------------------------------------------

    def next_tid(self, now_us: int) -> tuple[str, int]:
        """A fresh TID, strictly after every earlier one (a frozen clock still advances)."""
        at_us = max(now_us, self.overlay.last_us + 1, self.anchor_us)
        self.overlay.last_us = at_us
        return tid(at_us, len(self.overlay.posts) % 1024), at_us

    def add_post(self, author: int, record: dict[str, Any], now_us: int) -> PostRec:
        rkey, at_us = self.next_tid(now_us)
        reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
        parent = (reply.get("parent") or {}).get("uri") if reply else None
        root = (reply.get("root") or {}).get("uri") if reply else None
        mentions = tuple(
            user.index
            for facet in record.get("facets") or []
            for feature in facet.get("features") or []
            if feature.get("$type") == "app.bsky.richtext.facet#mention"
            and (user := self.actor(str(feature.get("did")))) is not None
        )
        rec = PostRec(
            uri=f"at://{self.user(author).did}/{POST}/{rkey}",
            cid=cid_for(json.dumps(record, sort_keys=True).encode()),
            author=author,
            record=record,
            at_us=at_us,
            parent=parent,
            root=root,
            mentions=mentions,
        )
        self.overlay.posts[rec.uri] = rec
        if parent:
            self.overlay.children.setdefault(self._canonical(parent), []).append(rec.uri)
        return rec

    def delete(self, uri: str) -> bool:
        """Remove a post; ``False`` if there was none."""
        rec = self.overlay.posts.pop(uri, None)
        if rec is not None:
            if rec.parent:
                siblings = self.overlay.children.get(self._canonical(rec.parent), [])
                if uri in siblings:
                    siblings.remove(uri)
            return True
        if self.seeded_by_uri(uri) is not None:
            self.overlay.deleted.add(uri)
            return True
        return False
