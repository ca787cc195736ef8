"""Reddit's two ways of paging, as pagination styles for the core ``Paginator``.

``Listing``: ``after`` / ``before`` fullnames from ``data.after`` / ``data.before``, with
``count`` (items seen so far) sent back as Reddit asks. Every listing ends after about 1000
items, whatever the cursor: Reddit keeps no deeper index. The style logs a warning when a
listing ends there, because the end is then Reddit's cap, not the data's.

``CommentTree``: the first page is ``/comments/<id>``; comments Reddit left out behind
``more`` stubs follow in later pages, from ``/api/morechildren`` (up to 100 ids per call) or,
for "continue this thread" stubs, from ``/comments/<id>/_/<parent>``. The cursor carries the
stubs still to expand, so a paginator resumes exactly where it stopped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any, Literal

import httpx

from socialgate._pagination import PageRequest

from .mapping import comments_in_tree

__all__ = ["LISTING_CAP", "CommentTree", "Listing", "TreeRequest", "created_times", "more_stubs"]

log = logging.getLogger("socialgate.reddit")

# Reddit's listings stop after about this many items (praw and Reddit's API docs say 1000).
LISTING_CAP = 1000
MORECHILDREN_BATCH = 100


def _data(body: Any) -> dict[str, Any]:
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}


def _count(request: PageRequest) -> int:
    try:
        return int(request.params.get("count", 0))
    except (TypeError, ValueError):
        return 0


@dataclass(frozen=True, slots=True)
class Listing:
    """``direction="after"`` walks towards older items (the usual way); ``"before"`` walks
    towards newer ones from an anchor. Newest-first listings with a ``since`` are wrapped in
    the core's ``NewestFirst`` with ``created_times``."""

    direction: Literal["after", "before"] = "after"

    def next_cursor(self, body: Any, response: httpx.Response, request: PageRequest) -> str | None:
        data = _data(body)
        children: list[Any] = data["children"] if isinstance(data.get("children"), list) else []
        seen = _count(request) + len(children)
        anchor = data.get(self.direction)
        if not anchor or not children:
            if self.direction == "after" and seen >= LISTING_CAP - 100:
                log.warning(
                    "Reddit ended %s after %d items: its listings stop at about %d, so older "
                    "items may exist but cannot be listed",
                    request.path,
                    seen,
                    LISTING_CAP,
                )
            return None
        return f"{anchor} {seen}"

    def apply(self, request: PageRequest, cursor: str) -> PageRequest:
        anchor, _, count = cursor.partition(" ")
        params = {k: v for k, v in request.params.items() if k not in ("after", "before")}
        params[self.direction] = anchor
        params["count"] = count or "0"
        return replace(request, params=params)


def created_times(body: Any) -> list[float | None]:
    """Each listed thing's ``created_utc`` (epoch seconds), for ``NewestFirst``."""
    children = _data(body).get("children")
    return [
        c["data"].get("created_utc")
        if isinstance(c, dict)
        and isinstance(c.get("data"), dict)
        and isinstance(c["data"].get("created_utc"), int | float)
        else None
        for c in (children if isinstance(children, list) else [])
    ]


@dataclass(frozen=True, slots=True)
class TreeRequest(PageRequest):
    """A comment-tree page request that also carries the stubs left after it."""

    pending: tuple[str, ...] = ()


def more_stubs(things: list[Any]) -> list[str]:
    """The ``more`` stubs among ``things`` (already flattened): ``c:<id>`` for each comment id
    Reddit left out, ``t:<parent id>`` for a "continue this thread" link."""
    stubs: list[str] = []
    for thing in things:
        if not isinstance(thing, dict) or thing.get("kind") != "more":
            continue
        data = thing.get("data") or {}
        ids = [str(i) for i in data.get("children") or [] if i]
        if ids:
            stubs.extend(f"c:{i}" for i in ids)
        elif isinstance(data.get("parent_id"), str):
            stubs.append("t:" + data["parent_id"].split("_", 1)[-1])
    return stubs


def tree_things(body: Any) -> list[Any]:
    """Every thing of a comment page, flattened depth-first: a ``/comments`` answer (a list of
    two listings) or a ``/api/morechildren`` answer (already flat)."""
    if isinstance(body, list) and len(body) > 1:
        return list(comments_in_tree(_data(body[1]).get("children") or []))
    if isinstance(body, dict) and isinstance(body.get("json"), dict):
        return list((body["json"].get("data") or {}).get("things") or [])
    return []


@dataclass(frozen=True, slots=True)
class CommentTree:
    """Pages of one submission's comments; ``expand`` follows the ``more`` stubs."""

    link_id: str
    sort: str = "confidence"
    expand: bool = True

    def next_cursor(self, body: Any, response: httpx.Response, request: PageRequest) -> str | None:
        if not self.expand:
            return None
        pending = list(request.pending) if isinstance(request, TreeRequest) else []
        pending.extend(more_stubs(tree_things(body)))
        return ",".join(pending) or None

    def apply(self, request: PageRequest, cursor: str) -> PageRequest:
        stubs = [s for s in cursor.split(",") if s]
        link = self.link_id.split("_", 1)[-1]
        if stubs and stubs[0].startswith("t:"):
            return TreeRequest(
                "GET",
                f"/comments/{link}/_/{stubs[0][2:]}",
                {"sort": self.sort, "raw_json": 1},
                pending=tuple(stubs[1:]),
            )
        batch: list[str] = []
        while stubs and stubs[0].startswith("c:") and len(batch) < MORECHILDREN_BATCH:
            batch.append(stubs.pop(0)[2:])
        params = {
            "api_type": "json",
            "link_id": self.link_id,
            "children": ",".join(batch),
            "sort": self.sort,
            "limit_children": "false",
            "raw_json": 1,
        }
        return TreeRequest("GET", "/api/morechildren", params, pending=tuple(stubs))
