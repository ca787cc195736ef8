"""Fixtures for the sandbox tests: an in-process sandbox on a fake clock, and an httpx client
speaking to its X emulator through ``httpx.ASGITransport``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

import socialgate as sg
from socialgate.sandbox import SandboxApp, create_app

USER = {"Authorization": "Bearer sandbox-user-demo"}
APP = {"Authorization": "Bearer sandbox-app-tests"}
SMALL = 2_000


def x_client(app: SandboxApp, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://sandbox/x",
        headers=headers if headers is not None else USER,
    )


@pytest.fixture
def app(clock: sg.FakeClock) -> SandboxApp:
    return create_app(posts=SMALL, clock=clock, seed=1)


@pytest.fixture
async def x(app: SandboxApp) -> AsyncIterator[httpx.AsyncClient]:
    async with x_client(app) as client:
        yield client


@pytest.fixture
async def demo_id(x: httpx.AsyncClient) -> str:
    response = await x.get("/2/users/me")
    return str(response.json()["data"]["id"])
