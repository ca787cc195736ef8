"""Reddit's JSON shapes for the sandbox: things (``t1``, ``t2``, ``t3``, ``more``), listings,
inbox items and error bodies.

Key sets and value types follow the payloads praw-dev/asyncpraw recorded against
oauth.reddit.com (copied under tests/fixtures/reddit/, which test_reddit_fidelity.py compares
with): a submission carries the 106 keys a non-moderator sees, a comment the 65 of
``/api/info`` (plus ``depth`` inside trees). Fields only moderators see (``approved``,
``removed``, ``spam``, ``ignore_reports``) are left out, as Reddit leaves them out for others.
"""

from __future__ import annotations

import html
from typing import Any

from .sandbox_data import SUBREDDIT_BASE, SUBREDDITS, CommentRec, PostRec, UserRec, b36

WEB = "https://www.reddit.com"

# Values every submission has that the dataset does not vary.
_T3_STATIC: dict[str, Any] = {
    "author_flair_background_color": None, "approved_at_utc": None, "saved": False,
    "mod_reason_title": None, "gilded": 0, "clicked": False, "link_flair_richtext": [],
    "hidden": False, "pwls": 6, "link_flair_css_class": None, "downs": 0,
    "top_awarded_type": None, "hide_score": False, "quarantine": False,
    "link_flair_text_color": "dark", "subreddit_type": "public", "total_awards_received": 0,
    "media_embed": {}, "author_flair_template_id": None, "is_original_content": False,
    "user_reports": [], "secure_media": None, "is_meta": False, "category": None,
    "secure_media_embed": {}, "link_flair_text": None, "can_mod_post": False,
    "approved_by": None, "is_created_from_ads_ui": False, "author_premium": False,
    "edited": False, "author_flair_css_class": None, "author_flair_richtext": [],
    "gildings": {}, "content_categories": None, "mod_note": None, "link_flair_type": "text",
    "wls": 6, "removed_by_category": None, "banned_by": None, "author_flair_type": "text",
    "allow_live_comments": False, "likes": None, "suggested_sort": None,
    "banned_at_utc": None, "view_count": None, "archived": False, "no_follow": True,
    "is_crosspostable": True, "pinned": False, "all_awardings": [], "awarders": [],
    "media_only": False, "can_gild": False, "locked": False, "author_flair_text": None,
    "treatment_tags": [], "visited": False, "removed_by": None, "num_reports": None,
    "distinguished": None, "author_is_blocked": False, "mod_reason_by": None,
    "removal_reason": None, "link_flair_background_color": "", "is_robot_indexable": True,
    "report_reasons": None, "discussion_type": None, "send_replies": True,
    "whitelist_status": "all_ads", "contest_mode": False, "mod_reports": [],
    "author_patreon_flair": False, "author_flair_text_color": None,
    "parent_whitelist_status": "all_ads", "stickied": False, "num_crossposts": 0,
    "media": None, "is_video": False,
}  # fmt: skip

_T1_STATIC: dict[str, Any] = {
    "total_awards_received": 0, "approved_at_utc": None, "edited": False,
    "mod_reason_by": None, "banned_by": None, "author_flair_type": "text",
    "removal_reason": None, "author_flair_template_id": None, "likes": None,
    "user_reports": [], "saved": False, "banned_at_utc": None, "mod_reason_title": None,
    "gilded": 0, "archived": False, "no_follow": True, "can_mod_post": False,
    "send_replies": True, "approved_by": None, "mod_note": None, "all_awardings": [],
    "awarders": [], "author_flair_css_class": None, "author_patreon_flair": False,
    "downs": 0, "author_flair_richtext": [], "gildings": {}, "collapsed_reason": None,
    "distinguished": None, "associated_award": None, "stickied": False,
    "author_premium": False, "can_gild": False, "top_awarded_type": None,
    "author_flair_text_color": None, "score_hidden": False, "num_reports": None,
    "locked": False, "report_reasons": None, "author_flair_text": None,
    "treatment_tags": [], "collapsed": False, "controversiality": 0,
    "author_flair_background_color": None, "collapsed_because_crowd_control": None,
    "mod_reports": [], "subreddit_type": "public",
}  # fmt: skip


def subreddit_id(name: str) -> str:
    index = SUBREDDITS.index(name) if name in SUBREDDITS else sum(map(ord, name)) % 1000 + 100
    return f"t5_{b36(SUBREDDIT_BASE + index)}"


def slug(title: str) -> str:
    words = "".join(ch if ch.isalnum() else " " for ch in title.lower()).split()
    return "_".join(words)[:50] or "post"


def markdown_html(text: str) -> str:
    paragraphs = "".join(f"<p>{html.escape(p)}</p>\n" for p in text.split("\n\n") if p)
    return f'<!-- SC_OFF --><div class="md">{paragraphs}</div><!-- SC_ON -->'


def permalink(post: PostRec, comment: CommentRec | None = None) -> str:
    base = f"/r/{post.subreddit}/comments/{post.id36}/{slug(post.title)}/"
    return base + (f"{comment.id36}/" if comment is not None else "")


# Reddit drops these with the author when a thing is deleted.
_AUTHOR_ONLY = ("author_fullname", "author_flair_richtext", "author_flair_type",
                "author_patreon_flair", "author_premium")  # fmt: skip


def _with_author(data: dict[str, Any], user: UserRec | None) -> dict[str, Any]:
    if user is None:
        for key in _AUTHOR_ONLY:
            data.pop(key, None)
        data["author"] = "[deleted]"
    else:
        data.update(author=user.name, author_fullname=user.fullname)
    return data


def t3(
    post: PostRec,
    author: UserRec | None,
    *,
    num_comments: int,
    deleted: bool,
    media: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A submission's ``data`` (``media`` carries the rendered media fields, if any)."""
    link = permalink(post)
    is_self = post.url is None and not post.media
    selftext = "[deleted]" if deleted else post.selftext
    data: dict[str, Any] = {
        **_T3_STATIC,
        "subreddit": post.subreddit,
        "selftext": selftext,
        "title": post.title,
        "subreddit_name_prefixed": f"r/{post.subreddit}",
        "name": post.fullname,
        "upvote_ratio": 1.0 if post.score < 3 else 0.9,
        "ups": post.score,
        "thumbnail_height": None,
        "thumbnail_width": None,
        "is_reddit_media_domain": bool(post.media),
        "score": post.score,
        "thumbnail": "self" if is_self else "default",
        "is_self": is_self,
        "created": post.created,
        "domain": f"self.{post.subreddit}" if is_self else _domain(post),
        "selftext_html": markdown_html(selftext) if selftext else None,
        "over_18": post.nsfw,
        "spoiler": post.spoiler,
        "subreddit_id": subreddit_id(post.subreddit),
        "id": post.id36,
        "num_comments": num_comments,
        "permalink": link,
        "url": post.url or (WEB + link),
        "subreddit_subscribers": 10_000 + SUBREDDITS.index(post.subreddit) * 7_919
        if post.subreddit in SUBREDDITS
        else 1,
        "created_utc": post.created,
    }
    if post.url is not None:
        data["url_overridden_by_dest"] = post.url
    if media:
        data.update(media)
    return _with_author(data, None if deleted else author)


def _domain(post: PostRec) -> str:
    if post.media_kind == "video":
        return "v.redd.it"
    if post.media_kind == "image":
        return "i.redd.it"
    if post.media_kind == "gallery":
        return "reddit.com"
    url = post.url or ""
    return url.split("//", 1)[-1].split("/", 1)[0]


def image_media(asset: str, extension: str, width: int, height: int) -> dict[str, Any]:
    source = f"https://preview.redd.it/{asset}.{extension}?auto=webp&s={asset[::-1]}"
    small = f"https://preview.redd.it/{asset}.{extension}?width=108&crop=smart&auto=webp&s={asset}"
    return {
        "post_hint": "image",
        "url_overridden_by_dest": f"https://i.redd.it/{asset}.{extension}",
        "url": f"https://i.redd.it/{asset}.{extension}",
        "preview": {
            "images": [
                {
                    "source": {"url": source, "width": width, "height": height},
                    "resolutions": [{"url": small, "width": 108, "height": 108}],
                    "variants": {},
                    "id": asset,
                }
            ],
            "enabled": True,
        },
        "thumbnail": f"https://b.thumbs.redditmedia.com/{asset}.jpg",
        "thumbnail_height": 140,
        "thumbnail_width": 140,
    }


def video_media(video_id: str, width: int, height: int, seconds: int) -> dict[str, Any]:
    video = {
        "bitrate_kbps": 1200,
        "fallback_url": f"https://v.redd.it/{video_id}/DASH_480.mp4?source=fallback",
        "height": height,
        "width": width,
        "scrubber_media_url": f"https://v.redd.it/{video_id}/DASH_96.mp4",
        "dash_url": f"https://v.redd.it/{video_id}/DASHPlaylist.mpd?a=0&v=1&f=sd",
        "duration": seconds,
        "hls_url": f"https://v.redd.it/{video_id}/HLSPlaylist.m3u8?a=0&v=1&f=sd",
        "is_gif": False,
        "transcoding_status": "completed",
    }
    return {
        "secure_media": {"reddit_video": video},
        "media": {"reddit_video": video},
        "is_video": True,
        "post_hint": "hosted:video",
        "url_overridden_by_dest": f"https://v.redd.it/{video_id}",
        "url": f"https://v.redd.it/{video_id}",
    }


def gallery_media(items: list[tuple[str, str, str]]) -> dict[str, Any]:
    """``items``: (asset id, extension, caption)."""
    metadata = {}
    for asset, extension, _caption in items:
        big = f"https://preview.redd.it/{asset}.{extension}?width=640&format=pjpg&auto=webp"
        metadata[asset] = {
            "status": "valid",
            "e": "Image",
            "m": f"image/{'jpg' if extension == 'jpg' else extension}",
            "p": [
                {
                    "y": 108,
                    "x": 108,
                    "u": f"https://preview.redd.it/{asset}.{extension}"
                    "?width=108&crop=smart&auto=webp",
                }
            ],
            "s": {"y": 640, "x": 640, "u": big},
            "id": asset,
        }
    gallery = {
        "items": [
            {"media_id": asset, "id": 650_000 + n, **({"caption": caption} if caption else {})}
            for n, (asset, _ext, caption) in enumerate(items)
        ]
    }
    return {"is_gallery": True, "media_metadata": metadata, "gallery_data": gallery}


def t1(
    comment: CommentRec,
    post: PostRec,
    author: UserRec | None,
    *,
    deleted: bool,
    depth: int | None = None,
    replies: Any = "",
) -> dict[str, Any]:
    body = "[deleted]" if deleted else comment.body
    data: dict[str, Any] = {
        **_T1_STATIC,
        "link_id": post.fullname,
        "replies": replies,
        "id": comment.id36,
        "created_utc": comment.created,
        "parent_id": comment.parent,
        "score": comment.score,
        "subreddit_id": subreddit_id(post.subreddit),
        "body": body,
        "name": comment.fullname,
        "is_submitter": not deleted and comment.author == post.author,
        "body_html": markdown_html(body),
        "permalink": permalink(post, comment),
        "created": comment.created,
        "subreddit": post.subreddit,
        "subreddit_name_prefixed": f"r/{post.subreddit}",
        "ups": comment.score,
    }
    if depth is not None:
        data["depth"] = depth
    return _with_author(data, None if deleted else author)


def mention(
    comment: CommentRec, post: PostRec, author: UserRec, dest: UserRec, num_comments: int
) -> dict[str, Any]:
    """An inbox item of ``/message/mentions`` (``kind: t1``, inbox fields only)."""
    return {
        "first_message": None,
        "first_message_name": None,
        "subreddit": post.subreddit,
        "likes": None,
        "replies": "",
        "author_fullname": author.fullname,
        "id": comment.id36,
        "subject": "username mention",
        "associated_awarding_id": None,
        "score": comment.score,
        "author": author.name,
        "num_comments": num_comments,
        "parent_id": comment.parent,
        "subreddit_name_prefixed": f"r/{post.subreddit}",
        "new": False,
        "type": "username_mention",
        "body": comment.body,
        "link_title": post.title,
        "dest": dest.name,
        "was_comment": True,
        "body_html": markdown_html(comment.body),
        "name": comment.fullname,
        "created": comment.created,
        "created_utc": comment.created,
        "context": permalink(post, comment) + "?context=3",
        "distinguished": None,
    }


def more(parent: str, depth: int, ids: list[str], count: int) -> dict[str, Any]:
    if not ids:  # "continue this thread"
        data = {"count": 0, "name": "t1__", "id": "_", "parent_id": parent, "depth": depth,
                "children": []}  # fmt: skip
    else:
        data = {"count": count, "name": f"t1_{ids[0]}", "id": ids[0], "parent_id": parent,
                "depth": depth, "children": ids}  # fmt: skip
    return {"kind": "more", "data": data}


def listing(
    children: list[Any],
    after: str | None = None,
    before: str | None = None,
    *,
    tree: bool = False,
) -> Any:
    """A ``Listing``; those inside comment trees (``tree``) carry ``dist: null``."""
    return {
        "kind": "Listing",
        "data": {
            "after": after,
            "dist": None if tree else len(children),
            "modhash": None,
            "geo_filter": "",
            "children": children,
            "before": before,
        },
    }


def _profile_subreddit(user: UserRec) -> dict[str, Any]:
    icon = f"https://www.redditstatic.com/avatars/avatar_default_{user.index % 20:02d}_" + (
        user.icon_color.lstrip("#") + ".png"
    )
    return {
        "default_set": True, "user_is_contributor": False, "banner_img": "",
        "restrict_posting": True, "user_is_banned": False, "free_form_reports": True,
        "community_icon": None, "show_media": True, "icon_color": user.icon_color,
        "user_is_muted": False, "display_name": f"u_{user.name}", "header_img": None,
        "title": user.title, "previous_names": [], "over_18": False, "icon_size": [256, 256],
        "primary_color": "", "icon_img": icon, "description": "", "submit_link_label": "",
        "header_size": None, "restrict_commenting": False, "subscribers": user.subscribers,
        "submit_text_label": "", "is_default_icon": True, "link_flair_position": "",
        "display_name_prefixed": f"u/{user.name}", "key_color": "",
        "name": f"t5_{b36(SUBREDDIT_BASE + 5_000 + user.index)}", "is_default_banner": True,
        "url": f"/user/{user.name}/", "banner_size": None, "user_is_moderator": False,
        "public_description": user.description, "link_flair_enabled": False,
        "disable_contributor_requests": False, "subreddit_type": "user",
        "user_is_subscriber": False,
    }  # fmt: skip


def about(user: UserRec) -> dict[str, Any]:
    """``/user/<name>/about``'s ``data``."""
    sub = _profile_subreddit(user)
    return {
        "is_employee": False,
        "accept_chats": False,
        "icon_img": sub["icon_img"],
        "pref_show_snoovatar": False,
        "name": user.name,
        "is_friend": False,
        "created": user.created,
        "hide_from_robots": False,
        "verified": user.verified,
        "created_utc": user.created,
        "subreddit": sub,
        "comment_karma": user.comment_karma,
        "is_gold": False,
        "is_mod": False,
        "has_subscribed": True,
        "link_karma": user.link_karma,
        "has_verified_email": user.verified,
        "id": user.id36,
        "accept_pms": True,
    }


def me(user: UserRec, client_id: str) -> dict[str, Any]:
    """``/api/v1/me``: the account's own view, with preferences and feature flags."""
    base = about(user)
    base["subreddit"] = {**base["subreddit"], "coins": 0, "user_is_moderator": True}
    prefs = {
        "is_employee": False, "seen_layout_switch": True, "has_visited_new_profile": False,
        "pref_no_profanity": True, "has_external_account": False, "pref_geopopular": "",
        "seen_redesign_modal": True, "pref_show_trending": True, "is_sponsor": False,
        "gold_expiration": None, "has_gold_subscription": False, "num_friends": 0,
        "features": {"chat": True, "do_not_track": True, "custom_feeds": True,
                     "mweb_link_tab": {"owner": "growth", "variant": "control_1",
                                       "experiment_id": 404}},
        "has_android_subscription": False, "new_modmail_exists": None, "pref_autoplay": True,
        "coins": 0, "has_paypal_subscription": False, "has_subscribed_to_premium": False,
        "has_stripe_subscription": False, "seen_premium_adblock_modal": False,
        "can_create_subreddit": True, "over_18": False, "suspension_expiration_utc": None,
        "is_suspended": False, "pref_video_autoplay": True, "in_chat": True,
        "can_edit_name": False, "in_redesign_beta": True, "has_mod_mail": False,
        "pref_nightmode": False, "oauth_client_id": client_id, "password_set": True,
        "force_password_reset": False, "seen_give_award_tooltip": False, "inbox_count": 0,
        "pref_top_karma_subreddits": True, "has_mail": False, "pref_clickgadget": 5,
        "gold_creddits": 0, "has_ios_subscription": False, "pref_show_twitter": False,
        "in_beta": False, "seen_subreddit_chat_ftux": False, "linked_identities": [],
    }  # fmt: skip
    skip = {"is_friend"}
    return {**prefs, **{k: v for k, v in base.items() if k not in skip}}


def api_errors(*errors: tuple[str, str, str], **extra: Any) -> dict[str, Any]:
    """``api_type=json`` errors, answered with HTTP 200 as Reddit does."""
    return {"json": {"errors": [list(e) for e in errors], **extra}}


def status_body(status: int) -> dict[str, Any]:
    reason = {
        400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
        409: "Conflict", 429: "Too Many Requests", 500: "Internal Server Error",
        502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
    }.get(status, "Error")  # fmt: skip
    return {"message": reason, "error": status}
