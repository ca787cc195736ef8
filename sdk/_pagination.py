"""Pagination: one ``Paginator`` for every list-like call, one style class per wire convention.

An adapter describes a listing as a ``PageQuery`` (the first request, its pagination style
and how to turn a page's body into items). The paginator fetches pages lazily, stops at
``limit``, and exposes ``cursor``: an opaque string that, passed back as ``cursor=``, resumes
exactly at the next unseen item, even when ``limit`` stopped iteration in the middle of a page.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

import httpx

from ._errors import BadRequest, SocialGateError

__all__ = [
    "CursorInBody",
    "LinkHeader",
    "NewestFirst",
    "NextUrl",
    "Offset",
    "Page",
    "PageQuery",
    "PaginationStyle",
    "Paginator",
    "TokenInMeta",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One page's request. ``url`` is absolute for styles that follow server-given links."""

    method: str
    path: str
    params: Mapping[str, Any] = field(default_factory=dict)
    json: Any = None
    absolute: bool = False


class PaginationStyle(Protocol):
    """How one network says "there is a next page" and how to ask for it."""

    def next_cursor(self, body: Any, response: httpx.Response, request: PageRequest) -> str | None:
        """The cursor of the next page, or ``None`` on the last page."""
        ...

    def apply(self, request: PageRequest, cursor: str) -> PageRequest:
        """The request for the page that ``cursor`` names."""
        ...


def _dig(body: Any, path: Sequence[str]) -> Any:
    for part in path:
        if not isinstance(body, dict):
            return None
        body = body.get(part)
    return body


@dataclass(frozen=True, slots=True)
class CursorInBody:
    """A cursor at ``path`` in the body, sent back as ``param`` (Bluesky ``cursor``, Pinterest
    ``bookmark``, YouTube ``nextPageToken``, Reddit ``data.after``). ``in_json`` sends it in a
    JSON body (TikTok v2); ``has_more`` names a boolean that must be true to go on."""

    path: tuple[str, ...]
    param: str
    in_json: bool = False
    has_more: tuple[str, ...] | None = None

    def next_cursor(self, body: Any, response: httpx.Response, request: PageRequest) -> str | None:
        if self.has_more is not None and not _dig(body, self.has_more):
            return None
        value = _dig(body, self.path)
        return None if value in (None, "") else str(value)

    def apply(self, request: PageRequest, cursor: str) -> PageRequest:
        if self.in_json:
            return replace(request, json={**(request.json or {}), self.param: cursor})
        return replace(request, params={**request.params, self.param: cursor})


def TokenInMeta(
    param: str = "pagination_token", path: Sequence[str] = ("meta", "next_token")
) -> CursorInBody:
    """X v2 style: ``meta.next_token`` sent back as ``pagination_token`` (timelines) or
    ``next_token`` (search). A constructor, since it is a cursor in the body's ``meta``."""
    return CursorInBody(path=tuple(path), param=param)


@dataclass(frozen=True, slots=True)
class LinkHeader:
    """RFC 8288 ``Link: <url>; rel="next"`` (Mastodon). The cursor is the next URL itself:
    page ids are not entity ids for some listings, so they are never derived."""

    rel: str = "next"

    def next_cursor(self, body: Any, response: httpx.Response, request: PageRequest) -> str | None:
        if isinstance(body, list) and not body:
            return None  # an empty page ends iteration even if a link is offered
        link = response.links.get(self.rel)
        return link.get("url") if link else None

    def apply(self, request: PageRequest, cursor: str) -> PageRequest:
        return PageRequest(method=request.method, path=cursor, absolute=True)


@dataclass(frozen=True, slots=True)
class NextUrl:
    """A full next-page URL in the body (Graph ``paging.next``)."""

    path: tuple[str, ...] = ("paging", "next")

    def next_cursor(self, body: Any, response: httpx.Response, request: PageRequest) -> str | None:
        value = _dig(body, self.path)
        return value if isinstance(value, str) and value else None

    def apply(self, request: PageRequest, cursor: str) -> PageRequest:
        return PageRequest(method=request.method, path=cursor, absolute=True)


@dataclass(frozen=True, slots=True)
class Offset:
    """Offset/limit paging (LinkedIn Rest.li ``start``/``count``). Ends on a short page or
    when ``total`` (if the body gives it) is reached."""

    param: str = "start"
    size_param: str = "count"
    page_size: int = 50
    total_path: tuple[str, ...] | None = None
    items_path: tuple[str, ...] | None = None

    def next_cursor(self, body: Any, response: httpx.Response, request: PageRequest) -> str | None:
        start = int(request.params.get(self.param, 0))
        size = int(request.params.get(self.size_param, self.page_size))
        items = _dig(body, self.items_path) if self.items_path else body
        count = len(items) if isinstance(items, list) else 0
        total = _dig(body, self.total_path) if self.total_path else None
        nxt = start + count
        if count == 0 or count < size or (isinstance(total, int) and nxt >= total):
            return None
        return str(nxt)

    def apply(self, request: PageRequest, cursor: str) -> PageRequest:
        return replace(request, params={**request.params, self.param: int(cursor)})


@dataclass(frozen=True, slots=True)
class NewestFirst:
    """Wraps any style for a newest-first listing the network cannot filter by time: paging
    ends once a page reaches items older than ``since`` (later pages can only be older).
    ``times`` reads the items' moments from a page's body (datetimes, or epoch seconds)."""

    inner: PaginationStyle
    since: datetime | float | None
    times: Callable[[Any], Sequence[datetime | float | None]]

    def next_cursor(self, body: Any, response: httpx.Response, request: PageRequest) -> str | None:
        if self.since is not None:
            cutoff = _epoch(self.since)
            if any(t is not None and _epoch(t) < cutoff for t in self.times(body)):
                return None
        return self.inner.next_cursor(body, response, request)

    def apply(self, request: PageRequest, cursor: str) -> PageRequest:
        return self.inner.apply(request, cursor)


def _epoch(moment: datetime | float) -> float:
    return moment.timestamp() if isinstance(moment, datetime) else float(moment)


@dataclass(frozen=True, slots=True)
class PageQuery(Generic[T]):
    """What an adapter hands the core for a listing."""

    request: PageRequest
    style: PaginationStyle
    parse: Callable[[Any, httpx.Response], list[T]]
    bucket: str | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of items. ``next_cursor`` is a socialgate cursor (pass it as ``cursor=``) that
    resumes after this page's last item, or ``None`` at the end; ``body`` is the raw answer."""

    items: list[T]
    next_cursor: str | None
    body: Any = None


Fetch = Callable[[PageRequest, str | None], Awaitable[tuple[Any, httpx.Response]]]


def encode_cursor(page_cursor: str | None, skip: int) -> str:
    raw = json.dumps({"c": page_cursor, "s": skip}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str | None, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded))
        page_cursor, skip = data["c"], int(data["s"])
        if page_cursor is not None and not isinstance(page_cursor, str):
            raise TypeError("page cursor must be a string")
    except (ValueError, KeyError, TypeError) as exc:
        raise BadRequest(
            "cursor= is not a socialgate cursor; pass the value of a paginator's .cursor"
        ) from exc
    return page_cursor, skip


class Paginator(Generic[T]):
    """Async-iterable over items; ``await`` it for the first page; ``.pages()`` per page.

    ``.cursor`` is ``None`` before the first fetch and once everything was read; otherwise it
    resumes exactly after the last item this paginator yielded.
    """

    def __init__(
        self,
        query: Callable[[], Awaitable[PageQuery[T]]],
        fetch: Fetch,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        on_error: Callable[[SocialGateError], None] | None = None,
    ) -> None:
        if limit is not None and limit < 0:
            raise ValueError("limit must be >= 0")
        self._query_factory = query
        self._fetch = fetch
        self._on_error = on_error
        self._initial_cursor = cursor
        self._limit = limit
        self._start = decode_cursor(cursor) if cursor else (None, 0)
        self._cursor: str | None = cursor
        self._yielded = 0
        self._done = False

    @property
    def cursor(self) -> str | None:
        return self._cursor

    async def _page_at(self, query: PageQuery[T], page_cursor: str | None) -> Page[T]:
        req = query.style.apply(query.request, page_cursor) if page_cursor else query.request
        body, response = await self._fetch(req, query.bucket)
        return Page(query.parse(body, response), query.style.next_cursor(body, response, req), body)

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Yield pages (after ``limit`` trimming); items already skipped by a resumed cursor
        are left out of the first page."""
        try:
            async for page in self._pages():
                yield page
        except SocialGateError as error:
            if self._on_error is not None:
                self._on_error(error)
            raise

    async def _pages(self) -> AsyncIterator[Page[T]]:
        if self._done:
            return
        query = await self._query_factory()
        page_cursor, skip = self._start
        while True:
            if self._limit is not None and self._yielded >= self._limit:
                return
            page = await self._page_at(query, page_cursor)
            items = page.items[skip:]
            if self._limit is not None:
                items = items[: self._limit - self._yielded]
            self._yielded += len(items)
            consumed = skip + len(items)
            if consumed < len(page.items):
                self._cursor = encode_cursor(page_cursor, consumed)
            elif page.next_cursor is not None:
                self._cursor = encode_cursor(page.next_cursor, 0)
            else:
                self._cursor = None
            yield Page(items, self._cursor, page.body)
            if self._cursor is None:
                self._done = True
                return
            page_cursor, skip = decode_cursor(self._cursor)
            if consumed < len(page.items):
                return  # stopped by limit inside this page

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.items:
                yield item

    def __await__(self) -> Generator[Any, None, Page[T]]:
        return self._first_page().__await__()

    async def _first_page(self) -> Page[T]:
        # A fresh paginator, so awaiting does not move this one's iteration.
        probe = Paginator(
            self._query_factory,
            self._fetch,
            limit=self._limit,
            cursor=self._initial_cursor,
            on_error=self._on_error,
        )
        async for page in probe.pages():
            return page
        return Page([], None)
