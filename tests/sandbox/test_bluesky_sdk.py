"""socialgate's Bluesky adapter driven through ``sg.Client`` against the in-process emulator:
app-password login and session reuse, refresh under concurrency, PDS routing, reads,
pagination, writes with facets, images and reply refs, and deletes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

import socialgate as sg
from socialgate import sandbox
from socialgate.adapters.bluesky.sandbox import BlueskyEmulator
from socialgate.sandbox import SandboxApp, create_app

DEMO = sg.AppPassword("sandbox-demo.bsky.social", "sandbox-app-password")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def sdk_client(app: SandboxApp, clock: sg.FakeClock, store: sg.TokenStore) -> sg.Client:
    return sg.Client(
        base_urls=sandbox.base_urls("http://sandbox", ["bluesky"]),
        transport=httpx.ASGITransport(app=app),
        clock=clock,
        token_store=store,
    )


def emulator(app: SandboxApp) -> BlueskyEmulator:
    inner: Any = app.mounts["bluesky"].app
    assert isinstance(inner, BlueskyEmulator)
    return inner


@pytest.fixture
def app(clock: sg.FakeClock) -> SandboxApp:
    return create_app(networks=("bluesky",), posts=3_000, clock=clock, seed=3)


@pytest.fixture
async def acct(app: SandboxApp, clock: sg.FakeClock) -> AsyncIterator[sg.Account]:
    async with sdk_client(app, clock, sg.MemoryTokenStore()) as client:
        yield client.account("bsky", DEMO)


async def test_reads(acct: sg.Account, app: SandboxApp) -> None:
    me = await acct.profiles.me()
    assert me.handle == "sandbox-demo.bsky.social" and me.id.startswith("did:plc:")
    assert me.url == "https://bsky.app/profile/sandbox-demo.bsky.social"
    assert me.followers_count and me.posts_count == 50 and me.created_at
    assert (await acct.profiles.get("@sandbox-demo.bsky.social")).id == me.id

    posts = [p async for p in acct.posts.list(me.id, limit=30)]
    assert len(posts) == 30 and all(p.author_id == me.id for p in posts)
    assert [p.created_at for p in posts] == sorted((p.created_at for p in posts), reverse=True)
    assert all(p.url and p.url.startswith("https://bsky.app/profile/sandbox-demo") for p in posts)
    post = await acct.posts.get(posts[-1].id)
    assert post.text == posts[-1].text and post.metrics.likes is not None

    hits = [p async for p in acct.posts.search("python", limit=25)]
    assert len(hits) == 25 and all("python" in p.text.lower() for p in hits)

    reply = await anext(p async for p in acct.posts.search("the", limit=200) if p.reply_to_id)
    assert reply.conversation_id and reply.conversation_id != reply.id
    thread = [p async for p in acct.posts.replies(reply.conversation_id)]
    assert reply.id in {p.id for p in thread}
    parents = {p.id for p in thread} | {reply.conversation_id}
    assert all(p.reply_to_id in parents for p in thread)

    mentions = [m async for m in acct.mentions.list(limit=10)]
    assert len(mentions) == 10 and all("@sandbox-demo.bsky.social" in m.text for m in mentions)
    followers = [f async for f in acct.profiles.followers(me.id, page_size=7)]
    assert len(followers) == me.followers_count

    bluesky = emulator(app)
    assert bluesky.entry_requests == 1  # createSession; everything else went to the PDS
    assert bluesky.pds_requests > 10


async def test_pagination_resumes_from_a_cursor(acct: sg.Account) -> None:
    me = await acct.profiles.me()
    first = acct.posts.list(me.id, limit=7, page_size=5)
    head = [p.id async for p in first]
    rest = [p.id async for p in acct.posts.list(me.id, cursor=first.cursor, page_size=5)]
    everything = [p.id async for p in acct.posts.list(me.id)]
    assert head + rest == everything and len(everything) == 50


async def test_write_round_trip(acct: sg.Account, app: SandboxApp) -> None:
    me = await acct.profiles.me()
    target = await anext(p async for p in acct.posts.list(me.id, limit=1))
    media = await acct.media.upload(PNG, mime_type="image/png", alt_text="a tiny image")
    friend = await anext(p async for p in acct.profiles.followers(me.id, limit=1))
    assert friend.handle
    text = f"Grüße 🦋 @{friend.handle} see https://example.org/x #sandbox"
    created = await acct.posts.create(
        sg.Draft(text=text, media=[media], reply_to_id=target.id, options={"langs": ["de"]})
    )
    assert created.id.startswith(f"at://{me.id}/app.bsky.feed.post/")
    fetched = await acct.posts.get(created.id)
    assert fetched.text == text and fetched.lang == "de"
    assert fetched.reply_to_id == target.id
    assert fetched.conversation_id == (target.conversation_id or target.id)
    (image,) = fetched.media
    assert image.id == media.id and image.alt_text == "a tiny image" and image.url
    facets = fetched.raw["record"]["facets"]
    raw = text.encode()
    assert [raw[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in facets] == [
        f"@{friend.handle}",
        "https://example.org/x",
        "#sandbox",
    ]
    assert facets[0]["features"][0]["did"] == friend.id
    assert created.id in {p.id async for p in acct.posts.replies(target.id)}
    # The mentioned account sees it among its mentions (every seeded account can log in).
    friend_acct = acct.client.account("bluesky", sg.AppPassword(friend.handle, DEMO.password))
    assert created.id in {p.id async for p in friend_acct.mentions.list(limit=5)}

    await acct.posts.delete(created.id)
    with pytest.raises(sg.NotFound):
        await acct.posts.get(created.id)
    writes = app.stats.snapshot()["networks"]["bluesky"]["writes"]
    assert writes == {"media.upload": 1, "posts.create": 1, "posts.delete": 1}


async def test_session_is_reused_by_a_second_client(app: SandboxApp, clock: sg.FakeClock) -> None:
    store = sg.MemoryTokenStore()
    for _ in range(2):
        async with sdk_client(app, clock, store) as client:
            await client.account("bluesky", DEMO).profiles.me()
    assert emulator(app).sessions.created == 1


async def test_concurrent_calls_refresh_once(app: SandboxApp, clock: sg.FakeClock) -> None:
    store = sg.MemoryTokenStore()
    async with sdk_client(app, clock, store) as client:
        acct = client.account("bluesky", DEMO)
        await acct.profiles.me()
        clock.advance(2 * 3600 - 60)
        profiles = await asyncio.gather(
            *(acct.profiles.get("sandbox-demo.bsky.social") for _ in range(30))
        )
        assert len(profiles) == 30
        clock.advance(2 * 3600 - 300)  # near the end of the refreshed JWT's life: again
        await acct.profiles.me()
    sessions = emulator(app).sessions
    assert sessions.created == 1 and sessions.refreshed == 2


async def test_wrong_app_password(app: SandboxApp, clock: sg.FakeClock) -> None:
    async with sdk_client(app, clock, sg.MemoryTokenStore()) as client:
        acct = client.account("bluesky", sg.AppPassword("sandbox-demo.bsky.social", "wrong-pass"))
        with pytest.raises(sg.AuthenticationError, match="refused the app password") as caught:
            await acct.profiles.me()
    assert "wrong-pass" not in str(caught.value)
