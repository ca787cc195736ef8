"""Reddit payloads recorded by praw-dev/asyncpraw (tests/fixtures/reddit/) mapped to socialgate
models, every mapped field of ``Profile`` and ``Post`` checked against the recorded values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import socialgate as sg
from socialgate.adapters.reddit import mapping
from socialgate.adapters.reddit.listing import more_stubs, tree_things

from .conftest import body


def test_profile_from_me() -> None:
    data = body("me")
    me = mapping.profile_from_user(data)
    assert me.network == "reddit"
    assert me.id == "t2_o77bz"
    assert me.handle == "Lil_SpazJoekp"
    # subreddit.title is "" for this account, so the name stands in.
    assert me.display_name == "Lil_SpazJoekp"
    assert me.description is None  # public_description ""
    assert me.url == "https://www.reddit.com/user/Lil_SpazJoekp/"
    assert me.avatar_url == "https://www.redditstatic.com/avatars/avatar_default_20_94E044.png"
    assert me.followers_count == 23  # subreddit.subscribers
    assert me.following_count is None and me.posts_count is None
    assert me.created_at == datetime.fromtimestamp(1434669370.0, UTC)
    assert me.verified is True
    assert me.raw == data


def test_profile_from_about_with_title_and_description() -> None:
    data = body("user_about_spez")["data"]
    spez = mapping.profile_from_user(data)
    assert (spez.id, spez.handle, spez.display_name) == ("t2_1w72", "spez", "spez")
    assert spez.description == "Reddit CEO"
    assert spez.url == "https://www.reddit.com/user/spez/"
    assert spez.avatar_url == (
        "https://b.thumbs.redditmedia.com/d7Sw-O_AOlxEtKEeMTrH0xcy9LbLOy0j_KrWGbOFB9w.png"
    )
    # Reddit reports 0 subscribers of other users' profiles: documented, passed through.
    assert spez.followers_count == 0
    assert spez.created_at == datetime(2005, 6, 6, 4, 0, tzinfo=UTC)
    assert spez.verified is True
    assert spez.raw is not None and spez.raw["is_employee"] is True


def test_escaped_avatar_urls_are_unescaped() -> None:
    data = dict(body("user_about_spez")["data"])
    data["icon_img"] = (
        "https://styles.redditmedia.com/t5_3k30p/styles/profileIcon_x.png?width=256&amp;s=ab"
    )
    assert mapping.profile_from_user(data).avatar_url == (
        "https://styles.redditmedia.com/t5_3k30p/styles/profileIcon_x.png?width=256&s=ab"
    )


def test_submission_every_field() -> None:
    listing = body("info_submission")
    data = listing["data"]["children"][0]["data"]
    [post] = mapping.posts_from_listing(listing)
    assert post.network == "reddit"
    assert post.id == "t3_uflrmv"
    assert post.author_id == "t2_75u2lqkb"
    assert post.author is not None
    assert (post.author.id, post.author.handle) == ("t2_75u2lqkb", "Lil_SpazTest")
    assert post.author.url == "https://www.reddit.com/user/Lil_SpazTest/"
    assert post.text == "Test post"  # a self post with only a title: the title is the text
    assert post.title == "Test post"  # type: ignore[attr-defined]
    assert post.subreddit == "<TEST_SUBREDDIT>"  # type: ignore[attr-defined]
    assert post.created_at == datetime.fromtimestamp(1651358011.0, UTC)
    assert post.url == "https://www.reddit.com/r/<TEST_SUBREDDIT>/comments/uflrmv/test_post/"
    assert post.reply_to_id is None
    assert post.conversation_id == "t3_uflrmv"
    assert post.lang is None
    assert post.metrics == sg.Metrics(likes=1, replies=1, views=None)
    assert post.media == ()
    assert post.raw == data


def test_comment_every_field() -> None:
    listing = body("info_comment")
    data = listing["data"]["children"][0]["data"]
    [post] = mapping.posts_from_listing(listing)
    assert post.id == "t1_cklhv0f"
    assert post.author_id == "t2_3pz6e"
    assert post.author is not None and post.author.handle == "bboe"
    assert post.text == data["body"]
    assert post.text.startswith("Yes it does.")
    assert post.created_at == datetime(2014, 9, 18, 3, 13, 54, tzinfo=UTC)
    assert post.url == (
        "https://www.reddit.com/r/redditdev/comments/2gmzqe/praw_https_enabled_praw_testing_needed"
        "/cklhv0f/"
    )
    assert post.reply_to_id == "t1_cklfmye"
    assert post.conversation_id == "t3_2gmzqe"
    assert post.metrics == sg.Metrics(likes=1)
    assert post.media == () and post.lang is None
    assert not hasattr(post, "title")
    assert post.raw == data


def test_mention_from_the_inbox() -> None:
    listing = body("mentions")
    posts = mapping.posts_from_listing(listing)
    assert len(posts) == 16
    first = posts[0]
    data = listing["data"]["children"][0]["data"]
    assert first.id == "t1_ekftbox"
    assert first.author_id == "t2_3efd9zdo"
    assert first.author is not None and first.author.handle == "2Botter2Loop"
    assert first.text.startswith("Hello /u/<USERNAME>,")
    # raw_json=1: the text keeps '&', not '&amp;'
    assert "&subject=" in first.text
    assert first.created_at == datetime.fromtimestamp(1554774308.0, UTC)
    # An inbox item has no permalink; its context link without ?context=3 points at it.
    assert first.url == (
        "https://www.reddit.com/r/RemovedByBotter/comments/bb24k7/"
        "just_a_normal_girl_going_for_her_10th_class_exam/ekftbox/"
    )
    assert first.reply_to_id == "t3_bb24k7"
    assert first.conversation_id == "t3_bb24k7"  # from the context path: no link_id here
    assert first.metrics == sg.Metrics(likes=1)  # score; num_comments counts the thread
    assert first.raw == data


def test_image_post_media_from_preview() -> None:
    [post] = mapping.posts_from_listing(body("comments_image_post")[0])
    assert post.id == "t3_1o1hb24"
    selftext = "Testing **Async PRAW** image submission *with markdown selftext*."
    assert post.text == f"{post.title}\n\n{selftext}"  # type: ignore[attr-defined]
    [image] = post.media
    assert image.id == "vhu529qqcxtf1"
    assert image.kind == "image"
    assert image.url == "https://i.redd.it/vhu529qqcxtf1.png"  # url_overridden_by_dest
    assert image.preview_url == (
        "https://preview.redd.it/vhu529qqcxtf1.png?auto=webp&s=3c58e029a8c1e88174432a461874106d38d0b5cb"
    )
    assert (image.width, image.height) == (128, 128)
    assert image.alt_text is None and image.network == "reddit"


def test_gallery_media_keep_order_captions_and_skip_failed_items() -> None:
    [post] = mapping.posts_from_listing(body("comments_gallery_post")[0])
    # Four items were submitted; Reddit marked three "failed", so only one has URLs.
    [image] = post.media
    assert image.id == "se8zauqy9od51"
    assert image.kind == "image"
    assert image.alt_text == "test.jpg"  # gallery_data caption
    assert image.url is not None and image.url.startswith("https://preview.redd.it/se8zauqy9od51")
    assert "&" in image.url and "&amp;" not in image.url
    assert image.preview_url is not None and "width=108" in image.preview_url
    assert (image.width, image.height) == (128, 128)


def test_video_post_and_deleted_author() -> None:
    [post] = mapping.posts_from_listing(body("comments_video_post")[0])
    assert post.author is None and post.author_id is None  # author "[deleted]"
    assert post.text == f"{post.title}\n\n[deleted]"  # type: ignore[attr-defined]
    [video] = post.media
    assert (video.id, video.kind) == ("90v31lvzayd61", "video")
    assert video.url == "https://v.redd.it/90v31lvzayd61/DASH_240.mp4?source=fallback"
    assert (video.width, video.height) == (200, 200)


def test_comment_tree_flattens_depth_first_and_lists_more_stubs() -> None:
    page = body("comments_with_more")
    things = tree_things(page)
    posts = [p for t in things if (p := mapping.post_from_thing(t)) is not None]
    assert [p.id for p in posts] == ["t1_e4j4830", "t1_edisd6j", "t1_e7q58bn"]
    assert [p.reply_to_id for p in posts] == ["t3_98vj9e", "t1_e4j4830", "t1_e4j4830"]
    assert {p.conversation_id for p in posts} == {"t3_98vj9e"}
    assert more_stubs(things) == [
        "c:e4jjt2i", "c:e4j4fhz", "c:e4uaa59", "c:e4j98vr", "c:e4jbdej", "c:e4lpsbh",
    ]  # fmt: skip


def test_continue_this_thread_stub() -> None:
    stub = {
        "kind": "more",
        "data": {
            "count": 0,
            "name": "t1__",
            "id": "_",
            "parent_id": "t1_abc",
            "depth": 10,
            "children": [],
        },
    }
    assert more_stubs([stub]) == ["t:abc"]


@pytest.mark.parametrize("name", ["comments_simple", "comments_continue_thread"])
def test_every_recorded_tree_maps(name: str) -> None:
    things = tree_things(body(name))
    posts = [p for t in things if (p := mapping.post_from_thing(t)) is not None]
    assert posts and all(p.id.startswith("t1_") and p.reply_to_id for p in posts)
    ids = {p.id for p in posts}
    # Parents come before their replies.
    seen: set[str] = set()
    for post in posts:
        if post.reply_to_id in ids:
            assert post.reply_to_id in seen
        seen.add(post.id)


def test_things_that_are_not_posts_are_skipped() -> None:
    assert mapping.post_from_thing({"kind": "t4", "data": {"id": "x"}}) is None
    assert mapping.post_from_thing({"kind": "more", "data": {}}) is None
    with pytest.raises(sg.UpstreamSchemaError):
        mapping.posts_from_listing({"kind": "t2", "data": {"name": "x"}})
