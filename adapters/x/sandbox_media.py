"""X's media upload v2 for the sandbox: initialize, append (multipart), finalize, STATUS and
metadata (alt text).

Only sizes and the first bytes of each upload are kept (to read PNG and GIF dimensions), so
uploads cost no memory. Images are ready at FINALIZE; videos and GIFs go ``pending`` ->
``in_progress`` -> ``succeeded`` over two seconds of the sandbox clock, and a client polls
STATUS as ``check_after_secs`` says. A media id works in ``POST /2/tweets`` only for its
uploader, once processing has succeeded.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from socialgate._clock import Clock
from socialgate.sandbox.emulator import Reply

from .sandbox_data import MEDIA_PREFIX, UPLOAD_BASE, MediaRec, XDataset
from .sandbox_wire import invalid_request, param_error

MEDIA_TYPES = {
    "image/jpeg": "photo", "image/png": "photo", "image/webp": "photo", "image/bmp": "photo",
    "image/pjpeg": "photo", "image/tiff": "photo", "image/gif": "animated_gif",
    "video/mp4": "video", "video/webm": "video", "video/mp2t": "video",
    "video/quicktime": "video",
}  # fmt: skip
CATEGORIES = ("amplify_video", "tweet_gif", "tweet_image", "tweet_video", "dm_gif", "dm_image",
              "dm_video", "subtitles")  # fmt: skip
MAX_BYTES = {"photo": 5 * 2**20, "animated_gif": 15 * 2**20, "video": 512 * 2**20}
MAX_SEGMENT = 5 * 2**20
PROCESSING_SECONDS = 2.0
EXPIRES = 86_400


@dataclass(slots=True)
class Upload:
    id: str
    kind: str
    media_type: str
    owner: int
    total: int
    segments: dict[int, int] = field(default_factory=dict)
    head: bytes = b""
    finalized_at: float | None = None
    width: int = 1200
    height: int = 675
    alt_text: str | None = None

    @property
    def key(self) -> str:
        return f"{MEDIA_PREFIX[self.kind]}_{self.id}"


def _bad(message: str, name: str | None = None, value: str = "") -> Reply:
    error = param_error(name, value, message) if name else {"message": message}
    return 400, {}, invalid_request([error])


def _dimensions(head: bytes) -> tuple[int, int] | None:
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 24:
        width, height = struct.unpack(">II", head[16:24])
        return int(width), int(height)
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        width, height = struct.unpack("<HH", head[6:10])
        return int(width), int(height)
    return None


class MediaUploads:
    def __init__(self, data: XDataset, clock: Clock) -> None:
        self.data = data
        self.clock = clock
        self._uploads: dict[str, Upload] = {}
        self._next = 0

    def _get(self, media_id: str, user: int) -> Upload | None:
        upload = self._uploads.get(media_id)
        return upload if upload is not None and upload.owner == user else None

    def initialize(self, user: int, body: Any) -> Reply:
        if not isinstance(body, dict):
            return _bad("Request body must be a JSON object")
        unknown = set(body) - {
            "media_type",
            "total_bytes",
            "media_category",
            "additional_owners",
            "shared",
        }
        if unknown:
            name = sorted(unknown)[0]
            return _bad(
                f"$.{name}: is not defined in the schema and the schema does not allow "
                "additional properties"
            )
        media_type = body.get("media_type")
        kind = MEDIA_TYPES.get(str(media_type))
        if kind is None:
            return _bad(
                f"$.media_type: does not have a value in the enumeration {sorted(MEDIA_TYPES)}"
            )
        total = body.get("total_bytes")
        if not isinstance(total, int) or isinstance(total, bool) or total <= 0:
            return _bad("$.total_bytes: must be a positive integer")
        if total > MAX_BYTES[kind]:
            return _bad(f"File size exceeds {MAX_BYTES[kind]} bytes.")
        category = body.get("media_category")
        if category is not None and category not in CATEGORIES:
            return _bad(
                f"$.media_category: does not have a value in the enumeration {list(CATEGORIES)}"
            )
        self._next += 1
        media_id = str(
            UPLOAD_BASE + self._next * 1_000 + self.data.rand.below(1_000, "up", self._next)
        )
        upload = Upload(id=media_id, kind=kind, media_type=str(media_type), owner=user, total=total)
        self._uploads[media_id] = upload
        return (
            200,
            {},
            {"data": {"id": media_id, "media_key": upload.key, "expires_after_secs": EXPIRES}},
        )

    def append(self, user: int, media_id: str, segment: str | None, chunk: bytes | None) -> Reply:
        upload = self._get(media_id, user)
        if upload is None:
            return _bad("Invalid media_id", "id", media_id)
        if upload.finalized_at is not None:
            return _bad("The upload was already finalized", "id", media_id)
        if segment is None or not segment.isdigit() or not 0 <= int(segment) <= 999:
            return _bad(
                "segment_index must be an integer from 0 to 999", "segment_index", segment or ""
            )
        if chunk is None:
            return _bad("The media part is missing", "media")
        if len(chunk) > MAX_SEGMENT:
            return _bad(f"A segment must not exceed {MAX_SEGMENT} bytes", "media")
        index = int(segment)
        upload.segments[index] = len(chunk)
        if index == 0:
            upload.head = chunk[:32]
        expires_at = int(self.clock.time()) + EXPIRES
        return 200, {}, {"data": {"expires_at": expires_at}}

    def finalize(self, user: int, media_id: str) -> Reply:
        upload = self._get(media_id, user)
        if upload is None:
            return _bad("Invalid media_id", "id", media_id)
        received = sum(upload.segments.values())
        contiguous = sorted(upload.segments) == list(range(len(upload.segments)))
        if not upload.segments or not contiguous or received != upload.total:
            return _bad(
                f"File size mismatch: declared {upload.total} bytes, received {received} "
                f"in segments {sorted(upload.segments)}"
            )
        if upload.finalized_at is None:
            upload.finalized_at = self.clock.time()
            size = _dimensions(upload.head)
            if size is not None:
                upload.width, upload.height = size
        return 200, {}, {"data": self._state(upload)}

    def status(self, user: int, media_id: str | None, command: str | None) -> Reply:
        if command not in (None, "STATUS"):
            return _bad(
                f"The `command` query parameter value [{command}] is not one of [STATUS]",
                "command",
                command or "",
            )
        upload = self._get(media_id or "", user)
        if upload is None or upload.finalized_at is None:
            return _bad("Invalid media_id", "media_id", media_id or "")
        return 200, {}, {"data": self._state(upload)}

    def metadata(self, user: int, body: Any) -> Reply:
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            return _bad("$.id: is missing but it is required")
        upload = self._get(body["id"], user)
        if upload is None:
            return _bad("Invalid media_id", "id", body["id"])
        metadata = body.get("metadata") or {}
        alt = metadata.get("alt_text") if isinstance(metadata, dict) else None
        if alt is not None:
            text = alt.get("text") if isinstance(alt, dict) else None
            if not isinstance(text, str) or len(text) > 1_000:
                return _bad("$.metadata.alt_text.text: must be a string of at most 1000 characters")
            upload.alt_text = text
            self._publish(upload)
        return 200, {}, {"data": {"id": upload.id, "associated_metadata": metadata}}

    def usable(self, media_id: str, user: int) -> MediaRec | None:
        """The media for ``POST /2/tweets``, if ``user`` uploaded it and it is ready."""
        upload = self._get(media_id, user)
        if upload is None or self._processing(upload) != "succeeded":
            return None
        return self._publish(upload)

    def _processing(self, upload: Upload) -> str:
        if upload.finalized_at is None:
            return "pending"
        if upload.kind == "photo":
            return "succeeded"
        elapsed = self.clock.time() - upload.finalized_at
        if elapsed >= PROCESSING_SECONDS:
            return "succeeded"
        return "in_progress" if elapsed >= PROCESSING_SECONDS / 2 else "pending"

    def _state(self, upload: Upload) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": upload.id,
            "media_key": upload.key,
            "size": upload.total,
            "expires_after_secs": EXPIRES,
        }
        if upload.kind == "photo":
            out["image"] = {"image_type": upload.media_type, "w": upload.width, "h": upload.height}
            return out
        state = self._processing(upload)
        info: dict[str, Any] = {"state": state}
        if state != "succeeded":
            info["check_after_secs"] = 1
        info["progress_percent"] = {"pending": 0, "in_progress": 50, "succeeded": 100}[state]
        out["processing_info"] = info
        if state == "succeeded":
            self._publish(upload)
            out["video"] = {"video_type": upload.media_type}
        return out

    def _publish(self, upload: Upload) -> MediaRec:
        rec = MediaRec(
            key=upload.key,
            id=upload.id,
            type=upload.kind,
            width=upload.width,
            height=upload.height,
            duration_ms=10_000 if upload.kind == "video" else None,
            alt_text=upload.alt_text,
            view_count=0 if upload.kind == "video" else None,
            owner=upload.owner,
        )
        self.data.overlay.media[rec.key] = rec
        return rec
