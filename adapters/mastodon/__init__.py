"""Mastodon (any instance): spec, adapter, payload mapping and app registration.

Use ``client.account("mastodon", sg.BearerToken(...), base_url="https://fosstodon.org")``;
``register_app`` creates the per-instance OAuth app for ``client.oauth("mastodon", app,
base_url=...)``; ``revoke_token`` cuts a connected account off (its tokens never expire).
"""

from .adapter import MastodonAdapter
from .apps import register_app, revoke_token
from .spec import SPEC

ADAPTER = MastodonAdapter

__all__ = ["ADAPTER", "SPEC", "MastodonAdapter", "register_app", "revoke_token"]
