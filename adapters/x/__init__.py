"""X (Twitter) API v2: spec, adapter and payload mapping."""

from .adapter import XAdapter
from .spec import SPEC

ADAPTER = XAdapter

__all__ = ["ADAPTER", "SPEC", "XAdapter"]
