"""Seeded, deterministic building blocks for the emulators' datasets.

Nothing here materialises a dataset: an emulator derives item ``i`` from ``(seed, i)`` on
demand (``Seeded.number("post", i)``), so a million posts cost no memory until they are read,
and the same seed always yields the same users, posts and texts. Also here: opaque
pagination cursors and timestamp helpers shared by every network.
"""

from __future__ import annotations

import base64
import hashlib
import random
import struct
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeVar

__all__ = [
    "FIRST_NAMES",
    "LAST_NAMES",
    "WORDS",
    "CursorCodec",
    "Seeded",
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
