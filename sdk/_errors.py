"""The one exception tree every socialgate call raises from.

    SocialGateError
    ├── TransportError                 connect / read failures; no HTTP answer
    ├── APIError                       the network answered with an error
    │   ├── BadRequest                 400, 422 and other client errors
    │   ├── AuthenticationError        401: token missing, expired or revoked
    │   ├── PermissionDenied           403: scope or access level too low
    │   ├── NotFound                   404 (or a 200 that says "not found")
    │   ├── Conflict                   409 (duplicate content and the like)
    │   ├── RateLimited                429 or a body-level limit; retry_after, reset_at, scope
    │   └── ServerError                5xx
    ├── ReauthorizationRequired        refresh failed for good (invalid_grant): consent again
    ├── NotSupported                   the network lacks the capability
    └── UpstreamSchemaError            the answer could not be mapped; the raw body is attached

Every error carries ``network``, the HTTP ``status`` where there is one, the network's own
``code`` and ``upstream_message``. ``sent`` is false when the request provably never reached
the network (connect failure, or refused by our own rate limiter). ``outcome_unknown`` is true
when a write may have been applied although no success was seen: it was not re-sent. No error
message, attribute or repr ever contains a token: ``redact`` scrubs known secrets.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequest",
    "Conflict",
    "NotFound",
    "NotSupported",
    "PermissionDenied",
    "RateLimited",
    "ReauthorizationRequired",
    "ServerError",
    "SocialGateError",
    "TransportError",
    "UpstreamSchemaError",
]

_REDACTED = "[REDACTED]"
_MIN_SECRET_LEN = 6


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of any secret (longer than a few characters) in ``text``."""
    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET_LEN and secret in text:
            text = text.replace(secret, _REDACTED)
    return text


class SocialGateError(Exception):
    """Base class of every error socialgate raises."""

    body: str | None = None

    def __init__(
        self,
        message: str,
        *,
        network: str | None = None,
        status: int | None = None,
        code: str | None = None,
        upstream_message: str | None = None,
        outcome_unknown: bool = False,
        sent: bool = True,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.network = network
        self.status = status
        self.code = code
        self.upstream_message = upstream_message
        self.outcome_unknown = outcome_unknown
        self.sent = sent

    def __str__(self) -> str:
        prefix = f"[{self.network}] " if self.network else ""
        return prefix + self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(network={self.network!r}, status={self.status!r}, "
            f"code={self.code!r}, message={self.message!r})"
        )

    def scrub(self, secrets: Iterable[str]) -> None:
        """Remove secrets from every text this error carries (called before it is raised)."""
        secrets = [s for s in secrets if s]
        if not secrets:
            return
        self.message = redact(self.message, secrets)
        self.args = (self.message,)
        if self.upstream_message:
            self.upstream_message = redact(self.upstream_message, secrets)
        body = getattr(self, "body", None)
        if isinstance(body, str):
            self.body = redact(body, secrets)


class TransportError(SocialGateError):
    """The request failed below HTTP: DNS, connect, TLS, read timeout, dropped connection."""


class APIError(SocialGateError):
    """The network answered with an error status or an error body."""

    def __init__(self, message: str, *, body: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.body = body


class BadRequest(APIError):
    pass


class AuthenticationError(APIError):
    pass


class PermissionDenied(APIError):
    pass


class NotFound(APIError):
    pass


class Conflict(APIError):
    pass


class RateLimited(APIError):
    """A rate limit or quota was hit, or would be hit by sending the request.

    ``scope`` is ``"window"`` for short throttles (wait and retry), ``"daily"`` or
    ``"monthly"`` for quotas that will not come back soon (reschedule instead).
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        reset_at: datetime | None = None,
        scope: str = "window",
        bucket: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.reset_at = reset_at
        self.scope = scope
        self.bucket = bucket


class ServerError(APIError):
    pass


class ReauthorizationRequired(SocialGateError):
    """The credential can no longer be refreshed; send the user through OAuth consent again."""


class NotSupported(SocialGateError):
    """The network (or this adapter) does not offer what was asked."""


class UpstreamSchemaError(SocialGateError):
    """The network answered something we could not map; ``body`` holds the raw answer."""

    def __init__(self, message: str, *, body: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.body = body


_STATUS_CLASSES: dict[int, type[APIError]] = {
    400: BadRequest,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    410: NotFound,
    429: RateLimited,
}


def error_class_for_status(status: int) -> type[APIError]:
    """The one place where an HTTP status becomes an error class."""
    if status >= 500:
        return ServerError
    return _STATUS_CLASSES.get(status, BadRequest)
