"""Map Mastodon entities (Account, Status, MediaAttachment, Notification) onto socialgate models.

Pure functions without I/O. Choices worth knowing:

- ``text`` is the status's HTML ``content`` as plain text: ``<br>`` becomes a newline,
  paragraphs are separated by a blank line (the inverse of how Mastodon renders what a user
  typed), tags are dropped and entities unescaped; link texts come out whole (Mastodon splits
  long URLs into "invisible" and "ellipsis" spans that together spell the full URL). The
  ``RE: <link>`` paragraph (``p.quote-inline``) that Mastodon adds to quote posts for old
  clients is left out, since the quote itself is in ``raw["quote"]``. The HTML stays in ``raw``.
- A **reblog** (boost) becomes a Post for the wrapper: ``id``, ``author``, ``created_at`` and
  ``url`` are the booster's; ``text``, ``lang``, ``metrics`` and ``media`` come from the boosted
  status (the wrapper's own are empty); ``raw["reblog"]`` holds the boosted status whole.
- ``conversation_id``: Mastodon gives statuses no thread id. A status that replies to nothing
  (and is not a boost) is its own thread root, so its id is used; a reply gets the root only
  where it is known (``posts.replies`` reads it from the context's ancestors), else ``None``.
- ``Profile.handle`` is ``acct``: ``username`` for the instance's own users,
  ``username@domain`` for remote ones. ``verified`` is ``True`` when a profile field carries
  ``verified_at`` (a rel="me" link the server checked), else ``None``: Mastodon has no other
  verification. Empty ``display_name``/``note`` become ``None``; ``bot`` and the rest stay in
  ``raw``.
"""

from __future__ import annotations

import json
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

from socialgate._errors import UpstreamSchemaError
from socialgate._models import Media, Metrics, Post, Profile, builder

__all__ = [
    "NETWORK",
    "html_to_text",
    "media_from_attachment",
    "post_from_status",
    "posts_from_notifications",
    "posts_from_statuses",
    "profile_from_account",
    "profiles_from_accounts",
]

NETWORK = "mastodon"

_MEDIA_KINDS = {"image": "image", "gifv": "gif", "video": "video", "audio": "audio"}
_BLOCKS = frozenset(
    {"p", "div", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"}
)
_VOID = frozenset({"br", "img", "hr", "wbr", "input", "meta", "link", "source"})
_SHAPE_ERRORS = (AttributeError, KeyError, TypeError, ValueError)

JSON = dict[str, Any]


# -- HTML --------------------------------------------------------------------------------------


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0  # > 0 inside an element whose text is left out
        self._pending_break = ""

    def _emit(self, text: str) -> None:
        if self._pending_break and self.parts:
            self.parts.append(self._pending_break)
        self._pending_break = ""
        self.parts.append(text)

    def _break(self, separator: str) -> None:
        # The longest break asked for between two texts wins; none before the first text.
        if len(separator) > len(self._pending_break):
            self._pending_break = separator

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip_depth:
            if tag not in _VOID:
                self._skip_depth += 1
            return
        classes = (dict(attrs).get("class") or "").split()
        if "quote-inline" in classes and tag not in _VOID:
            self._skip_depth = 1
            return
        if tag == "br":
            self._emit("\n")
        elif tag == "li":
            self._break("\n")
        elif tag in _BLOCKS:
            self._break("\n\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" and not self._skip_depth:
            self._emit("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._skip_depth:
            self._skip_depth -= 1
            return
        if tag in _BLOCKS:
            self._break("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth and data:
            self._emit(data)


# Model(**fields) without BaseModel.__init__ (same validation): one per item mapped.
_new_profile = builder(Profile)
_new_media = builder(Media)
_new_metrics = builder(Metrics)
_new_post = builder(Post)


def html_to_text(html: str | None) -> str:
    """Plain text for Mastodon's status/profile HTML (see the module doc)."""
    if not html:
        return ""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts).strip()


# -- helpers -----------------------------------------------------------------------------------


def _schema_error(message: str, body: Any) -> UpstreamSchemaError:
    try:
        text = json.dumps(body, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(body)
    return UpstreamSchemaError(message, body=text[:10_000], network=NETWORK)


def _datetime(value: Any, what: str, body: Any) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise _schema_error(f"{what} is not an ISO 8601 timestamp: {value!r}", body) from None
    if parsed.tzinfo is None:
        raise _schema_error(f"{what} has no timezone: {value!r}", body)
    return parsed


def _object(value: Any, what: str, body: Any) -> JSON:
    if not isinstance(value, dict):
        raise _schema_error(f"{what} must be an object, got {type(value).__name__}", body)
    return value


def _id(item: JSON, what: str, body: Any) -> str:
    value = item.get("id")
    if type(value) is not str or not value:
        raise _schema_error(f"{what} has no string `id` (got {value!r})", body)
    return value


def _list(value: Any, what: str, body: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _schema_error(f"{what} must be a list, got {type(value).__name__}", body)
    return value


# -- entities ----------------------------------------------------------------------------------


def profile_from_account(account: Any, body: Any = None) -> Profile:
    """A Profile for a Mastodon Account (or CredentialAccount)."""
    body = account if body is None else body
    account = _object(account, "an account", body)
    account_id = _id(account, "account", body)
    fields = _list(account.get("fields"), f"account {account_id}: fields", body)
    verified = any(isinstance(f, dict) and f.get("verified_at") for f in fields) or None
    try:
        created_at = _datetime(account.get("created_at"), f"account {account_id}: created_at", body)
        return _new_profile(
            {
                "network": NETWORK,
                "id": account_id,
                "handle": account.get("acct") or account.get("username"),
                "display_name": account.get("display_name") or None,
                "description": html_to_text(account.get("note")) or None,
                "url": account.get("url"),
                "avatar_url": account.get("avatar"),
                "followers_count": account.get("followers_count"),
                "following_count": account.get("following_count"),
                "posts_count": account.get("statuses_count"),
                "created_at": created_at,
                "verified": verified,
                "raw": account,
            }
        )
    except _SHAPE_ERRORS as exc:
        raise _schema_error(f"account {account_id} could not be mapped: {exc}", body) from exc


def media_from_attachment(attachment: Any, body: Any = None) -> Media:
    """A Media for a MediaAttachment (in a status, or answered by the media endpoints)."""
    body = attachment if body is None else body
    attachment = _object(attachment, "a media attachment", body)
    media_id = _id(attachment, "media attachment", body)
    meta = attachment.get("meta")
    original = meta.get("original") if isinstance(meta, dict) else None
    size = original if isinstance(original, dict) else meta if isinstance(meta, dict) else {}
    try:
        return _new_media(
            {
                "id": media_id,
                "kind": _MEDIA_KINDS.get(attachment.get("type"), "other"),
                "url": attachment.get("url") or attachment.get("remote_url"),
                "preview_url": attachment.get("preview_url"),
                "alt_text": attachment.get("description"),
                "width": size.get("width"),
                "height": size.get("height"),
                "network": NETWORK,
                "raw": attachment,
            }
        )
    except _SHAPE_ERRORS as exc:
        raise _schema_error(f"media {media_id} could not be mapped: {exc}", body) from exc


def _metrics(status: JSON) -> Metrics:
    return _new_metrics(
        {
            "likes": status.get("favourites_count"),
            "reposts": status.get("reblogs_count"),
            "replies": status.get("replies_count"),
            "quotes": status.get("quotes_count"),
        }
    )


def post_from_status(status: Any, body: Any = None, *, conversation_id: str | None = None) -> Post:
    """A Post for a Status; a reblog keeps the wrapper's identity (see the module doc)."""
    body = status if body is None else body
    status = _object(status, "a status", body)
    status_id = _id(status, "status", body)
    reblog = status.get("reblog")
    shown = status if reblog is None else _object(reblog, f"status {status_id}: reblog", body)
    if reblog is not None:
        _id(shown, f"status {status_id}: reblog", body)
    account = status.get("account")
    author = None if account is None else profile_from_account(account, body)
    attachments = _list(shown.get("media_attachments"), f"status {status_id}: media", body)
    reply_to = status.get("in_reply_to_id")
    if conversation_id is None and reblog is None and reply_to is None:
        conversation_id = status_id
    try:
        text = html_to_text(shown.get("content"))
        if not text and isinstance(shown.get("text"), str):
            text = shown["text"]  # a deleted status answers its source text
        return _new_post(
            {
                "network": NETWORK,
                "id": status_id,
                "author_id": author.id if author else None,
                "author": author,
                "text": text,
                "created_at": _datetime(
                    status.get("created_at"), f"status {status_id}: created_at", body
                ),
                "url": status.get("url") or status.get("uri"),
                "reply_to_id": reply_to,
                "conversation_id": conversation_id,
                "lang": shown.get("language"),
                "metrics": _metrics(shown),
                "media": tuple(media_from_attachment(m, body) for m in attachments),
                "raw": status,
            }
        )
    except _SHAPE_ERRORS as exc:
        raise _schema_error(f"status {status_id} could not be mapped: {exc}", body) from exc


# -- listings ----------------------------------------------------------------------------------


def posts_from_statuses(body: Any, *, conversation_id: str | None = None) -> list[Post]:
    items = _list(body, "a list of statuses", body)
    return [post_from_status(s, body, conversation_id=conversation_id) for s in items]


def profiles_from_accounts(body: Any) -> list[Profile]:
    return [profile_from_account(a, body) for a in _list(body, "a list of accounts", body)]


def posts_from_notifications(body: Any) -> list[Post]:
    """The statuses of a notifications page (a notification whose status was deleted, or
    that has none, is skipped)."""
    posts = []
    for item in _list(body, "a list of notifications", body):
        notification = _object(item, "a notification", body)
        status = notification.get("status")
        if status is not None:
            posts.append(post_from_status(status, body))
    return posts
