"""Reddit: spec, adapter, payload mapping, extra grants and the sandbox emulator.

``client.account("reddit", token, app=app)`` for a user token from the authorization-code flow
(``client.oauth("reddit")``; ``duration=permanent`` is asked for, so it can be refreshed);
``script_account`` / ``app_only_account`` for script apps and application-only access, which
Reddit grants without refresh tokens and which renew themselves here.
"""

from .adapter import RedditAdapter
from .auth import app_only_account, app_only_token, password_grant, script_account
from .spec import SPEC

ADAPTER = RedditAdapter

__all__ = [
    "ADAPTER",
    "SPEC",
    "RedditAdapter",
    "app_only_account",
    "app_only_token",
    "password_grant",
    "script_account",
]
