"""The sandbox framework: mounting, base URLs, the control endpoints, fault injection, counters,
the CLI, and one real server process on a loopback port driven through ``sg.Client``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import socialgate as sg
from socialgate import sandbox
from socialgate.sandbox import ConnectionDropped, FaultConfig, create_app
from socialgate.sandbox.cli import build_parser, main

from .conftest import USER, x_client

ROOT = Path(__file__).resolve().parents[2]


def control(app: sandbox.SandboxApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox")


def test_base_urls() -> None:
    assert sandbox.base_urls("http://127.0.0.1:8765/") == {
        name: f"http://127.0.0.1:8765/{name}" for name in sandbox.DEFAULT_NETWORKS
    }
    assert "x" in sandbox.DEFAULT_NETWORKS
    assert sandbox.base_urls("http://h", ["x", "mastodon"])["mastodon"] == "http://h/mastodon"


def test_importing_the_sandbox_loads_no_adapter() -> None:
    code = (
        "import sys, socialgate.sandbox as s; s.base_urls('http://h'); "
        "bad = [m for m in sys.modules if m.startswith('socialgate.adapters')]; "
        "sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_create_app_finds_emulators_by_network_name() -> None:
    app = create_app(["twitter"], posts=10, clock=sg.FakeClock())
    assert app.networks == ["x"]
    with pytest.raises(sg.NotSupported):
        create_app(["myspace"])


async def test_health_and_unknown_paths(app: sandbox.SandboxApp) -> None:
    async with control(app) as c:
        health = (await c.get("/_sandbox/health")).json()
        assert health["status"] == "ok"
        assert health["networks"] == {name: f"/{name}" for name in sandbox.DEFAULT_NETWORKS}
        assert (await c.get("/nowhere")).status_code == 404
        missing = await c.get("/x/2/nothing", headers=USER)
        assert missing.status_code == 404 and missing.json()["title"] == "Not Found Error"


async def test_faults_through_the_control_endpoint(app: sandbox.SandboxApp) -> None:
    async with control(app) as c, x_client(app) as x:
        set_ = await c.post("/_sandbox/faults", json={"error_rate": 1, "error_status": 502})
        assert set_.json()["error_rate"] == 1.0
        failed = await x.get("/2/users/me")
        assert failed.status_code == 502
        assert failed.json() == {
            "title": "Bad Gateway",
            "detail": "Bad Gateway",
            "type": "about:blank",
            "status": 502,
        }
        assert failed.headers["x-rate-limit-remaining"] == "74"
        bad = await c.post("/_sandbox/faults", json={"error_rate": 2})
        assert bad.status_code == 400 and "between 0 and 1" in bad.text
        assert (await c.delete("/_sandbox/faults")).json() == FaultConfig().as_dict()
        assert (await x.get("/2/users/me")).status_code == 200


async def test_storm_latency_malformed_and_drops(clock: sg.FakeClock) -> None:
    app = create_app(posts=200, clock=clock, faults={"rate_limit_storm": 1, "latency_ms": 250})
    async with x_client(app) as x:
        started = clock.time()
        storm = await x.get("/2/users/me")
        assert storm.status_code == 429 and storm.json()["title"] == "Too Many Requests"
        assert storm.headers["x-rate-limit-remaining"] == "75"  # 429 without spending budget
        assert clock.time() - started == pytest.approx(0.25)
        app.faults.configure({"rate_limit_storm": 0, "latency_ms": 0, "malformed_rate": 1})
        broken = await x.get("/2/users/me")
        assert broken.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            broken.json()
        app.faults.configure({"malformed_rate": 0, "drop_rate": 1})
        with pytest.raises(httpx.RemoteProtocolError) as dropped:
            await x.post("/2/tweets", json={"text": "never arrives"})
        assert isinstance(dropped.value, ConnectionDropped)
    stats = app.stats.snapshot()["networks"]["x"]
    assert stats["writes_applied"] == 0 and stats["rate_limited"] == 1
    assert stats["faults"] == {"drop": 1, "latency": 1, "malformed": 1, "rate_limit_storm": 1}


@pytest.mark.parametrize("mode", ["504", "drop"])
async def test_lost_response_applies_the_write(clock: sg.FakeClock, mode: str) -> None:
    app = create_app(posts=200, clock=clock)
    async with x_client(app) as x:
        app.faults.configure({"lost_response_rate": 1, "lost_response_mode": mode})
        assert (await x.get("/2/users/me")).status_code == 200  # reads are not affected
        if mode == "504":
            lost = await x.post("/2/tweets", json={"text": "did it happen?"})
            assert lost.status_code == 504 and lost.headers["content-type"] == "text/html"
        else:
            with pytest.raises(httpx.RemoteProtocolError):
                await x.post("/2/tweets", json={"text": "did it happen?"})
        app.faults.reset()
        retry = await x.post("/2/tweets", json={"text": "did it happen?"})
        assert retry.status_code == 403 and "duplicate" in retry.text
    assert app.stats.snapshot()["networks"]["x"]["writes"] == {"posts.create": 1}


async def test_fault_draws_are_deterministic(clock: sg.FakeClock) -> None:
    async def statuses() -> list[int]:
        app = create_app(posts=50, clock=clock, seed=7, faults={"error_rate": 0.5})
        async with x_client(app) as x:
            return [(await x.get("/2/users/me")).status_code for _ in range(20)]

    first = await statuses()
    assert first == await statuses() and {200, 503} == set(first)


async def test_stats_count_requests_429s_and_writes(app: sandbox.SandboxApp) -> None:
    async with control(app) as c, x_client(app) as x:
        for _ in range(76):
            await x.get("/2/users/me")
        created = await x.post("/2/tweets", json={"text": "counted"})
        await x.delete(f"/2/tweets/{created.json()['data']['id']}")
        stats = (await c.get("/_sandbox/stats")).json()
        x_stats = stats["networks"]["x"]
        assert x_stats["requests"] == 78 and x_stats["rate_limited"] == 1
        assert x_stats["writes_applied"] == 2
        assert x_stats["statuses"] == {"200": 76, "201": 1, "429": 1}
        assert stats["total"] == {"requests": 78, "rate_limited": 1, "writes_applied": 2}
        zeroed = (await c.delete("/_sandbox/stats")).json()["networks"]["x"]
        assert zeroed["requests"] == zeroed["writes_applied"] == 0 and zeroed["statuses"] == {}


def test_cli_flags() -> None:
    args = build_parser().parse_args(
        [
            "--port",
            "9000",
            "--time-scale",
            "60",
            "--seed",
            "3",
            "--posts",
            "500",
            "--drop-rate",
            "0.1",
            "--lost-response-mode",
            "drop",
        ]
    )
    assert (args.port, args.time_scale, args.seed, args.posts) == (9000, 60.0, 3, 500)
    assert (args.drop_rate, args.lost_response_mode) == (0.1, "drop")
    assert main(["bogus"]) == 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server() -> Iterator[str]:
    """``socialgate sandbox serve`` in a child process, through the package's CLI entry."""
    port = _free_port()
    cmd = [
        sys.executable,
        "-m",
        "socialgate",
        "sandbox",
        "serve",
        "--port",
        str(port),
        "--posts",
        "500",
        "--time-scale",
        "60",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{root}/_sandbox/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                _, err = proc.communicate(timeout=5)
                pytest.fail(f"the sandbox server did not start: {err.decode()[-2000:]}")
            time.sleep(0.1)
        yield root
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


async def test_real_server_through_sg_client(server: str) -> None:
    # Our own transport, closed below: RateLimitTransport has no aclose() yet, so the client's
    # default pool would leak its socket (a ResourceWarning, an error under this suite).
    transport = httpx.AsyncHTTPTransport()
    async with sg.Client(base_urls=sandbox.base_urls(server), transport=transport,
                         token_store=sg.MemoryTokenStore()) as client:  # fmt: skip
        acct = client.account("x", sg.BearerToken("sandbox-app-server-test"))
        profile = await acct.profiles.get("sandbox_demo")
        assert profile.handle == "sandbox_demo" and profile.followers_count
        posts = [p async for p in acct.posts.list(profile.id, limit=12)]
        assert len(posts) == 12 and all(p.author_id == profile.id for p in posts)
        info = acct.rate_limits["tweets.timeline"]
        assert info.limit == 10_000 and info.reset_at is not None
        assert info.reset_at - time.time() <= 16  # 900 s / time-scale 60, rounded up
    await transport.aclose()
    async with httpx.AsyncClient() as plain:
        stats = (await plain.get(f"{server}/_sandbox/stats")).json()["networks"]["x"]
    assert stats["requests"] == 2 and stats["rate_limited"] == 0
