"""The Reddit emulator on the wire (in-process, on a fake clock): OAuth grants with HTTP Basic,
the per-client-id budget and its headers, listings, comment trees, writes, the action limit,
media upload, determinism and faults."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

import socialgate as sg
from socialgate.sandbox import SandboxApp, create_app

USER = {"Authorization": "Bearer sandbox-user-demo"}
APP_ONLY = {"Authorization": "Bearer sandbox-app-tests"}
BASIC = httpx.BasicAuth("emu-app", "emu-secret")
POSTS = 2_000


def client(app: SandboxApp, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://sandbox/reddit",
        headers=USER if headers is None else headers,
    )


def make_app(clock: sg.FakeClock, **options: Any) -> SandboxApp:
    return create_app(
        networks=("reddit",), posts=POSTS, clock=clock, seed=3, options={"reddit": options}
    )


@pytest.fixture
async def r(clock: sg.FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    async with client(make_app(clock)) as c:
        yield c


async def token(r: httpx.AsyncClient, auth: httpx.Auth = BASIC, **form: str) -> httpx.Response:
    return await r.post("/api/v1/access_token", data=form, auth=auth, headers={})


def bearer(access: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access}"}


def names(listing: Any) -> list[str]:
    return [c["data"]["name"] for c in listing["data"]["children"]]


# --- OAuth ---------------------------------------------------------------------------------------


async def test_token_endpoint_needs_basic_client_auth(r: httpx.AsyncClient) -> None:
    anonymous = await r.post("/api/v1/access_token", data={"grant_type": "client_credentials"})
    assert anonymous.status_code == 401
    assert (await token(r, grant_type="client_credentials")).status_code == 200
    # The first secret seen for a client id sticks, like a registered app's.
    wrong = await token(r, httpx.BasicAuth("emu-app", "other"), grant_type="client_credentials")
    assert wrong.status_code == 401


async def test_password_grant_and_its_refusal(r: httpx.AsyncClient) -> None:
    ok = (await token(r, grant_type="password", username="sandbox_demo", password="pw")).json()
    assert ok["expires_in"] == 86_400 and "refresh_token" not in ok and ok["scope"] == "*"
    me = await r.get("/api/v1/me", headers=bearer(ok["access_token"]))
    assert me.json()["name"] == "sandbox_demo"
    refused = await token(r, grant_type="password", username="sandbox_demo", password="wrong")
    assert (refused.status_code, refused.json()) == (200, {"error": "invalid_grant"})


async def test_code_grant_refresh_is_permanent_and_not_rotated(r: httpx.AsyncClient) -> None:
    async def consent(duration: str) -> str:
        answer = await r.get(
            "/api/v1/authorize",
            params={
                "client_id": "emu-app",
                "response_type": "code",
                "state": "st",
                "duration": duration,
                "redirect_uri": "http://cb/reddit",
                "scope": "identity read",
            },
        )
        assert answer.status_code == 302
        location = httpx.URL(answer.headers["location"])
        assert location.params["state"] == "st"
        return location.params["code"]

    code = await consent("permanent")
    first = (
        await token(r, grant_type="authorization_code", code=code, redirect_uri="http://cb/reddit")
    ).json()
    assert first["scope"] == "identity read" and first["refresh_token"]
    again = await token(
        r, grant_type="authorization_code", code=code, redirect_uri="http://cb/reddit"
    )
    assert again.json() == {"error": "invalid_grant"}  # codes work once
    for _ in range(2):
        refreshed = (
            await token(r, grant_type="refresh_token", refresh_token=first["refresh_token"])
        ).json()
        assert refreshed["refresh_token"] == first["refresh_token"]
    # The token carries only the consented scopes.
    scoped = await r.get("/api/v1/mentions", headers=bearer(refreshed["access_token"]))
    assert scoped.status_code == 404
    mentions = await r.get("/message/mentions", headers=bearer(refreshed["access_token"]))
    assert mentions.status_code == 403
    assert "insufficient_scope" in mentions.headers["www-authenticate"]
    temporary = (
        await token(
            r,
            grant_type="authorization_code",
            code=await consent("temporary"),
            redirect_uri="http://cb/reddit",
        )
    ).json()
    assert "refresh_token" not in temporary


async def test_revoking_a_refresh_token_ends_its_access_tokens(r: httpx.AsyncClient) -> None:
    answer = await r.get(
        "/api/v1/authorize",
        params={
            "client_id": "emu-app",
            "response_type": "code",
            "state": "s",
            "duration": "permanent",
            "redirect_uri": "http://cb/r",
        },
    )
    code = httpx.URL(answer.headers["location"]).params["code"]
    grant = await token(r, grant_type="authorization_code", code=code, redirect_uri="http://cb/r")
    refreshed = (
        await token(r, grant_type="refresh_token", refresh_token=grant.json()["refresh_token"])
    ).json()
    revoke = await r.post(
        "/api/v1/revoke_token",
        auth=BASIC,
        headers={},
        data={"token": grant.json()["refresh_token"]},
    )
    assert revoke.status_code == 204
    me = await r.get("/api/v1/me", headers=bearer(refreshed["access_token"]))
    assert me.status_code == 401


async def test_app_only_tokens(r: httpx.AsyncClient) -> None:
    installed = httpx.BasicAuth("installed-app", "")
    refused = await token(r, installed, grant_type="client_credentials")
    assert refused.json() == {"error": "unauthorized_client"}
    device = await token(
        r,
        installed,
        grant_type="https://oauth.reddit.com/grants/installed_client",
        device_id="DO_NOT_TRACK_THIS_DEVICE",
    )
    access = device.json()["access_token"]
    assert device.json()["device_id"] == "DO_NOT_TRACK_THIS_DEVICE"
    assert (await r.get("/api/v1/me", headers=bearer(access))).status_code == 403
    assert (await r.get("/user/sandbox_demo/about", headers=bearer(access))).status_code == 200


async def test_unknown_and_expired_tokens(clock: sg.FakeClock, r: httpx.AsyncClient) -> None:
    nope = await r.get("/api/v1/me", headers=bearer("nope"))
    assert nope.status_code == 401
    assert nope.headers["www-authenticate"] == 'Bearer realm="reddit", error="invalid_token"'
    ok = (await token(r, grant_type="password", username="sandbox_demo", password="pw")).json()
    clock.advance(86_400)
    assert (await r.get("/api/v1/me", headers=bearer(ok["access_token"]))).status_code == 401


# --- the budget ----------------------------------------------------------------------------------


async def test_budget_is_per_client_id_in_aligned_windows(clock: sg.FakeClock) -> None:
    app = make_app(clock, requests_per_window=3)
    async with client(app) as r:
        first = await token(r, grant_type="password", username="sandbox_demo", password="p")
        second = await token(r, grant_type="password", username="sandbox_demo", password="p")
        a, b = bearer(first.json()["access_token"]), bearer(second.json()["access_token"])
        seen = [await r.get("/api/v1/me", headers=h) for h in (a, b, a)]
        assert [s.headers["x-ratelimit-used"] for s in seen] == ["1", "2", "3"]
        assert seen[-1].headers["x-ratelimit-remaining"] == "0.0"
        blocked = await r.get("/api/v1/me", headers=b)
        assert blocked.status_code == 429
        assert blocked.json() == {"message": "Too Many Requests", "error": 429}
        # Another client id has its own budget.
        assert (await r.get("/api/v1/me")).status_code == 200
        reset = int(blocked.headers["x-ratelimit-reset"])
        assert 0 < reset <= 600
        assert (clock.time() + reset) % 600 == 0  # windows end on the clock's 10-minute marks
        clock.advance(reset)
        assert (await r.get("/api/v1/me", headers=b)).headers["x-ratelimit-used"] == "1"


async def test_time_scale_shrinks_the_window(clock: sg.FakeClock) -> None:
    app = create_app(networks=("reddit",), posts=POSTS, clock=clock, time_scale=60)
    async with client(app) as r:
        answer = await r.get("/api/v1/me")
        assert 0 < int(answer.headers["x-ratelimit-reset"]) <= 10


async def test_rate_limit_storm_answers_429_without_counting(clock: sg.FakeClock) -> None:
    app = make_app(clock)
    app.faults.configure({"rate_limit_storm": 1.0})
    async with client(app) as r:
        storm = await r.get("/api/v1/me")
        assert storm.status_code == 429 and storm.headers["x-ratelimit-used"] == "0"
        app.faults.configure({"rate_limit_storm": 0.0, "error_rate": 1.0})
        failed = await r.get("/api/v1/me")
        assert failed.status_code == 503 and failed.json()["error"] == 503
        assert failed.headers["x-ratelimit-used"] == "1"


# --- listings and trees ------------------------------------------------------------------------


async def test_after_and_before_walk_a_listing(r: httpx.AsyncClient) -> None:
    full = (await r.get("/user/sandbox_demo/submitted", params={"limit": 100})).json()
    every = names(full)
    seen: list[str] = []
    after = None
    pages = []
    while True:
        params: dict[str, Any] = {"limit": 7, **({"after": after} if after else {})}
        page = (await r.get("/user/sandbox_demo/submitted", params=params)).json()
        pages.append(page)
        seen += names(page)
        after = page["data"]["after"]
        if after is None:
            break
    assert seen == every and len(set(seen)) == len(seen)
    assert pages[0]["data"]["before"] is None and pages[1]["data"]["before"] == seen[7]
    back = await r.get(
        "/user/sandbox_demo/submitted", params={"limit": 7, "before": pages[1]["data"]["before"]}
    )
    assert names(back.json()) == seen[:7]
    created = [c["data"]["created_utc"] for c in full["data"]["children"]]
    assert created == sorted(created, reverse=True)


async def test_listings_stop_at_the_cap(clock: sg.FakeClock) -> None:
    async with client(make_app(clock, listing_cap=12)) as r:
        seen, after = [], None
        while True:
            page = await r.get("/message/mentions", params={"limit": 5, "after": after or ""})
            seen += names(page.json())
            after = page.json()["data"]["after"]
            if not after:
                break
        assert len(seen) == 12


async def test_mentions_name_the_user(r: httpx.AsyncClient) -> None:
    page = (await r.get("/message/mentions", params={"limit": 50})).json()
    items = [c["data"] for c in page["data"]["children"]]
    assert items and all("u/sandbox_demo" in i["body"].lower() for i in items)
    assert all(i["type"] == "username_mention" and i["dest"] == "sandbox_demo" for i in items)


async def test_search(r: httpx.AsyncClient, clock: sg.FakeClock) -> None:
    hits = (await r.get("/search", params={"q": "python", "sort": "new", "limit": 50})).json()
    posts = [c["data"] for c in hits["data"]["children"]]
    assert posts and all("python" in f"{p['title']} {p['selftext']}".lower() for p in posts)
    sub = (await r.get("/r/python/search", params={"q": "the", "restrict_sr": "on"})).json()
    assert {c["data"]["subreddit"] for c in sub["data"]["children"]} == {"python"}
    recent = (await r.get("/search", params={"q": "the", "t": "hour", "limit": 100})).json()
    assert all(c["data"]["created_utc"] >= clock.time() - 3600 for c in recent["data"]["children"])


async def _busy_post(r: httpx.AsyncClient, minimum: int) -> str:
    after = None
    while True:
        page = (await r.get("/r/python/new", params={"limit": 100, "after": after or ""})).json()
        for child in page["data"]["children"]:
            if child["data"]["num_comments"] >= minimum:
                return str(child["data"]["id"])
        after = page["data"]["after"]
        assert after, "no seeded post has enough comments"


async def test_comment_tree_with_more_and_morechildren(r: httpx.AsyncClient) -> None:
    post = await _busy_post(r, 8)
    full = (await r.get(f"/comments/{post}", params={"limit": 500})).json()
    total = full[0]["data"]["children"][0]["data"]["num_comments"]
    cut = (await r.get(f"/comments/{post}", params={"limit": 3})).json()
    stubs = _stubs(cut[1]["data"]["children"])
    assert stubs and sum(s["count"] for s in stubs) == total - 3
    ids = ",".join(i for s in stubs for i in s["children"])
    more = (
        await r.get(
            "/api/morechildren",
            params={"link_id": f"t3_{post}", "children": ids, "api_type": "json"},
        )
    ).json()
    things = more["json"]["data"]["things"]
    assert len(things) == total - 3 and all(t["data"]["replies"] == "" for t in things)
    deep = (await r.get(f"/comments/{post}", params={"depth": 1})).json()
    for child in deep[1]["data"]["children"]:
        replies = child["data"]["replies"]
        if replies:
            [stub] = replies["data"]["children"]
            assert stub["kind"] == "more" and stub["data"]["id"] == "_"


def _stubs(children: list[Any]) -> list[Any]:
    found = []
    for child in children:
        if child["kind"] == "more":
            found.append(child["data"])
        elif child["data"]["replies"]:
            found += _stubs(child["data"]["replies"]["data"]["children"])
    return found


# --- writes --------------------------------------------------------------------------------------


async def test_submit_comment_delete_are_stateful(r: httpx.AsyncClient) -> None:
    made = (
        await r.post(
            "/api/submit",
            data={
                "api_type": "json",
                "sr": "sandbox",
                "kind": "self",
                "title": "Hello",
                "text": "body",
            },
        )
    ).json()
    name = made["json"]["data"]["name"]
    assert names((await r.get("/user/sandbox_demo/submitted", params={"limit": 1})).json()) == [
        name
    ]
    reply = (
        await r.post("/api/comment", data={"api_type": "json", "thing_id": name, "text": "first!"})
    ).json()
    comment = reply["json"]["data"]["things"][0]["data"]
    assert comment["parent_id"] == name and comment["link_id"] == name
    tree = (await r.get(f"/comments/{name[3:]}")).json()
    assert [c["data"]["name"] for c in tree[1]["data"]["children"]] == [comment["name"]]
    assert (await r.post("/api/del", data={"id": name})).json() == {}
    info = (await r.get("/api/info", params={"id": name})).json()
    data = info["data"]["children"][0]["data"]
    assert (data["author"], data["selftext"]) == ("[deleted]", "[deleted]")
    assert "author_fullname" not in data
    assert name not in names((await r.get("/user/sandbox_demo/submitted")).json())
    gone = await r.post("/api/comment", data={"api_type": "json", "thing_id": name, "text": "x"})
    assert gone.json()["json"]["errors"][0][0] == "DELETED_LINK"


async def test_submit_errors_come_in_200_answers(r: httpx.AsyncClient) -> None:
    async def error(**form: str) -> list[Any]:
        answer = await r.post("/api/submit", data={"api_type": "json", **form})
        assert answer.status_code == 200
        return list(answer.json()["json"]["errors"][0])

    assert (await error(kind="self", title="t"))[0] == "SUBREDDIT_REQUIRED"
    assert await error(sr="nope", kind="self", title="t") == [
        "SUBREDDIT_NOEXIST",
        "that subreddit doesn't exist",
        "sr",
    ]
    assert (await error(sr="python", kind="self", title=""))[0] == "NO_TEXT"
    assert (await error(sr="python", kind="link", title="t"))[0] == "NO_URL"
    assert (await error(sr="python", kind="self", title="x" * 301))[0] == "TOO_LONG"


async def test_action_limit_answers_ratelimit(clock: sg.FakeClock) -> None:
    async with client(make_app(clock, action_limit=2)) as r:
        form = {"api_type": "json", "sr": "python", "kind": "self", "title": "t"}
        for _ in range(2):
            assert not (await r.post("/api/submit", data=form)).json()["json"]["errors"]
        limited = (await r.post("/api/submit", data=form)).json()["json"]
        code, message, field = limited["errors"][0]
        assert (code, field) == ("RATELIMIT", "ratelimit")
        assert "Take a break for 10 minutes" in message
        assert limited["ratelimit"] == pytest.approx(600, abs=1)
        clock.advance(601)
        assert not (await r.post("/api/submit", data=form)).json()["json"]["errors"]


async def test_media_lease_upload_and_image_post(r: httpx.AsyncClient) -> None:
    lease = (
        await r.post(
            "/api/media/asset.json",
            data={"api_type": "json", "filepath": "a.png", "mimetype": "image/png"},
        )
    ).json()
    fields = {f["name"]: f["value"] for f in lease["args"]["fields"]}
    action = "http:" + lease["args"]["action"]
    forged = await r.post(
        action,
        data={**fields, "X-Amz-Signature": "x"},
        files={"file": ("a.png", b"png", "image/png")},
        headers={},
    )
    assert forged.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in forged.text
    stored = await r.post(
        action, data=fields, files={"file": ("a.png", b"png", "image/png")}, headers={}
    )
    assert stored.status_code == 201 and "<PostResponse><Location>" in stored.text
    asset = lease["asset"]["asset_id"]
    url = f"https://reddit-uploaded-media.s3-accelerate.amazonaws.com/{fields['key']}"
    made = (
        await r.post(
            "/api/submit",
            data={"api_type": "json", "sr": "sandbox", "kind": "image", "title": "pic", "url": url},
        )
    ).json()
    assert set(made["json"]["data"]) == {"user_submitted_page", "websocket_url"}
    newest = (await r.get("/user/sandbox_demo/submitted", params={"limit": 1})).json()
    post = newest["data"]["children"][0]["data"]
    assert post["url_overridden_by_dest"] == f"https://i.redd.it/{asset}.png"
    assert post["preview"]["images"][0]["id"] == asset


async def test_same_seed_same_data(clock: sg.FakeClock) -> None:
    bodies = []
    for _ in range(2):
        async with client(make_app(clock)) as r:
            bodies.append((await r.get("/search", params={"q": "the", "limit": 20})).json())
    assert bodies[0] == bodies[1] and bodies[0]["data"]["children"]
