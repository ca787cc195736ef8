"""The JSON shape of a payload (keys and JSON types, lists merged), for comparing an
emulator's answer with a recorded one."""

from __future__ import annotations

from typing import Any

__all__ = ["json_shape"]


def json_shape(value: Any) -> Any:
    """Objects keep their keys; a list becomes one merged item (a typed value wins over an
    earlier ``null``) or the sorted set of its scalar types; scalars become type names."""
    if isinstance(value, dict):
        return {k: json_shape(v) for k, v in value.items()}
    if isinstance(value, list):
        merged: dict[str, Any] = {}
        kinds = set()
        for item in value:
            shaped = json_shape(item)
            if isinstance(shaped, dict):
                for k, v in shaped.items():
                    if merged.get(k) in (None, "null"):
                        merged[k] = v
            else:
                kinds.add(shaped)
        return [merged] if merged else sorted(kinds)
    return {bool: "bool", int: "int", float: "number", str: "str"}.get(type(value), "null")
