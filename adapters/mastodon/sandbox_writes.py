"""Write endpoints of the Mastodon emulator: app registration, status create and delete, and
media upload (v1 synchronous, v2 asynchronous for video, gifv and audio).

``POST /api/v1/statuses`` honours ``Idempotency-Key`` as Mastodon does: the same key from the
same user within an hour answers the status the first request made, without making another.
Validation failures answer 422 ``{"error": "Validation failed: ..."}`` with Mastodon's
messages.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from starlette.datastructures import UploadFile
from starlette.requests import Request

from socialgate.sandbox.emulator import Reply

from .sandbox_data import HASHTAG, MediaRec, StatusRec
from .sandbox_oauth import Principal
from .sandbox_reads import NOT_FOUND, find_status
from .sandbox_wire import Wire, error

if TYPE_CHECKING:
    from .sandbox import MastodonEmulator

MAX_CHARS = 500
MAX_MEDIA = 4
MAX_DESCRIPTION = 1_500
IMAGE_BYTES = 16 * 1024 * 1024
VIDEO_BYTES = 99 * 1024 * 1024
VISIBILITIES = ("public", "unlisted", "private", "direct")
_TRUE = ("1", "true", "t", "on", "yes")


def _invalid(*problems: str) -> Reply:
    return 422, {}, error("Validation failed: " + ", ".join(problems))


async def apps(
    emu: MastodonEmulator, request: Request, path: dict[str, str], who: Principal | None, wire: Wire
) -> Reply:
    from .sandbox import read_form

    return emu.oauth.register(await read_form(request))


# -- statuses ------------------------------------------------------------------------------------


async def create(
    emu: MastodonEmulator, request: Request, path: dict[str, str], who: Principal, wire: Wire
) -> Reply:
    from .sandbox import read_form

    user = who.user
    assert user is not None
    key = request.headers.get("idempotency-key")
    earlier = emu.remembered(user, key)
    if earlier is not None:
        rec = emu.data.get_status(earlier)
        if rec is not None:
            return 200, {}, wire.status(rec)
    form = await read_form(request)
    text = str(form.get("status") or "")
    media_ids = form.get("media_ids") or []
    media_ids = [str(m) for m in (media_ids if isinstance(media_ids, list) else [media_ids])]
    for unsupported in ("poll", "scheduled_at", "quoted_status_id"):
        if form.get(unsupported):
            return 422, {}, error(f"the sandbox does not emulate {unsupported}")
    visibility = str(form.get("visibility") or "public")
    problems = []
    if not text.strip() and not media_ids:
        problems.append("Text can't be blank")
    if len(text) > MAX_CHARS:
        problems.append(f"Text character limit of {MAX_CHARS} exceeded")
    if visibility not in VISIBILITIES:
        problems.append("Visibility is not included in the list")
    if problems:
        return _invalid(*problems)
    if len(media_ids) > MAX_MEDIA:
        return 422, {}, error(f"Cannot attach more than {MAX_MEDIA} files")
    media = [emu.data.overlay.media.get(m) for m in media_ids]
    usable = [m for m in media if m is not None and m.owner == user and m.attached_to is None]
    if len(usable) != len(media_ids):
        wanted = ", ".join(media_ids)
        return 422, {}, error(f"Media ({wanted}) not found or already attached to a post")
    if any(m.ready_at > emu.clock.time() for m in usable):
        message = "Cannot attach files that have not finished processing. Try again in a moment!"
        return 422, {}, error(message)
    parent = None
    reply_to = form.get("in_reply_to_id")
    if reply_to:
        parent = find_status(emu, str(reply_to), user)
        if parent is None or parent.reblog_of is not None:
            return 404, {}, error("The post you are trying to reply to does not appear to exist.")
    spoiler = str(form.get("spoiler_text") or "")
    now_ms = int(emu.clock.time() * 1000)
    rec = StatusRec(
        id=emu.data.new_status_id(now_ms),
        author=user,
        created_ms=now_ms,
        text=text,
        reply_to=parent.id if parent else None,
        reply_to_author=parent.author if parent else None,
        mentions=tuple(j for j in emu.data.mentioned(text, wire.domain) if j != user),
        tags=tuple(dict.fromkeys(m.group(1) for m in HASHTAG.finditer(text))),
        media=tuple(usable),
        visibility=visibility,
        spoiler_text=spoiler,
        sensitive=bool(spoiler) or str(form.get("sensitive", "")).lower() in _TRUE,
        language=str(form.get("language") or "en"),
        application=emu.oauth.apps[who.app].name if who.app in emu.oauth.apps else "Web",
    )
    for item in usable:
        item.attached_to = rec.id
    emu.data.add_status(rec)
    emu.remember(user, key, rec.id)
    emu.ctx.record_write("posts.create")
    return 200, {}, wire.status(rec)


async def delete(
    emu: MastodonEmulator, request: Request, path: dict[str, str], who: Principal, wire: Wire
) -> Reply:
    rec = find_status(emu, path["id"], who.user)
    if rec is None:
        return 404, {}, NOT_FOUND
    if rec.author != who.user:
        return 403, {}, error("This action is not allowed")
    body = wire.status(rec, deleted=True)
    emu.data.delete_status(rec)
    emu.ctx.record_write("posts.delete")
    return 200, {}, body


# -- media ---------------------------------------------------------------------------------------


async def media_upload(
    emu: MastodonEmulator, request: Request, path: dict[str, str], who: Principal, wire: Wire
) -> Reply:
    assert who.user is not None
    form = await request.form()
    try:
        part = form.get("file")
        if not isinstance(part, UploadFile):
            return _invalid("File can't be blank")
        data = await part.read()
        mime = (part.content_type or "").split(";")[0].strip().lower()
        description = form.get("description")
        focus = form.get("focus")
    finally:
        await form.close()
    if not data:
        return _invalid("File can't be blank")
    kind = _kind(mime, data)
    if kind is None:
        return _invalid("File content type is invalid", "File is invalid")
    limit = IMAGE_BYTES if kind == "image" else VIDEO_BYTES
    if len(data) > limit:
        return _invalid(f"File file size must be less than {limit // (1024 * 1024)} MB")
    if isinstance(description, str) and len(description) > MAX_DESCRIPTION:
        return _invalid(f"Description is too long (maximum is {MAX_DESCRIPTION} characters)")
    width, height = _dimensions(data) if kind == "image" else (1280, 720)
    asynchronous = path.get("version") == "2" and kind != "image"
    now = emu.clock.time()
    rec = MediaRec(
        id=str(emu.data.new_status_id(int(now * 1000))),
        owner=who.user,
        type=kind,
        width=None if kind == "audio" else width,
        height=None if kind == "audio" else height,
        description=description if isinstance(description, str) and description else None,
        duration=None if kind == "image" else round(len(data) / 50_000 + 1, 2),
        ready_at=now + emu.processing_seconds if asynchronous else 0.0,
        created_at=now,
    )
    emu.data.overlay.media[rec.id] = rec
    emu.ctx.record_write("media.upload")
    body = wire.media(rec)
    if isinstance(focus, str) and body["meta"] is not None:
        body["meta"]["focus"] = _focus(focus)
    return (202 if asynchronous else 200), {}, body


async def media_get(
    emu: MastodonEmulator, request: Request, path: dict[str, str], who: Principal, wire: Wire
) -> Reply:
    rec = emu.data.overlay.media.get(path["id"])
    if rec is None or rec.owner != who.user:
        return 404, {}, NOT_FOUND
    return (200 if rec.ready_at <= emu.clock.time() else 206), {}, wire.media(rec)


async def media_update(
    emu: MastodonEmulator, request: Request, path: dict[str, str], who: Principal, wire: Wire
) -> Reply:
    from .sandbox import read_form

    rec = emu.data.overlay.media.get(path["id"])
    if rec is None or rec.owner != who.user:
        return 404, {}, NOT_FOUND
    form = await read_form(request)
    if isinstance(form.get("description"), str):
        if len(form["description"]) > MAX_DESCRIPTION:
            return _invalid(f"Description is too long (maximum is {MAX_DESCRIPTION} characters)")
        rec.description = form["description"] or None
    return (200 if rec.ready_at <= emu.clock.time() else 206), {}, wire.media(rec)


def _kind(mime: str, data: bytes) -> str | None:
    if mime == "image/gif":
        return "gifv"  # Mastodon converts GIFs to looping videos
    if mime in ("image/png", "image/jpeg", "image/webp", "image/heic", "image/avif"):
        return "image"
    if mime.startswith("video/"):
        return "video"
    if mime.startswith("audio/"):
        return "audio"
    return None


def _dimensions(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG, GIF or JPEG header; 640x480 when unreadable."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data[:2] == b"\xff\xd8":
        at = 2
        while at + 9 < len(data) and data[at] == 0xFF:
            marker, length = data[at + 1], struct.unpack(">H", data[at + 2 : at + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", data[at + 5 : at + 9])
                return int(width), int(height)
            at += 2 + length
    return 640, 480


def _focus(value: str) -> dict[str, float]:
    x, _, y = value.partition(",")
    try:
        return {"x": float(x), "y": float(y)}
    except ValueError:
        return {"x": 0.0, "y": 0.0}
