"""socialgate's sandbox: local emulators of the networks' real wire formats.

In-process (fast tests)::

    app = sg.sandbox.create_app(seed=1, clock=sg.FakeClock())
    async with sg.Client(base_urls=sg.sandbox.base_urls("http://sandbox"),
                         transport=httpx.ASGITransport(app=app)) as client:
        acct = client.account("x", sg.BearerToken("sandbox-app-demo"))

As a server: ``socialgate sandbox serve --port 8765 --time-scale 60`` and
``sg.sandbox.base_urls("http://127.0.0.1:8765")``.

Demo credentials (each emulator also issues tokens through its own OAuth endpoints):

- X: ``sg.BearerToken("sandbox-app-<anything>")`` (app-only) or
  ``sg.OAuth2Token(access_token="sandbox-user-demo")`` (the demo user);
- Mastodon: ``sg.BearerToken("sandbox-user-demo")``;
- Bluesky: ``sg.AppPassword("sandbox-demo.bsky.social", "sandbox-app-password")``;
- Reddit: ``sg.OAuth2Token(access_token="sandbox-user-demo")``.

The emulators need the ``sandbox`` extra (starlette, python-multipart); ``base_urls`` does not.
"""

from __future__ import annotations

from collections.abc import Iterable

from .app import DEFAULT_NETWORKS, SandboxApp, SandboxContext, create_app
from .emulator import Emulator
from .faults import ConnectionDropped, FaultConfig, FaultDecision, FaultInjector, Stats
from .limits import FixedWindowLimiter, WindowState

__all__ = [
    "APP_TOKEN_PREFIX",
    "DEFAULT_NETWORKS",
    "DEMO_USER_TOKEN",
    "ConnectionDropped",
    "Emulator",
    "FaultConfig",
    "FaultDecision",
    "FaultInjector",
    "FixedWindowLimiter",
    "SandboxApp",
    "SandboxContext",
    "Stats",
    "WindowState",
    "base_urls",
    "create_app",
]

APP_TOKEN_PREFIX = "sandbox-app-"
DEMO_USER_TOKEN = "sandbox-user-demo"


def base_urls(root: str, networks: Iterable[str] | None = None) -> dict[str, str]:
    """The ``base_urls`` mapping for ``sg.Client`` against a sandbox served at ``root``:
    ``{"x": "http://127.0.0.1:8765/x", ...}``."""
    base = root.rstrip("/")
    return {name: f"{base}/{name}" for name in (networks or DEFAULT_NETWORKS)}
