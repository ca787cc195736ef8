"""The X emulator's OAuth 2.0 (code + PKCE, rotating refresh tokens) and media upload v2."""

from __future__ import annotations

import base64
import hashlib
import struct
from urllib.parse import parse_qs, urlsplit

import httpx

import socialgate as sg
from socialgate.sandbox import SandboxApp

from .conftest import USER, x_client

REDIRECT = "https://app.example/callback"
VERIFIER = "v" * 64
CHALLENGE = (
    base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).decode().rstrip("=")
)


def basic(client_id: str = "client-1", secret: str = "s3cret") -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


async def authorize(x: httpx.AsyncClient, **extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": "client-1",
        "redirect_uri": REDIRECT,
        "scope": "tweet.read users.read offline.access",
        "state": "st4te",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        **extra,
    }
    response = await x.get("/i/oauth2/authorize", params=params)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["st4te"]
    return query["code"][0]


async def exchange(x: httpx.AsyncClient, code: str, verifier: str = VERIFIER) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    return await x.post("/2/oauth2/token", data=form, headers=basic())


async def test_code_flow_with_pkce(app: SandboxApp) -> None:
    async with x_client(app, headers={}) as x:
        code = await authorize(x)
        wrong = await exchange(x, code, verifier="w" * 64)
        assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_request"
        assert (await exchange(x, code)).json()["error"] == "invalid_grant"  # codes work once
        token = (await exchange(x, await authorize(x))).json()
        assert token["token_type"] == "bearer" and token["expires_in"] == 7200
        assert set(token["scope"].split()) == {"tweet.read", "users.read", "offline.access"}
        me = await x.get(
            "/2/users/me", headers={"Authorization": f"Bearer {token['access_token']}"}
        )
        assert me.json()["data"]["username"] == "sandbox_demo"
        other = (await exchange(x, await authorize(x, sandbox_user="1"))).json()
        headers = {"Authorization": f"Bearer {other['access_token']}"}
        assert (await x.get("/2/users/me", headers=headers)).json()["data"]["username"] != (
            "sandbox_demo"
        )
        # A confidential client keeps its secret; a public client sends client_id only.
        form = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
        stolen = await x.post("/2/oauth2/token", data=form, headers=basic(secret="guess"))
        assert stolen.status_code == 401 and stolen.json()["error"] == "unauthorized_client"
        public = await x.post("/2/oauth2/token", data={**form, "client_id": "client-1"})
        assert public.status_code == 401


async def test_refresh_tokens_rotate_and_are_single_use(
    app: SandboxApp, clock: sg.FakeClock
) -> None:
    async with x_client(app, headers={}) as x:
        first = (await exchange(x, await authorize(x))).json()
        form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
        second = (await x.post("/2/oauth2/token", data=form, headers=basic())).json()
        assert second["refresh_token"] != first["refresh_token"]
        assert second["access_token"] != first["access_token"]
        reused = await x.post("/2/oauth2/token", data=form, headers=basic())
        assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
        form["refresh_token"] = second["refresh_token"]
        third = await x.post("/2/oauth2/token", data=form, headers=basic())
        assert third.status_code == 200
        access = {"Authorization": f"Bearer {third.json()['access_token']}"}
        assert (await x.get("/2/users/me", headers=access)).status_code == 200
        clock.advance(7_200)
        assert (await x.get("/2/users/me", headers=access)).status_code == 401
        no_offline = await exchange(x, await authorize(x, scope="tweet.read users.read"))
        assert "refresh_token" not in no_offline.json()


def png(width: int, height: int, size: int) -> bytes:
    head = b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + struct.pack(">II", width, height)
    return head + b"\0" * (size - len(head))


async def upload(x: httpx.AsyncClient, data: bytes, media_type: str) -> tuple[str, dict]:
    init = await x.post(
        "/2/media/upload/initialize",
        json={"media_type": media_type, "total_bytes": len(data), "media_category": "tweet_image"},
    )
    assert init.status_code == 200, init.text
    media_id = init.json()["data"]["id"]
    assert init.json()["data"]["media_key"].endswith("_" + media_id)
    half = len(data) // 2
    for index, chunk in enumerate((data[:half], data[half:])):
        appended = await x.post(
            f"/2/media/upload/{media_id}/append",
            data={"segment_index": str(index)},
            files={"media": ("blob", chunk, media_type)},
        )
        assert appended.status_code == 200 and "expires_at" in appended.json()["data"]
    final = await x.post(f"/2/media/upload/{media_id}/finalize")
    assert final.status_code == 200, final.text
    return media_id, final.json()["data"]


async def test_media_upload_then_post(x: httpx.AsyncClient, clock: sg.FakeClock) -> None:
    image_id, image = await upload(x, png(640, 480, 3_000), "image/png")
    assert image["image"] == {"image_type": "image/png", "w": 640, "h": 480}
    assert "processing_info" not in image and image["size"] == 3_000
    meta = await x.post(
        "/2/media/metadata",
        json={"id": image_id, "metadata": {"alt_text": {"text": "a test card"}}},
    )
    assert meta.json()["data"]["id"] == image_id

    video_id, video = await upload(x, b"\0" * 10_000, "video/mp4")
    assert video["processing_info"] == {
        "state": "pending",
        "check_after_secs": 1,
        "progress_percent": 0,
    }
    early = await x.post("/2/tweets", json={"text": "too soon", "media": {"media_ids": [video_id]}})
    assert early.status_code == 400 and "media IDs are invalid" in early.text
    states = []
    for _ in range(3):
        status = await x.get("/2/media/upload", params={"command": "STATUS", "media_id": video_id})
        states.append(status.json()["data"]["processing_info"]["state"])
        clock.advance(1)
    assert states == ["pending", "in_progress", "succeeded"]

    created = await x.post(
        "/2/tweets", json={"text": "with media", "media": {"media_ids": [image_id, video_id]}}
    )
    assert created.status_code == 201, created.text
    params = {"expansions": "attachments.media_keys", "media.fields": "alt_text,width,url"}
    got = (await x.get(f"/2/tweets/{created.json()['data']['id']}", params=params)).json()
    media = {m["type"]: m for m in got["includes"]["media"]}
    assert media["photo"]["alt_text"] == "a test card" and media["photo"]["width"] == 640
    assert set(media) == {"photo", "video"}


async def test_media_upload_errors(app: SandboxApp) -> None:
    async with x_client(app) as x:
        bad_type = await x.post(
            "/2/media/upload/initialize", json={"media_type": "text/plain", "total_bytes": 3}
        )
        assert bad_type.status_code == 400
        init = await x.post(
            "/2/media/upload/initialize", json={"media_type": "image/png", "total_bytes": 10}
        )
        media_id = init.json()["data"]["id"]
        await x.post(
            f"/2/media/upload/{media_id}/append",
            data={"segment_index": "0"},
            files={"media": ("b", b"12345", "image/png")},
        )
        mismatch = await x.post(f"/2/media/upload/{media_id}/finalize")
        assert mismatch.status_code == 400 and "File size mismatch" in mismatch.text
    async with x_client(app, headers={**USER, "Authorization": "Bearer sandbox-app-a"}) as app_only:
        refused = await app_only.post("/2/media/upload/initialize", json={})
        assert refused.status_code == 403
