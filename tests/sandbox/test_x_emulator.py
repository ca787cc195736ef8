"""The X emulator's wire format, in process: fields, expansions, pagination, search, errors,
auth, rate limits, stateful writes, and a deterministic, lazy dataset."""

from __future__ import annotations

import re
import time

import httpx
import pytest

import socialgate as sg
from socialgate.adapters.x.spec import BUCKETS
from socialgate.sandbox import SandboxApp, create_app

from .conftest import APP, x_client

X_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
INVALID = "https://api.x.com/2/problems/invalid-request"
NOT_FOUND = "https://api.x.com/2/problems/resource-not-found"
FULL = {
    "tweet.fields": "author_id,created_at,conversation_id,public_metrics,referenced_tweets,"
    "attachments,entities,in_reply_to_user_id,lang",
    "user.fields": "public_metrics,created_at,verified",
    "media.fields": "url,width,height,alt_text,preview_image_url,variants,duration_ms",
    "expansions": "author_id,attachments.media_keys,referenced_tweets.id",
}


async def test_only_requested_fields_appear(x: httpx.AsyncClient, demo_id: str) -> None:
    me = (await x.get("/2/users/me")).json()
    assert me == {"data": {"id": demo_id, "name": "Sandbox Demo", "username": "sandbox_demo"}}
    me = (await x.get("/2/users/me", params={"user.fields": "created_at,public_metrics"})).json()
    assert set(me["data"]) == {"id", "name", "username", "created_at", "public_metrics"}
    assert X_TIME.fullmatch(me["data"]["created_at"])
    assert {"followers_count", "following_count", "tweet_count", "listed_count"} <= set(
        me["data"]["public_metrics"]
    )
    page = (await x.get(f"/2/users/{demo_id}/tweets")).json()
    tweet = (await x.get(f"/2/tweets/{page['data'][0]['id']}")).json()
    assert set(tweet["data"]) == {"id", "text", "edit_history_tweet_ids"}
    assert "includes" not in tweet


async def test_expansions_fill_includes(x: httpx.AsyncClient) -> None:
    params = {**FULL, "query": "has:media", "max_results": "100"}
    body = (await x.get("/2/tweets/search/recent", params=params)).json()
    users = {u["id"]: u for u in body["includes"]["users"]}
    media = {m["media_key"]: m for m in body["includes"]["media"]}
    parents = {t["id"]: t for t in body["includes"].get("tweets", [])}
    for tweet in body["data"]:
        assert tweet["author_id"] in users
        assert all(key in media for key in tweet["attachments"]["media_keys"])
        for ref in tweet.get("referenced_tweets", []):
            assert ref["type"] == "replied_to"
            assert ref["id"] in parents and tweet["in_reply_to_user_id"]
    assert all(
        set(u) == {"id", "name", "username", "public_metrics", "created_at", "verified"}
        for u in users.values()
    )
    assert {m["type"] for m in media.values()} <= {"photo", "video", "animated_gif"}
    photos = [m for m in media.values() if m["type"] == "photo"]
    assert photos and all("url" in m and "variants" not in m for m in photos)


async def test_missing_resources_are_200_with_errors(x: httpx.AsyncClient) -> None:
    for path, kind, parameter in (
        ("/2/tweets/1", "tweet", "id"),
        ("/2/users/7", "user", "id"),
        ("/2/users/by/username/nobody_here", "user", "username"),
    ):
        response = await x.get(path)
        assert response.status_code == 200
        (error,) = response.json()["errors"]
        assert error["type"] == NOT_FOUND and error["resource_type"] == kind
        assert error["parameter"] == parameter and error["title"] == "Not Found Error"
    many = (await x.get("/2/tweets", params={"ids": "1,2"})).json()
    assert "data" not in many and len(many["errors"]) == 2


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/2/tweets/abc", {}, "The `id` query parameter value [abc] does not match ^[0-9]{1,19}$"),
        ("/2/users/me", {"foo": "1"}, "The query parameter [foo] is not one of [user.fields,"),
        ("/2/users/me", {"user.fields": "nope"}, "The `user.fields` query parameter value [nope]"),
        (
            "/2/users/{me}/tweets",
            {"max_results": "4"},
            "The `max_results` query parameter value [4] is not between 5 and 100",
        ),
        ("/2/users/{me}/mentions", {"max_results": "101"}, "is not between 5 and 100"),
        ("/2/tweets/search/recent", {"query": "a", "max_results": "9"}, "between 10 and 100"),
        ("/2/users/{me}/followers", {"max_results": "1001"}, "is not between 1 and 1000"),
        (
            "/2/users/{me}/tweets",
            {"pagination_token": "7140dibdnow9c7btw4232poeq0wapgnw"},
            "The `pagination_token` query parameter value",
        ),
        ("/2/tweets/search/recent", {"query": "lol:cats"}, "Reference to invalid operator 'lol'"),
        ("/2/tweets/search/recent", {"query": "a OR b"}, "does not emulate 'OR'"),
        ("/2/tweets/search/recent", {"query": "-python"}, "Rules must contain a non-negation"),
        (
            "/2/tweets/search/recent",
            {"query": "a", "start_time": "2001-01-01T00:00:00Z"},
            "'start_time' must be on or after",
        ),
    ],
)
async def test_invalid_requests_are_400_problems(
    x: httpx.AsyncClient, demo_id: str, path: str, params: dict[str, str], message: str
) -> None:
    response = await x.get(path.replace("{me}", demo_id), params=params)
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == INVALID and body["title"] == "Invalid Request"
    assert body["detail"] == "One or more parameters to your request was invalid."
    assert any(message in e["message"] for e in body["errors"]), body
    assert "x-rate-limit-remaining" in response.headers


async def test_timeline_pages_are_complete_disjoint_and_opaque(
    x: httpx.AsyncClient, demo_id: str
) -> None:
    metrics = (await x.get("/2/users/me", params={"user.fields": "public_metrics"})).json()
    expected = metrics["data"]["public_metrics"]["tweet_count"]
    ids: list[int] = []
    params = {"max_results": "7", "tweet.fields": "author_id"}
    while True:
        body = (await x.get(f"/2/users/{demo_id}/tweets", params=params)).json()
        page = [int(t["id"]) for t in body["data"]]
        assert body["meta"]["result_count"] == len(page)
        assert body["meta"]["newest_id"] == str(page[0]) and body["meta"]["oldest_id"] == str(
            page[-1]
        )
        assert all(t["author_id"] == demo_id for t in body["data"])
        ids += page
        token = body["meta"].get("next_token")
        if token is None:
            break
        assert len(token) >= 16 and not any(str(i) in token for i in page)
        params["pagination_token"] = token
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids) == expected


async def test_search_operators(x: httpx.AsyncClient, clock: sg.FakeClock) -> None:
    async def search(query: str, **extra: str) -> list[dict]:
        params = {"query": query, "max_results": "100", **FULL, **extra}
        response = await x.get("/2/tweets/search/recent", params=params)
        assert response.status_code == 200, response.text
        return response.json().get("data", [])

    hits = await search("python")
    assert hits and all("python" in t["text"].lower() for t in hits)
    assert not [t for t in await search("python -python")]
    replies = await search("is:reply")
    assert replies and all(t.get("referenced_tweets") for t in replies)
    thread = replies[0]["conversation_id"]
    members = await search(f"conversation_id:{thread}")
    assert {t["conversation_id"] for t in members} == {thread}
    assert thread in {t["id"] for t in members} and len(members) >= 2
    demo = (await x.get("/2/users/by/username/sandbox_demo")).json()["data"]["id"]
    mine = await search("from:sandbox_demo")
    assert mine and {t["author_id"] for t in mine} == {demo}
    start = sg.FakeClock(clock.time() - 86_400).now().strftime("%Y-%m-%dT%H:%M:%SZ")
    end = sg.FakeClock(clock.time() - 3_600).now().strftime("%Y-%m-%dT%H:%M:%SZ")
    windowed = await search("the", start_time=start, end_time=end)
    assert windowed and all(start <= t["created_at"] < end for t in windowed)
    too_recent = sg.FakeClock(clock.time() - 5).now().strftime("%Y-%m-%dT%H:%M:%SZ")
    response = await x.get("/2/tweets/search/recent", params={"query": "a", "end_time": too_recent})
    assert response.status_code == 400 and "10 seconds prior" in response.text


async def test_mentions_and_followers(x: httpx.AsyncClient, demo_id: str) -> None:
    params = {"max_results": "100", "tweet.fields": "entities"}
    mentions = (await x.get(f"/2/users/{demo_id}/mentions", params=params)).json()["data"]
    assert mentions and all(
        any(m["id"] == demo_id for m in t["entities"]["mentions"]) for t in mentions
    )
    count = (await x.get("/2/users/me", params={"user.fields": "public_metrics"})).json()
    expected = count["data"]["public_metrics"]["followers_count"]
    seen: list[str] = []
    params = {"max_results": "10"}
    while True:
        body = (await x.get(f"/2/users/{demo_id}/followers", params=params)).json()
        seen += [u["id"] for u in body.get("data", [])]
        if "next_token" not in body["meta"]:
            break
        params["pagination_token"] = body["meta"]["next_token"]
    assert len(seen) == len(set(seen)) == expected > 10


async def test_tokens_and_authentication(app: SandboxApp) -> None:
    async with x_client(app, headers={}) as anonymous:
        response = await anonymous.get("/2/users/me")
        assert response.status_code == 401
        assert response.json() == {
            "title": "Unauthorized",
            "type": "about:blank",
            "status": 401,
            "detail": "Unauthorized",
        }
        bad = await anonymous.get("/2/users/me", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401 and "x-rate-limit-reset" in bad.headers
    async with x_client(app, headers=APP) as app_only:
        assert (await app_only.get("/2/users/by/username/sandbox_demo")).status_code == 200
        for method, path in (("GET", "/2/users/me"), ("POST", "/2/tweets")):
            response = await app_only.request(method, path, json={"text": "x"})
            assert response.status_code == 403
            assert (
                response.json()["type"] == "https://api.x.com/2/problems/unsupported-authentication"
            )


async def test_rate_limit_windows(app: SandboxApp, clock: sg.FakeClock) -> None:
    demo = "/2/users/by/username/sandbox_demo"
    async with x_client(app) as x, x_client(app, headers=APP) as app_only:
        limit = BUCKETS["users.followers"].user_limit
        assert limit is not None
        uid = (await x.get(demo)).json()["data"]["id"]
        reset = int(clock.time() + 900)
        for used in range(1, limit + 1):
            response = await x.get(f"/2/users/{uid}/followers", params={"max_results": "1"})
            assert response.status_code == 200
            assert response.headers["x-rate-limit-limit"] == str(limit)
            assert response.headers["x-rate-limit-remaining"] == str(limit - used)
            assert response.headers["x-rate-limit-reset"] == str(reset)
        refused = await x.get(f"/2/users/{uid}/followers")
        assert refused.status_code == 429
        assert refused.json() == {
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        }
        assert refused.headers["x-rate-limit-remaining"] == "0"
        # Another bucket and an app-only token have their own windows and limits.
        lookup = await app_only.get(demo)
        assert lookup.headers["x-rate-limit-limit"] == str(BUCKETS["users.lookup"].app_limit)
        search = await x.get("/2/tweets/search/recent", params={"query": "a"})
        assert search.headers["x-rate-limit-limit"] == str(BUCKETS["tweets.search"].user_limit)
        clock.advance(reset - clock.time())
        again = await x.get(f"/2/users/{uid}/followers")
        assert again.status_code == 200 and again.headers["x-rate-limit-remaining"] == str(
            limit - 1
        )


async def test_time_scale_shortens_windows(clock: sg.FakeClock) -> None:
    app = create_app(posts=100, clock=clock, time_scale=60)
    async with x_client(app) as x:
        response = await x.get("/2/users/me")
        assert int(response.headers["x-rate-limit-reset"]) == int(clock.time()) + 15


async def test_create_reply_and_delete_are_stateful(x: httpx.AsyncClient, demo_id: str) -> None:
    async def tweet_count() -> int:
        me = (await x.get("/2/users/me", params={"user.fields": "public_metrics"})).json()
        return int(me["data"]["public_metrics"]["tweet_count"])

    before = await tweet_count()
    created = await x.post("/2/tweets", json={"text": "hello @sandbox_demo #sandbox"})
    assert created.status_code == 201
    post_id = created.json()["data"]["id"]
    assert created.json() == {
        "data": {
            "id": post_id,
            "text": "hello @sandbox_demo #sandbox",
            "edit_history_tweet_ids": [post_id],
        }
    }
    assert created.headers["location"].endswith(f"/x/2/tweets/{post_id}")
    for name in ("x-app-limit-24hour-remaining", "x-user-limit-24hour-reset"):
        assert name in created.headers
    assert await tweet_count() == before + 1
    timeline = (await x.get(f"/2/users/{demo_id}/tweets")).json()
    assert timeline["data"][0]["id"] == post_id
    duplicate = await x.post("/2/tweets", json={"text": "hello @sandbox_demo #sandbox"})
    assert duplicate.status_code == 403 and "duplicate content" in duplicate.json()["detail"]
    reply = await x.post(
        "/2/tweets", json={"text": "and more", "reply": {"in_reply_to_tweet_id": post_id}}
    )
    reply_id = reply.json()["data"]["id"]
    fields = {"tweet.fields": "conversation_id,referenced_tweets"}
    got = (await x.get(f"/2/tweets/{reply_id}", params=fields)).json()["data"]
    assert got["conversation_id"] == post_id
    assert got["referenced_tweets"] == [{"type": "replied_to", "id": post_id}]
    deleted = await x.delete(f"/2/tweets/{post_id}")
    assert deleted.json() == {"data": {"deleted": True}}
    assert "errors" in (await x.get(f"/2/tweets/{post_id}")).json()
    assert "errors" in (await x.delete(f"/2/tweets/{post_id}")).json()
    assert await tweet_count() == before + 1
    someone_else = await x.get(
        "/2/tweets/search/recent", params={"query": "-from:sandbox_demo the"}
    )
    other = someone_else.json()["data"][0]["id"]
    assert (await x.delete(f"/2/tweets/{other}")).status_code == 403
    bad = await x.post("/2/tweets", json={"text": "x", "colour": "red"})
    assert bad.status_code == 400 and "$.colour: is not defined" in bad.text


async def test_same_seed_same_data_other_seed_other_data(clock: sg.FakeClock) -> None:
    async def snapshot(seed: int) -> list[dict]:
        app = create_app(posts=500, clock=clock, seed=seed, anchor=1_700_000_000)
        async with x_client(app) as x:
            params = {**FULL, "query": "the", "max_results": "50"}
            search = (await x.get("/2/tweets/search/recent", params=params)).json()
            me = (await x.get("/2/users/me", params={"user.fields": "public_metrics"})).json()
            return [search, me]

    assert await snapshot(1) == await snapshot(1)
    assert await snapshot(1) != await snapshot(2)


async def test_a_million_posts_are_generated_lazily(clock: sg.FakeClock) -> None:
    started = time.perf_counter()
    app = create_app(posts=1_000_000, clock=clock)
    async with x_client(app) as x:
        me = (await x.get("/2/users/me", params={"user.fields": "public_metrics"})).json()
        assert me["data"]["public_metrics"]["tweet_count"] >= 200
        page = (await x.get(f"/2/users/{me['data']['id']}/tweets", params=FULL)).json()
        assert page["meta"]["result_count"] == 10
    emulator = app.mounts["x"].app
    assert emulator.data._post.cache_info().currsize < 1_000
    assert time.perf_counter() - started < 10
