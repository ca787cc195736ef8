"""Retry policy as a value: ``decide(error, attempt, idempotent) -> delay or None``.

The base client runs one tenacity loop with this policy. Rules:
- a request that provably never left (connect error, pool timeout) is retried, writes too;
- a 429 or window-scoped rate limit is retried, writes too (the server refused it); the
  rate-limiting transport does the waiting (or refuses past ``max_wait``), so the delay
  here is 0;
- 5xx, read timeouts and dropped connections are retried only for idempotent requests,
  honouring a server wait hint up to ``max_hint`` and jittered exponential backoff otherwise;
- anything else, and daily/monthly quotas, is not retried.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ._errors import RateLimited, ServerError, SocialGateError, TransportError

__all__ = ["RetryPolicy"]

_RETRYABLE_STATUS = frozenset({500, 502, 503, 504, 520, 522, 524})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 2
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    # Server hints (Retry-After) above this are not slept on: the error is raised instead.
    max_hint: float = 60.0
    jitter: float = 0.25

    def backoff(self, attempt: int) -> float:
        delay = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        return delay * (1 + random.uniform(-self.jitter, self.jitter))  # noqa: S311

    def decide(self, error: BaseException, attempt: int, *, idempotent: bool) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or ``None`` to give up."""
        if attempt > self.max_retries or not isinstance(error, SocialGateError):
            return None
        if isinstance(error, TransportError):
            if not error.sent or idempotent:
                return self.backoff(attempt)
            return None
        if isinstance(error, RateLimited):
            # A refusal by our own transport already weighed waiting against max_wait; a
            # server 429 is retried at once because the transport then waits for the reset.
            if error.scope != "window" or not error.sent:
                return None
            return 0.0
        if isinstance(error, ServerError) and idempotent and error.status in _RETRYABLE_STATUS:
            hint = getattr(error, "retry_after", None)
            if isinstance(hint, int | float):
                return float(hint) if hint <= self.max_hint else None
            return self.backoff(attempt)
        return None
