"""The Bluesky emulator on the wire (httpx over ASGI, no SDK): sessions and JWT rotation, auth
errors, RateLimit-* headers and 429s, write points, stateful records, blobs, determinism."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

import socialgate as sg
from socialgate.sandbox import SandboxApp, create_app

DEMO = "sandbox-demo.bsky.social"
PASSWORD = "sandbox-app-password"
SMALL = 2_000


def bsky_app(clock: sg.FakeClock, **kwargs: Any) -> SandboxApp:
    return create_app(networks=("bluesky",), posts=SMALL, clock=clock, seed=1, **kwargs)


def wire(app: SandboxApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox/bluesky"
    )


@pytest.fixture
def app(clock: sg.FakeClock) -> SandboxApp:
    return bsky_app(clock)


@pytest.fixture
async def c(app: SandboxApp) -> AsyncIterator[httpx.AsyncClient]:
    async with wire(app) as client:
        yield client


async def login(c: httpx.AsyncClient, identifier: str = DEMO) -> dict[str, Any]:
    response = await c.post(
        "/xrpc/com.atproto.server.createSession",
        json={"identifier": identifier, "password": PASSWORD},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def auth(session: dict[str, Any], key: str = "accessJwt") -> dict[str, str]:
    return {"Authorization": f"Bearer {session[key]}"}


def claims(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    head, body, _ = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(head))),
        json.loads(base64.urlsafe_b64decode(pad(body))),
    )


async def test_create_session_answers_the_lexicon_shape(
    c: httpx.AsyncClient, clock: sg.FakeClock
) -> None:
    session = await login(c)
    assert session["handle"] == DEMO and session["did"].startswith("did:plc:")
    service = session["didDoc"]["service"][0]
    assert service == {
        "id": "#atproto_pds",
        "type": "AtprotoPersonalDataServer",
        "serviceEndpoint": "http://sandbox/bluesky/pds",
    }
    head, access = claims(session["accessJwt"])
    assert head == {"typ": "at+jwt", "alg": "HS256"}
    assert access["sub"] == session["did"] and access["scope"] == "com.atproto.appPass"
    assert access["exp"] - access["iat"] == 7200 and access["iat"] == int(clock.time())
    head, refresh = claims(session["refreshJwt"])
    assert head["typ"] == "refresh+jwt" and refresh["jti"]
    assert refresh["exp"] - refresh["iat"] == 90 * 86_400
    # The same account logs in by DID and by e-mail too.
    assert (await login(c, session["did"]))["did"] == session["did"]
    assert (await login(c, "sandbox-demo@sandbox.invalid"))["did"] == session["did"]


async def test_bad_password_and_missing_fields(c: httpx.AsyncClient) -> None:
    bad = await c.post(
        "/xrpc/com.atproto.server.createSession", json={"identifier": DEMO, "password": "nope"}
    )
    assert bad.status_code == 401
    assert bad.json() == {
        "error": "AuthenticationRequired",
        "message": "Invalid identifier or password",
    }
    missing = await c.post("/xrpc/com.atproto.server.createSession", json={"identifier": DEMO})
    assert missing.status_code == 400 and missing.json()["error"] == "InvalidRequest"


async def test_refresh_rotates_and_an_old_refresh_jwt_is_revoked(c: httpx.AsyncClient) -> None:
    session = await login(c)
    path = "/xrpc/com.atproto.server.refreshSession"
    rotated = await c.post(path, headers=auth(session, "refreshJwt"))
    assert rotated.status_code == 200
    new = rotated.json()
    assert new["accessJwt"] != session["accessJwt"] and new["refreshJwt"] != session["refreshJwt"]
    reused = await c.post(path, headers=auth(session, "refreshJwt"))
    assert reused.status_code == 400
    assert reused.json() == {"error": "ExpiredToken", "message": "Token has been revoked"}
    assert (await c.post(path, headers=auth(new, "refreshJwt"))).status_code == 200
    # An access JWT is not a refresh JWT, and the other way round.
    wrong = await c.post(path, headers=auth(new))
    assert wrong.status_code == 400 and wrong.json()["error"] == "InvalidToken"
    me = await c.get("/xrpc/com.atproto.server.getSession", headers=auth(new, "refreshJwt"))
    assert me.status_code == 400 and me.json()["error"] == "InvalidToken"


async def test_access_jwt_errors(c: httpx.AsyncClient, clock: sg.FakeClock) -> None:
    session = await login(c)
    path = "/xrpc/com.atproto.server.getSession"
    ok = await c.get(path, headers=auth(session))
    assert ok.status_code == 200 and ok.json()["handle"] == DEMO and "accessJwt" not in ok.json()
    none = await c.get(path)
    assert none.status_code == 401 and none.json()["error"] == "AuthenticationRequired"
    forged = session["accessJwt"][:-4] + "AAAA"
    bad = await c.get(path, headers={"Authorization": f"Bearer {forged}"})
    assert bad.status_code == 401 and bad.json()["error"] == "InvalidToken"
    clock.advance(7201)
    expired = await c.get(path, headers=auth(session))
    assert expired.status_code == 400
    assert expired.json() == {"error": "ExpiredToken", "message": "Token has expired"}


async def test_ratelimit_headers_on_every_answer(c: httpx.AsyncClient, clock: sg.FakeClock) -> None:
    first = await c.get("/xrpc/app.bsky.actor.getProfile", params={"actor": DEMO})
    second = await c.get("/xrpc/app.bsky.actor.getProfile", params={"actor": "nobody.bsky.social"})
    assert first.headers["ratelimit-limit"] == "3000"
    assert first.headers["ratelimit-policy"] == "3000;w=300"
    assert first.headers["ratelimit-reset"] == str(int(clock.time()) + 300)  # epoch seconds
    assert int(first.headers["ratelimit-remaining"]) - 1 == int(
        second.headers["ratelimit-remaining"]
    )
    assert second.status_code == 400 and second.json()["message"] == "Profile not found"
    unknown = await c.get("/xrpc/app.bsky.nothing.here")
    assert unknown.status_code == 404 and unknown.json()["error"] == "MethodNotImplemented"


async def test_create_session_limit_30_per_5_minutes(
    c: httpx.AsyncClient, clock: sg.FakeClock
) -> None:
    for _ in range(30):
        await login(c)
    refused = await c.post(
        "/xrpc/com.atproto.server.createSession", json={"identifier": DEMO, "password": PASSWORD}
    )
    assert refused.status_code == 429
    assert refused.json() == {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
    assert refused.headers["ratelimit-policy"] == "30;w=300"
    assert refused.headers["ratelimit-remaining"] == "0"
    assert refused.headers["retry-after"] == "300"
    # The window passes on the sandbox clock.
    clock.advance(300)
    await login(c)


async def test_global_limit_and_time_scale(clock: sg.FakeClock) -> None:
    app = bsky_app(clock, time_scale=60)
    async with wire(app) as c:
        for _ in range(3000):
            response = await c.get(
                "/xrpc/com.atproto.identity.resolveHandle", params={"handle": DEMO}
            )
        assert response.status_code == 200 and response.headers["ratelimit-remaining"] == "0"
        refused = await c.get("/xrpc/com.atproto.identity.resolveHandle", params={"handle": DEMO})
        assert refused.status_code == 429 and refused.headers["ratelimit-policy"] == "3000;w=300"
        clock.advance(5)  # 300 s of network time at time_scale=60
        again = await c.get("/xrpc/com.atproto.identity.resolveHandle", params={"handle": DEMO})
        assert again.status_code == 200


async def test_write_points_limit(clock: sg.FakeClock) -> None:
    app = bsky_app(clock)
    async with wire(app) as c:
        session = await login(c)
        emulator = app.mounts["bluesky"].app
        # Spend all but 2 of the hour's 5000 points (as 4998 deletes of nothing would).
        emulator.ctx.limiter.hit(("bluesky", "repo.write.hour", session["did"]), 5000, 3600, 4998)
        record = {"$type": "app.bsky.feed.post", "text": "hi", "createdAt": "2024-01-01T00:00:00Z"}
        payload = {"repo": session["did"], "collection": "app.bsky.feed.post", "record": record}
        refused = await c.post(
            "/pds/xrpc/com.atproto.repo.createRecord", json=payload, headers=auth(session)
        )
        assert refused.status_code == 429 and refused.json()["error"] == "RateLimitExceeded"
        assert refused.headers["ratelimit-policy"] == "5000;w=3600"
        assert refused.headers["ratelimit-remaining"] == "2"
        deleted = await c.post(
            "/pds/xrpc/com.atproto.repo.deleteRecord",
            json={
                "repo": session["did"],
                "collection": "app.bsky.feed.post",
                "rkey": "3aaaaaaaaaaaa",
            },
            headers=auth(session),
        )
        assert deleted.status_code == 200 and deleted.json() == {}  # nothing to delete, 1 point


async def test_records_are_stateful(c: httpx.AsyncClient, app: SandboxApp) -> None:
    session = await login(c)
    headers = auth(session)
    blob_bytes = b"\x89PNG fake image"
    uploaded = await c.post(
        "/pds/xrpc/com.atproto.repo.uploadBlob",
        content=blob_bytes,
        headers={**headers, "Content-Type": "image/png"},
    )
    blob = uploaded.json()["blob"]
    assert blob["$type"] == "blob" and blob["mimeType"] == "image/png"
    assert blob["size"] == len(blob_bytes) and blob["ref"]["$link"].startswith("bafkrei")
    feed = (
        await c.get("/pds/xrpc/app.bsky.feed.getAuthorFeed", params={"actor": DEMO, "limit": 1})
    ).json()
    parent = feed["feed"][0]["post"]
    text = "héllo 🦋 @sandbox-demo.bsky.social"
    record = {
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": "2023-11-14T22:13:20.000Z",
        "facets": [
            {
                "index": {"byteStart": 12, "byteEnd": 37},
                "features": [{"$type": "app.bsky.richtext.facet#mention", "did": session["did"]}],
            }
        ],
        "reply": {
            "root": {"uri": parent["uri"], "cid": parent["cid"]},
            "parent": {"uri": parent["uri"], "cid": parent["cid"]},
        },
        "embed": {"$type": "app.bsky.embed.images", "images": [{"image": blob, "alt": "alt text"}]},
    }
    created = await c.post(
        "/pds/xrpc/com.atproto.repo.createRecord",
        json={"repo": DEMO, "collection": "app.bsky.feed.post", "record": record},
        headers=headers,
    )
    assert created.status_code == 200, created.text
    answer = created.json()
    assert set(answer) == {"uri", "cid", "commit", "validationStatus"}
    uri = answer["uri"]
    got = (await c.get("/pds/xrpc/app.bsky.feed.getPosts", params={"uris": [uri]})).json()
    view = got["posts"][0]
    assert view["record"] == record and view["embed"]["images"][0]["alt"] == "alt text"
    thread = (
        await c.get("/pds/xrpc/app.bsky.feed.getPostThread", params={"uri": parent["uri"]})
    ).json()["thread"]
    assert uri in [r["post"]["uri"] for r in thread["replies"]]
    newest = (
        await c.get("/pds/xrpc/app.bsky.feed.getAuthorFeed", params={"actor": DEMO, "limit": 1})
    ).json()
    assert newest["feed"][0]["post"]["uri"] == uri
    assert newest["feed"][0]["reply"]["parent"]["uri"] == parent["uri"]
    assert app.stats.snapshot()["networks"]["bluesky"]["writes"] == {
        "media.upload": 1,
        "posts.create": 1,
    }

    rkey = uri.rsplit("/", 1)[1]
    gone = await c.post(
        "/pds/xrpc/com.atproto.repo.deleteRecord",
        json={"repo": session["did"], "collection": "app.bsky.feed.post", "rkey": rkey},
        headers=headers,
    )
    assert gone.status_code == 200 and set(gone.json()["commit"]) == {"cid", "rev"}
    assert (await c.get("/pds/xrpc/app.bsky.feed.getPosts", params={"uris": [uri]})).json() == {
        "posts": []
    }
    missing = await c.get("/pds/xrpc/app.bsky.feed.getPostThread", params={"uri": uri})
    assert missing.status_code == 400 and missing.json()["error"] == "NotFound"


async def test_create_record_validation(c: httpx.AsyncClient) -> None:
    session = await login(c)

    async def create(record: dict[str, Any]) -> httpx.Response:
        return await c.post(
            "/pds/xrpc/com.atproto.repo.createRecord",
            json={"repo": session["did"], "collection": "app.bsky.feed.post", "record": record},
            headers=auth(session),
        )

    base = {"$type": "app.bsky.feed.post", "createdAt": "2024-01-01T00:00:00.000Z"}
    too_long = await create({**base, "text": "x" * 301})
    assert too_long.status_code == 400
    assert too_long.json() == {
        "error": "InvalidRequest",
        "message": "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 "
        "graphemes",
    }
    # 300 emoji with skin tones are 300 graphemes (and 2400 bytes): accepted.
    assert (await create({**base, "text": "👍🏽" * 300})).status_code == 200
    no_date = await create({"$type": "app.bsky.feed.post", "text": "x"})
    assert no_date.status_code == 400 and "createdAt" in no_date.json()["message"]
    blob = {
        "$type": "blob",
        "ref": {"$link": "bafkreinotuploaded"},
        "mimeType": "image/png",
        "size": 1,
    }
    images = {"$type": "app.bsky.embed.images", "images": [{"image": blob, "alt": ""}]}
    unknown_blob = await create({**base, "text": "x", "embed": images})
    assert (
        unknown_blob.status_code == 400 and "Could not find blob" in unknown_blob.json()["message"]
    )
    other = await c.post(
        "/pds/xrpc/com.atproto.repo.createRecord",
        json={"repo": "1", "collection": "app.bsky.feed.post", "record": {**base, "text": "x"}},
        headers=auth(session),
    )
    assert other.status_code == 400


async def test_pagination_and_determinism(clock: sg.FakeClock) -> None:
    bodies = []
    for _ in range(2):
        async with wire(bsky_app(clock)) as c:
            first = (
                await c.get(
                    "/xrpc/app.bsky.feed.getAuthorFeed", params={"actor": DEMO, "limit": 30}
                )
            ).json()
            second = (
                await c.get(
                    "/xrpc/app.bsky.feed.getAuthorFeed",
                    params={"actor": DEMO, "limit": 30, "cursor": first["cursor"]},
                )
            ).json()
            bodies.append((first, second))
    assert bodies[0] == bodies[1]
    first, second = bodies[0]
    uris = [i["post"]["uri"] for i in first["feed"] + second["feed"]]
    assert len(uris) == 50 == len(set(uris))  # the demo account has 50 posts, no repeats
    times = [i["post"]["indexedAt"] for i in first["feed"] + second["feed"]]
    assert times == sorted(times, reverse=True)
    assert "cursor" not in second


async def test_storm_and_error_faults_use_xrpc_bodies(
    c: httpx.AsyncClient, app: SandboxApp
) -> None:
    app.faults.configure({"rate_limit_storm": 1.0})
    storm = await c.get("/xrpc/app.bsky.actor.getProfile", params={"actor": DEMO})
    assert storm.status_code == 429 and storm.json()["error"] == "RateLimitExceeded"
    assert storm.headers["ratelimit-remaining"] == "0"
    app.faults.configure({"rate_limit_storm": 0.0, "error_rate": 1.0, "error_status": 502})
    failed = await c.get("/xrpc/app.bsky.actor.getProfile", params={"actor": DEMO})
    assert failed.status_code == 502 and failed.json()["error"] == "InternalServerError"
    assert "ratelimit-limit" in failed.headers
