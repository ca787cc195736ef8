"""Write endpoints of the Reddit emulator: submissions (self, link, image, video, gallery),
comments, deletion, and media upload through an upload lease and an S3-style form POST.

Errors come back as Reddit sends them for ``api_type=json``: HTTP 200 with
``{"json": {"errors": [[code, message, field]]}}``; an account past the action limit gets
``RATELIMIT`` with the seconds to wait in ``json.ratelimit``.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from socialgate.sandbox.emulator import Reply

from . import sandbox_reads
from . import sandbox_wire as wire
from .sandbox_data import SUBREDDITS, b36
from .sandbox_oauth import Principal

if TYPE_CHECKING:
    from .sandbox import RedditEmulator


TITLE_MAX = 300
TEXT_MAX = 40_000
GALLERY_MIN, GALLERY_MAX = 2, 20
ASSET_BASE = int("vh00000000000", 36)
_EXT = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp",
        "video/mp4": "mp4", "video/quicktime": "mov"}  # fmt: skip


@dataclass(slots=True)
class Asset:
    asset_id: str
    owner: int
    mime_type: str
    key: str
    signature: str
    bucket: str
    uploaded: bool = False
    size: int = 0
    caption: str = ""

    @property
    def extension(self) -> str:
        return _EXT.get(self.mime_type, "bin")


def _flag(value: Any) -> bool:
    return str(value).lower() in ("true", "1", "on", "yes")


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    await form.close()
    return values


def _ratelimited(emu: RedditEmulator, user: int) -> Reply | None:
    wait = emu.action_wait(user)
    if wait is None:
        return None
    if wait >= 60:
        span = f"{math.ceil(wait / 60)} minutes"
    else:
        span = f"{math.ceil(wait)} seconds"
    message = (
        f"Looks like you've been doing that a lot. Take a break for {span} before trying again."
    )
    return 200, {}, wire.api_errors(("RATELIMIT", message, "ratelimit"), ratelimit=round(wait, 3))


def _subreddit_error(emu: RedditEmulator, sr: str, user: int) -> tuple[str, str, str] | None:
    if not sr:
        return ("SUBREDDIT_REQUIRED", "you must specify a subreddit", "sr")
    if sr.lower() in SUBREDDITS:
        return None
    if sr.lower() == f"u_{emu.data.user(user).name}":
        return None
    if sr.lower().startswith("u_"):
        return ("SUBREDDIT_NOTALLOWED", "you aren't allowed to post there.", "sr")
    return ("SUBREDDIT_NOEXIST", "that subreddit doesn't exist", "sr")


def _title_error(title: str) -> tuple[str, str, str] | None:
    if not title.strip():
        return ("NO_TEXT", "we need something here", "title")
    if len(title) > TITLE_MAX:
        return ("TOO_LONG", f"this is too long (max: {TITLE_MAX})", "title")
    return None


def _asset_in(emu: RedditEmulator, url: str, owner: int) -> Asset | None:
    for asset in emu.assets.values():
        if asset.owner == owner and asset.uploaded and url.rstrip("/").endswith(asset.key):
            return asset
    return None


async def submit(
    emu: RedditEmulator, request: Request, path: dict[str, str], who: Principal
) -> Reply:
    assert who.user is not None
    form = await _form(request)
    sr = form.get("sr", "").strip().removeprefix("r/")
    kind = form.get("kind", "")
    title, text, url = form.get("title", ""), form.get("text", ""), form.get("url", "")
    error = _subreddit_error(emu, sr, who.user) or _title_error(title)
    if error is None and kind not in ("self", "link", "image", "video", "videogif"):
        error = ("INVALID_OPTION", "that option is not valid", "kind")
    if error is None and kind != "self" and not url:
        error = ("NO_URL", "a url is required", "url")
    if error is None and len(text) > TEXT_MAX:
        error = ("TOO_LONG", f"this is too long (max: {TEXT_MAX})", "text")
    media: tuple[str, ...] = ()
    media_kind = None
    if error is None and kind in ("image", "video", "videogif"):
        asset = _asset_in(emu, url, who.user)
        poster = form.get("video_poster_url", "")
        if asset is None:
            error = ("BAD_URL", "that media was not uploaded to reddit", "url")
        elif kind != "image" and _asset_in(emu, poster, who.user) is None:
            error = ("NO_URL", "a video poster image is required", "video_poster_url")
        else:
            media, media_kind = (asset.asset_id,), "image" if kind == "image" else "video"
    if error is not None:
        return 200, {}, wire.api_errors(error)
    limited = _ratelimited(emu, who.user)
    if limited is not None:
        return limited
    sub = sr.lower() if sr.lower() in SUBREDDITS else sr
    post = emu.data.add_post(
        who.user,
        sub,
        title,
        emu.clock.time(),
        selftext=text if kind != "link" else "",
        url=url if kind == "link" else None,
        media=media,
        media_kind=media_kind,
        nsfw=_flag(form.get("nsfw")),
        spoiler=_flag(form.get("spoiler")),
    )
    emu.ctx.record_write("posts.create")
    if media_kind is not None:
        # Reddit names no post for media submissions; a websocket reports the end of processing.
        name = emu.data.user(who.user).name
        data = {
            "user_submitted_page": f"{wire.WEB}/user/{name}/submitted/",
            "websocket_url": f"wss://sandbox.invalid/{media[0]}?m=AQAA{post.id36}",
        }
        return 200, {}, {"json": {"errors": [], "data": data}}
    created: dict[str, Any] = {
        "url": wire.WEB + wire.permalink(post),
        "drafts_count": 0,
        "id": post.id36,
        "name": post.fullname,
    }
    return 200, {}, {"json": {"errors": [], "data": created}}


async def gallery(
    emu: RedditEmulator, request: Request, path: dict[str, str], who: Principal
) -> Reply:
    assert who.user is not None
    try:
        payload = json.loads(await request.body() or b"{}")
    except ValueError:
        return 400, {}, wire.status_body(400)
    if not isinstance(payload, dict):
        return 400, {}, wire.status_body(400)
    sr, title = str(payload.get("sr", "")), str(payload.get("title", ""))
    items: list[Any] = payload["items"] if isinstance(payload.get("items"), list) else []
    error = _subreddit_error(emu, sr, who.user) or _title_error(title)
    assets = []
    for item in items:
        asset = emu.assets.get(str(item.get("media_id"))) if isinstance(item, dict) else None
        if asset is None or not asset.uploaded or asset.owner != who.user:
            error = error or ("MEDIA_UPLOAD_FAILED", "that media was not uploaded", "items")
            break
        asset.caption = str(item.get("caption") or "")
        assets.append(asset.asset_id)
    if error is None and not GALLERY_MIN <= len(assets) <= GALLERY_MAX:
        error = ("BAD_NUMBER", f"a gallery has {GALLERY_MIN} to {GALLERY_MAX} items", "items")
    if error is not None:
        return 200, {}, wire.api_errors(error)
    limited = _ratelimited(emu, who.user)
    if limited is not None:
        return limited
    post = emu.data.add_post(
        who.user,
        sr.lower() if sr.lower() in SUBREDDITS else sr,
        title,
        emu.clock.time(),
        media=tuple(assets),
        media_kind="gallery",
        nsfw=bool(payload.get("nsfw")),
        spoiler=bool(payload.get("spoiler")),
    )
    emu.ctx.record_write("posts.create")
    data = {"url": wire.WEB + wire.permalink(post), "id": post.fullname}
    return 200, {}, {"json": {"errors": [], "data": data}}


async def comment(
    emu: RedditEmulator, request: Request, path: dict[str, str], who: Principal
) -> Reply:
    assert who.user is not None
    form = await _form(request)
    thing_id, text = form.get("thing_id", ""), form.get("text", "")
    data = emu.data
    kind, _, id36 = thing_id.partition("_")
    post = data.post_by_id36(id36) if kind == "t3" else None
    parent = data.comment_by_id36(id36) if kind == "t1" else None
    if parent is not None:
        post = data.post(parent.post)
    if post is None:
        return 200, {}, wire.api_errors(("NO_THING_ID", "that thing doesn't exist", "parent"))
    if thing_id in data.overlay.deleted:
        code = "DELETED_COMMENT" if kind == "t1" else "DELETED_LINK"
        return 200, {}, wire.api_errors((code, "that item has been deleted", "parent"))
    if not text.strip():
        return 200, {}, wire.api_errors(("NO_TEXT", "we need something here", "text"))
    limited = _ratelimited(emu, who.user)
    if limited is not None:
        return limited
    made = data.add_comment(post.index, who.user, text, thing_id, emu.clock.time())
    emu.ctx.record_write("comments.create")
    rendered = sandbox_reads.render_comment(emu, made)
    rendered["data"].update(rte_mode="markdown", likes=True)
    return 200, {}, {"json": {"errors": [], "data": {"things": [rendered]}}}


async def delete(
    emu: RedditEmulator, request: Request, path: dict[str, str], who: Principal
) -> Reply:
    assert who.user is not None
    fullname = (await _form(request)).get("id", "")
    kind, _, id36 = fullname.partition("_")
    data = emu.data
    target = data.post_by_id36(id36) if kind == "t3" else None
    reply = data.comment_by_id36(id36) if kind == "t1" else None
    owner = target.author if target is not None else reply.author if reply is not None else None
    # Reddit answers {} whatever happened; only the author's own things go.
    if owner == who.user and fullname not in data.overlay.deleted:
        data.overlay.deleted.add(fullname)
        emu.ctx.record_write("posts.delete")
    return 200, {}, {}


# -- media -----------------------------------------------------------------------------------------


async def asset(
    emu: RedditEmulator, request: Request, path: dict[str, str], who: Principal
) -> Reply:
    assert who.user is not None
    form = await _form(request)
    mime_type, filepath = form.get("mimetype", ""), form.get("filepath", "")
    if mime_type not in _EXT or not filepath:
        return 200, {}, wire.api_errors(("INVALID_MIMETYPE", "that file type is not allowed",
                                         "mimetype"))  # fmt: skip
    number = ASSET_BASE + len(emu.assets)
    asset_id = b36(number)
    video = mime_type.startswith("video/")
    bucket = "reddit-uploaded-video" if video else "reddit-uploaded-media"
    key = asset_id if video else f"rte_images/{asset_id}"
    signature = hashlib.sha256(f"{emu.ctx.seed}|{asset_id}|{key}".encode()).hexdigest()
    emu.assets[asset_id] = Asset(asset_id, who.user, mime_type, key, signature, bucket)
    host = request.headers.get("host", "sandbox")
    root = request.scope.get("root_path", "")
    stamp = "20250101T000000Z"
    fields = [
        ("acl", "public-read"), ("key", key),
        ("X-Amz-Credential", f"SANDBOX/{stamp[:8]}/us-east-1/s3/aws4_request"),
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Date", stamp),
        ("success_action_status", "201"), ("content-type", mime_type),
        ("x-amz-storage-class", "STANDARD"), ("x-amz-meta-ext", _EXT[mime_type]),
        ("policy", "c2FuZGJveC1wb2xpY3k="), ("X-Amz-Signature", signature),
        ("x-amz-security-token", "sandbox-session-token"),
    ]  # fmt: skip
    body = {
        "args": {
            "action": f"//{host}{root}/_s3/{bucket}",
            "fields": [{"name": n, "value": v} for n, v in fields],
        },
        "asset": {
            "asset_id": asset_id,
            "processing_state": "incomplete",
            "payload": {"filepath": filepath},
            "websocket_url": f"wss://sandbox.invalid/rte_images/{asset_id}?m=AQAA",
        },
    }
    return 200, {}, body


def _s3_error(status: int, code: str, message: str) -> Reply:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    return status, {"content-type": "application/xml"}, xml


async def storage(emu: RedditEmulator, request: Request, bucket: str) -> Reply:
    """The S3 form POST: the lease's fields, then the file. No Reddit token is involved."""
    form = await request.form()
    try:
        key = str(form.get("key", ""))
        found = next((a for a in emu.assets.values() if a.key == key), None)
        if found is None or found.bucket != bucket:
            return _s3_error(403, "AccessDenied", "Invalid according to Policy")
        if str(form.get("X-Amz-Signature", "")) != found.signature:
            return _s3_error(403, "SignatureDoesNotMatch", "The signature does not match")
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            return _s3_error(400, "InvalidArgument", "POST requires exactly one file upload")
        content = await upload.read()
        found.uploaded, found.size = True, len(content)
    finally:
        await form.close()
    location = f"https://{bucket}.s3-accelerate.amazonaws.com/{key.replace('/', '%2F')}"
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<PostResponse><Location>{location}</Location><Bucket>{bucket}</Bucket>"
        f'<Key>{key}</Key><ETag>"{hashlib.md5(content).hexdigest()}"</ETag></PostResponse>'  # noqa: S324
    )
    emu.ctx.record_write("media.upload")
    return 201, {"content-type": "application/xml"}, xml
