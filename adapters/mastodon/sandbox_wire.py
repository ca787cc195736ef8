"""JSON entities of the Mastodon sandbox, shaped like a Mastodon 4.x server's answers.

``Wire`` renders Account, CredentialAccount, Status, MediaAttachment and Notification
entities for one request: links and media URLs are built on the request's base URL (the
instance's ``LOCAL_DOMAIN``), and the viewer decides the per-user keys (``favourited``,
``pinned``...), which Mastodon leaves out for anonymous requests. Status text is rendered to
HTML the way Mastodon renders what a user typed: paragraphs, ``<br />``, h-card mentions,
hashtag links, and long links split into invisible/ellipsis spans. Also here: the ``Link``
pagination header and timestamp formats.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from .sandbox_data import HASHTAG, MENTION, AccountRec, MastodonDataset, MediaRec, StatusRec

__all__ = ["Wire", "error", "iso_ms", "link_header"]

_TOKENS = re.compile(f"{MENTION.pattern}|{HASHTAG.pattern}|(https?://[^\\s<]+)")
_BLURHASH = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"
_EXT = {"image": "png", "gifv": "mp4", "video": "mp4", "audio": "mp3"}
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})
JSON = dict[str, Any]


def error(message: str, description: str | None = None) -> JSON:
    body: JSON = {"error": message}
    if description is not None:
        body["error_description"] = description
    return body


def iso_ms(epoch_ms: float) -> str:
    """``2026-08-01T13:53:15.910Z``: how Mastodon writes ``created_at``."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def escape(text: str) -> str:
    return text.translate(_ESCAPES)


def link_header(
    url: str, query: Iterable[tuple[str, str]], nxt: str | None, prev: str | None
) -> str:
    """``<...max_id=N>; rel="next", <...min_id=M>; rel="prev"`` on ``url``, keeping the other
    query parameters (``types[]``, ``limit``...)."""
    kept = [(k, v) for k, v in query if k not in ("max_id", "min_id", "since_id")]
    parts = []
    for rel, name, value in (("next", "max_id", nxt), ("prev", "min_id", prev)):
        if value is not None:
            parts.append(f'<{url}?{urlencode([*kept, (name, value)])}>; rel="{rel}"')
    return ", ".join(parts)


class Wire:
    def __init__(
        self, data: MastodonDataset, base: str, viewer: int | None, now: float = 0.0
    ) -> None:
        self.data = data
        self.now = now
        self.base = base.rstrip("/")
        self.domain = urlsplit(self.base).netloc
        self.viewer = viewer

    # -- accounts ---------------------------------------------------------------------------------

    def profile_url(self, rec: AccountRec) -> str:
        if rec.domain:
            return f"https://{rec.domain}/@{rec.username}"
        return f"{self.base}/@{rec.username}"

    def actor_uri(self, rec: AccountRec) -> str:
        if rec.domain:
            return f"https://{rec.domain}/users/{rec.username}"
        return f"{self.base}/ap/users/{rec.id}"

    def account(self, rec: AccountRec, *, credential: bool = False) -> JSON:
        avatar = (
            f"{self.base}/system/accounts/avatars/{_split(rec.id)}/original/{rec.avatar}.png"
            if rec.avatar
            else f"{self.base}/avatars/original/missing.png"
        )
        header = f"{self.base}/headers/original/missing.png"
        day = datetime.fromtimestamp(rec.created_at, UTC).strftime("%Y-%m-%dT00:00:00.000Z")
        body: JSON = {
            "id": rec.id,
            "username": rec.username,
            "acct": rec.acct,
            "display_name": rec.display_name,
            "locked": rec.locked,
            "bot": rec.bot,
            "discoverable": True if rec.index % 2 == 0 else None,
            "indexable": rec.index % 4 != 1,
            "group": False,
            "created_at": day,
            "note": self.html(rec.note) if rec.note else "",
            "url": self.profile_url(rec),
            "uri": self.actor_uri(rec),
            "avatar": avatar,
            "avatar_static": avatar,
            "avatar_description": "",
            "header": header,
            "header_static": header,
            "header_description": "",
            "followers_count": self.data.followers_count(rec.index),
            "following_count": self.data.following_count(rec.index),
            "statuses_count": self.data.statuses_count(rec.index),
            "last_status_at": self._last_status_day(rec.index),
            "hide_collections": None,
            "show_media": True,
            "show_media_replies": True,
            "show_featured": True,
            "noindex": False,
            "feature_approval": {"automatic": [], "manual": [], "current_user": "denied"},
        }
        if credential:
            body["source"] = {
                "privacy": "public",
                "sensitive": False,
                "language": None,
                "note": rec.note,
                "fields": [self._field(rec, f, html=False) for f in rec.fields],
                "follow_requests_count": 0,
                "hide_collections": None,
                "discoverable": body["discoverable"],
                "indexable": body["indexable"],
                "attribution_domains": [],
                "quote_policy": "public",
            }
        body["emojis"] = []
        body["roles"] = []
        body["fields"] = [self._field(rec, f, html=True) for f in rec.fields]
        if credential:
            body["role"] = {
                "id": "-99",
                "name": "",
                "permissions": "65536",
                "color": "",
                "highlighted": False,
                "collection_limit": 10,
            }
        return body

    def _field(self, rec: AccountRec, item: tuple[str, str, bool], *, html: bool) -> JSON:
        name, value, verified = item
        verified_at = iso_ms((rec.created_at + 3_600) * 1000) if verified else None
        if html and value.startswith("https://"):
            value = self._link(value, rel="nofollow noopener me")
        elif html:
            value = escape(value)
        return {"name": name, "value": value, "verified_at": verified_at}

    def _last_status_day(self, j: int) -> str | None:
        newest = next(self.data.statuses_desc(j, None), None)
        if newest is None:
            return None
        return datetime.fromtimestamp(newest.created_ms / 1000, UTC).strftime("%Y-%m-%d")

    # -- statuses ---------------------------------------------------------------------------------

    def status(self, rec: StatusRec, *, deleted: bool = False) -> JSON:
        data = self.data
        author = data.account(rec.author)
        inner = data.get_status(rec.reblog_of) if rec.reblog_of is not None else None
        own = self.viewer is not None and self.viewer == rec.author
        sid = str(rec.id)
        if rec.reblog_of is not None:
            uri = f"{self.actor_uri(author)}/statuses/{sid}/activity"
            url = f"{self.profile_url(author).replace('/@', '/users/')}/statuses/{sid}/activity"
            replies = 0
        else:
            uri = f"{self.actor_uri(author)}/statuses/{sid}"
            url = f"{self.profile_url(author)}/{sid}"
            replies = data.replies_count(rec)
        reblogs, favourites, quotes = rec.counts
        body: JSON = {
            "id": sid,
            "created_at": iso_ms(rec.created_ms),
            "in_reply_to_id": str(rec.reply_to) if rec.reply_to is not None else None,
            "in_reply_to_account_id": (
                data.account(rec.reply_to_author).id if rec.reply_to_author is not None else None
            ),
            "sensitive": rec.sensitive,
            "spoiler_text": rec.spoiler_text,
            "visibility": rec.visibility,
            "language": rec.language,
            "uri": uri,
            "url": url,
            "replies_count": replies,
            "reblogs_count": reblogs,
            "favourites_count": favourites,
            "quotes_count": quotes,
            "edited_at": None,
        }
        if self.viewer is not None:
            body.update(
                favourited=False,
                reblogged=rec.reblog_of is not None and own,
                muted=False,
                bookmarked=False,
            )
            if own and rec.reblog_of is None and rec.visibility in ("public", "unlisted"):
                body["pinned"] = False
        if deleted:
            body["text"] = rec.text  # the source, for redrafting, instead of the HTML
        else:
            body["content"] = self.html(rec.text, rec.mentions) if rec.reblog_of is None else ""
        if self.viewer is not None:
            body["filtered"] = []
        body["reblog"] = self.status(inner) if inner is not None else None
        if rec.application is not None:
            body["application"] = {"name": rec.application, "website": None}
        body.update(
            account=self.account(author),
            media_attachments=[self.media(m) for m in rec.media],
            mentions=[self._mention(data.account(j)) for j in rec.mentions],
            tags=[{"name": t.lower(), "url": f"{self.base}/tags/{t.lower()}"} for t in rec.tags],
            emojis=[],
            tagged_collections=[],
            quote=None,
            card=None,
            poll=None,
            quote_approval={"automatic": ["public"], "manual": [], "current_user": "automatic"},
        )
        return body

    def _mention(self, rec: AccountRec) -> JSON:
        return {
            "id": rec.id,
            "username": rec.username,
            "url": self.profile_url(rec),
            "acct": rec.acct,
        }

    def notification(self, nid: int, rec: StatusRec) -> JSON:
        return {
            "id": str(nid),
            "type": "mention",
            "created_at": iso_ms(rec.created_ms),
            "group_key": f"ungrouped-{nid}",
            "account": self.account(self.data.account(rec.author)),
            "status": self.status(rec),
        }

    # -- media ------------------------------------------------------------------------------------

    def media(self, rec: MediaRec) -> JSON:
        ready = rec.ready_at <= self.now
        digest = hashlib.blake2b(rec.id.encode(), digest_size=8).hexdigest()
        folder = f"{self.base}/system/media_attachments/files/{_split(rec.id)}"
        ext = _EXT.get(rec.type, "bin")
        url = f"{folder}/original/{digest}.{ext}" if ready else None
        preview = f"{folder}/small/{digest}.png" if rec.type != "audio" else None
        return {
            "id": rec.id,
            "type": rec.type,
            "url": url,
            "preview_url": preview,
            "remote_url": None,
            "preview_remote_url": None,
            "text_url": None,
            "meta": _meta(rec) if ready else None,
            "description": rec.description,
            "blurhash": _blurhash(digest) if rec.type != "audio" else None,
        }

    # -- HTML -------------------------------------------------------------------------------------

    def html(self, text: str, mentions: tuple[int, ...] = ()) -> str:
        known = {self.data.account(j).acct.lower(): self.data.account(j) for j in mentions}
        paragraphs = [p for p in text.split("\n\n") if p.strip()]
        rendered = []
        for paragraph in paragraphs:
            lines = [self._inline(line, known) for line in paragraph.split("\n")]
            rendered.append("<p>" + "<br />".join(lines) + "</p>")
        return "".join(rendered)

    def _inline(self, line: str, known: dict[str, AccountRec]) -> str:
        out, last = [], 0
        for match in _TOKENS.finditer(line):
            out.append(escape(line[last : match.start()]))
            last = match.end()
            username, domain, tag, url = match.groups()
            if username is not None:
                acct = username + (f"@{domain}" if domain else "")
                rec = known.get(acct.lower())
                if rec is None:
                    out.append(escape(match.group(0)))
                else:
                    out.append(
                        f'<span class="h-card" translate="no"><a href="{self.profile_url(rec)}" '
                        f'class="u-url mention">@<span>{escape(rec.username)}</span></a></span>'
                    )
            elif tag is not None:
                out.append(
                    f'<a href="{self.base}/tags/{escape(tag.lower())}" class="mention hashtag" '
                    f'rel="tag">#<span>{escape(tag)}</span></a>'
                )
            else:
                out.append(self._link(url))
        out.append(escape(line[last:]))
        return "".join(out)

    @staticmethod
    def _link(url: str, rel: str = "nofollow noopener") -> str:
        scheme, _, rest = url.partition("://")
        prefix = scheme + "://"
        if rest.startswith("www."):
            prefix, rest = prefix + "www.", rest[4:]
        shown, hidden = (rest[:30], rest[30:]) if len(rest) > 30 else (rest, "")
        cls = "ellipsis" if hidden else ""
        return (
            f'<a href="{escape(url)}" target="_blank" rel="{rel}" translate="no">'
            f'<span class="invisible">{escape(prefix)}</span><span class="{cls}">'
            f'{escape(shown)}</span><span class="invisible">{escape(hidden)}</span></a>'
        )


def _split(identifier: str) -> str:
    padded = identifier.rjust(18, "0")
    return "/".join(padded[k : k + 3] for k in range(0, len(padded), 3))


def _blurhash(digest: str) -> str:
    number = int(digest, 16)
    chars = []
    for _ in range(36):
        number, rest = divmod(number * 7919 + 104_729, len(_BLURHASH))
        chars.append(_BLURHASH[rest])
    return "".join(chars)


def _size(width: int, height: int) -> JSON:
    return {
        "width": width,
        "height": height,
        "size": f"{width}x{height}",
        "aspect": round(width / height, 4) if height else None,
    }


def _small(width: int, height: int) -> JSON:
    scale = min(1.0, 480 / max(width, height, 1))
    return _size(max(int(width * scale), 1), max(int(height * scale), 1))


def _meta(rec: MediaRec) -> JSON:
    width, height = rec.width or 0, rec.height or 0
    if rec.type == "image":
        return {"original": _size(width, height), "small": _small(width, height)}
    duration = rec.duration or 0.0
    minutes, seconds = divmod(duration, 60)
    audio = {
        "length": f"0:{int(minutes):02d}:{seconds:05.2f}",
        "duration": duration,
        "audio_encode": "aac (LC) (mp4a / 0x6134706D)",
        "audio_bitrate": "44100 Hz",
        "audio_channels": "stereo",
    }
    if rec.type == "audio":
        return {**audio, "original": {"duration": duration, "bitrate": 128_000}}
    video = {"fps": 30, **_size(width, height)}
    original = {
        "width": width,
        "height": height,
        "frame_rate": "30/1",
        "duration": duration,
        "bitrate": 1_500_000,
    }
    return {**audio, **video, "original": original, "small": _small(width, height)}
