"""Upload an image with alt text, publish a post carrying it, then delete the post.

Needs a user-context token with tweet.write and media.write scopes:
    X_USER_TOKEN=... python examples/publish_with_media.py
Against the sandbox (its demo user token):
    python examples/publish_with_media.py --sandbox http://127.0.0.1:8765
"""

from __future__ import annotations

import argparse
import asyncio
import os
import struct
import zlib

import socialgate as sg

SANDBOX_USER_TOKEN = "sandbox-user-demo"


def tiny_png(width: int = 8, height: int = 8) -> bytes:
    """A valid PNG (solid teal), so the example needs no image file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + b"\x00\x80\x80" * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


async def publish_and_delete(acct: sg.Account, text: str) -> sg.Post:
    media = await acct.media.upload(tiny_png(), mime_type="image/png", alt_text="A teal square")
    print(f"uploaded media {media.id} ({media.kind}, alt text {media.alt_text!r})")
    post = await acct.posts.create(sg.Draft(text=text, media=[media]))
    print(f"published {post.url}")
    await acct.posts.delete(post.id)
    print(f"deleted {post.id}")
    return post


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sandbox", help="sandbox root URL, e.g. http://127.0.0.1:8765")
    parser.add_argument("--text", default="Hello from socialgate")
    args = parser.parse_args()
    if args.sandbox:
        client = sg.Client(base_urls=sg.sandbox.base_urls(args.sandbox))
        token = SANDBOX_USER_TOKEN
    else:
        token = os.environ.get("X_USER_TOKEN", "")
        if not token:
            raise SystemExit("set X_USER_TOKEN (OAuth 2.0 user token), or pass --sandbox URL")
        client = sg.Client()
    async with client:
        acct = client.account("x", sg.OAuth2Token(access_token=token))
        await publish_and_delete(acct, args.text)


if __name__ == "__main__":
    asyncio.run(main())
