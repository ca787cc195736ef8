"""The lean send path's answer: a real ``httpx.Response`` that skips httpx's parsing.

``Account.call`` normally builds an ``httpx.Request`` (httpx re-parses and re-quotes the whole
URL, a third of the SDK's CPU per call on X's long field lists) and gets an ``httpx.Response``
back (headers normalised into ``httpx.Headers``, the body streamed through decoders). On the
default transport, with no mock installed, it sends straight over aiohttp instead and wraps the
answer in a ``WireResponse``: an ``httpx.Response`` subclass whose ``request`` and ``headers``
are built only if somebody reads them. Adapters, paginators, error mapping and users see the
same type and values either way; ``tests/core/test_wire.py`` compares the two field by field.
"""

from __future__ import annotations

import datetime
import zlib
from collections.abc import Sequence

import httpx

__all__ = ["WireResponse", "answer", "decode_body"]

_HTTP11 = {"http_version": b"HTTP/1.1"}
_NO_ELAPSED = datetime.timedelta(0)


class WireResponse(httpx.Response):
    """An ``httpx.Response`` for a body already read in full and decoded."""

    # What every instance starts with, as class attributes: fewer stores per answer.
    next_request = None
    is_closed = True
    is_stream_consumed = True
    default_encoding = "utf-8"
    _lazy_headers: httpx.Headers | None = None
    _lazy_request: httpx.Request | None = None

    def __init__(
        self,
        status_code: int,
        raw_headers: Sequence[tuple[bytes, bytes]],
        content: bytes,
        *,
        method: str,
        url: str,
        request_headers: dict[str, str],
        request_body: bytes | None = None,
        elapsed: datetime.timedelta = _NO_ELAPSED,
    ) -> None:
        # httpx.Response.__init__ is deliberately not called: it would parse the headers
        # and stream the body through decoders, which is the work this class exists to skip.
        self.status_code = status_code
        self._raw_headers = raw_headers
        self._request_parts = (method, url, request_headers, request_body)
        self.extensions = dict(_HTTP11)
        self.history = []
        self.stream = httpx.ByteStream(content)
        self._content = content
        self._num_bytes_downloaded = len(content)
        self._elapsed = elapsed

    @property
    def headers(self) -> httpx.Headers:
        if self._lazy_headers is None:
            self._lazy_headers = httpx.Headers(list(self._raw_headers))
        return self._lazy_headers

    @headers.setter
    def headers(self, value: httpx.Headers) -> None:
        self._lazy_headers = httpx.Headers(value)

    @property
    def _request(self) -> httpx.Request | None:
        if self._lazy_request is None:
            method, url, headers, body = self._request_parts
            self._lazy_request = httpx.Request(method, url, headers=headers, content=body)
        return self._lazy_request

    @_request.setter
    def _request(self, value: httpx.Request | None) -> None:
        self._lazy_request = value


def decode_body(encoding: str | None, content: bytes) -> bytes | None:
    """``content`` with its Content-Encoding undone, or ``None`` for an encoding this fast
    path leaves to httpx (br, zstd, chains). gzip and deflate are what the networks send."""
    if not encoding:
        return content
    encoding = encoding.strip().lower()
    if encoding == "identity":
        return content
    try:
        if encoding == "gzip":
            return zlib.decompress(content, 16 + zlib.MAX_WBITS) if content else content
        if encoding == "deflate":
            if not content:
                return content
            try:
                return zlib.decompress(content)
            except zlib.error:  # raw deflate, without the zlib wrapper
                return zlib.decompress(content, -zlib.MAX_WBITS)
    except zlib.error:
        return None  # let httpx raise its DecodingError with its usual message
    return None


def answer(
    status_code: int,
    raw_headers: Sequence[tuple[bytes, bytes]],
    received: bytes,
    decoded: bytes | None,
    *,
    method: str,
    url: str,
    request_headers: dict[str, str],
    request_body: bytes | None = None,
) -> httpx.Response:
    """The response for one lean-path answer: a ``WireResponse`` over ``decoded`` (what
    ``decode_body`` gave), or, for an encoding it left alone, a regular ``httpx.Response``
    over the ``received`` bytes, which httpx decodes (raising ``httpx.DecodingError``)."""
    if decoded is not None:
        return WireResponse(
            status_code,
            raw_headers,
            decoded,
            method=method,
            url=url,
            request_headers=request_headers,
            request_body=request_body,
        )
    request = httpx.Request(method, url, headers=request_headers, content=request_body)
    return httpx.Response(
        status_code,
        headers=list(raw_headers),
        content=received,
        request=request,
        extensions=dict(_HTTP11),
    )
