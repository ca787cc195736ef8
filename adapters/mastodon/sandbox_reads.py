"""Read endpoints of the Mastodon emulator: accounts, followers, statuses, context, search and
mention notifications. Each handler takes ``(emulator, request, path params, principal,
wire)`` and answers ``(status, headers, body)``.

Listings page like Mastodon's ``paginate_by_max_id``: ``max_id`` bounds from above,
``since_id`` from below, ``min_id`` asks for the items just above it; the page is newest
first, a ``next`` link (``max_id`` = the page's last id) is sent only for a full page and a
``prev`` link (``min_id`` = its first id) for any non-empty page. The ids paged by are the
listing's own: follow ids for followers, notification ids for notifications.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice, takewhile
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.requests import Request

from socialgate.sandbox.emulator import Reply

from .sandbox_data import StatusRec
from .sandbox_oauth import Principal
from .sandbox_wire import Wire, error, link_header

if TYPE_CHECKING:
    from .sandbox import MastodonEmulator

T = TypeVar("T")
NOT_FOUND = error("Record not found")
SEARCH_SCAN = 20_000


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def _limit(request: Request, default: int, maximum: int) -> int:
    value = _int(request.query_params.get("limit"))
    return default if value is None or value < 1 else min(value, maximum)


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true", "t", "on", "yes")


def paginate(
    request: Request, wire: Wire, path: str, items: Iterator[tuple[int, T]], limit: int
) -> tuple[list[T], dict[str, str]]:
    """One page of ``(id, item)`` pairs (newest first, already below ``max_id``)."""
    query = request.query_params
    since = _int(query.get("since_id"))
    min_id = _int(query.get("min_id"))
    floor = max(v for v in (since, min_id, -1) if v is not None)
    above = takewhile(lambda pair: pair[0] > floor, items)  # items come newest first
    if min_id is not None:
        page = list(above)[-limit:]  # the items just above min_id
    else:
        page = list(islice(above, limit))
    nxt = str(page[-1][0]) if len(page) == limit else None
    prev = str(page[0][0]) if page else None
    link = link_header(wire.base + path, query.multi_items(), nxt, prev)
    return [item for _, item in page], ({"link": link} if link else {})


def visible(emu: MastodonEmulator, rec: StatusRec | None, viewer: int | None) -> bool:
    if rec is None:
        return False
    if rec.reblog_of is not None and emu.data.get_status(rec.reblog_of) is None:
        return False  # a boost goes when the boosted status goes
    if rec.visibility in ("public", "unlisted"):
        return True
    return viewer is not None and (viewer == rec.author or viewer in rec.mentions)


def find_status(emu: MastodonEmulator, value: str, viewer: int | None) -> StatusRec | None:
    rec = emu.data.get_status(int(value)) if value.isdigit() else None
    return rec if visible(emu, rec, viewer) else None


# -- accounts ------------------------------------------------------------------------------------


async def verify_credentials(
    emu: MastodonEmulator, request: Request, path: dict[str, str], who: Principal, wire: Wire
) -> Reply:
    assert who.user is not None
    return 200, {}, wire.account(emu.data.account(who.user), credential=True)


async def account(
    emu: MastodonEmulator, request: Request, path: dict[str, str], who: Principal | None, wire: Wire
) -> Reply:
    rec = emu.data.account_by_id(path["id"])
    return (200, {}, wire.account(rec)) if rec else (404, {}, NOT_FOUND)


async def lookup(
    emu: MastodonEmulator, request: Request, path: dict[str, str], who: Principal | None, wire: Wire
) -> Reply:
    acct = request.query_params.get("acct", "")
    rec = emu.data.account_by_acct(acct, wire.domain) if acct else None
    return (200, {}, wire.account(rec)) if rec else (404, {}, NOT_FOUND)


async def followers(
    emu: MastodonEmulator, request: Request, path: dict[str, str], who: Principal | None, wire: Wire
) -> Reply:
    rec = emu.data.account_by_id(path["id"])
    if rec is None:
        return 404, {}, NOT_FOUND
    max_id = _int(request.query_params.get("max_id"))
    items = emu.data.followers(rec.index, max_id)
    page, headers = paginate(
        request, wire, f"/api/v1/accounts/{rec.id}/followers", items, _limit(request, 40, 80)
    )
    return 200, headers, [wire.account(emu.data.account(v)) for v in page]


# -- statuses ------------------------------------------------------------------------------------


async def status(
    emu: MastodonEmulator, request: Request, path: dict[str, str], who: Principal | None, wire: Wire
) -> Reply:
    rec = find_status(emu, path["id"], wire.viewer)
    return (200, {}, wire.status(rec)) if rec else (404, {}, NOT_FOUND)


async def account_statuses(
    emu: MastodonEmulator, request: Request, path: dict[str, str], who: Principal | None, wire: Wire
) -> Reply:
    rec = emu.data.account_by_id(path["id"])
    if rec is None:
        return 404, {}, NOT_FOUND
    if _flag(request, "pinned"):
        return 200, {}, []  # nobody pins in the sandbox
    max_id = _int(request.query_params.get("max_id"))
    no_replies = _flag(request, "exclude_replies")
    no_reblogs = _flag(request, "exclude_reblogs")
    only_media = _flag(request, "only_media")
    tagged = request.query_params.get("tagged", "").lower()

    def wanted(s: StatusRec) -> bool:
        if not visible(emu, s, wire.viewer):
            return False
        if no_replies and s.reply_to is not None and s.reply_to_author != s.author:
            return False
        if (no_reblogs or only_media or tagged) and s.reblog_of is not None:
            return False
        return (not only_media or bool(s.media)) and (not tagged or tagged in s.tags)

    items = ((s.id, s) for s in emu.data.statuses_desc(rec.index, max_id) if wanted(s))
    page, headers = paginate(
        request, wire, f"/api/v1/accounts/{rec.id}/statuses", items, _limit(request, 20, 40)
    )
    return 200, headers, [wire.status(s) for s in page]


async def context(
    emu: MastodonEmulator, request: Request, path: dict[str, str], who: Principal | None, wire: Wire
) -> Reply:
    rec = find_status(emu, path["id"], wire.viewer)
    if rec is None:
        return 404, {}, NOT_FOUND
    ancestors: list[StatusRec] = []
    parent = rec.reply_to
    while parent is not None:
        up = find_status(emu, str(parent), wire.viewer)
        if up is None:
            break
        ancestors.insert(0, up)
        parent = up.reply_to
    descendants: list[StatusRec] = []
    stack = list(reversed(emu.data.children(rec.id)))
    while stack and len(descendants) < 4_096:  # depth first, oldest sibling first
        child = find_status(emu, str(stack.pop()), wire.viewer)
        if child is not None:
            descendants.append(child)
            stack.extend(reversed(emu.data.children(child.id)))
    body = {
        "ancestors": [wire.status(s) for s in ancestors],
        "descendants": [wire.status(s) for s in descendants],
    }
    return 200, {}, body


async def search(
    emu: MastodonEmulator, request: Request, path: dict[str, str], who: Principal | None, wire: Wire
) -> Reply:
    query = request.query_params
    q = query.get("q", "").strip()
    kind = query.get("type")
    offset = _int(query.get("offset")) or 0
    if who is None and (offset or _flag(request, "resolve")):
        return 401, {}, error("Search queries pagination is not supported without authentication")
    limit = _limit(request, 20, 40)
    body: dict[str, Any] = {"accounts": [], "statuses": [], "hashtags": [], "collections": []}
    if not q:
        return 200, {}, body
    if kind in (None, "accounts"):
        body["accounts"] = [wire.account(a) for a in _accounts(emu, wire, q, offset, limit)]
    if kind in (None, "statuses"):
        found = islice(_statuses(emu, wire, q), offset, offset + limit)
        body["statuses"] = [wire.status(s) for s in found]
    return 200, {}, body


def _accounts(emu: MastodonEmulator, wire: Wire, q: str, offset: int, limit: int) -> list[Any]:
    exact = emu.data.account_by_acct(q, wire.domain) if "@" in q or q.isidentifier() else None
    needle = q.lower().lstrip("@")
    matches = (
        emu.data.account(j)
        for j in range(emu.data.n_users)
        if needle in emu.data.account(j).acct.lower()
        or needle in emu.data.account(j).display_name.lower()
    )
    ordered = [exact] if exact else []
    ordered += [a for a in matches if a is not exact]
    return ordered[offset : offset + limit]


def _statuses(emu: MastodonEmulator, wire: Wire, q: str) -> Iterator[StatusRec]:
    """Statuses whose text has every word of ``q`` (``from:acct`` narrows to an author),
    newest first; the scan stops after ``SEARCH_SCAN`` statuses, as an index would cap."""
    author = None
    words = []
    for token in q.lower().split():
        if token.startswith("from:"):
            who = emu.data.account_by_acct(token[5:], wire.domain)
            if who is None:
                return
            author = who.index
        else:
            words.append(token)
    for rec in islice(emu.data.statuses_desc(author, None), SEARCH_SCAN):
        if rec.reblog_of is None and visible(emu, rec, wire.viewer):
            text = rec.text.lower()
            if all(word in text for word in words):
                yield rec


async def notifications(
    emu: MastodonEmulator, request: Request, path: dict[str, str], who: Principal, wire: Wire
) -> Reply:
    assert who.user is not None
    query = request.query_params
    types = query.getlist("types[]") or query.getlist("types")
    excluded = query.getlist("exclude_types[]") or query.getlist("exclude_types")
    limit = _limit(request, 40, 80)
    if (types and "mention" not in types) or "mention" in excluded:
        return 200, {}, []  # only mentions are emulated
    max_id = _int(query.get("max_id"))
    items = (
        (nid, (nid, rec))
        for nid, rec in emu.data.mentions_of(who.user, max_id)
        if visible(emu, rec, who.user)
    )
    page, headers = paginate(request, wire, "/api/v1/notifications", items, limit)
    return 200, headers, [wire.notification(nid, rec) for nid, rec in page]
