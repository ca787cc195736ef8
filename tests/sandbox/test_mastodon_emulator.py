"""The Mastodon emulator on the wire, in-process (``httpx.ASGITransport``, fake clock): auth,
Link pagination, rate-limit headers and 429s, OAuth with PKCE, idempotent creates, deletes,
media processing, context, search, mentions and fault injection."""

from __future__ import annotations

import base64
import hashlib
import re
import struct
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

import socialgate as sg
from socialgate.adapters.mastodon.sandbox import MastodonEmulator
from socialgate.sandbox import SandboxApp, create_app

USER = {"Authorization": "Bearer sandbox-user-demo"}
ROOT = "http://sandbox/mastodon"
ISO_RESET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + struct.pack(">II", 320, 200) + b"\x08" * 20


def mastodon_client(app: SandboxApp, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=ROOT,
        headers=headers if headers is not None else USER,
    )


def emulator(app: SandboxApp) -> MastodonEmulator:
    emu = app.mounts["mastodon"].app
    assert isinstance(emu, MastodonEmulator)
    return emu


def challenge_for(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


async def user_token(client: httpx.AsyncClient, user: int | str, scope: str = "read write") -> str:
    """A token for seeded local account ``user`` through the built-in demo app."""
    verifier = "v" * 64
    consent = await client.get(
        "/oauth/authorize",
        params={"response_type": "code", "client_id": "sandbox-demo-app",
                "redirect_uri": "http://cb.example/", "scope": scope, "state": "s1",
                "code_challenge": challenge_for(verifier), "code_challenge_method": "S256",
                "sandbox_user": str(user)},
    )  # fmt: skip
    assert consent.status_code == 302, consent.text
    code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
    answer = await client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code,
              "redirect_uri": "http://cb.example/", "client_id": "sandbox-demo-app",
              "client_secret": "sandbox-demo-secret", "code_verifier": verifier},
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


@pytest.fixture
def app(clock: sg.FakeClock) -> SandboxApp:
    return create_app(networks=("mastodon",), posts=2_000, clock=clock, seed=1)


@pytest.fixture
async def m(app: SandboxApp) -> AsyncIterator[httpx.AsyncClient]:
    async with mastodon_client(app) as client:
        yield client


@pytest.fixture
async def me(m: httpx.AsyncClient) -> dict[str, Any]:
    return dict((await m.get("/api/v1/accounts/verify_credentials")).json())


async def follow_links(client: httpx.AsyncClient, url: str, **params: Any) -> list[list[Any]]:
    pages = []
    response = await client.get(url, params=params)
    while True:
        assert response.status_code == 200, response.text
        pages.append(response.json())
        nxt = response.links.get("next")
        if not nxt:
            return pages
        response = await client.get(nxt["url"])


# -- auth ----------------------------------------------------------------------------------------


async def test_tokens_and_public_reads(app: SandboxApp, me: dict[str, Any]) -> None:
    async with mastodon_client(app, headers={}) as anonymous:
        refused = await anonymous.get("/api/v1/accounts/verify_credentials")
        assert refused.status_code == 401
        assert refused.json() == {"error": "The access token is invalid"}
        public = await anonymous.get(f"/api/v1/accounts/{me['id']}")
        assert public.status_code == 200 and "source" not in public.json()
        assert public.headers["x-ratelimit-limit"] == "300"
    async with mastodon_client(app, headers={"Authorization": "Bearer nope"}) as bad:
        answer = await bad.get(f"/api/v1/accounts/{me['id']}")
        assert answer.status_code == 401
        assert 'error="invalid_token"' in answer.headers["www-authenticate"]
    assert me["username"] == "sandbox_demo" and me["source"]["note"]
    assert me["fields"][0]["verified_at"] is not None  # the demo user's verified website


async def test_app_tokens_have_no_user_and_scopes_are_enforced(
    m: httpx.AsyncClient, app: SandboxApp
) -> None:
    token = await m.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "sandbox-demo-app",
              "client_secret": "sandbox-demo-secret", "scope": "read"},
    )  # fmt: skip
    assert token.json()["scope"] == "read" and "refresh_token" not in token.json()
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    async with mastodon_client(app, headers=headers) as app_only:
        answer = await app_only.get("/api/v1/accounts/verify_credentials")
        assert answer.status_code == 422
        assert answer.json() == {"error": "This method requires an authenticated user"}
    read_only = await user_token(m, 0, scope="read")
    async with mastodon_client(app, headers={"Authorization": f"Bearer {read_only}"}) as reader:
        assert (await reader.get("/api/v1/accounts/verify_credentials")).status_code == 200
        denied = await reader.post("/api/v1/statuses", json={"status": "hi"})
        assert denied.status_code == 403
        assert denied.json() == {"error": "This action is outside the authorized scopes"}


# -- pagination ----------------------------------------------------------------------------------


async def test_account_statuses_page_by_link_to_the_end(
    m: httpx.AsyncClient, me: dict[str, Any]
) -> None:
    pages = await follow_links(m, f"/api/v1/accounts/{me['id']}/statuses", limit=40)
    ids = [int(s["id"]) for page in pages for s in page]
    assert len(ids) == me["statuses_count"] == len(set(ids))
    assert ids == sorted(ids, reverse=True)
    assert all(s["account"]["id"] == me["id"] for page in pages for s in page)
    assert all(len(page) == 40 for page in pages[:-1]) and len(pages[-1]) < 40


async def test_link_header_format_and_min_id_since_id(
    m: httpx.AsyncClient, me: dict[str, Any]
) -> None:
    url = f"/api/v1/accounts/{me['id']}/statuses"
    first = await m.get(url, params={"limit": 5, "exclude_replies": "true"})
    statuses = first.json()
    assert first.links["next"]["url"] == (
        f"{ROOT}{url}?limit=5&exclude_replies=true&max_id={statuses[-1]['id']}"
    )
    assert first.links["prev"]["url"].endswith(f"min_id={statuses[0]['id']}")
    everything = [s["id"] for s in (await m.get(url, params={"limit": 40})).json()]
    newer = await m.get(url, params={"limit": 3, "min_id": everything[10]})
    assert [s["id"] for s in newer.json()] == everything[7:10]  # just above min_id
    since = await m.get(url, params={"limit": 40, "since_id": everything[3]})
    assert [s["id"] for s in since.json()] == everything[:3]
    assert "next" not in since.links  # not a full page


async def test_a_full_last_page_is_followed_by_an_empty_one(
    m: httpx.AsyncClient, me: dict[str, Any]
) -> None:
    count = me["statuses_count"]
    size = max(d for d in range(2, 41) if count % d == 0)  # pages that end exactly full
    pages = await follow_links(m, f"/api/v1/accounts/{me['id']}/statuses", limit=size)
    assert [len(p) for p in pages] == [size] * (count // size) + [0]


async def test_followers_page_by_follow_ids_not_account_ids(
    m: httpx.AsyncClient, me: dict[str, Any]
) -> None:
    pages = await follow_links(m, f"/api/v1/accounts/{me['id']}/followers", limit=7)
    followers = [a["id"] for page in pages for a in page]
    assert len(followers) == len(set(followers)) == me["followers_count"]
    first = await m.get(f"/api/v1/accounts/{me['id']}/followers", params={"limit": 7})
    max_id = parse_qs(urlsplit(first.links["next"]["url"]).query)["max_id"][0]
    assert max_id not in {a["id"] for a in first.json()}  # a follow id, not an account id
    # Paging by the last account's id (the mistake the Link header prevents) goes wrong.
    wrong = await m.get(
        f"/api/v1/accounts/{me['id']}/followers", params={"limit": 7, "max_id": followers[6]}
    )
    assert [a["id"] for a in wrong.json()] != followers[7:14]


async def test_mention_notifications(m: httpx.AsyncClient, me: dict[str, Any]) -> None:
    answer = await m.get("/api/v1/notifications", params={"types[]": "mention", "limit": 10})
    notifications = answer.json()
    assert len(notifications) == 10
    assert all(n["type"] == "mention" for n in notifications)
    assert all(me["id"] in {x["id"] for x in n["status"]["mentions"]} for n in notifications)
    ids = [int(n["id"]) for n in notifications]
    assert ids == sorted(ids, reverse=True)
    assert answer.links["next"]["url"].endswith(f"max_id={ids[-1]}")
    assert "types%5B%5D=mention" in answer.links["next"]["url"]
    other = await m.get("/api/v1/notifications", params={"types[]": "follow"})
    assert other.json() == []


# -- rate limits ---------------------------------------------------------------------------------


async def test_rate_limit_headers_and_429(
    m: httpx.AsyncClient, clock: sg.FakeClock, me: dict[str, Any]
) -> None:
    url = f"/api/v1/accounts/{me['id']}"
    answer = await m.get(url)
    assert answer.headers["x-ratelimit-limit"] == "300"
    assert answer.headers["x-ratelimit-remaining"] == "298"  # verify_credentials came first
    reset = answer.headers["x-ratelimit-reset"]
    assert ISO_RESET.match(reset)
    reset_epoch = datetime.fromisoformat(reset).timestamp()
    assert reset_epoch % 300 == 0 and 0 < reset_epoch - clock.time() <= 300  # aligned window
    for _ in range(298):
        assert (await m.get(url)).status_code == 200
    refused = await m.get(url)
    assert refused.status_code == 429 and refused.json() == {"error": "Too many requests"}
    assert refused.headers["x-ratelimit-remaining"] == "0"
    clock.advance(reset_epoch - clock.time())
    again = await m.get(url)
    assert again.status_code == 200 and again.headers["x-ratelimit-remaining"] == "299"


async def test_time_scale_shrinks_the_windows(clock: sg.FakeClock) -> None:
    app = create_app(networks=("mastodon",), posts=200, clock=clock, time_scale=60)
    async with mastodon_client(app) as m:
        answer = await m.get("/api/v1/accounts/verify_credentials")
        reset = datetime.fromisoformat(answer.headers["x-ratelimit-reset"]).timestamp()
        assert 0 < reset - clock.time() <= 5 and reset % 5 == 0  # 5 minutes / 60


async def test_media_and_delete_throttles(m: httpx.AsyncClient) -> None:
    for _ in range(30):
        answer = await m.post("/api/v2/media", files={"file": ("a.png", PNG, "image/png")})
        assert answer.status_code == 200
    assert answer.headers["x-ratelimit-limit"] == "30"
    assert answer.headers["x-ratelimit-remaining"] == "0"
    refused = await m.post("/api/v2/media", files={"file": ("a.png", PNG, "image/png")})
    assert refused.status_code == 429 and refused.headers["x-ratelimit-limit"] == "30"
    created = await m.post("/api/v1/statuses", json={"status": "to delete"})
    assert created.headers["x-ratelimit-limit"] == "300"  # the statuses family on create
    reset = datetime.fromisoformat(created.headers["x-ratelimit-reset"]).timestamp()
    assert reset % 10_800 == 0
    deleted = await m.delete(f"/api/v1/statuses/{created.json()['id']}")
    assert deleted.headers["x-ratelimit-limit"] == "30"


# -- writes --------------------------------------------------------------------------------------


async def test_create_is_idempotent_per_key(m: httpx.AsyncClient, app: SandboxApp) -> None:
    first = await m.post(
        "/api/v1/statuses", json={"status": "once"}, headers={"Idempotency-Key": "k-1"}
    )
    again = await m.post(
        "/api/v1/statuses", json={"status": "once"}, headers={"Idempotency-Key": "k-1"}
    )
    other = await m.post(
        "/api/v1/statuses", json={"status": "once"}, headers={"Idempotency-Key": "k-2"}
    )
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"] != other.json()["id"]
    assert app.stats.snapshot()["networks"]["mastodon"]["writes"] == {"posts.create": 2}


async def test_create_as_a_form_with_options_and_validation(
    m: httpx.AsyncClient, me: dict[str, Any]
) -> None:
    created = await m.post(
        "/api/v1/statuses",
        data={"status": "Q&A with @omarberg21 #Python\n\nsecond https://example.com/a",
              "visibility": "unlisted", "spoiler_text": "cw", "language": "de"},
    )  # fmt: skip
    status = created.json()
    assert (status["visibility"], status["spoiler_text"], status["sensitive"]) == (
        "unlisted",
        "cw",
        True,
    )
    assert status["language"] == "de" and status["application"]["name"] == "Sandbox demo"
    assert status["content"].startswith("<p>Q&amp;A with ")
    assert "</p><p>second " in status["content"]
    assert status["tags"] == [{"name": "python", "url": f"{ROOT}/tags/python"}]
    assert status["account"]["id"] == me["id"]
    blank = await m.post("/api/v1/statuses", json={"status": "  "})
    assert blank.status_code == 422
    assert blank.json() == {"error": "Validation failed: Text can't be blank"}
    long = await m.post("/api/v1/statuses", json={"status": "a" * 501})
    assert long.json() == {"error": "Validation failed: Text character limit of 500 exceeded"}
    orphan = await m.post("/api/v1/statuses", json={"status": "re", "in_reply_to_id": "1"})
    assert orphan.status_code == 404


async def test_replies_show_in_the_context_and_mentions_notify(
    m: httpx.AsyncClient, app: SandboxApp, me: dict[str, Any]
) -> None:
    token = await user_token(m, 1)
    async with mastodon_client(app, headers={"Authorization": f"Bearer {token}"}) as other:
        root = (await other.post("/api/v1/statuses", json={"status": "root"})).json()
        reply = await m.post(
            "/api/v1/statuses", json={"status": "a reply", "in_reply_to_id": root["id"]}
        )
        nested = await other.post(
            "/api/v1/statuses",
            json={"status": "@sandbox_demo thanks", "in_reply_to_id": reply.json()["id"]},
        )
        context = (await other.get(f"/api/v1/statuses/{root['id']}/context")).json()
        assert context["ancestors"] == []
        assert [s["id"] for s in context["descendants"]] == [
            reply.json()["id"],
            nested.json()["id"],
        ]
        up = (await m.get(f"/api/v1/statuses/{nested.json()['id']}/context")).json()
        assert [s["id"] for s in up["ancestors"]] == [root["id"], reply.json()["id"]]
        assert reply.json()["in_reply_to_account_id"] == root["account"]["id"]
        refused = await other.delete(f"/api/v1/statuses/{reply.json()['id']}")
        assert refused.status_code == 403
        assert refused.json() == {"error": "This action is not allowed"}
    newest = (await m.get("/api/v1/notifications", params={"limit": 1})).json()[0]
    assert newest["status"]["id"] == nested.json()["id"]


async def test_seeded_threads_have_a_context(m: httpx.AsyncClient, app: SandboxApp) -> None:
    data = emulator(app).data
    parent = next(i for i in range(data.n_posts) if data.direct_replies(i))
    context = (await m.get(f"/api/v1/statuses/{data.status_id(parent)}/context")).json()
    kids = {str(data.status_id(k)) for k in data.direct_replies(parent)}
    assert kids <= {s["id"] for s in context["descendants"]}
    status = (await m.get(f"/api/v1/statuses/{data.status_id(parent)}")).json()
    assert status["replies_count"] == len(kids)


async def test_delete_answers_the_source_and_forgets_the_status(m: httpx.AsyncClient) -> None:
    created = (await m.post("/api/v1/statuses", json={"status": "bye"})).json()
    deleted = await m.delete(f"/api/v1/statuses/{created['id']}")
    assert deleted.status_code == 200 and deleted.json()["text"] == "bye"
    assert (await m.get(f"/api/v1/statuses/{created['id']}")).status_code == 404
    gone = await m.delete(f"/api/v1/statuses/{created['id']}")
    assert gone.status_code == 404 and gone.json() == {"error": "Record not found"}


# -- media ---------------------------------------------------------------------------------------


async def test_images_are_ready_at_once(m: httpx.AsyncClient) -> None:
    answer = await m.post(
        "/api/v2/media", files={"file": ("a.png", PNG, "image/png")}, data={"description": "alt"}
    )
    media = answer.json()
    assert answer.status_code == 200 and media["type"] == "image" and media["url"]
    assert media["meta"]["original"] == {"width": 320, "height": 200, "size": "320x200",
                                         "aspect": 1.6}  # fmt: skip
    assert media["description"] == "alt"
    status = await m.post("/api/v1/statuses", json={"status": "pic", "media_ids": [media["id"]]})
    assert status.json()["media_attachments"][0]["id"] == media["id"]
    reused = await m.post("/api/v1/statuses", json={"status": "again", "media_ids": [media["id"]]})
    assert reused.status_code == 422


async def test_video_is_processed_asynchronously(m: httpx.AsyncClient, clock: sg.FakeClock) -> None:
    answer = await m.post("/api/v2/media", files={"file": ("v.mp4", b"\x00" * 2048, "video/mp4")})
    media = answer.json()
    assert answer.status_code == 202 and media["url"] is None and media["meta"] is None
    polled = await m.get(f"/api/v1/media/{media['id']}")
    assert polled.status_code == 206 and polled.json()["url"] is None
    early = await m.post("/api/v1/statuses", json={"status": "v", "media_ids": [media["id"]]})
    assert early.status_code == 422 and "finished processing" in early.json()["error"]
    clock.advance(1.0)
    ready = await m.get(f"/api/v1/media/{media['id']}")
    assert ready.status_code == 200 and ready.json()["url"].endswith(".mp4")
    assert ready.json()["meta"]["original"]["frame_rate"] == "30/1"
    v1 = await m.post("/api/v1/media", files={"file": ("v.mp4", b"\x00" * 10, "video/mp4")})
    assert v1.status_code == 200 and v1.json()["url"]  # v1 is synchronous


async def test_media_errors(m: httpx.AsyncClient, app: SandboxApp) -> None:
    bad = await m.post("/api/v2/media", files={"file": ("a.txt", b"hello", "text/plain")})
    assert bad.status_code == 422 and bad.json()["error"].startswith("Validation failed:")
    empty = await m.post("/api/v2/media", data={"description": "x"})
    assert empty.json() == {"error": "Validation failed: File can't be blank"}
    mine = (await m.post("/api/v2/media", files={"file": ("a.png", PNG, "image/png")})).json()
    token = await user_token(m, 1)
    async with mastodon_client(app, headers={"Authorization": f"Bearer {token}"}) as other:
        assert (await other.get(f"/api/v1/media/{mine['id']}")).status_code == 404


# -- search --------------------------------------------------------------------------------------


async def test_search_statuses_accounts_and_offset(app: SandboxApp, m: httpx.AsyncClient) -> None:
    first = (await m.get("/api/v2/search", params={"q": "python", "type": "statuses",
                                                   "limit": 5})).json()  # fmt: skip
    assert len(first["statuses"]) == 5 and first["accounts"] == []
    assert all("python" in s["content"].lower() for s in first["statuses"])
    more = (await m.get("/api/v2/search", params={"q": "python", "type": "statuses",
                                                  "limit": 5, "offset": 5})).json()  # fmt: skip
    assert not {s["id"] for s in first["statuses"]} & {s["id"] for s in more["statuses"]}
    accounts = (await m.get("/api/v2/search", params={"q": "@sandbox_demo"})).json()
    assert accounts["accounts"][0]["acct"] == "sandbox_demo"
    async with mastodon_client(app, headers={}) as anonymous:
        paged = await anonymous.get("/api/v2/search", params={"q": "python", "offset": 5})
        assert paged.status_code == 401


async def test_search_operators_and_timeline_filters(
    m: httpx.AsyncClient, me: dict[str, Any]
) -> None:
    mine = (await m.get("/api/v2/search", params={"q": "from:sandbox_demo", "type": "statuses",
                                                  "limit": 40})).json()  # fmt: skip
    assert mine["statuses"] and {s["account"]["id"] for s in mine["statuses"]} == {me["id"]}
    url = f"/api/v1/accounts/{me['id']}/statuses"
    no_replies = (await m.get(url, params={"exclude_replies": "1", "limit": 40})).json()
    assert no_replies and all(s["in_reply_to_account_id"] in (None, me["id"]) for s in no_replies)
    no_boosts = (await m.get(url, params={"exclude_reblogs": "true", "limit": 40})).json()
    assert all(s["reblog"] is None for s in no_boosts)
    media = (await m.get(url, params={"only_media": "true", "limit": 40})).json()
    assert all(s["media_attachments"] for s in media)
    assert (await m.get(url, params={"pinned": "true"})).json() == []


async def test_remote_accounts_have_a_domain(m: httpx.AsyncClient, app: SandboxApp) -> None:
    remote = emulator(app).data.account(3)
    assert remote.domain is not None
    found = await m.get("/api/v1/accounts/lookup", params={"acct": remote.acct})
    assert found.status_code == 200 and found.json()["acct"] == f"{remote.username}@{remote.domain}"
    assert found.json()["url"].startswith(f"https://{remote.domain}/@")
    local = await m.get("/api/v1/accounts/lookup", params={"acct": "sandbox_demo@sandbox"})
    assert local.json()["acct"] == "sandbox_demo"


# -- OAuth ---------------------------------------------------------------------------------------


async def test_oauth_app_registration_code_flow_and_revoke(app: SandboxApp) -> None:
    async with mastodon_client(app, headers={}) as m:
        registered = await m.post(
            "/api/v1/apps",
            data={"client_name": "crm", "redirect_uris": "https://crm.example/cb",
                  "scopes": "read write"},
        )  # fmt: skip
        credentials = registered.json()
        assert registered.status_code == 200 and credentials["scopes"] == ["read", "write"]
        params = {"response_type": "code", "client_id": credentials["client_id"],
                  "redirect_uri": "https://crm.example/cb", "scope": "read", "state": "xyz",
                  "code_challenge": challenge_for("w" * 60),
                  "code_challenge_method": "S256"}  # fmt: skip
        wrong_uri = await m.get("/oauth/authorize", params={**params, "redirect_uri": "https://x/"})
        assert wrong_uri.status_code == 400
        consent = await m.get("/oauth/authorize", params=params)
        query = parse_qs(urlsplit(consent.headers["location"]).query)
        assert consent.headers["location"].startswith("https://crm.example/cb?")
        assert query["state"] == ["xyz"]
        form = {"grant_type": "authorization_code", "code": query["code"][0],
                "redirect_uri": "https://crm.example/cb", "client_id": credentials["client_id"],
                "client_secret": credentials["client_secret"]}  # fmt: skip
        wrong = await m.post("/oauth/token", data={**form, "code_verifier": "x" * 60})
        assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
        consent = await m.get("/oauth/authorize", params=params)
        form["code"] = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
        basic = httpx.BasicAuth(credentials["client_id"], credentials["client_secret"])
        public_form = {k: v for k, v in form.items() if not k.startswith("client_")}
        token = await m.post(
            "/oauth/token", data={**public_form, "code_verifier": "w" * 60}, auth=basic
        )
        assert token.status_code == 200 and set(token.json()) == {
            "access_token", "token_type", "scope", "created_at"}  # fmt: skip
        reused = await m.post("/oauth/token", data={**form, "code_verifier": "w" * 60})
        assert reused.json()["error"] == "invalid_grant"  # codes work once
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        assert (await m.get("/api/v1/accounts/verify_credentials", headers=bearer)).is_success
        revoked = await m.post(
            "/oauth/revoke", data={"token": token.json()["access_token"],
                                   "client_id": credentials["client_id"],
                                   "client_secret": credentials["client_secret"]},
        )  # fmt: skip
        assert revoked.status_code == 200 and revoked.json() == {}
        after = await m.get("/api/v1/accounts/verify_credentials", headers=bearer)
        assert after.status_code == 401
        assert after.json() == {"error": "The access token was revoked"}
        metadata = (await m.get("/.well-known/oauth-authorization-server")).json()
        assert metadata["token_endpoint"] == f"{ROOT}/oauth/token"
        assert metadata["code_challenge_methods_supported"] == ["S256"]


async def test_app_registration_is_validated_and_throttled(app: SandboxApp) -> None:
    async with mastodon_client(app, headers={}) as m:
        invalid = await m.post("/api/v1/apps", json={"client_name": "", "redirect_uris": []})
        assert invalid.status_code == 422
        assert invalid.json()["error"] == (
            "Validation failed: Name can't be blank, Redirect URI can't be blank"
        )
        for _ in range(4):
            ok = await m.post(
                "/api/v1/apps", json={"client_name": "a", "redirect_uris": ["urn:x:y"]}
            )
            assert ok.status_code == 200, ok.text
        refused = await m.post("/api/v1/apps", json={"client_name": "a", "redirect_uris": "u:x"})
        assert refused.status_code == 429 and refused.headers["x-ratelimit-limit"] == "5"


# -- faults and determinism ----------------------------------------------------------------------


async def test_storms_and_server_errors(m: httpx.AsyncClient, app: SandboxApp) -> None:
    app.faults.configure({"rate_limit_storm": 1.0})
    storm = await m.get("/api/v1/accounts/verify_credentials")
    assert storm.status_code == 429 and storm.headers["x-ratelimit-remaining"] == "0"
    app.faults.reset()
    app.faults.configure({"error_rate": 1.0, "error_status": 503})
    failing = await m.get("/api/v1/accounts/verify_credentials")
    assert failing.status_code == 503 and failing.json() == {"error": "Service Unavailable"}
    app.faults.reset()
    assert (await m.get("/api/v1/accounts/verify_credentials")).status_code == 200


async def test_same_seed_same_data(clock: sg.FakeClock) -> None:
    answers = []
    for _ in range(2):
        app = create_app(networks=("mastodon",), posts=500, clock=clock, seed=7)
        async with mastodon_client(app) as m:
            me = (await m.get("/api/v1/accounts/verify_credentials")).json()
            page = await m.get(f"/api/v1/accounts/{me['id']}/statuses")
            answers.append(page.content)
    assert answers[0] == answers[1]
