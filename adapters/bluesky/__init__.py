"""Bluesky (AT Protocol): spec, session auth, adapter, facets and payload mapping."""

from .adapter import BlueskyAdapter
from .spec import SPEC

ADAPTER = BlueskyAdapter

__all__ = ["ADAPTER", "SPEC", "BlueskyAdapter"]
