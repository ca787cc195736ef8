"""The read-timeout watchdog on its own: its ticks are driven by hand (``_check``), so no test
waits on a clock; the tasks and cancellations are real asyncio ones."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from socialgate._watchdog import RESPONSE, Watchdog

# Long enough that the watchdog's own timer never fires while a test runs.
SECONDS = 3600.0
TICKS_PER_LOOK = 5


class Request:
    """A task standing in for one request: it waits until released or cancelled."""

    def __init__(self, watchdog: Watchdog) -> None:
        self.watchdog = watchdog
        self.released = asyncio.Event()
        self.entry: list[Any] = []
        self.outcome: str | None = None
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        task, self.entry = self.watchdog.start()
        try:
            await self.released.wait()
            self.outcome = "done"
        except asyncio.CancelledError:
            if self.watchdog.caused(task):
                self.outcome = "timed out"
                return
            self.outcome = "cancelled"
            raise
        finally:
            self.watchdog.stop(task)

    def answer(self, body_bytes: int) -> None:
        """The headers are in and ``body_bytes`` of the body so far."""
        self.entry[RESPONSE] = SimpleNamespace(content=SimpleNamespace(total_bytes=body_bytes))


async def ticks(watchdog: Watchdog, count: int) -> None:
    for _ in range(count):
        watchdog._check()
        await asyncio.sleep(0)  # let cancelled tasks run their handlers
    await asyncio.sleep(0)


@pytest.fixture
async def watchdog() -> Watchdog:
    return Watchdog(SECONDS, asyncio.get_running_loop())


async def started(watchdog: Watchdog, count: int = 1) -> list[Request]:
    requests = [Request(watchdog) for _ in range(count)]
    await asyncio.sleep(0)
    return requests


async def test_no_answer_times_out_on_the_first_look_and_not_before(watchdog: Watchdog) -> None:
    (request,) = await started(watchdog)
    await ticks(watchdog, TICKS_PER_LOOK - 1)
    assert request.outcome is None and len(watchdog) == 1
    await ticks(watchdog, 1)
    assert request.outcome == "timed out"
    # The cancellation was withdrawn: the task is not left "cancelling" for later awaits.
    assert request.task.done() and not request.task.cancelled()
    assert request.task.cancelling() == 0 and len(watchdog) == 0


async def test_an_answer_that_keeps_arriving_is_never_cut_off(watchdog: Watchdog) -> None:
    (request,) = await started(watchdog)
    request.answer(0)  # headers in
    for received in (100, 250, 251, 4000):
        await ticks(watchdog, TICKS_PER_LOOK)
        assert request.outcome is None
        request.answer(received)
    await ticks(watchdog, TICKS_PER_LOOK)  # the look after 4000 bytes sees 4000: fine
    assert request.outcome is None
    await ticks(watchdog, TICKS_PER_LOOK)  # nothing new since: stalled
    assert request.outcome == "timed out"


async def test_a_finished_request_is_forgotten(watchdog: Watchdog) -> None:
    (request,) = await started(watchdog)
    request.released.set()
    await asyncio.sleep(0)
    assert request.outcome == "done" and len(watchdog) == 0
    await ticks(watchdog, 2 * TICKS_PER_LOOK)
    assert request.outcome == "done"
    assert watchdog._timer is None  # nothing in flight: the timer stops ticking


async def test_a_cancellation_from_outside_is_not_taken_for_a_timeout(watchdog: Watchdog) -> None:
    (request,) = await started(watchdog)
    request.task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request.task
    assert request.outcome == "cancelled" and len(watchdog) == 0


async def test_outside_cancellation_racing_a_timeout_still_propagates(watchdog: Watchdog) -> None:
    (request,) = await started(watchdog)
    await ticks(watchdog, TICKS_PER_LOOK - 1)
    watchdog._check()  # the watchdog cancels the task...
    request.task.cancel()  # ...and so does its owner, before the task runs again
    with pytest.raises(asyncio.CancelledError):
        await request.task
    assert request.outcome == "cancelled"


async def test_requests_are_looked_at_from_their_own_start(watchdog: Watchdog) -> None:
    early, other = await started(watchdog, 2)
    await ticks(watchdog, 2)
    (late,) = await started(watchdog)
    await ticks(watchdog, TICKS_PER_LOOK - 2)
    assert early.outcome == other.outcome == "timed out"
    assert late.outcome is None  # two ticks younger
    await ticks(watchdog, 1)
    assert late.outcome is None
    await ticks(watchdog, 1)
    assert late.outcome == "timed out"


async def test_stamped_again_moves_behind_younger_requests(watchdog: Watchdog) -> None:
    (first,) = await started(watchdog)
    first.answer(0)
    await ticks(watchdog, 1)
    (younger,) = await started(watchdog)
    await ticks(watchdog, TICKS_PER_LOOK - 1)  # first progressed: stamped again
    assert first.outcome is None and younger.outcome is None
    await ticks(watchdog, 1)
    # Had first kept its place ahead of younger with its new, later stamp, this look would
    # have stopped at it and missed younger.
    assert younger.outcome == "timed out" and first.outcome is None
    await ticks(watchdog, TICKS_PER_LOOK - 1)
    assert first.outcome == "timed out"


async def test_close_stops_the_timer(watchdog: Watchdog) -> None:
    (request,) = await started(watchdog)
    assert watchdog._timer is not None
    watchdog.close()
    assert watchdog._timer is None
    request.released.set()
    await request.task


async def test_a_timeout_turned_into_another_error_is_withdrawn_too(watchdog: Watchdog) -> None:
    """A library under the watch may catch the cancellation and raise its own error."""

    async def request() -> None:
        task, _ = watchdog.start()
        try:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                raise ConnectionError("closed while reading") from None
        finally:
            watchdog.stop(task)

    task = asyncio.create_task(request())
    await asyncio.sleep(0)
    await ticks(watchdog, TICKS_PER_LOOK)
    with pytest.raises(ConnectionError):
        await task
    assert task.cancelling() == 0 and not watchdog._fired
