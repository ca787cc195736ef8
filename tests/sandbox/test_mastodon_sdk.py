"""socialgate's own Mastodon adapter, driven through ``sg.Client`` against the in-process
sandbox: app registration and OAuth connect, reads, pagination with cursors, writes with
idempotency keys, media processing, error mapping and proactive pacing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

import socialgate as sg
from socialgate import sandbox
from socialgate.adapters.mastodon import register_app, revoke_token
from socialgate.adapters.mastodon.mapping import html_to_text
from socialgate.sandbox import SandboxApp, create_app

from .test_mastodon_emulator import PNG, emulator

ROOT = "http://sandbox"


def sdk_client(app: SandboxApp, clock: sg.FakeClock, **options: object) -> sg.Client:
    return sg.Client(
        base_urls=sandbox.base_urls(ROOT, ["mastodon"]),
        transport=httpx.ASGITransport(app=app),
        clock=clock,
        token_store=sg.MemoryTokenStore(),
        **options,  # type: ignore[arg-type]
    )


async def connect(client: sg.Client) -> tuple[sg.OAuthApp, sg.OAuth2Token]:
    """Register an app on the instance, consent (auto) and exchange the code with PKCE."""
    instance = f"{ROOT}/mastodon"
    app = await register_app(
        client,
        instance,
        client_name="socialgate tests",
        redirect_uris=["http://cb.example/mastodon"],
        scopes=["read", "write"],
    )
    flow = client.oauth("mastodon", app, base_url=instance)
    request = flow.authorization_url()
    consent = await client.http.get(request.url)
    code = flow.parse_callback(consent.headers["location"], request.state)
    return app, await flow.exchange_code(code, code_verifier=request.code_verifier)


@pytest.fixture
def app(clock: sg.FakeClock) -> SandboxApp:
    return create_app(networks=("mastodon",), posts=2_000, clock=clock, seed=1)


@pytest.fixture
async def acct(app: SandboxApp, clock: sg.FakeClock) -> AsyncIterator[sg.Account]:
    async with sdk_client(app, clock) as client:
        oauth_app, token = await connect(client)
        yield client.account("mastodon", token, app=oauth_app, key="demo")


async def test_reads(acct: sg.Account, app: SandboxApp) -> None:
    me = await acct.profiles.me()
    assert (me.handle, me.display_name, me.verified) == ("sandbox_demo", "Sandbox Demo", True)
    assert me.description and "\n\n" in me.description and me.created_at
    assert (await acct.profiles.get("@sandbox_demo")).id == me.id
    remote = emulator(app).data.account(3)
    assert (await acct.profiles.get(remote.acct)).handle == f"{remote.username}@{remote.domain}"
    posts = [p async for p in acct.posts.list(me.id, limit=30)]
    assert len(posts) == 30 and all(p.author_id == me.id for p in posts)
    assert [p.created_at for p in posts] == sorted((p.created_at for p in posts), reverse=True)
    post = await acct.posts.get(posts[-1].id)
    assert post.text == posts[-1].text and post.metrics.likes is not None
    hits = [p async for p in acct.posts.search("python", limit=25)]
    assert len(hits) == 25 and all("python" in p.text.lower() for p in hits)
    mentions = [m async for m in acct.mentions.list(limit=15)]
    assert len(mentions) == 15 and all("@sandbox_demo" in m.text for m in mentions)
    followers = [f async for f in acct.profiles.followers(me.id, page_size=7)]
    assert len(followers) == me.followers_count == len({f.id for f in followers})


async def test_the_whole_timeline_with_a_cursor_and_since(acct: sg.Account) -> None:
    me = await acct.profiles.me()
    everything = [p async for p in acct.posts.list(me.id, page_size=7)]
    assert len(everything) == me.posts_count
    first = acct.posts.list(me.id, limit=10, page_size=7)
    head = [p.id async for p in first]
    rest = [p.id async for p in acct.posts.list(me.id, cursor=first.cursor, page_size=7)]
    assert head + rest == [p.id for p in everything]
    cut = everything[12].created_at
    assert cut is not None
    recent = [p.id async for p in acct.posts.list(me.id, since=cut, page_size=7)]
    assert recent == [p.id for p in everything if p.created_at and p.created_at >= cut]
    older = [p.id async for p in acct.posts.list(me.id, until=cut - timedelta(seconds=1))]
    assert older == [p.id for p in everything if p.created_at and p.created_at < cut]


async def test_boosts_show_the_boosted_text_under_their_own_id(
    acct: sg.Account, app: SandboxApp
) -> None:
    data = emulator(app).data
    i = next(i for i in range(data.n_posts - 1, 0, -1) if data.is_reblog(i))
    booster = data.account(data.author(i)).id
    posts = [p async for p in acct.posts.list(booster, limit=200)]
    (boost,) = [p for p in posts if p.id == str(data.status_id(i))]
    inner = boost.raw["reblog"]
    assert boost.author_id == booster and boost.id != inner["id"]
    assert boost.text == html_to_text(inner["content"]) != ""
    assert (boost.lang, boost.metrics.likes) == (inner["language"], inner["favourites_count"])
    assert boost.conversation_id is None and boost.reply_to_id is None


async def test_replies_carry_the_thread_root(acct: sg.Account, app: SandboxApp) -> None:
    data = emulator(app).data
    parent = next(i for i in range(data.n_posts) if data.direct_replies(i))
    root = parent
    while data.is_reply(root):
        root = data.parent(root)
    replies = [p async for p in acct.posts.replies(str(data.status_id(parent)))]
    assert {str(data.status_id(k)) for k in data.direct_replies(parent)} <= {p.id for p in replies}
    assert {p.conversation_id for p in replies} == {str(data.status_id(root))}
    assert all(p.reply_to_id for p in replies)


async def test_write_cycle_with_media(acct: sg.Account, clock: sg.FakeClock) -> None:
    image = await acct.media.upload(PNG, mime_type="image/png", alt_text="a square")
    assert (image.kind, image.width, image.height, image.alt_text) == ("image", 320, 200,
                                                                       "a square")  # fmt: skip
    before = len(clock.sleeps)
    video = await acct.media.upload(b"\x00" * 4096, mime_type="video/mp4", alt_text="a clip")
    assert video.kind == "video" and video.url and video.url.endswith(".mp4")
    assert [s for s in clock.sleeps[before:] if s] == [1.0]  # 202, then ready at the poll
    post = await acct.posts.create(
        sg.Draft(text="hello #sandbox", media=(image, video),
                 options={"visibility": "unlisted", "spoiler_text": "cw"})
    )  # fmt: skip
    assert post.text == "hello #sandbox"
    assert [m.id for m in post.media] == [image.id, video.id]
    assert post.raw["visibility"] == "unlisted" and post.raw["sensitive"] is True
    assert post.conversation_id == post.id
    reply = await acct.posts.create(sg.Draft(text="and a reply", reply_to_id=post.id))
    assert reply.reply_to_id == post.id and reply.conversation_id is None
    (found,) = [p async for p in acct.posts.replies(post.id)]
    assert (found.id, found.conversation_id) == (reply.id, post.id)
    await acct.posts.delete(reply.id)
    with pytest.raises(sg.NotFound):
        await acct.posts.get(reply.id)


async def test_a_create_whose_answer_was_lost_is_not_posted_twice(
    acct: sg.Account, app: SandboxApp
) -> None:
    app.faults.configure({"lost_response_rate": 1.0, "lost_response_mode": "504"})
    draft = sg.Draft(text="exactly once", options={"idempotency_key": "crm-order-42"})
    with pytest.raises(sg.ServerError) as info:
        await acct.posts.create(draft)  # every answer lost: retried with the same key
    assert info.value.status == 504 and not info.value.outcome_unknown
    stats = app.stats.snapshot()["networks"]["mastodon"]
    assert stats["writes"] == {"posts.create": 1} and stats["faults"]["lost_response"] == 3
    app.faults.reset()
    post = await acct.posts.create(draft)  # a later retry by the caller, same key
    assert post.text == "exactly once"
    assert app.stats.snapshot()["networks"]["mastodon"]["writes"] == {"posts.create": 1}
    overlay = emulator(app).data.overlay.statuses
    assert [str(s.id) for s in overlay.values() if s.text == "exactly once"] == [post.id]


async def test_a_revoked_token_is_refused(app: SandboxApp, clock: sg.FakeClock) -> None:
    async with sdk_client(app, clock) as client:
        oauth_app, token = await connect(client)
        acct = client.account("mastodon", token, app=oauth_app, key="revoked")
        assert (await acct.profiles.me()).handle == "sandbox_demo"
        await revoke_token(client, f"{ROOT}/mastodon", oauth_app, token.access_token)
        with pytest.raises(sg.AuthenticationError) as info:
            await acct.profiles.me()
        assert info.value.upstream_message == "The access token was revoked"
        assert token.access_token not in str(info.value)


async def test_errors_map_to_the_tree(
    acct: sg.Account, app: SandboxApp, clock: sg.FakeClock
) -> None:
    with pytest.raises(sg.NotFound) as missing:
        await acct.posts.get("12345")
    assert missing.value.upstream_message == "Record not found"
    with pytest.raises(sg.BadRequest) as blank:
        await acct.posts.create(" ")
    assert blank.value.status == 422
    assert blank.value.upstream_message == "Validation failed: Text can't be blank"
    async with sdk_client(app, clock) as client:
        bad = client.account("mastodon", sg.BearerToken("not-a-sandbox-token-123"))
        with pytest.raises(sg.AuthenticationError) as info:
            await bad.profiles.me()
        assert "not-a-sandbox-token-123" not in str(info.value) + repr(info.value)
        demo = client.account("mastodon", sg.BearerToken(sandbox.DEMO_USER_TOKEN))
        assert (await demo.profiles.me()).handle == "sandbox_demo"


async def test_pacing_follows_the_iso_reset_without_a_429(clock: sg.FakeClock) -> None:
    app = create_app(networks=("mastodon",), posts=500, clock=clock, time_scale=60)
    async with sdk_client(app, clock) as client:
        acct = client.account("mastodon", sg.BearerToken(sandbox.DEMO_USER_TOKEN))
        me = await acct.profiles.me()
        for _ in range(320):
            await acct.profiles.get(me.id)
    assert app.stats.snapshot()["networks"]["mastodon"]["rate_limited"] == 0
    waits = [s for s in clock.sleeps if s]
    assert waits and all(0 < s <= 5.0 for s in waits)  # the 5-minute window / 60
    assert acct.rate_limits["default"].limit == 300
