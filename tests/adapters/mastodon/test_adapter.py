"""Tier-3 tests of the Mastodon adapter through the public API
(``sg.Client(...).account("mastodon", ..., base_url=...)``).

respx stands in for the recordings' instance (http://localhost:3000) and replays the real
payloads and headers in tests/fixtures/mastodon/ (see the README there). Where no recording
exists (a second page, a context, a 202 upload), the body is built from recorded entities in
the shape of the Mastodon OpenAPI description, and says so. Nothing sleeps for real or leaves
the process: the client runs on ``sg.FakeClock`` and the router refuses unmocked requests.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx

import socialgate as sg
from socialgate.adapters.mastodon import SPEC, mapping, register_app, revoke_token

from .conftest import INSTANCE, TOKEN, MakeAccount, body, recording, replay

LENNON = "117020565966271181"
STATUSES = f"/api/v1/accounts/{LENNON}/statuses"


def assert_no_token(err: BaseException) -> None:
    assert isinstance(err, sg.SocialGateError)
    texts = [str(err), repr(err), err.message, err.body or "", err.upstream_message or "",
             *(str(a) for a in err.args)]  # fmt: skip
    for text in texts:
        assert TOKEN not in text


def link(next_url: str | None = None, prev_url: str | None = None) -> dict[str, str]:
    parts = []
    if next_url:
        parts.append(f'<{next_url}>; rel="next"')
    if prev_url:
        parts.append(f'<{prev_url}>; rel="prev"')
    return {"link": ", ".join(parts)} if parts else {}


def nonzero(sleeps: list[float]) -> list[float]:
    return [s for s in sleeps if s > 0]


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def timeline() -> list[dict[str, Any]]:
    """13 recorded statuses (newest first), as a second page of a listing."""
    return body("home_timeline")


# -- profiles ----------------------------------------------------------------------------------


async def test_me_is_verify_credentials_with_the_bearer_token(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    route = api.get("/api/v1/accounts/verify_credentials").mock(
        return_value=replay("verify_credentials")
    )
    me = await acct.profiles.me()
    assert me == mapping.profile_from_account(body("verify_credentials"))
    assert (me.id, me.handle, me.display_name) == (LENNON, "mastodonpy_test", "John Lennon")
    assert route.calls[0].request.headers["authorization"] == f"Bearer {TOKEN}"
    info = acct.rate_limits["default"]  # X-RateLimit-* with an ISO-8601 reset
    assert (info.limit, info.remaining) == (300, 299)
    assert info.reset_at == pytest.approx(
        datetime(2026, 8, 1, 13, 50, 0, 37_659, tzinfo=UTC).timestamp()
    )


async def test_profiles_get_by_id_and_by_handle(api: respx.MockRouter, acct: sg.Account) -> None:
    by_id = api.get(f"/api/v1/accounts/{LENNON}").mock(return_value=replay("account_lookup"))
    lookup = api.get("/api/v1/accounts/lookup").mock(return_value=replay("account_lookup"))
    assert (await acct.profiles.get(LENNON)).id == LENNON
    assert (await acct.profiles.get("@mastodonpy_test")).handle == "mastodonpy_test"
    assert (await acct.profiles.get("mastodonpy_test@localhost:3000")).id == LENNON
    assert by_id.call_count == 1
    assert [c.request.url.params["acct"] for c in lookup.calls] == [
        "mastodonpy_test",
        "mastodonpy_test@localhost:3000",
    ]


async def test_unknown_remote_handle_is_resolved_by_search(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    api.get("/api/v1/accounts/lookup").mock(return_value=replay("account_lookup_404"))
    found = body("account_get")
    found["acct"] = "someone@remote.example"  # as the search answers a resolved remote account
    search = api.get("/api/v2/search").respond(
        200, json={"accounts": [found], "statuses": [], "hashtags": []}
    )
    profile = await acct.profiles.get("@someone@remote.example")
    assert profile.handle == "someone@remote.example"
    params = search.calls[0].request.url.params
    assert (params["q"], params["type"], params["resolve"]) == (
        "@someone@remote.example",
        "accounts",
        "true",
    )


async def test_unknown_handle_is_not_found_without_the_token(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    api.get("/api/v1/accounts/lookup").mock(return_value=replay("account_lookup_404"))
    with pytest.raises(sg.NotFound) as info:
        await acct.profiles.get("kljadklajsdkljlkjlkjlkjasdasd")
    err = info.value
    assert (err.network, err.status, err.upstream_message) == ("mastodon", 404, "Record not found")
    assert_no_token(err)


async def test_followers_follow_the_link_and_stop_without_next(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    # Page 1: 2 recorded accounts and a next link whose max_id is a follow id (not an account
    # id); page 2: the recorded favourited_by page, which has only a prev link.
    accounts = body("search_accounts")["accounts"]
    nxt = f"{INSTANCE}/api/v1/accounts/{LENNON}/followers?limit=80&max_id=424242"
    first = httpx.Response(200, json=accounts, headers=link(nxt))
    route = api.get(f"/api/v1/accounts/{LENNON}/followers").mock(
        side_effect=[first, replay("favourited_by_page")]
    )
    followers = [f async for f in acct.profiles.followers(LENNON)]
    assert [f.id for f in followers] == [a["id"] for a in accounts] + [
        body("favourited_by_page")[0]["id"]
    ]
    assert route.calls[0].request.url.params["limit"] == "80"
    assert str(route.calls[1].request.url) == nxt  # followed verbatim, never computed


async def test_followers_of_a_handle_resolve_its_id_first(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    api.get("/api/v1/accounts/lookup").mock(return_value=replay("account_lookup"))
    api.get(f"/api/v1/accounts/{LENNON}/followers").mock(return_value=replay("followers_empty"))
    assert [f async for f in acct.profiles.followers("@mastodonpy_test")] == []


# -- posts -------------------------------------------------------------------------------------


async def test_posts_get(api: respx.MockRouter, acct: sg.Account) -> None:
    api.get("/api/v1/statuses/117020583223442465").mock(return_value=replay("status_get"))
    post = await acct.posts.get("117020583223442465")
    assert post == mapping.post_from_status(body("status_get"))


async def test_posts_list_follows_link_headers_until_an_empty_page(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    first = recording("account_statuses_page")  # 5 statuses, next max_id=117020581882406424
    page2 = timeline()[:4]
    page2_next = f"{INSTANCE}{STATUSES}?limit=5&max_id={page2[-1]['id']}"
    pages = {
        None: replay("account_statuses_page"),
        "117020581882406424": httpx.Response(200, json=page2, headers=link(page2_next)),
        # An empty page ends iteration even if the server still offers a next link.
        page2[-1]["id"]: httpx.Response(200, json=[], headers=link(page2_next + "0")),
    }
    route = api.get(STATUSES).mock(side_effect=lambda r: pages[r.url.params.get("max_id")])
    posts = [p async for p in acct.posts.list(LENNON, page_size=5)]
    assert [p.id for p in posts] == [s["id"] for s in first["body"]] + [s["id"] for s in page2]
    assert route.call_count == 3
    assert str(route.calls[1].request.url) == first["headers"]["link"].split(">")[0][1:]
    assert route.calls[0].request.url.params["limit"] == "5"


async def test_cursor_resumes_exactly_after_the_last_item(
    api: respx.MockRouter, make_account: MakeAccount
) -> None:
    page2 = timeline()
    pages = {
        None: replay("account_statuses_page"),
        "117020581882406424": httpx.Response(200, json=page2),  # no next link: the end
    }
    api.get(STATUSES).mock(side_effect=lambda r: pages[r.url.params.get("max_id")])
    acct = await make_account()
    paginator = acct.posts.list(LENNON, limit=7)
    seen = [p.id async for p in paginator]
    assert len(seen) == 7 and paginator.cursor is not None
    rest = [p.id async for p in acct.posts.list(LENNON, cursor=paginator.cursor)]
    everything = [s["id"] for s in body("account_statuses_page")] + [s["id"] for s in page2]
    assert seen + rest == everything  # nothing lost, nothing twice
    resumed = acct.posts.list(LENNON, cursor=paginator.cursor)
    page = await resumed
    assert [p.id for p in page.items] == everything[7:] and page.next_cursor is None


async def test_since_stops_following_links_and_filters_older_items(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    statuses = body("account_statuses_page")
    # Between the 3rd and 4th status: the page reaches older items, so page 2 is never asked.
    since = datetime.fromisoformat(statuses[3]["created_at"]) + timedelta(milliseconds=1)
    route = api.get(STATUSES).mock(return_value=replay("account_statuses_page"))
    posts = [p async for p in acct.posts.list(LENNON, since=since)]
    assert [p.id for p in posts] == [s["id"] for s in statuses[:3]]
    assert route.call_count == 1
    until = datetime.fromisoformat(statuses[1]["created_at"])
    route.return_value = httpx.Response(200, json=statuses)
    kept = [p.id async for p in acct.posts.list(LENNON, until=until)]
    assert kept == [s["id"] for s in statuses[1:]]
    with pytest.raises(sg.BadRequest):
        [p async for p in acct.posts.list(LENNON, since=datetime(2026, 1, 1))]  # naive


async def test_a_next_link_on_another_host_is_moved_onto_the_instance(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    # The token must only ever reach the instance it was issued by.
    statuses = body("account_statuses_page")
    evil = f"https://evil.example{STATUSES}?limit=5&max_id=1"
    pages = {
        None: httpx.Response(200, json=statuses, headers=link(evil)),
        "1": httpx.Response(200, json=[]),
    }
    route = api.get(STATUSES).mock(side_effect=lambda r: pages[r.url.params.get("max_id")])
    assert len([p async for p in acct.posts.list(LENNON)]) == 5
    second = route.calls[1].request
    assert str(second.url) == f"{INSTANCE}{STATUSES}?limit=5&max_id=1"
    assert second.headers["authorization"] == f"Bearer {TOKEN}"


async def test_search_pages_by_offset(api: respx.MockRouter, acct: sg.Account) -> None:
    statuses = timeline()
    pages = {
        None: {"accounts": [], "statuses": statuses[:4], "hashtags": []},
        "4": {"accounts": [], "statuses": statuses[4:6], "hashtags": []},
    }
    route = api.get("/api/v2/search").mock(
        side_effect=lambda r: httpx.Response(200, json=pages[r.url.params.get("offset")])
    )
    found = [p.id async for p in acct.posts.search("funny", page_size=4)]
    assert found == [s["id"] for s in statuses[:6]]
    params = route.calls[0].request.url.params
    assert (params["q"], params["type"], params["limit"]) == ("funny", "statuses", "4")
    assert route.call_count == 2  # the short second page ends it


async def test_search_with_no_result(api: respx.MockRouter, acct: sg.Account) -> None:
    api.get("/api/v2/search").mock(return_value=replay("search_statuses"))
    assert [p async for p in acct.posts.search("mastodonpy_test")] == []


async def test_replies_are_the_descendants_with_the_thread_root(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    # A Context (OpenAPI ``Context``) built from recorded statuses: the reply's parent has a
    # parent of its own, so the root is the first ancestor.
    root, reply = body("status_get"), body("status_reply")
    context = {"ancestors": [root], "descendants": [reply, body("status_media")]}
    route = api.get("/api/v1/statuses/117020583245459824/context").respond(200, json=context)
    replies = [p async for p in acct.posts.replies("117020583245459824")]
    assert [p.id for p in replies] == [reply["id"], body("status_media")["id"]]
    assert {p.conversation_id for p in replies} == {root["id"]}
    assert route.call_count == 1
    route.respond(200, json={"ancestors": [], "descendants": [reply]})
    (only,) = [p async for p in acct.posts.replies("117020583245459824")]
    assert only.conversation_id == "117020583245459824"  # no ancestors: it is the root


async def test_mentions_are_the_statuses_of_mention_notifications(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    notifications = body("notifications_mentions")
    nxt = recording("notifications_mentions")["headers"]["link"].split(">")[0][1:]
    pages = {None: replay("notifications_mentions"), "21": httpx.Response(200, json=[])}
    route = api.get("/api/v1/notifications").mock(
        side_effect=lambda r: pages[r.url.params.get("max_id")]
    )
    mentions = [m async for m in acct.mentions.list()]
    assert [m.id for m in mentions] == [n["status"]["id"] for n in notifications]
    first = route.calls[0].request.url.params
    assert first.get_list("types[]") == ["mention"] and first["limit"] == "80"
    assert str(route.calls[1].request.url) == nxt  # notification ids, from the link


# -- create, delete ----------------------------------------------------------------------------


async def test_create_sends_the_draft_and_an_idempotency_key(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    route = api.post("/api/v1/statuses").mock(return_value=replay("status_reply"))
    media = sg.Media(id="117020606032533890", kind="image")
    draft = sg.Draft(
        text="@mastodonpy_test_2 same!",
        media=(media,),
        reply_to_id="117020583245459824",
        options={"visibility": "unlisted", "spoiler_text": "cw", "sensitive": True,
                 "language": "en"},
    )  # fmt: skip
    post = await acct.posts.create(draft)
    assert post == mapping.post_from_status(body("status_reply"))
    request = route.calls[0].request
    assert json.loads(request.content) == {
        "status": "@mastodonpy_test_2 same!",
        "media_ids": ["117020606032533890"],
        "in_reply_to_id": "117020583245459824",
        "visibility": "unlisted",
        "spoiler_text": "cw",
        "sensitive": True,
        "language": "en",
    }
    assert len(request.headers["idempotency-key"]) >= 16
    assert acct.rate_limits["statuses.create"].limit == 300  # the statuses family's headers


async def test_each_create_gets_its_own_key_unless_one_is_given(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    route = api.post("/api/v1/statuses").mock(return_value=replay("status_get"))
    await acct.posts.create("Toot!")
    await acct.posts.create("Toot!")
    await acct.posts.create(sg.Draft(text="Toot!", options={"idempotency_key": "order-42"}))
    keys = [c.request.headers["idempotency-key"] for c in route.calls]
    assert keys[0] != keys[1] and keys[2] == "order-42"
    assert "idempotency_key" not in json.loads(route.calls[2].request.content)


async def test_create_is_retried_after_a_read_timeout_with_the_same_key(
    api: respx.MockRouter, acct: sg.Account, fake_clock: sg.FakeClock
) -> None:
    route = api.post("/api/v1/statuses").mock(
        side_effect=[httpx.ReadTimeout("timed out"), replay("status_get")]
    )
    post = await acct.posts.create("Toot!")
    assert post.id == "117020583223442465"
    assert route.call_count == 2
    first, second = (c.request for c in route.calls)
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert first.content == second.content
    assert len(nonzero(fake_clock.sleeps)) == 1  # one backoff, on the fake clock


async def test_create_is_retried_after_a_503_with_the_same_key(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    route = api.post("/api/v1/statuses").mock(
        side_effect=[httpx.Response(503, json={"error": "Service Unavailable"}),
                     replay("status_get")]
    )  # fmt: skip
    await acct.posts.create("Toot!")
    keys = {c.request.headers["idempotency-key"] for c in route.calls}
    assert route.call_count == 2 and len(keys) == 1


async def test_create_rejects_unknown_and_scheduled_options_before_sending(
    acct: sg.Account,
) -> None:
    with pytest.raises(sg.BadRequest, match="subreddit"):
        await acct.posts.create(sg.Draft(text="x", options={"subreddit": "python"}))
    with pytest.raises(sg.BadRequest, match="ScheduledStatus"):
        await acct.posts.create(sg.Draft(text="x", options={"scheduled_at": "2030-01-01"}))


async def test_quote_id_is_sent_as_quoted_status_id(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    route = api.post("/api/v1/statuses").mock(return_value=replay("status_quote"))
    post = await acct.posts.create(sg.Draft(text="yoooooooo", quote_id="117020582917124092"))
    assert json.loads(route.calls[0].request.content)["quoted_status_id"] == "117020582917124092"
    assert post.text == "yoooooooo"


async def test_delete_uses_the_delete_bucket(api: respx.MockRouter, acct: sg.Account) -> None:
    route = api.delete("/api/v1/statuses/117020583223442465").mock(
        return_value=replay("status_delete")
    )
    assert await acct.posts.delete("117020583223442465") is None
    assert route.call_count == 1
    assert (acct.rate_limits["statuses.delete"].limit, SPEC.bucket_for(
        "DELETE", "/api/v1/statuses/1")) == (30, "statuses.delete")  # fmt: skip


# -- media -------------------------------------------------------------------------------------


def multipart_fields(request: httpx.Request) -> dict[str, str]:
    text = request.content.decode("latin-1")
    fields = {}
    for part in text.split("--" + request.headers["content-type"].split("boundary=")[1]):
        head, _, value = part.partition("\r\n\r\n")
        if 'name="' in head:
            name = head.split('name="')[1].split('"')[0]
            fields[name] = value.removesuffix("\r\n")
    return fields


async def test_media_upload_ready_at_once(
    api: respx.MockRouter, acct: sg.Account, fake_clock: sg.FakeClock
) -> None:
    route = api.post("/api/v2/media").mock(return_value=replay("media_upload"))
    media = await acct.media.upload(b"\x89PNG-bytes", mime_type="image/png", alt_text="a cat")
    assert media == mapping.media_from_attachment(body("media_upload"))
    fields = multipart_fields(route.calls[0].request)
    assert fields["description"] == "a cat" and fields["file"] == "\x89PNG-bytes"
    assert 'filename="upload.png"' in route.calls[0].request.content.decode("latin-1")
    assert nonzero(fake_clock.sleeps) == []
    assert acct.rate_limits["media.upload"].limit == 30


async def test_media_upload_202_is_polled_until_ready(
    api: respx.MockRouter, acct: sg.Account, fake_clock: sg.FakeClock
) -> None:
    # 202 and 206 bodies: the recorded attachment with url null (still processing), as
    # POST /api/v2/media and GET /api/v1/media/:id answer (OpenAPI ``MediaAttachment``).
    ready = body("media_upload")
    ready.update(type="video", description="a clip")
    processing = {**ready, "url": None, "meta": None}
    api.post("/api/v2/media").respond(202, json=processing)
    poll = api.get(f"/api/v1/media/{ready['id']}").mock(
        side_effect=[httpx.Response(206, json=processing), httpx.Response(206, json=processing),
                     httpx.Response(200, json=ready)]
    )  # fmt: skip
    media = await acct.media.upload(b"mp4", mime_type="video/mp4", alt_text="a clip")
    assert (media.id, media.kind, media.url, media.alt_text) == (
        ready["id"],
        "video",
        ready["url"],
        "a clip",
    )
    assert poll.call_count == 3
    assert nonzero(fake_clock.sleeps) == [1.0, 2.0, 4.0]


async def test_media_processing_failure_and_timeout(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    processing = {**body("media_upload"), "url": None}
    api.post("/api/v2/media").respond(202, json=processing)
    poll = api.get(f"/api/v1/media/{processing['id']}").respond(
        422, json={"error": "Error processing thumbnail for uploaded media"}
    )
    with pytest.raises(sg.BadRequest, match="Error processing thumbnail"):
        await acct.media.upload(b"x", mime_type="video/mp4")
    poll.respond(206, json=processing)
    with pytest.raises(sg.SocialGateError, match="did not finish within 600s"):
        await acct.media.upload(b"x", mime_type="video/mp4")


async def test_media_upload_is_not_resent_after_a_read_timeout(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    route = api.post("/api/v2/media").mock(side_effect=httpx.ReadTimeout("timed out"))
    with pytest.raises(sg.TransportError) as info:
        await acct.media.upload(b"x", mime_type="image/png")
    assert route.call_count == 1 and info.value.outcome_unknown
    assert_no_token(info.value)
    with pytest.raises(sg.BadRequest, match="chunk_size"):
        await acct.media.upload(b"x", mime_type="image/png", chunk_size=5)


# -- rate limits -------------------------------------------------------------------------------


async def test_an_empty_budget_with_an_iso_reset_waits_on_the_fake_clock(
    api: respx.MockRouter, acct: sg.Account, fake_clock: sg.FakeClock
) -> None:
    reset = fake_clock.time() + 200.5
    spent = replay("verify_credentials", headers={"x-ratelimit-remaining": "0",
                                                  "x-ratelimit-reset": iso(reset)})  # fmt: skip
    route = api.get("/api/v1/accounts/verify_credentials").mock(
        side_effect=[spent, replay("verify_credentials")]
    )
    await acct.profiles.me()
    assert nonzero(fake_clock.sleeps) == []
    await acct.profiles.me()  # proactive: waits for the reset instead of drawing a 429
    assert nonzero(fake_clock.sleeps) == [pytest.approx(200.5, abs=0.01)]
    assert route.call_count == 2


async def test_the_reset_is_corrected_for_server_clock_skew(
    api: respx.MockRouter, acct: sg.Account, fake_clock: sg.FakeClock
) -> None:
    # The server's clock is an hour ahead: its Date and its ISO reset are both in its time.
    server_now = fake_clock.time() + 3_600
    headers = {
        "date": format_datetime(datetime.fromtimestamp(server_now, UTC), usegmt=True),
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": iso(server_now + 120),
    }
    api.get("/api/v1/accounts/verify_credentials").mock(
        side_effect=[replay("verify_credentials", headers=headers), replay("verify_credentials")]
    )
    await acct.profiles.me()
    await acct.profiles.me()
    assert nonzero(fake_clock.sleeps) == [pytest.approx(120, abs=1.0)]


async def test_an_integer_reset_is_read_too(
    api: respx.MockRouter, acct: sg.Account, fake_clock: sg.FakeClock
) -> None:
    # GoToSocial sends X-RateLimit-Reset as epoch seconds.
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(fake_clock.time()) + 90)}
    api.get("/api/v1/accounts/verify_credentials").mock(
        side_effect=[replay("verify_credentials", headers=headers), replay("verify_credentials")]
    )
    await acct.profiles.me()
    await acct.profiles.me()
    assert nonzero(fake_clock.sleeps) == [pytest.approx(90, abs=1.0)]


async def test_429_is_waited_out_then_retried(
    api: respx.MockRouter, acct: sg.Account, fake_clock: sg.FakeClock
) -> None:
    reset = fake_clock.time() + 45
    limited = httpx.Response(
        429,
        json={"error": "Too many requests"},
        headers={"x-ratelimit-limit": "300", "x-ratelimit-remaining": "0",
                 "x-ratelimit-reset": iso(reset)},
    )  # fmt: skip
    route = api.get("/api/v1/statuses/117020583223442465").mock(
        side_effect=[limited, replay("status_get")]
    )
    post = await acct.posts.get("117020583223442465")
    assert post.id == "117020583223442465" and route.call_count == 2
    assert nonzero(fake_clock.sleeps) == [pytest.approx(45, abs=0.01)]


async def test_429_raises_rate_limited_when_asked_to(
    api: respx.MockRouter, make_account: MakeAccount, fake_clock: sg.FakeClock
) -> None:
    acct = await make_account(on_rate_limit="raise", max_retries=0)
    reset = fake_clock.time() + 45
    api.post("/api/v2/media").respond(
        429,
        json={"error": "Too many requests"},
        headers={"x-ratelimit-limit": "30", "x-ratelimit-remaining": "0",
                 "x-ratelimit-reset": iso(reset)},
    )  # fmt: skip
    with pytest.raises(sg.RateLimited) as info:
        await acct.media.upload(b"x", mime_type="image/png")
    err = info.value
    assert (err.status, err.scope, err.bucket, err.network) == (429, "window", "media.upload",
                                                                "mastodon")  # fmt: skip
    assert err.retry_after == pytest.approx(45, abs=0.01)
    assert err.reset_at == datetime.fromtimestamp(reset, UTC)
    assert err.upstream_message == "Too many requests"
    assert_no_token(err)


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "cls", "message"),
    [
        ("error_422_empty", sg.BadRequest, "バリデーションに失敗しました: Textを入力してください"),
        ("error_422_length", sg.BadRequest,
         "Gültigkeitsprüfung ist fehlgeschlagen: Text Begrenzung von 500 Zeichen überschritten"),
        ("error_422_media", sg.BadRequest, None),
        ("error_401_revoked", sg.AuthenticationError, "アクセストークンは取り消されています"),
    ],
)  # fmt: skip
async def test_recorded_errors_map_to_the_tree(
    api: respx.MockRouter, acct: sg.Account, name: str, cls: type[Exception], message: str | None
) -> None:
    route = api.post("/api/v1/statuses").mock(return_value=replay(name))
    with pytest.raises(cls) as info:
        await acct.posts.create("x")
    err = info.value
    assert isinstance(err, sg.APIError)
    assert err.status == recording(name)["status"] and err.network == "mastodon"
    assert err.upstream_message == (message or recording(name)["body"]["error"])
    assert err.code is None  # Mastodon's "error" is a message, not a code
    assert err.body and route.call_count == 1  # 4xx: not retried
    assert_no_token(err)


@pytest.mark.parametrize(
    ("status", "payload", "cls"),
    [
        (403, {"error": "This action is outside the authorized scopes"}, sg.PermissionDenied),
        (404, {"error": "Record not found"}, sg.NotFound),
        (410, {"error": "Gone"}, sg.NotFound),
        (422, {"error": "Validation failed", "details": {"text": [
            {"error": "ERR_BLANK", "description": "can't be blank"}]}}, sg.BadRequest),
        (500, {"error": "Internal Server Error"}, sg.ServerError),
        (401, {"error": "invalid_token", "error_description": "The access token is invalid"},
         sg.AuthenticationError),
    ],
)  # fmt: skip
async def test_status_codes_map_to_the_tree(
    api: respx.MockRouter,
    make_account: MakeAccount,
    status: int,
    payload: dict[str, Any],
    cls: type[Exception],
) -> None:
    acct = await make_account(max_retries=0)
    api.get("/api/v1/statuses/1").respond(status, json=payload)
    with pytest.raises(cls) as info:
        await acct.posts.get("1")
    err = info.value
    assert isinstance(err, sg.APIError) and err.status == status
    if "details" in payload:
        assert err.upstream_message == "Validation failed (text can't be blank)"
    if "error_description" in payload:
        assert (err.code, err.upstream_message) == ("invalid_token", "The access token is invalid")
    assert_no_token(err)


async def test_a_token_echoed_by_the_server_is_redacted(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    api.get("/api/v1/accounts/verify_credentials").respond(
        401, json={"error": f"The access token {TOKEN} is invalid"}
    )
    with pytest.raises(sg.AuthenticationError) as info:
        await acct.profiles.me()
    assert_no_token(info.value)


# -- apps and OAuth ----------------------------------------------------------------------------


async def test_register_app_posts_the_form_and_answers_an_oauth_app(
    api: respx.MockRouter, fake_clock: sg.FakeClock
) -> None:
    route = api.post("/api/v1/apps").mock(return_value=replay("apps_create"))
    async with sg.Client(clock=fake_clock, token_store=sg.MemoryTokenStore()) as client:
        app = await register_app(
            client,
            INSTANCE + "/",
            client_name="mastodon.py generated test app",
            redirect_uris=["urn:ietf:wg:oauth:2.0:oob", "https://crm.example/cb"],
            scopes=["read", "write", "follow", "push"],
            website="https://crm.example",
        )
    recorded = body("apps_create")
    assert (app.client_id, app.client_secret) == (recorded["client_id"], recorded["client_secret"])
    assert app.redirect_uri == "urn:ietf:wg:oauth:2.0:oob"
    assert app.scopes == ("read", "write", "follow", "push")
    assert app.extra == {"base_url": INSTANCE, "app_id": "2"}
    assert recorded["client_secret"] not in repr(app)
    form = parse_qs(route.calls[0].request.content.decode())
    assert form == {
        "client_name": ["mastodon.py generated test app"],
        "redirect_uris": ["urn:ietf:wg:oauth:2.0:oob\nhttps://crm.example/cb"],
        "scopes": ["read write follow push"],
        "website": ["https://crm.example"],
    }


async def test_register_app_errors(api: respx.MockRouter, fake_clock: sg.FakeClock) -> None:
    route = api.post("/api/v1/apps")
    async with sg.Client(clock=fake_clock, token_store=sg.MemoryTokenStore()) as client:
        register = functools.partial(register_app, client, INSTANCE, client_name="x", scopes="r")
        invalid = "Validation failed: Redirect URI must be an absolute URI."
        route.respond(422, json={"error": invalid})
        with pytest.raises(sg.BadRequest, match="absolute URI"):
            await register(redirect_uris="nope")
        route.respond(429, json={"error": "Too many requests"}, headers={"retry-after": "30"})
        with pytest.raises(sg.RateLimited) as info:
            await register(redirect_uris="urn:x")
        assert info.value.retry_after == 30
        route.respond(200, json={"id": "3"})
        with pytest.raises(sg.UpstreamSchemaError):
            await register(redirect_uris="urn:x")
        with pytest.raises(ValueError):
            await register(redirect_uris=[])


async def test_oauth_on_the_instance_with_pkce_and_form_client_auth(
    api: respx.MockRouter, fake_clock: sg.FakeClock
) -> None:
    app = sg.OAuthApp(client_id="cid", client_secret="csecret", redirect_uri="https://cb.example/")
    token_route = api.post("/oauth/token").respond(200, json={
        "access_token": "issued-token-123", "token_type": "Bearer", "scope": "read write",
        "created_at": 1785592219})  # fmt: skip
    me = api.get("/api/v1/accounts/verify_credentials").mock(
        return_value=replay("verify_credentials")
    )
    async with sg.Client(clock=fake_clock, token_store=sg.MemoryTokenStore()) as client:
        flow = client.oauth("mastodon", app, base_url=INSTANCE)
        request = flow.authorization_url()
        url = httpx.URL(request.url)
        assert (url.host, url.port, url.path) == ("localhost", 3000, "/oauth/authorize")
        params = url.params
        assert params["code_challenge_method"] == "S256" and params["scope"] == "read write"
        token = await flow.exchange_code("the-code", code_verifier=request.code_verifier)
        assert token.access_token == "issued-token-123" and token.expires_at is None
        assert token.refresh_token is None and token.scopes == ("read", "write")
        form = parse_qs(token_route.calls[0].request.content.decode())
        assert form["client_id"] == ["cid"] and form["client_secret"] == ["csecret"]
        assert form["code_verifier"] == [request.code_verifier]
        assert "authorization" not in token_route.calls[0].request.headers
        acct = client.account("mastodon", token, app=app, key="u1", base_url=INSTANCE)
        assert (await acct.profiles.me()).id == LENNON
    assert me.calls[0].request.headers["authorization"] == "Bearer issued-token-123"


async def test_revoke_token(api: respx.MockRouter, fake_clock: sg.FakeClock) -> None:
    app = sg.OAuthApp(client_id="cid", client_secret="csecret-123456")
    route = api.post("/oauth/revoke").mock(
        side_effect=[
            httpx.Response(200, json={}),
            httpx.Response(403, json={"error": "unauthorized_client",
                                      "error_description": f"not yours: {TOKEN}"}),
        ]
    )  # fmt: skip
    async with sg.Client(clock=fake_clock, token_store=sg.MemoryTokenStore()) as client:
        await revoke_token(client, INSTANCE, app, TOKEN)
        form = parse_qs(route.calls[0].request.content.decode())
        assert form == {"client_id": ["cid"], "client_secret": ["csecret-123456"], "token": [TOKEN]}
        with pytest.raises(sg.PermissionDenied) as info:
            await revoke_token(client, INSTANCE, app, TOKEN)
    assert info.value.code == "unauthorized_client"
    assert_no_token(info.value)


# -- the spec ----------------------------------------------------------------------------------


def test_spec_routes_buckets_and_capabilities() -> None:
    assert SPEC.name == "mastodon" and SPEC.reset_style == "auto"
    routes = {
        ("GET", "/api/v1/accounts/verify_credentials"): "default",
        ("POST", "/api/v2/media"): "media.upload",
        ("POST", "/api/v1/media"): "media.upload",
        ("GET", "/api/v1/media/123"): "default",
        ("DELETE", "/api/v1/statuses/123"): "statuses.delete",
        ("POST", "/api/v1/statuses/123/unreblog"): "statuses.delete",
        ("POST", "/api/v1/statuses"): "statuses.create",
        ("POST", "/api/v1/statuses/123/favourite"): "default",
    }
    for (method, path), bucket in routes.items():
        assert SPEC.bucket_for(method, path) == bucket, (method, path)
    limits = {name: (b.user_limit, b.window) for name, b in SPEC.buckets.items()}
    assert limits == {
        "default": (300, 300.0),
        "media.upload": (30, 1800.0),
        "statuses.delete": (30, 1800.0),
        "statuses.create": (300, 10800.0),
    }
    assert SPEC.oauth is not None and SPEC.oauth.token_auth == "client_secret_post"
    assert SPEC.oauth.pkce and SPEC.oauth.revoke_url == "https://mastodon.social/oauth/revoke"
    assert SPEC.capabilities == frozenset(sg.Capability)
    client = sg.Client(token_store=sg.MemoryTokenStore())
    default = client.account("mastodon", sg.BearerToken("t"))
    assert default.base_url == "https://mastodon.social"
    assert client.account("mastodon", sg.BearerToken("t"), base_url=INSTANCE + "/").base_url == (
        INSTANCE
    )
