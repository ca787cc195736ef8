"""Tier-3 tests of the X adapter through the public API (``sg.Client(...).account("x", ...)``).

respx stands in for https://api.x.com and replays the real recorded payloads in
tests/fixtures/x/ (see the README there). Where no recording exists, a body is built in code
with the shape of the official X API v2 OpenAPI description (xdevplatform/xdk
``specs/openapi.json``, or ``latest-openapi.json`` for the problem types the newer file
dropped); each such body says so in a comment. Nothing here sleeps for real or reaches the
network: the client runs on ``sg.FakeClock`` and the router refuses unmocked requests.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

import socialgate as sg
from socialgate.adapters.x import adapter as x_adapter

from .conftest import TOKEN, MakeAccount

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "x"
PROBLEMS = "https://api.x.com/2/problems/"
# The prefix the live API (and every recorded X error body) uses; see the bug tests below.
LEGACY_PROBLEMS = "https://api.twitter.com/2/problems/"


def load(name: str) -> Any:
    """A recorded payload from tests/fixtures/x/ (a fresh copy each time)."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def params_of(route: respx.Route, call: int = 0) -> httpx.QueryParams:
    return route.calls[call].request.url.params


def json_of(route: respx.Route, call: int = 0) -> Any:
    return json.loads(route.calls[call].request.content)


def assert_no_token(err: BaseException) -> None:
    """The bearer token appears nowhere an error can be read or logged."""
    assert isinstance(err, sg.SocialGateError)
    texts = [
        str(err),
        repr(err),
        err.message,
        err.body or "",
        err.upstream_message or "",
        *(str(a) for a in err.args),
    ]
    for text in texts:
        assert TOKEN not in text


def assert_x_fields_requested(params: httpx.QueryParams, *, posts: bool) -> None:
    """The adapter asks for the fields the mapping reads (checked independently of the
    adapter's constants)."""
    user_fields = set(params["user.fields"].split(","))
    assert {
        "username",
        "name",
        "description",
        "profile_image_url",
        "public_metrics",
        "created_at",
        "verified",
    } <= user_fields
    if posts:
        tweet_fields = set(params["tweet.fields"].split(","))
        assert {
            "author_id",
            "created_at",
            "attachments",
            "conversation_id",
            "lang",
            "public_metrics",
            "referenced_tweets",
            "note_tweet",
        } <= tweet_fields
        assert {"author_id", "attachments.media_keys"} <= set(params["expansions"].split(","))
        assert {"url", "preview_image_url", "variants", "alt_text", "width", "height"} <= set(
            params["media.fields"].split(",")
        )


def by_param(name: str, pages: dict[str | None, Any]) -> Callable[[httpx.Request], httpx.Response]:
    """A respx side effect answering with the page named by the ``name`` query parameter."""

    def answer(request: httpx.Request) -> httpx.Response:
        key = request.url.params.get(name)
        assert key in pages, f"unexpected {name}={key!r}"
        return httpx.Response(200, json=pages[key])

    return answer


def nonzero(sleeps: list[float]) -> list[float]:
    # tenacity may "sleep" 0 s between an immediate retry; only real waits matter.
    return [s for s in sleeps if s > 0]


# Single-item "not found" answer: HTTP 200 with only `errors`. Recorded shape (the same body
# is used in test_mapping.py), including X's legacy api.twitter.com problem type.
def not_found_body(what: str, value: str) -> dict[str, Any]:
    return {
        "errors": [
            {
                "value": value,
                "detail": f"Could not find {what} with {'username' if what == 'user' else 'id'}: "
                f"[{value}].",
                "title": "Not Found Error",
                "resource_type": what,
                "parameter": "username" if what == "user" else "id",
                "resource_id": value,
                "type": f"{LEGACY_PROBLEMS}resource-not-found",
            }
        ]
    }


# --- profiles ----------------------------------------------------------------------------


async def test_profiles_me(api: respx.MockRouter, acct: sg.Account) -> None:
    route = api.get("/2/users/me").respond(200, json=load("sns_me_resp.json"))
    me = await acct.profiles.me()
    assert (me.network, me.id, me.handle, me.display_name) == (
        "x",
        "2244994945",
        "TwitterDev",
        "Twitter Dev",
    )
    assert me.created_at == datetime(2013, 12, 14, 4, 35, 55, tzinfo=UTC)
    assert me.url == "https://x.com/TwitterDev"
    assert_x_fields_requested(params_of(route), posts=False)
    assert route.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_profiles_get_by_id(api: respx.MockRouter, acct: sg.Account) -> None:
    # The first user of the recorded multi-user lookup, as the single-user lookup wraps it.
    users = load("sns_users_resp.json")
    route = api.get("/2/users/783214").respond(200, json={"data": users["data"][0]})
    profile = await acct.profiles.get("783214")
    assert (profile.id, profile.handle, profile.verified) == ("783214", "Twitter", True)
    metrics = users["data"][0]["public_metrics"]
    assert profile.followers_count == metrics["followers_count"]
    assert profile.posts_count == metrics["tweet_count"]
    assert profile.raw == users["data"][0]
    assert_x_fields_requested(params_of(route), posts=False)


@pytest.mark.parametrize("handle", ["@Twitter", "Twitter", " @Twitter "])
async def test_profiles_get_by_handle(api: respx.MockRouter, acct: sg.Account, handle: str) -> None:
    route = api.get("/2/users/by/username/Twitter").respond(200, json=load("tweepy_get_user.json"))
    profile = await acct.profiles.get(handle)
    assert (profile.id, profile.handle, profile.display_name) == ("783214", "Twitter", "Twitter")
    assert route.call_count == 1
    assert_x_fields_requested(params_of(route), posts=False)


async def test_profiles_get_unknown_handle_is_not_found(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    api.get("/2/users/by/username/nobody_here").respond(
        200, json=not_found_body("user", "nobody_here")
    )
    with pytest.raises(sg.NotFound) as info:
        await acct.profiles.get("@nobody_here")
    err = info.value
    assert (err.network, err.status, err.code) == ("x", 200, "resource-not-found")
    assert err.upstream_message == "Could not find user with username: [nobody_here]."
    assert_no_token(err)


async def test_followers_paginate_with_pagination_token(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    page1 = load("tweepy_get_users_followers.json")  # 100 users, next_token 5CS0O0C6II61EZZZ
    page2 = load("sns_followers_resp.json")  # 5 users, next_token H1411NSKD9R1EZZZ
    route = api.get("/2/users/783214/followers").mock(
        side_effect=by_param("pagination_token", {None: page1, "5CS0O0C6II61EZZZ": page2})
    )
    # limit stops exactly at the end of page 2, so the third page is never asked for.
    followers = acct.profiles.followers("783214", limit=105)
    got = [p async for p in followers]
    assert [p.id for p in got] == [u["id"] for u in page1["data"] + page2["data"]]
    assert all(isinstance(p, sg.Profile) and p.network == "x" for p in got)
    assert route.call_count == 2
    assert "pagination_token" not in params_of(route, 0)
    assert params_of(route, 1)["pagination_token"] == "5CS0O0C6II61EZZZ"
    assert_x_fields_requested(params_of(route, 0), posts=False)
    # The cursor points at the (unread) third page.
    assert followers.cursor is not None


async def test_followers_of_a_handle_resolve_it_first(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    api.get("/2/users/by/username/Twitter").respond(200, json=load("tweepy_get_user.json"))
    route = api.get("/2/users/783214/followers").respond(
        200, json=load("tweepy_get_users_followers.json")
    )
    page = await acct.profiles.followers("@Twitter", page_size=100)
    assert len(page.items) == 100
    assert params_of(route)["max_results"] == "100"


# --- posts.get and error mapping ---------------------------------------------------------


def tweet_with_author_and_media() -> dict[str, Any]:
    """CONSTRUCTED from two recordings: the single-tweet lookup sns_tweet_resp.json (a
    @TwitterDev tweet with its media expansion) plus ``author_id`` and the recorded
    TwitterDev user of sns_me_resp.json in ``includes.users``, as the ``author_id``
    expansion returns it."""
    body = load("sns_tweet_resp.json")
    body["data"]["author_id"] = "2244994945"
    body["includes"]["users"] = [load("sns_me_resp.json")["data"]]
    return body


async def test_posts_get_fills_author_and_media(api: respx.MockRouter, acct: sg.Account) -> None:
    body = tweet_with_author_and_media()
    route = api.get("/2/tweets/1067094924124872705").respond(200, json=body)
    post = await acct.posts.get("1067094924124872705")
    assert (post.network, post.id, post.author_id) == ("x", "1067094924124872705", "2244994945")
    assert post.text == body["data"]["text"]
    assert post.author is not None and post.author.handle == "TwitterDev"
    assert post.url == "https://x.com/TwitterDev/status/1067094924124872705"
    assert [(m.id, m.kind) for m in post.media] == [("13_1064638969197977600", "video")]
    assert post.raw == body["data"]
    assert_x_fields_requested(params_of(route), posts=True)


async def test_posts_get_200_with_only_errors_is_not_found(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    api.get("/2/tweets/1").respond(200, json=not_found_body("tweet", "1"))
    with pytest.raises(sg.NotFound) as info:
        await acct.posts.get("1")
    err = info.value
    assert (err.network, err.status, err.code) == ("x", 200, "resource-not-found")
    assert err.upstream_message == "Could not find tweet with id: [1]."
    assert_no_token(err)


# Error answers with the shapes of the OpenAPI description's Problem (problem+json, v2.167
# prefix https://api.x.com/2/problems/) and Error ({"errors": [{code, message}]}) schemas, and
# X's generic "about:blank" problems for 401 and 429.
ERROR_CASES = [
    pytest.param(
        400,
        {
            "type": f"{PROBLEMS}invalid-request",
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "status": 400,
        },
        sg.BadRequest,
        "invalid-request",
        "One or more parameters to your request was invalid.",
        id="400-invalid-request",
    ),
    pytest.param(
        401,
        {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
        sg.AuthenticationError,
        None,
        "Unauthorized",
        id="401-about-blank",
    ),
    pytest.param(
        403,
        {
            "type": f"{PROBLEMS}not-authorized-for-resource",
            "title": "Forbidden",
            "detail": "Sorry, you are not authorized to see the Post with id: [20].",
            "resource_type": "tweet",
            "resource_id": "20",
            "status": 403,
        },
        sg.PermissionDenied,
        "not-authorized-for-resource",
        "Sorry, you are not authorized to see the Post with id: [20].",
        id="403-not-authorized",
    ),
    pytest.param(
        404,
        {
            "type": f"{PROBLEMS}resource-not-found",
            "title": "Not Found Error",
            "detail": "Could not find Post with id: [20].",
            "resource_type": "tweet",
            "status": 404,
        },
        sg.NotFound,
        "resource-not-found",
        "Could not find Post with id: [20].",
        id="404-problem",
    ),
    pytest.param(
        404,
        {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]},
        sg.NotFound,
        "34",
        "Sorry, that page does not exist",
        id="404-error-schema",
    ),
    pytest.param(
        429,
        {
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        },
        sg.RateLimited,
        None,
        "Too Many Requests",
        id="429-about-blank",
    ),
]


@pytest.mark.parametrize(("status", "body", "cls", "code", "message"), ERROR_CASES)
async def test_error_answers_map_to_the_error_tree(
    api: respx.MockRouter,
    make_account: MakeAccount,
    status: int,
    body: dict[str, Any],
    cls: type[sg.APIError],
    code: str | None,
    message: str,
) -> None:
    acct = await make_account(max_retries=0)
    route = api.get("/2/tweets/20").respond(
        status, json=body, headers={"content-type": "application/problem+json"}
    )
    with pytest.raises(cls) as info:
        await acct.posts.get("20")
    err = info.value
    assert type(err) is cls
    assert (err.network, err.status, err.code, err.upstream_message) == (
        "x",
        status,
        code,
        message,
    )
    assert message in str(err)
    assert json.loads(err.body or "") == body
    assert route.call_count == 1
    assert_no_token(err)


async def test_4xx_is_not_retried(api: respx.MockRouter, acct: sg.Account) -> None:
    route = api.get("/2/tweets/20").respond(
        403, json={"title": "Forbidden", "type": "about:blank", "status": 403}
    )
    with pytest.raises(sg.PermissionDenied) as info:
        await acct.posts.get("20")
    assert route.call_count == 1
    assert_no_token(info.value)


async def test_error_body_echoing_the_token_is_scrubbed(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    # A buggy upstream (or proxy) echoing the Authorization header back.
    body = {
        "title": "Unauthorized",
        "type": "about:blank",
        "status": 401,
        "detail": f"Invalid bearer token: Bearer {TOKEN}",
        "echo": {"authorization": f"Bearer {TOKEN}"},
    }
    api.get("/2/users/me").respond(401, json=body)
    with pytest.raises(sg.AuthenticationError) as info:
        await acct.profiles.me()
    err = info.value
    assert_no_token(err)
    assert err.upstream_message == "Invalid bearer token: Bearer [REDACTED]"
    assert err.body is not None and err.body.count("[REDACTED]") == 2


async def test_200_error_body_echoing_the_token_is_scrubbed(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    # X echoes the looked-up value in `detail`; here a caller mistakenly looks up the token.
    api.get(f"/2/users/by/username/{TOKEN}").respond(200, json=not_found_body("user", TOKEN))
    with pytest.raises(sg.NotFound) as info:
        await acct.profiles.get(TOKEN)
    assert_no_token(info.value)


async def test_429_with_x_rate_limit_headers(
    api: respx.MockRouter, make_account: MakeAccount, fake_clock: sg.FakeClock
) -> None:
    acct = await make_account(max_retries=0)
    reset = int(fake_clock.time()) + 900
    api.get("/2/tweets/20").respond(
        429,
        json={"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank"},
        headers={
            "x-rate-limit-limit": "900",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        },
    )
    with pytest.raises(sg.RateLimited) as info:
        await acct.posts.get("20")
    err = info.value
    assert (err.network, err.status, err.scope, err.bucket) == ("x", 429, "window", "tweets.lookup")
    assert err.retry_after == pytest.approx(900.0)
    assert err.reset_at == datetime.fromtimestamp(reset, UTC)
    assert acct.rate_limits["tweets.lookup"].remaining == 0
    assert acct.rate_limits["tweets.lookup"].limit == 900
    assert_no_token(err)


async def test_429_is_waited_out_on_the_fake_clock_then_retried(
    api: respx.MockRouter, acct: sg.Account, fake_clock: sg.FakeClock
) -> None:
    reset = int(fake_clock.time()) + 600
    limited = httpx.Response(
        429,
        json={"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank"},
        headers={
            "x-rate-limit-limit": "900",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        },
    )
    route = api.get("/2/tweets/1293593516040269825").mock(
        side_effect=[limited, httpx.Response(200, json=load("tweepy_get_tweet.json"))]
    )
    post = await acct.posts.get("1293593516040269825")
    assert post.id == "1293593516040269825"
    assert route.call_count == 2
    assert nonzero(fake_clock.sleeps) == [pytest.approx(600.0)]


def usage_capped(prefix: str) -> dict[str, Any]:
    # UsageCapExceededProblem (latest-openapi.json: Problem + period/scope), with the extra
    # account_id/product_name X adds to it.
    return {
        "account_id": 1234567890,
        "product_name": "standard-basic",
        "title": "UsageCapExceeded",
        "period": "Monthly",
        "scope": "Product",
        "detail": "Usage cap exceeded: Monthly product cap",
        "type": f"{prefix}usage-capped",
    }


async def test_usage_capped_is_monthly_and_not_retried(
    api: respx.MockRouter, acct: sg.Account, fake_clock: sg.FakeClock
) -> None:
    route = api.get("/2/tweets/search/recent").respond(429, json=usage_capped(PROBLEMS))
    with pytest.raises(sg.RateLimited) as info:
        await acct.posts.search("from:TwitterDev")
    err = info.value
    assert (err.network, err.status, err.scope, err.code) == ("x", 429, "monthly", "usage-capped")
    assert err.upstream_message == "Usage cap exceeded: Monthly product cap"
    assert route.call_count == 1
    assert nonzero(fake_clock.sleeps) == []
    assert_no_token(err)


async def test_usage_capped_next_call_raises_without_sending(
    api: respx.MockRouter, acct: sg.Account, fake_clock: sg.FakeClock
) -> None:
    route = api.get("/2/tweets/search/recent").respond(429, json=usage_capped(PROBLEMS))
    with pytest.raises(sg.RateLimited):
        await acct.posts.search("from:TwitterDev")
    with pytest.raises(sg.RateLimited) as info:
        await acct.posts.search("from:TwitterDev")
    assert info.value.scope == "monthly"
    assert route.call_count == 1
    assert nonzero(fake_clock.sleeps) == []


async def test_create_over_the_24_hour_post_limit_raises_daily_without_resending(
    api: respx.MockRouter, acct: sg.Account, fake_clock: sg.FakeClock
) -> None:
    # X's per-user 24-hour posting limit, reported in x-user-limit-24hour-* headers.
    now = int(fake_clock.time())
    route = api.post("/2/tweets").respond(
        429,
        json={"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank"},
        headers={
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "99",
            "x-rate-limit-reset": str(now + 900),
            "x-user-limit-24hour-limit": "17",
            "x-user-limit-24hour-remaining": "0",
            "x-user-limit-24hour-reset": str(now + 40_000),
        },
    )
    with pytest.raises(sg.RateLimited) as info:
        await acct.posts.create(sg.Draft(text="one too many"))
    err = info.value
    assert (err.network, err.scope) == ("x", "daily")
    assert err.reset_at == datetime.fromtimestamp(now + 40_000, UTC)
    assert route.call_count == 1
    assert nonzero(fake_clock.sleeps) == []
    assert acct.rate_limits["user-24h"].remaining == 0
    assert_no_token(err)


async def test_usage_capped_with_the_live_problem_prefix(
    api: respx.MockRouter, acct: sg.Account, fake_clock: sg.FakeClock
) -> None:
    route = api.get("/2/tweets/search/recent").respond(429, json=usage_capped(LEGACY_PROBLEMS))
    with pytest.raises(sg.RateLimited) as info:
        await acct.posts.search("from:TwitterDev")
    assert (info.value.scope, info.value.code) == ("monthly", "usage-capped")
    assert route.call_count == 1
    assert nonzero(fake_clock.sleeps) == []


async def test_problem_code_with_the_live_problem_prefix(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    # ClientForbiddenProblem (latest-openapi.json), the body X sends to unenrolled apps.
    body = {
        "title": "Client Forbidden",
        "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use "
        "keys and tokens from a Twitter developer App that is attached to a Project.",
        "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
        "reason": "client-not-enrolled",
        "type": f"{LEGACY_PROBLEMS}client-forbidden",
    }
    api.get("/2/tweets/20").respond(403, json=body)
    with pytest.raises(sg.PermissionDenied) as info:
        await acct.posts.get("20")
    assert info.value.code == "client-forbidden"


async def test_get_is_retried_on_503_then_succeeds(
    api: respx.MockRouter, acct: sg.Account, fake_clock: sg.FakeClock
) -> None:
    unavailable = httpx.Response(503, json={"title": "Service Unavailable", "type": "about:blank"})
    route = api.get("/2/users/783214").mock(
        side_effect=[
            unavailable,
            unavailable,
            httpx.Response(200, json=load("tweepy_get_user.json")),
        ]
    )
    profile = await acct.profiles.get("783214")
    assert profile.handle == "Twitter"
    assert route.call_count == 3
    # Jittered exponential backoff (0.5 s, 1 s, +-25%) on the fake clock.
    first, second = nonzero(fake_clock.sleeps)
    assert 0.375 <= first <= 0.625
    assert 0.75 <= second <= 1.25


async def test_get_gives_up_after_max_retries_on_503(
    api: respx.MockRouter, acct: sg.Account, fake_clock: sg.FakeClock
) -> None:
    route = api.get("/2/tweets/20").respond(
        503, json={"title": "Service Unavailable", "detail": f"oops {TOKEN}"}
    )
    with pytest.raises(sg.ServerError) as info:
        await acct.posts.get("20")
    err = info.value
    assert (err.network, err.status, err.outcome_unknown) == ("x", 503, False)
    assert route.call_count == 3
    assert len(nonzero(fake_clock.sleeps)) == 2
    assert_no_token(err)


# --- posts.list / search / replies / mentions ---------------------------------------------

TIMELINE_TOKEN = "7140dibdnow9c7btw4232poeq0wapgnwgwqwvuwn3peex"


def timeline_route(api: respx.MockRouter, uid: str = "783214") -> respx.Route:
    """Page 1: the recorded tweepy user timeline (2 posts, next_token TIMELINE_TOKEN).
    Page 2: the recorded sns timeline page (5 posts; its own next_token names a third page
    that the tests never reach)."""
    pages = {
        None: load("tweepy_get_users_tweets.json"),
        TIMELINE_TOKEN: load("sns_timeline_tweets.json"),
    }
    return api.get(f"/2/users/{uid}/tweets").mock(side_effect=by_param("pagination_token", pages))


def timeline_ids() -> list[str]:
    return [t["id"] for t in load("tweepy_get_users_tweets.json")["data"]] + [
        t["id"] for t in load("sns_timeline_tweets.json")["data"]
    ]


async def test_posts_list_resolves_handle_and_sends_the_time_window(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    lookup = api.get("/2/users/by/username/Twitter").respond(200, json=load("tweepy_get_user.json"))
    route = timeline_route(api)
    pacific = timezone(timedelta(hours=-8))
    since = datetime(2022, 9, 1, 4, 30, 15, 999_999, tzinfo=pacific)
    until = datetime(2022, 10, 6, 0, 0, tzinfo=UTC)
    page = await acct.posts.list("@Twitter", since=since, until=until)
    assert [p.id for p in page.items] == timeline_ids()[:2]
    assert lookup.call_count == 1
    params = params_of(route)
    assert params["start_time"] == "2022-09-01T12:30:15Z"
    assert params["end_time"] == "2022-10-06T00:00:00Z"
    assert params["max_results"] == "100"
    assert_x_fields_requested(params, posts=True)


async def test_posts_list_naive_datetime_is_rejected_without_a_request(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    with pytest.raises(sg.BadRequest, match="timezone-aware"):
        async for _ in acct.posts.list("783214", since=datetime(2022, 1, 1)):
            pass
    assert api.calls.call_count == 0


async def test_posts_list_paginates_across_two_pages(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    route = timeline_route(api)
    posts = acct.posts.list("783214", limit=7)
    got = [p async for p in posts]
    assert [p.id for p in got] == timeline_ids()
    assert all(isinstance(p, sg.Post) and p.network == "x" for p in got)
    assert route.call_count == 2
    assert "pagination_token" not in params_of(route, 0)
    assert params_of(route, 1)["pagination_token"] == TIMELINE_TOKEN
    # Everything after the first request is the same query.
    first = dict(params_of(route, 0))
    second = dict(params_of(route, 1))
    assert second.pop("pagination_token") == TIMELINE_TOKEN
    assert first == second


async def test_posts_list_limit_stops_mid_page_and_cursor_resumes_exactly(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    route = timeline_route(api)
    ids = timeline_ids()

    first = acct.posts.list("783214", limit=3)
    got = [p.id async for p in first]
    assert got == ids[:3]  # both of page 1, then the first of page 2
    assert route.call_count == 2
    cursor = first.cursor
    assert cursor is not None

    resumed = acct.posts.list("783214", cursor=cursor, limit=4)
    rest = [p.id async for p in resumed]
    assert rest == ids[3:7]  # exactly the next items, none repeated, none skipped
    assert route.call_count == 3
    assert params_of(route, 2)["pagination_token"] == TIMELINE_TOKEN
    # The whole of page 2 is read now: the next cursor names page 3.
    assert resumed.cursor is not None and resumed.cursor != cursor


async def test_await_paginator_returns_the_first_page(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    route = timeline_route(api)
    page = await acct.posts.list("783214")
    assert isinstance(page, sg.Page)
    assert [p.id for p in page.items] == timeline_ids()[:2]
    assert page.body == load("tweepy_get_users_tweets.json")
    assert page.body["meta"]["next_token"] == TIMELINE_TOKEN
    assert route.call_count == 1
    # next_cursor is a socialgate cursor: it resumes right after the page's last item.
    resumed = acct.posts.list("783214", cursor=page.next_cursor, limit=len(timeline_ids()) - 2)
    rest = [p.id async for p in resumed]
    assert rest == timeline_ids()[2:]
    assert route.calls.last.request.url.params["pagination_token"] == TIMELINE_TOKEN


async def test_pages_yields_one_page_per_request(api: respx.MockRouter, acct: sg.Account) -> None:
    route = timeline_route(api)
    pages = [page async for page in acct.posts.list("783214", limit=7).pages()]
    assert [len(p.items) for p in pages] == [2, 5]
    assert [p.body["meta"].get("next_token") for p in pages] == [
        TIMELINE_TOKEN,
        "7140dibdnow9c7btw3w3itbygz8uu5pbs45oy6erjc2ls",
    ]
    assert pages[0].next_cursor is not None and pages[1].next_cursor is not None
    assert route.call_count == 2


SEARCH_TOKEN = "b26v89c19zqg8o3fpzbn1e0ffhxjiofzw6po136rvbnul"


async def test_posts_search_pages_with_next_token(api: respx.MockRouter, acct: sg.Account) -> None:
    page1 = load("tweepy_search_recent_tweets.json")  # 10 posts, next_token SEARCH_TOKEN
    page2 = load("sns_search_tweets_query.json")  # 4 posts with author expansions, last page
    route = api.get("/2/tweets/search/recent").mock(
        side_effect=by_param("next_token", {None: page1, SEARCH_TOKEN: page2})
    )
    since = datetime(2020, 6, 20, tzinfo=UTC)
    search = acct.posts.search("tweepy OR snowman", since=since)
    got = [p async for p in search]
    assert [p.id for p in got] == [t["id"] for t in page1["data"] + page2["data"]]
    assert search.cursor is None  # read to the end
    assert route.call_count == 2
    params = params_of(route, 0)
    assert params["query"] == "tweepy OR snowman"
    assert params["start_time"] == "2020-06-20T00:00:00Z"
    assert_x_fields_requested(params, posts=True)
    assert params_of(route, 1)["next_token"] == SEARCH_TOKEN
    assert "pagination_token" not in params_of(route, 1)
    # The recorded page 2 carries includes.users: authors are filled.
    last = got[-4]
    assert last.author is not None and last.author.id == last.author_id == "63046977"


async def test_posts_search_archive_uses_full_archive_endpoint(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    route = api.get("/2/tweets/search/all").respond(200, json=load("sns_search_tweets_query.json"))
    page = await acct.posts.search("snowman", archive=True, page_size=10)
    assert len(page.items) == 4
    params = params_of(route)
    assert params["max_results"] == "10"
    assert "archive" not in params


async def test_paginator_reused_after_await_keeps_its_options(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    body = load("sns_search_tweets_query.json")  # a single, last page
    # search/recent is deliberately not mocked: a call to it fails the test.
    archive = api.get("/2/tweets/search/all").respond(200, json=body)
    search = acct.posts.search("snowman", archive=True, page_size=10)
    await search
    async for _ in search:
        pass
    assert archive.call_count == 2
    assert all(call.request.url.params["max_results"] == "10" for call in archive.calls)


async def test_replies_search_the_conversation(api: respx.MockRouter, acct: sg.Account) -> None:
    route = api.get("/2/tweets/search/recent").respond(
        200, json=load("sns_search_tweets_query.json")
    )
    replies = [p async for p in acct.posts.replies("1275653067283759104")]
    assert len(replies) == 4
    assert params_of(route)["query"] == "conversation_id:1275653067283759104"
    assert_x_fields_requested(params_of(route), posts=True)


async def test_mentions_look_up_own_id_once(api: respx.MockRouter, acct: sg.Account) -> None:
    me = api.get("/2/users/me").respond(200, json=load("tweepy_get_me.json"))
    # No mention timeline was recorded; a recorded search page has the same shape
    # (data + includes + meta) and its posts do mention someone.
    mentions = api.get("/2/users/1072250532645998596/mentions").respond(
        200, json=load("sns_search_tweets_query.json")
    )
    since = datetime(2020, 6, 24, 12, tzinfo=UTC)
    first = [p async for p in acct.mentions.list(since=since)]
    second = [p async for p in acct.mentions.list(limit=2)]
    assert len(first) == 4 and [p.id for p in second] == [p.id for p in first[:2]]
    assert me.call_count == 1
    assert mentions.call_count == 2
    assert params_of(mentions, 0)["start_time"] == "2020-06-24T12:00:00Z"
    assert_x_fields_requested(params_of(mentions, 0), posts=True)


async def test_mentions_after_profiles_me_do_not_call_me_again(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    me = api.get("/2/users/me").respond(200, json=load("sns_me_resp.json"))
    api.get("/2/users/2244994945/mentions").respond(200, json={"meta": {"result_count": 0}})
    await acct.profiles.me()
    assert [p async for p in acct.mentions.list()] == []
    assert me.call_count == 1


# --- posts.create / delete ----------------------------------------------------------------

CREATED = load("tweepy_create_tweet.json")  # {"data": {"id": "1456012973835788293", ...}}
PHOTO = sg.Media(id="1726817595448610817", kind="image", network="x")


@pytest.mark.parametrize(
    ("draft", "payload"),
    [
        pytest.param(sg.Draft(text="Test Tweet"), {"text": "Test Tweet"}, id="text"),
        pytest.param(
            sg.Draft(text="Test Tweet", media=(PHOTO,)),
            {"text": "Test Tweet", "media": {"media_ids": ["1726817595448610817"]}},
            id="media",
        ),
        pytest.param(
            sg.Draft(text="Test Tweet", reply_to_id="1455953449422516226"),
            {"text": "Test Tweet", "reply": {"in_reply_to_tweet_id": "1455953449422516226"}},
            id="reply",
        ),
        pytest.param(
            sg.Draft(text="Test Tweet", quote_id="1293593516040269825"),
            {"text": "Test Tweet", "quote_tweet_id": "1293593516040269825"},
            id="quote",
        ),
        pytest.param(
            sg.Draft(
                text="Test Tweet",
                media=(PHOTO, sg.Media(id="1726817595448610818", kind="image")),
                reply_to_id="1455953449422516226",
                options={"reply_settings": "following"},
            ),
            {
                "text": "Test Tweet",
                "media": {"media_ids": ["1726817595448610817", "1726817595448610818"]},
                "reply": {"in_reply_to_tweet_id": "1455953449422516226"},
                "reply_settings": "following",
            },
            id="all",
        ),
    ],
)
async def test_posts_create_sends_exactly_the_expected_body(
    api: respx.MockRouter, acct: sg.Account, draft: sg.Draft, payload: dict[str, Any]
) -> None:
    route = api.post("/2/tweets").respond(201, json=CREATED)
    post = await acct.posts.create(draft)
    assert json_of(route) == payload
    assert route.calls[0].request.headers["content-type"] == "application/json"
    assert (post.network, post.id, post.text) == ("x", "1456012973835788293", "Test Tweet")
    assert post.url == "https://x.com/i/web/status/1456012973835788293"
    assert post.media == draft.media
    assert post.reply_to_id == draft.reply_to_id


async def test_posts_create_from_a_string(api: respx.MockRouter, acct: sg.Account) -> None:
    route = api.post("/2/tweets").respond(201, json=load("sns_create_tweet_resp.json"))
    post = await acct.posts.create("Hello world!")
    assert json_of(route) == {"text": "Hello world!"}
    assert post.id == "1445880548472328192"


async def test_posts_create_rejects_unknown_options_without_a_request(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    with pytest.raises(sg.BadRequest, match="visibility") as info:
        await acct.posts.create(sg.Draft(text="hi", options={"visibility": "public"}))
    assert info.value.network == "x"
    assert api.calls.call_count == 0
    assert_no_token(info.value)


async def test_posts_create_503_is_not_retried(
    api: respx.MockRouter, acct: sg.Account, fake_clock: sg.FakeClock
) -> None:
    route = api.post("/2/tweets").respond(
        503, json={"title": "Service Unavailable", "detail": "Service Unavailable"}
    )
    with pytest.raises(sg.ServerError) as info:
        await acct.posts.create(sg.Draft(text="only once"))
    err = info.value
    assert route.call_count == 1
    assert (err.network, err.status, err.outcome_unknown) == ("x", 503, True)
    assert "not re-sent" in str(err)
    assert nonzero(fake_clock.sleeps) == []
    assert_no_token(err)


async def test_posts_create_read_timeout_is_not_resent(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    route = api.post("/2/tweets").mock(side_effect=httpx.ReadTimeout)
    with pytest.raises(sg.TransportError) as info:
        await acct.posts.create(sg.Draft(text="only once"))
    err = info.value
    assert route.call_count == 1
    assert (err.network, err.sent, err.outcome_unknown) == ("x", True, True)
    assert_no_token(err)


async def test_posts_create_connect_error_is_retried(
    api: respx.MockRouter, acct: sg.Account, fake_clock: sg.FakeClock
) -> None:
    route = api.post("/2/tweets").mock(
        side_effect=[httpx.ConnectError("connection refused"), httpx.Response(201, json=CREATED)]
    )
    post = await acct.posts.create(sg.Draft(text="Test Tweet"))
    assert post.id == "1456012973835788293"
    assert route.call_count == 2
    assert json_of(route, 0) == json_of(route, 1) == {"text": "Test Tweet"}
    assert len(nonzero(fake_clock.sleeps)) == 1


async def test_posts_delete(api: respx.MockRouter, acct: sg.Account) -> None:
    route = api.delete("/2/tweets/1456012973835788293").respond(
        200, json=load("tweepy_delete_tweet.json")
    )
    await acct.posts.delete("1456012973835788293")
    assert route.call_count == 1
    assert route.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_posts_delete_not_confirmed_is_an_error(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    # DeletePostsResponse (OpenAPI): {"data": {"deleted": false}}.
    api.delete("/2/tweets/1456012973835788293").respond(200, json={"data": {"deleted": False}})
    with pytest.raises(sg.SocialGateError) as info:
        await acct.posts.delete("1456012973835788293")
    err = info.value
    assert err.network == "x"
    assert "1456012973835788293" in str(err)
    assert_no_token(err)


# --- media.upload -------------------------------------------------------------------------

MEDIA_ID = "1880028106020515840"
MEDIA_KEY = f"7_{MEDIA_ID}"


def media_data(processing: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """CONSTRUCTED per the OpenAPI description: the ``data`` of InitializeMediaUploadResponse,
    FinalizeMediaUploadResponse and GetMediaUploadStatusResponse (no recording exists)."""
    data: dict[str, Any] = {
        "id": MEDIA_ID,
        "media_key": MEDIA_KEY,
        "expires_after_secs": 86400,
        **extra,
    }
    if processing is not None:
        data["processing_info"] = processing
    return {"data": data}


def multipart_fields(request: httpx.Request) -> dict[str, tuple[str | None, bytes]]:
    """{field name: (filename, payload)} of a multipart/form-data request."""
    ctype = request.headers["content-type"]
    assert ctype.startswith("multipart/form-data; boundary=")
    boundary = ctype.split("boundary=", 1)[1].encode()
    content = request.content
    parts = content.split(b"--" + boundary)
    assert parts[-1].strip() == b"--"
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in parts[1:-1]:
        assert part.startswith(b"\r\n") and part.endswith(b"\r\n")
        head, _, payload = part[2:-2].partition(b"\r\n\r\n")
        disposition = next(
            line for line in head.decode().split("\r\n") if line.lower().startswith("content-disp")
        )
        attrs = dict(
            item.strip().split("=", 1) for item in disposition.split(";")[1:] if "=" in item
        )
        name = attrs["name"].strip('"')
        filename = attrs["filename"].strip('"') if "filename" in attrs else None
        fields[name] = (filename, payload)
    return fields


async def test_media_upload_chunked_flow_with_processing(
    api: respx.MockRouter,
    acct: sg.Account,
    fake_clock: sg.FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(x_adapter, "UPLOAD_CHUNK", 4)
    data = b"0123456789"  # 3 segments of 4, 4 and 2 bytes
    init = api.post("/2/media/upload/initialize").respond(200, json=media_data())
    append = api.post(f"/2/media/upload/{MEDIA_ID}/append").respond(200, json={"data": {}})
    finalize = api.post(f"/2/media/upload/{MEDIA_ID}/finalize").respond(
        200, json=media_data({"state": "pending", "check_after_secs": 1}, size=10)
    )
    status = api.get("/2/media/upload", params={"command": "STATUS"}).mock(
        side_effect=[
            httpx.Response(
                200,
                json=media_data(
                    {"state": "in_progress", "check_after_secs": 5, "progress_percent": 40}
                ),
            ),
            httpx.Response(
                200,
                json=media_data(
                    {"state": "succeeded", "progress_percent": 100},
                    video={"video_type": "video/mp4"},
                ),
            ),
        ]
    )
    media = await acct.media.upload(data, mime_type="video/mp4")

    assert json_of(init) == {
        "media_type": "video/mp4",
        "total_bytes": 10,
        "media_category": "tweet_video",
    }
    assert append.call_count == 3
    segments = [multipart_fields(call.request) for call in append.calls]
    assert [s["segment_index"] for s in segments] == [(None, b"0"), (None, b"1"), (None, b"2")]
    assert [s["media"][1] for s in segments] == [b"0123", b"4567", b"89"]
    assert finalize.call_count == 1
    assert status.call_count == 2
    assert all(params_of(status, i)["media_id"] == MEDIA_ID for i in range(2))
    # Polling waited as long as X said, on the fake clock.
    assert nonzero(fake_clock.sleeps) == [1.0, 5.0]
    assert (media.id, media.kind, media.network) == (MEDIA_ID, "video", "x")
    assert media.raw["media_key"] == MEDIA_KEY
    for call in api.calls:
        assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_media_status_is_polled_only_after_check_after_secs(
    api: respx.MockRouter, acct: sg.Account, fake_clock: sg.FakeClock
) -> None:
    start = fake_clock.time()
    asked_at: list[float] = []
    answers = iter(
        [
            media_data({"state": "in_progress", "check_after_secs": 5}),
            media_data({"state": "succeeded"}),
        ]
    )

    def status(request: httpx.Request) -> httpx.Response:
        asked_at.append(fake_clock.time() - start)
        return httpx.Response(200, json=next(answers))

    api.post("/2/media/upload/initialize").respond(200, json=media_data())
    api.post(f"/2/media/upload/{MEDIA_ID}/append").respond(200, json={"data": {}})
    api.post(f"/2/media/upload/{MEDIA_ID}/finalize").respond(
        200, json=media_data({"state": "pending", "check_after_secs": 1})
    )
    api.get("/2/media/upload", params={"command": "STATUS"}).mock(side_effect=status)
    await acct.media.upload(b"video", mime_type="video/mp4")
    # FINALIZE said "ask after 1 s"; that STATUS said "ask after 5 s".
    assert asked_at == [1.0, 6.0]
    # Done as soon as X says "succeeded": no sleep after the last answer.
    assert fake_clock.time() - start == 6.0


async def test_media_upload_failed_processing_is_an_error(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    api.post("/2/media/upload/initialize").respond(200, json=media_data())
    api.post(f"/2/media/upload/{MEDIA_ID}/append").respond(200, json={"data": {}})
    api.post(f"/2/media/upload/{MEDIA_ID}/finalize").respond(
        200, json=media_data({"state": "in_progress", "check_after_secs": 2})
    )
    # processing_info.error as X's STATUS command reports it (the OpenAPI schema does not
    # describe the error object; code/name/message are what X sends).
    api.get("/2/media/upload", params={"command": "STATUS"}).respond(
        200,
        json=media_data(
            {
                "state": "failed",
                "progress_percent": 0,
                "error": {
                    "code": 1,
                    "name": "InvalidMedia",
                    "message": "Unsupported video format",
                },
            }
        ),
    )
    with pytest.raises(sg.SocialGateError, match="Unsupported video format") as info:
        await acct.media.upload(b"not really a video", mime_type="video/mp4")
    assert info.value.network == "x"
    assert_no_token(info.value)


async def test_media_upload_image_with_alt_text_then_post_it(
    api: respx.MockRouter, acct: sg.Account
) -> None:
    recorded = load("sns_media_upload_v2_simple_resp.json")  # a v2 upload's `data` object
    uploaded_id = recorded["id"]
    init = api.post("/2/media/upload/initialize").respond(
        200,
        json={"data": {k: recorded[k] for k in ("id", "media_key", "expires_after_secs")}},
    )
    append = api.post(f"/2/media/upload/{uploaded_id}/append").respond(200, json={"data": {}})
    # FINALIZE answers with the recorded object as its `data`; an image needs no processing.
    api.post(f"/2/media/upload/{uploaded_id}/finalize").respond(200, json={"data": recorded})
    # CreateMediaMetadataResponse (OpenAPI).
    metadata = api.post("/2/media/metadata").respond(
        200, json={"data": {"id": uploaded_id, "associated_metadata": {}}}
    )
    create = api.post("/2/tweets").respond(201, json=CREATED)

    media = await acct.media.upload(b"\x89PNG...", mime_type="image/png", alt_text="A cat")
    assert json_of(init) == {
        "media_type": "image/png",
        "total_bytes": 7,
        "media_category": "tweet_image",
    }
    assert append.call_count == 1
    assert json_of(metadata) == {"id": uploaded_id, "metadata": {"alt_text": {"text": "A cat"}}}
    assert (media.id, media.kind, media.alt_text) == (uploaded_id, "image", "A cat")
    assert media.raw["media_key"] == "3_1726817595448610817"

    await acct.posts.create(sg.Draft(text="look", media=[media]))
    assert json_of(create) == {"text": "look", "media": {"media_ids": [uploaded_id]}}


async def test_media_upload_gif_category(api: respx.MockRouter, acct: sg.Account) -> None:
    init = api.post("/2/media/upload/initialize").respond(200, json=media_data())
    api.post(f"/2/media/upload/{MEDIA_ID}/append").respond(200, json={"data": {}})
    api.post(f"/2/media/upload/{MEDIA_ID}/finalize").respond(
        200, json=media_data({"state": "succeeded"})
    )
    media = await acct.media.upload(b"GIF89a", mime_type="image/gif")
    assert json_of(init)["media_category"] == "tweet_gif"
    assert media.kind == "gif"


async def test_media_append_is_retried_on_503(
    api: respx.MockRouter, acct: sg.Account, fake_clock: sg.FakeClock
) -> None:
    api.post("/2/media/upload/initialize").respond(200, json=media_data())
    append = api.post(f"/2/media/upload/{MEDIA_ID}/append").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json={"data": {}})]
    )
    api.post(f"/2/media/upload/{MEDIA_ID}/finalize").respond(200, json=media_data())
    await acct.media.upload(b"\x89PNG", mime_type="image/png")
    # Re-sending one segment_index replaces it, so APPEND is safe to retry.
    assert append.call_count == 2
    assert len(nonzero(fake_clock.sleeps)) == 1


# --- escape hatch ---------------------------------------------------------------------------


async def test_request_escape_hatch(api: respx.MockRouter, acct: sg.Account) -> None:
    body = load("tweepy_get_me.json")
    route = api.get("/2/users/me").respond(
        200,
        json=body,
        headers={
            "x-rate-limit-limit": "75",
            "x-rate-limit-remaining": "74",
            "x-rate-limit-reset": "1700000900",
        },
    )
    response = await acct.request("GET", "/2/users/me", params={"user.fields": "created_at"})
    assert isinstance(response, httpx.Response)
    assert response.status_code == 200
    assert response.json() == body
    request = route.calls[0].request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.url.params["user.fields"] == "created_at"
    # Same budgets as the resource calls: the bucket learnt from the headers.
    assert acct.rate_limits["users.me"].remaining == 74


async def test_request_escape_hatch_maps_errors(api: respx.MockRouter, acct: sg.Account) -> None:
    api.get("/2/users/me").respond(
        401, json={"title": "Unauthorized", "type": "about:blank", "status": 401}
    )
    with pytest.raises(sg.AuthenticationError) as info:
        await acct.request("GET", "/2/users/me")
    assert (info.value.network, info.value.status) == ("x", 401)
    assert_no_token(info.value)
