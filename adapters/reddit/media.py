"""Publishing on Reddit: self, link, image, video and gallery submissions, and media upload.

Upload, as Reddit's own clients do it: ``POST /api/media/asset.json`` leases an S3 slot
(``args.action`` and signed ``args.fields``), then the file goes straight to S3 as a
multipart form (the fields first, the file last), without Reddit's token. The ``Media`` id is
the lease's ``asset_id``; its ``url`` is the S3 object that ``/api/submit`` takes.

Reddit answers an image or video submission without the new post's id (only a websocket URL
that reports the end of processing), so the adapter polls the author's newest submissions,
through the client's clock, until the post appears.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import httpx

from socialgate._errors import (
    BadRequest,
    ServerError,
    TransportError,
    UpstreamSchemaError,
    error_class_for_status,
)
from socialgate._models import Draft, Media, Post

from . import mapping

if TYPE_CHECKING:
    from .adapter import RedditAdapter

__all__ = ["submit", "upload"]

RAW = {"raw_json": 1}
TITLE_MAX = 300
GALLERY_MAX = 20
MEDIA_TIMEOUT = 120.0
POLL_EVERY = 2.0
_EXT = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
}
_S3_CODE = re.compile(r"<Code>([^<]+)</Code>")
_S3_MESSAGE = re.compile(r"<Message>([^<]+)</Message>")
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _kind(mime_type: str) -> str:
    if mime_type == "image/gif":
        return "gif"
    major = mime_type.split("/", 1)[0]
    if major in ("image", "video"):
        return major
    raise BadRequest(f"Reddit takes images and videos, not {mime_type}", network="reddit")


async def upload(
    adapter: RedditAdapter,
    data: bytes,
    mime_type: str,
    alt_text: str | None,
    options: dict[str, Any],
) -> Media:
    account = adapter.account
    filename = str(options.pop("filename", "") or f"upload{_EXT.get(mime_type, '')}")
    if options:
        raise BadRequest(
            f"Reddit's media upload takes only filename=, not {sorted(options)}",
            network="reddit",
        )
    kind = _kind(mime_type)
    lease = await account.call_json(
        "POST",
        "/api/media/asset.json",
        params=RAW,
        data={"api_type": "json", "filepath": filename, "mimetype": mime_type},
        # A lease nobody uses expires; asking again is harmless.
        idempotent=True,
    )
    args = lease.get("args") if isinstance(lease, dict) else None
    asset = lease.get("asset") if isinstance(lease, dict) else None
    if not isinstance(args, dict) or not isinstance(asset, dict) or not asset.get("asset_id"):
        raise UpstreamSchemaError(
            "Reddit's upload lease has no args or asset", network="reddit", body=str(lease)
        )
    fields = {str(f["name"]): str(f["value"]) for f in args.get("fields", []) if "name" in f}
    target = _absolute(str(args.get("action", "")), account.base_url)
    await _post_to_storage(adapter, target, fields, (filename, data, mime_type))
    return Media(
        id=str(asset["asset_id"]),
        kind=kind,
        url=f"{target}/{fields.get('key', asset['asset_id'])}",
        alt_text=alt_text,
        network="reddit",
        raw={
            "asset": asset,
            "upload_url": target,
            "key": fields.get("key"),
            "mime_type": mime_type,
        },
    )


def _absolute(action: str, base_url: str) -> str:
    # Reddit gives a scheme-relative "//bucket.s3-accelerate.amazonaws.com".
    if action.startswith("//"):
        return f"{httpx.URL(base_url).scheme}:{action}"
    return action


async def _post_to_storage(
    adapter: RedditAdapter, url: str, fields: dict[str, str], file: tuple[str, bytes, str]
) -> None:
    """The S3 POST: no Reddit token and no Reddit budget (it is not Reddit's API)."""
    http = adapter.account.client.http
    request = http.build_request(
        "POST", url, data=fields, files={"file": file}, headers={"User-Agent": adapter.user_agent}
    )
    try:
        response = await http.send(request)
    except httpx.TransportError as exc:
        raise TransportError(
            f"{type(exc).__name__} uploading media to Reddit's storage: {exc or 'no detail'}",
            network="reddit",
            sent=not isinstance(exc, _NOT_SENT),
        ) from exc
    if response.status_code in (200, 201, 204):
        return
    text = response.text[:2_000]
    code = _S3_CODE.search(text)
    message = _S3_MESSAGE.search(text)
    cls = (
        ServerError if response.status_code >= 500 else error_class_for_status(response.status_code)
    )
    raise cls(
        f"Reddit's storage refused the upload (HTTP {response.status_code}"
        f"{', ' + code.group(1) if code else ''}); the lease may have expired: upload again",
        network="reddit",
        status=response.status_code,
        code=code.group(1) if code else None,
        upstream_message=message.group(1) if message else None,
        body=text,
    )


# -- submissions -----------------------------------------------------------------------------


def _flag(value: Any) -> str:
    return "true" if value else "false"


def _title_and_text(text: str, title: Any) -> tuple[str, str]:
    if isinstance(title, str) and title.strip():
        return title.strip(), text
    lines = text.strip().splitlines()
    if not lines or not lines[0].strip():
        raise BadRequest(
            "a Reddit submission needs a title: pass options['title'] or make it the first "
            "line of the text",
            network="reddit",
        )
    first = lines[0].strip()
    if len(first) > TITLE_MAX:
        raise BadRequest(
            f"Reddit titles are at most {TITLE_MAX} characters; pass options['title']",
            network="reddit",
        )
    return first, "\n".join(lines[1:]).strip()


async def submit(adapter: RedditAdapter, draft: Draft) -> Post:
    options = dict(draft.options)
    subreddit = str(options.pop("subreddit", "") or "").strip()
    for prefix in ("/r/", "r/"):
        subreddit = subreddit.removeprefix(prefix)
    subreddit = subreddit.strip("/")
    if not subreddit:
        raise BadRequest(
            "Reddit posts go to a subreddit: pass Draft(options={'subreddit': 'name'}) "
            "(use 'u_<yourname>' for your profile)",
            network="reddit",
        )
    title, text = _title_and_text(draft.text, options.pop("title", None))
    form: dict[str, Any] = {
        "api_type": "json",
        "sr": subreddit,
        "title": title,
        "nsfw": _flag(options.pop("nsfw", False)),
        "spoiler": _flag(options.pop("spoiler", False)),
        "sendreplies": _flag(options.pop("sendreplies", True)),
        "resubmit": _flag(options.pop("resubmit", True)),
    }
    for name in ("flair_id", "flair_text"):
        if options.get(name):
            form[name] = str(options.pop(name))
    url = options.pop("url", None)
    timeout = float(options.pop("media_timeout", MEDIA_TIMEOUT))
    video_kind = str(options.pop("video_kind", "video"))
    if draft.media:
        if url:
            raise BadRequest("a Reddit post has either a url or media, not both", network="reddit")
        return await _submit_media(adapter, draft.media, form, text, timeout, video_kind)
    if url:
        form.update(kind="link", url=str(url))
        if text:
            form["text"] = text
    else:
        form.update(kind="self", text=text)
    data = await _post_form(adapter, "/api/submit", form)
    return _created(adapter, data, form, text)


async def _post_form(adapter: RedditAdapter, path: str, form: dict[str, Any]) -> dict[str, Any]:
    account = adapter.account
    response = await account.call("POST", path, params=RAW, data=form, bucket="actions")
    body = account.decode(response)
    await adapter.check_json_errors(response, body, bucket="actions")
    data = (body or {}).get("json", {}).get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise UpstreamSchemaError(
            "Reddit accepted the submission without saying what it created; it may exist",
            network="reddit",
            body=str(body)[:10_000],
        )
    return data


def _created(adapter: RedditAdapter, data: dict[str, Any], form: dict[str, Any], text: str) -> Post:
    name = str(data.get("name") or data.get("id") or "")
    if not name:
        raise UpstreamSchemaError(
            "Reddit's answer names no new post; it may exist", network="reddit", body=str(data)
        )
    if not name.startswith("t3_"):
        name = f"t3_{name}"
    me = adapter._me
    return Post(
        network="reddit",
        id=name,
        author_id=me.id if me else None,
        author=me,
        # As the mapping reads a submission back: the title, then the body if there is one.
        text=f"{form['title']}\n\n{text}" if text else form["title"],
        url=data.get("url"),
        conversation_id=name,
        raw=data,
        title=form["title"],
        subreddit=form["sr"],
    )


async def _submit_media(
    adapter: RedditAdapter,
    items: tuple[Media, ...],
    form: dict[str, Any],
    text: str,
    wait_limit: float,
    video_kind: str,
) -> Post:
    videos = [m for m in items if m.kind == "video"]
    images = [m for m in items if m.kind in ("image", "gif")]
    if len(videos) + len(images) != len(items) or any(not m.url for m in items):
        raise BadRequest("attach media from acct.media.upload() on Reddit", network="reddit")
    if videos:
        if len(videos) != 1 or len(images) != 1:
            raise BadRequest(
                "a Reddit video post takes one video and one image, its poster (thumbnail)",
                network="reddit",
            )
        form.update(kind=video_kind, url=videos[0].url, video_poster_url=images[0].url)
    elif len(images) == 1:
        form.update(kind="image", url=images[0].url)
    elif len(images) <= GALLERY_MAX:
        return await _gallery(adapter, images, form, text)
    else:
        raise BadRequest(f"a Reddit gallery holds at most {GALLERY_MAX} images", network="reddit")
    if text:
        form["text"] = text
    started = adapter.account.client.clock.time()
    data = await _post_form(adapter, "/api/submit", form)
    if data.get("name") or data.get("id"):
        return _created(adapter, data, form, text)
    return await _find_new_post(adapter, form, [m.id for m in items], started, wait_limit)


async def _gallery(
    adapter: RedditAdapter, images: list[Media], form: dict[str, Any], text: str
) -> Post:
    if text:
        raise BadRequest(
            "Reddit galleries carry a title and captions (Media.alt_text), no body text",
            network="reddit",
        )
    payload: dict[str, Any] = {
        **{k: v for k, v in form.items() if k not in ("nsfw", "spoiler", "sendreplies")},
        "nsfw": form["nsfw"] == "true",
        "spoiler": form["spoiler"] == "true",
        "sendreplies": form["sendreplies"] == "true",
        "show_error_list": True,
        "validate_on_submit": True,
        "items": [
            {"media_id": m.id, "caption": m.alt_text or "", "outbound_url": ""} for m in images
        ],
    }
    payload.pop("resubmit", None)
    account = adapter.account
    response = await account.call(
        "POST", "/api/submit_gallery_post.json", params=RAW, json=payload, bucket="actions"
    )
    body = account.decode(response)
    await adapter.check_json_errors(response, body, bucket="actions")
    data = (body or {}).get("json", {}).get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise UpstreamSchemaError(
            "Reddit accepted the gallery without naming it; it may exist", network="reddit"
        )
    return _created(adapter, data, form, "")


async def _find_new_post(
    adapter: RedditAdapter,
    form: dict[str, Any],
    media_ids: list[str],
    started: float,
    wait_limit: float,
) -> Post:
    account = adapter.account
    author = await adapter.own_name()
    found: list[Post] = []

    async def check() -> float | None:
        body = await account.call_json(
            "GET", f"/user/{author}/submitted", params={"sort": "new", "limit": 10, **RAW}
        )
        for post in mapping.posts_from_listing(body):
            if _is_ours(post, form, media_ids, started):
                found.append(post)
                return None
        return POLL_EVERY

    await account.poll(check, max_seconds=wait_limit, what="Reddit's processing of the media post")
    return found[0]


def _is_ours(post: Post, form: dict[str, Any], media_ids: list[str], started: float) -> bool:
    raw = post.raw
    link = f"{raw.get('url_overridden_by_dest') or ''} {raw.get('url') or ''}"
    if any(media_id in link for media_id in media_ids):
        return True
    # Reddit re-hosts videos under a new id, so fall back to title, subreddit and time.
    created = post.created_at.timestamp() if post.created_at else 0.0
    return (
        raw.get("title") == form["title"]
        and str(raw.get("subreddit", "")).lower() == str(form["sr"]).lower()
        and created >= started - 120
    )
