"""Proactive rate limiting: budgets from headers and static specs, waiting on the fake clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest
import respx

import socialgate as sg

from .stores import ProtocolOnlyStore

TWEET = {"data": {"id": "20", "text": "hello"}}


class WindowedEndpoint:
    """A fixed-window server: ``limit`` calls until ``reset``; answers 429 if overdrawn."""

    def __init__(self, clock: sg.FakeClock, limit: int, window: float) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self.reset = clock.time() + window
        self.used = 0
        self.sent_at: list[float] = []
        self.refused = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        now = self.clock.time()
        self.sent_at.append(now)
        while now >= self.reset:
            self.reset += self.window
            self.used = 0
        headers = {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-reset": str(int(self.reset)),
        }
        if self.used >= self.limit:
            self.refused += 1
            headers["x-rate-limit-remaining"] = "0"
            return httpx.Response(429, json={"title": "Too Many Requests"}, headers=headers)
        self.used += 1
        headers["x-rate-limit-remaining"] = str(self.limit - self.used)
        return httpx.Response(200, json=TWEET, headers=headers)


async def get_concurrently(acct: sg.Account, calls: int, in_flight: int) -> None:
    """``calls`` fetches of tweet 20, ``in_flight`` at a time."""
    queue = list(range(calls))

    async def worker() -> None:
        while queue:
            queue.pop()
            await acct.posts.get("20")

    await asyncio.gather(*(worker() for _ in range(in_flight)))


async def test_empty_budget_waits_until_reset_and_provokes_no_429(
    x_api: respx.MockRouter, client: sg.Client, clock: sg.FakeClock
) -> None:
    reset = clock.time() + 60
    headers = {
        "x-rate-limit-limit": "300",
        "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": str(int(reset)),
    }
    sent_at: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent_at.append(clock.time())
        if len(sent_at) > 1 and clock.time() < reset:
            return httpx.Response(429, json={"title": "Too Many Requests"})
        return httpx.Response(200, json=TWEET, headers=headers if len(sent_at) == 1 else {})

    x_api.get("/2/tweets/20").mock(side_effect=answer)
    acct = client.account("x", sg.BearerToken("app-token-1234"))
    await acct.posts.get("20")
    await acct.posts.get("20")
    assert len(sent_at) == 2
    assert sent_at[1] >= reset
    assert clock.sleeps == [pytest.approx(60)]


async def test_raise_mode_raises_with_reset_at_and_sends_nothing(
    x_api: respx.MockRouter, clock: sg.FakeClock, token_store: sg.TokenStore
) -> None:
    reset = int(clock.time() + 60)
    route = x_api.get("/2/tweets/20").respond(
        200,
        json=TWEET,
        headers={
            "x-rate-limit-limit": "300",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        },
    )
    async with sg.Client(clock=clock, token_store=token_store, on_rate_limit="raise") as client:
        acct = client.account("x", sg.BearerToken("app-token-1234"))
        await acct.posts.get("20")
        with pytest.raises(sg.RateLimited) as info:
            await acct.posts.get("20")
    assert route.call_count == 1
    err = info.value
    assert err.reset_at == datetime.fromtimestamp(reset, UTC)
    assert err.scope == "window" and err.bucket == "tweets.lookup" and err.network == "x"
    assert err.sent is False
    assert clock.sleeps == []


@pytest.mark.parametrize("in_flight", [1, 10, 50])
async def test_paced_run_across_windows_never_overdraws(
    x_api: respx.MockRouter, client: sg.Client, clock: sg.FakeClock, in_flight: int
) -> None:
    server = WindowedEndpoint(clock, limit=20, window=60)
    x_api.get("/2/tweets/20").mock(side_effect=server)
    acct = client.account("x", sg.BearerToken("app-token-1234"))
    await get_concurrently(acct, 130, in_flight)
    assert server.refused == 0
    assert len(server.sent_at) == 130
    # 130 calls at 20 per 60 s need 6 full windows of waiting, and no more.
    assert clock.time() - server.sent_at[0] == pytest.approx(6 * 60, abs=1.5)


async def test_static_budget_from_the_spec_applies_before_any_header(
    x_api: respx.MockRouter, client: sg.Client, clock: sg.FakeClock
) -> None:
    """X allows 75 calls of /2/users/me per user token per 15 minutes."""
    route = x_api.get("/2/users/me").respond(200, json={"data": {"id": "1", "username": "a"}})
    acct = client.account("x", sg.OAuth2Token(access_token="user-token-abcdef"))
    start = clock.time()
    for _ in range(76):
        await acct.profiles.me()
    assert route.call_count == 76
    assert clock.sleeps == [pytest.approx(900)]
    assert clock.time() - start == pytest.approx(900)


async def test_wait_longer_than_max_wait_raises_instead_of_sleeping(
    x_api: respx.MockRouter, clock: sg.FakeClock, token_store: sg.TokenStore
) -> None:
    x_api.get("/2/tweets/20").respond(
        200,
        json=TWEET,
        headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(clock.time() + 600))},
    )
    async with sg.Client(clock=clock, token_store=token_store, max_wait=30) as client:
        acct = client.account("x", sg.BearerToken("app-token-1234"))
        await acct.posts.get("20")
        with pytest.raises(sg.RateLimited, match="exceeds max_wait"):
            await acct.posts.get("20")
    assert clock.sleeps == []


async def test_daily_quota_exhaustion_raises_at_once(
    x_api: respx.MockRouter, client: sg.Client, clock: sg.FakeClock
) -> None:
    day_reset = int(clock.time() + 20 * 3600)
    route = x_api.post("/2/tweets").respond(
        201,
        json={"data": {"id": "1", "text": "hi"}},
        headers={
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "99",
            "x-rate-limit-reset": str(int(clock.time() + 900)),
            "x-user-limit-24hour-limit": "17",
            "x-user-limit-24hour-remaining": "0",
            "x-user-limit-24hour-reset": str(day_reset),
        },
    )
    acct = client.account("x", sg.OAuth2Token(access_token="user-token-abcdef"))
    await acct.posts.create(sg.Draft(text="hi"))
    with pytest.raises(sg.RateLimited) as info:
        await acct.posts.create(sg.Draft(text="again"))
    assert info.value.scope == "daily"
    assert info.value.reset_at == datetime.fromtimestamp(day_reset, UTC)
    assert route.call_count == 1
    assert clock.sleeps == []


async def test_429_with_reset_waits_then_retries_once(
    x_api: respx.MockRouter, client: sg.Client, clock: sg.FakeClock
) -> None:
    reset = int(clock.time() + 30)
    route = x_api.get("/2/tweets/20").mock(
        side_effect=[
            httpx.Response(
                429,
                json={"title": "Too Many Requests", "type": "about:blank", "status": 429},
                headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
            ),
            httpx.Response(200, json=TWEET),
        ]
    )
    acct = client.account("x", sg.BearerToken("app-token-1234"))
    post = await acct.posts.get("20")
    assert post.id == "20" and route.call_count == 2
    # The retry itself does not back off (delay 0); the transport waits for the reset.
    assert [s for s in clock.sleeps if s] == [pytest.approx(30)]


async def test_monthly_usage_cap_is_not_retried(x_api: respx.MockRouter, client: sg.Client) -> None:
    route = x_api.get("/2/tweets/20").respond(
        429,
        json={
            "title": "UsageCapExceeded",
            "detail": "Usage cap exceeded: Monthly product cap",
            "type": "https://api.x.com/2/problems/usage-capped",
            "status": 429,
        },
    )
    acct = client.account("x", sg.BearerToken("app-token-1234"))
    with pytest.raises(sg.RateLimited) as info:
        await acct.posts.get("20")
    assert info.value.scope == "monthly" and route.call_count == 1


async def test_budgets_are_per_credential_for_user_tokens(
    x_api: respx.MockRouter, client: sg.Client, clock: sg.FakeClock
) -> None:
    x_api.get("/2/tweets/20").respond(
        200,
        json=TWEET,
        headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(clock.time() + 60))},
    )
    alice = client.account("x", sg.OAuth2Token(access_token="alice-token-123"))
    bob = client.account("x", sg.OAuth2Token(access_token="bob-token-45678"))
    await alice.posts.get("20")
    await bob.posts.get("20")  # bob's budget is his own: no wait
    assert clock.sleeps == []
    await alice.posts.get("20")
    assert clock.sleeps == [pytest.approx(60)]


async def test_rate_limits_property_reports_the_latest_headers(
    x_api: respx.MockRouter, client: sg.Client, clock: sg.FakeClock
) -> None:
    x_api.get("/2/tweets/20").respond(
        200,
        json=TWEET,
        headers={
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": "449",
            "x-rate-limit-reset": str(int(clock.time() + 900)),
        },
    )
    acct = client.account("x", sg.BearerToken("app-token-1234"))
    await acct.posts.get("20")
    info = acct.rate_limits["tweets.lookup"]
    assert (info.limit, info.remaining, info.reset_at) == (450, 449, int(clock.time() + 900))


async def test_unknown_budget_slow_starts_and_never_overdraws(
    x_api: respx.MockRouter, client: sg.Client, clock: sg.FakeClock
) -> None:
    """No static limit (media.upload): 50 concurrent calls must not all fly before the first
    answer says the window holds only 20."""
    server = WindowedEndpoint(clock, limit=20, window=60)

    async def overlapping(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)  # let the other requests get in flight first
        return server(request)

    x_api.get("/2/media/upload").mock(side_effect=overlapping)
    acct = client.account("x", sg.OAuth2Token(access_token="user-token-abcdef"))

    async def status() -> None:
        await acct.request("GET", "/2/media/upload", params={"command": "STATUS", "media_id": "1"})

    await asyncio.gather(*(status() for _ in range(50)))
    assert server.refused == 0 and len(server.sent_at) == 50


async def test_a_network_without_headers_is_not_serialised(
    x_api: respx.MockRouter, client: sg.Client, clock: sg.FakeClock
) -> None:
    in_flight = 0
    peak = 0

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0)
        in_flight -= 1
        return httpx.Response(200, json={"data": {}})

    x_api.get("/2/media/upload").mock(side_effect=answer)
    acct = client.account("x", sg.OAuth2Token(access_token="user-token-abcdef"))
    await acct.request("GET", "/2/media/upload")  # the first answer has no budget headers
    await asyncio.gather(*(acct.request("GET", "/2/media/upload") for _ in range(10)))
    assert peak > 1


async def test_slow_start_does_not_raise_in_raise_mode(
    x_api: respx.MockRouter, clock: sg.FakeClock, token_store: sg.TokenStore
) -> None:
    x_api.get("/2/media/upload").respond(200, json={"data": {}})
    async with sg.Client(clock=clock, token_store=token_store, on_rate_limit="raise") as client:
        acct = client.account("x", sg.OAuth2Token(access_token="user-token-abcdef"))
        await asyncio.gather(*(acct.request("GET", "/2/media/upload") for _ in range(5)))


async def test_window_length_is_learned_from_the_servers_resets(
    x_api: respx.MockRouter, client: sg.Client, clock: sg.FakeClock
) -> None:
    """media.upload is configured with a 15-minute window; this server's is 60 s."""
    server = WindowedEndpoint(clock, limit=5, window=60)
    x_api.get("/2/media/upload").mock(side_effect=server)
    acct = client.account("x", sg.OAuth2Token(access_token="user-token-abcdef"))
    start = clock.time()
    for _ in range(16):
        await acct.request("GET", "/2/media/upload")
    assert server.refused == 0
    assert clock.time() - start == pytest.approx(3 * 60, abs=1)
    budget = await client.budget_store.get(acct._context("media.upload").key)
    assert budget is not None and budget.window == pytest.approx(60)


async def test_fake_clock_wakes_sleepers_in_deadline_order() -> None:
    clock = sg.FakeClock()
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.time() - 1_700_000_000))

    await asyncio.gather(sleeper("late", 900), sleeper("early", 60), sleeper("mid", 120))
    assert woke == [("early", 60), ("mid", 120), ("late", 900)]


@pytest.mark.parametrize("in_flight", [1, 10])
async def test_a_store_with_only_the_async_protocol_paces_the_same(
    x_api: respx.MockRouter,
    clock: sg.FakeClock,
    token_store: sg.TokenStore,
    in_flight: int,
) -> None:
    server = WindowedEndpoint(clock, limit=20, window=60)
    x_api.get("/2/tweets/20").mock(side_effect=server)
    store = ProtocolOnlyStore()
    async with sg.Client(clock=clock, token_store=token_store, budget_store=store) as client:
        acct = client.account("x", sg.BearerToken("app-token-1234"))
        await get_concurrently(acct, 50, in_flight)
    assert server.refused == 0
    assert len(server.sent_at) == 50
    assert clock.time() - server.sent_at[0] == pytest.approx(2 * 60, abs=1.5)
    # Every answer was learned and every reservation ended through the protocol.
    assert store.calls.count("update") == 50
    assert store.calls.count("release") == 50


async def test_a_bare_429_empties_a_protocol_only_store(
    x_api: respx.MockRouter, clock: sg.FakeClock, token_store: sg.TokenStore
) -> None:
    x_api.get("/2/tweets/20").respond(429, json={"title": "Too Many Requests"})
    store = ProtocolOnlyStore()
    async with sg.Client(
        clock=clock, token_store=token_store, budget_store=store, on_rate_limit="raise"
    ) as client:
        acct = client.account("x", sg.BearerToken("app-token-1234"))
        with pytest.raises(sg.RateLimited):
            await acct.posts.get("20")
        budget = await store.get(acct._context("tweets.lookup").key)
    assert "exhaust" in store.calls
    assert budget is not None and budget.remaining == 0
