"""Tests for socialgate._ratelimit_headers: every rate-limit header convention, with real values."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import httpx
import pytest

from socialgate import _ratelimit_headers as mod
from socialgate._ratelimit_headers import (
    RateLimitInfo,
    parse_rate_limit_headers,
    parse_reset,
    parse_retry_after,
)

# 2023-01-01T12:00:00Z
NOON = 1672574400.0
# 2023-01-01T12:05:00Z
FIVE_PAST = 1672574700.0


# --- no headers / fast path -------------------------------------------------------------


def test_no_rate_limit_headers_returns_empty() -> None:
    headers = httpx.Headers(
        {
            "Content-Type": "application/json",
            "Date": "Sun, 01 Jan 2023 12:00:00 GMT",
            "Server": "nginx",
            "X-Request-Id": "abc",
        }
    )
    assert parse_rate_limit_headers(headers, now=NOON) == []
    assert parse_rate_limit_headers({}, now=NOON) == []


def test_json_is_not_touched_without_meta_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> object:
        raise AssertionError("json.loads called on the fast path")

    monkeypatch.setattr(mod.json, "loads", boom)
    headers = {"x-rate-limit-limit": "300", "x-rate-limit-remaining": "298"}
    assert parse_rate_limit_headers(headers, now=NOON)[0].limit == 300


# --- X ------------------------------------------------------------------------------------


def test_x_recorded_headers() -> None:
    # Copied from a recorded X API v2 response.
    headers = httpx.Headers(
        {
            "x-rate-limit-limit": "300",
            "x-rate-limit-remaining": "298",
            "x-rate-limit-reset": "1665183228",
            "content-type": "application/json; charset=utf-8",
        }
    )
    now = 1665183228.0 - 600
    assert parse_rate_limit_headers(headers, now=now) == [
        RateLimitInfo(limit=300, remaining=298, reset_at=1665183228.0)
    ]


def test_x_daily_posting_limits_follow_primary() -> None:
    now = 1700000000.0
    headers = httpx.Headers(
        {
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "99",
            "x-rate-limit-reset": "1700000900",
            "x-app-limit-24hour-limit": "10000",
            "x-app-limit-24hour-remaining": "9876",
            "x-app-limit-24hour-reset": "1700050000",
            "x-user-limit-24hour-limit": "1000",
            "x-user-limit-24hour-remaining": "0",
            "x-user-limit-24hour-reset": "1700040000",
        }
    )
    infos = parse_rate_limit_headers(headers, now=now)
    assert [i.name for i in infos] == ["", "app-24h", "user-24h"]
    assert infos[0] == RateLimitInfo(100, 99, 1700000900.0)
    assert infos[1] == RateLimitInfo(10000, 9876, 1700050000.0, scope="daily", name="app-24h")
    assert infos[2] == RateLimitInfo(1000, 0, 1700040000.0, scope="daily", name="user-24h")


def test_x_daily_only_has_no_primary() -> None:
    headers = {"x-user-limit-24hour-remaining": "3", "x-user-limit-24hour-reset": "1700040000"}
    infos = parse_rate_limit_headers(headers, now=1700000000.0)
    assert infos == [RateLimitInfo(None, 3, 1700040000.0, scope="daily", name="user-24h")]


# --- Mastodon / GotoSocial / Pinterest / TikTok --------------------------------------------


def test_mastodon_iso_reset_without_date() -> None:
    headers = httpx.Headers(
        {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "299",
            "X-RateLimit-Reset": "2023-01-01T12:05:00.123456Z",
        }
    )
    [info] = parse_rate_limit_headers(headers, now=NOON)
    assert info.limit == 300
    assert info.remaining == 299
    assert info.reset_at == pytest.approx(FIVE_PAST + 0.123456)
    assert info.window is None


def test_mastodon_iso_reset_corrected_for_server_clock_skew() -> None:
    # The server says it is 12:00:00, the local clock reads 12:02:00: the reset is 300 s after
    # the server's now, so 300 s after the local now.
    local_now = NOON + 120
    headers = httpx.Headers(
        {
            "Date": "Sun, 01 Jan 2023 12:00:00 GMT",
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "12",
            "X-RateLimit-Reset": "2023-01-01T12:05:00.123456Z",
        }
    )
    [info] = parse_rate_limit_headers(headers, now=local_now)
    assert info.reset_at == pytest.approx(local_now + 300.123456)


def test_mastodon_small_date_difference_is_not_skew() -> None:
    # Date has one-second resolution; within 2 s the raw reset is kept.
    headers = {
        "date": "Sun, 01 Jan 2023 12:00:00 GMT",
        "x-ratelimit-reset": "2023-01-01T12:05:00Z",
    }
    [info] = parse_rate_limit_headers(headers, now=NOON + 1.7)
    assert info.reset_at == FIVE_PAST


def test_unparseable_date_header_is_ignored() -> None:
    headers = {"Date": "yesterday-ish", "X-RateLimit-Reset": "2023-01-01T12:05:00Z"}
    [info] = parse_rate_limit_headers(headers, now=NOON + 500)
    assert info.reset_at == FIVE_PAST


def test_gotosocial_integer_epoch_reset() -> None:
    headers = httpx.Headers(
        {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "297",
            "X-RateLimit-Reset": "1672574700",
        }
    )
    assert parse_rate_limit_headers(headers, now=NOON) == [RateLimitInfo(300, 297, FIVE_PAST)]


def test_epoch_reset_also_corrected_for_skew() -> None:
    headers = {
        "Date": "Sun, 01 Jan 2023 12:00:00 GMT",
        "X-RateLimit-Reset": "1672574700",
    }
    [info] = parse_rate_limit_headers(headers, now=NOON - 60)
    assert info.reset_at == NOON - 60 + 300


def test_pinterest_delta_reset_is_not_skew_corrected() -> None:
    headers = {
        "Date": "Sun, 01 Jan 2023 12:00:00 GMT",
        "x-ratelimit-limit": "1000",
        "x-ratelimit-remaining": "998",
        "x-ratelimit-reset": "42",
    }
    [info] = parse_rate_limit_headers(headers, now=NOON + 3600)
    assert info == RateLimitInfo(1000, 998, NOON + 3600 + 42)


# --- Reddit -------------------------------------------------------------------------------


def test_reddit_used_remaining_and_seconds_until_reset() -> None:
    now = 1700000000.0
    headers = httpx.Headers(
        {
            "X-Ratelimit-Used": "5",
            "X-Ratelimit-Remaining": "95.0",
            "X-Ratelimit-Reset": "352",
        }
    )
    [info] = parse_rate_limit_headers(headers, now=now)
    assert info == RateLimitInfo(limit=100.0, remaining=95.0, reset_at=now + 352)
    assert info.window is None


def test_reddit_delta_style_reset() -> None:
    headers = {"x-ratelimit-remaining": "0.0", "x-ratelimit-reset": "599"}
    [info] = parse_rate_limit_headers(headers, now=1000.0, reset_style="delta")
    assert info.reset_at == 1599.0
    assert info.limit is None


# --- IETF draft RateLimit-* (Bluesky) -------------------------------------------------------


def test_bluesky_ratelimit_headers_with_policy_and_epoch_reset() -> None:
    now = 1700000000.0
    headers = httpx.Headers(
        {
            "RateLimit-Limit": "3000",
            "RateLimit-Remaining": "2999",
            "RateLimit-Reset": "1700000300",
            "RateLimit-Policy": "3000;w=300",
        }
    )
    assert parse_rate_limit_headers(headers, now=now) == [
        RateLimitInfo(3000, 2999, 1700000300.0, window=300)
    ]


def test_draft_delta_reset() -> None:
    headers = {"RateLimit-Limit": "100", "RateLimit-Remaining": "40", "RateLimit-Reset": "25"}
    assert parse_rate_limit_headers(headers, now=500.0) == [RateLimitInfo(100, 40, 525.0)]


@pytest.mark.parametrize(
    ("limit", "window"),
    [("1000", 3600.0), ("100", 60.0), ("50", 60.0)],
)
def test_draft_policy_list_picks_entry_matching_limit(limit: str, window: float) -> None:
    headers = {
        "RateLimit-Limit": limit,
        "RateLimit-Remaining": "7",
        "RateLimit-Reset": "30",
        "RateLimit-Policy": "100;w=60, 1000;w=3600",
    }
    [info] = parse_rate_limit_headers(headers, now=0.0)
    assert info.window == window
    assert info.limit == float(limit)


def test_early_draft_limit_with_embedded_policy() -> None:
    headers = {"RateLimit-Limit": "10, 10;w=1, 50;w=60", "RateLimit-Remaining": "9"}
    [info] = parse_rate_limit_headers(headers, now=0.0)
    assert info.limit == 10
    assert info.remaining == 9


def test_draft_policy_alone_gives_limit_and_window() -> None:
    [info] = parse_rate_limit_headers({"RateLimit-Policy": "3000;w=300"}, now=0.0)
    assert info == RateLimitInfo(3000, None, None, window=300)


# --- structured-field RateLimit + RateLimit-Policy ----------------------------------------


def test_structured_field_form() -> None:
    headers = httpx.Headers(
        {
            "RateLimit": '"default";r=50;t=30',
            "RateLimit-Policy": '"default";q=100;w=60',
        }
    )
    assert parse_rate_limit_headers(headers, now=1000.0) == [
        RateLimitInfo(limit=100, remaining=50, reset_at=1030.0, window=60)
    ]


def test_structured_field_without_policy() -> None:
    [info] = parse_rate_limit_headers({"RateLimit": '"default";r=0;t=12'}, now=1000.0)
    assert info == RateLimitInfo(None, 0, 1012.0)


def test_structured_field_multiple_policies_most_constrained_first() -> None:
    headers = {
        "RateLimit": '"daily";r=900;t=3600, "burst";r=5;t=10',
        "RateLimit-Policy": '"burst";q=100;w=60, "daily";q=1000;w=86400;pk=:cHJvamVjdDEyMw==:',
    }
    infos = parse_rate_limit_headers(headers, now=0.0)
    assert infos == [
        RateLimitInfo(100, 5, 10.0, window=60),
        RateLimitInfo(1000, 900, 3600.0, window=86400, name="daily"),
    ]


def test_structured_field_quoted_names_with_separators() -> None:
    headers = {
        "RateLimit": '"a,b;c";r=3;t=4',
        "RateLimit-Policy": '"a,b;c";q=10;w=20',
    }
    [info] = parse_rate_limit_headers(headers, now=0.0)
    assert info == RateLimitInfo(10, 3, 4.0, window=20)


def test_structured_field_garbage_falls_back_to_draft_headers() -> None:
    headers = {"RateLimit": "nonsense", "RateLimit-Remaining": "4", "RateLimit-Reset": "9"}
    assert parse_rate_limit_headers(headers, now=0.0) == [RateLimitInfo(None, 4, 9.0)]


# --- Meta -------------------------------------------------------------------------------


def test_meta_app_usage() -> None:
    headers = httpx.Headers({"X-App-Usage": '{"call_count":28,"total_time":25,"total_cputime":25}'})
    assert parse_rate_limit_headers(headers, now=0.0) == [
        RateLimitInfo(None, None, None, usage_pct=28, name="meta-app")
    ]


def test_meta_business_use_case_usage_with_regain_minutes() -> None:
    now = 1700000000.0
    value = (
        '{"112233445566778":[{"type":"pages","call_count":100,"total_cputime":25,'
        '"total_time":25,"estimated_time_to_regain_access":19}],'
        '"998877665544332":[{"type":"instagram","call_count":3,"total_cputime":1,'
        '"total_time":120,"estimated_time_to_regain_access":0,'
        '"ads_api_access_tier":"standard_access"}]}'
    )
    [info] = parse_rate_limit_headers({"X-Business-Use-Case-Usage": value}, now=now)
    assert info == RateLimitInfo(None, None, now + 19 * 60, usage_pct=120, name="meta-buc")


def test_meta_buc_without_regain_time_has_no_reset() -> None:
    value = '{"1":[{"type":"pages","call_count":40,"total_cputime":5,"total_time":7,'
    value += '"estimated_time_to_regain_access":0}]}'
    [info] = parse_rate_limit_headers({"x-business-use-case-usage": value}, now=5.0)
    assert info.reset_at is None
    assert info.usage_pct == 40


def test_meta_ad_account_usage() -> None:
    headers = {"X-Ad-Account-Usage": '{"acc_id_util_pct":9.67,"reset_time_duration":0}'}
    assert parse_rate_limit_headers(headers, now=0.0) == [
        RateLimitInfo(None, None, None, usage_pct=9.67, name="meta-ad-account")
    ]


def test_meta_ad_account_usage_reset_duration() -> None:
    headers = {
        "X-Ad-Account-Usage": (
            '{"acc_id_util_pct":100,"reset_time_duration":212,'
            '"ads_api_access_tier":"development_access"}'
        )
    }
    [info] = parse_rate_limit_headers(headers, now=1000.0)
    assert info.reset_at == 1212.0
    assert info.usage_pct == 100


def test_meta_insights_throttle_zero_usage() -> None:
    headers = {"x-fb-ads-insights-throttle": '{"app_id_util_pct":0,"acc_id_util_pct":0}'}
    assert parse_rate_limit_headers(headers, now=0.0) == [
        RateLimitInfo(None, None, None, usage_pct=0.0, name="meta-insights")
    ]


def test_meta_all_headers_together_in_fixed_order() -> None:
    headers = {
        "x-fb-ads-insights-throttle": '{"app_id_util_pct":3,"acc_id_util_pct":1}',
        "X-Ad-Account-Usage": '{"acc_id_util_pct":9.67,"reset_time_duration":0}',
        "X-Business-Use-Case-Usage": '{"1":[{"type":"pages","call_count":2}]}',
        "X-App-Usage": '{"call_count":28,"total_time":25,"total_cputime":25}',
    }
    infos = parse_rate_limit_headers(headers, now=0.0)
    assert [(i.name, i.usage_pct) for i in infos] == [
        ("meta-app", 28),
        ("meta-buc", 2),
        ("meta-ad-account", 9.67),
        ("meta-insights", 3),
    ]


@pytest.mark.parametrize(
    "value",
    [
        '{"call_count":28,',
        "not json",
        "",
        "null",
        "42",
        '"call_count"',
        "[1, 2, 3]",
        "{}",
        '{"call_count":"28"}',
        '{"call_count":true}',
        '{"call_count":NaN}',
        '{"call_count":1' + "0" * 400 + "}",
        "[" * 100000 + "]" * 100000,
    ],
)
def test_meta_malformed_json_is_skipped(value: str) -> None:
    headers = {
        "X-App-Usage": value,
        "X-Ad-Account-Usage": '{"acc_id_util_pct":50}',
    }
    assert parse_rate_limit_headers(headers, now=0.0) == [
        RateLimitInfo(None, None, None, usage_pct=50, name="meta-ad-account")
    ]


# --- Retry-After --------------------------------------------------------------------------


def test_retry_after_seconds_on_primary() -> None:
    headers = {
        "RateLimit-Limit": "3000",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "1700000300",
        "Retry-After": "120",
    }
    [info] = parse_rate_limit_headers(headers, now=1700000000.0)
    assert info == RateLimitInfo(3000, 0, 1700000300.0, retry_after=120.0)


def test_retry_after_http_date_alone_creates_primary() -> None:
    when = datetime(2015, 10, 21, 7, 28, tzinfo=UTC).timestamp()
    headers = httpx.Headers({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert parse_rate_limit_headers(headers, now=when - 90) == [
        RateLimitInfo(None, None, None, retry_after=90.0)
    ]


def test_retry_after_http_date_measured_from_server_date() -> None:
    local_now = datetime(2015, 10, 21, 7, 40, tzinfo=UTC).timestamp()
    headers = {
        "Date": "Wed, 21 Oct 2015 07:27:00 GMT",
        "Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT",
    }
    [info] = parse_rate_limit_headers(headers, now=local_now)
    assert info.retry_after == 60.0


def test_retry_after_primary_comes_before_meta() -> None:
    headers = {"X-App-Usage": '{"call_count":100}', "Retry-After": "3600"}
    infos = parse_rate_limit_headers(headers, now=0.0)
    assert [i.name for i in infos] == ["", "meta-app"]
    assert infos[0].retry_after == 3600


def test_garbage_retry_after_alone_returns_empty() -> None:
    assert parse_rate_limit_headers({"Retry-After": "soon"}, now=0.0) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("1.5", 1.5),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 30.0),
        ("Wednesday, 21-Oct-15 07:28:00 GMT", 30.0),
        ("Wed Oct 21 07:28:00 2015", 30.0),
        ("Wed, 21 Oct 2015 07:20:00 GMT", 0.0),
        ("-5", None),
        ("soon", None),
        ("", None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_parse_retry_after(value: str, expected: float | None) -> None:
    now = datetime(2015, 10, 21, 7, 27, 30, tzinfo=UTC).timestamp()
    assert parse_retry_after(value, now=now) == expected


# --- parse_reset --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "style", "expected"),
    [
        ("1665183228", "auto", 1665183228.0),
        ("1665183228.5", "auto", 1665183228.5),
        ("30", "auto", 1030.0),
        ("30.25", "auto", 1030.25),
        ("1000000000", "auto", 1000001000.0),
        ("1000000001", "auto", 1000000001.0),
        ("-3", "auto", 1000.0),
        ("2023-01-01T12:05:00Z", "auto", FIVE_PAST),
        ("2023-01-01T12:05:00.500000Z", "auto", FIVE_PAST + 0.5),
        ("2023-01-01T13:05:00+01:00", "auto", FIVE_PAST),
        ("2023-01-01T12:05:00", "auto", FIVE_PAST),
        ("Sun, 01 Jan 2023 12:05:00 GMT", "auto", FIVE_PAST),
        ("30", "epoch", 30.0),
        ("1665183228", "delta", 1665184228.0),
        ("2023-01-01T12:05:00Z", "delta", FIVE_PAST),
        ("2023-01-01T12:05:00Z", "iso", FIVE_PAST),
        ("30", "iso", 1030.0),
        ("abc", "auto", None),
        ("", "auto", None),
        ("nan", "epoch", None),
        ("2023-13-45T99:00:00Z", "iso", None),
    ],
)
def test_parse_reset(value: str, style: str, expected: float | None) -> None:
    assert parse_reset(value, now=1000.0, style=style) == expected


# --- case-insensitivity, precedence, garbage -----------------------------------------------


def test_plain_dict_with_mixed_case_names() -> None:
    headers = {"X-Rate-Limit-Limit": "300", "X-RATE-LIMIT-REMAINING": "1"}
    assert parse_rate_limit_headers(headers, now=0.0) == [RateLimitInfo(300, 1, None)]


def test_x_family_wins_over_x_ratelimit() -> None:
    headers = {"x-rate-limit-limit": "300", "X-RateLimit-Limit": "5"}
    assert parse_rate_limit_headers(headers, now=0.0) == [RateLimitInfo(300, None, None)]


def test_ietf_draft_wins_over_x_ratelimit() -> None:
    headers = {
        "X-RateLimit-Limit": "3000",
        "X-RateLimit-Remaining": "10",
        "RateLimit-Limit": "3000",
        "RateLimit-Remaining": "10",
        "RateLimit-Policy": "3000;w=300",
    }
    [info] = parse_rate_limit_headers(headers, now=0.0)
    assert info.window == 300


def test_garbage_remaining_is_treated_as_missing() -> None:
    headers = {
        "x-rate-limit-limit": "300",
        "x-rate-limit-remaining": "abc",
        "x-rate-limit-reset": "1665183228",
    }
    assert parse_rate_limit_headers(headers, now=0.0) == [RateLimitInfo(300, None, 1665183228.0)]


def test_all_garbage_returns_empty() -> None:
    headers = {
        "x-rate-limit-limit": "lots",
        "x-rate-limit-remaining": "abc",
        "x-rate-limit-reset": "later",
        "X-Ratelimit-Used": "?",
        "RateLimit-Policy": "w=;;,,",
    }
    assert parse_rate_limit_headers(headers, now=0.0) == []


def test_garbage_in_a_higher_family_falls_through() -> None:
    headers = {"x-rate-limit-remaining": "abc", "X-RateLimit-Remaining": "7"}
    assert parse_rate_limit_headers(headers, now=0.0) == [RateLimitInfo(None, 7, None)]


def test_random_garbage_never_raises() -> None:
    rng = random.Random(1234)
    names = sorted(mod._KNOWN | {"date"})
    alphabet = 'abcXYZ0123456789 .,;=:"\\-+eE{}[]TZ\x00\u00e9'
    for _ in range(2000):
        headers = {
            rng.choice(names): "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
            for _ in range(rng.randint(1, 6))
        }
        for info in parse_rate_limit_headers(headers, now=1700000000.0):
            assert isinstance(info, RateLimitInfo)
        for value in headers.values():
            parse_reset(value, now=0.0)
            parse_retry_after(value, now=0.0)


def test_info_is_frozen() -> None:
    info = RateLimitInfo(1, 1, 1)
    with pytest.raises(AttributeError):
        setattr(info, "limit", 2)
