"""Read a profile and its latest posts, then print the rate-limit budgets the network reported.

Against the real X API:   X_BEARER_TOKEN=... python examples/read_timeline.py --handle XDevelopers
Against the sandbox:      socialgate sandbox serve --port 8765 &
                          python examples/read_timeline.py --sandbox http://127.0.0.1:8765
"""

from __future__ import annotations

import argparse
import asyncio
import os
from datetime import UTC, datetime, timedelta

import socialgate as sg

SANDBOX_APP_TOKEN = "sandbox-app-examples"


async def read_timeline(acct: sg.Account, handle: str, *, limit: int = 10) -> list[sg.Post]:
    profile = await acct.profiles.get(handle)
    print(f"@{profile.handle} ({profile.display_name}): {profile.followers_count} followers")
    since = datetime.now(UTC) - timedelta(days=3650)
    posts = acct.posts.list(profile.id, since=since, limit=limit)
    seen = []
    async for post in posts:
        seen.append(post)
        when = post.created_at.strftime("%Y-%m-%d %H:%M") if post.created_at else "?"
        likes = post.metrics.likes if post.metrics.likes is not None else "-"
        print(f"  {when}  {likes!s:>5} likes  {post.text[:70]!r}")
    print(f"  resume later with cursor={posts.cursor!r}")
    return seen


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sandbox", help="sandbox root URL, e.g. http://127.0.0.1:8765")
    parser.add_argument("--handle", default=None, help="whose posts (default: a sandbox user)")
    args = parser.parse_args()
    if args.sandbox:
        client = sg.Client(base_urls=sg.sandbox.base_urls(args.sandbox))
        token = SANDBOX_APP_TOKEN
    else:
        token = os.environ.get("X_BEARER_TOKEN", "")
        if not token:
            raise SystemExit("set X_BEARER_TOKEN, or pass --sandbox URL")
        client = sg.Client()
    async with client:
        acct = client.account("x", sg.BearerToken(token))
        default = "sandbox_demo" if args.sandbox else "XDevelopers"
        await read_timeline(acct, args.handle or default)
        for bucket, info in acct.rate_limits.items():
            print(f"  budget {bucket}: {info.remaining:.0f}/{info.limit:.0f} left")


if __name__ == "__main__":
    asyncio.run(main())
