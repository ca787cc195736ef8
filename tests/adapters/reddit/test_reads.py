"""The Reddit adapter's reads through ``sg.Client``, with respx replaying recorded answers:
profiles, posts, listings with after/before cursors, search, comment trees and mentions."""

from __future__ import annotations

import copy
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

import socialgate as sg

from .conftest import API, TOKEN, USER_AGENT, assert_no_secret, body, replay


def params(route: respx.Route, call: int = 0) -> httpx.QueryParams:
    return route.calls[call].request.url.params


# --- profiles ------------------------------------------------------------------------------


async def test_profiles_me(api: respx.MockRouter, acct: sg.Account) -> None:
    route = api.get(f"{API}/api/v1/me").mock(return_value=replay("me"))
    me = await acct.profiles.me()
    assert (me.id, me.handle, me.followers_count) == ("t2_o77bz", "Lil_SpazJoekp", 23)
    sent = route.calls[0].request
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["User-Agent"] == USER_AGENT
    assert params(route)["raw_json"] == "1"
    # The recorded X-Ratelimit-* headers were read: 158 used + 442.0 left of 600.
    info = acct.rate_limits["default"]
    assert (info.limit, info.remaining) == (600, 442)


@pytest.mark.parametrize("handle", ["spez", "u/spez", "/u/spez", "@spez"])
async def test_profiles_get_by_name(api: respx.MockRouter, acct: sg.Account, handle: str) -> None:
    api.get(f"{API}/user/spez/about").mock(return_value=replay("user_about_spez"))
    profile = await acct.profiles.get(handle)
    assert (profile.id, profile.handle, profile.description) == ("t2_1w72", "spez", "Reddit CEO")


async def test_profiles_get_by_fullname_resolves_the_name(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    lookup = api.get(f"{API}/api/user_data_by_account_ids").mock(
        return_value=replay("user_data_by_account_ids")
    )
    api.get(f"{API}/user/PyAPITestUser3/about").mock(
        return_value=replay("user_about_pyapitestuser3")
    )
    profile = await acct.profiles.get("t2_6c1xj")
    assert params(lookup)["ids"] == "t2_6c1xj"
    assert (profile.id, profile.handle) == ("t2_6c1xj", "PyAPITestUser3")
    assert profile.created_at == datetime.fromtimestamp(1322552953.0, UTC)


async def test_unknown_fullname_is_not_found(api: respx.MockRouter, acct: sg.Account) -> None:
    api.get(f"{API}/api/user_data_by_account_ids").respond(200, json={})
    with pytest.raises(sg.NotFound):
        await acct.profiles.get("t2_nobody")


async def test_suspended_account_is_not_found(api: respx.MockRouter, acct: sg.Account) -> None:
    # Reddit's answer for a suspended account: only the name and the flag.
    api.get(f"{API}/user/gone/about").respond(
        200, json={"kind": "t2", "data": {"is_suspended": True, "name": "gone"}}
    )
    with pytest.raises(sg.NotFound, match="suspended"):
        await acct.profiles.get("gone")


async def test_followers_are_not_supported_with_a_reason(acct: sg.Account) -> None:
    assert sg.Capability.FOLLOWERS not in acct.capabilities
    with pytest.raises(sg.NotSupported, match="lists no user's followers"):
        acct.profiles.followers("t2_o77bz")


async def test_forbidden_listing_maps_to_permission_denied(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    api.get(f"{API}/user/spez/comments").mock(return_value=replay("error_403"))
    with pytest.raises(sg.PermissionDenied) as info:
        await acct.posts.list("spez", kind="comments")
    assert info.value.status == 403 and info.value.upstream_message == "Forbidden"
    assert_no_secret(info.value)


# --- posts.get ---------------------------------------------------------------------------------


@pytest.mark.parametrize("given", ["t3_uflrmv", "uflrmv"])
async def test_posts_get(api: respx.MockRouter, acct: sg.Account, given: str) -> None:
    route = api.get(f"{API}/api/info").mock(return_value=replay("info_submission"))
    post = await acct.posts.get(given)
    assert params(route)["id"] == "t3_uflrmv"
    assert post.id == "t3_uflrmv"


async def test_posts_get_comment(api: respx.MockRouter, acct: sg.Account) -> None:
    route = api.get(f"{API}/api/info").mock(return_value=replay("info_comment"))
    post = await acct.posts.get("t1_cklhv0f")
    assert params(route)["id"] == "t1_cklhv0f"
    assert post.reply_to_id == "t1_cklfmye"


async def test_posts_get_missing_is_not_found(api: respx.MockRouter, acct: sg.Account) -> None:
    api.get(f"{API}/api/info").respond(
        200, json={"kind": "Listing", "data": {"children": [], "after": None, "before": None}}
    )
    with pytest.raises(sg.NotFound):
        await acct.posts.get("t3_nothere")


# --- listings: after / before, resume, since ------------------------------------------------


def _second_page() -> dict[str, Any]:
    page = copy.deepcopy(body("user_downvoted"))
    page["data"]["after"] = None
    return page


async def test_mentions_after_pagination_and_cursor_resume(
    api: respx.MockRouter, make_account: Any
) -> None:
    first, second = body("mentions"), _second_page()

    def answer(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        return httpx.Response(200, json=first if after is None else second)

    route = api.get(f"{API}/message/mentions").mock(side_effect=answer)
    acct = await make_account()
    paginator = acct.mentions.list(limit=10)
    got = [m.id async for m in paginator]
    assert got == [c["data"]["name"] for c in first["data"]["children"][:10]]
    assert route.call_count == 1
    assert params(route)["limit"] == "100" and params(route)["raw_json"] == "1"
    # Resume: the rest of page 1 (6 items), then page 2 asked with after= and count=.
    rest = [m.id async for m in acct.mentions.list(cursor=paginator.cursor)]
    assert rest[:6] == [c["data"]["name"] for c in first["data"]["children"][10:]]
    assert rest[6:] == [c["data"]["name"] for c in second["data"]["children"]]
    page2 = params(route, 2)
    assert (page2["after"], page2["count"]) == ("t1_ekfncs9", "16")


async def test_before_walks_towards_newer_items(api: respx.MockRouter, acct: sg.Account) -> None:
    first = copy.deepcopy(body("user_downvoted"))
    first["data"]["before"] = first["data"]["children"][0]["data"]["name"]
    newest = {"kind": "Listing", "data": {"children": [], "after": None, "before": None}}

    def answer(request: httpx.Request) -> httpx.Response:
        anchor = request.url.params["before"]
        return httpx.Response(200, json=first if anchor == "t3_old" else newest)

    route = api.get(f"{API}/user/someone/submitted").mock(side_effect=answer)
    got = [p.id async for p in acct.posts.list("someone", before="t3_old")]
    assert len(got) == 2
    assert params(route, 0)["before"] == "t3_old" and "after" not in params(route, 0)
    assert params(route, 1)["before"] == first["data"]["before"]
    assert params(route, 1)["count"] == "2"


async def test_since_filters_and_stops_a_newest_first_listing(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    page = body("mentions")  # 16 items from 1554774308 down to 1554770248
    route = api.get(f"{API}/user/someone/comments").respond(200, json=page)
    since = datetime.fromtimestamp(1554774130.0, UTC)
    until = datetime.fromtimestamp(1554774300.0, UTC)
    got = [p async for p in acct.posts.list("someone", kind="comments", since=since, until=until)]
    stamps = [p.created_at.timestamp() for p in got if p.created_at]
    assert stamps == [1554774285.0, 1554774261.0, 1554774235.0, 1554774209.0,
                      1554774187.0, 1554774166.0, 1554774144.0, 1554774130.0]  # fmt: skip
    # The page reached items older than `since`, so page 2 (after=t1_ekfncs9) was not asked.
    assert route.call_count == 1
    assert params(route)["sort"] == "new"


async def test_listing_cap_is_logged(
    api: respx.MockRouter, acct: sg.Account, caplog: pytest.LogCaptureFixture
) -> None:
    end = copy.deepcopy(body("mentions"))
    end["data"]["after"] = None
    api.get(f"{API}/message/mentions").respond(200, json=end)
    with caplog.at_level(logging.WARNING, logger="socialgate.reddit"):
        _ = [m async for m in acct.mentions.list(cursor=_cursor("t1_x 990"))]
    assert "listings stop at about 1000" in caplog.text


def _cursor(page_cursor: str) -> str:
    from socialgate._pagination import encode_cursor

    return encode_cursor(page_cursor, 0)


# --- search ------------------------------------------------------------------------------------


async def test_search_in_a_subreddit(
    api: respx.MockRouter, acct: sg.Account, fake_clock: sg.FakeClock
) -> None:
    route = api.get(f"{API}/r/redditdev/search").respond(200, json=body("user_downvoted"))
    since = fake_clock.now() - timedelta(hours=20)
    _ = [p async for p in acct.posts.search("praw", subreddit="redditdev", since=since)]
    sent = params(route)
    assert sent["q"] == "praw"
    assert sent["restrict_sr"] == "on"
    assert sent["sort"] == "new"
    assert sent["t"] == "day"  # the narrowest window that covers `since`
    assert sent["type"] == "link" and sent["limit"] == "100" and sent["raw_json"] == "1"


async def test_search_everywhere_with_explicit_options(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    route = api.get(f"{API}/search").respond(200, json=body("user_downvoted"))
    page = await acct.posts.search("python", sort="top", t="week", page_size=25)
    assert len(page.items) == 2
    sent = params(route)
    assert (sent["sort"], sent["t"], sent["limit"]) == ("top", "week", "25")
    assert "restrict_sr" not in sent


async def test_search_slice_by_time_is_not_supported_and_says_why(acct: sg.Account) -> None:
    with pytest.raises(sg.NotSupported, match="timestamp"):
        await acct.posts.search("python", slice_by_time=True)


# --- replies: comment trees ----------------------------------------------------------------------


def _morechildren(ids: list[str]) -> dict[str, Any]:
    """CONSTRUCTED in the shape of /api/morechildren?api_type=json (praw's MoreComments reads
    ``json.data.things``): one comment per requested id, replying to the recorded root."""
    template = body("comments_with_more")[1]["data"]["children"][0]["data"]["replies"]["data"][
        "children"
    ][0]
    things = []
    for child in ids:
        thing = copy.deepcopy(template)
        thing["data"].update(id=child, name=f"t1_{child}", parent_id="t1_e4j4830", replies="")
        things.append(thing)
    return {"json": {"errors": [], "data": {"things": things}}}


async def test_replies_flatten_the_tree_and_expand_more(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    tree = api.get(f"{API}/comments/98vj9e").respond(200, json=body("comments_with_more"))
    more = api.get(f"{API}/api/morechildren").mock(
        side_effect=lambda r: httpx.Response(
            200, json=_morechildren(r.url.params["children"].split(","))
        )
    )
    got = [p async for p in acct.posts.replies("t3_98vj9e")]
    assert [p.id for p in got[:3]] == ["t1_e4j4830", "t1_edisd6j", "t1_e7q58bn"]
    assert [p.id for p in got[3:]] == [
        "t1_e4jjt2i", "t1_e4j4fhz", "t1_e4uaa59", "t1_e4j98vr", "t1_e4jbdej", "t1_e4lpsbh",
    ]  # fmt: skip
    assert all(p.reply_to_id for p in got)
    assert params(tree)["sort"] == "confidence" and params(tree)["raw_json"] == "1"
    sent = params(more)
    assert sent["link_id"] == "t3_98vj9e" and sent["api_type"] == "json"
    assert sent["children"] == "e4jjt2i,e4j4fhz,e4uaa59,e4j98vr,e4jbdej,e4lpsbh"


async def test_replies_without_expanding_more(api: respx.MockRouter, acct: sg.Account) -> None:
    api.get(f"{API}/comments/98vj9e").respond(200, json=body("comments_with_more"))
    got = [p.id async for p in acct.posts.replies("98vj9e", expand_more=False)]
    assert got == ["t1_e4j4830", "t1_edisd6j", "t1_e7q58bn"]


async def test_replies_follow_continue_this_thread(api: respx.MockRouter, acct: sg.Account) -> None:
    page = copy.deepcopy(body("comments_simple"))
    root = page[1]["data"]["children"][0]["data"]
    deep = root["replies"]["data"]["children"][0]["data"]
    stub = {"kind": "more", "data": {"count": 0, "name": "t1__", "id": "_", "depth": 2,
                                     "parent_id": deep["name"], "children": []}}  # fmt: skip
    deep["replies"] = {"kind": "Listing", "data": {"children": [stub], "after": None}}
    sub = copy.deepcopy(body("comments_simple"))
    focus = sub[1]["data"]["children"][0]
    focus["data"] = copy.deepcopy(deep)
    reply = copy.deepcopy(root["replies"]["data"]["children"][0])
    reply["data"].update(id="zzz111", name="t1_zzz111", parent_id=deep["name"], replies="")
    focus["data"]["replies"] = {"kind": "Listing", "data": {"children": [reply]}}
    api.get(f"{API}/comments/2gmzqe").respond(200, json=page)
    thread = api.get(f"{API}/comments/2gmzqe/_/{deep['id']}").respond(200, json=sub)
    got = [p async for p in acct.posts.replies("t3_2gmzqe")]
    assert [p.id for p in got] == [root["name"], deep["name"], "t1_zzz111"]
    assert got[-1].reply_to_id == deep["name"]
    assert thread.called


async def test_replies_of_a_comment_are_its_descendants(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    api.get(f"{API}/api/info").mock(return_value=replay("info_comment"))
    page = body("comments_simple")
    route = api.get(f"{API}/comments/2gmzqe/_/cklhv0f").respond(200, json=page)
    got = [p async for p in acct.posts.replies("t1_cklhv0f")]
    # The focused comment itself is not its own reply; its descendants are.
    assert "t1_cklhv0f" not in {p.id for p in got}
    assert route.called


async def test_mentions_and_errors_never_show_the_token(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    api.get(f"{API}/message/mentions").respond(
        500, json={"message": "Internal Server Error", "error": 500}
    )
    with pytest.raises(sg.ServerError) as info:
        await acct.mentions.list()
    assert_no_secret(info.value)
    assert json.dumps(info.value.args).find(TOKEN) == -1
