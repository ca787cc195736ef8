"""Reads rate-limit state from HTTP response headers of every network into ``RateLimitInfo``.

One parser covers all header conventions the SDK meets: X's ``x-rate-limit-*`` and its 24-hour
posting limits, ``X-RateLimit-*`` (Mastodon, Pinterest, TikTok, and Reddit's used/seconds-until
variant), the IETF draft ``RateLimit-*`` + ``RateLimit-Policy`` (Bluesky) and its newer
structured-field form ``RateLimit``, Meta's JSON usage headers and ``Retry-After``. It runs on
every response, so the common case (no rate-limit header at all) costs one pass over the
header names.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple

__all__ = [
    "RateLimitInfo",
    "parse_rate_limit_headers",
    "parse_reset",
    "parse_retry_after",
]


class RateLimitInfo(NamedTuple):
    """One rate limit as reported by a response, normalised across networks.

    ``reset_at`` is absolute wall-clock epoch seconds in the *local* clock (corrected for the
    server's clock when its ``Date`` header disagrees), ``retry_after`` is relative to the
    ``now`` given to the parser. ``usage_pct`` is only set by Meta's percentage headers; it can
    exceed 100 while Meta is throttling. The primary limit has ``name == ""``.

    Immutable and hashable. A named tuple rather than a frozen dataclass: one is built per
    answer, and a frozen dataclass costs three times as much to build.
    """

    limit: float | None
    remaining: float | None
    reset_at: float | None
    window: float | None = None
    retry_after: float | None = None
    usage_pct: float | None = None
    scope: str = "window"
    name: str = ""


# Numeric reset values above this are epoch seconds; below it, seconds until the reset
# (1e9 s is 2001-09-09, so no live epoch is smaller and no sane delay is larger).
_EPOCH_THRESHOLD = 1e9
# ``Date`` has one-second resolution, so a difference this small is rounding, not skew.
_SKEW_TOLERANCE = 2.0
# Meta nests at most three containers (BUC: object -> list -> object); one level spare, and
# the bound keeps a hostile header from driving deep recursion.
_META_MAX_DEPTH = 4

_X = ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")
_X_DAILY = (
    (
        "app-24h",
        "x-app-limit-24hour-limit",
        "x-app-limit-24hour-remaining",
        "x-app-limit-24hour-reset",
    ),
    (
        "user-24h",
        "x-user-limit-24hour-limit",
        "x-user-limit-24hour-remaining",
        "x-user-limit-24hour-reset",
    ),
)
_X_LIMIT, _X_REMAINING, _X_RESET = _X
_X_WINDOW = frozenset(_X)
_XRL = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")
_XRL_USED = "x-ratelimit-used"
_DRAFT = ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")
_POLICY = "ratelimit-policy"
_STRUCTURED = "ratelimit"
_RETRY_AFTER = "retry-after"
_DATE = "date"
_META = (
    ("x-app-usage", "meta-app"),
    ("x-business-use-case-usage", "meta-buc"),
    ("x-ad-account-usage", "meta-ad-account"),
    ("x-fb-ads-insights-throttle", "meta-insights"),
)
_META_NAMES = frozenset(header for header, _ in _META)
_META_PCT_KEYS = frozenset(
    {"call_count", "total_time", "total_cputime", "acc_id_util_pct", "app_id_util_pct"}
)
# Backslash escapes inside structured-field quoted strings (RFC 8941 3.3.3).
_ESCAPE = re.compile(r"\\(.)")

# Names whose presence means "there is something to parse"; ``Date`` is deliberately absent
# because every response carries it.
_KNOWN = frozenset(
    {
        *_X,
        *(name for entry in _X_DAILY for name in entry[1:]),
        *_XRL,
        _XRL_USED,
        *_DRAFT,
        _POLICY,
        _STRUCTURED,
        _RETRY_AFTER,
        *_META_NAMES,
    }
)


def parse_rate_limit_headers(
    headers: Mapping[str, str], *, now: float, reset_style: str = "auto"
) -> list[RateLimitInfo]:
    """Every rate limit described by ``headers`` (success or error response).

    ``headers`` is ``httpx.Headers`` or any mapping; names are matched case-insensitively.
    ``now`` is the local wall clock in epoch seconds. ``reset_style`` says how numeric reset
    headers are read (see ``parse_reset``). Returns ``[]`` when no rate-limit header is
    present; the primary limit (``name == ""``) comes first, then X's daily limits, other
    structured-field policies and Meta's usage headers. Unparseable values count as absent.
    """
    found: dict[str, str] | None = None
    date_value: str | None = None
    if hasattr(headers, "getall"):
        # multidict's case-insensitive map (aiohttp's headers): its key view intersects
        # case-insensitively in C, cheaper than lower-casing every header name in Python.
        names = headers.keys() & _KNOWN
        if not names:
            return []
        if names == _X_WINDOW:
            # X's usual answer, the window triple alone: read it without the general walk.
            return _x_window(headers, now, reset_style)
        found = {name.lower(): headers[name] for name in names}
        date_value = headers.get(_DATE)
    else:
        for key, value in headers.items():
            lowered = key.lower()
            if lowered in _KNOWN:
                if found is None:
                    found = {}
                found[lowered] = value
            elif lowered == _DATE:
                date_value = value
        if found is None:
            return []

    skew, server_now = _skew(date_value, now)
    primary, extras = _primary(found, now, skew, reset_style)

    retry_value = found.get(_RETRY_AFTER)
    if retry_value is not None:
        # An HTTP-date Retry-After is server time too, so measure it from the server's now.
        retry_after = parse_retry_after(retry_value, now=server_now)
        if retry_after is not None:
            if primary is None:
                primary = RateLimitInfo(None, None, None, retry_after=retry_after)
            else:
                primary = primary._replace(retry_after=retry_after)

    result: list[RateLimitInfo] = [] if primary is None else [primary]

    for name, limit_key, remaining_key, reset_key in _X_DAILY:
        if limit_key not in found and remaining_key not in found and reset_key not in found:
            continue
        daily = _triple(found, limit_key, remaining_key, reset_key, now, skew, reset_style)
        if daily is not None:
            limit, remaining, reset_at = daily
            result.append(RateLimitInfo(limit, remaining, reset_at, scope="daily", name=name))

    result.extend(extras)

    if not _META_NAMES.isdisjoint(found):
        for header, name in _META:
            meta_value = found.get(header)
            if meta_value is not None:
                meta = _meta_usage(meta_value, name, now)
                if meta is not None:
                    result.append(meta)

    return result


def _skew(date_value: str | None, now: float) -> tuple[float, float]:
    """(local minus server clock, the server's now) from a ``Date`` header.

    A server whose clock is off by minutes would make absolute resets wrong by the same
    amount; shifting by (now - server time) turns them into local-clock instants."""
    if date_value is not None:
        server_date = _http_date(date_value)
        if server_date is not None and abs(server_date - now) > _SKEW_TOLERANCE:
            return now - server_date, server_date
    return 0.0, now


def _x_window(headers: Mapping[str, str], now: float, reset_style: str) -> list[RateLimitInfo]:
    """``parse_rate_limit_headers`` for headers whose only rate-limit names are X's window
    triple. Three finite numbers, X's usual answer, are read inline (each helper call costs
    more than the parsing); anything else takes the general path's steps, one value at a
    time. ``test_x_window_shortcut_equals_the_general_walk`` holds both to the same result."""
    date_value = headers.get(_DATE)
    skew = 0.0 if date_value is None else _skew(date_value, now)[0]
    limit_value = headers[_X_LIMIT]
    remaining_value = headers[_X_REMAINING]
    reset_value = headers[_X_RESET]
    try:
        limit, remaining, reset = float(limit_value), float(remaining_value), float(reset_value)
    except ValueError:
        pass
    else:
        if _isfinite(limit) and _isfinite(remaining) and _isfinite(reset):
            if reset_style == "epoch" or (reset_style != "delta" and reset > _EPOCH_THRESHOLD):
                reset += skew
            else:
                reset = now + max(0.0, reset)
            # What RateLimitInfo(limit, remaining, reset) builds, without its Python __new__.
            return [_new_tuple(RateLimitInfo, (limit, remaining, reset, *_INFO_DEFAULTS))]
    limit_or_none = _number(limit_value)
    remaining_or_none = _number(remaining_value)
    reset_at = _local_reset(reset_value, now, skew, reset_style)
    if limit_or_none is None and remaining_or_none is None and reset_at is None:
        return []
    return [RateLimitInfo(limit_or_none, remaining_or_none, reset_at)]


_isfinite = math.isfinite
_new_tuple = tuple.__new__
# RateLimitInfo's fields after reset_at, at their defaults.
_INFO_DEFAULTS = tuple(RateLimitInfo._field_defaults[name] for name in RateLimitInfo._fields[3:])


def parse_retry_after(value: str, *, now: float) -> float | None:
    """``Retry-After`` (delta-seconds or HTTP-date) as seconds from ``now``, never negative.

    Fractional seconds are accepted although RFC 9110 only allows integers, because some
    servers send them. Returns ``None`` for unparseable or negative delays.
    """
    number = _number(value)
    if number is not None:
        return number if number >= 0 else None
    when = _http_date(value)
    if when is None:
        return None
    return max(0.0, when - now)


def parse_reset(value: str, *, now: float, style: str = "auto") -> float | None:
    """A reset header value as absolute epoch seconds.

    ``style`` is ``"epoch"``, ``"delta"`` (seconds until the reset), ``"iso"`` (an ISO-8601
    timestamp) or ``"auto"``: ISO-8601 text is detected, numbers above 1e9 are epoch seconds
    and smaller ones seconds-until. Text timestamps are recognised in every style, and a number
    under ``"iso"`` is read as under ``"auto"``. Returns ``None`` if unparseable.
    """
    parsed = _reset(value, now, style)
    return None if parsed is None else parsed[0]


def _primary(
    found: dict[str, str], now: float, skew: float, reset_style: str
) -> tuple[RateLimitInfo | None, list[RateLimitInfo]]:
    """The primary limit, plus further structured-field policies.

    Families are tried from most to least specific; a server sending two of them (some send
    both ``X-RateLimit-*`` and ``RateLimit-*``) describes the same limit twice.
    """
    x = _triple(found, *_X, now, skew, reset_style)
    if x is not None:
        return RateLimitInfo(*x), []

    if _STRUCTURED in found:
        entries = _structured(found[_STRUCTURED], found.get(_POLICY), now)
        if entries:
            return entries[0], entries[1:]

    draft = _draft(found, now, skew, reset_style)
    if draft is not None:
        return draft, []

    xrl = _triple(found, *_XRL, now, skew, reset_style)
    used = _number(found.get(_XRL_USED))
    if xrl is not None:
        limit, remaining, reset_at = xrl
        # Reddit sends used + remaining instead of a limit.
        if limit is None and used is not None and remaining is not None:
            limit = used + remaining
        return RateLimitInfo(limit, remaining, reset_at), []
    return None, []


def _triple(
    found: dict[str, str],
    limit_key: str,
    remaining_key: str,
    reset_key: str,
    now: float,
    skew: float,
    reset_style: str,
) -> tuple[float | None, float | None, float | None] | None:
    limit = _number(found.get(limit_key))
    remaining = _number(found.get(remaining_key))
    reset_at = _local_reset(found.get(reset_key), now, skew, reset_style)
    if limit is None and remaining is None and reset_at is None:
        return None
    return limit, remaining, reset_at


def _draft(
    found: dict[str, str], now: float, skew: float, reset_style: str
) -> RateLimitInfo | None:
    limit_key, remaining_key, reset_key = _DRAFT
    # Early drafts allowed a policy list inside RateLimit-Limit ("100, 100;w=60"); its first
    # member is the limit that counts.
    limit = _first_number(found.get(limit_key))
    remaining = _first_number(found.get(remaining_key))
    reset_at = _local_reset(_first_bare(found.get(reset_key)), now, skew, reset_style)
    window: float | None = None
    policy_value = found.get(_POLICY)
    if policy_value is not None:
        policies = [
            (quota, params)
            for bare, params in _members(policy_value)
            if (quota := _number(bare)) is not None
        ]
        if policies:
            chosen = next((p for p in policies if p[0] == limit), policies[0])
            window = _number(chosen[1].get("w"))
            if limit is None:
                limit = chosen[0]
    if limit is None and remaining is None and reset_at is None:
        return None
    return RateLimitInfo(limit, remaining, reset_at, window=window)


def _structured(value: str, policy_value: str | None, now: float) -> list[RateLimitInfo]:
    """``RateLimit: "name";r=..;t=..`` joined with ``RateLimit-Policy: "name";q=..;w=..``.

    ``t`` is always seconds-until in this form, whatever the network's reset style. The item
    with the fewest remaining requests becomes primary, because it is the one that bites first.
    """
    policies: dict[str, dict[str, str]] = {}
    if policy_value is not None:
        for bare, params in _members(policy_value):
            policies.setdefault(bare, params)
    entries: list[tuple[str, RateLimitInfo]] = []
    for bare, params in _members(value):
        remaining = _number(params.get("r"))
        delta = _number(params.get("t"))
        reset_at = now + delta if delta is not None and delta >= 0 else None
        policy = policies.get(bare, {})
        limit = _number(policy.get("q"))
        window = _number(policy.get("w"))
        if remaining is None and reset_at is None and limit is None:
            continue
        entries.append((bare, RateLimitInfo(limit, remaining, reset_at, window=window)))
    if not entries:
        return []
    best = min(range(len(entries)), key=lambda i: _remaining_or_inf(entries[i][1]))
    result = [entries[best][1]]
    for i, (bare, info) in enumerate(entries):
        if i != best:
            result.append(info._replace(name=bare or f"policy-{i}"))
    return result


def _remaining_or_inf(info: RateLimitInfo) -> float:
    return math.inf if info.remaining is None else info.remaining


def _meta_usage(value: str, name: str, now: float) -> RateLimitInfo | None:
    try:
        data = json.loads(value)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict | list):
        return None
    usage: float | None = None
    wait = 0.0
    for obj in _dicts(data, _META_MAX_DEPTH):
        for key, raw in obj.items():
            number = _json_number(raw)
            if number is None:
                continue
            if key in _META_PCT_KEYS:
                usage = number if usage is None else max(usage, number)
            elif key == "estimated_time_to_regain_access":
                wait = max(wait, number * 60.0)
            elif key == "reset_time_duration":
                wait = max(wait, number)
    if usage is None and wait <= 0:
        return None
    reset_at = now + wait if wait > 0 else None
    return RateLimitInfo(None, None, reset_at, usage_pct=usage, name=name)


def _dicts(obj: Any, depth: int) -> Iterator[dict[str, Any]]:
    if depth <= 0:
        return
    if isinstance(obj, dict):
        yield obj
        children: Any = obj.values()
    elif isinstance(obj, list):
        children = obj
    else:
        return
    for child in children:
        if isinstance(child, dict | list):
            yield from _dicts(child, depth - 1)


def _json_number(raw: Any) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    try:
        number = float(raw)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _local_reset(value: str | None, now: float, skew: float, style: str) -> float | None:
    if value is None:
        return None
    parsed = _reset(value, now, style)
    if parsed is None:
        return None
    reset_at, absolute = parsed
    return reset_at + skew if absolute else reset_at


def _reset(value: str, now: float, style: str) -> tuple[float, bool] | None:
    """(epoch seconds, whether the value was an absolute time)."""
    number = _number(value)
    if number is not None:
        if style == "epoch":
            return number, True
        if style == "delta":
            return now + max(0.0, number), False
        if number > _EPOCH_THRESHOLD:
            return number, True
        return now + max(0.0, number), False
    when = _iso(value)
    if when is None:
        # Some servers put an HTTP-date where a reset belongs.
        when = _http_date(value)
    return None if when is None else (when, True)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _iso(value: str) -> float | None:
    try:
        when = datetime.fromisoformat(value.strip())
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.timestamp()
    except (TypeError, ValueError, OverflowError, AttributeError):
        return None


@functools.lru_cache(maxsize=64)
def _http_date(value: str) -> float | None:
    # Cached: a server's Date header repeats within each second across many answers.
    try:
        when = parsedate_to_datetime(value.strip())
        if when.tzinfo is None:
            # "-0000" means UTC with unknown local zone (RFC 5322).
            when = when.replace(tzinfo=UTC)
        return when.timestamp()
    except (TypeError, ValueError, OverflowError, IndexError, AttributeError):
        return None


def _first_bare(value: str | None) -> str | None:
    if value is None or ("," not in value and ";" not in value):
        return value
    return value.split(",", 1)[0].split(";", 1)[0]


def _first_number(value: str | None) -> float | None:
    return _number(_first_bare(value))


def _members(value: str) -> list[tuple[str, dict[str, str]]]:
    """A lenient reading of a structured-field list: (bare item, {param: value}) per member.

    Both draft generations fit: ``100;w=60, 1000;w=3600`` and ``"default";q=100;w=60``. A
    parameter without a value is a boolean true (``?1``), as in RFC 8941.
    """
    members: list[tuple[str, dict[str, str]]] = []
    for member in _split_unquoted(value, ","):
        pieces = _split_unquoted(member, ";")
        bare = _unquote(pieces[0].strip())
        params: dict[str, str] = {}
        for piece in pieces[1:]:
            key, eq, raw = piece.partition("=")
            key = key.strip().lower()
            if key:
                params.setdefault(key, _unquote(raw.strip()) if eq else "?1")
        if bare or params:
            members.append((bare, params))
    return members


def _split_unquoted(text: str, sep: str) -> list[str]:
    if '"' not in text:
        return text.split(sep)
    parts: list[str] = []
    start = 0
    in_quotes = False
    escaped = False
    for i, ch in enumerate(text):
        if in_quotes:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_quotes = False
        elif ch == '"':
            in_quotes = True
        elif ch == sep:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return _ESCAPE.sub(r"\1", text[1:-1])
    return text
