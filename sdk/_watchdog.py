"""Read timeouts for the aiohttp transport, with one timer for all requests in flight.

aiohttp's own ``sock_read`` timeout schedules an asyncio timer when a request is sent and again
for every chunk that arrives, cancelling the previous one each time: four timers per small
answer, each a ``TimerHandle`` built, pushed on the loop's heap, cancelled and swept in Python.
That was 6% of the SDK's CPU per request (``bench/instructions.py``: 575k instructions per
request with it, 539k with no read timeout at all).

A ``Watchdog`` bounds the same thing with one timer that ticks every quarter of ``seconds``
while requests are in flight. A request is stamped with the tick count when it starts, so
starting and ending a watch is a dict insert and a dict pop, with no clock read. Five ticks
after its stamp (between ``seconds`` and ``1.25 seconds`` later) the watchdog looks at it: if
it made progress since it was stamped (the headers of its answer arrived, or more of its body)
it is stamped again; if not, it is cancelled, and the transport turns that into a read timeout.

So the headers of the answer must arrive within ``seconds`` to ``1.25 seconds`` of the start
(connecting included, which aiohttp also bounds on its own), and after that an answer that
stops arriving fails between ``1.25 seconds`` and ``2.5 seconds`` after its last byte: never
sooner than ``seconds`` of silence.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["Watchdog"]

# A watched request, as a list to keep starting a watch cheap:
STAMP = 0  # the tick it was (last) stamped at
RESPONSE = 1  # its aiohttp response once the headers are in, else None
SEEN = 2  # what it had at its last stamp: -1 no headers, else the body bytes received

_TICKS_PER_TIMEOUT = 4
_TICKS_PER_LOOK = _TICKS_PER_TIMEOUT + 1  # a look is never sooner than ``seconds``


class Watchdog:
    """Watches requests that share one read timeout of ``seconds``, on one event loop.

    ``start()`` in the task making the request returns its entry (set ``entry[RESPONSE]`` when
    the headers are in); ``stop(task)`` when it ends. A ``CancelledError`` in between means
    a timeout when ``caused(task)`` says so."""

    __slots__ = ("_fired", "_loop", "_tick_seconds", "_timer", "pending", "tick")

    def __init__(self, seconds: float, loop: asyncio.AbstractEventLoop) -> None:
        self._tick_seconds = seconds / _TICKS_PER_TIMEOUT
        self._loop = loop
        self.tick = 0
        # Insertion order is stamp order: an entry stamped again moves to the end.
        self.pending: dict[asyncio.Task[Any], list[Any]] = {}
        # Tasks this watchdog cancelled, with the cancellations others had asked for before.
        self._fired: dict[asyncio.Task[Any], int] = {}
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> tuple[asyncio.Task[Any], list[Any]]:
        task = asyncio.current_task(self._loop)
        if task is None:
            raise RuntimeError("socialgate's aiohttp transport must be used inside a task")
        entry = [self.tick, None, -1]
        self.pending[task] = entry
        if self._timer is None:
            self._timer = self._loop.call_later(self._tick_seconds, self._check)
        return task, entry

    def stop(self, task: asyncio.Task[Any]) -> None:
        self.pending.pop(task, None)
        if self._fired and self._fired.pop(task, None) is not None:
            # Cancelled by this watchdog, but the request ended some other way (a library
            # turned the CancelledError into its own error): withdraw the cancellation so
            # the task is not left counting it.
            task.uncancel()

    def caused(self, task: asyncio.Task[Any]) -> bool:
        """Called on the ``CancelledError`` a watched request raised: whether this watchdog
        cancelled it (the cancellation is then withdrawn and the caller raises a timeout), or
        somebody else did (it must propagate)."""
        before = self._fired.pop(task, None)
        return before is not None and task.uncancel() <= before

    def __len__(self) -> int:
        return len(self.pending)

    def _check(self) -> None:
        self.tick += 1
        due = self.tick - _TICKS_PER_LOOK
        pending = self.pending
        while pending:
            task = next(iter(pending))
            entry = pending[task]
            if entry[STAMP] > due:
                break
            del pending[task]
            response = entry[RESPONSE]
            seen = -1 if response is None else response.content.total_bytes
            if seen != entry[SEEN]:
                entry[STAMP], entry[SEEN] = self.tick, seen
                pending[task] = entry
            else:
                self._fired[task] = task.cancelling()
                task.cancel()
        self._timer = self._loop.call_later(self._tick_seconds, self._check) if pending else None

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
