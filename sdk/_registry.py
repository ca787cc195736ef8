"""Finds adapters by network name, lazily: the core never imports an adapter at import time.

Adapters register under the ``socialgate.adapters`` entry-point group (``x = "pkg:Class"``);
``register_adapter`` adds one in code (tests, private networks). Aliases come from each
spec's ``aliases``.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from ._errors import NotSupported

if TYPE_CHECKING:
    from ._adapter import Adapter

__all__ = ["available_networks", "load_adapter", "register_adapter"]

GROUP = "socialgate.adapters"
# Bundled adapters, so that a source checkout without installed metadata still works.
_BUILTIN: dict[str, str] = {
    "x": "socialgate.adapters.x:XAdapter",
    "mastodon": "socialgate.adapters.mastodon:MastodonAdapter",
    "bluesky": "socialgate.adapters.bluesky:BlueskyAdapter",
    "reddit": "socialgate.adapters.reddit:RedditAdapter",
}
_BUILTIN_ALIASES: dict[str, str] = {"twitter": "x", "bsky": "bluesky"}

_loaded: dict[str, type[Adapter]] = {}


def register_adapter(adapter: type[Adapter]) -> None:
    """Make ``adapter`` available under its spec's name and aliases."""
    spec = adapter.spec
    for name in (spec.name, *spec.aliases):
        _loaded[name.lower()] = adapter


def _targets() -> dict[str, str]:
    targets = {**_BUILTIN, **{a: _BUILTIN[n] for a, n in _BUILTIN_ALIASES.items()}}
    for ep in entry_points(group=GROUP):
        targets[ep.name.lower()] = ep.value
    return targets


def available_networks() -> list[str]:
    return sorted(set(_targets()) | set(_loaded))


def load_adapter(network: str) -> type[Adapter]:
    name = network.lower()
    adapter = _loaded.get(name)
    if adapter is not None:
        return adapter
    target = _targets().get(name)
    if target is None:
        raise NotSupported(
            f"no adapter for network '{network}'; available: {', '.join(available_networks())}"
        )
    module_name, _, attr = target.partition(":")
    adapter = getattr(importlib.import_module(module_name), attr)
    register_adapter(adapter)
    _loaded[name] = adapter
    return adapter
