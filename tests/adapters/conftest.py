"""Fixtures every adapter's tests share: no real waiting, and a virtual clock."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import socialgate as sg


@pytest.fixture(autouse=True)
def no_real_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that would wait for real: only the FakeClock's zero-length yields pass."""
    real_sleep = asyncio.sleep

    async def guarded(delay: float, *args: Any, **kwargs: Any) -> Any:
        assert delay <= 0, f"a real asyncio.sleep({delay}) was attempted"
        return await real_sleep(0, *args, **kwargs)

    def guarded_sync(delay: float) -> None:
        raise AssertionError(f"a real time.sleep({delay}) was attempted")

    monkeypatch.setattr(asyncio, "sleep", guarded)
    monkeypatch.setattr(time, "sleep", guarded_sync)


@pytest.fixture
def fake_clock() -> sg.FakeClock:
    return sg.FakeClock()
