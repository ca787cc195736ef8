"""The X sandbox's dataset: seeded users, posts, media and follows, derived on demand from
``(seed, index)``, plus an overlay that holds what clients wrote (posts, deletions, media).

Layout, all deterministic for one seed:

- user ``j`` (``0 <= j < users``); user 0 is the demo user ``@sandbox_demo``;
- post ``i`` (``0 <= i < posts``) is written by ``author(i)``; posts are spread over the six
  days before the anchor, oldest first, and ids grow with time like X's snowflakes do;
- a quarter of posts reply to one of the 30 posts before them (``conversation_id`` is the
  thread's root); about one in eight mentions one of the first five users (mostly the demo
  user); one in twelve carries media (photo, video or animated GIF);
- user ``v`` follows user ``u`` with a seeded probability (higher for the first five users).

Who wrote which post and who follows whom is the shared ``SeededGraph``; this module adds X's
ids, names, texts and threads.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from socialgate.sandbox.data import FIRST_NAMES, LAST_NAMES, WORDS, Seeded, SeededGraph, sentence

DEMO_USERNAME = "sandbox_demo"
USER_BASE = 1_500_000_000_000_000_000
USER_STEP = 1_000
POST_BASE = 1_800_000_000_000_000_000
POST_STEP = 4_096
MEDIA_BASE = 1_700_000_000_000_000_000
MEDIA_STEP = 16
UPLOAD_BASE = 1_900_000_000_000_000_000
MENTIONABLE = 5
REPLY_RATE = 0.25
MENTION_RATE = 0.12
MEDIA_RATE = 0.08
MAX_PARENT_GAP = 30
SPREAD = 6 * 86_400.0
MAX_GAP = 120.0
MEDIA_PREFIX = {"photo": "3", "video": "7", "animated_gif": "16"}


@dataclass(frozen=True, slots=True)
class UserRec:
    index: int
    id: str
    username: str
    name: str
    description: str
    location: str
    url: str
    created_at: float
    verified: bool
    verified_type: str
    listed_count: int
    like_count: int


@dataclass(frozen=True, slots=True)
class MediaRec:
    key: str
    id: str
    type: str
    width: int
    height: int
    duration_ms: int | None = None
    alt_text: str | None = None
    view_count: int | None = None
    owner: int | None = None


@dataclass(frozen=True, slots=True)
class PostRec:
    num: int
    author: int
    text: str
    created_at: float
    conversation: int
    index: int | None = None
    reply_to: int | None = None
    reply_to_user: int | None = None
    mentions: tuple[tuple[int, int, int], ...] = ()
    hashtags: tuple[tuple[str, int, int], ...] = ()
    media_keys: tuple[str, ...] = ()
    # reposts, replies (-1: count seeded replies on demand), likes, quotes, bookmarks
    metrics: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    lang: str = "en"

    @property
    def id(self) -> str:
        return str(self.num)


@dataclass(slots=True)
class Overlay:
    """Client writes: created posts (by id), deleted ids, uploaded media, used texts."""

    posts: dict[int, PostRec] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    deleted_by_author: dict[int, int] = field(default_factory=dict)
    media: dict[str, MediaRec] = field(default_factory=dict)
    created: int = 0


class XDataset:
    def __init__(self, seed: int, posts: int, users: int | None, anchor: float) -> None:
        self.seed = seed
        self.n_posts = posts
        self.n_users = SeededGraph.user_count(posts, users)
        self.anchor = anchor
        self.gap = min(MAX_GAP, SPREAD / max(posts, 1))
        self.rand = Seeded(seed, "x")
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
        self.root = self.graph.root
        self.direct_replies = self.graph.replies_to
        self.overlay = Overlay()
        self._post: Callable[[int], PostRec] = lru_cache(maxsize=65_536)(self._build_post)
        self._user: Callable[[int], UserRec] = lru_cache(maxsize=16_384)(self._build_user)

    # -- users --------------------------------------------------------------------------------

    def user(self, j: int) -> UserRec:
        return self._user(j)

    def _build_user(self, j: int) -> UserRec:
        r = self.rand.rng("user", j)
        first, last = r.choice(FIRST_NAMES), r.choice(LAST_NAMES)
        if j == 0:
            username, name = DEMO_USERNAME, "Sandbox Demo"
        else:
            suffix = str(j)
            username = (first + last)[: 15 - len(suffix)] + suffix
            name = f"{first} {last}"
        topic = " and ".join(r.sample(WORDS, 2))
        verified = r.random() < 0.1
        return UserRec(
            index=j,
            id=str(USER_BASE + j * USER_STEP + self.rand.below(USER_STEP, "uid", j)),
            username=username,
            name=name,
            description=f"Writing about {topic}. Sandbox account #{j}.",
            location=r.choice(("Berlin", "Lagos", "Lima", "Osaka", "Toronto", "everywhere")),
            url=f"https://t.co/{self.rand.number('url', j):x}"[:23],
            created_at=float(int(self.anchor - 86_400 * (400 + r.randrange(3_000)))),
            verified=verified,
            verified_type="blue" if verified else "none",
            listed_count=r.randrange(50),
            like_count=r.randrange(5_000),
        )

    def user_by_id(self, value: str) -> UserRec | None:
        if not value.isdigit():
            return None
        j, _ = divmod(int(value) - USER_BASE, USER_STEP)
        if 0 <= j < self.n_users and self.user(j).id == value:
            return self.user(j)
        return None

    def user_by_username(self, value: str) -> UserRec | None:
        wanted = value.lower()
        if wanted == DEMO_USERNAME:
            return self.user(0)
        digits = len(wanted) - len(wanted.rstrip("0123456789"))
        if digits == 0:
            return None
        j = int(wanted[-digits:])
        if 0 < j < self.n_users and self.user(j).username.lower() == wanted:
            return self.user(j)
        return None

    def tweet_count(self, j: int) -> int:
        mine = sum(1 for p in self.overlay.posts.values() if p.author == j)
        return self.graph.seeded_posts_of(j) + mine - self.overlay.deleted_by_author.get(j, 0)

    # -- seeded posts ---------------------------------------------------------------------------

    def post_num(self, i: int) -> int:
        return POST_BASE + i * POST_STEP + self.rand.below(POST_STEP, "pid", i)

    def index_of(self, num: int) -> int | None:
        i, _ = divmod(num - POST_BASE, POST_STEP)
        if 0 <= i < self.n_posts and self.post_num(i) == num:
            return i
        return None

    def created_at(self, i: int) -> float:
        return float(int(self.anchor - self.gap * (self.n_posts - i)))

    def first_index_at_or_after(self, moment: float) -> int:
        return bisect.bisect_left(range(self.n_posts), moment, key=self.created_at)

    def conversation_indices(self, root: int) -> list[int]:
        """Seeded members of the conversation rooted at post ``root``, oldest first."""
        members, newest = [root], root
        member_set = {root}
        k = root + 1
        while k < self.n_posts and k <= newest + MAX_PARENT_GAP:
            if self.is_reply(k) and self.parent(k) in member_set:
                members.append(k)
                member_set.add(k)
                newest = k
            k += 1
        return members

    def post(self, i: int) -> PostRec:
        return self._post(i)

    def _build_post(self, i: int) -> PostRec:
        r = self.rand.rng("post", i)
        author = self.author(i)
        prefix, mentions = "", []
        reply_to = reply_user = None
        if self.is_reply(i):
            parent = self.parent(i)
            reply_to, reply_user = self.post_num(parent), self.author(parent)
            if reply_user != author:
                mentions.append(reply_user)
        elif r.random() < MENTION_RATE:
            target = 0 if r.random() < 0.6 else r.randrange(min(MENTIONABLE, self.n_users))
            if target != author:
                mentions.append(target)
        spans = []
        for target in mentions:
            handle = "@" + self.user(target).username
            spans.append((target, len(prefix), len(prefix) + len(handle)))
            prefix += handle + " "
        text = prefix + sentence(r)
        hashtags = []
        if r.random() < 0.2:
            tag = r.choice(WORDS)
            hashtags.append((tag, len(text) + 1, len(text) + 2 + len(tag)))
            text += f" #{tag}"
        media: tuple[str, ...] = ()
        if r.random() < MEDIA_RATE:
            kind = r.choices(("photo", "video", "animated_gif"), (7, 2, 1))[0]
            count = 2 if kind == "photo" and r.random() < 0.2 else 1
            media = tuple(
                f"{MEDIA_PREFIX[kind]}_{MEDIA_BASE + i * MEDIA_STEP + k}" for k in range(count)
            )
        likes = int(r.paretovariate(1.3) * 2) - 2
        metrics = (
            r.randrange(likes // 4 + 1),
            -1,
            likes,
            r.randrange(3),
            r.randrange(likes // 3 + 1),
        )
        return PostRec(
            num=self.post_num(i),
            author=author,
            text=text,
            created_at=self.created_at(i),
            conversation=self.post_num(self.root(i)),
            index=i,
            reply_to=reply_to,
            reply_to_user=reply_user,
            mentions=tuple(spans),
            hashtags=tuple(hashtags),
            media_keys=media,
            metrics=metrics,
            lang=r.choice(("en", "en", "en", "de", "es", "fr")),
        )

    # -- lookups across seeded data and the overlay --------------------------------------------

    def get_post(self, num: int) -> PostRec | None:
        created = self.overlay.posts.get(num)
        if created is not None:
            return created
        if num in self.overlay.deleted:
            return None
        i = self.index_of(num)
        return None if i is None else self.post(i)

    def reply_count(self, rec: PostRec) -> int:
        extra = sum(1 for p in self.overlay.posts.values() if p.reply_to == rec.num)
        gone = 0
        for num in self.overlay.deleted:
            deleted = self._seeded(num)
            gone += deleted is not None and deleted.reply_to == rec.num
        seeded = len(self.direct_replies(rec.index)) if rec.index is not None else 0
        return seeded + extra - gone

    def _seeded(self, num: int) -> PostRec | None:
        i = self.index_of(num)
        return None if i is None else self.post(i)

    def media(self, key: str) -> MediaRec | None:
        uploaded = self.overlay.media.get(key)
        if uploaded is not None:
            return uploaded
        prefix, _, number = key.partition("_")
        if not number.isdigit():
            return None
        i, k = divmod(int(number) - MEDIA_BASE, MEDIA_STEP)
        if not 0 <= i < self.n_posts or key not in self.post(i).media_keys:
            return None
        kind = next(t for t, p in MEDIA_PREFIX.items() if p == prefix)
        r = self.rand.rng("media", i, k)
        width, height = r.choice(((1200, 675), (1080, 1080), (1920, 1080), (720, 1280)))
        return MediaRec(
            key=key,
            id=number,
            type=kind,
            width=width,
            height=height,
            duration_ms=r.randrange(3_000, 140_000) if kind == "video" else None,
            alt_text=f"A picture about {r.choice(WORDS)}" if r.random() < 0.5 else None,
            view_count=r.randrange(100_000) if kind == "video" else None,
            owner=self.author(i),
        )

    # -- listing ---------------------------------------------------------------------------------

    def candidates(
        self, source: tuple[Any, ...], below: int, lo: int, hi: int
    ) -> Iterator[tuple[int, PostRec | None]]:
        """``(id, post)`` for posts of ``source`` with an id below ``below``, newest first:
        posts clients created, then seeded posts with index in ``[lo, hi)``. A deleted seeded
        post comes out as ``(id, None)``: it costs a scan step like any other."""
        kind = source[0]
        for num in sorted((n for n in self.overlay.posts if n < below), reverse=True):
            rec = self.overlay.posts[num]
            if (
                kind == "all"
                or (kind == "user" and rec.author == source[1])
                or (kind == "conversation" and rec.conversation == source[1])
            ):
                yield num, rec
        hi = min(hi, self.n_posts, self.index_of_bound(below))
        indices: Iterable[int]
        if kind == "user":
            indices = self.graph.seeded_indices_of(source[1], hi, lo)
        elif kind == "conversation":
            root = self.index_of(source[1])
            members = [] if root is None else self.conversation_indices(root)
            indices = [k for k in reversed(members) if lo <= k < hi]
        else:
            indices = range(hi - 1, lo - 1, -1)
        deleted = self.overlay.deleted
        for k in indices:
            num = self.post_num(k)
            yield num, (None if num in deleted else self.post(k))

    # -- writes ----------------------------------------------------------------------------------

    def next_post_num(self) -> int:
        k = self.n_posts + self.overlay.created
        self.overlay.created += 1
        return POST_BASE + k * POST_STEP + self.rand.below(POST_STEP, "pid", k)

    def add_post(self, rec: PostRec) -> None:
        self.overlay.posts[rec.num] = rec

    def delete_post(self, rec: PostRec) -> None:
        if self.overlay.posts.pop(rec.num, None) is None:
            self.overlay.deleted.add(rec.num)
            counts = self.overlay.deleted_by_author
            counts[rec.author] = counts.get(rec.author, 0) + 1

    def index_of_bound(self, below: int) -> int:
        """How many seeded posts have an id below ``below``."""
        i, _ = divmod(below - POST_BASE, POST_STEP)
        if i < 0:
            return 0
        if i >= self.n_posts:
            return self.n_posts
        return i + 1 if self.post_num(i) < below else i
