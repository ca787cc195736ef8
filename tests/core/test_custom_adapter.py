"""The adapter extension point, with a minimal network: spec headers, body-level errors,
NotSupported for what an adapter leaves out."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

import socialgate as sg
from socialgate._adapter import Adapter
from socialgate._spec import BucketSpec, ErrorInfo, ProviderSpec


class ForumAdapter(Adapter):
    spec = ProviderSpec(
        name="forum",
        display_name="Forum",
        base_url="https://forum.example",
        headers=(("User-Agent", "crm-sync/1.0 by ops@corp.example"), ("Forum-Version", "202405")),
        buckets={"posts": BucketSpec(600, user_limit=100, shared_by_app=True)},
        capabilities=frozenset({sg.Capability.POSTS_GET}),
    )

    async def get_post(self, post_id: str) -> sg.Post:
        response = await self.account.call("GET", f"/posts/{post_id}", bucket="posts")
        body: Any = self.account.decode(response)
        if body.get("errors"):  # a 200 that is really a rate limit
            info = ErrorInfo(
                code="RATELIMIT",
                message="try again in 5 minutes",
                rate_limit_scope="window",
                retry_after=300,
            )
            raise await self.account.body_error(response, info, bucket="posts")
        return sg.Post(network="forum", id=body["id"], text=body["text"], raw=body)


@pytest.fixture(autouse=True)
def forum() -> None:
    sg.register_adapter(ForumAdapter)


async def test_spec_headers_are_sent_and_user_agent_overrides_the_default(
    client: sg.Client,
) -> None:
    with respx.mock(base_url="https://forum.example") as api:
        route = api.get("/posts/1").respond(200, json={"id": "1", "text": "hi"})
        acct = client.account("forum", sg.BearerToken("forum-token"))
        post = await acct.posts.get("1")
    assert post.text == "hi"
    sent = route.calls.last.request.headers
    assert sent["User-Agent"] == "crm-sync/1.0 by ops@corp.example"
    assert sent["Forum-Version"] == "202405"


async def test_body_level_rate_limit_raises_and_empties_the_shared_budget(
    client: sg.Client, clock: sg.FakeClock
) -> None:
    with respx.mock(base_url="https://forum.example") as api:
        route = api.get("/posts/1").mock(
            side_effect=[
                httpx.Response(200, json={"errors": [["RATELIMIT", "try again", "ratelimit"]]}),
                httpx.Response(200, json={"id": "1", "text": "hi"}),
            ]
        )
        app = sg.OAuthApp("forum-client")
        alice = client.account("forum", sg.BearerToken("alice-token"), app=app)
        bob = client.account("forum", sg.BearerToken("bob-token"), app=app)
        with pytest.raises(sg.RateLimited) as info:
            await alice.posts.get("1")
        assert info.value.code == "RATELIMIT" and info.value.status == 200
        # The budget is per app (shared_by_app), so bob waits for the hold too.
        await bob.posts.get("1")
    assert route.call_count == 2
    assert clock.sleeps == [pytest.approx(300)]


async def test_what_an_adapter_leaves_out_is_not_supported(client: sg.Client) -> None:
    acct = client.account("forum", sg.BearerToken("forum-token"))
    assert acct.capabilities == frozenset({sg.Capability.POSTS_GET})
    with pytest.raises(sg.NotSupported, match=r"Forum does not support posts\.create"):
        await acct.posts.create("hello")
    with pytest.raises(sg.NotSupported, match=r"mentions\.list"):
        acct.mentions.list()
