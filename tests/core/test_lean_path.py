"""The lean send path (default stack, straight to aiohttp) against a real loopback socket.

Every behaviour is checked on both paths: the lean one, and httpx's own transport
(``transport=httpx.AsyncHTTPTransport()``), which goes through ``httpx.AsyncClient.send``.
What the server receives and what the caller gets back must not depend on the path.
"""

from __future__ import annotations

import asyncio
import datetime
import gzip
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx
from multidict import CIMultiDict, CIMultiDictProxy

import socialgate as sg
from socialgate._adapter import Adapter
from socialgate._ratelimit_headers import parse_rate_limit_headers
from socialgate._registry import load_adapter
from socialgate._wire import WireResponse, decode_body

from .loopback import Answer, LoopbackServer, Seen, json_answer, serving
from .stores import ProtocolOnlyStore

TWEET = {"data": {"id": "20", "text": "héllo wörld"}}


def _ok(seen: Seen) -> Answer:
    return json_answer(
        201 if seen.method == "POST" else 200,
        TWEET,
        ("x-rate-limit-limit", "900"),
        ("x-rate-limit-remaining", "899"),
        ("x-rate-limit-reset", "4102444800"),
    )


@pytest.fixture
async def server() -> AsyncIterator[LoopbackServer]:
    async with serving(_ok) as srv:
        yield srv


PATHS = {
    "lean": lambda: None,
    "httpx": lambda: httpx.AsyncHTTPTransport(),
}


def _client(server: LoopbackServer, path: str, **kwargs: Any) -> sg.Client:
    transport = PATHS[path]()
    if transport is not None:
        kwargs["transport"] = transport
    kwargs.setdefault("token_store", sg.MemoryTokenStore())
    return sg.Client(base_urls={"x": server.url}, **kwargs)


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """URLs that went through httpx's ``build_request`` (the lean path builds none)."""
    built: list[str] = []
    original = httpx.AsyncClient.build_request

    def spy(self: httpx.AsyncClient, method: str, url: Any, **kwargs: Any) -> httpx.Request:
        built.append(str(url))
        return original(self, method, url, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "build_request", spy)
    return built


# --- which path is taken --------------------------------------------------------------------


async def test_default_stack_sends_without_httpx_requests(
    server: LoopbackServer, builds: list[str]
) -> None:
    async with _client(server, "lean") as c:
        acct = c.account("x", sg.BearerToken("app-token"))
        post = await acct.posts.get("20")
        created = await acct.posts.create(sg.Draft(text="hi"))
        answer = await acct.request("GET", "/2/tweets/20")
    assert post.text == "héllo wörld" and created.id == "20"
    assert builds == []
    # The escape hatch still returns a full httpx.Response with its request.
    assert isinstance(answer, httpx.Response) and answer.json() == TWEET
    assert answer.request.url.path == "/2/tweets/20"
    assert answer.request.headers["authorization"] == "Bearer app-token"


async def test_other_stacks_go_through_httpx(server: LoopbackServer, builds: list[str]) -> None:
    async with _client(server, "httpx") as c:
        await c.account("x", sg.BearerToken("t")).posts.get("20")
    assert len(builds) == 1
    own = httpx.AsyncClient()
    async with sg.Client(
        base_urls={"x": server.url}, token_store=sg.MemoryTokenStore(), http_client=own
    ) as c:
        await c.account("x", sg.BearerToken("t")).posts.get("20")
    await own.aclose()
    assert len(builds) == 2
    # OAuth 1.0a signs the httpx request, so it keeps that path on the default stack too.
    async with _client(server, "lean") as c:
        token = sg.OAuth1Token(
            consumer_key="ck", consumer_secret="cs", token="tk", token_secret="ts"
        )
        await c.account("x", token).posts.get("20")
    assert len(builds) == 3
    assert server.requests[-1].headers["authorization"].startswith("OAuth ")


async def test_a_mock_installed_after_the_client_started_still_sees_requests(
    server: LoopbackServer, builds: list[str]
) -> None:
    async with _client(server, "lean") as c:
        acct = c.account("x", sg.BearerToken("t"))
        await acct.posts.get("20")
        with respx.mock(base_url=server.url) as api:
            api.get("/2/tweets/21").respond(200, json={"data": {"id": "21", "text": "mocked"}})
            assert (await acct.posts.get("21")).text == "mocked"
        await acct.posts.get("20")
    assert len(server.requests) == 2 and len(builds) == 1


# --- same bytes on the wire, same answers -----------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/2/tweets/20",
        "/2/users/by/username/a b",
        "/2/users/by/username/ünï",
        "/2/tweets/search/recent?query=%23tag",
        "/2/tweets/x%2Fy",
    ],
)
async def test_both_paths_send_the_same_request(server: LoopbackServer, path: str) -> None:
    sent = []
    for kind in PATHS:
        async with _client(server, kind, user_agent="corp-app/1.0") as c:
            acct = c.account("x", sg.BearerToken("t"))
            await acct.request(
                "POST", path, params={"q": "a b&c", "n": 3, "on": True}, json={"text": "é"}
            )
        method, target, headers, body = server.requests[-1]
        lowered = {k: v for k, v in headers.items() if k != "connection"}
        sent.append((method, target, lowered, body))
    lean, via_httpx = sent
    assert lean == via_httpx
    assert lean[2]["content-type"] == "application/json"
    assert lean[2]["user-agent"] == "corp-app/1.0"


@pytest.mark.parametrize("kind", list(PATHS))
async def test_gzip_deflate_and_unknown_encodings_decode_alike(
    server: LoopbackServer, kind: str
) -> None:
    raw = json.dumps(TWEET).encode()
    import zlib

    bodies = {
        "gzip": gzip.compress(raw),
        "deflate": zlib.compress(raw),
        "identity": raw,
    }
    order = list(bodies)

    def script(seen: Seen) -> Answer:
        encoding = order[(len(server.requests) - 1) % len(order)]
        return 200, [("content-encoding", encoding)], bodies[encoding]

    server.script = script
    async with _client(server, kind) as c:
        acct = c.account("x", sg.BearerToken("t"))
        for _ in order:
            assert (await acct.posts.get("20")).text == "héllo wörld"


@pytest.mark.parametrize("kind", list(PATHS))
async def test_a_corrupt_gzip_body_is_a_clear_schema_error(
    server: LoopbackServer, kind: str
) -> None:
    server.script = lambda seen: (200, [("content-encoding", "gzip")], b"not gzip at all")
    async with _client(server, kind) as c:
        with pytest.raises(sg.UpstreamSchemaError, match="could not be decompressed"):
            await c.account("x", sg.BearerToken("t")).posts.get("20")


@pytest.mark.parametrize("kind", list(PATHS))
async def test_error_answers_map_alike_and_never_echo_the_token(
    server: LoopbackServer, kind: str
) -> None:
    token = "secret-bearer-123"
    server.script = lambda seen: json_answer(
        404,
        {"title": "Not Found Error", "detail": f"no tweet for {token}", "type": "about:blank"},
    )
    async with _client(server, kind) as c:
        with pytest.raises(sg.NotFound) as info:
            await c.account("x", sg.BearerToken(token)).posts.get("20")
    assert info.value.status == 404
    assert token not in str(info.value) and token not in (info.value.body or "")


@pytest.mark.parametrize("store", ["memory", "protocol-only"])
@pytest.mark.parametrize("kind", list(PATHS))
async def test_a_429_empties_the_budget_for_the_next_call(
    server: LoopbackServer, kind: str, store: str
) -> None:
    reset = int(time.time()) + 600
    budgets = sg.MemoryBudgetStore() if store == "memory" else ProtocolOnlyStore()
    async with _client(
        server, kind, on_rate_limit="raise", max_retries=0, budget_store=budgets
    ) as c:
        acct = c.account("x", sg.BearerToken("t"))

        def window(status: int, remaining: int) -> Answer:
            return json_answer(
                status,
                TWEET if status == 200 else {"title": "Too Many Requests"},
                ("x-rate-limit-limit", "900"),
                ("x-rate-limit-remaining", str(remaining)),
                ("x-rate-limit-reset", str(reset)),
            )

        server.script = lambda seen: window(200, 5)
        await acct.posts.get("20")  # the in-memory store's shortcuts, or the async protocol
        server.script = lambda seen: window(429, 0)
        with pytest.raises(sg.RateLimited):
            await acct.posts.get("20")
        with pytest.raises(sg.RateLimited) as second:
            await acct.posts.get("20")
    assert second.value.sent is False and len(server.requests) == 2
    if isinstance(budgets, ProtocolOnlyStore):
        assert budgets.calls.count("update") == 2 and budgets.calls.count("release") == 2
    assert second.value.reset_at == datetime.datetime.fromtimestamp(reset, datetime.UTC)


@pytest.mark.parametrize("kind", list(PATHS))
async def test_a_401_refreshes_once_and_resends(server: LoopbackServer, kind: str) -> None:
    def script(seen: Seen) -> Answer:
        if seen.target.startswith("/2/oauth2/token"):
            return json_answer(200, {"access_token": "new-access", "refresh_token": "new-refresh"})
        if seen.headers.get("authorization") == "Bearer old-access":
            return json_answer(401, {"title": "Unauthorized", "status": 401})
        return _ok(seen)

    server.script = script
    store = sg.MemoryTokenStore()
    app = sg.OAuthApp(client_id="cid", client_secret="csecret")
    async with _client(server, kind, token_store=store, apps={"x": app}) as c:
        token = sg.OAuth2Token(access_token="old-access", refresh_token="old-refresh")
        acct = c.account("x", token, key="user-1")
        assert (await acct.posts.get("20")).id == "20"
    targets = [seen.target.split("?")[0] for seen in server.requests]
    assert targets == ["/2/tweets/20", "/2/oauth2/token", "/2/tweets/20"]
    assert server.requests[-1].headers["authorization"] == "Bearer new-access"
    stored = await store.get("x", "user-1")
    assert isinstance(stored, sg.OAuth2Token) and stored.refresh_token == "new-refresh"


# --- the pieces --------------------------------------------------------------------------------


def test_wire_response_reads_like_an_httpx_response() -> None:
    raw = [
        (b"Content-Type", b"application/json; charset=utf-8"),
        (b"Set-Thing", b"a"),
        (b"set-thing", b"b"),
        (b"X-Rate-Limit-Remaining", b"5"),
    ]
    content = json.dumps(TWEET).encode()
    raw.append((b"Content-Length", str(len(content)).encode()))
    url = "http://example.test/2/tweets/20?a=1"
    sent = {"Authorization": "Bearer t", "User-Agent": "ua"}
    lean = WireResponse(200, raw, content, method="GET", url=url, request_headers=sent)
    request = httpx.Request("GET", url, headers=sent)
    full = httpx.Response(
        200,
        headers=raw,
        content=content,
        request=request,
        extensions={"http_version": b"HTTP/1.1"},
    )
    for name in ("status_code", "content", "text", "encoding", "http_version", "reason_phrase"):
        assert getattr(lean, name) == getattr(full, name), name
    assert lean.json() == full.json() == TWEET
    assert lean.headers.multi_items() == full.headers.multi_items()
    assert lean.headers.get_list("set-thing") == ["a", "b"]
    assert lean.url == full.url and lean.request.method == "GET"
    assert lean.request.headers["authorization"] == "Bearer t"
    assert lean.is_success and lean.raise_for_status() is lean
    assert repr(lean) == repr(full)
    assert lean.elapsed == datetime.timedelta(0)
    lean.headers = httpx.Headers({"x": "1"})
    assert lean.headers["x"] == "1"
    failed = WireResponse(503, raw, b"", method="GET", url=url, request_headers=sent)
    with pytest.raises(httpx.HTTPStatusError):
        failed.raise_for_status()


async def test_wire_response_reads_and_closes_like_a_read_response() -> None:
    lean = WireResponse(200, [], b"abc", method="GET", url="http://h/", request_headers={})
    assert await lean.aread() == b"abc"
    assert [chunk async for chunk in lean.aiter_bytes()] == [b"abc"]
    await lean.aclose()
    assert lean.is_closed


def test_decode_body_handles_what_networks_send_and_defers_the_rest() -> None:
    import zlib

    data = b'{"a": 1}'
    assert decode_body(None, data) == data
    assert decode_body("identity", data) == data
    assert decode_body("GZIP", gzip.compress(data)) == data
    assert decode_body("deflate", zlib.compress(data)) == data
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    assert decode_body("deflate", raw_deflate.compress(data) + raw_deflate.flush()) == data
    assert decode_body("br", b"...") is None
    assert decode_body("gzip, br", b"...") is None
    assert decode_body("gzip", b"corrupt") is None


def _all_specs() -> list[Any]:
    names = ["x", "mastodon", "bluesky", "reddit"]
    adapters: list[type[Adapter]] = [load_adapter(n) for n in names]
    return [a.spec for a in adapters]


@pytest.mark.parametrize("spec", _all_specs(), ids=lambda s: s.name)
def test_combined_route_matching_equals_the_route_loop(spec: Any) -> None:
    paths = {"/", "/x", "/2/tweets", "/2/tweets/1", "/2/users/1/tweets", "/api/v1/statuses/9"}
    for route in spec.routes:
        # A concrete path from each pattern: digits for classes, drop anchors.
        sample = route.pattern
        for token, repl in (("[^/]+", "abc"), ("\\d+", "12"), ("[0-9]+", "12"), (".*", "z")):
            sample = sample.replace(token, repl)
        paths.add(sample.replace("\\", "").replace("(", "").replace(")", "").replace("?", ""))
    for method in ("GET", "POST", "DELETE", "PUT"):
        for path in paths:
            expected = next(
                (r.bucket for r in spec.routes if r.matches(method, path)), spec.default_bucket
            )
            assert spec.bucket_for(method, path) == expected, (method, path)


@pytest.mark.parametrize(
    "headers",
    [
        [("X-Rate-Limit-Limit", "900"), ("x-rate-limit-remaining", "3"), ("Date", "x")],
        [("RateLimit-Limit", "10"), ("RateLimit-Remaining", "2"), ("RateLimit-Reset", "30")],
        [("x-ratelimit-used", "4"), ("X-Ratelimit-Remaining", "596.0"), ("x-ratelimit-reset", "9")],
        [("Retry-After", "12"), ("Server", "nginx")],
        [("x-app-usage", '{"call_count": 96, "total_time": 1, "total_cputime": 1}')],
        [("Content-Type", "application/json")],
    ],
)
def test_header_parsing_is_the_same_for_aiohttp_and_httpx_headers(
    headers: list[tuple[str, str]],
) -> None:
    multi = CIMultiDictProxy(CIMultiDict(headers))
    now = 1_800_000_000.0
    assert parse_rate_limit_headers(multi, now=now) == parse_rate_limit_headers(
        httpx.Headers(headers), now=now
    )


# X's window triple alone takes a shortcut on aiohttp's headers; httpx.Headers take the
# general walk. Both must agree, whatever the values and the reset style.
_X_TRIPLES = [
    ("900", "899", "1800000600"),
    ("900", "0", "1800000600"),
    ("abc", "3", "1800000600"),
    ("900", "", "nan"),
    ("x", "y", "z"),
    ("900", "12", "600"),
    ("900", "12", "2027-01-15T08:00:00Z"),
    ("1e3", "-1", "inf"),
    (" 900 ", "1_000", "1000000000"),
    ("900", "899", "-5"),
    ("0x10", "899", "1800000600"),
    ("900.5", "899.25", "1800000600.75"),
]


@pytest.mark.parametrize("triple", _X_TRIPLES)
@pytest.mark.parametrize(
    "date",
    # now's own second, one second off (rounding), ten minutes behind (skew), unreadable
    [
        None,
        "Fri, 15 Jan 2027 08:00:00 GMT",
        "Fri, 15 Jan 2027 08:00:01 GMT",
        "Fri, 15 Jan 2027 07:50:00 GMT",
        "bogus",
    ],
)
@pytest.mark.parametrize("style", ["auto", "epoch", "delta"])
def test_x_window_shortcut_equals_the_general_walk(
    triple: tuple[str, str, str], date: str | None, style: str
) -> None:
    names = ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")
    headers = [("content-type", "application/json"), *zip(names, triple, strict=True)]
    if date is not None:
        headers.append(("date", date))
    now = 1_800_000_000.0
    fast = parse_rate_limit_headers(
        CIMultiDictProxy(CIMultiDict(headers)), now=now, reset_style=style
    )
    general = parse_rate_limit_headers(httpx.Headers(headers), now=now, reset_style=style)
    assert fast == general


def test_decode_falls_back_to_json_for_what_the_fast_parser_refuses() -> None:
    from socialgate._account import Account

    async def scenario() -> None:
        async with sg.Client(token_store=sg.MemoryTokenStore()) as c:
            acct: Account = c.account("x", sg.BearerToken("t"))
            bom = httpx.Response(200, content=b'\xef\xbb\xbf{"a": 1}')
            assert acct.decode(bom) == {"a": 1}
            surrogate = httpx.Response(200, content=b'{"a": "\\ud800"}')
            assert acct.decode(surrogate) == {"a": "\ud800"}
            with pytest.raises(sg.UpstreamSchemaError, match="not JSON"):
                acct.decode(httpx.Response(200, content=b"<html>"))

    asyncio.run(scenario())
