"""The default transport against a real loopback socket, and respx still intercepting it."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx

import socialgate as sg

from .loopback import Answer, LoopbackServer, Seen, serving

TWEET = {"data": {"id": "20", "text": "just setting up my twttr"}}


def _gzip_tweet(seen: Seen) -> Answer:
    payload = gzip.compress(json.dumps(TWEET).encode())
    return (
        201 if seen.method == "POST" else 200,
        [
            ("content-type", "application/json"),
            ("content-encoding", "gzip"),
            ("x-rate-limit-limit", "900"),
            ("x-rate-limit-remaining", "899"),
            ("x-rate-limit-reset", "4102444800"),
        ],
        payload,
    )


@pytest.fixture
async def server() -> AsyncIterator[LoopbackServer]:
    async with serving(_gzip_tweet) as srv:
        yield srv


async def test_requests_and_gzip_answers_round_trip(server: LoopbackServer) -> None:
    async with sg.Client(base_urls={"x": server.url}, token_store=sg.MemoryTokenStore()) as c:
        assert isinstance(c.http._transport._inner, sg.AiohttpTransport)  # type: ignore[attr-defined]
        acct = c.account("x", sg.OAuth2Token(access_token="user-token-abc"))
        post = await acct.posts.get("20")
        created = await acct.posts.create(sg.Draft(text="héllo"))
        assert acct.rate_limits["tweets.lookup"].remaining == 899
    assert post.text == TWEET["data"]["text"] and created.id == "20"
    (method, target, headers, _), (post_method, post_target, post_headers, body) = server.requests
    assert method == "GET" and target.startswith("/2/tweets/20?")
    assert "expansions=author_id" in target
    assert headers["authorization"] == "Bearer user-token-abc"
    assert headers["user-agent"].startswith("socialgate/")
    assert (post_method, post_target) == ("POST", "/2/tweets")
    assert post_headers["content-type"] == "application/json"
    assert json.loads(body) == {"text": "héllo"}


async def test_connection_refused_is_a_transport_error_that_never_left() -> None:
    with __import__("socket").socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        async with sg.Client(
            base_urls={"x": f"http://127.0.0.1:{port}"},
            token_store=sg.MemoryTokenStore(),
            clock=sg.FakeClock(),
        ) as c:
            acct = c.account("x", sg.OAuth2Token(access_token="user-token-abc"))
            with pytest.raises(sg.TransportError) as info:
                await acct.posts.create(sg.Draft(text="hi"))
    assert info.value.sent is False and not info.value.outcome_unknown


async def test_read_timeout_on_a_write_is_not_resent(server: LoopbackServer) -> None:
    server.stall_after = 0  # no answer at all
    async with sg.Client(
        base_urls={"x": server.url}, token_store=sg.MemoryTokenStore(), timeout=0.2
    ) as c:
        acct = c.account("x", sg.OAuth2Token(access_token="user-token-abc"))
        with pytest.raises(sg.TransportError) as info:
            await acct.posts.create(sg.Draft(text="hi"))
    assert info.value.outcome_unknown and len(server.requests) == 1


async def test_an_answer_that_stops_arriving_times_out(server: LoopbackServer) -> None:
    server.stall_after = 60  # the status line and a few headers, then nothing
    async with sg.Client(
        base_urls={"x": server.url},
        token_store=sg.MemoryTokenStore(),
        timeout=0.1,
        max_retries=0,
    ) as c:
        with pytest.raises(sg.TransportError, match=r"stopped arriving, for 0\.1s"):
            await c.account("x", sg.BearerToken("t")).posts.get("20")
    assert len(server.requests) == 1


async def test_a_slow_answer_that_keeps_arriving_is_not_cut_off(server: LoopbackServer) -> None:
    # About 0.5 s in all, five times the timeout, but never 0.1 s without a byte.
    server.trickle = (40, 0.03)
    async with sg.Client(
        base_urls={"x": server.url}, token_store=sg.MemoryTokenStore(), timeout=0.1
    ) as c:
        assert (await c.account("x", sg.BearerToken("t")).posts.get("20")).id == "20"
    assert len(server.requests) == 1


async def test_read_timeout_on_the_httpx_path_through_aiohttp(server: LoopbackServer) -> None:
    server.stall_after = 60
    async with httpx.AsyncClient(transport=sg.AiohttpTransport(), timeout=0.1) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post(server.url + "/form", data={"a": "b"})


async def test_read_timeouts_schedule_no_timer_per_request(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """aiohttp's sock_read scheduled about four loop timers per request (6% of the SDK's CPU
    per call); the watchdog arms one while requests are in flight."""
    loop = asyncio.get_running_loop()
    scheduled = 0
    call_at = loop.call_at

    def counting(when: float, callback: Any, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        nonlocal scheduled
        scheduled += 1
        return call_at(when, callback, *args, **kwargs)

    async with sg.Client(base_urls={"x": server.url}, token_store=sg.MemoryTokenStore()) as c:
        acct = c.account("x", sg.BearerToken("t"))
        # Open the connections first: connecting has timeouts of its own.
        await asyncio.gather(*(acct.posts.get("20") for _ in range(10)))
        monkeypatch.setattr(loop, "call_at", counting)
        for _ in range(20):
            await acct.posts.get("20")
        await asyncio.gather(*(acct.posts.get("20") for _ in range(10)))
    assert scheduled <= 1


async def test_respx_intercepts_the_default_transport() -> None:
    with respx.mock(base_url="https://api.x.com") as api:
        route = api.get("/2/tweets/20").respond(200, json=TWEET)
        async with sg.Client(token_store=sg.MemoryTokenStore()) as c:
            post = await c.account("x", sg.BearerToken("app-token")).posts.get("20")
    assert post.id == "20" and route.called


async def test_respx_httpx_mode_intercepts_too() -> None:
    with respx.mock(base_url="https://api.x.com", using="httpx") as api:
        api.get("/2/tweets/20").respond(200, json=TWEET)
        async with sg.Client(token_store=sg.MemoryTokenStore()) as c:
            assert (await c.account("x", sg.BearerToken("t")).posts.get("20")).id == "20"


async def test_httpx_transport_can_be_chosen(server: LoopbackServer) -> None:
    async with sg.Client(
        base_urls={"x": server.url},
        token_store=sg.MemoryTokenStore(),
        transport=httpx.AsyncHTTPTransport(),
    ) as c:
        assert (await c.account("x", sg.BearerToken("t")).posts.get("20")).id == "20"


async def test_own_http_client_is_used_rate_limited_and_left_open(server: LoopbackServer) -> None:
    own = httpx.AsyncClient(headers={"X-Corp-Trace": "abc"})
    async with sg.Client(
        base_urls={"x": server.url}, token_store=sg.MemoryTokenStore(), http_client=own
    ) as c:
        acct = c.account("x", sg.BearerToken("t"))
        assert (await acct.posts.get("20")).id == "20"
        assert acct.rate_limits["tweets.lookup"].remaining == 899
    assert server.requests[0].headers["x-corp-trace"] == "abc"
    assert not own.is_closed
    await own.aclose()
