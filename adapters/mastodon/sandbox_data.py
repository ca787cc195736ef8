"""The Mastodon sandbox's dataset: seeded accounts, statuses, boosts, follows and mentions,
derived on demand from ``(seed, index)``, plus an overlay of what clients wrote.

Layout, deterministic for one seed:

- account ``j`` (``0 <= j < users``, at most 65 535); account 0 is the demo user
  ``@sandbox_demo``; every seventh account (``j % 7 == 3``) lives on a remote instance, so its
  ``acct`` is ``username@domain``. Ids are snowflakes of the creation time with ``j`` in the
  low 16 bits, as Mastodon makes them.
- status ``i`` (``0 <= i < posts``) is written by ``author(i)`` at ``created_ms(i)``, spread
  over the six days before the anchor; its id is the snowflake of that millisecond. About a
  quarter reply to one of the 30 statuses before them (mentioning the parent's author), 6 %
  are boosts of an earlier status, one in eight of the rest mentions one of the first five
  accounts (mostly the demo user), one in twelve carries media (image, gifv, video, audio).
- account ``v`` follows account ``u`` with a seeded probability; the follow's id (what the
  followers listing pages by) is ``(v + 1) * 65536 + u``, deliberately unrelated to either
  account id.
- a status that mentions account ``u`` makes mention notification number ``i + 1`` for it.

Who wrote which status and who follows whom is the shared ``SeededGraph``; this module adds
Mastodon's ids, accounts, texts, boosts and threads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from socialgate.sandbox.data import FIRST_NAMES, LAST_NAMES, WORDS, Seeded, SeededGraph, sentence

DEMO_USERNAME = "sandbox_demo"
REMOTE_DOMAINS = ("fosstodon.example", "hachyderm.example", "social.example")
MAX_USERS = 65_535
MENTIONABLE = 5
REPLY_RATE = 0.25
REBLOG_RATE = 0.06
MENTION_RATE = 0.12
MEDIA_RATE = 0.08
MAX_PARENT_GAP = 30
MAX_REBLOG_GAP = 200
SPREAD_MS = 6 * 86_400_000
MAX_GAP_MS = 120_000
FOLLOW_STEP = 65_536
LANGUAGES = ("en", "en", "en", "en", "de", "ja", "es", "fr")
MEDIA_KINDS = ("image", "gifv", "video", "audio")
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_]+)(?:@([A-Za-z0-9.\-]+))?")
# As on Mastodon, a hashtag needs a letter or "_": "#1" is not one.
HASHTAG = re.compile(r"(?<![\w#])#(\w*[^\W\d]\w*)")


@dataclass(frozen=True, slots=True)
class AccountRec:
    index: int
    id: str
    username: str
    domain: str | None
    display_name: str
    note: str
    created_at: float
    bot: bool
    locked: bool
    # (name, value, verified) where value is plain text (a URL when verified)
    fields: tuple[tuple[str, str, bool], ...]
    avatar: str | None

    @property
    def acct(self) -> str:
        return self.username if self.domain is None else f"{self.username}@{self.domain}"


@dataclass(slots=True)
class MediaRec:
    id: str
    owner: int
    type: str
    width: int | None
    height: int | None
    description: str | None = None
    duration: float | None = None
    # processing ends at this epoch second (0: ready at once)
    ready_at: float = 0.0
    attached_to: int | None = None
    created_at: float = 0.0


@dataclass(frozen=True, slots=True)
class StatusRec:
    id: int
    author: int
    created_ms: int
    text: str
    index: int | None = None
    reply_to: int | None = None
    reply_to_author: int | None = None
    reblog_of: int | None = None
    mentions: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()
    media: tuple[MediaRec, ...] = ()
    visibility: str = "public"
    spoiler_text: str = ""
    sensitive: bool = False
    language: str | None = "en"
    # reblogs, favourites, quotes
    counts: tuple[int, int, int] = (0, 0, 0)
    application: str | None = "Web"


@dataclass(slots=True)
class Overlay:
    """Client writes: created statuses (by id), deleted ids, uploaded media."""

    statuses: dict[int, StatusRec] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    deleted_by_author: dict[int, int] = field(default_factory=dict)
    media: dict[str, MediaRec] = field(default_factory=dict)
    notifications: dict[int, int] = field(default_factory=dict)  # status id -> notification id
    last_id: int = 0


class MastodonDataset:
    def __init__(self, seed: int, posts: int, users: int | None, anchor: float) -> None:
        self.n_posts = posts
        # Account ids keep j in their low 16 bits: no room for more than MAX_USERS.
        self.n_users = SeededGraph.user_count(posts, users, MAX_USERS)
        self.anchor_ms = int(anchor * 1000)
        self.gap_ms = max(1, min(MAX_GAP_MS, SPREAD_MS // max(posts, 1)))
        self.rand = Seeded(seed, "mastodon")
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
        self._raw_reply = self.graph.seeded_reply
        self.parent = self.graph.parent
        self.overlay = Overlay()
        self._account: Callable[[int], AccountRec] = lru_cache(maxsize=16_384)(self._build_account)
        self._status: Callable[[int], StatusRec] = lru_cache(maxsize=65_536)(self._build_status)

    # -- accounts -------------------------------------------------------------------------------

    def account(self, j: int) -> AccountRec:
        return self._account(j)

    def _build_account(self, j: int) -> AccountRec:
        r = self.rand.rng("account", j)
        first, last = r.choice(FIRST_NAMES), r.choice(LAST_NAMES)
        username = DEMO_USERNAME if j == 0 else f"{first}{last}{j}".lower()
        display = "Sandbox Demo" if j == 0 else f"{first} {last}" if r.random() < 0.9 else ""
        domain = REMOTE_DOMAINS[j % len(REMOTE_DOMAINS)] if j % 7 == 3 else None
        created = self.anchor_ms / 1000 - 86_400 * (30 + r.randrange(2_000)) - r.randrange(86_400)
        topic = " & ".join(r.sample(WORDS, 2))
        fields: list[tuple[str, str, bool]] = []
        if j == 0 or r.random() < 0.3:
            site = f"https://{username.replace('_', '-')}.example"
            fields.append(("Website", site, j == 0 or r.random() < 0.5))
        if r.random() < 0.3:
            fields.append(("Pronouns", r.choice(("she/her", "he/him", "they/them")), False))
        return AccountRec(
            index=j,
            id=str((int(created * 1000) << 16) | j),
            username=username,
            domain=domain,
            display_name=display,
            note=f"Writing about {topic}.\n\nSandbox account #{j}." if j % 5 or not j else "",
            created_at=created,
            bot=j % 11 == 5,
            locked=j % 13 == 6,
            fields=tuple(fields),
            avatar=None if j % 3 == 0 else f"{self.rand.number('avatar', j):016x}",
        )

    def account_by_id(self, value: str) -> AccountRec | None:
        if not value.isdigit():
            return None
        j = int(value) & 0xFFFF
        if j < self.n_users and self.account(j).id == value:
            return self.account(j)
        return None

    def account_by_acct(self, value: str, local_domain: str) -> AccountRec | None:
        """By ``username`` or ``username@domain`` (the instance's own domain counts as local)."""
        username, _, domain = value.lower().removeprefix("@").partition("@")
        if username == DEMO_USERNAME:
            j = 0
        else:
            digits = len(username) - len(username.rstrip("0123456789"))
            if not digits:
                return None
            j = int(username[-digits:])
        if not 0 <= j < self.n_users:
            return None
        rec = self.account(j)
        wanted = None if domain in ("", local_domain.lower()) else domain
        return rec if rec.username == username and rec.domain == wanted else None

    def followers(self, u: int, max_id: int | None) -> Iterator[tuple[int, int]]:
        """``(follow id, follower index)`` of ``u``'s followers below ``max_id``, newest first."""
        # The follow id (v + 1) * FOLLOW_STEP + u is below max_id exactly when v is below this.
        below = self.n_users if max_id is None else (max_id - u - 1) // FOLLOW_STEP
        for v in self.graph.followers_desc(u, below):
            yield (v + 1) * FOLLOW_STEP + u, v

    def statuses_count(self, j: int) -> int:
        mine = sum(1 for s in self.overlay.statuses.values() if s.author == j)
        return self.graph.seeded_posts_of(j) + mine - self.overlay.deleted_by_author.get(j, 0)

    # -- seeded statuses --------------------------------------------------------------------------

    def created_ms(self, i: int) -> int:
        return self.anchor_ms - self.gap_ms * (self.n_posts - i)

    def status_id(self, i: int) -> int:
        return (self.created_ms(i) << 16) | self.rand.below(0x10000, "sid", i)

    def index_of(self, status_id: int) -> int | None:
        behind, rest = divmod(self.anchor_ms - (status_id >> 16), self.gap_ms)
        i = self.n_posts - behind
        if rest or not 0 <= i < self.n_posts or self.status_id(i) != status_id:
            return None
        return i

    def is_reblog(self, i: int) -> bool:
        return i > 0 and not self._raw_reply(i) and self.rand.chance(REBLOG_RATE, "reblog", i)

    def is_reply(self, i: int) -> bool:
        return self._raw_reply(i) and not self.is_reblog(self.parent(i))

    def reblog_target(self, i: int) -> int:
        target = i - 1 - self.rand.below(min(i, MAX_REBLOG_GAP), "reblogged", i)
        while self.is_reblog(target):  # a boost of a boost is a boost of the original
            target -= 1
        return target

    def mention_target(self, i: int) -> int | None:
        """The account status ``i`` mentions, if any (cheap: no status is built)."""
        if self.is_reblog(i):
            return None
        author = self.author(i)
        if self.is_reply(i):
            target = self.author(self.parent(i))
        elif self.rand.chance(MENTION_RATE, "mention", i):
            r = self.rand.rng("mention-target", i)
            target = 0 if r.random() < 0.6 else r.randrange(min(MENTIONABLE, self.n_users))
        else:
            return None
        return None if target == author else target

    def direct_replies(self, i: int) -> list[int]:
        return self.graph.replies_to(i, self.is_reply)

    def status(self, i: int) -> StatusRec:
        return self._status(i)

    def _build_status(self, i: int) -> StatusRec:
        r = self.rand.rng("status", i)
        author = self.author(i)
        sid, created = self.status_id(i), self.created_ms(i)
        if self.is_reblog(i):
            boosted = self.status_id(self.reblog_target(i))
            return StatusRec(sid, author, created, "", i, reblog_of=boosted, language=None)
        prefix, mentions = "", []
        target = self.mention_target(i)
        if target is not None:
            prefix = "@" + self.account(target).acct + " "
            mentions.append(target)
        text = prefix + sentence(r)
        if r.random() < 0.1:
            text += " & " + sentence(r, 2, 5)
        if r.random() < 0.1:
            text += "\n" + sentence(r, 2, 6)
        if r.random() < 0.15:
            text += "\n\n" + sentence(r)
        if r.random() < 0.1:
            text += f" https://example.com/{r.choice(WORDS)}/{r.randrange(10**6)}"
        tags: tuple[str, ...] = ()
        if r.random() < 0.2:
            tag = r.choice(WORDS)
            text += f" #{tag}"
            tags = (tag,)
        media: tuple[MediaRec, ...] = ()
        if r.random() < MEDIA_RATE:
            kind = r.choices(MEDIA_KINDS, (7, 1, 2, 1))[0]
            count = 2 if kind == "image" and r.random() < 0.2 else 1
            media = tuple(self._seeded_media(i, k, kind, author) for k in range(count))
        likes = int(r.paretovariate(1.3) * 2) - 2
        reply_to: int | None = None
        reply_author: int | None = None
        if self.is_reply(i):
            reply_to, reply_author = self.status_id(self.parent(i)), self.author(self.parent(i))
        return StatusRec(
            id=sid,
            author=author,
            created_ms=created,
            text=text,
            index=i,
            reply_to=reply_to,
            reply_to_author=reply_author,
            mentions=tuple(mentions),
            tags=tags,
            media=media,
            visibility="unlisted" if r.random() < 0.1 else "public",
            spoiler_text="Spoilers" if r.random() < 0.03 else "",
            sensitive=r.random() < 0.05,
            language=r.choice(LANGUAGES),
            counts=(r.randrange(likes // 4 + 1), likes, r.randrange(3)),
            application=None if self.account(author).domain else "Web",
        )

    def _seeded_media(self, i: int, k: int, kind: str, owner: int) -> MediaRec:
        r = self.rand.rng("media", i, k)
        width, height = r.choice(((1200, 675), (1080, 1080), (1920, 1080), (720, 1280)))
        return MediaRec(
            id=str((self.created_ms(i) << 16) | (0x8000 + k)),
            owner=owner,
            type=kind,
            width=None if kind == "audio" else width,
            height=None if kind == "audio" else height,
            description=f"A picture about {r.choice(WORDS)}" if r.random() < 0.6 else None,
            duration=round(r.uniform(2, 140), 2) if kind in ("video", "audio", "gifv") else None,
        )

    # -- lookups across seeded data and the overlay ---------------------------------------------

    def get_status(self, status_id: int) -> StatusRec | None:
        created = self.overlay.statuses.get(status_id)
        if created is not None:
            return created
        if status_id in self.overlay.deleted:
            return None
        i = self.index_of(status_id)
        return None if i is None else self.status(i)

    def replies_count(self, rec: StatusRec) -> int:
        extra = sum(1 for s in self.overlay.statuses.values() if s.reply_to == rec.id)
        seeded = rec.index is not None and not self.is_reblog(rec.index)
        kids = self.direct_replies(rec.index) if seeded and rec.index is not None else []
        gone = sum(1 for k in kids if self.status_id(k) in self.overlay.deleted)
        return len(kids) + extra - gone

    def children(self, status_id: int) -> list[int]:
        """Ids of the live statuses replying directly to ``status_id``, oldest first."""
        i = self.index_of(status_id)
        kids = [self.status_id(k) for k in self.direct_replies(i)] if i is not None else []
        kids += [s.id for s in self.overlay.statuses.values() if s.reply_to == status_id]
        return sorted(k for k in kids if k not in self.overlay.deleted)

    def statuses_desc(self, author: int | None, below: int | None) -> Iterator[StatusRec]:
        """Live statuses (of ``author``, or everyone's) with an id below ``below``, newest
        first: client-made ones, then seeded ones."""
        for sid in sorted(self.overlay.statuses, reverse=True):
            rec = self.overlay.statuses[sid]
            if (below is None or sid < below) and (author is None or rec.author == author):
                yield rec
        top = self.n_posts - 1 if below is None else self._index_below(below)
        if author is None:
            indices: range = range(top, -1, -1)
        else:
            indices = self.graph.seeded_indices_of(author, top + 1)
        deleted = self.overlay.deleted
        for i in indices:
            if self.status_id(i) not in deleted:
                yield self.status(i)

    def _index_below(self, below: int) -> int:
        """The largest seeded index whose id is below ``below`` (-1 if none)."""
        lo, hi = 0, self.n_posts
        while lo < hi:
            mid = (lo + hi) // 2
            if self.status_id(mid) < below:
                lo = mid + 1
            else:
                hi = mid
        return lo - 1

    def notification_id(self, rec: StatusRec) -> int:
        if rec.index is not None:
            return rec.index + 1
        return self.overlay.notifications.get(rec.id, 0)

    def mentions_of(self, user: int, below: int | None) -> Iterator[tuple[int, StatusRec]]:
        """``(notification id, status)`` for statuses mentioning ``user``, newest first."""
        for sid in sorted(self.overlay.statuses, reverse=True):
            rec = self.overlay.statuses[sid]
            nid = self.overlay.notifications.get(sid, 0)
            if user in rec.mentions and rec.author != user and (below is None or nid < below):
                yield nid, rec
        top = self.n_posts - 1 if below is None else min(self.n_posts, below - 1) - 1
        deleted = self.overlay.deleted
        for i in range(top, -1, -1):
            if self.mention_target(i) == user and self.status_id(i) not in deleted:
                yield i + 1, self.status(i)

    # -- writes ---------------------------------------------------------------------------------

    def new_status_id(self, now_ms: int) -> int:
        newest = self.status_id(self.n_posts - 1) if self.n_posts else 0
        candidate = max(now_ms << 16, newest + 1, self.overlay.last_id + 1)
        self.overlay.last_id = candidate
        return candidate

    def add_status(self, rec: StatusRec) -> None:
        self.overlay.statuses[rec.id] = rec
        if rec.mentions:
            self.overlay.notifications[rec.id] = self.n_posts + 1 + len(self.overlay.notifications)

    def delete_status(self, rec: StatusRec) -> None:
        if self.overlay.statuses.pop(rec.id, None) is None:
            self.overlay.deleted.add(rec.id)
            counts = self.overlay.deleted_by_author
            counts[rec.author] = counts.get(rec.author, 0) + 1

    def mentioned(self, text: str, local_domain: str) -> tuple[int, ...]:
        found = []
        for match in MENTION.finditer(text):
            acct = match.group(1) + (f"@{match.group(2)}" if match.group(2) else "")
            rec = self.account_by_acct(acct, local_domain)
            if rec is not None and rec.index not in found:
                found.append(rec.index)
        return tuple(found)
