"""The paginator: items, pages, limit, and cursors that resume exactly where iteration stopped."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import socialgate as sg
from socialgate._pagination import (
    CursorInBody,
    LinkHeader,
    NextUrl,
    Offset,
    PageQuery,
    PageRequest,
    Paginator,
    TokenInMeta,
)

PAGES = {None: ([1, 2, 3], "p2"), "p2": ([4, 5, 6], "p3"), "p3": ([7], None)}


class FakeServer:
    def __init__(self) -> None:
        self.requests: list[PageRequest] = []

    async def fetch(self, request: PageRequest, bucket: str | None) -> tuple[Any, httpx.Response]:
        self.requests.append(request)
        token = request.params.get("pagination_token")
        items, nxt = PAGES[token]
        body = {"data": items, "meta": {"next_token": nxt} if nxt else {}}
        return body, httpx.Response(200, json=body)


def make(server: FakeServer, **kwargs: Any) -> Paginator[int]:
    async def query() -> PageQuery[int]:
        return PageQuery(PageRequest("GET", "/items"), TokenInMeta(), lambda b, r: list(b["data"]))

    return Paginator(query, server.fetch, **kwargs)


async def test_iterates_all_items_across_pages() -> None:
    server = FakeServer()
    paginator = make(server)
    assert [i async for i in paginator] == [1, 2, 3, 4, 5, 6, 7]
    assert paginator.cursor is None
    assert len(server.requests) == 3


@pytest.mark.parametrize("stop", range(0, 8))
async def test_limit_then_cursor_resumes_exactly(stop: int) -> None:
    server = FakeServer()
    first = make(server, limit=stop)
    head = [i async for i in first]
    assert head == list(range(1, stop + 1))
    if stop == 7:
        assert first.cursor is None
        return
    rest = make(server, cursor=first.cursor) if first.cursor else make(server)
    assert head + [i async for i in rest] == [1, 2, 3, 4, 5, 6, 7]


async def test_await_gives_first_page_and_pages_iterates_pages() -> None:
    server = FakeServer()
    paginator = make(server)
    page = await paginator
    assert page.items == [1, 2, 3] and page.body["meta"] == {"next_token": "p2"}
    assert [i async for i in make(server, cursor=page.next_cursor)] == [4, 5, 6, 7]
    # Awaiting does not move the paginator itself.
    assert [i async for i in paginator] == [1, 2, 3, 4, 5, 6, 7]
    sizes = [len(p.items) async for p in make(FakeServer()).pages()]
    assert sizes == [3, 3, 1]


async def test_limit_zero_fetches_nothing() -> None:
    server = FakeServer()
    assert [i async for i in make(server, limit=0)] == []
    assert server.requests == []


async def test_foreign_cursor_is_a_clear_error() -> None:
    with pytest.raises(sg.BadRequest, match="not a socialgate cursor"):
        make(FakeServer(), cursor="not-a-cursor!")


def test_styles() -> None:
    req = PageRequest("GET", "/x", {"limit": 10})
    ok = httpx.Response(200)
    assert TokenInMeta("next_token").apply(req, "t").params == {"limit": 10, "next_token": "t"}
    body_style = CursorInBody(
        ("data", "cursor"), "cursor", in_json=True, has_more=("data", "has_more")
    )
    assert body_style.next_cursor({"data": {"cursor": 5, "has_more": True}}, ok, req) == "5"
    assert body_style.next_cursor({"data": {"cursor": 5, "has_more": False}}, ok, req) is None
    assert body_style.apply(PageRequest("POST", "/v", json={"a": 1}), "5").json == {
        "a": 1,
        "cursor": "5",
    }
    linked = httpx.Response(
        200, headers={"Link": '<https://m.example/api/v1/x?max_id=9>; rel="next"'}
    )
    assert (
        LinkHeader().next_cursor([{"id": 1}], linked, req) == "https://m.example/api/v1/x?max_id=9"
    )
    assert LinkHeader().next_cursor([], linked, req) is None  # an empty page ends iteration
    nxt = LinkHeader().apply(req, "https://m.example/next")
    assert nxt.absolute and nxt.path == "https://m.example/next" and not nxt.params
    assert NextUrl().next_cursor({"paging": {"next": "https://g/n"}}, ok, req) == "https://g/n"
    assert NextUrl().next_cursor({"paging": {}}, ok, req) is None
    off = Offset(page_size=2)
    first = PageRequest("GET", "/o", {"count": 2})
    assert off.next_cursor([1, 2], ok, first) == "2"
    assert off.next_cursor([1], ok, first) is None
    assert off.apply(first, "2").params == {"count": 2, "start": 2}


async def test_next_link_to_another_host_is_not_followed(client: sg.Client) -> None:
    import respx

    with respx.mock(assert_all_called=True) as api:
        api.get("https://api.x.com/2/users/1/tweets").respond(
            200,
            json={"data": [{"id": "1", "text": "a"}], "meta": {}},
            headers={"Link": '<https://evil.example/steal?page=2>; rel="next"'},
        )
        acct = client.account("x", sg.BearerToken("secret-token-123"))

        async def query() -> PageQuery[str]:
            return PageQuery(
                PageRequest("GET", "/2/users/1/tweets"),
                LinkHeader(),
                lambda body, response: [t["id"] for t in body["data"]],
            )

        paginator = Paginator(query, acct.fetch_page)
        with pytest.raises(sg.UpstreamSchemaError, match="another host"):
            _ = [item async for item in paginator]


def test_newest_first_stops_at_the_page_that_reaches_since() -> None:
    from datetime import UTC, datetime

    from socialgate._pagination import NewestFirst

    inner = TokenInMeta("pagination_token")
    times = lambda body: [t for t in body["times"]]  # noqa: E731
    since = datetime(2024, 1, 1, tzinfo=UTC)
    style = NewestFirst(inner, since, times)
    req = PageRequest("GET", "/x")
    ok = httpx.Response(200)
    newer = {"times": [since.timestamp() + 60, None], "meta": {"next_token": "n"}}
    reaching = {
        "times": [since.timestamp() + 60, since.timestamp() - 1],
        "meta": {"next_token": "n"},
    }
    assert style.next_cursor(newer, ok, req) == "n"
    assert style.next_cursor(reaching, ok, req) is None
    assert NewestFirst(inner, None, times).next_cursor(reaching, ok, req) == "n"
    as_datetimes = {"times": [datetime(2023, 12, 31, tzinfo=UTC)], "meta": {"next_token": "n"}}
    assert style.next_cursor(as_datetimes, ok, req) is None
    assert style.apply(req, "n").params == {"pagination_token": "n"}
