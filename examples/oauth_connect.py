"""Connect a user's X account with OAuth 2.0 + PKCE and keep the token, encrypted, for later.

A web app sends the user to ``auth.url`` and handles the redirect; here the redirect URL is
pasted in. Against the sandbox the consent screen approves by itself, so the example follows
the redirect on its own:
    X_CLIENT_ID=... X_CLIENT_SECRET=... python examples/oauth_connect.py
    python examples/oauth_connect.py --sandbox http://127.0.0.1:8765
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path

import httpx

import socialgate as sg

REDIRECT_URI = "http://127.0.0.1:8000/callback"


async def connect(client: sg.Client, app: sg.OAuthApp, *, sandbox: bool) -> sg.OAuth2Token:
    flow = client.oauth("x", app)
    auth = flow.authorization_url(scopes=["tweet.read", "users.read", "offline.access"])
    if sandbox:
        async with httpx.AsyncClient() as browser:
            redirect = (await browser.get(auth.url)).headers["location"]
    else:
        print(f"Open this URL, approve, then paste the URL you were sent to:\n{auth.url}")
        redirect = (await asyncio.to_thread(input, "redirect URL> ")).strip()
    code = flow.parse_callback(redirect, expected_state=auth.state)
    return await flow.exchange_code(code, code_verifier=auth.code_verifier)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sandbox", help="sandbox root URL, e.g. http://127.0.0.1:8765")
    parser.add_argument("--store", type=Path, default=None, help="token database path")
    args = parser.parse_args()
    if args.sandbox:
        app = sg.OAuthApp("examples-client", "examples-secret", redirect_uri=REDIRECT_URI)
        base_urls = sg.sandbox.base_urls(args.sandbox)
    else:
        app = sg.OAuthApp(
            os.environ["X_CLIENT_ID"], os.environ.get("X_CLIENT_SECRET"), redirect_uri=REDIRECT_URI
        )
        base_urls = {}
    store_path = args.store or Path(tempfile.mkdtemp()) / "tokens.sqlite3"
    store = sg.SQLiteTokenStore(store_path)
    async with sg.Client(base_urls=base_urls, token_store=store, apps={"x": app}) as client:
        token = await connect(client, app, sandbox=bool(args.sandbox))
        print(f"connected; scopes {' '.join(token.scopes)}; expires {token.expires_at}")
        # key= names the credential in the store: refreshes rotate the token under it.
        acct = client.account("x", token, key="crm-user-42")
        me = await acct.profiles.me()
        print(f"connected as @{me.handle}; token kept encrypted in {store_path}")


if __name__ == "__main__":
    asyncio.run(main())
