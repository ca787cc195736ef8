"""Read endpoints of the Reddit emulator: accounts, listings with ``after``/``before``, search,
comment trees with ``more`` stubs, ``/api/morechildren`` and the mention inbox."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.requests import Request

from socialgate.sandbox.emulator import Reply

from . import sandbox_wire as wire
from .sandbox_data import WRITTEN_COMMENT_BASE, CommentRec, PostRec
from .sandbox_oauth import Principal

if TYPE_CHECKING:
    from .sandbox import RedditEmulator

T = TypeVar("T")

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
TREE_LIMIT = 200
TREE_MAX_LIMIT = 500
MAX_DEPTH = 10
_WINDOWS = {"hour": 3600, "day": 86_400, "week": 604_800, "month": 2_678_400,
            "year": 31_622_400}  # fmt: skip


def _not_found() -> Reply:
    return 404, {}, wire.status_body(404)


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        number = int(value) if value is not None else default
    except ValueError:
        number = default
    return max(low, min(high, number))


# -- rendering ---------------------------------------------------------------------------------


def render_post(emu: RedditEmulator, post: PostRec) -> dict[str, Any]:
    data = emu.data
    deleted = post.fullname in data.overlay.deleted
    media = None
    if post.media_kind == "image":
        asset = emu.assets.get(post.media[0])
        ext = asset.extension if asset else "jpg"
        media = wire.image_media(post.media[0], ext, 640, 480)
    elif post.media_kind == "video":
        media = wire.video_media(post.media[0], 640, 360, 12)
    elif post.media_kind == "gallery":
        items = []
        for asset_id in post.media:
            asset = emu.assets.get(asset_id)
            items.append(
                (asset_id, asset.extension if asset else "jpg", asset.caption if asset else "")
            )
        media = wire.gallery_media(items)
        media["url"] = media["url_overridden_by_dest"] = f"{wire.WEB}/gallery/{post.id36}"
    return {
        "kind": "t3",
        "data": wire.t3(
            post,
            data.user(post.author),
            num_comments=data.comment_count(post.index),
            deleted=deleted,
            media=media,
        ),
    }


def render_comment(
    emu: RedditEmulator, comment: CommentRec, *, depth: int | None = None, replies: Any = ""
) -> dict[str, Any]:
    data = emu.data
    post = data.post(comment.post)
    assert post is not None
    deleted = comment.fullname in data.overlay.deleted
    body = wire.t1(
        comment, post, data.user(comment.author), deleted=deleted, depth=depth, replies=replies
    )
    return {"kind": "t1", "data": body}


def thing(emu: RedditEmulator, fullname: str) -> dict[str, Any] | None:
    kind, _, id36 = fullname.partition("_")
    if kind == "t3":
        post = emu.data.post_by_id36(id36)
        return render_post(emu, post) if post is not None else None
    if kind == "t1":
        comment = emu.data.comment_by_id36(id36)
        return render_comment(emu, comment) if comment is not None else None
    return None


def page(
    emu: RedditEmulator,
    items: Iterable[T],
    name: Callable[[T], str],
    render: Callable[[T], Any],
    query: Any,
) -> Reply:
    """One page of a newest-first listing, with Reddit's ``after``/``before``/``limit``."""
    limit = _int(query.get("limit"), DEFAULT_LIMIT, 1, MAX_LIMIT)
    capped = list(islice(items, emu.listing_cap))
    names = [name(x) for x in capped]
    after, before = query.get("after"), query.get("before")
    if after:
        start = names.index(after) + 1 if after in names else len(names)
        chunk = capped[start : start + limit]
    elif before:
        end = names.index(before) if before in names else 0
        start = max(end - limit, 0)
        chunk = capped[start:end]
    else:
        start = 0
        chunk = capped[:limit]
    next_after = name(chunk[-1]) if chunk and start + len(chunk) < len(capped) else None
    next_before = name(chunk[0]) if chunk and start > 0 else None
    return 200, {}, wire.listing([render(x) for x in chunk], next_after, next_before)


def _scanned(
    emu: RedditEmulator, key: tuple[Any, ...], keep: Callable[[CommentRec], bool]
) -> list[CommentRec]:
    """A comment scan, cached until a client writes (the seeded data never changes)."""
    overlay = emu.data.overlay
    full = (*key, len(overlay.comments), len(overlay.deleted), len(overlay.posts))
    found = emu.scans.get(full)
    if found is None:
        if len(emu.scans) > 256:
            emu.scans.clear()
        found = emu.scans[full] = list(
            islice(emu.data.comments_where(keep, emu.scan_budget), emu.listing_cap)
        )
    return found


# -- accounts --------------------------------------------------------------------------------------


async def me(emu: RedditEmulator, request: Request, path: dict[str, str], who: Principal) -> Reply:
    assert who.user is not None
    return 200, {}, wire.me(emu.data.user(who.user), who.app)


async def about(
    emu: RedditEmulator, request: Request, path: dict[str, str], who: Principal
) -> Reply:
    user = emu.data.user_by_name(path["name"])
    if user is None:
        return _not_found()
    return 200, {}, {"kind": "t2", "data": wire.about(user)}


async def user_data(
    emu: RedditEmulator, request: Request, path: dict[str, str], who: Principal
) -> Reply:
    found = {}
    for fullname in request.query_params.get("ids", "").split(","):
        user = emu.data.user_by_fullname(fullname.strip())
        if user is not None:
            sub = wire.about(user)["subreddit"]
            found[user.fullname] = {
                "name": user.name,
                "created_utc": user.created,
                "link_karma": user.link_karma,
                "comment_karma": user.comment_karma,
                "profile_img": sub["icon_img"],
                "profile_color": "",
                "profile_over_18": False,
            }
    return (200, {}, found) if found else _not_found()


# -- listings --------------------------------------------------------------------------------------


def _by_score(items: list[T], score: Callable[[T], int]) -> list[T]:
    return sorted(items, key=score, reverse=True)


async def user_listing(
    emu: RedditEmulator, request: Request, path: dict[str, str], who: Principal
) -> Reply:
    user = emu.data.user_by_name(path["name"])
    if user is None:
        return _not_found()
    kind = path.get("kind") or "overview"
    query = request.query_params
    posts: list[Any] = []
    if kind in ("submitted", "overview"):
        posts.extend(islice(emu.data.posts_by(user.index), emu.listing_cap))
    if kind in ("comments", "overview"):
        mine = user.index
        posts.extend(_scanned(emu, ("by", mine), lambda c: c.author == mine))
    if query.get("sort") == "top":
        posts = _by_score(posts, lambda x: x.score)
    else:
        posts.sort(key=lambda x: x.created, reverse=True)
    return page(emu, posts, _fullname, lambda x: _render_any(emu, x), query)


def _fullname(item: PostRec | CommentRec) -> str:
    return item.fullname


def _render_any(emu: RedditEmulator, item: PostRec | CommentRec) -> dict[str, Any]:
    if isinstance(item, PostRec):
        return render_post(emu, item)
    rendered = render_comment(emu, item)
    post = emu.data.post(item.post)
    assert post is not None
    rendered["data"].update(
        link_title=post.title,
        link_author=emu.data.user(post.author).name,
        link_permalink=wire.WEB + wire.permalink(post),
        link_url=post.url or wire.WEB + wire.permalink(post),
        num_comments=emu.data.comment_count(post.index),
        over_18=post.nsfw,
    )
    return rendered


async def info(
    emu: RedditEmulator, request: Request, path: dict[str, str], who: Principal
) -> Reply:
    wanted = [n.strip() for n in request.query_params.get("id", "").split(",") if n.strip()]
    things = [t for n in wanted[:MAX_LIMIT] if (t := thing(emu, n)) is not None]
    return 200, {}, wire.listing(things)


async def by_id(
    emu: RedditEmulator, request: Request, path: dict[str, str], who: Principal
) -> Reply:
    wanted = [n for n in path["names"].split(",") if n.startswith("t3_")]
    things = [t for n in wanted[:MAX_LIMIT] if (t := thing(emu, n)) is not None]
    return (200, {}, wire.listing(things)) if things else _not_found()


def _matches(post: PostRec, words: list[str], sub: str | None, since: float | None) -> bool:
    if sub and post.subreddit.lower() != sub:
        return False
    if since is not None and post.created < since:
        return False
    text = f"{post.title} {post.selftext}".lower()
    return all(word in text for word in words)


async def search(
    emu: RedditEmulator, request: Request, path: dict[str, str], who: Principal
) -> Reply:
    query = request.query_params
    words = query.get("q", "").lower().split()
    if not words:
        return 200, {}, wire.listing([])
    restrict = path.get("sub") and query.get("restrict_sr", "") in ("on", "1", "true")
    sub = path["sub"].lower() if restrict and path.get("sub") else None
    window = _WINDOWS.get(query.get("t", "all"))
    since = emu.clock.time() - window if window else None
    found: Iterator[PostRec] = (
        p for p in emu.data.newest_first(emu.scan_budget) if _matches(p, words, sub, since)
    )
    sort = query.get("sort", "relevance")
    items: Iterable[PostRec] = found
    if sort == "top":
        items = _by_score(list(islice(found, emu.listing_cap)), lambda p: p.score)
    elif sort == "comments":
        pool = list(islice(found, emu.listing_cap))
        items = sorted(pool, key=lambda p: emu.data.comment_count(p.index), reverse=True)
    return page(emu, items, _fullname, lambda p: render_post(emu, p), query)


async def subreddit_new(
    emu: RedditEmulator, request: Request, path: dict[str, str], who: Principal
) -> Reply:
    sub = path["sub"].lower()
    posts = (p for p in emu.data.newest_first(emu.scan_budget) if p.subreddit.lower() == sub)
    return page(emu, posts, _fullname, lambda p: render_post(emu, p), request.query_params)


async def mentions(
    emu: RedditEmulator, request: Request, path: dict[str, str], who: Principal
) -> Reply:
    assert who.user is not None
    data = emu.data
    dest = data.user(who.user)
    tag = f"u/{dest.name}".lower()

    def mentioning(c: CommentRec) -> bool:
        if c.author == dest.index:
            return False
        if c.number >= WRITTEN_COMMENT_BASE:
            return tag in c.body.lower()
        return c.mentions == dest.index

    def render(c: CommentRec) -> dict[str, Any]:
        post = data.post(c.post)
        assert post is not None
        body = wire.mention(c, post, data.user(c.author), dest, data.comment_count(post.index))
        return {"kind": "t1", "data": body}

    found = _scanned(emu, ("mentions", dest.index), mentioning)
    return page(emu, found, lambda c: c.fullname, render, request.query_params)


# -- comment trees ---------------------------------------------------------------------------------


class _Tree:
    """One submission's comments, ordered by ``sort``, rendered as Reddit nests them."""

    def __init__(self, emu: RedditEmulator, post: PostRec, sort: str) -> None:
        self.emu = emu
        self.post = post
        self.children: dict[str, list[CommentRec]] = {}
        self.by_id: dict[str, CommentRec] = {}
        for comment in emu.data.comments_of(post.index):
            self.children.setdefault(comment.parent, []).append(comment)
            self.by_id[comment.id36] = comment
        for siblings in self.children.values():
            if sort == "new":
                siblings.sort(key=lambda c: (-c.created, -c.number))
            elif sort == "old":
                siblings.sort(key=lambda c: (c.created, c.number))
            else:  # confidence, top, controversial, qa...: by score
                siblings.sort(key=lambda c: (-c.score, c.created, c.number))

    def size(self, comment: CommentRec) -> int:
        return 1 + sum(self.size(c) for c in self.children.get(comment.fullname, []))

    def depth_of(self, comment: CommentRec) -> int:
        depth = 0
        while comment.parent.startswith("t1_"):
            parent = self.by_id.get(comment.parent[3:])
            if parent is None:
                break
            comment, depth = parent, depth + 1
        return depth

    def level(self, parent: str, siblings: list[CommentRec], depth: int, budget: list[int],
              max_depth: int) -> list[Any]:  # fmt: skip
        out: list[Any] = []
        for n, comment in enumerate(siblings):
            if budget[0] <= 0:
                rest = siblings[n:]
                ids = [c.id36 for c in rest]
                out.append(wire.more(parent, depth, ids, sum(self.size(c) for c in rest)))
                break
            budget[0] -= 1
            kids = self.children.get(comment.fullname, [])
            replies: Any = ""
            if kids and depth + 1 >= max_depth:
                replies = wire.listing([wire.more(comment.fullname, depth + 1, [], 0)], tree=True)
            elif kids:
                nested = self.level(comment.fullname, kids, depth + 1, budget, max_depth)
                replies = wire.listing(nested, tree=True)
            out.append(render_comment(self.emu, comment, depth=depth, replies=replies))
        return out

    def flat(self, comment: CommentRec, seen: set[str]) -> Iterator[dict[str, Any]]:
        if comment.id36 in seen:
            return
        seen.add(comment.id36)
        yield render_comment(self.emu, comment, depth=self.depth_of(comment))
        for child in self.children.get(comment.fullname, []):
            yield from self.flat(child, seen)


async def comments(
    emu: RedditEmulator, request: Request, path: dict[str, str], who: Principal
) -> Reply:
    post = emu.data.post_by_id36(path["id"])
    if post is None:
        return _not_found()
    query = request.query_params
    tree = _Tree(emu, post, query.get("sort", "confidence"))
    budget = [_int(query.get("limit"), TREE_LIMIT, 1, TREE_MAX_LIMIT)]
    max_depth = _int(query.get("depth"), MAX_DEPTH, 1, MAX_DEPTH)
    focus = path.get("focus")
    if focus:
        comment = tree.by_id.get(focus)
        if comment is None:
            return _not_found()
        roots, parent = [comment], comment.parent
    else:
        roots, parent = tree.children.get(post.fullname, []), post.fullname
    children = tree.level(parent, roots, 0, budget, max_depth)
    return 200, {}, [wire.listing([render_post(emu, post)]), wire.listing(children, tree=True)]


async def morechildren(
    emu: RedditEmulator, request: Request, path: dict[str, str], who: Principal
) -> Reply:
    query = request.query_params
    link = query.get("link_id", "")
    post = emu.data.post_by_id36(link[3:]) if link.startswith("t3_") else None
    ids = [i.strip() for i in query.get("children", "").split(",") if i.strip()]
    if post is None or not ids:
        return 200, {}, wire.api_errors(("INVALID_ID", "that is not a valid id", "link_id"))
    tree = _Tree(emu, post, query.get("sort", "confidence"))
    seen: set[str] = set()
    things = [
        rendered
        for i in ids[:MAX_LIMIT]
        if (comment := tree.by_id.get(i)) is not None
        for rendered in tree.flat(comment, seen)
    ]
    return 200, {}, {"json": {"errors": [], "data": {"things": things}}}
