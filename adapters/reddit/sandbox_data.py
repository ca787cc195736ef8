"""The Reddit sandbox's dataset: seeded accounts, subreddits, submissions and comment trees,
derived on demand from ``(seed, index)``, plus an overlay of what clients wrote.

Layout, deterministic for one seed:

- account ``j`` (``0 <= j < users``); account 0 is the demo user ``sandbox_demo``;
- submission ``i`` (``0 <= i < posts``) is written by ``author(i)`` (every account in turn, in a
  seeded order), in one of ``SUBREDDITS``, spread over the six days before the anchor, oldest
  first; ids are base 36 and grow with time, as Reddit's do; a third are link posts, one in
  twelve an image post;
- submission ``i`` has up to ``MAX_COMMENTS`` comments; each replies to the submission or to an
  earlier comment of it; about one in eight mentions one of the first five accounts as
  ``u/<name>`` (mostly the demo user).

Who wrote which submission is the shared ``SeededGraph`` (Reddit's API has no follows, so its
follow relation goes unused here); this module adds Reddit's ids, subreddits and comments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from socialgate.sandbox.data import FIRST_NAMES, LAST_NAMES, WORDS, Seeded, SeededGraph, sentence

__all__ = ["SUBREDDITS", "CommentRec", "PostRec", "RedditDataset", "UserRec", "b36"]

DEMO_NAME = "sandbox_demo"
SUBREDDITS = ("sandbox", "python", "datascience", "webdev", "devops", "startups",
              "socialmedia", "news")  # fmt: skip
USER_BASE = int("a0000", 36)
POST_BASE = int("h00000", 36)
COMMENT_BASE = int("f000000", 36)
WRITTEN_COMMENT_BASE = int("m000000", 36)
SUBREDDIT_BASE = int("2qh00", 36)
MAX_COMMENTS = 40
MENTIONABLE = 5
SPREAD = 6 * 86_400.0
MAX_GAP = 120.0
LINK_RATE = 0.3
IMAGE_RATE = 0.08
MENTION_RATE = 0.12


def b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


@dataclass(frozen=True, slots=True)
class UserRec:
    index: int
    id36: str
    name: str
    title: str
    description: str
    created: float
    link_karma: int
    comment_karma: int
    subscribers: int
    icon_color: str
    verified: bool

    @property
    def fullname(self) -> str:
        return f"t2_{self.id36}"


@dataclass(frozen=True, slots=True)
class PostRec:
    index: int
    author: int
    subreddit: str
    title: str
    selftext: str
    created: float
    score: int
    url: str | None = None
    # asset ids of uploaded media: one image, a video, or a gallery
    media: tuple[str, ...] = ()
    media_kind: str | None = None
    nsfw: bool = False
    spoiler: bool = False

    @property
    def id36(self) -> str:
        return b36(POST_BASE + self.index)

    @property
    def fullname(self) -> str:
        return f"t3_{self.id36}"


@dataclass(frozen=True, slots=True)
class CommentRec:
    post: int
    number: int
    author: int
    body: str
    created: float
    parent: str
    score: int
    mentions: int | None = None

    @property
    def id36(self) -> str:
        return b36(self.number)

    @property
    def fullname(self) -> str:
        return f"t1_{self.id36}"


@dataclass(slots=True)
class Overlay:
    """Client writes: new submissions and comments, deleted fullnames, uploaded assets."""

    posts: dict[int, PostRec] = field(default_factory=dict)
    comments: dict[int, CommentRec] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    next_comment: int = WRITTEN_COMMENT_BASE


class RedditDataset:
    def __init__(self, seed: int, posts: int, users: int | None, anchor: float) -> None:
        self.seed = seed
        self.n_posts = posts
        self.n_users = SeededGraph.user_count(posts, users)
        self.anchor = anchor
        self.gap = min(MAX_GAP, SPREAD / max(posts, 1))
        self.rand = Seeded(seed, "reddit")
        self.graph = SeededGraph(self.rand, self.n_users, posts, MENTIONABLE)
        self.author = self.graph.author  # the name the emulator and tests call it by
        self._names: dict[str, int] | None = None
        self.overlay = Overlay()
        self._post: Callable[[int], PostRec] = lru_cache(maxsize=65_536)(self._build_post)
        self._user: Callable[[int], UserRec] = lru_cache(maxsize=16_384)(self._build_user)
        self._seeded_comments: Callable[[int], tuple[CommentRec, ...]] = lru_cache(maxsize=32_768)(
            self._build_comments
        )

    # -- accounts ------------------------------------------------------------------------------

    def user(self, j: int) -> UserRec:
        return self._user(j)

    def _build_user(self, j: int) -> UserRec:
        r = self.rand.rng("user", j)
        first, last = r.choice(FIRST_NAMES), r.choice(LAST_NAMES)
        name = DEMO_NAME if j == 0 else f"{first}_{last}_{j}".lower()
        topic = " and ".join(r.sample(WORDS, 2))
        return UserRec(
            index=j,
            id36=b36(USER_BASE + j),
            name=name,
            title="Sandbox Demo" if j == 0 else (f"{first} {last}" if r.random() < 0.5 else ""),
            description=f"Posting about {topic}." if r.random() < 0.6 else "",
            created=float(int(self.anchor - 86_400 * (400 + r.randrange(3_000)))),
            link_karma=r.randrange(20_000),
            comment_karma=r.randrange(50_000),
            subscribers=r.randrange(500) if j < MENTIONABLE else r.randrange(20),
            icon_color=r.choice(("#94E044", "#FFB000", "#0DD3BB", "#FF4500", "#7E53C1")),
            verified=r.random() < 0.9,
        )

    def user_by_name(self, name: str) -> UserRec | None:
        if self._names is None:
            self._names = {self.user(j).name.lower(): j for j in range(self.n_users)}
        j = self._names.get(name.lower())
        return self.user(j) if j is not None else None

    def user_by_fullname(self, fullname: str) -> UserRec | None:
        if not fullname.startswith("t2_"):
            return None
        try:
            j = int(fullname[3:], 36) - USER_BASE
        except ValueError:
            return None
        return self.user(j) if 0 <= j < self.n_users else None

    # -- submissions ---------------------------------------------------------------------------

    def created_at(self, i: int) -> float:
        return float(int(self.anchor - self.gap * (self.n_posts - i)))

    @property
    def total_posts(self) -> int:
        return self.n_posts + len(self.overlay.posts)

    def post(self, i: int) -> PostRec | None:
        if 0 <= i < self.n_posts:
            return self._post(i)
        return self.overlay.posts.get(i)

    def post_by_id36(self, id36: str) -> PostRec | None:
        try:
            return self.post(int(id36, 36) - POST_BASE)
        except ValueError:
            return None

    def _build_post(self, i: int) -> PostRec:
        r = self.rand.rng("post", i)
        title = sentence(r, 3, 10).capitalize()
        url = media_kind = None
        media: tuple[str, ...] = ()
        selftext = ""
        roll = r.random()
        if roll < LINK_RATE:
            url = f"https://example.com/{'-'.join(r.sample(WORDS, 3))}"
        elif roll < LINK_RATE + IMAGE_RATE:
            media, media_kind = (f"{b36(self.rand.number('img', i))[:13]}",), "image"
        elif r.random() < 0.7:
            selftext = " ".join(sentence(r, 6, 18) for _ in range(r.randint(1, 3)))
        return PostRec(
            index=i,
            author=self.author(i),
            subreddit=r.choice(SUBREDDITS),
            title=title,
            selftext=selftext,
            created=self.created_at(i),
            score=max(int(r.paretovariate(1.3)) - 1, 0) + 1,
            url=url,
            media=media,
            media_kind=media_kind,
        )

    def posts_by(self, j: int) -> Iterator[PostRec]:
        """Submissions of account ``j``, newest first (deleted ones left out)."""
        written = sorted(
            (p for p in self.overlay.posts.values() if p.author == j), key=lambda p: -p.index
        )
        yield from (p for p in written if p.fullname not in self.overlay.deleted)
        for i in self.graph.seeded_indices_of(j, self.n_posts):
            post = self._post(i)
            if post.fullname not in self.overlay.deleted:
                yield post

    def newest_first(self, scan: int | None = None) -> Iterator[PostRec]:
        """Every live submission, newest first; seeded ones only down to ``scan`` of them."""
        for i in sorted(self.overlay.posts, reverse=True):
            post = self.overlay.posts[i]
            if post.fullname not in self.overlay.deleted:
                yield post
        stop = max(self.n_posts - scan, 0) if scan is not None else 0
        for i in range(self.n_posts - 1, stop - 1, -1):
            post = self._post(i)
            if post.fullname not in self.overlay.deleted:
                yield post

    # -- comments ------------------------------------------------------------------------------

    def _build_comments(self, i: int) -> tuple[CommentRec, ...]:
        post = self._post(i)
        r = self.rand.rng("comments", i)
        count = r.randrange(MAX_COMMENTS) if r.random() < 0.6 else 0
        if count > 8 and r.random() < 0.7:
            count //= 4
        made: list[CommentRec] = []
        when = post.created
        for k in range(count):
            when = min(when + r.randint(20, 900), self.anchor - 1)
            if k == 0 or r.random() < 0.4:
                parent = post.fullname
            else:
                parent = made[r.randrange(k)].fullname
            mentioned = None
            text = sentence(r, 3, 16)
            if r.random() < MENTION_RATE:
                mentioned = 0 if r.random() < 0.6 else r.randrange(min(MENTIONABLE, self.n_users))
                text = f"u/{self.user(mentioned).name} {text}"
            made.append(
                CommentRec(
                    post=i,
                    number=COMMENT_BASE + i * MAX_COMMENTS + k,
                    author=r.randrange(self.n_users),
                    body=text,
                    created=float(int(when)),
                    parent=parent,
                    score=max(int(r.paretovariate(1.6)) - 1, 0) + 1,
                    mentions=mentioned,
                )
            )
        return tuple(made)

    def comments_of(self, i: int) -> list[CommentRec]:
        seeded = list(self._seeded_comments(i)) if 0 <= i < self.n_posts else []
        written = [c for c in self.overlay.comments.values() if c.post == i]
        return seeded + written

    def comment_by_id36(self, id36: str) -> CommentRec | None:
        try:
            number = int(id36, 36)
        except ValueError:
            return None
        if number >= WRITTEN_COMMENT_BASE:
            return self.overlay.comments.get(number)
        i, k = divmod(number - COMMENT_BASE, MAX_COMMENTS)
        if not 0 <= i < self.n_posts:
            return None
        seeded = self._seeded_comments(i)
        return seeded[k] if k < len(seeded) else None

    def comment_count(self, i: int) -> int:
        return sum(1 for c in self.comments_of(i) if c.fullname not in self.overlay.deleted)

    def comments_where(self, keep: Callable[[CommentRec], bool], scan: int) -> Iterator[CommentRec]:
        """Comments for which ``keep`` holds, newest first, from the newest ``scan``
        submissions (and everything clients wrote)."""
        found = [
            c
            for post in self.newest_first(scan)
            for c in self.comments_of(post.index)
            if keep(c) and c.fullname not in self.overlay.deleted
        ]
        found.sort(key=lambda c: (-c.created, -c.number))
        yield from found

    # -- writes --------------------------------------------------------------------------------

    def add_post(
        self,
        author: int,
        subreddit: str,
        title: str,
        now: float,
        *,
        selftext: str = "",
        url: str | None = None,
        media: tuple[str, ...] = (),
        media_kind: str | None = None,
        nsfw: bool = False,
        spoiler: bool = False,
    ) -> PostRec:
        index = self.total_posts
        post = PostRec(
            index=index,
            author=author,
            subreddit=subreddit,
            title=title,
            selftext=selftext,
            created=now,
            score=1,
            url=url,
            media=media,
            media_kind=media_kind,
            nsfw=nsfw,
            spoiler=spoiler,
        )
        self.overlay.posts[index] = post
        return post

    def add_comment(self, post: int, author: int, body: str, parent: str, now: float) -> CommentRec:
        number = self.overlay.next_comment
        self.overlay.next_comment += 1
        comment = CommentRec(
            post=post, number=number, author=author, body=body, created=now, parent=parent, score=1
        )
        self.overlay.comments[number] = comment
        return comment
