"""A minimal HTTP/1.1 server on a real loopback socket, for transport tests: it records each
request and answers from a script (in part or not at all with ``stall_after``, slowly with
``trickle``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

import httpx

Answer = tuple[int, list[tuple[str, str]], bytes]


class Seen(NamedTuple):
    method: str
    target: str
    headers: httpx.Headers  # case-insensitive lookups; .raw keeps the names as sent
    body: bytes


Script = Callable[[Seen], Answer]


def json_answer(status: int, body: Any, *extra: tuple[str, str]) -> Answer:
    return status, [("content-type", "application/json"), *extra], json.dumps(body).encode()


class LoopbackServer:
    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[Seen] = []
        # Send only this many bytes of each answer (headers included; 0: nothing), then hang.
        self.stall_after: int | None = None
        # Send each answer in pieces of this many bytes, this many seconds apart.
        self.trickle: tuple[int, float] | None = None
        self._server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = httpx.Headers([tuple(ln.split(": ", 1)) for ln in lines[1:] if ln])
                body = await reader.readexactly(int(headers.get("content-length", 0)))
                seen = Seen(method, target, headers, body)
                self.requests.append(seen)
                status, answer_headers, payload = self.script(seen)
                out = f"HTTP/1.1 {status} X\r\ncontent-length: {len(payload)}\r\n"
                out += "".join(f"{k}: {v}\r\n" for k, v in answer_headers)
                data = out.encode("latin-1") + b"\r\n" + payload
                if self.stall_after is not None:
                    writer.write(data[: self.stall_after])
                    await writer.drain()
                    await asyncio.sleep(3600)
                if self.trickle is None:
                    writer.write(data)
                    await writer.drain()
                    continue
                size, gap = self.trickle
                for start in range(0, len(data), size):
                    writer.write(data[start : start + size])
                    await writer.drain()
                    await asyncio.sleep(gap)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"


@asynccontextmanager
async def serving(script: Script) -> AsyncIterator[LoopbackServer]:
    server = LoopbackServer(script)
    server._server = await asyncio.start_server(server._handle, "127.0.0.1", 0)
    try:
        yield server
    finally:
        server._server.close()
        await server._server.wait_closed()
