"""The X emulator's user and tweet endpoints: lookups, timelines, mentions, followers, recent
search, create and delete. Each handler takes ``(emulator, request, path_params, principal)``
and returns ``(status, headers, body)``; ``sandbox.XEmulator`` has already checked the token,
the rate limit and the faults."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from socialgate.sandbox.emulator import Reply

from .sandbox_data import PostRec
from .sandbox_oauth import Principal
from .sandbox_search import compile_query
from .sandbox_wire import (
    TWEET_PARAMS,
    USER_PARAMS,
    Params,
    Renderer,
    invalid_request,
    not_found,
    problem,
)

if TYPE_CHECKING:
    from .sandbox import XEmulator

_USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}")
_RECENT = 7 * 86_400.0
_NO_BOUND = 2**63
_TIMELINE = (
    *TWEET_PARAMS,
    "max_results",
    "pagination_token",
    "since_id",
    "until_id",
    "start_time",
    "end_time",
)


def _params(request: Request, allowed: tuple[str, ...]) -> Params:
    return Params(dict(request.query_params), allowed)


def _bad(q: Params) -> Reply:
    return 400, {}, invalid_request(q.errors)


def _path_id(q: Params, name: str, value: str) -> None:
    if not (value.isdigit() and len(value) <= 19):
        q.add(
            name,
            value,
            f"The `{name}` query parameter value [{value}] does not match ^[0-9]{{1,19}}$",
        )


# -- users ---------------------------------------------------------------------------------------


async def me(emu: XEmulator, request: Request, path: dict[str, str], who: Principal) -> Reply:
    q = _params(request, USER_PARAMS)
    r = Renderer(emu.data, q, tweet_expansions=False)
    if q.errors:
        return _bad(q)
    assert who.user is not None
    return 200, {}, r.body(r.user(emu.data.user(who.user)))


async def user(emu: XEmulator, request: Request, path: dict[str, str], who: Principal) -> Reply:
    q = _params(request, USER_PARAMS)
    r = Renderer(emu.data, q, tweet_expansions=False)
    _path_id(q, "id", path["id"])
    if q.errors:
        return _bad(q)
    rec = emu.data.user_by_id(path["id"])
    if rec is None:
        return 200, {}, {"errors": [not_found("user", "id", path["id"])]}
    return 200, {}, r.body(r.user(rec))


async def user_by_username(
    emu: XEmulator, request: Request, path: dict[str, str], who: Principal
) -> Reply:
    q = _params(request, USER_PARAMS)
    r = Renderer(emu.data, q, tweet_expansions=False)
    name = path["username"]
    if not _USERNAME.fullmatch(name):
        q.add(
            "username",
            name,
            f"The `username` query parameter value [{name}] does not match ^[A-Za-z0-9_]{{1,15}}$",
        )
    if q.errors:
        return _bad(q)
    rec = emu.data.user_by_username(name)
    if rec is None:
        return 200, {}, {"errors": [not_found("user", "username", name, "username")]}
    return 200, {}, r.body(r.user(rec))


async def followers(
    emu: XEmulator, request: Request, path: dict[str, str], who: Principal
) -> Reply:
    q = _params(request, (*USER_PARAMS, "max_results", "pagination_token"))
    r = Renderer(emu.data, q, tweet_expansions=False)
    _path_id(q, "id", path["id"])
    size = q.max_results(1, 1000, 100)
    below = _token(emu, q, "followers", "pagination_token")
    if q.errors:
        return _bad(q)
    rec = emu.data.user_by_id(path["id"])
    if rec is None:
        return 200, {}, {"errors": [not_found("user", "id", path["id"])]}
    found: list[int] = []
    more = False
    for v in emu.data.followers_desc(rec.index, min(below, emu.data.n_users)):
        if len(found) == size:
            more = True
            break
        found.append(v)
    meta: dict[str, Any] = {"result_count": len(found)}
    if more:
        meta["next_token"] = emu.codec.encode("followers", found[-1])
    return 200, {}, r.body([r.user(emu.data.user(v)) for v in found], meta)


# -- tweets --------------------------------------------------------------------------------------


async def tweet(emu: XEmulator, request: Request, path: dict[str, str], who: Principal) -> Reply:
    q = _params(request, TWEET_PARAMS)
    r = Renderer(emu.data, q)
    _path_id(q, "id", path["id"])
    if q.errors:
        return _bad(q)
    rec = emu.data.get_post(int(path["id"]))
    if rec is None:
        return 200, {}, {"errors": [not_found("tweet", "id", path["id"])]}
    return 200, {}, r.body(r.tweet(rec))


async def tweets(emu: XEmulator, request: Request, path: dict[str, str], who: Principal) -> Reply:
    q = _params(request, (*TWEET_PARAMS, "ids"))
    r = Renderer(emu.data, q)
    ids = [v for v in q.query.get("ids", "").split(",") if v]
    if not 1 <= len(ids) <= 100:
        q.add(
            "ids",
            q.query.get("ids", ""),
            "The number of values in the `ids` query parameter "
            f"list [{len(ids)}] is not between 1 and 100",
        )
    for value in ids:
        _path_id(q, "ids", value)
    if q.errors:
        return _bad(q)
    data, errors = [], []
    for value in ids:
        rec = emu.data.get_post(int(value))
        if rec is None:
            errors.append(not_found("tweet", "ids", value))
        else:
            data.append(r.tweet(rec))
    body = r.body(data)
    if errors:
        body["errors"] = errors
    return 200, {}, body


async def user_tweets(
    emu: XEmulator, request: Request, path: dict[str, str], who: Principal
) -> Reply:
    q = _params(request, (*_TIMELINE, "exclude"))
    exclude = {v for v in q.query.get("exclude", "").split(",") if v}
    if exclude - {"replies", "retweets"}:
        q.add(
            "exclude",
            q.query["exclude"],
            "The `exclude` query parameter value "
            f"[{q.query['exclude']}] is not one of [replies,retweets]",
        )
    return await _timeline(emu, request, path, q, "user_tweets", exclude)


async def mentions(emu: XEmulator, request: Request, path: dict[str, str], who: Principal) -> Reply:
    return await _timeline(emu, request, path, _params(request, _TIMELINE), "mentions", set())


async def _timeline(
    emu: XEmulator,
    request: Request,
    path: dict[str, str],
    q: Params,
    kind: str,
    exclude: set[str],
) -> Reply:
    _path_id(q, "id", path["id"])
    r = Renderer(emu.data, q)
    if q.errors:
        return _bad(q)
    rec = emu.data.user_by_id(path["id"])
    if rec is None:
        return 200, {}, {"errors": [not_found("user", "id", path["id"])]}
    j = rec.index
    if kind == "mentions":
        return _page(emu, q, r, kind, ("all",), lambda p: any(m[0] == j for m in p.mentions))
    skip = "replies" in exclude
    return _page(emu, q, r, kind, ("user", j), (lambda p: p.reply_to is None) if skip else None)


async def search(emu: XEmulator, request: Request, path: dict[str, str], who: Principal) -> Reply:
    q = _params(request, (*_TIMELINE, "query", "next_token", "sort_order"))
    r = Renderer(emu.data, q)
    query = q.query.get("query", "")
    if "sort_order" in q.query and q.query["sort_order"] not in ("recency", "relevancy"):
        q.add(
            "sort_order",
            q.query["sort_order"],
            "The `sort_order` query parameter value "
            f"[{q.query['sort_order']}] is not one of [recency,relevancy]",
        )
    source, predicate = compile_query(emu.data, q, query)
    if q.errors:
        return _bad(q)
    return _page(emu, q, r, "search", source, predicate, recent=True)


def _token(emu: XEmulator, q: Params, kind: str, *names: str) -> int:
    for name in names:
        raw = q.query.get(name)
        if raw is None:
            continue
        values = emu.codec.decode(kind, raw, 1)
        if values is None:
            q.add(name, raw, f"The `{name}` query parameter value [{raw}] is not valid")
            return _NO_BOUND
        return values[0]
    return _NO_BOUND


def _page(
    emu: XEmulator,
    q: Params,
    r: Renderer,
    kind: str,
    source: tuple[Any, ...],
    predicate: Callable[[PostRec], bool] | None,
    *,
    recent: bool = False,
) -> Reply:
    data, now = emu.data, emu.clock.time()
    if recent:
        size = q.max_results(10, 100, 10)
        below = _token(emu, q, kind, "next_token", "pagination_token")
    else:
        size = q.max_results(5, 100, 10)
        below = _token(emu, q, kind, "pagination_token")
    since, until = q.snowflake("since_id"), q.snowflake("until_id")
    start, end = q.time("start_time"), q.time("end_time")
    if recent and start is not None and start < now - _RECENT:
        q.add(
            "start_time",
            q.query["start_time"],
            f"Invalid 'start_time':'{q.query['start_time']}'"
            ". 'start_time' must be on or after the last 7 days.",
        )
    if recent and end is not None and end > now - 10:
        q.add(
            "end_time",
            q.query["end_time"],
            f"Invalid 'end_time':'{q.query['end_time']}'. "
            "'end_time' must be a minimum of 10 seconds prior to the request time.",
        )
    if start is not None and end is not None and start >= end:
        q.add("start_time", q.query["start_time"], "'start_time' must be before 'end_time'.")
    if q.errors:
        return _bad(q)
    if recent and start is None:
        start = now - _RECENT
    if until is not None:
        below = min(below, until)
    lo = data.first_index_at_or_after(start) if start is not None else 0
    hi = data.first_index_at_or_after(end) if end is not None else data.n_posts
    found: list[PostRec] = []
    more_from: int | None = None
    scanned = 0
    if source[0] != "none":
        for num, rec in data.candidates(source, below, lo, hi):
            if since is not None and num <= since:
                break
            scanned += 1
            if (
                rec is not None
                and _in_window(rec, start, end)
                and (predicate is None or predicate(rec))
            ):
                if len(found) == size:
                    more_from = found[-1].num
                    break
                found.append(rec)
            if scanned >= emu.scan_budget:
                more_from = num
                break
    meta: dict[str, Any] = {"result_count": len(found)}
    if found:
        meta["newest_id"], meta["oldest_id"] = found[0].id, found[-1].id
    if more_from is not None:
        meta["next_token"] = emu.codec.encode(kind, more_from)
    return 200, {}, r.body([r.tweet(p) for p in found], meta)


def _in_window(rec: PostRec, start: float | None, end: float | None) -> bool:
    return (start is None or rec.created_at >= start) and (end is None or rec.created_at < end)


# -- writes --------------------------------------------------------------------------------------


async def delete(emu: XEmulator, request: Request, path: dict[str, str], who: Principal) -> Reply:
    q = Params({}, ())
    _path_id(q, "id", path["id"])
    if q.errors:
        return _bad(q)
    rec = emu.data.get_post(int(path["id"]))
    if rec is None:
        return 200, {}, {"errors": [not_found("tweet", "id", path["id"])]}
    if rec.author != who.user:
        detail = "You are not allowed to delete a Tweet that belongs to another user."
        return 403, {}, problem(403, "Forbidden", detail)
    emu.data.delete_post(rec)
    emu.ctx.record_write("posts.delete")
    return 200, {}, {"data": {"deleted": True}}


__all__ = [
    "delete",
    "followers",
    "me",
    "mentions",
    "search",
    "tweet",
    "tweets",
    "user",
    "user_by_username",
    "user_tweets",
]
