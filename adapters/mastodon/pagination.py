"""Mastodon's paging conventions as ``PaginationStyle`` values the core paginator drives.

``MastodonLinks`` follows ``Link: <...>; rel="next"`` and nothing else: for followers,
notifications and favourites the page ids are not the entity ids, so they are never
computed. Two additions over the core's ``LinkHeader``:

- **same origin**: a next URL on another host is moved onto the account's instance, so the
  bearer token is only ever sent to the server it was issued by (a proxy or a misconfigured
  ``LOCAL_DOMAIN`` can put another host in the link);
- **stop before** an instant: listings are newest first, so once a page reaches items older
  than ``since`` no later page can hold a wanted item and the next link is not followed.
  (The core's ``LinkHeader`` has no predicate to stop on; see the report for the proposed
  ``stop_when`` hook.)

``SinglePage`` is for answers that are never paginated (a status's context).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from socialgate._pagination import PageRequest

__all__ = ["MastodonLinks", "SinglePage", "epoch_of"]


def epoch_of(value: Any) -> float | None:
    """Epoch seconds of an ISO-8601 ``created_at``; ``None`` when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None


@dataclass(frozen=True, slots=True)
class MastodonLinks:
    """Follow the ``next`` link on the account's own origin; stop at an empty page, and
    (with ``stop_before``) at a page that reaches items created before that epoch."""

    origin: str
    stop_before: float | None = None

    def next_cursor(self, body: Any, response: httpx.Response, request: PageRequest) -> str | None:
        if isinstance(body, list) and not body:
            return None  # Mastodon.py#341: an empty page ends iteration, links or not
        if self.stop_before is not None and isinstance(body, list):
            times = [epoch_of(item.get("created_at")) for item in body if isinstance(item, dict)]
            known = [t for t in times if t is not None]
            if known and min(known) < self.stop_before:
                return None
        link = response.links.get("next")
        url = link.get("url") if link else None
        return self._on_origin(url) if url else None

    def apply(self, request: PageRequest, cursor: str) -> PageRequest:
        return PageRequest(method=request.method, path=self._on_origin(cursor), absolute=True)

    def _on_origin(self, url: str) -> str:
        target = httpx.URL(url)
        home = httpx.URL(self.origin)
        if (target.scheme, target.host, target.port) == (home.scheme, home.host, home.port):
            return url
        return str(target.copy_with(scheme=home.scheme, host=home.host, port=home.port))


@dataclass(frozen=True, slots=True)
class SinglePage:
    """An answer that has no further pages."""

    def next_cursor(self, body: Any, response: httpx.Response, request: PageRequest) -> str | None:
        return None

    def apply(self, request: PageRequest, cursor: str) -> PageRequest:
        return request
