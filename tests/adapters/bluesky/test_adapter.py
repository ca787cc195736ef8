"""The Bluesky adapter through the public API, replaying real recorded payloads with respx.

Reads and writes go to the PDS named by the recorded session (puffball.us-east...). Bodies of
methods nobody recorded (getFollowers, getAuthorFeed, getPostThread) are assembled from real
recorded items; each test says where. Nothing sleeps for real: waits go to the FakeClock.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

import socialgate as sg
from socialgate._budgets import StaticBudget

from .conftest import DID, ENTRY, HANDLE, MakeAccount, body, load, xrpc

PROFILE = body("get_profiles.json")["profiles"][0]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def params(route: respx.Route, call: int = -1) -> httpx.QueryParams:
    return route.calls[call].request.url.params


def sent_json(route: respx.Route, call: int = -1) -> Any:
    return json.loads(route.calls[call].request.content)


def limits(remaining: int, reset: float, limit: int = 3000, window: int = 300) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(limit),
        "RateLimit-Remaining": str(remaining),
        "RateLimit-Reset": str(int(reset)),
        "RateLimit-Policy": f"{limit};w={window}",
    }


# -- profiles ------------------------------------------------------------------------------------


async def test_profiles_me_and_get(acct: sg.Account, api: respx.MockRouter) -> None:
    route = api.get(xrpc("app.bsky.actor.getProfile")).mock(
        return_value=httpx.Response(200, json=PROFILE)
    )
    me = await acct.profiles.me()
    assert params(route)["actor"] == DID
    assert me.id == PROFILE["did"] and me.followers_count == 554
    for given in ("@chriskenny.bsky.social", "https://bsky.app/profile/chriskenny.bsky.social"):
        await acct.profiles.get(given)
        assert params(route)["actor"] == "chriskenny.bsky.social"


async def test_unknown_profile_is_not_found(acct: sg.Account, api: respx.MockRouter) -> None:
    api.get(xrpc("app.bsky.actor.getProfile")).mock(
        return_value=httpx.Response(
            400, json={"error": "InvalidRequest", "message": "Profile not found"}
        )
    )
    with pytest.raises(sg.NotFound) as caught:
        await acct.profiles.get("nobody.bsky.social")
    assert caught.value.status == 400 and caught.value.code == "InvalidRequest"


async def test_followers_pages_by_cursor_and_resumes(
    acct: sg.Account, api: respx.MockRouter
) -> None:
    # getFollowers was not recorded; its items are the recorded getFollows profile views.
    recorded = body("get_follows.json")
    subject, items = recorded["subject"], recorded["follows"]
    pages = {
        None: {"subject": subject, "followers": items[:30], "cursor": "3lcbepc6gt32f"},
        "3lcbepc6gt32f": {"subject": subject, "followers": items[30:]},
    }
    route = api.get(xrpc("app.bsky.graph.getFollowers")).mock(
        side_effect=lambda r: httpx.Response(200, json=pages[r.url.params.get("cursor")])
    )
    paginator = acct.profiles.followers("chriskenny.bsky.social", limit=40)
    first = [p async for p in paginator]
    assert [p.handle for p in first] == [i["handle"] for i in items[:40]]
    assert params(route, 0)["actor"] == "chriskenny.bsky.social"
    assert params(route, 0)["limit"] == "100" and "cursor" not in params(route, 0)
    assert params(route, 1)["cursor"] == "3lcbepc6gt32f"
    rest = [
        p async for p in acct.profiles.followers("chriskenny.bsky.social", cursor=paginator.cursor)
    ]
    assert [p.handle for p in rest] == [i["handle"] for i in items[40:]]
    assert params(route)["cursor"] == "3lcbepc6gt32f"


# -- posts ---------------------------------------------------------------------------------------


POST_URI = "at://did:plc:ic6zqvuw5ulmfpjiwnhsr2ns/app.bsky.feed.post/3k7qmjev5lr2s"


async def test_get_post_by_uri_and_by_web_link(acct: sg.Account, api: respx.MockRouter) -> None:
    route = api.get(xrpc("app.bsky.feed.getPosts")).mock(
        return_value=httpx.Response(200, json=body("get_posts.json"))
    )
    resolve = api.get(xrpc("com.atproto.identity.resolveHandle")).mock(
        return_value=httpx.Response(200, json={"did": "did:plc:ic6zqvuw5ulmfpjiwnhsr2ns"})
    )
    post = await acct.posts.get(POST_URI)
    assert params(route).get_list("uris") == [POST_URI] and post.id == POST_URI
    link = "https://bsky.app/profile/soubhikbarari.bsky.social/post/3k7qmjev5lr2s"
    assert (await acct.posts.get(link)).id == POST_URI
    assert params(resolve)["handle"] == "soubhikbarari.bsky.social"
    assert params(route).get_list("uris") == [POST_URI]


async def test_missing_post_and_bad_ids(acct: sg.Account, api: respx.MockRouter) -> None:
    api.get(xrpc("app.bsky.feed.getPosts")).mock(
        return_value=httpx.Response(200, json={"posts": []})
    )
    with pytest.raises(sg.NotFound):
        await acct.posts.get(POST_URI)
    with pytest.raises(sg.BadRequest, match="at:// URIs"):
        await acct.posts.get("3k7qmjev5lr2s")


def _feed() -> list[dict[str, Any]]:
    # getAuthorFeed was not recorded; a list feed answers the same feedViewPost items. One
    # item is turned into a repost (reasonRepost as the lexicon defines it).
    items = body("get_list_feed.json")["feed"]
    items[2]["reason"] = {
        "$type": "app.bsky.feed.defs#reasonRepost",
        "by": body("get_follows.json")["subject"],
        "indexedAt": items[2]["post"]["indexedAt"],
    }
    return items


async def test_list_posts_skips_reposts_and_stops_at_since(
    acct: sg.Account, api: respx.MockRouter
) -> None:
    items = _feed()
    times = [
        datetime.fromisoformat(i["post"]["record"]["createdAt"]).astimezone(UTC) for i in items
    ]
    assert times == sorted(times, reverse=True)
    since = times[6]
    page_one = {"feed": items[:5], "cursor": "2025-05-21T00:00:00.000Z"}
    page_two = {"feed": items[5:], "cursor": "2025-05-20T00:00:00.000Z"}
    route = api.get(xrpc("app.bsky.feed.getAuthorFeed")).mock(
        side_effect=[httpx.Response(200, json=page_one), httpx.Response(200, json=page_two)]
    )
    posts = [p async for p in acct.posts.list(DID, since=since, replies=False)]
    expected = [i["post"]["uri"] for k, i in enumerate(items[:7]) if k != 2]
    assert [p.id for p in posts] == expected
    assert route.call_count == 2  # page two reached items older than since: no page three
    assert params(route, 0)["actor"] == DID and params(route, 0)["filter"] == "posts_no_replies"
    assert params(route, 1)["cursor"] == "2025-05-21T00:00:00.000Z"


async def test_list_posts_can_keep_reposts_and_filter_until(
    acct: sg.Account, api: respx.MockRouter
) -> None:
    items = _feed()
    api.get(xrpc("app.bsky.feed.getAuthorFeed")).mock(
        return_value=httpx.Response(200, json={"feed": items})
    )
    until = datetime.fromisoformat(items[1]["post"]["record"]["createdAt"])
    posts = [p async for p in acct.posts.list(HANDLE, until=until, reposts=True)]
    assert [p.id for p in posts] == [i["post"]["uri"] for i in items[2:]]


async def test_search_sends_query_window_and_pages(acct: sg.Account, api: respx.MockRouter) -> None:
    recorded = body("search_posts.json")
    route = api.get(xrpc("app.bsky.feed.searchPosts")).mock(
        side_effect=[
            httpx.Response(200, json=recorded),
            httpx.Response(200, json={"posts": recorded["posts"][:3]}),
        ]
    )
    since = datetime(2025, 1, 1, tzinfo=UTC)
    until = datetime(2025, 5, 19, 12, 30, tzinfo=UTC)
    posts = [p async for p in acct.posts.search("redistricting", since=since, until=until)]
    assert len(posts) == 28
    first = params(route, 0)
    assert first["q"] == "redistricting" and first["sort"] == "latest"
    assert first["since"] == "2025-01-01T00:00:00.000Z"
    assert first["until"] == "2025-05-19T12:30:00.000Z"
    assert params(route, 1)["cursor"] == "25"


async def test_replies_flatten_the_thread_depth_first(
    acct: sg.Account, api: respx.MockRouter
) -> None:
    # getPostThread was not recorded; the tree is assembled from recorded post views.
    views = body("search_posts.json")["posts"][:4]

    def node(view: dict[str, Any], *replies: dict[str, Any]) -> dict[str, Any]:
        return {
            "$type": "app.bsky.feed.defs#threadViewPost",
            "post": view,
            "replies": list(replies),
        }

    thread = node(views[0], node(views[1], node(views[2])), node(views[3]))
    route = api.get(xrpc("app.bsky.feed.getPostThread")).mock(
        return_value=httpx.Response(200, json={"thread": thread})
    )
    replies = [p async for p in acct.posts.replies(views[0]["uri"])]
    assert [p.id for p in replies] == [v["uri"] for v in views[1:]]
    assert [p.reply_to_id for p in replies] == [views[0]["uri"], views[1]["uri"], views[0]["uri"]]
    assert params(route)["uri"] == views[0]["uri"] and params(route)["parentHeight"] == "0"
    api.get(xrpc("app.bsky.feed.getPostThread")).mock(
        return_value=httpx.Response(400, json={"error": "NotFound", "message": "Post not found"})
    )
    with pytest.raises(sg.NotFound):
        _ = [p async for p in acct.posts.replies(views[0]["uri"])]


async def test_mentions_come_from_notifications(acct: sg.Account, api: respx.MockRouter) -> None:
    recorded = body("list_notifications.json")
    route = api.get(xrpc("app.bsky.notification.listNotifications")).mock(
        side_effect=lambda r: httpx.Response(
            200, json=recorded if "cursor" not in r.url.params else {"notifications": []}
        )
    )
    mentions = [m async for m in acct.mentions.list(limit=100)]
    assert params(route, 1)["cursor"] == recorded["cursor"]
    wanted = [n["uri"] for n in recorded["notifications"] if n["reason"] == "mention"]
    assert [m.id for m in mentions] == wanted and len(wanted) == 11
    assert params(route, 0).get_list("reasons") == ["mention"]
    assert params(route, 0)["limit"] == "100"
    # The recorded page goes back to 2024-12-19 and has a cursor: since stops paging there.
    since = datetime(2025, 3, 1, tzinfo=UTC)
    recent = [m async for m in acct.mentions.list(since=since)]
    assert recent and all(m.created_at and m.created_at >= since for m in recent)
    assert route.call_count == 3  # one page: it reached notifications older than since


# -- writes --------------------------------------------------------------------------------------


# A reply: it carries its thread's root.
PARENT_VIEW = next(p for p in body("search_posts.json")["posts"] if p["record"].get("reply"))


def _blob_answer(request: httpx.Request) -> httpx.Response:
    recorded = body("upload_blob.json")
    recorded["blob"]["size"] = len(request.content)
    return httpx.Response(200, json=recorded)


async def test_create_with_image_alt_facets_and_reply_refs(
    acct: sg.Account, api: respx.MockRouter, fake_clock: sg.FakeClock
) -> None:
    assert PARENT_VIEW["record"].get("reply"), "the fixture must be a reply"
    upload = api.post(xrpc("com.atproto.repo.uploadBlob")).mock(side_effect=_blob_answer)
    posts = api.get(xrpc("app.bsky.feed.getPosts")).mock(
        return_value=httpx.Response(200, json={"posts": [PARENT_VIEW]})
    )
    resolve = api.get(xrpc("com.atproto.identity.resolveHandle")).mock(
        side_effect=lambda r: (
            httpx.Response(200, json=body("resolve_handle.json"))
            if r.url.params["handle"] == "chriskenny.bsky.social"
            else httpx.Response(
                400, json={"error": "InvalidRequest", "message": "Unable to resolve"}
            )
        )
    )
    create = api.post(xrpc("com.atproto.repo.createRecord")).mock(
        return_value=httpx.Response(200, json=body("create_record.json"))
    )
    media = await acct.media.upload(
        PNG, mime_type="image/png", alt_text="A chart 📈", width=640, height=480
    )
    assert upload.calls[0].request.content == PNG
    assert upload.calls[0].request.headers["content-type"] == "image/png"
    assert media.id == "bafkreiak7tto2scyh6arlg3igu2snhg6fgytn22ett63vvylys2kui2rxq"
    assert media.raw["blob"]["ref"]["$link"] == media.id

    text = (
        "Grüße 🦋 @chriskenny.bsky.social and @ghost.example.com, see ü.example.org "
        "https://x.org/a. #dataviz"
    )
    draft = sg.Draft(
        text=text, media=[media], reply_to_id=PARENT_VIEW["uri"], options={"langs": ["de", "en"]}
    )
    post = await acct.posts.create(draft)
    assert params(posts).get_list("uris") == [PARENT_VIEW["uri"]]
    assert {params(resolve, i)["handle"] for i in range(resolve.call_count)} == {
        "chriskenny.bsky.social",
        "ghost.example.com",
    }
    sent = sent_json(create)
    assert sent["repo"] == DID and sent["collection"] == "app.bsky.feed.post"
    record = sent["record"]
    assert record["$type"] == "app.bsky.feed.post" and record["text"] == text
    assert record["createdAt"] == "2023-11-14T22:13:20.000Z"  # the FakeClock's now
    assert record["langs"] == ["de", "en"]
    raw = text.encode()
    covered = [
        (raw[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(), f["features"][0])
        for f in record["facets"]
    ]
    assert covered == [
        (
            "@chriskenny.bsky.social",
            {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:wpe35pganb6d4pg4ekmfy6u5"},
        ),
        ("https://x.org/a", {"$type": "app.bsky.richtext.facet#link", "uri": "https://x.org/a"}),
        ("#dataviz", {"$type": "app.bsky.richtext.facet#tag", "tag": "dataviz"}),
    ]
    # "Grüße 🦋 " is 8 characters but 13 bytes (ü and ß take 2, 🦋 takes 4).
    assert record["facets"][0]["index"] == {"byteStart": 13, "byteEnd": 36}
    parent_reply = PARENT_VIEW["record"]["reply"]
    assert record["reply"] == {
        "root": parent_reply["root"],
        "parent": {"uri": PARENT_VIEW["uri"], "cid": PARENT_VIEW["cid"]},
    }
    assert record["embed"] == {
        "$type": "app.bsky.embed.images",
        "images": [
            {
                "image": body("upload_blob.json")["blob"] | {"size": len(PNG)},
                "alt": "A chart 📈",
                "aspectRatio": {"width": 640, "height": 480},
            }
        ],
    }
    created = body("create_record.json")
    assert post.id == created["uri"] and post.author_id == DID
    assert post.url == f"https://bsky.app/profile/{HANDLE}/post/3lprdugknkr2k"
    assert post.reply_to_id == PARENT_VIEW["uri"]
    assert post.conversation_id == parent_reply["root"]["uri"]
    assert post.lang == "de" and post.media == (media,)
    assert post.created_at == fake_clock.now()
    assert post.raw["cid"] == created["cid"] and post.raw["record"] == record


async def test_quote_with_image_uses_record_with_media(
    acct: sg.Account, api: respx.MockRouter
) -> None:
    api.post(xrpc("com.atproto.repo.uploadBlob")).mock(side_effect=_blob_answer)
    quoted = body("get_posts.json")["posts"][0]
    api.get(xrpc("app.bsky.feed.getPosts")).mock(
        return_value=httpx.Response(200, json={"posts": [quoted]})
    )
    create = api.post(xrpc("com.atproto.repo.createRecord")).mock(
        return_value=httpx.Response(200, json=body("create_record.json"))
    )
    media = await acct.media.upload(PNG, mime_type="image/png")
    post = await acct.posts.create(sg.Draft(text="", media=[media], quote_id=quoted["uri"]))
    embed = sent_json(create)["record"]["embed"]
    assert embed["$type"] == "app.bsky.embed.recordWithMedia"
    assert embed["record"] == {
        "$type": "app.bsky.embed.record",
        "record": {"uri": quoted["uri"], "cid": quoted["cid"]},
    }
    assert embed["media"]["images"][0]["alt"] == ""
    assert "facets" not in sent_json(create)["record"]
    assert post.conversation_id == post.id


async def test_create_refusals_before_sending(acct: sg.Account, api: respx.MockRouter) -> None:
    with pytest.raises(sg.BadRequest, match="Draft options"):
        await acct.posts.create(sg.Draft(text="x", options={"visibility": "public"}))
    with pytest.raises(sg.BadRequest, match="upload it"):
        await acct.posts.create(sg.Draft(text="x", media=[sg.Media(id="123", kind="image")]))
    with pytest.raises(sg.NotSupported):
        await acct.posts.create(sg.Draft(text="x", media=[sg.Media(id="v", kind="video")]))
    with pytest.raises(sg.NotSupported):
        await acct.media.upload(b"x", mime_type="video/mp4")
    with pytest.raises(sg.BadRequest, match="does not take options"):
        await acct.media.upload(PNG, mime_type="image/png", media_category="x")
    with pytest.raises(sg.BadRequest, match="at most 2,000,000 bytes"):
        await acct.media.upload(b"x" * 2_000_001, mime_type="image/jpeg")


async def test_recorded_validation_error_is_a_bad_request_not_retried(
    acct: sg.Account, api: respx.MockRouter
) -> None:
    recorded = load("create_record_error.json")
    create = api.post(xrpc("com.atproto.repo.createRecord")).mock(
        return_value=httpx.Response(recorded["status"], json=recorded["body"])
    )
    with pytest.raises(sg.BadRequest) as caught:
        await acct.posts.create("x" * 301)
    assert caught.value.code == "InvalidRequest"
    assert "must not be longer than 300 graphemes" in str(caught.value)
    assert create.call_count == 1


async def test_a_failed_create_is_not_resent(acct: sg.Account, api: respx.MockRouter) -> None:
    create = api.post(xrpc("com.atproto.repo.createRecord")).mock(
        return_value=httpx.Response(502, json={"error": "UpstreamFailure", "message": "oops"})
    )
    with pytest.raises(sg.ServerError) as caught:
        await acct.posts.create("hello")
    assert create.call_count == 1 and caught.value.outcome_unknown


async def test_delete_by_rkey_of_own_posts_only(acct: sg.Account, api: respx.MockRouter) -> None:
    delete = api.post(xrpc("com.atproto.repo.deleteRecord")).mock(
        return_value=httpx.Response(200, json=body("delete_record.json"))
    )
    await acct.posts.delete(f"at://{DID}/app.bsky.feed.post/3lpres4gwbf27")
    assert sent_json(delete) == {
        "repo": DID,
        "collection": "app.bsky.feed.post",
        "rkey": "3lpres4gwbf27",
    }
    api.get(xrpc("com.atproto.identity.resolveHandle")).mock(
        return_value=httpx.Response(200, json={"did": DID})
    )
    await acct.posts.delete(f"https://bsky.app/profile/{HANDLE}/post/3lpres4gwbf28")
    assert sent_json(delete)["rkey"] == "3lpres4gwbf28"
    with pytest.raises(sg.BadRequest, match="only its own posts"):
        await acct.posts.delete(POST_URI)
    assert delete.call_count == 2


# -- rate limits ---------------------------------------------------------------------------------


async def test_ratelimit_policy_headers_make_the_next_call_wait(
    acct: sg.Account, api: respx.MockRouter, fake_clock: sg.FakeClock
) -> None:
    now = fake_clock.time()
    route = api.get(xrpc("app.bsky.actor.getProfile")).mock(
        side_effect=[
            httpx.Response(200, json=PROFILE, headers=limits(0, now + 120)),
            httpx.Response(200, json=PROFILE, headers=limits(2999, now + 420)),
        ]
    )
    await acct.profiles.get("a.bsky.social")
    info = acct.rate_limits["default"]
    assert (info.limit, info.remaining, info.window) == (3000, 0, 300)
    await acct.profiles.get("b.bsky.social")
    assert fake_clock.sleeps == [pytest.approx(120)]
    assert route.call_count == 2


async def test_429_waits_for_the_reset_then_retries(
    acct: sg.Account, api: respx.MockRouter, fake_clock: sg.FakeClock
) -> None:
    now = fake_clock.time()
    limited = {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
    route = api.get(xrpc("app.bsky.actor.getProfile")).mock(
        side_effect=[
            httpx.Response(429, json=limited, headers=limits(0, now + 60)),
            httpx.Response(200, json=PROFILE, headers=limits(2999, now + 360)),
        ]
    )
    assert (await acct.profiles.get("a.bsky.social")).handle == "chriskenny.bsky.social"
    assert route.call_count == 2 and sum(fake_clock.sleeps) == pytest.approx(60)


async def test_429_on_a_daily_policy_raises_at_once(
    acct: sg.Account, api: respx.MockRouter, fake_clock: sg.FakeClock
) -> None:
    limited = {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
    api.get(xrpc("app.bsky.actor.getProfile")).mock(
        return_value=httpx.Response(
            429, json=limited, headers=limits(0, fake_clock.time() + 40_000, 300, 86_400)
        )
    )
    with pytest.raises(sg.RateLimited) as caught:
        await acct.profiles.get("a.bsky.social")
    assert caught.value.scope == "daily" and caught.value.code == "RateLimitExceeded"
    assert fake_clock.sleeps == []


async def _spend_points(client: sg.Client, name: str, static: StaticBudget, cost: float) -> None:
    decision = await client.budget_store.acquire(
        [(f"bluesky|{DID}|{name}", static)], now=client.clock.time(), cost=cost
    )
    assert decision.wait == 0


async def test_write_points_wait_for_the_hourly_window(
    make_account: MakeAccount, api: respx.MockRouter, login: respx.Route, fake_clock: sg.FakeClock
) -> None:
    create = api.post(xrpc("com.atproto.repo.createRecord")).mock(
        return_value=httpx.Response(200, json=body("create_record.json"))
    )
    delete = api.post(xrpc("com.atproto.repo.deleteRecord")).mock(
        return_value=httpx.Response(200, json=body("delete_record.json"))
    )
    acct = await make_account(max_wait=4000)
    await acct.posts.create("first")  # 3 points; the window starts here
    await _spend_points(acct.client, "repo.write.hour", StaticBudget(5000, 3600), 4996)
    await acct.posts.delete(f"at://{DID}/app.bsky.feed.post/3lpres4gwbf27")  # 1 point: fits
    assert fake_clock.sleeps == []
    await acct.posts.create("second")  # 3 more do not fit: wait for the hour to pass
    assert sum(fake_clock.sleeps) == pytest.approx(3600)
    assert create.call_count == 2 and delete.call_count == 1

    strict = await make_account(max_wait=900, store=sg.MemoryTokenStore())
    await _spend_points(strict.client, "repo.write.hour", StaticBudget(5000, 3600), 4999)
    with pytest.raises(sg.RateLimited) as caught:
        await strict.posts.create("third")
    assert caught.value.sent is False and caught.value.bucket == "repo.write.hour"
    assert caught.value.retry_after == pytest.approx(3600)
    assert create.call_count == 2


async def test_daily_write_points_raise_without_waiting(
    acct: sg.Account, api: respx.MockRouter, fake_clock: sg.FakeClock
) -> None:
    create = api.post(xrpc("com.atproto.repo.createRecord")).mock(
        return_value=httpx.Response(200, json=body("create_record.json"))
    )
    await acct.posts.create("first")
    await _spend_points(
        acct.client, "repo.write.day", StaticBudget(35_000, 86_400, "daily"), 34_995
    )
    with pytest.raises(sg.RateLimited) as caught:
        await acct.posts.create("over the daily budget")
    assert caught.value.scope == "daily" and caught.value.sent is False
    assert fake_clock.sleeps == [] and create.call_count == 1


async def test_create_session_headers_feed_the_session_bucket(
    acct: sg.Account, api: respx.MockRouter, login: respx.Route, fake_clock: sg.FakeClock
) -> None:
    recorded = load("create_session.json")
    headers = {k: v for k, v in recorded["headers"].items() if k.lower() != "date"}
    headers["RateLimit-Reset"] = str(int(fake_clock.time()) + 86_000)
    session = login.side_effect
    login.side_effect = None
    login.mock(side_effect=lambda r: httpx.Response(200, json=session(r).json(), headers=headers))
    api.get(xrpc("app.bsky.actor.getProfile")).mock(return_value=httpx.Response(200, json=PROFILE))
    await acct.profiles.me()
    info = acct.rate_limits["session.create"]
    assert (info.limit, info.remaining, info.window) == (10, 9, 86_400)
    assert login.calls[0].request.url.host == ENTRY.removeprefix("https://")
