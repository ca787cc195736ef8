"""Fidelity of the Reddit emulator, checked against payloads praw-dev/asyncpraw and
asyncprawcore recorded against the real oauth.reddit.com and www.reddit.com (copied under
tests/fixtures/reddit/; no official schema exists). For each case the emulator's answer to the
same request has the same keys, recursively, with the same JSON types wherever both sides are
non-null, apart from the differences named in the case: fields Reddit added after a recording
(``LATER``), fields only a moderator of the subreddit sees (``MOD_ONLY``), and keys an old
recording lacks.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import socialgate as sg
from socialgate.sandbox import SandboxApp, create_app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "reddit"
USER = {"Authorization": "Bearer sandbox-user-demo"}
BASIC = httpx.BasicAuth("fidelity-app", "fidelity-secret")
# Seen by moderators only (the recordings' account moderated its test subreddit).
MOD_ONLY = {"approved", "removed", "spam", "ignore_reports", "can_mod_post"}
# Added by Reddit after the 2020 recordings.
LATER = {
    "author_is_blocked",
    "is_created_from_ads_ui",
    "geo_filter",
    "thumbnail_height",
    "thumbnail_width",
    "rte_mode",
}


def recorded(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def _type(value: Any) -> str:
    return {
        bool: "bool",
        int: "number",
        float: "number",
        str: "str",
        list: "list",
        dict: "dict",
    }.get(type(value), "null")


def compare(
    real: Any, ours: Any, path: str = "$", allow: frozenset[str] = frozenset()
) -> list[str]:
    """Differences in keys and non-null types between a recorded and an emulated value."""
    problems: list[str] = []
    if real is None or ours is None:
        return problems
    if _type(real) != _type(ours):
        return [f"{path}: recorded {_type(real)}, emulated {_type(ours)}"]
    if isinstance(real, dict):
        for key in sorted(set(real) - set(ours) - allow):
            problems.append(f"{path}.{key}: missing")
        for key in sorted(set(ours) - set(real) - allow):
            problems.append(f"{path}.{key}: not in the recording")
        for key in set(real) & set(ours):
            problems += compare(real[key], ours[key], f"{path}.{key}", allow)
    elif isinstance(real, list) and real and ours:
        problems += compare(real[0], ours[0], f"{path}[0]", allow)
    return problems


@pytest.fixture
async def reddit() -> AsyncIterator[httpx.AsyncClient]:
    app: SandboxApp = create_app(networks=("reddit",), posts=3_000, clock=sg.FakeClock(), seed=7)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox/reddit", headers=USER
    ) as client:
        yield client


async def _post_with_comments(r: httpx.AsyncClient) -> tuple[str, Any]:
    listing = (await r.get("/search", params={"q": "the", "limit": 100, "sort": "new"})).json()
    for child in listing["data"]["children"]:
        if child["data"]["num_comments"] >= 3 and child["data"]["is_self"]:
            return child["data"]["id"], child
    raise AssertionError("no seeded post with comments")


async def _lease(r: httpx.AsyncClient, mime: str = "image/png") -> tuple[str, dict[str, Any]]:
    lease = (
        await r.post(
            "/api/media/asset.json",
            data={"api_type": "json", "filepath": "test.png", "mimetype": mime},
        )
    ).json()
    fields = {f["name"]: f["value"] for f in lease["args"]["fields"]}
    action = "http:" + lease["args"]["action"]
    return action, {"lease": lease, "fields": fields}


async def _upload(r: httpx.AsyncClient, mime: str = "image/png") -> tuple[str, httpx.Response]:
    action, info = await _lease(r, mime)
    response = await r.post(
        action, data=info["fields"], files={"file": ("f", b"data", mime)}, headers={}
    )
    return info["lease"]["asset"]["asset_id"], response


# -- cases: (recorded value, emulated value, allowed differences) ---------------------------------

Case = Callable[[httpx.AsyncClient], Awaitable[tuple[Any, Any, set[str]]]]


async def case_me(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    ours = (await r.get("/api/v1/me")).json()
    real = recorded("me")["body"]
    # Feature flags and paid-subscription fields differ per account and era.
    loose = {"features", "pref_geopopular", "gold_expiration", "new_modmail_exists"}
    return (
        {k: v for k, v in real.items() if k not in loose},
        {k: v for k, v in ours.items() if k not in loose},
        set(),
    )


async def case_about(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    return (
        recorded("user_about_spez")["body"],
        (await r.get("/user/sandbox_demo/about")).json(),
        set(),
    )


async def case_user_data(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    me = (await r.get("/api/v1/me")).json()
    ours = (await r.get("/api/user_data_by_account_ids", params={"ids": f"t2_{me['id']}"})).json()
    real = recorded("user_data_by_account_ids")["body"]
    return next(iter(real.values())), next(iter(ours.values())), set()


async def case_info_submission(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    post_id, _ = await _post_with_comments(r)
    ours = (await r.get("/api/info", params={"id": f"t3_{post_id}"})).json()
    return recorded("info_submission")["body"], ours, MOD_ONLY | {"geo_filter"}


async def case_info_comment(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    post_id, _ = await _post_with_comments(r)
    tree = (await r.get(f"/comments/{post_id}")).json()
    comment = tree[1]["data"]["children"][0]["data"]["name"]
    ours = (await r.get("/api/info", params={"id": comment})).json()
    return recorded("info_comment")["body"], ours, {"geo_filter"}


async def case_comment_tree(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    post_id, _ = await _post_with_comments(r)
    ours = (await r.get(f"/comments/{post_id}", params={"sort": "confidence"})).json()
    real = recorded("comments_simple")["body"]
    # Awards (gildings.gid_2) were retired in 2023 and are not emulated.
    return (
        real,
        ours,
        LATER | {"num_duplicates", "whitelist_status", "parent_whitelist_status", "gid_2"},
    )


async def case_more_stub(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    post_id, _ = await _post_with_comments(r)
    ours = (await r.get(f"/comments/{post_id}", params={"limit": 1})).json()
    stub = next(c for c in ours[1]["data"]["children"] if c["kind"] == "more")
    real = recorded("comments_with_more")["body"][1]["data"]["children"][0]["data"]["replies"]
    return real["data"]["children"][-1], stub, set()


async def case_morechildren(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    post_id, _ = await _post_with_comments(r)
    tree = (await r.get(f"/comments/{post_id}", params={"limit": 1})).json()
    stub = next(c for c in tree[1]["data"]["children"] if c["kind"] == "more")
    ours = (
        await r.get(
            "/api/morechildren",
            params={
                "link_id": f"t3_{post_id}",
                "children": ",".join(stub["data"]["children"]),
                "api_type": "json",
            },
        )
    ).json()
    # No recording of /api/morechildren exists; its things are tree comments (with depth).
    real_comment = recorded("comments_simple")["body"][1]["data"]["children"][0]
    real = {
        "json": {
            "errors": [],
            "data": {"things": [dict(real_comment, data=dict(real_comment["data"], replies=""))]},
        }
    }
    return real, ours, set()


async def case_mentions(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    return recorded("mentions")["body"], (await r.get("/message/mentions")).json(), set()


async def case_user_listing(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    ours = (await r.get("/user/sandbox_demo/submitted", params={"limit": 100})).json()
    # The recorded items are link posts (to i.redd.it images): compare with a link post.
    children = ours["data"]["children"]
    ours["data"]["children"] = [
        next(c for c in children if not c["data"]["is_self"] and "post_hint" not in c["data"])
    ]
    return recorded("user_downvoted")["body"], ours, LATER | {"num_duplicates"}


async def case_submit_self(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    ours = (
        await r.post(
            "/api/submit",
            data={"api_type": "json", "sr": "sandbox", "kind": "self", "title": "T", "text": "x"},
        )
    ).json()
    return recorded("submit_self")["body"], ours, set()


async def case_submit_link(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    ours = (
        await r.post(
            "/api/submit",
            data={
                "api_type": "json",
                "sr": "python",
                "kind": "link",
                "title": "T",
                "url": "https://a.example",
            },
        )
    ).json()
    return recorded("submit_link")["body"], ours, set()


async def case_comment(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    post_id, _ = await _post_with_comments(r)
    ours = (
        await r.post(
            "/api/comment",
            data={"api_type": "json", "thing_id": f"t3_{post_id}", "text": "Comment reply"},
        )
    ).json()
    return recorded("comment_reply")["body"], ours, MOD_ONLY


async def case_delete(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    made = (
        await r.post(
            "/api/submit", data={"api_type": "json", "sr": "sandbox", "kind": "self", "title": "T"}
        )
    ).json()
    ours = (await r.post("/api/del", data={"id": made["json"]["data"]["name"]})).json()
    return recorded("delete")["body"], ours, set()


async def case_media_lease(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    _, info = await _lease(r)
    real = recorded("media_asset_gallery")["body"]
    names = lambda body: sorted(f["name"] for f in body["args"]["fields"])  # noqa: E731
    assert names(real) == names(info["lease"])
    return real, info["lease"], set()


async def case_media_lease_video(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    action, info = await _lease(r, "video/mp4")
    real = recorded("media_asset_video")["body"]
    assert [f["name"] for f in real["args"]["fields"]] == list(info["fields"])
    assert action.endswith("/reddit-uploaded-video")
    return real, info["lease"], set()


async def case_empty_listing(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    ours = (await r.get("/search", params={"q": "qqqzzz nothing", "limit": 5})).json()
    assert ours["data"]["dist"] == 0
    return recorded("user_listing_empty")["body"], ours, {"geo_filter"}


async def case_s3_answer(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    return await _s3_case(r, "image/png", "s3_upload_image")


async def case_s3_answer_video(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    return await _s3_case(r, "video/mp4", "s3_upload_video")


async def _s3_case(r: httpx.AsyncClient, mime: str, name: str) -> tuple[Any, Any, set[str]]:
    _, response = await _upload(r, mime)
    real = recorded(name)
    tags = lambda text: [t.split(">")[0] for t in text.split("<")[2:] if not t.startswith("/")]  # noqa: E731
    assert response.status_code == real["status"] == 201
    assert tags(response.text) == tags(real["body"])
    return real["headers"]["content-type"], response.headers["content-type"], set()


async def case_submit_image(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    asset_id, _ = await _upload(r)
    ours = (
        await r.post(
            "/api/submit",
            data={
                "api_type": "json",
                "sr": "sandbox",
                "kind": "image",
                "title": "T",
                "url": f"https://reddit-uploaded-media.s3-accelerate.amazonaws.com/rte_images/{asset_id}",
            },
        )
    ).json()
    return recorded("submit_image")["body"], ours, set()


async def case_image_post(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    asset_id, _ = await _upload(r)
    await r.post(
        "/api/submit",
        data={
            "api_type": "json",
            "sr": "sandbox",
            "kind": "image",
            "title": "T",
            "url": f"https://x.example/rte_images/{asset_id}",
        },
    )
    ours = (await r.get("/user/sandbox_demo/submitted", params={"limit": 1})).json()
    real = recorded("comments_image_post")["body"][0]
    return (
        real,
        ours,
        MOD_ONLY
        | LATER
        | {
            "suggested_sort",
            "num_duplicates",
            "whitelist_status",
            "parent_whitelist_status",
            "author_is_blocked",
        },
    )


async def case_video_post(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    video, _ = await _upload(r, "video/mp4")
    poster, _ = await _upload(r)
    await r.post(
        "/api/submit",
        data={
            "api_type": "json",
            "sr": "sandbox",
            "kind": "video",
            "title": "T",
            "url": f"https://v.example/{video}",
            "video_poster_url": f"https://x/rte_images/{poster}",
        },
    )
    ours = (await r.get("/user/sandbox_demo/submitted", params={"limit": 1})).json()
    real = recorded("comments_video_post")["body"][0]
    # The recorded video's author deleted it, so Reddit dropped the author fields: compare
    # with ours deleted too. It also had a flair (link_flair_template_id).
    await r.post("/api/del", data={"id": ours["data"]["children"][0]["data"]["name"]})
    ours = await r.get("/api/info", params={"id": ours["data"]["children"][0]["data"]["name"]})
    return (
        real,
        ours.json(),
        MOD_ONLY
        | LATER
        | {
            "num_duplicates",
            "previous_visits",
            "post_hint",
            "whitelist_status",
            "parent_whitelist_status",
            "link_flair_template_id",
            "removed_by_category",
        },
    )


async def case_gallery(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    assets = [(await _upload(r))[0] for _ in range(2)]
    ours = (
        await r.post(
            "/api/submit_gallery_post.json",
            json={
                "api_type": "json",
                "sr": "sandbox",
                "title": "T",
                "items": [{"media_id": a, "caption": "c", "outbound_url": ""} for a in assets],
            },
        )
    ).json()
    return recorded("submit_gallery")["body"], ours, set()


async def case_gallery_post(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    assets = [(await _upload(r))[0] for _ in range(2)]
    await r.post(
        "/api/submit_gallery_post.json",
        json={
            "api_type": "json",
            "sr": "sandbox",
            "title": "T",
            "items": [{"media_id": a, "caption": "c"} for a in assets],
        },
    )
    ours = (await r.get("/user/sandbox_demo/submitted", params={"limit": 1})).json()
    real = recorded("comments_gallery_post")["body"][0]
    # The recording's first gallery item has no caption; the second has one, as ours do.
    real["data"]["children"][0]["data"]["gallery_data"]["items"] = real["data"]["children"][0][
        "data"
    ]["gallery_data"]["items"][1:]
    # media_metadata is keyed by asset id: compare its valid entries as a list.
    for body in (real, ours):
        data = body["data"]["children"][0]["data"]
        data["media_metadata"] = [
            m for m in data["media_metadata"].values() if m.get("status") == "valid"
        ]
    return (
        real,
        ours,
        MOD_ONLY
        | LATER
        | {
            "num_duplicates",
            "whitelist_status",
            "outbound_url",
            "parent_whitelist_status",
            "author_is_blocked",
        },
    )


async def _token(r: httpx.AsyncClient, **form: str) -> Any:
    return (await r.post("/api/v1/access_token", data=form, auth=BASIC)).json()


async def case_password_grant(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    ours = await _token(r, grant_type="password", username="sandbox_demo", password="pw")
    return recorded("token_password_grant")["body"], ours, set()


async def case_password_refused(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    ours = await _token(r, grant_type="password", username="sandbox_demo", password="wrong")
    return recorded("token_password_invalid_grant")["body"], ours, set()


async def case_client_credentials(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    ours = await _token(r, grant_type="client_credentials")
    return recorded("token_client_credentials")["body"], ours, set()


async def case_installed_client(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    ours = (
        await r.post(
            "/api/v1/access_token",
            auth=httpx.BasicAuth("installed", ""),
            data={
                "grant_type": "https://oauth.reddit.com/grants/installed_client",
                "device_id": "DO_NOT_TRACK_THIS_DEVICE",
            },
        )
    ).json()
    return recorded("token_installed_client")["body"], ours, set()


async def case_code_and_refresh(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    consent = await r.get(
        "/api/v1/authorize",
        params={
            "client_id": "fidelity-app",
            "response_type": "code",
            "state": "s",
            "redirect_uri": "http://cb/r",
            "duration": "permanent",
            "scope": "identity read",
        },
    )
    code = httpx.URL(consent.headers["location"]).params["code"]
    first = await _token(r, grant_type="authorization_code", code=code, redirect_uri="http://cb/r")
    ours = await _token(r, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert ours["refresh_token"] == first["refresh_token"]  # not rotated
    return recorded("token_refresh_2025")["body"], ours, set()


async def case_refresh_refused(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    response = await r.post(
        "/api/v1/access_token",
        auth=BASIC,
        data={"grant_type": "refresh_token", "refresh_token": "INVALID_TOKEN"},
    )
    real = recorded("token_refresh_invalid")
    assert response.status_code == real["status"] == 400
    return real["body"], response.json(), set()


async def case_forbidden(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    response = await r.get("/api/v1/me", headers={"Authorization": "Bearer sandbox-app-x"})
    real = recorded("error_403")
    assert response.status_code == real["status"] == 403
    return real["body"], response.json(), set()


async def case_invalid_token(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    response = await r.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
    real = recorded("invalid_token_401")
    assert response.status_code == real["status"]
    return real["headers"]["www-authenticate"], response.headers["www-authenticate"], set()


async def case_rate_headers(r: httpx.AsyncClient) -> tuple[Any, Any, set[str]]:
    response = await r.get("/api/v1/me")
    real = recorded("me")["headers"]
    names = ("x-ratelimit-remaining", "x-ratelimit-used", "x-ratelimit-reset")
    for name in names:
        assert ("." in real[name]) == ("." in response.headers[name]), name
        float(response.headers[name])
    return {n: real[n] for n in names}, {n: response.headers[n] for n in names}, set()


CASES: dict[str, Case] = {
    name.removeprefix("case_"): fn
    for name, fn in dict(globals()).items()
    if name.startswith("case_")
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_emulator_matches_the_recordings(reddit: httpx.AsyncClient, case: str) -> None:
    real, ours, allow = await CASES[case](reddit)
    assert compare(real, ours, allow=frozenset(allow)) == []
