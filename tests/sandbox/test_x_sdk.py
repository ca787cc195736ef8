"""socialgate's own X adapter, driven through ``sg.Client`` against the in-process sandbox:
OAuth connect, refresh, reads, search, writes, media, and proactive pacing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

import socialgate as sg
from socialgate import sandbox
from socialgate.sandbox import SandboxApp, create_app

APP = sg.OAuthApp(client_id="sdk-app", client_secret="sdk-secret", redirect_uri="http://cb/x")


def sdk_client(app: SandboxApp, clock: sg.FakeClock) -> sg.Client:
    return sg.Client(
        base_urls=sandbox.base_urls("http://sandbox"),
        transport=httpx.ASGITransport(app=app),
        clock=clock,
        token_store=sg.MemoryTokenStore(),
        apps={"x": APP},
    )


async def connect(client: sg.Client) -> sg.OAuth2Token:
    flow = client.oauth("x")
    request = flow.authorization_url()
    consent = await client.http.get(request.url)
    code = flow.parse_callback(consent.headers["location"], request.state)
    return await flow.exchange_code(code, code_verifier=request.code_verifier)


@pytest.fixture
async def acct(app: SandboxApp, clock: sg.FakeClock) -> AsyncIterator[sg.Account]:
    async with sdk_client(app, clock) as client:
        yield client.account("x", await connect(client), key="demo")


async def test_reads(acct: sg.Account, app: SandboxApp) -> None:
    me = await acct.profiles.me()
    assert me.handle == "sandbox_demo" and me.followers_count and me.created_at
    assert (await acct.profiles.get("sandbox_demo")).id == me.id
    posts = [p async for p in acct.posts.list(me.id, limit=30)]
    assert len(posts) == 30 and all(p.author and p.author.handle == "sandbox_demo" for p in posts)
    assert [p.created_at for p in posts] == sorted((p.created_at for p in posts), reverse=True)
    post = await acct.posts.get(posts[-1].id)
    assert post.text == posts[-1].text and post.metrics.likes is not None
    hits = [p async for p in acct.posts.search("python", limit=25)]
    assert len(hits) == 25 and all("python" in p.text.lower() for p in hits)
    reply = await anext(p async for p in acct.posts.search("is:reply", limit=50))
    assert reply.conversation_id and reply.reply_to_id
    thread = [p async for p in acct.posts.replies(reply.conversation_id)]
    assert reply.id in {p.id for p in thread}
    mentions = [m async for m in acct.mentions.list(limit=15)]
    assert len(mentions) == 15 and all("@sandbox_demo" in m.text for m in mentions)
    followers = [f async for f in acct.profiles.followers(me.id)]
    assert len(followers) == me.followers_count
    with pytest.raises(sg.NotFound):
        await acct.posts.get("1")
    assert app.stats.snapshot()["networks"]["x"]["rate_limited"] == 0


async def test_writes_and_media(acct: sg.Account, app: SandboxApp) -> None:
    png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x02\0\0\0\x01\0" + b"\0" * 500
    image = await acct.media.upload(png, mime_type="image/png", alt_text="a chart")
    assert (image.kind, image.width, image.height, image.alt_text) == ("image", 512, 256, "a chart")
    video = await acct.media.upload(b"\0" * (5 * 1024 * 1024), mime_type="video/mp4")
    assert video.kind == "video"
    created = await acct.posts.create(sg.Draft(text="hello from the sandbox", media=[image, video]))
    fetched = await acct.posts.get(created.id)
    assert fetched.text == "hello from the sandbox"
    assert {m.kind for m in fetched.media} == {"image", "video"}
    assert [m.alt_text for m in fetched.media if m.kind == "image"] == ["a chart"]
    reply = await acct.posts.create(sg.Draft(text="a reply", reply_to_id=created.id))
    assert (await acct.posts.get(reply.id)).conversation_id == created.id
    await acct.posts.delete(created.id)
    with pytest.raises(sg.NotFound):
        await acct.posts.get(created.id)
    assert "app-24h" in acct.rate_limits and "user-24h" in acct.rate_limits
    writes = app.stats.snapshot()["networks"]["x"]["writes"]
    assert writes == {"media.upload": 2, "posts.create": 2, "posts.delete": 1}


async def test_expired_access_token_is_refreshed_and_rotated(
    acct: sg.Account, clock: sg.FakeClock
) -> None:
    before = acct._manager.token if acct._manager else None
    clock.advance(7_200)
    assert (await acct.profiles.me()).handle == "sandbox_demo"
    after = acct._manager.token if acct._manager else None
    assert before and after and after.refresh_token != before.refresh_token


@pytest.mark.parametrize("time_scale", [1.0, 60.0])
async def test_pacing_past_a_window_sends_no_429(clock: sg.FakeClock, time_scale: float) -> None:
    """users.followers allows 15 calls per 15-minute window; 40 one-item pages need three
    windows. The SDK must wait (on the shared fake clock) instead of drawing 429s."""
    app = create_app(posts=10_000, clock=clock, time_scale=time_scale)
    async with sdk_client(app, clock) as client:
        acct = client.account("x", await connect(client), key="demo")
        me = await acct.profiles.me()
        started = clock.time()
        followers = [f async for f in acct.profiles.followers(me.id, page_size=1, limit=40)]
        assert len(followers) == 40
        waited = clock.time() - started
    stats = app.stats.snapshot()["networks"]["x"]
    assert stats["rate_limited"] == 0
    window = 900 / time_scale
    assert 2 * window - 5 <= waited <= 3 * window + 5


@pytest.mark.parametrize("mode", ["504", "drop"])
async def test_a_create_whose_answer_was_lost_is_not_posted_twice(
    acct: sg.Account, app: SandboxApp, mode: str
) -> None:
    """X has no idempotency key: a create whose answer is lost is applied once, not re-sent,
    and the error says the outcome is unknown."""
    app.faults.configure({"lost_response_rate": 1.0, "lost_response_mode": mode})
    with pytest.raises(sg.SocialGateError) as info:
        await acct.posts.create(sg.Draft(text="exactly once, please"))
    assert info.value.outcome_unknown and "not re-sent" in str(info.value)
    stats = app.stats.snapshot()["networks"]["x"]
    assert stats["writes"] == {"posts.create": 1}
    assert stats["faults"]["lost_response"] == 1
