"""The Bluesky mapping against real recorded payloads (tests/fixtures/bluesky/): every field of
Profile and Post, from profile views, post views, notifications and thread views."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

import socialgate as sg
from socialgate.adapters.bluesky import mapping

from .conftest import FIXTURES, body

SOUBHIK = "did:plc:ic6zqvuw5ulmfpjiwnhsr2ns"
POST_URI = f"at://{SOUBHIK}/app.bsky.feed.post/3k7qmjev5lr2s"
IMAGE_CID = "bafkreictkyws7qbruuupes52t6k5o5o5qfggf7pm6urzz7dyty53gzu3h4"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_profile_detailed_every_field() -> None:
    view = body("get_profiles.json")["profiles"][0]
    profile = mapping.profile_from_view(view)
    assert profile == sg.Profile(
        network="bluesky",
        id="did:plc:wpe35pganb6d4pg4ekmfy6u5",
        handle="chriskenny.bsky.social",
        display_name="Chris Kenny",
        description=(
            "PhD '25 Government @harvard.edu. Studies redistricting in #rstats.\n"
            "https://christophertkenny.com/"
        ),
        url="https://bsky.app/profile/chriskenny.bsky.social",
        avatar_url=(
            "https://cdn.bsky.app/img/avatar/plain/did:plc:wpe35pganb6d4pg4ekmfy6u5/"
            "bafkreibbgv73dk7lk4qrij5xm7vri3m6hfgfxqylxbal6yau7ssieqav3a@jpeg"
        ),
        followers_count=554,
        following_count=296,
        posts_count=65,
        created_at=datetime(2023, 9, 19, 15, 47, 1, 417000, tzinfo=UTC),
        verified=None,
        raw=view,
    )
    assert profile.raw == view


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ({"verifiedStatus": "valid", "trustedVerifierStatus": "none"}, True),
        ({"verifiedStatus": "none", "trustedVerifierStatus": "valid"}, True),
        ({"verifiedStatus": "none", "trustedVerifierStatus": "none"}, False),
        ({"verifiedStatus": "invalid", "trustedVerifierStatus": "none"}, False),
    ],
)
def test_verified_comes_from_verification_state(state: dict[str, str], expected: bool) -> None:
    view = body("get_profiles.json")["profiles"][0]
    view["verification"] = {"verifications": [], **state}
    assert mapping.profile_from_view(view).verified is expected


def test_profile_view_items_of_a_graph_listing() -> None:
    follows = body("get_follows.json")["follows"]
    profiles = [mapping.profile_from_view(v) for v in follows]
    assert len(profiles) == 48
    for view, profile in zip(follows, profiles, strict=True):
        assert profile.id == view["did"] and profile.handle == view["handle"]
        assert profile.display_name == (view.get("displayName") or None)
        assert profile.description == (view.get("description") or None)
        assert profile.avatar_url == view.get("avatar")
        assert profile.url == f"https://bsky.app/profile/{view['handle']}"
        assert profile.created_at == (utc(view["createdAt"]) if "createdAt" in view else None)
        # profileView carries no counts: None, not 0.
        assert profile.followers_count is profile.following_count is profile.posts_count is None
    marshalx = json.loads((FIXTURES / "marshalx_get_follows.json").read_text())["follows"]
    assert [mapping.profile_from_view(v).handle for v in marshalx[:1]] == ["why.bsky.team"]


def test_handle_invalid_links_by_did() -> None:
    view = {"did": "did:plc:abc", "handle": "handle.invalid"}
    assert mapping.profile_from_view(view).url == "https://bsky.app/profile/did:plc:abc"


def test_post_view_every_field() -> None:
    view = body("get_posts.json")["posts"][0]
    post = mapping.post_from_view(view)
    author = view["author"]
    assert post.network == "bluesky"
    assert post.id == POST_URI
    assert post.author_id == SOUBHIK
    assert post.author == sg.Profile(
        network="bluesky",
        id=SOUBHIK,
        handle="soubhikbarari.bsky.social",
        display_name="Soubhik Barari",
        url="https://bsky.app/profile/soubhikbarari.bsky.social",
        avatar_url=author["avatar"],
        created_at=datetime(2023, 8, 13, 15, 9, 13, 807000, tzinfo=UTC),
        raw=author,
    )
    assert post.text == view["record"]["text"]
    assert post.text.startswith("Excited to be a speaker") and "📈" in post.text
    assert post.created_at == datetime(2023, 9, 19, 11, 32, 54, 574000, tzinfo=UTC)
    assert post.url == "https://bsky.app/profile/soubhikbarari.bsky.social/post/3k7qmjev5lr2s"
    assert post.reply_to_id is None
    assert post.conversation_id == POST_URI  # a top-level post is its own thread root
    assert post.lang == "en"
    assert post.metrics == sg.Metrics(
        likes=4, reposts=0, replies=0, quotes=0, views=None, bookmarks=None
    )
    (image,) = post.media
    cdn = f"https://cdn.bsky.app/img/feed_%s/plain/{SOUBHIK}/{IMAGE_CID}@jpeg"
    assert image == sg.Media(
        id=IMAGE_CID,
        kind="image",
        url=cdn % "fullsize",
        preview_url=cdn % "thumbnail",
        alt_text="",
        width=None,
        height=None,
        network="bluesky",
        raw=view["embed"]["images"][0],
    )
    assert post.raw == view


def test_bookmarks_aspect_ratio_and_indexed_at_fallback() -> None:
    view = body("get_posts.json")["posts"][0]
    view["bookmarkCount"] = 7
    view["embed"]["images"][0]["aspectRatio"] = {"width": 1200, "height": 675}
    view["record"]["createdAt"] = "2023-09-19T11:32:54"  # no zone: unusable, indexedAt wins
    view["indexedAt"] = "2023-09-19T11:33:00.000Z"
    post = mapping.post_from_view(view)
    assert post.metrics.bookmarks == 7
    assert (post.media[0].width, post.media[0].height) == (1200, 675)
    assert post.created_at == datetime(2023, 9, 19, 11, 33, tzinfo=UTC)


def _check_post(view: dict[str, Any], post: sg.Post) -> None:
    record = view["record"]
    reply = record.get("reply")
    assert post.id == view["uri"]
    assert post.author_id == view["author"]["did"]
    assert post.author is not None and post.author.handle == view["author"]["handle"]
    assert post.text == record["text"]
    assert post.created_at == utc(record["createdAt"])
    assert post.url == (
        f"https://bsky.app/profile/{view['author']['handle']}/post/{view['uri'].rsplit('/', 1)[1]}"
    )
    assert post.reply_to_id == (reply["parent"]["uri"] if reply else None)
    assert post.conversation_id == (reply["root"]["uri"] if reply else view["uri"])
    assert post.lang == (record["langs"][0] if record.get("langs") else None)
    assert post.metrics == sg.Metrics(
        likes=view["likeCount"],
        reposts=view["repostCount"],
        replies=view["replyCount"],
        quotes=view["quoteCount"],
    )
    assert post.raw == view


def test_search_posts_every_field_of_every_post() -> None:
    views = body("search_posts.json")["posts"]
    posts = [mapping.post_from_view(v) for v in views]
    for view, post in zip(views, posts, strict=True):
        _check_post(view, post)
        kind = view.get("embed", {}).get("$type")
        if kind == "app.bsky.embed.images#view":
            images = view["embed"]["images"]
            assert [m.url for m in post.media] == [i["fullsize"] for i in images]
            assert [m.preview_url for m in post.media] == [i["thumb"] for i in images]
            assert [m.alt_text for m in post.media] == [i["alt"] for i in images]
            blobs = view["record"]["embed"]["images"]
            assert [m.id for m in post.media] == [b["image"]["ref"]["$link"] for b in blobs]
        else:  # link cards and quoted posts are not media
            assert post.media == ()
    assert sum(p.reply_to_id is not None for p in posts) == 12


def test_list_feed_items_and_quotes() -> None:
    items = body("get_list_feed.json")["feed"]
    for item in items:
        _check_post(item["post"], mapping.post_from_view(item["post"]))
    quotes = body("get_quotes.json")["posts"]
    # A quote with a link card: record#view and external#view are not media.
    assert [mapping.post_from_view(v).media for v in quotes] == [(), ()]
    # The same post quoting with images instead (the images#view of the search recording).
    with_images = copy.deepcopy(quotes[1])
    image_post = next(
        v
        for v in body("search_posts.json")["posts"]
        if v.get("embed", {}).get("$type") == "app.bsky.embed.images#view"
    )
    with_images["embed"]["media"] = image_post["embed"]
    with_images["record"]["embed"]["media"] = image_post["record"]["embed"]
    post = mapping.post_from_view(with_images)
    images = image_post["embed"]["images"]
    assert [m.url for m in post.media] == [i["fullsize"] for i in images]
    blobs = image_post["record"]["embed"]["images"]
    assert [m.id for m in post.media] == [b["image"]["ref"]["$link"] for b in blobs]


def test_mention_notifications_every_field() -> None:
    items = body("list_notifications.json")["notifications"]
    mentions = [n for n in items if n["reason"] == "mention"]
    assert len(mentions) == 11
    for item in mentions:
        post = mapping.post_from_notification(item)
        record, author = item["record"], item["author"]
        reply = record.get("reply")
        assert post.id == item["uri"]
        assert post.author_id == author["did"]
        assert post.author == mapping.profile_from_view(author)
        assert post.text == record["text"]
        assert post.created_at == utc(record["createdAt"])
        assert post.url == (
            f"https://bsky.app/profile/{author['handle']}/post/{item['uri'].rsplit('/', 1)[1]}"
        )
        assert post.reply_to_id == (reply["parent"]["uri"] if reply else None)
        assert post.conversation_id == (reply["root"]["uri"] if reply else item["uri"])
        assert post.lang == (record["langs"][0] if record.get("langs") else None)
        assert post.metrics == sg.Metrics()  # notifications carry no counts
        assert post.raw == item


def test_notification_images_get_cdn_urls_from_blob_cids() -> None:
    item = copy.deepcopy(
        next(
            n for n in body("list_notifications.json")["notifications"] if n["reason"] == "mention"
        )
    )
    blob = {"$type": "blob", "ref": {"$link": "bafkreiabc"}, "mimeType": "image/png", "size": 9}
    item["record"]["embed"] = {
        "$type": "app.bsky.embed.images",
        "images": [{"alt": "a cat", "image": blob, "aspectRatio": {"width": 4, "height": 3}}],
    }
    (media,) = mapping.post_from_notification(item).media
    did = item["author"]["did"]
    assert media.id == "bafkreiabc" and media.alt_text == "a cat"
    assert media.url == f"https://cdn.bsky.app/img/feed_fullsize/plain/{did}/bafkreiabc@jpeg"
    assert (
        media.preview_url == f"https://cdn.bsky.app/img/feed_thumbnail/plain/{did}/bafkreiabc@jpeg"
    )
    assert (media.width, media.height) == (4, 3)


def _node(view: dict[str, Any], *replies: dict[str, Any]) -> dict[str, Any]:
    return {"$type": "app.bsky.feed.defs#threadViewPost", "post": view, "replies": list(replies)}


def test_thread_replies_depth_first_with_tree_parents() -> None:
    # getPostThread was not recorded: the tree is assembled from real post views.
    views = body("search_posts.json")["posts"][:5]
    root, a, b, c, d = views
    thread = _node(
        root,
        _node(a, _node(b, _node(c))),
        {"$type": "app.bsky.feed.defs#notFoundPost", "uri": "at://x/app.bsky.feed.post/1"},
        _node(d),
    )
    replies = list(mapping.thread_replies(thread))
    assert [p.id for p in replies] == [a["uri"], b["uri"], c["uri"], d["uri"]]
    assert [p.reply_to_id for p in replies] == [root["uri"], a["uri"], b["uri"], root["uri"]]


def test_at_uri_parsing() -> None:
    assert mapping.parse_at_uri(POST_URI) == (SOUBHIK, "app.bsky.feed.post", "3k7qmjev5lr2s")
    for bad in ("https://bsky.app/x", "at://did:plc:x", "at://did:plc:x/app.bsky.feed.post/"):
        with pytest.raises(ValueError):
            mapping.parse_at_uri(bad)


@pytest.mark.parametrize(
    "bad",
    [
        {"cid": "x"},
        {"uri": POST_URI, "record": "text"},
        {"uri": POST_URI, "record": {}, "author": 3},
    ],
)
def test_unmappable_post_raises_schema_error_with_body(bad: dict[str, Any]) -> None:
    with pytest.raises(sg.UpstreamSchemaError) as caught:
        mapping.post_from_view(bad)
    assert caught.value.body is not None and caught.value.network == "bluesky"


def test_unmappable_profile_raises_schema_error() -> None:
    with pytest.raises(sg.UpstreamSchemaError):
        mapping.profile_from_view({"handle": "no-did.bsky.social"})
