"""An ``httpx`` transport that sends over aiohttp: the SDK's default network layer.

httpx's own transport costs several times more CPU per request than aiohttp on this kind of
workload (see bench/loopback.py), so socialgate keeps httpx's API (requests, responses, auth
flows, ASGI and mock transports) and swaps only the bytes-on-the-wire part. Bodies are passed
through undecoded, so httpx decompresses them exactly as with its own transport.

respx keeps working for users: when respx (or anything else) has patched httpx's or httpcore's
request handling, requests go through a plain ``httpx.AsyncHTTPTransport`` so the mock sees them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import httpcore
import httpx

from ._watchdog import RESPONSE, Watchdog

__all__ = ["AiohttpTransport"]

_HTTPX_HANDLER = httpx.AsyncHTTPTransport.handle_async_request
_HTTPX_ROUTING = httpx.AsyncClient._transport_for_url
_HTTPCORE_POOL = httpcore.AsyncConnectionPool.handle_async_request
_HTTPCORE_CONNECTION = httpcore.AsyncHTTPConnection.handle_async_request
_HTTPCORE_PROXY = httpcore.AsyncHTTPProxy.handle_async_request


def _mocked() -> bool:
    """Whether a mocking library has replaced httpx's or httpcore's request handling (respx
    patches ``AsyncClient._transport_for_url`` in its "httpx" mode, the httpcore classes'
    ``handle_async_request`` in its default mode)."""
    return (
        httpx.AsyncHTTPTransport.handle_async_request is not _HTTPX_HANDLER
        or httpx.AsyncClient._transport_for_url is not _HTTPX_ROUTING
        or httpcore.AsyncConnectionPool.handle_async_request is not _HTTPCORE_POOL
        or httpcore.AsyncHTTPConnection.handle_async_request is not _HTTPCORE_CONNECTION
        or httpcore.AsyncHTTPProxy.handle_async_request is not _HTTPCORE_PROXY
    )


class AiohttpTransport(httpx.AsyncBaseTransport):
    """``sg.Client(transport=sg.AiohttpTransport(...))``; the default when aiohttp is
    installed. ``limit`` caps open connections (all hosts), ``limit_per_host`` per host."""

    def __init__(
        self, *, limit: int = 100, limit_per_host: int = 0, verify: bool = True, ttl_dns: int = 300
    ) -> None:
        import aiohttp  # imported here so that socialgate imports without it

        self._aiohttp = aiohttp
        self._limit = limit
        self._limit_per_host = limit_per_host
        self._verify = verify
        self._ttl_dns = ttl_dns
        self._session: Any = None
        self._fallback: httpx.AsyncHTTPTransport | None = None
        self._errors = _error_map(aiohttp)
        self._timeouts: dict[float | None, Any] = {}
        self._watchdogs: dict[float, Watchdog] = {}

    def _get_session(self) -> Any:
        # Created on first use, inside the running event loop.
        if self._session is None:
            aiohttp = self._aiohttp
            connector = aiohttp.TCPConnector(
                limit=self._limit,
                limit_per_host=self._limit_per_host,
                ttl_dns_cache=self._ttl_dns,
                ssl=None if self._verify else False,
            )
            # No session-wide skip_auto_headers: aiohttp copies every request's headers to
            # apply it (a tenth of its CPU per request). Requests from httpx and from the
            # lean path carry their own User-Agent and Accept-Encoding, so aiohttp adds
            # nothing but Host; only a body without a Content-Type needs a per-request skip.
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if _mocked():
            if self._fallback is None:
                self._fallback = httpx.AsyncHTTPTransport(verify=self._verify)
            return await self._fallback.handle_async_request(request)
        body = await request.aread() if request.method not in ("GET", "HEAD") else None
        timeouts = request.extensions.get("timeout") or {}
        # Reads are bounded by a Watchdog rather than aiohttp's sock_read (see _watchdog).
        timeout = self._aiohttp.ClientTimeout(
            total=None, connect=timeouts.get("pool"), sock_connect=timeouts.get("connect")
        )
        status, _, raw_headers, content = await self._exchange(
            request.method,
            str(request.url),
            request.headers.multi_items(),
            body or None,
            timeout,
            timeouts.get("read"),
            untyped=bool(body) and "content-type" not in request.headers,
            request=request,
        )
        return httpx.Response(
            status,
            headers=raw_headers,
            content=content,
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    def send_raw(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        seconds: float | None,
    ) -> Coroutine[Any, Any, tuple[int, Any, tuple[tuple[bytes, bytes], ...], bytes]]:
        """Send without building httpx objects: the account's lean path (see ``_wire``).
        Returns status, aiohttp's case-insensitive headers, the raw header pairs and the body
        as received (still Content-Encoded); ``seconds`` bounds connecting and a stalled
        answer (see ``_watchdog``).
        Failures are raised as the httpx errors ``handle_async_request`` raises, with no
        request attached. A plain function returning the exchange's coroutine: one
        coroutine less per call."""
        timeout = self._timeouts.get(seconds)
        if timeout is None:
            timeout = self._timeouts[seconds] = self._aiohttp.ClientTimeout(
                total=None, connect=seconds, sock_connect=seconds
            )
        untyped = bool(body) and not _has_type(headers)
        return self._exchange(method, url, headers, body, timeout, seconds, untyped=untyped)

    async def _exchange(
        self,
        method: str,
        url: str,
        headers: Any,
        body: bytes | None,
        limits: Any,
        read_seconds: float | None,
        *,
        untyped: bool,
        request: httpx.Request | None = None,
    ) -> tuple[int, Any, tuple[tuple[bytes, bytes], ...], bytes]:
        """One request over the session; aiohttp's failures become httpx's errors. A request
        that goes ``read_seconds`` without progress is cancelled by a ``Watchdog`` and fails
        with ``httpx.ReadTimeout``."""
        session = self._get_session()
        watchdog: Watchdog | None = None
        task: asyncio.Task[Any] | None = None
        watch: list[Any] | None = None
        if read_seconds is not None and read_seconds > 0:
            watchdog = self._watchdogs.get(read_seconds)
            if watchdog is None:
                watchdog = self._watchdogs[read_seconds] = Watchdog(
                    read_seconds, asyncio.get_running_loop()
                )
            task, watch = watchdog.start()
        try:
            async with session.request(
                method,
                url,
                headers=headers,
                data=body,
                allow_redirects=False,
                timeout=limits,
                skip_auto_headers=_SKIP_CONTENT_TYPE if untyped else None,
            ) as upstream:
                if watch is not None:
                    watch[RESPONSE] = upstream
                content = await upstream.read()
                return upstream.status, upstream.headers, upstream.raw_headers, content
        except self._aiohttp.ClientError as exc:
            raise self._translate(exc, request) from exc
        except TimeoutError as exc:
            raise httpx.ReadTimeout("timed out waiting for the answer", request=request) from exc
        except asyncio.CancelledError as exc:
            if watchdog is not None and task is not None and watchdog.caused(task):
                raise httpx.ReadTimeout(
                    f"no answer, or an answer that stopped arriving, for {read_seconds:g}s",
                    request=request,
                ) from exc
            raise
        finally:
            if watchdog is not None and task is not None:
                watchdog.stop(task)

    def _translate(self, exc: Exception, request: httpx.Request | None) -> httpx.TransportError:
        for kind, target in self._errors:
            if isinstance(exc, kind):
                return target(f"{type(exc).__name__}: {exc}", request=request)
        return httpx.ReadError(f"{type(exc).__name__}: {exc}", request=request)

    async def aclose(self) -> None:
        for watchdog in self._watchdogs.values():
            watchdog.close()
        self._watchdogs.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._fallback is not None:
            await self._fallback.aclose()
            self._fallback = None


# aiohttp labels a bytes body application/octet-stream unless told not to; httpx sends none.
_SKIP_CONTENT_TYPE = ("Content-Type",)


def _has_type(headers: dict[str, str]) -> bool:
    return "Content-Type" in headers or any(k.lower() == "content-type" for k in headers)


def _error_map(aiohttp: Any) -> list[tuple[type[BaseException], type[httpx.TransportError]]]:
    """aiohttp's failures as the httpx errors the SDK classifies (order matters: subclasses
    first). Connect-phase errors mean the request never left."""
    pairs: list[tuple[str, type[httpx.TransportError]]] = [
        ("ConnectionTimeoutError", httpx.ConnectTimeout),
        ("ClientConnectorError", httpx.ConnectError),
        ("SocketTimeoutError", httpx.ReadTimeout),
        ("ServerTimeoutError", httpx.ReadTimeout),
        ("ServerDisconnectedError", httpx.RemoteProtocolError),
        ("ClientPayloadError", httpx.RemoteProtocolError),
        ("InvalidURL", httpx.UnsupportedProtocol),
    ]
    return [(getattr(aiohttp, name), target) for name, target in pairs if hasattr(aiohttp, name)]
