"""Seeded, deterministic building blocks for the emulators' datasets.

Nothing here materialises a dataset: an emulator derives item ``i`` from ``(seed, i)`` on
demand (``Seeded.number("post", i)``), so a million posts cost no memory until they are read,
and the same seed always yields the same users, posts and texts. Also here: the seeded social
graph every network's dataset is built on (``SeededGraph``: who wrote which post, who follows
whom), opaque pagination cursors and timestamp helpers.
"""

from __future__ import annotations

import base64
import hashlib
import random
import struct
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TypeVar

__all__ = [
    "FIRST_NAMES",
    "LAST_NAMES",
    "WORDS",
    "CursorCodec",
    "Seeded",
    "SeededGraph",
    "iso_millis",
    "parse_rfc3339",
    "sentence",
]

T = TypeVar("T")

WORDS = (
    "api", "app", "async", "beta", "build", "cache", "cloud", "code", "coffee", "data",
    "deploy", "design", "dev", "docs", "event", "export", "feature", "fix", "flow", "graph",
    "hello", "idea", "launch", "learn", "limit", "local", "metrics", "model", "monday",
    "network", "news", "open", "pipeline", "post", "python", "query", "queue", "release",
    "report", "retry", "roadmap", "sandbox", "schema", "search", "server", "ship", "social",
    "stack", "stream", "team", "test", "thread", "today", "token", "update", "webhook",
    "weekend", "window", "world", "yesterday",
)  # fmt: skip
FILLER = (
    "the", "a", "our", "this", "new", "great", "quick", "small", "big", "first", "next",
    "with", "for", "and", "about", "from", "after", "before", "really", "finally",
)  # fmt: skip
FIRST_NAMES = (
    "Ada", "Alan", "Amara", "Bea", "Carlos", "Chen", "Dana", "Emeka", "Fatima", "Grace",
    "Hiro", "Ines", "Jonas", "Kai", "Lena", "Maya", "Noor", "Omar", "Priya", "Quinn",
    "Rosa", "Sven", "Tara", "Uma", "Victor", "Wen", "Yara", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Berg", "Costa", "Diaz", "Eriksen", "Fischer", "Garcia", "Hughes", "Ito",
    "Jensen", "Kim", "Lopez", "Moreau", "Nakamura", "Okafor", "Patel", "Rossi", "Silva",
    "Tanaka", "Usman", "Varga", "Weber", "Xu", "Young", "Zimmer",
)  # fmt: skip


class Seeded:
    """Deterministic pseudo-random values keyed by ``(seed, namespace, *key)``.

    Each call hashes its key, so values do not depend on the order they are asked for (a
    ``random.Random`` shared across requests would make item 7 depend on items 0 to 6).
    """

    __slots__ = ("_prefix",)

    def __init__(self, seed: int, namespace: str = "") -> None:
        self._prefix = f"{seed}|{namespace}|".encode()

    def number(self, *key: object) -> int:
        """A 64-bit unsigned integer."""
        digest = hashlib.blake2b(
            self._prefix + "|".join(map(str, key)).encode(), digest_size=8
        ).digest()
        return int.from_bytes(digest, "big")

    def below(self, n: int, *key: object) -> int:
        return self.number(*key) % n if n > 0 else 0

    def chance(self, probability: float, *key: object) -> bool:
        return self.number(*key) < probability * 2**64

    def pick(self, items: Sequence[T], *key: object) -> T:
        return items[self.below(len(items), *key)]

    def rng(self, *key: object) -> random.Random:
        """A ``random.Random`` for one item, for when many values are drawn together."""
        return random.Random(self.number(*key))  # noqa: S311 - test data, not security

    def sentence(self, *key: object, min_words: int = 4, max_words: int = 14) -> str:
        return sentence(self.rng("sentence", *key), min_words, max_words)

    def permutation(self, n: int, *key: object) -> list[int]:
        order = list(range(n))
        self.rng("perm", *key).shuffle(order)
        return order


class SeededGraph:
    """Who wrote which seeded post and who follows whom: the part of a dataset every network
    lays out the same way, so one seed gives each network the same social shape.

    Users take turns writing, in a seeded order: post ``i`` is by ``author(i)``, and user ``j``
    writes posts ``slot(j)``, ``slot(j) + n_users``, ... so a user's posts are found by
    arithmetic, never by scanning. User ``v`` follows ``u`` with a seeded probability, higher
    for the first ``mentionable`` users (the ones seeded posts mention), so they have
    followers worth paging through. Names, ids and texts are the datasets' own business.
    """

    def __init__(
        self,
        rand: Seeded,
        n_users: int,
        n_posts: int,
        mentionable: int,
        *,
        reply_rate: float = 0.25,
        max_parent_gap: int = 30,
    ) -> None:
        self.rand = rand
        self.n_users = n_users
        self.n_posts = n_posts
        self.mentionable = mentionable
        self.reply_rate = reply_rate
        self.max_parent_gap = max_parent_gap
        self._perm = rand.permutation(n_users, "authors")
        self._slot = {user: slot for slot, user in enumerate(self._perm)}
        # Counting followers asks every user: done once per user, then remembered.
        self._followers: dict[int, int] = {}
        self._following: dict[int, int] = {}

    @staticmethod
    def user_count(posts: int, users: int | None, most: int | None = None) -> int:
        """How many users to seed: ``users`` if asked for, else one per 50 posts (20 to
        5,000); never fewer than two (a follow takes two), nor more than ``most`` when given
        (an id scheme may have room for only so many)."""
        wanted = users if users is not None else min(max(posts // 50, 20), 5_000)
        count = max(wanted, 2)
        return count if most is None else min(count, most)

    def author(self, i: int) -> int:
        return self._perm[i % self.n_users]

    def slot(self, j: int) -> int:
        """The index of user ``j``'s first seeded post (if there are that many posts)."""
        return self._slot[j]

    def seeded_posts_of(self, j: int) -> int:
        """How many seeded posts user ``j`` wrote."""
        return max((self.n_posts - self._slot[j] + self.n_users - 1) // self.n_users, 0)

    # -- threads: post i may answer one of the max_parent_gap posts just before it ------------

    def seeded_reply(self, i: int) -> bool:
        """Whether seeded post ``i`` answers an earlier one (a network may veto some: see
        ``replies_to``'s ``is_reply``)."""
        return i > 0 and self.rand.chance(self.reply_rate, "reply", i)

    def parent(self, i: int) -> int:
        return i - 1 - self.rand.below(min(i, self.max_parent_gap), "parent", i)

    def root(self, i: int) -> int:
        while self.seeded_reply(i):
            i = self.parent(i)
        return i

    def replies_to(self, i: int, is_reply: Callable[[int], bool] | None = None) -> list[int]:
        """The seeded posts answering ``i`` directly, oldest first: only the next
        ``max_parent_gap`` posts can."""
        replies = is_reply or self.seeded_reply
        last = min(i + self.max_parent_gap, self.n_posts - 1)
        return [k for k in range(i + 1, last + 1) if replies(k) and self.parent(k) == i]

    def seeded_indices_of(self, j: int, below: int, stop: int = 0) -> range:
        """Indices of user ``j``'s seeded posts in ``[stop, below)``, newest first."""
        below = min(below, self.n_posts)
        top = below - 1 - ((below - 1 - self._slot[j]) % self.n_users)
        return range(top, stop - 1, -self.n_users)

    def follows(self, v: int, u: int) -> bool:
        """Whether user ``v`` follows user ``u``."""
        chance = 0.5 if u < self.mentionable else 0.05
        return v != u and self.rand.chance(chance, "follow", v, u)

    def followers_count(self, u: int) -> int:
        if u not in self._followers:
            self._followers[u] = sum(self.follows(v, u) for v in range(self.n_users))
        return self._followers[u]

    def following_count(self, v: int) -> int:
        if v not in self._following:
            self._following[v] = sum(self.follows(v, u) for u in range(self.n_users))
        return self._following[v]

    def followers_desc(self, u: int, below: int) -> Iterator[int]:
        """Follower indices of ``u`` below ``below``, most recent (highest index) first."""
        for v in range(min(below, self.n_users) - 1, -1, -1):
            if self.follows(v, u):
                yield v


class CursorCodec:
    """Opaque, tamper-evident pagination tokens that encode a few integers.

    Tokens look like X's (lowercase base32, no padding, at least 21 characters) and carry a
    tag derived from the seed and the endpoint, so a token from another endpoint or another
    sandbox is rejected instead of silently paging from a wrong place.
    """

    def __init__(self, seed: int) -> None:
        self._seed = seed

    def _tag(self, kind: str, packed: bytes) -> bytes:
        return hashlib.blake2b(f"{self._seed}|{kind}|".encode() + packed, digest_size=5).digest()

    def encode(self, kind: str, *values: int) -> str:
        packed = struct.pack(f">{len(values)}Q", *values)
        raw = packed + self._tag(kind, packed)
        return base64.b32encode(raw).decode().rstrip("=").lower()

    def decode(self, kind: str, token: str, count: int) -> tuple[int, ...] | None:
        """The values, or ``None`` for a token this codec did not issue for ``kind``."""
        text = token.strip().upper()
        try:
            raw = base64.b32decode(text + "=" * (-len(text) % 8))
        except (ValueError, TypeError):
            return None
        if len(raw) != 8 * count + 5:
            return None
        packed, tag = raw[:-5], raw[-5:]
        if self._tag(kind, packed) != tag:
            return None
        return struct.unpack(f">{count}Q", packed)


def sentence(rng: random.Random, min_words: int = 4, max_words: int = 14) -> str:
    """A few words of the vocabulary (more than half topic words), drawn from ``rng``."""
    words = [
        rng.choice(WORDS) if rng.random() < 0.55 else rng.choice(FILLER)
        for _ in range(rng.randint(min_words, max_words))
    ]
    return " ".join(words)


def iso_millis(epoch: float) -> str:
    """``2024-05-01T12:00:00.000Z``: the timestamp format X and others send."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_rfc3339(value: str) -> float | None:
    """Epoch seconds for an RFC 3339 timestamp with a zone (``Z`` or an offset), else None."""
    text = value.strip()
    if not text or "T" not in text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.timestamp()
