"""The local HTTP server the loopback and utilization benches talk to, and how they start it.

Run as a script, it is the server: one uvicorn process with one worker on 127.0.0.1 (uvloop
and httptools when they are installed, asyncio and h11 otherwise) serving a plain ASGI app.
It binds its own socket (port 0 unless ``--port`` is given) and prints
``listening PORT loop=... http=...`` as its first line, so the parent never races for a port.

- ``loopback``: ``GET /2/tweets/{id}`` answers the recorded body of
  ``tests/fixtures/x/tweepy_get_tweet.json`` with the headers X sent with it and a budget that
  never runs out (``x-rate-limit-limit: 900``, ``remaining`` counting down, a new window with
  a later ``reset`` every 100 requests).
- ``window``: a fixed window of ``--limit`` requests per ``--window`` seconds per credential
  (the ``Authorization`` header), answering ``GET /2/tweets/{id}`` the way X does
  (``x-rate-limit-*``, integer epoch reset) and ``GET /api/v1/statuses/{id}`` the way Mastodon
  does (``X-RateLimit-*``, ISO 8601 reset, ``Date``). A window opens at the first request after
  the previous one closed, at that request's whole wall-clock second, so the integer reset
  header is exact; over the limit the answer is a 429.

Both modes answer ``GET /_health`` and ``GET /_stats`` (JSON; ``?key=...`` picks one
credential's windows in ``window`` mode). Imported, this module gives ``ServerProcess``, which
starts the script as a subprocess and stops it again, and ``TweepyRedirect``, which points
tweepy's AsyncClient at it.
"""

from __future__ import annotations

import argparse
import email.utils
import importlib.util
import json
import math
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
X_FIXTURE = ROOT / "tests" / "fixtures" / "x" / "tweepy_get_tweet.json"
MASTODON_FIXTURE = ROOT / "tests" / "fixtures" / "mastodon" / "status_get.json"

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

TWITTER_API = "https://api.twitter.com"

# The headers X sent with the recorded answer (tweepy's cassette), without set-cookie and gzip.
X_STATIC_HEADERS: Headers = [
    (b"api-version", b"2.52"),
    (b"cache-control", b"no-cache, no-store, max-age=0"),
    (b"content-disposition", b"attachment; filename=json.json"),
    (b"content-type", b"application/json; charset=utf-8"),
    (b"perf", b"7626143928"),
    (b"server", b"tsa_b"),
    (b"strict-transport-security", b"max-age=631138519"),
    (b"x-access-level", b"read"),
    (b"x-connection-hash", b"92a77929006ce21d643bb271815d8d8a2f76f1a9e661d89b6662dc31481c7be4"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"x-response-time", b"49"),
    (b"x-transaction-id", b"966424516862f637"),
    (b"x-xss-protection", b"0"),
]
X_429_BODY = json.dumps(
    {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank"}
).encode()
MASTODON_429_BODY = b'{"error":"Too many requests"}'
JSON_HEADERS: Headers = [(b"content-type", b"application/json")]


class _HttpDate:
    """``Date`` header values, formatted once per wall-clock second."""

    def __init__(self) -> None:
        self._second = -1
        self._value = b""

    def at(self, now: float) -> bytes:
        second = int(now)
        if second != self._second:
            self._second = second
            self._value = email.utils.formatdate(second, usegmt=True).encode()
        return self._value


async def _reply(send: Send, status: int, headers: Headers, body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _reply_json(send: Send, status: int, data: Any) -> None:
    await _reply(send, status, JSON_HEADERS, json.dumps(data).encode())


def _authorization(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return value.decode("latin-1")
    return ""


# --- loopback -------------------------------------------------------------------------------


class LoopbackApp:
    """``GET /2/tweets/{id}`` with the recorded body and a budget that never runs out."""

    def __init__(self, limit: int = 900, window_calls: int = 100) -> None:
        self.payload = X_FIXTURE.read_bytes()
        self.limit = limit
        self.window_calls = window_calls
        self.requests = 0
        self.unauthenticated = 0
        self.last_target = ""
        self._remaining = limit
        self._reset = int(time.time()) + 900
        self._date = _HttpDate()
        self._static = [
            *X_STATIC_HEADERS,
            (b"content-length", str(len(self.payload)).encode()),
            (b"x-rate-limit-limit", str(limit).encode()),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path.startswith("/2/tweets/"):
            await self._tweet(scope, send)
        elif path == "/_stats":
            await _reply_json(
                send,
                200,
                {
                    "requests": self.requests,
                    "unauthenticated": self.unauthenticated,
                    "last_target": self.last_target,
                },
            )
        elif path == "/_health":
            await _reply_json(send, 200, {"ok": True})
        else:
            await _reply_json(send, 404, {"title": "Not Found Error"})

    async def _tweet(self, scope: Scope, send: Send) -> None:
        self.requests += 1
        if not any(name == b"authorization" for name, _ in scope["headers"]):
            self.unauthenticated += 1
        query = scope["query_string"]
        self.last_target = scope["path"] + ("?" + query.decode("latin-1") if query else "")
        now = time.time()
        if self._remaining <= self.limit - self.window_calls:
            # A new window: full budget and a reset epoch past the previous one (clients only
            # treat a reset more than a second or so later as a new window).
            self._remaining = self.limit
            self._reset = max(int(now) + 900, self._reset + 2)
        self._remaining -= 1
        headers = [
            *self._static,
            (b"date", self._date.at(now)),
            (b"x-rate-limit-remaining", str(self._remaining).encode()),
            (b"x-rate-limit-reset", str(self._reset).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": self.payload})


# --- fixed window ---------------------------------------------------------------------------


class _Window:
    __slots__ = ("first_at", "last_at", "ok", "rejected", "reset", "start")

    def __init__(self, start: int, reset: int, now: float) -> None:
        self.start = start
        self.reset = reset
        self.ok = 0
        self.rejected = 0
        self.first_at = now
        self.last_at = now

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "reset": self.reset,
            "ok": self.ok,
            "rejected": self.rejected,
            "first_at": self.first_at,
            "last_at": self.last_at,
        }


class WindowApp:
    """A fixed window of ``limit`` requests per ``window`` seconds for each credential."""

    def __init__(self, limit: int, window: int) -> None:
        self.limit = limit
        self.window = window
        self.x_payload = X_FIXTURE.read_bytes()
        self.mastodon_payload = json.dumps(
            json.loads(MASTODON_FIXTURE.read_bytes())["body"], ensure_ascii=False
        ).encode()
        self.windows: dict[str, list[_Window]] = {}
        self._date = _HttpDate()
        self._x_static = [*X_STATIC_HEADERS, (b"x-rate-limit-limit", str(limit).encode())]
        self._mastodon_static = [
            (b"content-type", b"application/json; charset=utf-8"),
            (b"cache-control", b"private, no-store"),
            (b"x-ratelimit-limit", str(limit).encode()),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path.startswith("/2/tweets/"):
            await self._x(scope, send)
        elif path.startswith("/api/v1/statuses/"):
            await self._mastodon(scope, send)
        elif path == "/_stats":
            query = urllib.parse.parse_qs(scope["query_string"].decode())
            await _reply_json(send, 200, self.stats(query.get("key", [None])[0]))
        elif path == "/_health":
            await _reply_json(send, 200, {"ok": True, "limit": self.limit, "window": self.window})
        else:
            await _reply_json(send, 404, {"error": "Record not found"})

    def hit(self, key: str, now: float) -> tuple[bool, int, int]:
        """Count one request for ``key``: (allowed, remaining, reset epoch)."""
        windows = self.windows.setdefault(key, [])
        if not windows or now >= windows[-1].reset:
            # Whole seconds, so the integer reset header is exact. A previous reset is a whole
            # second too, so a new window never starts before the previous one ended.
            start = math.floor(now)
            windows.append(_Window(start, start + self.window, now))
        current = windows[-1]
        current.last_at = now
        if current.ok < self.limit:
            current.ok += 1
            return True, self.limit - current.ok, current.reset
        current.rejected += 1
        return False, 0, current.reset

    def stats(self, key: str | None) -> dict[str, Any]:
        keys = [key] if key is not None else list(self.windows)
        out: dict[str, Any] = {"limit": self.limit, "window": self.window, "keys": {}}
        for k in keys:
            windows = self.windows.get(k, [])
            out["keys"][k] = {
                "ok": sum(w.ok for w in windows),
                "rejected": sum(w.rejected for w in windows),
                "windows": [w.as_dict() for w in windows],
            }
        return out

    async def _x(self, scope: Scope, send: Send) -> None:
        now = time.time()
        allowed, remaining, reset = self.hit(_authorization(scope), now)
        headers = [
            *self._x_static,
            (b"date", self._date.at(now)),
            (b"x-rate-limit-remaining", str(remaining).encode()),
            (b"x-rate-limit-reset", str(reset).encode()),
        ]
        if allowed:
            await _reply(send, 200, headers, self.x_payload)
        else:
            await _reply(send, 429, headers, X_429_BODY)

    async def _mastodon(self, scope: Scope, send: Send) -> None:
        now = time.time()
        allowed, remaining, reset = self.hit(_authorization(scope), now)
        reset_iso = datetime.fromtimestamp(reset, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        headers = [
            *self._mastodon_static,
            (b"date", self._date.at(now)),
            (b"x-ratelimit-remaining", str(remaining).encode()),
            (b"x-ratelimit-reset", reset_iso.encode()),
        ]
        if allowed:
            await _reply(send, 200, headers, self.mastodon_payload)
        else:
            await _reply(send, 429, headers, MASTODON_429_BODY)


# --- running it -----------------------------------------------------------------------------


def _have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def serve(app: Any, port: int) -> None:
    import uvicorn

    loop = "uvloop" if _have("uvloop") else "asyncio"
    http = "httptools" if _have("httptools") else "h11"
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)
    config = uvicorn.Config(
        app,
        loop=loop,
        http=http,
        lifespan="off",
        access_log=False,
        log_level="warning",
        server_header=False,
        date_header=False,
        backlog=2048,
        workers=1,
    )
    print(f"listening {sock.getsockname()[1]} loop={loop} http={http}", flush=True)
    uvicorn.Server(config).run(sockets=[sock])


class ServerProcess:
    """The server as a subprocess: ``with ServerProcess("window", "--limit", "100") as s:``."""

    def __init__(self, mode: str, *args: str, start_timeout: float = 20.0) -> None:
        self.argv = [sys.executable, str(Path(__file__).resolve()), mode, *args]
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0
        self.loop = "?"
        self.http = "?"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerProcess:
        self.proc = subprocess.Popen(
            self.argv, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONHASHSEED": "0"}
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if len(line) < 2 or line[0] != "listening":
            self.stop()
            raise RuntimeError(f"the bench server did not start: {' '.join(line)!r}")
        self.port = int(line[1])
        fields = dict(part.split("=", 1) for part in line[2:] if "=" in part)
        self.loop, self.http = fields.get("loop", "?"), fields.get("http", "?")
        deadline = time.monotonic() + self.start_timeout
        while True:
            try:
                self.get_json("/_health")
                return self
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("the bench server did not answer /_health") from None
                time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()

    def get_json(self, path: str, **query: str) -> Any:
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())


class TweepyRedirect:
    """Stands in for tweepy's ``AsyncClient.session``: sends its requests to the local server.

    tweepy builds every URL as ``"https://api.twitter.com" + route`` and then calls
    ``session.request(method, url, params=..., json=..., headers=...)`` and nothing else on the
    session it is given (it only closes sessions it made itself). This wrapper swaps the origin
    and hands the call to a real ``aiohttp.ClientSession``, so tweepy's own code (parameter
    processing, auth header, response checks, ``Response``/``Tweet`` construction) runs
    unchanged over a plain keep-alive aiohttp session. Subclassing ``ClientSession`` would do
    the same but aiohttp deprecates that.
    """

    def __init__(self, session: Any, base_url: str) -> None:
        self._session = session
        self._base = base_url.rstrip("/")

    def request(self, method: str, url: Any, **kwargs: Any) -> Any:
        url = str(url)
        if url.startswith(TWITTER_API):
            url = self._base + url[len(TWITTER_API) :]
        return self._session.request(method, url, **kwargs)

    async def close(self) -> None:
        await self._session.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The benches' local server (see the docstring).")
    parser.add_argument("mode", choices=("loopback", "window"))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--limit", type=int, default=100, help="window mode: requests per window")
    parser.add_argument("--window", type=int, default=10, help="window mode: window in seconds")
    args = parser.parse_args(argv)
    app: Any = LoopbackApp() if args.mode == "loopback" else WindowApp(args.limit, args.window)
    try:
        serve(app, args.port)
    except KeyboardInterrupt:  # pragma: no cover - Ctrl-C on a foreground server
        pass


if __name__ == "__main__":
    main()
