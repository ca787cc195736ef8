"""Rich-text facet detection: UTF-8 byte offsets (emoji, accents, CJK), the detection rules of
Bluesky's own client, and agreement with facets real clients wrote (recorded records)."""

from __future__ import annotations

import pytest

from socialgate.adapters.bluesky import facets

from .conftest import body


def spans(text: str) -> list[tuple[str, str, str]]:
    """(kind, the text the byte range covers, value) for each detected facet."""
    raw = text.encode()
    return [(c.kind, raw[c.start : c.end].decode(), c.value) for c in facets.detect(text)]


def test_byte_offsets_count_utf8_bytes() -> None:
    text = "héllo 🦋 @alice.bsky.social #日本語 https://example.com/ü"
    found = facets.detect(text)
    raw = text.encode()
    assert [raw[c.start : c.end].decode() for c in found] == [
        "@alice.bsky.social",
        "#日本語",
        "https://example.com/ü",
    ]
    # é is 2 bytes and 🦋 4: the mention starts at byte 12, not at character 8.
    assert (found[0].start, found[0].end) == (12, 30)
    assert text.index("@") == 8
    assert found[1].value == "日本語" and found[1].end - found[1].start == 1 + 9


def test_recorded_mention_and_link_offsets_are_reproduced() -> None:
    # A record written by the bskyr client: its facets are the ground truth.
    record = body("get_record_reply.json")["value"]
    found = facets.detect(record["text"])
    expected = [
        (f["index"]["byteStart"], f["index"]["byteEnd"], f["features"][0]) for f in record["facets"]
    ]
    assert [(c.start, c.end) for c in found] == [(s, e) for s, e, _ in expected]
    assert found[0].kind == "mention" and found[0].value == "bskyr.bsky.social"
    assert found[1].kind == "link" and found[1].value == expected[1][2]["uri"]


def test_recorded_link_offsets_in_text_with_emoji() -> None:
    # The getPosts recording has 📈 and ✨ before its links; the official app linked both
    # (it wrote http:// for the bare domain, a client choice; the byte ranges must agree).
    record = body("get_posts.json")["posts"][0]["record"]
    links = [c for c in facets.detect(record["text"]) if c.kind == "link"]
    recorded = [(f["index"]["byteStart"], f["index"]["byteEnd"]) for f in record["facets"]]
    assert [(c.start, c.end) for c in links] == recorded
    assert [c.value for c in links] == ["https://localview.net", "https://rstats.ai/gov.html"]
    tags = [c.value for c in facets.detect(record["text"]) if c.kind == "tag"]
    assert tags == ["rgov"]  # "✨#rstats" has no space before the #: not a tag


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hi @bob.test!", [("mention", "@bob.test", "bob.test")]),
        ("(@bob.example.com)", [("mention", "@bob.example.com", "bob.example.com")]),
        ("mail me@bob.example.com", []),  # no space before @
        ("@nodot and @-bad-.com", []),
        ("see https://a.io/x.", [("link", "https://a.io/x", "https://a.io/x")]),
        # Like the official client: a ")" stays when the URL has a "(" (balanced links).
        ("https://w.org/A_(b)", [("link", "https://w.org/A_(b)", "https://w.org/A_(b)")]),
        ("(https://a.io/x)", [("link", "https://a.io/x", "https://a.io/x")]),
        ("go to example.com, now", [("link", "example.com", "https://example.com")]),
        ("edit main.py today", []),  # .py is not a known TLD
        ("#1 and #123 and #!!", []),  # digits or punctuation only
        ("#python3!", [("tag", "#python3", "python3")]),
        ("\uff03fullwidth", [("tag", "\uff03fullwidth", "fullwidth")]),
        ("a#b", []),
        ("#" + "x" * 65, []),
        ("https://a.io/#frag", [("link", "https://a.io/#frag", "https://a.io/#frag")]),
    ],
)
def test_detection_rules(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert spans(text) == expected


def test_facet_objects_follow_the_lexicon() -> None:
    mention, link, tag = facets.detect("@a.bsky.social https://x.dev #t")
    assert facets.facet(mention, did="did:plc:a") == {
        "$type": "app.bsky.richtext.facet",
        "index": {"byteStart": 0, "byteEnd": 14},
        "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:a"}],
    }
    assert facets.facet(link)["features"] == [
        {"$type": "app.bsky.richtext.facet#link", "uri": "https://x.dev"}
    ]
    assert facets.facet(tag)["features"] == [{"$type": "app.bsky.richtext.facet#tag", "tag": "t"}]
    with pytest.raises(ValueError):
        facets.facet(mention)
