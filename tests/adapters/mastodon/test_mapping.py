"""The Mastodon mapping against real recorded payloads (tests/fixtures/mastodon/, recorded by
Mastodon.py's test suite against a Mastodon 4.x server): every field of Profile, Post, Metrics
and Media, HTML to text, reblogs, replies, quotes, notifications, and malformed answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import socialgate as sg
from socialgate.adapters.mastodon import mapping

from .conftest import body

T0 = datetime(2026, 8, 1, tzinfo=UTC)
AVATAR = (
    "http://localhost:3000/system/accounts/avatars/117/020/565/966/271/181/original/"
    "5784df1febb9890a.jpg"
)


def assert_lennon(profile: sg.Profile | None, raw: dict[str, Any] | None = None) -> None:
    """The recorded account ``mastodonpy_test`` ("John Lennon"), every Profile field."""
    assert profile is not None
    assert profile.network == "mastodon"
    assert profile.id == "117020565966271181"
    assert profile.handle == "mastodonpy_test"
    assert profile.display_name == "John Lennon"
    assert profile.description == "I walk funny"  # note "<p>I walk funny</p>" as text
    assert profile.url == "http://localhost:3000/@mastodonpy_test"
    assert profile.avatar_url == AVATAR
    assert profile.followers_count == 0
    assert profile.following_count == 0
    assert isinstance(profile.posts_count, int)
    assert profile.created_at == T0
    assert profile.verified is None  # its two fields have verified_at: null
    assert profile.raw["bot"] is False  # the bot flag stays in raw
    if raw is not None:
        assert profile.raw == raw


# -- profiles ----------------------------------------------------------------------------------


def test_credential_account_maps_every_profile_field() -> None:
    account = body("verify_credentials")
    profile = mapping.profile_from_account(account)
    assert_lennon(profile, account)
    assert profile.posts_count == 11
    assert profile.raw["source"]["note"] == "I walk funny"  # CredentialAccount extras kept


def test_looked_up_account_maps_every_profile_field() -> None:
    account = body("account_lookup")
    profile = mapping.profile_from_account(account)
    assert_lennon(profile, account)
    assert profile.posts_count == 0


def test_empty_display_name_and_note_are_none() -> None:
    account = body("account_get")
    profile = mapping.profile_from_account(account)
    assert profile.id == "117020457910412882"
    assert profile.handle == "mastodonpy_test"
    assert profile.display_name is None
    assert profile.description is None
    assert profile.url == "http://localhost:3000/@mastodonpy_test"
    assert profile.avatar_url == "http://localhost:3000/avatars/original/missing.png"
    assert (profile.followers_count, profile.following_count, profile.posts_count) == (0, 0, 0)
    assert profile.created_at == T0
    assert profile.verified is None
    assert profile.raw == account


def test_verified_link_field_and_remote_handle() -> None:
    # Derived from the recording: a remote account (acct carries the domain) whose website
    # field the server verified (rel="me"), as Mastodon sends them.
    account = body("account_lookup")
    account["acct"] = "mastodonpy_test@remote.example"
    account["fields"] = [
        {"name": "bread", "value": "toasty.", "verified_at": None},
        {"name": "web", "value": "<a href='https://x.example'>x</a>",
         "verified_at": "2026-08-01T10:00:00.000+00:00"},
    ]  # fmt: skip
    profile = mapping.profile_from_account(account)
    assert profile.handle == "mastodonpy_test@remote.example"
    assert profile.verified is True


def test_account_lists_from_search_and_favourited_by() -> None:
    accounts = body("search_accounts")["accounts"]
    profiles = mapping.profiles_from_accounts(accounts)
    assert [p.id for p in profiles] == [a["id"] for a in accounts]
    assert [p.handle for p in profiles] == [a["acct"] for a in accounts]
    assert mapping.profiles_from_accounts(body("followers_empty")) == []
    favourited = mapping.profiles_from_accounts(body("favourited_by_page"))
    assert len(favourited) == 1 and favourited[0].network == "mastodon"


# -- posts -------------------------------------------------------------------------------------


def test_status_maps_every_post_field() -> None:
    status = body("status_get")
    post = mapping.post_from_status(status)
    assert post.network == "mastodon"
    assert post.id == "117020583223442465"
    assert post.author_id == "117020565966271181"
    assert_lennon(post.author, status["account"])
    assert post.text == "Toot!"
    assert post.created_at == datetime(2026, 8, 1, 13, 53, 15, 378_000, tzinfo=UTC)
    assert post.url == "http://localhost:3000/@mastodonpy_test/117020583223442465"
    assert post.reply_to_id is None
    assert post.conversation_id == post.id  # not a reply: the thread's root
    assert post.lang == "en"
    assert post.metrics == sg.Metrics(likes=0, reposts=0, replies=0, quotes=0)
    assert post.metrics.views is None and post.metrics.bookmarks is None
    assert post.media == ()
    assert post.raw == status
    assert post.raw["content"] == "<p>Toot!</p>"  # the HTML stays in raw


def test_reply_keeps_in_reply_to_and_has_no_known_root() -> None:
    status = body("status_reply")
    post = mapping.post_from_status(status)
    assert post.id == "117020583258292382"
    assert post.reply_to_id == "117020583245459824"
    assert post.conversation_id is None
    assert post.text == "@mastodonpy_test_2 same!"  # h-card mention as its text
    assert post.author is not None and post.author.handle == "admin"
    assert post.author.display_name is None
    assert post.created_at == datetime(2026, 8, 1, 13, 53, 15, 910_000, tzinfo=UTC)
    assert post.lang == "en"
    assert post.metrics == sg.Metrics(likes=0, reposts=0, replies=0, quotes=0)


def test_reblog_is_the_wrapper_with_the_boosted_content() -> None:
    status = body("status_reblog")
    inner = status["reblog"]
    post = mapping.post_from_status(status)
    assert post.id == "117020585769821293" != inner["id"]  # the boost's own id
    assert post.author_id == status["account"]["id"]
    assert post.created_at == datetime(2026, 8, 1, 13, 53, 54, 233_000, tzinfo=UTC)
    assert post.url == status["url"] and post.url.endswith("/activity")
    assert post.text == "bwooh! secret"  # the wrapper's content is ""
    assert post.lang == "en"  # the wrapper's language is null
    assert post.metrics.reposts == 1  # the boosted status's counts
    assert post.reply_to_id is None and post.conversation_id is None
    assert post.raw["reblog"]["id"] == "117020585762235614"


def test_status_with_media_maps_every_media_field() -> None:
    status = body("status_media")
    post = mapping.post_from_status(status)
    assert post.text == "Status with media"
    assert len(post.media) == 1
    media = post.media[0]
    attachment = status["media_attachments"][0]
    assert media.id == "117020606032533890"
    assert media.kind == "image"
    assert media.url == attachment["url"] and media.url.endswith("/original/5acd59c19f4b7d96.jpg")
    assert media.preview_url == attachment["preview_url"]
    assert media.alt_text is None
    assert (media.width, media.height) == (600, 600)  # meta.original
    assert media.network == "mastodon"
    assert media.raw == attachment


def test_uploaded_attachment_and_media_kinds() -> None:
    attachment = body("media_upload")
    media = mapping.media_from_attachment(attachment)
    assert (media.id, media.kind, media.width, media.height) == ("117020576894251992", "image",
                                                                 600, 600)  # fmt: skip
    assert media.url is not None and media.preview_url is not None
    kinds = {"gifv": "gif", "video": "video", "audio": "audio", "unknown": "other"}
    for kind, expected in kinds.items():
        item = {**attachment, "type": kind, "description": "alt", "url": None}
        if kind == "audio":
            item["meta"] = {"original": {"duration": 3.2, "bitrate": 128000}}
        mapped = mapping.media_from_attachment(item)
        assert (mapped.kind, mapped.alt_text, mapped.url) == (expected, "alt", None)
    assert mapping.media_from_attachment({"id": "1", "type": "image", "meta": None}).width is None


def test_quote_post_text_leaves_out_the_inline_fallback() -> None:
    status = body("status_quote")
    post = mapping.post_from_status(status)
    assert post.text == "yoooooooo"
    assert post.raw["quote"]["quoted_status"]["id"] == "117020582917124092"
    assert post.metrics.quotes == status["quotes_count"]


def test_link_spans_come_out_as_the_whole_url() -> None:
    assert mapping.post_from_status(body("status_link")).text == "http://example.org/"


def test_timeline_entities_and_mentions_as_text() -> None:
    posts = mapping.posts_from_statuses(body("home_timeline"))
    texts = [p.text for p in posts]
    assert "you can't say that on television" in texts  # &#39; unescaped
    assert "@mastodonpy_test beep beep I'm a jeep" in texts
    assert "on the internet, nobody knows you're a plane" in texts
    assert all(p.author and p.author_id == p.author.id for p in posts)


def test_deleted_status_falls_back_to_its_source_text() -> None:
    status = body("status_delete")  # a deleted status has `text` instead of `content`
    assert "content" not in status
    assert mapping.post_from_status(status).text == "Toot!"


def test_notifications_give_their_statuses() -> None:
    notifications = body("notifications_mentions")
    posts = mapping.posts_from_notifications(notifications)
    assert [p.id for p in posts] == [n["status"]["id"] for n in notifications]
    assert posts[0].text.startswith("@mastodonpy_test")
    assert posts[0].author is not None and posts[0].author.handle == "admin"
    without_status = [{**notifications[0], "status": None, "type": "mention"}]
    assert mapping.posts_from_notifications(without_status) == []


# -- HTML --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>one<br>two<br />three</p>", "one\ntwo\nthree"),
        ("<p>first</p><p>second</p>", "first\n\nsecond"),
        ("<p>Q&amp;A &lt;tag&gt; &quot;x&quot; it&#39;s</p>", 'Q&A <tag> "x" it\'s'),
        ('<p><a href="https://e.example/x" class="mention hashtag">#<span>tag</span></a></p>',
         "#tag"),
        ("<ul><li>a</li><li>b</li></ul><p>c</p>", "a\nb\n\nc"),
        ("<blockquote><p>quoted</p></blockquote><p>reply</p>", "quoted\n\nreply"),
        ("", ""),
        (None, ""),
        ("plain text", "plain text"),
        ('<p class="quote-inline">RE: <a href="x"><span>x</span></a><br/></p><p>body</p>',
         "body"),
    ],
)  # fmt: skip
def test_html_to_text(html: str | None, text: str) -> None:
    assert mapping.html_to_text(html) == text


# -- malformed answers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s.pop("id"), "no string `id`"),
        (lambda s: s.update(id=123), "no string `id`"),
        (lambda s: s.update(created_at="yesterday"), "not an ISO 8601"),
        (lambda s: s.update(created_at="2026-08-01T13:53:15"), "no timezone"),
        (lambda s: s.update(media_attachments="none"), "must be a list"),
        (lambda s: s.update(account=[]), "must be an object"),
        (lambda s: s.update(favourites_count="many"), "could not be mapped"),
    ],
)
def test_malformed_status_is_an_upstream_schema_error(mutate: Any, message: str) -> None:
    status = body("status_get")
    mutate(status)
    with pytest.raises(sg.UpstreamSchemaError) as info:
        mapping.post_from_status(status)
    assert message in str(info.value)
    assert info.value.network == "mastodon" and info.value.body


def test_a_listing_that_is_not_a_list_is_an_upstream_schema_error() -> None:
    with pytest.raises(sg.UpstreamSchemaError):
        mapping.posts_from_statuses({"error": "oops"})
    with pytest.raises(sg.UpstreamSchemaError):
        mapping.profiles_from_accounts("nope")
