"""Writes on Reddit: the exact form bodies of /api/submit, /api/comment and /api/del, media
upload through the S3 lease, and body-level errors (RATELIMIT) in HTTP 200 answers."""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx

import socialgate as sg

from .conftest import API, TOKEN, MakeAccount, assert_no_secret, body, limits, replay

S3_IMAGES = "https://reddit-uploaded-media.s3-accelerate.amazonaws.com"
S3_VIDEOS = "https://reddit-uploaded-video.s3-accelerate.amazonaws.com"
# Reddit's body-level action limit, as the brief and praw's RedditAPIException tests show it
# (no recording of one exists in the fixtures): HTTP 200, errors in json.errors.
RATELIMIT = {
    "json": {
        "errors": [
            [
                "RATELIMIT",
                "Looks like you've been doing that a lot. Take a break for 5 minutes before "
                "trying again.",
                "ratelimit",
            ]
        ]
    }
}


def form(route: respx.Route, call: int = 0) -> dict[str, str]:
    raw = route.calls[call].request.content.decode()
    return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


# --- submissions -------------------------------------------------------------------------------


async def test_self_post_sends_exactly_what_reddit_expects(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    route = api.post(f"{API}/api/submit").mock(return_value=replay("submit_self"))
    post = await acct.posts.create(
        sg.Draft(text="Test text.", options={"subreddit": "r/TestSub", "title": "Test Title"})
    )
    assert form(route) == {
        "api_type": "json",
        "sr": "TestSub",
        "title": "Test Title",
        "kind": "self",
        "text": "Test text.",
        "nsfw": "false",
        "spoiler": "false",
        "sendreplies": "true",
        "resubmit": "true",
    }
    assert route.calls[0].request.url.params["raw_json"] == "1"
    assert post.id == "t3_hn86kr"
    assert post.url == "https://www.reddit.com/r/<TEST_SUBREDDIT>/comments/hn86kr/test_title/"
    assert post.text == "Test Title\n\nTest text."  # read back as the mapping does
    assert post.conversation_id == "t3_hn86kr"
    assert post.title == "Test Title"  # type: ignore[attr-defined]
    assert post.raw == body("submit_self")["json"]["data"]


async def test_title_comes_from_the_first_line(api: respx.MockRouter, acct: sg.Account) -> None:
    route = api.post(f"{API}/api/submit").mock(return_value=replay("submit_self"))
    await acct.posts.create(
        sg.Draft(text="Release 2.0\n\nWhat changed:\n- faster", options={"subreddit": "x"})
    )
    sent = form(route)
    assert sent["title"] == "Release 2.0"
    assert sent["text"] == "What changed:\n- faster"


async def test_link_post(api: respx.MockRouter, acct: sg.Account) -> None:
    route = api.post(f"{API}/api/submit").mock(return_value=replay("submit_link"))
    post = await acct.posts.create(
        sg.Draft(
            options={
                "subreddit": "TestSub",
                "title": "A link",
                "url": "https://praw.readthedocs.io",
                "nsfw": True,
                "flair_id": "abc",
            }
        )
    )
    sent = form(route)
    assert (sent["kind"], sent["url"], sent["nsfw"], sent["flair_id"]) == (
        "link",
        "https://praw.readthedocs.io",
        "true",
        "abc",
    )
    assert "text" not in sent
    assert post.id == "t3_" + body("submit_link")["json"]["data"]["id"]


async def test_submission_without_subreddit_is_refused_before_sending(acct: sg.Account) -> None:
    with pytest.raises(sg.BadRequest, match="subreddit"):
        await acct.posts.create(sg.Draft(text="hello"))
    with pytest.raises(sg.BadRequest, match="title"):
        await acct.posts.create(sg.Draft(text="", options={"subreddit": "x"}))
    with pytest.raises(sg.BadRequest, match="does not take Draft options"):
        await acct.posts.create(sg.Draft(text="t", options={"subreddit": "x", "poll": 1}))


async def test_api_errors_in_a_200_answer(api: respx.MockRouter, acct: sg.Account) -> None:
    api.post(f"{API}/api/submit").respond(
        200,
        json={"json": {"errors": [["SUBREDDIT_NOEXIST", "that subreddit doesn't exist", "sr"]]}},
    )
    with pytest.raises(sg.NotFound) as info:
        await acct.posts.create(sg.Draft(text="t", options={"subreddit": "nope"}))
    assert (info.value.code, info.value.status) == ("SUBREDDIT_NOEXIST", 200)
    assert "that subreddit doesn't exist (field 'sr')" in str(info.value)
    assert_no_secret(info.value)


# --- comments and delete ------------------------------------------------------------------------


async def test_comment_reply(api: respx.MockRouter, acct: sg.Account) -> None:
    route = api.post(f"{API}/api/comment").mock(return_value=replay("comment_reply"))
    post = await acct.posts.create(sg.Draft(text="Comment reply", reply_to_id="t1_fx1ec2p"))
    assert form(route) == {"api_type": "json", "thing_id": "t1_fx1ec2p", "text": "Comment reply"}
    data = body("comment_reply")["json"]["data"]["things"][0]["data"]
    assert post.id == "t1_fx1ie8s"
    assert post.author_id == "t2_3ebyblla"
    assert post.text == "Comment reply"
    assert post.reply_to_id == "t1_fx1ec2p"
    assert post.conversation_id == "t3_gx8r8z"
    assert post.url == "https://www.reddit.com/r/Lil_SpazJoekp/comments/gx8r8z/test/fx1ie8s/"
    assert post.metrics.likes == 1
    assert post.raw == data


async def test_delete(api: respx.MockRouter, acct: sg.Account) -> None:
    route = api.post(f"{API}/api/del").mock(return_value=replay("delete"))
    await acct.posts.delete("t3_hmkbt8")
    assert form(route) == {"id": "t3_hmkbt8"}


async def test_delete_is_retried_after_a_server_error(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    route = api.post(f"{API}/api/del").mock(
        side_effect=[httpx.Response(503, json={"error": 503}), replay("delete")]
    )
    await acct.posts.delete("hmkbt8")  # deleting twice is harmless, so it is retried
    assert route.call_count == 2 and form(route, 1) == {"id": "t3_hmkbt8"}


async def test_submit_is_not_retried_after_a_server_error(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    route = api.post(f"{API}/api/submit").respond(502, json={"error": 502})
    with pytest.raises(sg.ServerError) as info:
        await acct.posts.create(sg.Draft(text="t", options={"subreddit": "x"}))
    assert route.call_count == 1 and info.value.outcome_unknown


# --- RATELIMIT ------------------------------------------------------------------------------------


async def test_ratelimit_body_raises_and_holds_only_this_users_actions(
    api: respx.MockRouter, make_account: MakeAccount, fake_clock: sg.FakeClock
) -> None:
    submit = api.post(f"{API}/api/submit").mock(
        side_effect=[httpx.Response(200, json=RATELIMIT), replay("submit_self")]
    )
    me = api.get(f"{API}/api/v1/me").mock(return_value=replay("me"))
    client_options: dict[str, Any] = {}
    alice = await make_account(**client_options)
    bob = alice.client.account("reddit", sg.OAuth2Token("bob-token-123456"), app=alice.app)
    draft = sg.Draft(text="t", options={"subreddit": "x"})
    with pytest.raises(sg.RateLimited) as info:
        await alice.posts.create(draft)
    err = info.value
    assert (err.code, err.status, err.scope, err.bucket) == ("RATELIMIT", 200, "window", "actions")
    assert err.retry_after == 300  # "Take a break for 5 minutes"
    assert err.reset_at is not None
    assert_no_secret(err)
    # Reads of the app (another user, the same client id) are not held.
    await bob.profiles.me()
    assert me.called and [s for s in fake_clock.sleeps if s > 0] == []
    # Alice's next action waits for the hold, then goes.
    await alice.posts.create(draft)
    waited = [s for s in fake_clock.sleeps if s > 0]
    assert submit.call_count == 2 and len(waited) == 1 and waited[0] >= 300


async def test_ratelimit_seconds_from_the_json_ratelimit_field(
    api: respx.MockRouter, make_account: MakeAccount
) -> None:
    answer = copy.deepcopy(RATELIMIT)
    answer["json"]["ratelimit"] = 531.2
    api.post(f"{API}/api/comment").respond(200, json=answer)
    acct = await make_account(on_rate_limit="raise")
    with pytest.raises(sg.RateLimited) as info:
        await acct.posts.create(sg.Draft(text="hi", reply_to_id="t3_abc"))
    assert info.value.retry_after == pytest.approx(531.2)


async def test_ratelimit_hold_outlasts_a_sooner_window_reset(
    api: respx.MockRouter, make_account: MakeAccount, fake_clock: sg.FakeClock
) -> None:
    api.post(f"{API}/api/submit").mock(
        side_effect=[
            httpx.Response(200, json=RATELIMIT, headers=limits(599.0, 1, 15)),
            replay("submit_self"),
        ]
    )
    acct = await make_account()
    draft = sg.Draft(text="t", options={"subreddit": "x"})
    with pytest.raises(sg.RateLimited):
        await acct.posts.create(draft)
    await acct.posts.create(draft)
    assert sum(fake_clock.sleeps) >= 300


# --- media ----------------------------------------------------------------------------------------


def _multipart_names(request: httpx.Request) -> list[str]:
    content = request.content.decode("latin-1")
    parts = content.split("Content-Disposition: form-data; name=")[1:]
    return [part.split('"', 2)[1] for part in parts]


async def test_image_upload_and_post(api: respx.MockRouter, acct: sg.Account) -> None:
    lease = api.post(f"{API}/api/media/asset.json").mock(return_value=replay("media_asset_image"))
    s3 = api.post(S3_IMAGES).mock(return_value=replay("s3_upload_image"))
    submit = api.post(f"{API}/api/submit").mock(return_value=replay("submit_image"))
    api.get(f"{API}/api/v1/me").mock(return_value=replay("me"))
    posted = {"kind": "Listing", "data": {"children": body("comments_image_post")[0]["data"][
        "children"], "after": None, "before": None}}  # fmt: skip
    submitted = api.get(f"{API}/user/Lil_SpazJoekp/submitted").mock(
        side_effect=[
            httpx.Response(200, json={"kind": "Listing", "data": {"children": []}}),
            httpx.Response(200, json=posted),
        ]
    )
    media = await acct.media.upload(b"\x89PNG fake", mime_type="image/png", filename="test.png")
    assert form(lease) == {"api_type": "json", "filepath": "test.png", "mimetype": "image/png"}
    upload = s3.calls[0].request
    assert "Authorization" not in upload.headers  # the Reddit token never goes to S3
    names = _multipart_names(upload)
    lease_fields = [f["name"] for f in body("media_asset_image")["args"]["fields"]]
    assert names == [*lease_fields, "file"]  # S3 wants the file last
    assert media.id == "vhu529qqcxtf1" and media.kind == "image"
    assert media.url == f"{S3_IMAGES}/vhu529qqcxtf1"

    post = await acct.posts.create(
        sg.Draft(
            text="Testing **Async PRAW** image submission *with markdown selftext*.",
            media=[media],
            options={"subreddit": "TestSub", "title": "Testing image"},
        )
    )
    sent = form(submit)
    assert (sent["kind"], sent["url"]) == ("image", f"{S3_IMAGES}/vhu529qqcxtf1")
    assert sent["text"].startswith("Testing **Async PRAW**")
    # Reddit names no id for media posts: the adapter found it in the author's submissions.
    assert post.id == "t3_1o1hb24" and post.media[0].id == "vhu529qqcxtf1"
    assert submitted.call_count == 2
    assert params_of(submitted)["sort"] == "new"


def params_of(route: respx.Route) -> httpx.QueryParams:
    return route.calls[0].request.url.params


async def test_gallery_post(api: respx.MockRouter, acct: sg.Account) -> None:
    first = sg.Media(id="6bf0mtoy9od51", kind="image", url=f"{S3_IMAGES}/a", alt_text="one")
    second = sg.Media(id="se8zauqy9od51", kind="image", url=f"{S3_IMAGES}/b")
    route = api.post(f"{API}/api/submit_gallery_post.json").mock(
        return_value=replay("submit_gallery")
    )
    post = await acct.posts.create(
        sg.Draft(text="Test Title", media=[first, second], options={"subreddit": "TestSub"})
    )
    payload = json.loads(route.calls[0].request.content)
    assert payload["items"] == [
        {"media_id": "6bf0mtoy9od51", "caption": "one", "outbound_url": ""},
        {"media_id": "se8zauqy9od51", "caption": "", "outbound_url": ""},
    ]
    assert (payload["sr"], payload["title"]) == ("TestSub", "Test Title")
    assert payload["api_type"] == "json"
    assert payload["nsfw"] is False and payload["sendreplies"] is True
    assert post.id == "t3_hzobai"
    assert post.url == "https://www.reddit.com/r/<TEST_SUBREDDIT>/comments/hzobai/test_title/"


async def test_video_needs_a_poster(acct: sg.Account) -> None:
    video = sg.Media(id="v", kind="video", url=f"{S3_VIDEOS}/v")
    with pytest.raises(sg.BadRequest, match="poster"):
        await acct.posts.create(sg.Draft(text="t", media=[video], options={"subreddit": "x"}))


async def test_video_post_sends_the_poster(api: respx.MockRouter, acct: sg.Account) -> None:
    video = sg.Media(id="2q24axzffyd61", kind="video", url=f"{S3_VIDEOS}/2q24axzffyd61")
    poster = sg.Media(id="egd7qq1gfyd61", kind="image", url=f"{S3_IMAGES}/rte_images/egd7qq1gfyd61")
    submit = api.post(f"{API}/api/submit").mock(return_value=replay("submit_video"))
    api.get(f"{API}/api/v1/me").mock(return_value=replay("me"))
    listing = copy.deepcopy(body("comments_video_post")[0])
    listing["data"]["children"][0]["data"]["created_utc"] = 1_700_000_000.0
    api.get(f"{API}/user/Lil_SpazJoekp/submitted").respond(200, json=listing)
    post = await acct.posts.create(
        sg.Draft(
            text="Test Title", media=[video, poster], options={"subreddit": "<TEST_SUBREDDIT>"}
        )
    )
    sent = form(submit)
    assert (sent["kind"], sent["url"], sent["video_poster_url"]) == (
        "video",
        video.url,
        poster.url,
    )
    # Reddit re-hosts the video under another id; title, subreddit and time identify it.
    assert post.id == "t3_l6g771"


async def test_error_texts_never_carry_the_token(api: respx.MockRouter, acct: sg.Account) -> None:
    api.post(f"{API}/api/comment").respond(
        403, json={"message": "Forbidden", "error": 403, "echo": f"bearer {TOKEN}"}
    )
    with pytest.raises(sg.PermissionDenied) as info:
        await acct.posts.create(sg.Draft(text="x", reply_to_id="t1_a"))
    assert_no_secret(info.value)
