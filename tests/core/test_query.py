"""The account encodes query strings itself; they must decode exactly as httpx's would."""

from __future__ import annotations

import httpx
import pytest

from socialgate._account import encode_query

CASES = [
    {"query": "from:jack conversation_id:20 #tag café", "max_results": 100},
    {"flag": True, "off": False, "none": None},
    {"types[]": ["mention", "reblog"], "limit": 40},
    {"expansions": "author_id,attachments.media_keys", "a&b": "c=d/e?f"},
]


@pytest.mark.parametrize("params", CASES)
def test_encode_query_matches_httpx(params: dict[str, object]) -> None:
    ours = httpx.URL("https://h.example/p?" + encode_query(params)).params
    theirs = httpx.URL("https://h.example/p", params=params).params  # type: ignore[arg-type]
    assert list(ours.multi_items()) == list(theirs.multi_items())


def test_spaces_are_percent_encoded() -> None:
    assert encode_query({"q": "a b"}) == "q=a%20b"
