"""Listing plumbing for the Bluesky adapter: cursor styles, time windows, item extraction.

Bluesky pages with an opaque ``cursor`` in the body (``CursorInBody``). Its newest-first
listings (author feeds, notifications) have no ``since`` parameter, so ``NewestFirst`` ends
paging once a page reaches older items, and ``within`` drops items outside the window.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from socialgate._errors import BadRequest, UpstreamSchemaError
from socialgate._pagination import CursorInBody, NewestFirst

from . import mapping
from .spec import SPEC

__all__ = [
    "CURSOR",
    "REPOST",
    "NewestFirst",
    "feed_time",
    "feed_times",
    "iso_time",
    "items_of",
    "notification_times",
    "parse_time",
    "within",
]

CURSOR = CursorInBody(path=("cursor",), param="cursor")
REPOST = "app.bsky.feed.defs#reasonRepost"


def iso_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise BadRequest("since/until must be timezone-aware datetimes", network=SPEC.name)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# Item times for paging and windows are read as the mapping reads created_at.
parse_time = mapping.parse_datetime


def within(moment: datetime | None, since: datetime | None, until: datetime | None) -> bool:
    if moment is None:
        return since is None and until is None
    return (since is None or moment >= since) and (until is None or moment < until)


def items_of(body: Any, key: str, what: str) -> list[Any]:
    items = body.get(key) if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise UpstreamSchemaError(
            f"Bluesky's {what} answer has no '{key}' list", network=SPEC.name, body=str(body)
        )
    return items


def feed_time(item: Any) -> datetime | None:
    """When a feed item entered the author's feed: the repost time for reposts."""
    if not isinstance(item, dict):
        return None
    reason = item.get("reason")
    if isinstance(reason, dict) and reason.get("$type") == REPOST:
        return parse_time(reason.get("indexedAt"))
    post = mapping.obj(item.get("post"))
    record = mapping.obj(post.get("record"))
    return parse_time(record.get("createdAt")) or parse_time(post.get("indexedAt"))


def feed_times(body: Any) -> list[datetime]:
    items = body.get("feed") if isinstance(body, dict) else None
    return [t for item in items or [] if (t := feed_time(item)) is not None]


def notification_times(body: Any) -> list[datetime]:
    items = body.get("notifications") if isinstance(body, dict) else None
    return [
        t
        for item in items or []
        if isinstance(item, dict) and (t := parse_time(item.get("indexedAt"))) is not None
    ]
