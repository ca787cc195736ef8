"""An ``httpx`` transport that sends over aiohttp: the SDK's default network layer.

httpx's own transport costs several times more CPU per request than aiohttp on this kind of
workload (see bench/loopback.py), so socialgate keeps httpx's API (requests, responses, auth
flows, ASGI and mock transports) and swaps only the bytes-on-the-wire part. Bodies are passed
through undecoded, so httpx decompresses them exactly as with its own transport.

respx keeps working for users: when respx (or anything else) has patched httpx's or httpcore's
request handling, requests go through a plain ``httpx.AsyncHTTPTransport`` so the mock sees them.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

import httpcore
import httpx

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
        timeout = self._aiohttp.ClientTimeout(
            total=None,
            connect=timeouts.get("pool"),
            sock_connect=timeouts.get("connect"),
            sock_read=timeouts.get("read"),
        )
        status, _, raw_headers, content = await self._exchange(
            request.method,
            str(request.url),
            request.headers.multi_items(),
            body or None,
            timeout,
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
        as received (still Content-Encoded); ``seconds`` bounds connecting and each read.
        Failures are raised as the httpx errors ``handle_async_request`` raises, with no
        request attached. A plain function returning the exchange's coroutine: one
        coroutine less per call."""
        timeout = self._timeouts.get(seconds)
        if timeout is None:
            timeout = self._timeouts[seconds] = self._aiohttp.ClientTimeout(
                total=None, connect=seconds, sock_connect=seconds, sock_read=seconds
            )
        untyped = bool(body) and not _has_type(headers)
        return self._exchange(method, url, headers, body, timeout, untyped=untyped)

    async def _exchange(
        self,
        method: str,
        url: str,
        headers: Any,
        body: bytes | None,
        limits: Any,
        *,
        untyped: bool,
        request: httpx.Request | None = None,
    ) -> tuple[int, Any, tuple[tuple[bytes, bytes], ...], bytes]:
        """One request over the session; aiohttp's failures become httpx's errors."""
        try:
            async with self._get_session().request(
                method,
                url,
                headers=headers,
                data=body,
                allow_redirects=False,
                timeout=limits,
                skip_auto_headers=_SKIP_CONTENT_TYPE if untyped else None,
            ) as upstream:
                content = await upstream.read()
                return upstream.status, upstream.headers, upstream.raw_headers, content
        except self._aiohttp.ClientError as exc:
            raise self._translate(exc, request) from exc
        except TimeoutError as exc:
            raise httpx.ReadTimeout("timed out waiting for the answer", request=request) from exc

    def _translate(self, exc: Exception, request: httpx.Request | None) -> httpx.TransportError:
        for kind, target in self._errors:
            if isinstance(exc, kind):
                return target(f"{type(exc).__name__}: {exc}", request=request)
        return httpx.ReadError(f"{type(exc).__name__}: {exc}", request=request)

    async def aclose(self) -> None:
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
