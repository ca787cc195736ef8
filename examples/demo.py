"""The main job, end to end on the local sandbox: what ``make demo`` runs.

Starts ``socialgate sandbox serve`` on a free loopback port (rate-limit windows sped up with
``--time-scale``), then through one ``sg.Client``: reads each network's profile, timeline,
mentions and followers, publishes a post with an image and deletes it, drives one bucket past
its window to show proactive pacing (no 429s), and prints the budgets it saw.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

import socialgate as sg

TIME_SCALE = 300  # a 15-minute window passes in 3 seconds


@dataclass
class NetworkDemo:
    """How the demo signs in on one sandbox network, and what it publishes there."""

    credential: Callable[[], sg.BearerToken | sg.OAuth2Token | sg.AppPassword]
    draft_options: dict[str, str] = field(default_factory=dict)
    # A bucket with a small window to drive past its limit, and the call that uses it.
    burst: Callable[[sg.Account, str], object] | None = None


async def _followers_page(acct: sg.Account, user_id: str) -> None:
    await acct.profiles.followers(user_id, page_size=10)


NETWORKS: dict[str, NetworkDemo] = {
    "x": NetworkDemo(
        credential=lambda: sg.OAuth2Token(access_token="sandbox-user-demo"),
        burst=_followers_page,  # X allows 15 follower pages per 15 minutes
    ),
    "mastodon": NetworkDemo(
        credential=lambda: sg.BearerToken("sandbox-user-demo"),
        draft_options={"visibility": "unlisted"},
    ),
    "bluesky": NetworkDemo(
        credential=lambda: sg.AppPassword("sandbox-demo.bsky.social", "sandbox-app-password"),
    ),
    "reddit": NetworkDemo(
        credential=lambda: sg.OAuth2Token(access_token="sandbox-user-demo"),
        draft_options={"subreddit": "sandbox", "title": "Hello from the socialgate demo"},
    ),
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def sandbox_server(time_scale: float) -> Iterator[str]:
    port = _free_port()
    cmd = [sys.executable, "-m", "socialgate", "sandbox", "serve", "--port", str(port)]
    cmd += ["--time-scale", str(time_scale), "--posts", "20000"]
    errors = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errors)
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{root}/_sandbox/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                errors.seek(0)
                raise SystemExit(f"the sandbox did not start:\n{errors.read().decode()}")
            time.sleep(0.1)
        yield root
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        errors.close()


async def run_network(client: sg.Client, name: str, demo: NetworkDemo) -> dict[str, object]:
    from publish_with_media import tiny_png

    acct = client.account(name, demo.credential(), key=f"demo-{name}")
    me = await acct.profiles.me()
    posts = [p async for p in acct.posts.list(me.id, limit=5)]
    mentions = [p async for p in acct.mentions.list(limit=3)]
    can = acct.capabilities
    followers = []
    if sg.Capability.FOLLOWERS in can:
        followers = [f async for f in acct.profiles.followers(me.id, limit=3)]
    print(f"\n== {name}: @{me.handle} ({me.display_name}), {me.followers_count} followers")
    for post in posts[:3]:
        print(f"   post     {post.created_at:%Y-%m-%d}  {post.text[:60]!r}")
    for post in mentions[:2]:
        by = post.author.handle if post.author else post.author_id
        print(f"   mention  by {by}: {post.text[:50]!r}")
    if followers:
        print(f"   followers {', '.join('@' + (f.handle or f.id) for f in followers)}")
    else:
        print(f"   followers: {name} does not list them (capability not offered)")

    media = []
    if sg.Capability.MEDIA_UPLOAD in can:
        png = tiny_png()
        media.append(await acct.media.upload(png, mime_type="image/png", alt_text="A teal square"))
    created = await acct.posts.create(
        sg.Draft(text="Hello from the socialgate demo", media=media, options=demo.draft_options)
    )
    fetched = await acct.posts.get(created.id)
    await acct.posts.delete(created.id)
    print(f"   published {fetched.id} with {len(fetched.media)} image(s), then deleted it")

    waited = 0.0
    if demo.burst is not None:
        start = time.monotonic()
        for _ in range(20):
            await demo.burst(acct, me.id)  # type: ignore[func-returns-value]
        waited = time.monotonic() - start
        print(f"   20 calls on a 15-per-window bucket: paced in {waited:.1f}s (window scaled down)")
    for bucket, info in sorted(acct.rate_limits.items()):
        left = "?" if info.remaining is None else f"{info.remaining:.0f}"
        limit = "?" if info.limit is None else f"{info.limit:.0f}"
        print(f"   budget {bucket:<18} {left:>5}/{limit:<6} left")
    return {"posts": len(posts), "mentions": len(mentions), "published": 1}


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", default=",".join(NETWORKS), help="comma-separated")
    args = parser.parse_args()
    chosen = [n for n in args.networks.split(",") if n]
    with sandbox_server(TIME_SCALE) as root:
        print(f"sandbox running at {root} (rate-limit windows x{TIME_SCALE} faster)")
        async with sg.Client(
            base_urls=sg.sandbox.base_urls(root), token_store=sg.MemoryTokenStore()
        ) as client:
            for name in chosen:
                await run_network(client, name, NETWORKS[name])
            stats = (await client.http.get(f"{root}/_sandbox/stats")).json()
    print("\n== sandbox counters")
    for name in chosen:
        counts = stats.get("networks", stats).get(name, {})
        print(
            f"   {name}: {counts.get('requests', '?')} requests, "
            f"{counts.get('rate_limited', counts.get('429s', '?'))} answered 429, "
            f"{counts.get('writes_applied', counts.get('writes', '?'))} writes applied"
        )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    raise SystemExit(asyncio.run(main()))
