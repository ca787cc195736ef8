"""socialgate's Reddit adapter driven through ``sg.Client`` against the in-process sandbox:
OAuth connect and refresh, script and app-only accounts, reads, comment trees with ``more``
stubs, writes, media, the shared per-client-id budget and the action limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

import socialgate as sg
from socialgate import sandbox
from socialgate.adapters.reddit import app_only_account, script_account
from socialgate.sandbox import SandboxApp, create_app

UA = "python:com.example.socialgate-sandbox-tests:v1 (by /u/sandbox_demo)"
APP = sg.OAuthApp(
    "sdk-app", "sdk-secret", redirect_uri="http://cb/reddit", extra={"user_agent": UA}
)
SCOPES = ["identity", "read", "history", "submit", "edit", "privatemessages"]


def make_app(clock: sg.FakeClock, **options: Any) -> SandboxApp:
    return create_app(
        networks=("reddit",), posts=2_000, clock=clock, seed=5, options={"reddit": options}
    )


def sdk_client(app: SandboxApp, clock: sg.FakeClock, **options: Any) -> sg.Client:
    return sg.Client(
        base_urls=sandbox.base_urls("http://sandbox", ["reddit"]),
        transport=httpx.ASGITransport(app=app),
        clock=clock,
        token_store=sg.MemoryTokenStore(),
        apps={"reddit": APP},
        **options,
    )


async def connect(client: sg.Client, user: str | None = None) -> sg.OAuth2Token:
    flow = client.oauth("reddit")
    extra = {"sandbox_user": user} if user else {}
    request = flow.authorization_url(scopes=SCOPES, **extra)
    consent = await client.http.get(request.url)
    code = flow.parse_callback(consent.headers["location"], request.state)
    return await flow.exchange_code(code)


@pytest.fixture
async def acct(clock: sg.FakeClock) -> AsyncIterator[sg.Account]:
    async with sdk_client(make_app(clock), clock) as client:
        yield client.account("reddit", await connect(client), key="demo")


async def test_reads(acct: sg.Account) -> None:
    me = await acct.profiles.me()
    assert (me.handle, me.display_name) == ("sandbox_demo", "Sandbox Demo")
    assert me.id.startswith("t2_") and me.created_at and me.avatar_url
    assert (await acct.profiles.get("u/sandbox_demo")).id == me.id
    assert (await acct.profiles.get(me.id)).handle == "sandbox_demo"  # t2_ id lookup
    posts = [p async for p in acct.posts.list(me.id, page_size=7, limit=20)]
    assert len(posts) == 20 and all(p.author_id == me.id for p in posts)
    assert [p.created_at for p in posts] == sorted((p.created_at for p in posts), reverse=True)
    again = await acct.posts.get(posts[-1].id)
    assert (again.id, again.text, again.title) == (posts[-1].id, posts[-1].text, posts[-1].title)  # type: ignore[attr-defined]
    hits = [p async for p in acct.posts.search("python", limit=25)]
    assert len(hits) == 25
    assert all("python" in f"{p.title} {p.text}".lower() for p in hits)  # type: ignore[attr-defined]
    mentions = [m async for m in acct.mentions.list(limit=10)]
    assert len(mentions) == 10 and all("u/sandbox_demo" in m.text.lower() for m in mentions)
    assert all(m.reply_to_id and m.conversation_id and m.url for m in mentions)


async def test_replies_expand_every_more_stub(acct: sg.Account) -> None:
    busy = None
    async for post in acct.posts.search("the", sort="comments", page_size=100, limit=100):
        if post.metrics.replies and post.metrics.replies >= 10:
            busy = post
            break
    assert busy is not None
    replies = [p async for p in acct.posts.replies(busy.id, page_size=3)]
    assert len(replies) == busy.metrics.replies
    ids = {p.id for p in replies}
    assert all(p.reply_to_id == busy.id or p.reply_to_id in ids for p in replies)
    assert {p.conversation_id for p in replies} == {busy.id}


async def test_paginator_cursor_resumes(acct: sg.Account) -> None:
    me = await acct.profiles.me()
    first = acct.posts.list(me.id, page_size=5, limit=8)
    head = [p.id async for p in first]
    rest = [p.id async for p in acct.posts.list(me.id, page_size=5, cursor=first.cursor)]
    every = [p.id async for p in acct.posts.list(me.id, page_size=100)]
    assert head + rest == every


async def test_writes(acct: sg.Account) -> None:
    post = await acct.posts.create(
        sg.Draft(text="Hello from the SDK\n\nFirst body line.", options={"subreddit": "sandbox"})
    )
    assert post.title == "Hello from the SDK"  # type: ignore[attr-defined]
    assert post.text == "Hello from the SDK\n\nFirst body line."  # the draft's own text
    fetched = await acct.posts.get(post.id)
    assert fetched.text == "Hello from the SDK\n\nFirst body line."
    assert fetched.author and fetched.author.handle
    reply = await acct.posts.create(sg.Draft(text="A reply", reply_to_id=post.id))
    assert (reply.reply_to_id, reply.conversation_id) == (post.id, post.id)
    assert [p.id async for p in acct.posts.replies(post.id)] == [reply.id]
    await acct.posts.delete(post.id)
    assert (await acct.posts.get(post.id)).text.endswith("\n\n[deleted]")
    with pytest.raises(sg.NotFound):
        await acct.posts.create(sg.Draft(text="x", options={"subreddit": "no_such_sub"}))
    with pytest.raises(sg.NotFound):
        await acct.posts.get("t3_zzzzzzzz")


async def test_media_posts(acct: sg.Account) -> None:
    image = await acct.media.upload(b"\x89PNG...", mime_type="image/png", alt_text="a chart")
    assert image.kind == "image" and image.url
    post = await acct.posts.create(
        sg.Draft(text="A chart", media=[image], options={"subreddit": "sandbox"})
    )
    assert post.media and post.media[0].id == image.id
    assert post.media[0].url == f"https://i.redd.it/{image.id}.png"
    second = await acct.media.upload(b"GIF89a", mime_type="image/gif")
    gallery = await acct.posts.create(
        sg.Draft(text="Two pictures", media=[image, second], options={"subreddit": "sandbox"})
    )
    fetched = await acct.posts.get(gallery.id)
    assert [m.id for m in fetched.media] == [image.id, second.id]
    assert fetched.media[0].alt_text == "a chart"
    video = await acct.media.upload(b"\x00\x00mp4", mime_type="video/mp4")
    clip = await acct.posts.create(
        sg.Draft(text="A clip", media=[video, image], options={"subreddit": "sandbox"})
    )
    assert clip.media and clip.media[0].kind == "video"


async def test_refresh_through_the_sandbox(clock: sg.FakeClock) -> None:
    app = make_app(clock, access_ttl=3_600)
    async with sdk_client(app, clock) as client:
        token = await connect(client)
        acct = client.account("reddit", token, key="demo")
        await acct.profiles.me()
        clock.advance(3_600)
        await acct.profiles.me()
        stored = await client.token_store.get("reddit", "demo")
        assert isinstance(stored, sg.OAuth2Token)
        assert stored.access_token != token.access_token
        assert stored.refresh_token == token.refresh_token  # Reddit does not rotate it


async def test_script_and_app_only_accounts(clock: sg.FakeClock) -> None:
    async with sdk_client(make_app(clock), clock) as client:
        script = await script_account(client, APP, "sandbox_demo", "any-password")
        assert (await script.profiles.me()).handle == "sandbox_demo"
        clock.advance(86_400)
        assert (await script.profiles.me()).handle == "sandbox_demo"  # logged in again
        reader = await app_only_account(client, APP)
        post = await anext(p async for p in reader.posts.search("python", limit=1))
        assert (await reader.posts.get(post.id)).id == post.id
        with pytest.raises(sg.PermissionDenied):
            await reader.profiles.me()
        with pytest.raises(sg.AuthenticationError):
            await script_account(client, APP, "sandbox_demo", "wrong-password", key="fresh")


async def test_accounts_of_one_app_share_the_budget(clock: sg.FakeClock) -> None:
    app = make_app(clock, requests_per_window=6)
    async with sdk_client(app, clock) as client:
        alice = client.account("reddit", await connect(client), key="alice")
        bob = client.account("reddit", await connect(client, user="1"), key="bob")
        for account in (alice, bob, alice, bob, alice, bob):
            await account.profiles.me()
        before = clock.time()
        await bob.profiles.me()  # the 7th request of the app: waits for the window
        waited = [s for s in clock.sleeps if s > 0]
        assert len(waited) == 1 and clock.time() - before == pytest.approx(waited[0])
        assert clock.time() % 600 < 5  # it went just after the 10-minute boundary
        assert app.stats.snapshot()["networks"]["reddit"]["rate_limited"] == 0


async def test_action_limit_is_a_rate_limit(clock: sg.FakeClock) -> None:
    async with sdk_client(make_app(clock, action_limit=1), clock) as client:
        acct = client.account("reddit", await connect(client), key="demo")
        draft = sg.Draft(text="once", options={"subreddit": "sandbox"})
        await acct.posts.create(draft)
        with pytest.raises(sg.RateLimited) as info:
            await acct.posts.create(draft)
        assert info.value.code == "RATELIMIT" and info.value.status == 200
        assert info.value.retry_after == pytest.approx(600, abs=1)
        clock.advance(600)
        await acct.posts.create(draft)


async def test_demo_token_with_the_default_user_agent(clock: sg.FakeClock) -> None:
    app = make_app(clock)
    async with sg.Client(
        base_urls=sandbox.base_urls("http://sandbox", ["reddit"]),
        transport=httpx.ASGITransport(app=app),
        clock=clock,
        token_store=sg.MemoryTokenStore(),
    ) as client:
        acct = client.account("reddit", sg.BearerToken("sandbox-user-demo"))
        assert (await acct.profiles.me()).handle == "sandbox_demo"
        assert acct.adapter.user_agent.startswith("socialgate:anonymous:")  # type: ignore[attr-defined]


async def test_revoke(clock: sg.FakeClock) -> None:
    async with sdk_client(make_app(clock), clock) as client:
        token = await connect(client)
        acct = client.account("reddit", token, key="demo")
        await acct.profiles.me()
        await client.oauth("reddit").revoke(token)
        # The access token is gone and so is the refresh token it would fall back on.
        with pytest.raises(sg.SocialGateError) as info:
            await acct.profiles.me()
        assert info.value.status in (400, 401)
