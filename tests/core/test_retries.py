"""Retries: idempotent calls retried with backoff; writes never re-sent once they may have left."""

from __future__ import annotations

import httpx
import pytest
import respx

import socialgate as sg

TWEET = {"data": {"id": "20", "text": "hello"}}
CREATED = {"data": {"id": "1445880548472328192", "text": "hi", "edit_history_tweet_ids": ["1"]}}


async def test_get_is_retried_on_503_with_backoff(
    x_api: respx.MockRouter, client: sg.Client, clock: sg.FakeClock
) -> None:
    route = x_api.get("/2/tweets/20").mock(
        side_effect=[
            httpx.Response(503, json={"title": "Service Unavailable"}),
            httpx.Response(503, json={"title": "Service Unavailable"}),
            httpx.Response(200, json=TWEET),
        ]
    )
    acct = client.account("x", sg.BearerToken("app-token-1234"))
    assert (await acct.posts.get("20")).id == "20"
    assert route.call_count == 3
    assert len(clock.sleeps) == 2 and all(0 < s < 5 for s in clock.sleeps)


async def test_get_gives_up_after_max_retries(
    x_api: respx.MockRouter, clock: sg.FakeClock, token_store: sg.TokenStore
) -> None:
    route = x_api.get("/2/tweets/20").respond(502, json={"title": "Bad Gateway"})
    async with sg.Client(clock=clock, token_store=token_store, max_retries=1) as client:
        acct = client.account("x", sg.BearerToken("app-token-1234"))
        with pytest.raises(sg.ServerError) as info:
            await acct.posts.get("20")
    assert route.call_count == 2
    assert info.value.status == 502 and not info.value.outcome_unknown


async def test_create_whose_response_is_lost_is_not_resent(
    x_api: respx.MockRouter, client: sg.Client
) -> None:
    route = x_api.post("/2/tweets").mock(side_effect=httpx.ReadTimeout("timed out"))
    acct = client.account("x", sg.OAuth2Token(access_token="user-token-abcdef"))
    with pytest.raises(sg.TransportError) as info:
        await acct.posts.create(sg.Draft(text="hi"))
    assert route.call_count == 1
    assert info.value.outcome_unknown is True
    assert "not re-sent" in str(info.value)


async def test_create_answered_5xx_is_not_resent(
    x_api: respx.MockRouter, client: sg.Client
) -> None:
    route = x_api.post("/2/tweets").respond(503, json={"title": "Service Unavailable"})
    acct = client.account("x", sg.OAuth2Token(access_token="user-token-abcdef"))
    with pytest.raises(sg.ServerError) as info:
        await acct.posts.create(sg.Draft(text="hi"))
    assert route.call_count == 1 and info.value.outcome_unknown


async def test_create_that_never_left_is_retried(
    x_api: respx.MockRouter, client: sg.Client
) -> None:
    route = x_api.post("/2/tweets").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(201, json=CREATED)]
    )
    acct = client.account("x", sg.OAuth2Token(access_token="user-token-abcdef"))
    post = await acct.posts.create(sg.Draft(text="hi"))
    assert post.id == "1445880548472328192" and route.call_count == 2


async def test_create_refused_with_429_is_retried_after_the_reset(
    x_api: respx.MockRouter, client: sg.Client, clock: sg.FakeClock
) -> None:
    reset = int(clock.time() + 5)
    route = x_api.post("/2/tweets").mock(
        side_effect=[
            httpx.Response(
                429,
                json={"title": "Too Many Requests", "status": 429},
                headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
            ),
            httpx.Response(201, json=CREATED),
        ]
    )
    acct = client.account("x", sg.OAuth2Token(access_token="user-token-abcdef"))
    await acct.posts.create(sg.Draft(text="hi"))
    assert route.call_count == 2 and clock.time() >= reset


async def test_client_errors_are_not_retried(x_api: respx.MockRouter, client: sg.Client) -> None:
    route = x_api.get("/2/tweets/20").respond(
        400,
        json={
            "errors": [
                {
                    "parameters": {"id": ["x"]},
                    "message": "The `id` query parameter value [x] is not valid",
                }
            ],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.x.com/2/problems/invalid-request",
        },
    )
    acct = client.account("x", sg.BearerToken("app-token-1234"))
    with pytest.raises(sg.BadRequest) as info:
        await acct.posts.get("20")
    assert route.call_count == 1
    assert info.value.code == "invalid-request"


async def test_connect_error_on_get_becomes_transport_error_after_retries(
    x_api: respx.MockRouter, client: sg.Client
) -> None:
    route = x_api.get("/2/tweets/20").mock(side_effect=httpx.ConnectError("refused"))
    acct = client.account("x", sg.BearerToken("app-token-1234"))
    with pytest.raises(sg.TransportError) as info:
        await acct.posts.get("20")
    assert route.call_count == 3 and info.value.sent is False
    assert "ConnectError" in str(info.value)


def test_policy_is_a_value() -> None:
    policy = sg.RetryPolicy(max_retries=3)
    server = sg.ServerError("x", status=503)
    assert policy.decide(server, 1, idempotent=True) is not None
    assert policy.decide(server, 1, idempotent=False) is None
    assert policy.decide(server, 4, idempotent=True) is None
    never_left = sg.TransportError("x", sent=False)
    assert policy.decide(never_left, 1, idempotent=False) is not None
    assert policy.decide(sg.RateLimited("x", scope="daily"), 1, idempotent=True) is None
    assert policy.decide(sg.NotFound("x", status=404), 1, idempotent=True) is None
