"""Reddit's budget: one per OAuth client id, shared by every account of the app, read from
X-Ratelimit-Used/Remaining/Reset (seconds until the reset) and waited out on the fake clock;
429s as asyncprawcore recorded them."""

from __future__ import annotations

import httpx
import pytest
import respx

import socialgate as sg

from .conftest import API, APP, MakeAccount, assert_no_secret, limits, replay


def waits(clock: sg.FakeClock) -> list[float]:
    return [s for s in clock.sleeps if s > 0]


async def test_reset_is_seconds_until(
    api: respx.MockRouter, acct: sg.Account, fake_clock: sg.FakeClock
) -> None:
    api.get(f"{API}/api/v1/me").mock(return_value=replay("me"))  # used 158, 442.0 left, 433 s
    await acct.profiles.me()
    info = acct.rate_limits["default"]
    assert (info.limit, info.remaining) == (600, 442)
    assert info.reset_at == pytest.approx(fake_clock.time() + 433)


async def test_two_accounts_of_one_app_share_the_budget(
    api: respx.MockRouter, make_account: MakeAccount, fake_clock: sg.FakeClock
) -> None:
    me = api.get(f"{API}/api/v1/me").mock(
        side_effect=[
            replay("me", headers=limits(0.0, 1000, 30)),
            replay("me", headers=limits(999.0, 1, 600)),
        ]
    )
    alice = await make_account()
    bob = alice.client.account("reddit", sg.OAuth2Token("bob-access-token-1"), app=APP)
    await alice.profiles.me()
    assert waits(fake_clock) == []
    await bob.profiles.me()  # the app's budget is spent: bob waits for the reset
    assert waits(fake_clock) == [pytest.approx(31.0)]  # 30 s + 1 s margin
    assert me.call_count == 2


async def test_accounts_of_different_apps_do_not_share(
    api: respx.MockRouter, make_account: MakeAccount, fake_clock: sg.FakeClock
) -> None:
    api.get(f"{API}/api/v1/me").mock(
        side_effect=[
            replay("me", headers=limits(0.0, 1000, 30)),
            replay("me", headers=limits(999.0, 1, 600)),
        ]
    )
    alice = await make_account()
    other = sg.OAuthApp("other-client-id", "other-secret")
    carol = alice.client.account("reddit", sg.OAuth2Token("carol-access-token"), app=other)
    await alice.profiles.me()
    await carol.profiles.me()
    assert waits(fake_clock) == []


async def test_spent_budget_raises_when_asked_to(
    api: respx.MockRouter, make_account: MakeAccount
) -> None:
    api.get(f"{API}/api/v1/me").mock(return_value=replay("me", headers=limits(0.0, 1000, 120)))
    acct = await make_account(on_rate_limit="raise")
    await acct.profiles.me()
    with pytest.raises(sg.RateLimited) as info:
        await acct.profiles.me()
    err = info.value
    assert err.sent is False and err.bucket == "default"
    assert err.retry_after == pytest.approx(121.0)


async def test_recorded_429_with_retry_after_is_waited_out(
    api: respx.MockRouter, acct: sg.Account, fake_clock: sg.FakeClock
) -> None:
    # asyncprawcore's recording: an HTML "whoa there, pardner!" page with Retry-After: 2.
    route = api.get(f"{API}/api/v1/me").mock(
        side_effect=[replay("too_many_requests_retry_after"), replay("me")]
    )
    me = await acct.profiles.me()
    assert me.handle == "Lil_SpazJoekp"
    assert route.call_count == 2
    assert waits(fake_clock) == [pytest.approx(3.0)]  # Retry-After 2 s + the 1 s margin


async def test_recorded_429_raises_with_its_wait(
    api: respx.MockRouter, make_account: MakeAccount
) -> None:
    api.get(f"{API}/api/v1/me").mock(return_value=replay("too_many_requests_retry_after"))
    acct = await make_account(on_rate_limit="raise", max_retries=0)
    with pytest.raises(sg.RateLimited) as info:
        await acct.profiles.me()
    err = info.value
    assert (err.status, err.retry_after, err.scope) == (429, 2.0, "window")
    assert err.body is not None and "whoa there, pardner!" in err.body
    assert_no_secret(err)


async def test_429_for_a_submit_is_not_a_double_post(
    api: respx.MockRouter, make_account: MakeAccount, fake_clock: sg.FakeClock
) -> None:
    # A 429 means Reddit refused the request, so re-sending the submit cannot duplicate it.
    route = api.post(f"{API}/api/submit").mock(
        side_effect=[
            httpx.Response(429, headers={"retry-after": "4"}, json={"error": 429}),
            replay("submit_self"),
        ]
    )
    acct = await make_account()
    post = await acct.posts.create(sg.Draft(text="t", options={"subreddit": "x"}))
    assert post.id == "t3_hn86kr" and route.call_count == 2
    assert waits(fake_clock) == [pytest.approx(5.0)]
