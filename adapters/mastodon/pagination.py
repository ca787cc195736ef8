"""Mastodon's paging conventions as ``PaginationStyle`` values the core paginator drives.

``MastodonLinks`` follows ``Link: <...>; rel="next"`` and nothing else: for followers,
notifications and favourites the page ids are not the entity ids, so they are never
computed. Two additions over the core's ``LinkHeader``:

- **same origin**: a next URL on another host is moved onto the account's instance, so the
  bearer token is only ever sent to the server it was issued by (a proxy or a misconfigured
  ``LOCAL_DOMAIN`` can put another host in the link);
- newest-first listings are wrapped in the core's ``NewestFirst`` with ``created_times``,
  so a page that reaches items older than ``since`` is the last one.

``SinglePage`` is for answers that are never paginated (a status's context).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from socialgate._pagination import PageRequest

__all__ = ["MastodonLinks", "SinglePage", "created_times", "epoch_of"]


def epoch_of(value: Any) -> float | None:
    """Epoch seconds of an ISO-8601 ``created_at``; ``None`` when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None


def created_times(body: Any) -> list[float | None]:
    """The ``created_at`` of each item of a page, for ``NewestFirst``."""
    if not isinstance(body, list):
        return []
    return [epoch_of(item.get("created_at")) for item in body if isinstance(item, dict)]


@dataclass(frozen=True, slots=True)
class MastodonLinks:
    """Follow the ``next`` link on the account's own origin; stop at an empty page."""

    origin: str

    def next_cursor(self, body: Any, response: httpx.Response, request: PageRequest) -> str | None:
        if isinstance(body, list) and not body:
            return None  # Mastodon.py#341: an empty page ends iteration, links or not
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
