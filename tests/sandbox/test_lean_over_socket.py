"""Every adapter on the lean send path: the sandbox served over a real loopback socket (uvicorn,
in this event loop) and driven with the default stack, beside the same calls through httpx's
transport. Reads must come back equal on both paths; writes, media and session refreshes must
work on the lean one (in-process tests elsewhere only reach the httpx path)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn

import socialgate as sg
from socialgate import sandbox
from socialgate.sandbox import SandboxApp, create_app

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CREDENTIALS: dict[str, Any] = {
    "x": lambda: sg.OAuth2Token(access_token=sandbox.DEMO_USER_TOKEN),
    "mastodon": lambda: sg.BearerToken(sandbox.DEMO_USER_TOKEN),
    "bluesky": lambda: sg.AppPassword("sandbox-demo.bsky.social", "sandbox-app-password"),
    "reddit": lambda: sg.OAuth2Token(access_token=sandbox.DEMO_USER_TOKEN),
}


@pytest.fixture
def app(clock: sg.FakeClock) -> SandboxApp:
    return create_app(posts=2_000, clock=clock, seed=5)


@pytest.fixture
async def served(app: SandboxApp) -> AsyncIterator[str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(10_000):
        if server.started:
            break
        await asyncio.sleep(0)
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


def _clients(served: str, app: SandboxApp, clock: sg.FakeClock) -> dict[str, sg.Client]:
    return {
        "lean": sg.Client(
            base_urls=sandbox.base_urls(served), token_store=sg.MemoryTokenStore(), clock=clock
        ),
        "httpx": sg.Client(
            base_urls=sandbox.base_urls("http://sandbox"),
            transport=httpx.ASGITransport(app=app),
            token_store=sg.MemoryTokenStore(),
            clock=clock,
        ),
    }


def _comparable(item: sg.Post | sg.Profile, root: str) -> Any:
    """The model without ``raw``; Mastodon builds URLs on its own host, so the served
    host is written as the in-process one."""
    text = json.dumps(item.model_dump(mode="json", exclude={"raw"}), sort_keys=True)
    return json.loads(text.replace(root, "http://sandbox"))


@pytest.mark.parametrize("network", list(CREDENTIALS))
async def test_reads_are_equal_on_both_paths(
    network: str, served: str, app: SandboxApp, clock: sg.FakeClock
) -> None:
    results = {}
    for kind, client in _clients(served, app, clock).items():
        async with client:
            if kind == "lean":
                assert client._lean_path() is not None
            acct = client.account(network, CREDENTIALS[network](), key="demo")
            me = await acct.profiles.me()
            posts = [p async for p in acct.posts.list(me.id, limit=25)]
            one = await acct.posts.get(posts[-1].id)
            results[kind] = (
                _comparable(me, served),
                [_comparable(p, served) for p in posts],
                _comparable(one, served),
                sorted(acct.rate_limits),
            )
    assert results["lean"] == results["httpx"]
    assert len(results["lean"][1]) == 25


@pytest.mark.parametrize("network", list(CREDENTIALS))
async def test_writes_with_media_on_the_lean_path(
    network: str, served: str, app: SandboxApp, clock: sg.FakeClock
) -> None:
    async with _clients(served, app, clock)["lean"] as client:
        acct = client.account(network, CREDENTIALS[network](), key="demo")
        media = await acct.media.upload(PNG, mime_type="image/png", alt_text="a test square")
        options = {"subreddit": "sandbox", "title": "lean"} if network == "reddit" else {}
        draft = sg.Draft(text="lean path says hi", media=(media,), options=options)
        post = await acct.posts.create(draft)
        assert post.id and "lean path says hi" in post.text
        assert (await acct.posts.get(post.id)).id == post.id
        await acct.posts.delete(post.id)
        if network != "reddit":  # Reddit keeps a deleted submission, marked [deleted]
            with pytest.raises(sg.NotFound):
                await acct.posts.get(post.id)


async def test_bluesky_session_expiry_renews_on_the_lean_path(
    served: str, app: SandboxApp, clock: sg.FakeClock
) -> None:
    async with _clients(served, app, clock)["lean"] as client:
        acct = client.account("bluesky", CREDENTIALS["bluesky"](), key="demo")
        me = await acct.profiles.me()
        clock.advance(3 * 3600)  # past the access JWT's life: renewed before sending
        assert (await acct.profiles.me()).id == me.id
    sessions: Any = app.mounts["bluesky"].app.sessions  # type: ignore[attr-defined]
    assert sessions.created == 1 and sessions.refreshed == 1


async def test_bluesky_expired_token_answer_renews_and_resends_on_the_lean_path(
    served: str, app: SandboxApp, clock: sg.FakeClock
) -> None:
    # The client's clock stays put while the server's moves on, so the client still
    # trusts its JWT and only the server's 400 ExpiredToken says it is stale.
    client_clock = sg.FakeClock(start=clock.time())
    async with _clients(served, app, client_clock)["lean"] as client:
        acct = client.account("bluesky", CREDENTIALS["bluesky"](), key="demo")
        me = await acct.profiles.me()
        clock.advance(3 * 3600)
        assert (await acct.profiles.me()).id == me.id
    sessions: Any = app.mounts["bluesky"].app.sessions  # type: ignore[attr-defined]
    assert sessions.created == 1 and sessions.refreshed == 1
