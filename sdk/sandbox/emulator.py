"""The base every network emulator builds on: the ASGI plumbing, written once.

An emulator implements ``handle(request, method, path)`` and answers ``(status, headers,
body)``: a JSON-able body is encoded here (with the network's separators and content type),
a ``str`` or ``bytes`` body is sent as it is (an HTML consent page, S3's XML), ``None`` sends
nothing. ``path`` arrives without the mount prefix (``/x``) and passes through ``route`` first,
for networks that accept variants of one path (Reddit's trailing ``.json`` and ``/``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.requests import Request

__all__ = ["Emulator", "Reply"]

Reply = tuple[int, dict[str, str], Any]


class Emulator:
    content_type = "application/json; charset=utf-8"
    # Real APIs differ in how their JSON is spaced; the emulator answers the same way.
    json_separators: tuple[str, str] | None = (",", ":")

    def route(self, path: str) -> str:
        return path

    async def handle(self, request: Request, method: str, path: str) -> Reply:
        raise NotImplementedError

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        from starlette.requests import Request
        from starlette.responses import Response

        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        path: str = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root + "/"):
            path = path[len(root) :]
        status, headers, body = await self.handle(request, scope["method"], self.route(path))
        if body is None:
            content = b""
        elif isinstance(body, bytes):
            content = body
        elif isinstance(body, str):
            content = body.encode()
        else:
            content = json.dumps(body, ensure_ascii=False, separators=self.json_separators).encode()
            headers.setdefault("content-type", self.content_type)
        await Response(content, status, headers)(scope, receive, send)
