"""Tests of the X API v2 mapping layer against real recorded payloads (tests/fixtures/x/)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from socialgate._errors import UpstreamSchemaError
from socialgate._models import Media, Metrics, Post, Profile
from socialgate.adapters.x.mapping import (
    NETWORK,
    media_from_x,
    post_from_response,
    post_from_tweet,
    posts_from_response,
    profile_from_response,
    profile_from_user,
    profiles_from_response,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "x"


def load(name: str) -> Any:
    """A recorded payload from tests/fixtures/x/ (see the README there for its source)."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def parse_x_time(value: str) -> datetime:
    """X's timestamp format, parsed independently of the code under test."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# --- field-by-field comparison against the payload -------------------------------------


def check_aware_utc(value: datetime | None) -> None:
    if value is not None:
        assert value.tzinfo is not None
        assert value.utcoffset() == timedelta(0)


def check_profile(profile: Profile | None, user: dict[str, Any]) -> None:
    assert isinstance(profile, Profile)
    metrics = user.get("public_metrics", {})
    assert profile.network == "x"
    assert profile.id == user["id"]
    assert profile.handle == user.get("username")
    assert profile.display_name == user.get("name")
    assert profile.description == user.get("description")
    assert profile.url == f"https://x.com/{user['username']}"
    assert profile.avatar_url == user.get("profile_image_url")
    assert profile.followers_count == metrics.get("followers_count")
    assert profile.following_count == metrics.get("following_count")
    assert profile.posts_count == metrics.get("tweet_count")
    if "created_at" in user:
        assert profile.created_at == parse_x_time(user["created_at"])
    else:
        assert profile.created_at is None
    check_aware_utc(profile.created_at)
    if "verified" in user:
        assert profile.verified is user["verified"]
    elif "verified_type" in user:
        assert profile.verified is (user["verified_type"] != "none")
    else:
        assert profile.verified is None
    assert profile.raw == user


def check_media(media: Media, item: dict[str, Any]) -> None:
    assert media.id == item["media_key"]
    assert media.kind == {"photo": "image", "video": "video", "animated_gif": "gif"}.get(
        item["type"], "other"
    )
    if "url" in item:
        assert media.url == item["url"]
    elif item.get("variants"):
        mp4 = [v for v in item["variants"] if v.get("content_type") == "video/mp4"]
        assert media.url == max(mp4, key=lambda v: v.get("bit_rate", 0))["url"]
    else:
        assert media.url is None
    assert media.preview_url == item.get("preview_image_url")
    assert media.alt_text == item.get("alt_text")
    assert media.width == item.get("width")
    assert media.height == item.get("height")
    assert media.network == "x"
    assert media.raw == item


def check_post(post: Post, tweet: dict[str, Any], includes: dict[str, Any]) -> None:
    users = {u["id"]: u for u in includes.get("users", [])}
    media = {m["media_key"]: m for m in includes.get("media", [])}
    author = users.get(tweet.get("author_id", ""))

    assert isinstance(post, Post)
    assert post.network == "x"
    assert post.id == tweet["id"]
    assert post.author_id == tweet.get("author_id")
    if author is None:
        assert post.author is None
        assert post.url == f"https://x.com/i/web/status/{tweet['id']}"
    else:
        check_profile(post.author, author)
        assert post.url == f"https://x.com/{author['username']}/status/{tweet['id']}"
    assert post.text == tweet.get("note_tweet", {}).get("text", tweet["text"])
    if "created_at" in tweet:
        assert post.created_at == parse_x_time(tweet["created_at"])
    else:
        assert post.created_at is None
    check_aware_utc(post.created_at)
    replied = [r["id"] for r in tweet.get("referenced_tweets", []) if r["type"] == "replied_to"]
    assert post.reply_to_id == (replied[0] if replied else None)
    assert post.conversation_id == tweet.get("conversation_id")
    assert post.lang == tweet.get("lang")
    pm = tweet.get("public_metrics", {})
    assert post.metrics == Metrics(
        likes=pm.get("like_count"),
        reposts=pm.get("retweet_count"),
        replies=pm.get("reply_count"),
        quotes=pm.get("quote_count"),
        views=pm.get("impression_count"),
        bookmarks=pm.get("bookmark_count"),
    )
    keys = tweet.get("attachments", {}).get("media_keys", [])
    expected_media = [media[k] for k in keys if k in media]
    assert len(post.media) == len(expected_media)
    for got, item in zip(post.media, expected_media, strict=True):
        check_media(got, item)
    assert post.raw == tweet


def spec_enriched_body() -> dict[str, Any]:
    """CONSTRUCTED, not recorded: the recorded single-tweet lookup ``sns_tweet_resp.json``
    with the fields no recording carries added under the names and shapes of the X API v2
    OpenAPI description (Tweet: note_tweet, conversation_id, public_metrics with
    impression_count/bookmark_count, referenced_tweets; User: verified_type,
    profile_image_url; Media: url, alt_text, width, height, variants)."""
    body = copy.deepcopy(load("sns_tweet_resp.json"))
    tweet = body["data"]
    tweet.update(
        {
            "author_id": "2244994945",
            "created_at": "2018-11-26T16:37:10.000Z",
            "conversation_id": "1067094000000000000",
            "lang": "en",
            "note_tweet": {"text": "A long post. " * 40},
            "public_metrics": {
                "retweet_count": 41,
                "reply_count": 7,
                "like_count": 220,
                "quote_count": 3,
                "bookmark_count": 12,
                "impression_count": 98765,
            },
            "referenced_tweets": [
                {"type": "quoted", "id": "1067000000000000001"},
                {"type": "replied_to", "id": "1067000000000000002"},
            ],
        }
    )
    tweet["attachments"]["media_keys"] = [
        "3_1064638969197977601",
        "7_not_in_includes",
        "13_1064638969197977600",
        "16_1064638969197977602",
    ]
    video = body["includes"]["media"][0]
    video.update(
        {
            "preview_image_url": "https://pbs.twimg.com/amplify_video_thumb/1/img/a.jpg",
            "width": 1280,
            "height": 720,
            "variants": [
                {
                    "content_type": "application/x-mpegURL",
                    "url": "https://video.twimg.com/amplify_video/1/pl/a.m3u8",
                },
                {
                    "bit_rate": 832000,
                    "content_type": "video/mp4",
                    "url": "https://video.twimg.com/amplify_video/1/vid/640x360/b.mp4",
                },
                {
                    "bit_rate": 2176000,
                    "content_type": "video/mp4",
                    "url": "https://video.twimg.com/amplify_video/1/vid/1280x720/c.mp4",
                },
                {
                    "bit_rate": 256000,
                    "content_type": "video/mp4",
                    "url": "https://video.twimg.com/amplify_video/1/vid/320x180/d.mp4",
                },
            ],
        }
    )
    body["includes"]["media"] = [
        {
            "media_key": "16_1064638969197977602",
            "type": "animated_gif",
            "preview_image_url": "https://pbs.twimg.com/tweet_video_thumb/e.jpg",
            "variants": [
                {
                    "bit_rate": 0,
                    "content_type": "video/mp4",
                    "url": "https://video.twimg.com/tweet_video/e.mp4",
                }
            ],
        },
        video,
        {
            "media_key": "3_1064638969197977601",
            "type": "photo",
            "url": "https://pbs.twimg.com/media/f.jpg",
            "alt_text": "A developer at a laptop",
            "width": 2048,
            "height": 1152,
        },
    ]
    body["includes"]["users"] = [
        {
            "id": "2244994945",
            "username": "XDevelopers",
            "name": "Developers",
            "verified_type": "business",
            "profile_image_url": "https://pbs.twimg.com/profile_images/1/g_normal.jpg",
            "created_at": "2013-12-14T04:35:55.000Z",
            "public_metrics": {
                "followers_count": 700000,
                "following_count": 2000,
                "tweet_count": 4000,
                "listed_count": 1700,
            },
        },
        {"id": "1", "username": "someone", "name": "Someone", "verified_type": "none"},
    ]
    return body


# --- every recorded tweet and user, field by field -------------------------------------

TWEET_FIXTURES = [
    "sns_tweet_resp.json",
    "sns_tweets_resp.json",
    "sns_create_tweet_resp.json",
    "sns_timeline_tweets.json",
    "sns_search_tweets_query.json",
    "tweepy_get_tweet.json",
    "tweepy_get_tweets.json",
    "tweepy_get_users_tweets.json",
    "tweepy_search_recent_tweets.json",
    "tweepy_create_tweet.json",
]

USER_FIXTURES = [
    "sns_users_resp.json",
    "sns_me_resp.json",
    "sns_followers_resp.json",
    "tweepy_get_me.json",
    "tweepy_get_user.json",
    "tweepy_get_users_followers.json",
]


@pytest.mark.parametrize("name", TWEET_FIXTURES)
def test_every_recorded_tweet_maps_field_by_field(name: str) -> None:
    body = load(name)
    tweets = body["data"] if isinstance(body["data"], list) else [body["data"]]
    posts = posts_from_response(body)
    assert len(posts) == len(tweets)
    for post, tweet in zip(posts, tweets, strict=True):
        check_post(post, tweet, body.get("includes", {}))


def test_spec_enriched_tweet_maps_field_by_field() -> None:
    body = spec_enriched_body()
    check_post(post_from_response(body), body["data"], body["includes"])


@pytest.mark.parametrize("name", USER_FIXTURES)
def test_every_recorded_user_maps_field_by_field(name: str) -> None:
    body = load(name)
    users = body["data"] if isinstance(body["data"], list) else [body["data"]]
    profiles = profiles_from_response(body)
    assert len(profiles) == len(users)
    for profile, user in zip(profiles, users, strict=True):
        check_profile(profile, user)


# --- concrete values from the recordings -------------------------------------------------


def test_author_expansion_and_status_url() -> None:
    body = load("sns_tweets_resp.json")
    first, second = posts_from_response(body)

    assert first.id == "1261326399320715264"
    assert first.author_id == "2244994945"
    assert first.author == Profile(
        network="x",
        id="2244994945",
        handle="TwitterDev",
        display_name="Twitter Dev",
        url="https://x.com/TwitterDev",
        verified=True,
        raw=body["includes"]["users"][0],
    )
    assert first.url == "https://x.com/TwitterDev/status/1261326399320715264"
    assert first.created_at == utc(2020, 5, 15, 16, 3, 42)
    assert first.created_at is not None and first.created_at.tzinfo is UTC
    assert first.text.startswith("Tune in to the @MongoDB @Twitch stream")

    assert second.author is not None and second.author.handle == "Twitter"
    assert second.url == "https://x.com/Twitter/status/1278347468690915330"
    assert second.text == "Good news and bad news: \n\n2020 is half over"
    # raw is the tweet alone, without the response's includes
    assert first.raw == body["data"][0]
    assert "includes" not in first.raw and "username" not in first.raw


def test_reply_to_lang_and_author_created_at_from_search() -> None:
    body = load("sns_search_tweets_query.json")
    posts = posts_from_response(body)
    assert [p.id for p in posts] == [
        "1276035977375477760",
        "1275882613572583424",
        "1275763727908798470",
        "1275653067283759104",
    ]
    assert [p.reply_to_id for p in posts] == [
        "1275653067283759104",
        "1273733248749690880",
        "1275653067283759104",
        "1274086728471461889",
    ]
    assert [p.lang for p in posts] == ["en", "en", "und", "en"]
    first = posts[0]
    assert first.author is not None
    assert first.author.handle == "happycamper"
    assert first.author.display_name == "Emily Waligoske 🏕"
    assert first.author.created_at == utc(2009, 8, 5, 5, 46, 48)
    assert first.author.description is not None
    assert first.author.description.startswith("Part-time fiddler")
    assert first.url == "https://x.com/happycamper/status/1276035977375477760"
    # the tweet names a media key the response did not expand: skipped, not an error
    assert first.raw["attachments"]["media_keys"] == ["16_1276035971193044992"]
    assert first.media == ()
    # the same author built once per response is equal wherever it appears
    assert posts[1].author == posts[3].author
    assert posts[1].author is not None and posts[1].author.handle == "snowman"


def test_public_metrics_from_timeline() -> None:
    posts = posts_from_response(load("sns_timeline_tweets.json"))
    assert len(posts) == 5
    assert posts[0].metrics == Metrics(
        likes=37, reposts=10, replies=2, quotes=1, views=None, bookmarks=None
    )
    assert posts[4].metrics == Metrics(likes=74, reposts=16, replies=9, quotes=3)
    assert posts[0].author is None and posts[0].author_id is None
    assert posts[0].url == "https://x.com/i/web/status/1364275610764201984"
    assert posts[0].created_at == utc(2021, 2, 23, 18, 7, 7)


def test_media_expansion_of_single_tweet_lookup() -> None:
    body = load("sns_tweet_resp.json")
    post = post_from_response(body)
    assert post.id == "1067094924124872705"
    assert post.author is None
    assert post.created_at is None
    assert post.metrics == Metrics()
    assert post.url == "https://x.com/i/web/status/1067094924124872705"
    assert post.media == (
        Media(
            id="13_1064638969197977600",
            kind="video",
            network="x",
            raw={"duration_ms": 136637, "media_key": "13_1064638969197977600", "type": "video"},
        ),
    )


def test_users_lookup_full_profile() -> None:
    body = load("sns_users_resp.json")
    twitter, dev = profiles_from_response(body)
    assert twitter.id == "783214"
    assert twitter.handle == "Twitter"
    assert twitter.display_name == "Twitter"
    assert twitter.description == "What's happening!?"
    assert twitter.url == "https://x.com/Twitter"
    assert twitter.raw["url"] == "https://t.co/TAXQpsHa5X"  # the user's own link stays in raw
    assert twitter.avatar_url == (
        "https://pbs.twimg.com/profile_images/1308010958862905345/-SGZioPb_normal.jpg"
    )
    assert twitter.followers_count == 58677711
    assert twitter.following_count == 9
    assert twitter.posts_count == 13944
    assert twitter.created_at == utc(2007, 2, 20, 14, 35, 54)
    assert twitter.verified is True
    assert twitter.raw == body["data"][0]
    assert dev.handle == "TwitterDev" and dev.followers_count == 514020


def test_single_user_lookups() -> None:
    me = profile_from_response(load("sns_me_resp.json"))
    assert me.id == "2244994945"
    assert me.handle == "TwitterDev"
    assert me.created_at == utc(2013, 12, 14, 4, 35, 55)
    assert me.verified is None
    assert me.followers_count is None and me.avatar_url is None
    assert me.raw["pinned_tweet_id"] == "1460323737035677698"

    tweepy_me = profile_from_response(load("tweepy_get_me.json"))
    assert (tweepy_me.id, tweepy_me.handle, tweepy_me.display_name) == (
        "1072250532645998596",
        "TweepyDev",
        "Tweepy Testing",
    )
    assert tweepy_me.url == "https://x.com/TweepyDev"

    user = profile_from_user(load("tweepy_get_user.json")["data"])
    assert (user.id, user.handle, user.url) == ("783214", "Twitter", "https://x.com/Twitter")


def test_followers_page() -> None:
    profiles = profiles_from_response(load("tweepy_get_users_followers.json"))
    assert len(profiles) == 100
    assert profiles[0].id == "1376998163739987969"
    assert profiles[0].handle == "Zamari97491661"
    assert profiles[0].display_name == "Za\u2019mari"
    assert all(p.network == "x" for p in profiles)


def test_create_and_lookup_minimal_tweets() -> None:
    created = post_from_response(load("tweepy_create_tweet.json"))
    assert (created.id, created.text) == ("1456012973835788293", "Test Tweet")
    assert created.url == "https://x.com/i/web/status/1456012973835788293"

    looked_up = post_from_response(load("tweepy_get_tweet.json"))
    assert looked_up.id == "1293593516040269825"
    assert looked_up.text.startswith("It\u2019s finally here! \U0001f941 Say hello to the new")
    assert looked_up.raw["edit_history_tweet_ids"] == ["1293593516040269825"]
    assert looked_up.metrics == Metrics()
    assert looked_up.media == ()


def test_delete_answer_is_not_a_tweet() -> None:
    body = load("tweepy_delete_tweet.json")  # {"data": {"deleted": true}}
    with pytest.raises(UpstreamSchemaError, match="no string `id`") as info:
        post_from_response(body)
    assert json.loads(info.value.body or "") == body


def test_media_model_and_upload_answers() -> None:
    video_item = load("sns_model_media.json")
    video = media_from_x(video_item)
    assert video == Media(
        id="13_1263145212760805376",
        kind="video",
        url=None,
        preview_url="https://pbs.twimg.com/media/EYeX7akWsAIP1_1.jpg",
        width=1920,
        height=1080,
        network="x",
        raw=video_item,
    )
    for name in ("sns_media_upload_simple_resp.json", "sns_media_upload_v2_simple_resp.json"):
        item = load(name)
        uploaded = media_from_x(item)
        assert uploaded.id == "3_1726817595448610817"
        assert uploaded.kind == "image"
        assert (uploaded.width, uploaded.height) == (4928, 3280)
        assert uploaded.raw == item


# --- fields only the spec describes ------------------------------------------------------


def test_note_tweet_metrics_reply_and_media_from_spec_fields() -> None:
    body = spec_enriched_body()
    post = post_from_response(body)
    assert post.text == "A long post. " * 40  # note_tweet.text wins over the truncated text
    assert post.text != body["data"]["text"]
    assert post.reply_to_id == "1067000000000000002"  # the replied_to entry, not the quoted one
    assert post.conversation_id == "1067094000000000000"
    assert post.lang == "en"
    assert post.metrics == Metrics(
        likes=220, reposts=41, replies=7, quotes=3, views=98765, bookmarks=12
    )
    assert post.url == "https://x.com/XDevelopers/status/1067094924124872705"
    assert post.author is not None
    assert post.author.verified is True  # verified_type "business"
    assert post.author.avatar_url == "https://pbs.twimg.com/profile_images/1/g_normal.jpg"
    assert post.author.posts_count == 4000

    # attachment order, the unknown key skipped
    assert [m.id for m in post.media] == [
        "3_1064638969197977601",
        "13_1064638969197977600",
        "16_1064638969197977602",
    ]
    photo, video, gif = post.media
    assert (photo.kind, photo.url, photo.alt_text, photo.width, photo.height) == (
        "image",
        "https://pbs.twimg.com/media/f.jpg",
        "A developer at a laptop",
        2048,
        1152,
    )
    assert video.kind == "video"
    assert video.url == "https://video.twimg.com/amplify_video/1/vid/1280x720/c.mp4"
    assert video.preview_url == "https://pbs.twimg.com/amplify_video_thumb/1/img/a.jpg"
    assert (video.width, video.height) == (1280, 720)
    assert gif.kind == "gif"
    assert gif.url == "https://video.twimg.com/tweet_video/e.mp4"
    assert all(m.network == "x" for m in post.media)


def test_verified_type_none_means_not_verified() -> None:
    body = spec_enriched_body()
    assert profile_from_user(body["includes"]["users"][1]).verified is False


def test_openapi_post_spellings_are_read_as_fallback() -> None:
    # The xdk OpenAPI description renames tweet -> post in a few field names; the wire
    # names (retweet_count, tweet_count, ...) win when both are present.
    tweet = {
        "id": "10",
        "text": "short",
        "note_post": {"text": "the long text"},
        "referenced_posts": [{"type": "replied_to", "id": "9"}],
        "public_metrics": {"repost_count": 4, "like_count": 1},
    }
    post = post_from_tweet(tweet)
    assert (post.text, post.reply_to_id, post.metrics.reposts) == ("the long text", "9", 4)
    user = {"id": "1", "username": "a", "public_metrics": {"post_count": 5, "tweet_count": 6}}
    assert profile_from_user(user).posts_count == 6
    del user["public_metrics"]["tweet_count"]
    assert profile_from_user(user).posts_count == 5


def test_profile_without_username_links_by_id() -> None:
    profile = profile_from_user({"id": "783214", "name": "Twitter"})
    assert profile.url == "https://x.com/i/user/783214"
    assert profile.handle is None


def test_unknown_media_type_is_other() -> None:
    assert media_from_x({"media_key": "99_1", "type": "hologram"}).kind == "other"


def test_post_from_tweet_with_and_without_includes() -> None:
    body = spec_enriched_body()
    bare = post_from_tweet(body["data"])
    assert bare.author is None and bare.media == ()
    assert bare.url == "https://x.com/i/web/status/1067094924124872705"
    assert bare.author_id == "2244994945"

    full = post_from_tweet(body["data"], body["includes"])
    assert full == post_from_response(body)
    assert len(full.media) == 3


def test_missing_data_means_no_results() -> None:
    assert posts_from_response({"meta": {"result_count": 0}}) == []
    assert profiles_from_response({"meta": {"result_count": 0}}) == []


def test_single_lookup_without_data_reports_the_upstream_error() -> None:
    body = {
        "errors": [
            {
                "value": "1",
                "detail": "Could not find tweet with id: [1].",
                "title": "Not Found Error",
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
        ]
    }
    with pytest.raises(UpstreamSchemaError, match=r"Could not find tweet with id: \[1\]"):
        post_from_response(body)
    with pytest.raises(UpstreamSchemaError, match="no `data`"):
        profile_from_response({})


# --- malformed input ---------------------------------------------------------------------


def _tweets_body() -> dict[str, Any]:
    return copy.deepcopy(load("sns_search_tweets_query.json"))


def _with(path: tuple[Any, ...], value: Any, base: dict[str, Any] | None = None) -> Any:
    body = _tweets_body() if base is None else base
    target = body
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


_DELETE = object()

MALFORMED_TWEETS = [
    pytest.param(["not", "an", "object"], "response body must be an object", id="body-list"),
    pytest.param({"data": "nope"}, "`data` must be a list or an object", id="data-str"),
    pytest.param({"data": 42}, "`data` must be a list or an object", id="data-int"),
    pytest.param({"data": ["tweet"]}, "a tweet must be an object", id="tweet-str"),
    pytest.param(_with(("data", 0, "id"), _DELETE), "no string `id`", id="no-id"),
    pytest.param(_with(("data", 0, "id"), 1276035977375477760), "no string `id`", id="int-id"),
    pytest.param(
        _with(("data", 0, "created_at"), "Thu Jun 25 06:14:19 +0000 2020"),
        "not an ISO 8601 timestamp",
        id="v1-created_at",
    ),
    pytest.param(
        _with(("data", 0, "created_at"), "2020-06-25T06:14:19"), "no timezone", id="naive"
    ),
    pytest.param(
        _with(("data", 0, "created_at"), 1593065659), "not an ISO 8601 timestamp", id="epoch"
    ),
    pytest.param(_with(("includes",), []), "`includes` must be an object", id="includes-list"),
    pytest.param(_with(("includes", "users"), {}), "includes.users must be a list", id="users"),
    pytest.param(
        _with(("includes", "users", 0), "happycamper"), "includes.users holds a str", id="user"
    ),
    pytest.param(
        _with(("includes", "users", 0, "created_at"), "yesterday"),
        "user 63046977: created_at is not an ISO 8601",
        id="author-created_at",
    ),
    pytest.param(
        _with(("includes", "users", 0, "username"), 42), "user 63046977", id="author-username"
    ),
    pytest.param(
        _with(("includes", "media"), [["16_1276035971193044992"]]),
        "includes.media holds a list",
        id="media-entry",
    ),
    pytest.param(
        _with(("data", 0, "public_metrics"), [1, 2]), "public_metrics must be an object", id="pm"
    ),
    pytest.param(
        _with(("data", 0, "public_metrics"), {"like_count": "many"}),
        "tweet 1276035977375477760 could not be mapped",
        id="like_count-str",
    ),
    pytest.param(
        _with(("data", 0, "referenced_tweets"), {"type": "replied_to"}),
        "referenced_tweets must be a list",
        id="refs-dict",
    ),
    pytest.param(
        _with(("data", 0, "attachments"), ["16_1276035971193044992"]),
        "attachments must be an object",
        id="attachments-list",
    ),
    pytest.param(
        _with(("data", 0, "attachments", "media_keys"), "16_1276035971193044992"),
        "media_keys must be a list",
        id="media_keys-str",
    ),
    pytest.param(
        _with(("data", 0, "attachments", "media_keys"), [16]),
        "media key 16 is not a string",
        id="media_key-int",
    ),
    pytest.param(_with(("data", 0, "text"), None), "could not be mapped", id="text-none"),
    pytest.param(_with(("data", 0, "lang"), 5), "could not be mapped", id="lang-int"),
    pytest.param(_with(("data", 0, "author_id"), 63046977), "could not be mapped", id="author"),
]


@pytest.mark.parametrize(("body", "message"), MALFORMED_TWEETS)
def test_malformed_tweets_raise_upstream_schema_error(body: Any, message: str) -> None:
    with pytest.raises(UpstreamSchemaError, match=message) as info:
        posts_from_response(body)
    error = info.value
    assert error.network == NETWORK == "x"
    assert json.loads(error.body or "") == body


def test_malformed_media_in_includes() -> None:
    body = copy.deepcopy(load("sns_tweet_resp.json"))
    body["includes"]["media"][0]["variants"] = "https://video.twimg.com/x.mp4"
    with pytest.raises(UpstreamSchemaError, match="variants must be a list") as info:
        post_from_response(body)
    assert json.loads(info.value.body or "") == body

    body["includes"]["media"][0]["variants"] = []
    body["includes"]["media"][0]["width"] = "wide"
    with pytest.raises(UpstreamSchemaError, match="media 13_1064638969197977600"):
        post_from_response(body)


@pytest.mark.parametrize(
    ("call", "body", "message"),
    [
        (post_from_response, {"data": []}, "`data` must be an object"),
        (post_from_response, "data", "response body must be an object"),
        (profile_from_response, {"data": [{"id": "1"}]}, "`data` must be an object"),
        (profiles_from_response, {"data": "users"}, "`data` must be a list or an object"),
        (profiles_from_response, {"data": [{"name": "no id"}]}, "no string `id`"),
        (profiles_from_response, {"data": [7]}, "a user must be an object"),
        (
            profile_from_response,
            {"data": {"id": "1", "username": "a", "public_metrics": "lots"}},
            "public_metrics must be an object",
        ),
        (
            profile_from_response,
            {"data": {"id": "1", "username": "a", "created_at": "2013-12-14"}},
            "no timezone",
        ),
        (
            profile_from_response,
            {"data": {"id": "1", "username": "a", "public_metrics": {"followers_count": []}}},
            "user 1 could not be mapped",
        ),
    ],
)
def test_malformed_responses_raise_upstream_schema_error(
    call: Any, body: Any, message: str
) -> None:
    with pytest.raises(UpstreamSchemaError, match=message) as info:
        call(body)
    assert info.value.network == "x"
    assert json.loads(info.value.body or "") == body


@pytest.mark.parametrize(
    ("call", "item", "message"),
    [
        (profile_from_user, {"username": "nobody"}, "no string `id`"),
        (profile_from_user, None, "a user must be an object"),
        (post_from_tweet, {"text": "no id"}, "no string `id`"),
        (media_from_x, {"type": "photo"}, "no string `media_key`"),
        (media_from_x, [], "a media item must be an object"),
        (media_from_x, {"media_key": "3_1", "type": ["photo"]}, "media 3_1 could not be mapped"),
    ],
)
def test_malformed_items_raise_upstream_schema_error(call: Any, item: Any, message: str) -> None:
    with pytest.raises(UpstreamSchemaError, match=message) as info:
        call(item)
    assert info.value.network == "x"
    assert json.loads(info.value.body or "") == item


def test_malformed_includes_passed_to_post_from_tweet() -> None:
    tweet = load("tweepy_get_tweet.json")["data"]
    with pytest.raises(UpstreamSchemaError, match="`includes` must be an object") as info:
        post_from_tweet(tweet, [])  # type: ignore[arg-type]
    assert json.loads(info.value.body or "") == {"data": tweet, "includes": []}
