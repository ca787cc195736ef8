"""Rate-limit utilization: how close clients get to a fixed window's ceiling, and 429s provoked.

A benchmark, not a test: it prints figures and never fails on a timing.

One local server process (``bench/_server.py window``) allows ``--limit`` requests per
``--window`` seconds per credential (100 per 10 s by default; ceiling = limit / window) on
``GET /2/tweets/{id}`` (X's ``x-rate-limit-*`` headers, integer epoch reset) and
``GET /api/v1/statuses/{id}`` (Mastodon's ``X-RateLimit-*``, ISO 8601 reset). A window opens
at the first request after the previous one closed, at that request's whole second, so the
reset headers are exact; over the limit it answers 429 and counts it. Each run makes
``--requests`` requests (400) with a fresh credential, so runs never share a window:

- socialgate ``acct.posts.get(id)`` with 1, 10 and 100 in flight, (a) with a static limit that
  matches the server (a bench copy of the X adapter whose ``tweets.lookup`` bucket is
  ``BucketSpec(window, app_limit=limit, user_limit=limit)``) and (b) learning the budget from
  headers only (``BucketSpec(window)``, no static limit);
- tweepy ``AsyncClient(wait_on_rate_limit=True)`` with 10 in flight;
- Mastodon.py ``ratelimit_method="wait"`` and ``"pace"`` (synchronous: one in flight).

Run: ``.venv/bin/python bench/utilization.py [--quick] [--limit N --window S --requests N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib.metadata
import importlib.util
import logging
import math
import os
import platform
import secrets
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import socialgate as sg
from socialgate._spec import BucketSpec
from socialgate.adapters.x import XAdapter
from socialgate.adapters.x.spec import SPEC

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _server import ServerProcess, TweepyRedirect

TWEET_ID = "1293593516040269825"
STATUS_ID = "117020583223442465"
SHARE_TARGET = 0.97
STATIC_NETWORK = "xbench"
HEADERS_NETWORK = "xbench-headers"
ALL_CLIENTS = ("sg-static", "sg-headers", "tweepy", "mastodon-wait", "mastodon-pace")


# --- the clients ----------------------------------------------------------------------------


def register_bench_adapters(window: int, limit: int) -> None:
    """Two copies of the X adapter: ``xbench`` knows the server's limit, ``xbench-headers``
    only the window length, so its budget comes from the answers' headers."""
    for name, bucket in (
        (STATIC_NETWORK, BucketSpec(float(window), app_limit=limit, user_limit=limit)),
        (HEADERS_NETWORK, BucketSpec(float(window))),
    ):
        spec = dataclasses.replace(
            SPEC, name=name, aliases=(), buckets={**SPEC.buckets, "tweets.lookup": bucket}
        )
        sg.register_adapter(type(f"XBench_{name.replace('-', '_')}", (XAdapter,), {"spec": spec}))


@dataclass
class Run:
    """One client's run: what it asked for, what happened, and the server's view of it."""

    client: str
    label: str
    in_flight: int
    requests: int
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    first_sent: float = 0.0
    last_done: float = 0.0
    stalled: bool = False
    rejected: int = 0
    served: int = 0
    windows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def elapsed(self) -> float:
        return max(self.last_done - self.first_sent, 1e-9)


Call = Callable[[], Awaitable[Any]]


async def drive(run: Run, call: Call, stall_after: float) -> None:
    """``run.requests`` calls, ``run.in_flight`` at a time; a failed call counts as done."""
    left = run.requests

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            try:
                await call()
            except Exception as exc:  # a failed call is reported, not retried here
                run.errors[type(exc).__name__] += 1
            else:
                run.ok += 1
            run.last_done = time.time()

    run.first_sent = time.time()
    try:
        async with asyncio.timeout(stall_after):
            await asyncio.gather(*(worker() for _ in range(run.in_flight)))
    except TimeoutError:
        run.stalled = True


async def run_socialgate(
    server: ServerProcess, run: Run, network: str, token: str, stall_after: float
) -> None:
    async with sg.Client(
        base_urls={network: server.base_url}, token_store=sg.MemoryTokenStore()
    ) as client:
        account = client.account(network, sg.BearerToken(token))
        await drive(run, lambda: account.posts.get(TWEET_ID), stall_after)


async def run_tweepy(server: ServerProcess, run: Run, token: str, stall_after: float) -> None:
    import aiohttp
    import tweepy.asynchronous

    # tweepy logs "Rate limit exceeded. Sleeping for N seconds." on every 429 it waits out.
    logging.getLogger("tweepy").setLevel(logging.ERROR)
    client = tweepy.asynchronous.AsyncClient(bearer_token=token, wait_on_rate_limit=True)
    client.session = TweepyRedirect(aiohttp.ClientSession(), server.base_url)
    try:
        await drive(run, lambda: client.get_tweet(TWEET_ID), stall_after)
    finally:
        await client.session.close()


def run_mastodon(
    server: ServerProcess, run: Run, token: str, method: str, stall_after: float
) -> None:
    """Mastodon.py is synchronous (requests): one call after another, in a worker thread."""
    from mastodon import Mastodon

    api = Mastodon(
        access_token=token,
        api_base_url=server.base_url,
        ratelimit_method=method,
        version_check_mode="none",
    )
    deadline = time.monotonic() + stall_after
    run.first_sent = time.time()
    for _ in range(run.requests):
        if time.monotonic() > deadline:
            run.stalled = True
            break
        try:
            api.status(STATUS_ID)
        except Exception as exc:  # a failed call is reported, not retried here
            run.errors[type(exc).__name__] += 1
        else:
            run.ok += 1
        run.last_done = time.time()


# --- one run at a time ----------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    client: str
    label: str
    in_flight: int


def make_plan(clients: list[str], concurrency: list[int], tweepy_in_flight: int) -> list[Plan]:
    plans = []
    for client in clients:
        if client in ("sg-static", "sg-headers"):
            what = "static limit" if client == "sg-static" else "headers only"
            plans.extend(Plan(client, f"socialgate, {what}", c) for c in concurrency)
        elif client == "tweepy":
            plans.append(Plan(client, "tweepy wait_on_rate_limit=True", tweepy_in_flight))
        elif client == "mastodon-wait":
            plans.append(Plan(client, 'Mastodon.py ratelimit_method="wait"', 1))
        elif client == "mastodon-pace":
            plans.append(Plan(client, 'Mastodon.py ratelimit_method="pace"', 1))
    return plans


def available(client: str) -> str | None:
    """Why ``client`` cannot run here, or ``None``."""
    if client == "tweepy":
        for module in ("tweepy", "aiohttp"):
            if importlib.util.find_spec(module) is None:
                return "tweepy[async] is not installed"
    if client.startswith("mastodon") and importlib.util.find_spec("mastodon") is None:
        return "Mastodon.py is not installed"
    return None


async def _next_second() -> None:
    """Start just after a whole second, so the first window is (nearly) a full window."""
    now = time.time()
    await asyncio.sleep(math.ceil(now) - now + 0.02)


async def execute(server: ServerProcess, plan: Plan, n: int, stall_after: float) -> Run:
    run = Run(plan.client, plan.label, plan.in_flight, n)
    token = f"bench-{plan.client}-{plan.in_flight}-{secrets.token_hex(6)}"
    await _next_second()
    if plan.client == "sg-static":
        await run_socialgate(server, run, STATIC_NETWORK, token, stall_after)
    elif plan.client == "sg-headers":
        await run_socialgate(server, run, HEADERS_NETWORK, token, stall_after)
    elif plan.client == "tweepy":
        await run_tweepy(server, run, token, stall_after)
    else:
        method = plan.client.split("-", 1)[1]
        await asyncio.to_thread(run_mastodon, server, run, token, method, stall_after)
    stats = server.get_json("/_stats", key=f"Bearer {token}")["keys"][f"Bearer {token}"]
    run.served, run.rejected, run.windows = stats["ok"], stats["rejected"], stats["windows"]
    return run


# --- figures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    achieved: float  # successful requests per second, first request to last response
    share: float  # achieved / ceiling (the "share of ceiling")
    ideal: float  # seconds a perfect client needs from its first request
    utilization: float  # ideal / actual elapsed
    gaps: list[float]  # per window after the first: its first request minus the previous reset


def figures(run: Run, limit: int, window: int) -> Figures:
    ceiling = limit / window
    achieved = run.ok / run.elapsed
    windows_needed = math.ceil(run.requests / limit)
    first_start = run.windows[0]["start"] if run.windows else run.first_sent
    # A perfect client spends its first window's budget at once and the next ones the moment
    # they open: it is done when window number ``windows_needed`` opens (plus a round trip).
    ideal = max(first_start + (windows_needed - 1) * window - run.first_sent, 0.0)
    utilization = ideal / run.elapsed if ideal > 0 else 1.0
    gaps = [
        later["first_at"] - earlier["reset"]
        for earlier, later in zip(run.windows, run.windows[1:], strict=False)
    ]
    return Figures(achieved, achieved / ceiling, ideal, utilization, gaps)


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def header(server: ServerProcess, args: argparse.Namespace) -> None:
    print("socialgate rate-limit utilization bench")
    print(
        f"python {platform.python_version()} | socialgate {sg.__version__} | "
        f"tweepy {_version('tweepy')} | Mastodon.py {_version('Mastodon.py')} | "
        f"aiohttp {_version('aiohttp')} | httpx {_version('httpx')}"
    )
    print(
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs | server: one uvicorn "
        f"process (loop={server.loop}, http={server.http}) on {server.base_url}"
    )
    print(
        "load average before the run: "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
        + " (other processes on the machine add noise)"
    )
    ceiling = args.limit / args.window
    windows = math.ceil(args.requests / args.limit)
    ideal = (windows - 1) * args.window
    print(
        f"fixed window: {args.limit} requests per {args.window} s per credential (ceiling "
        f"{ceiling:g}/s); {args.requests} requests per run, fresh credential per run"
    )
    print(
        f"a perfect client needs {windows} windows: about {ideal} s from its first request, "
        f"{args.requests / ideal:.1f}/s = {args.requests / ideal / ceiling:.0%} of the ceiling"
        if ideal > 0
        else f"a perfect client fits all {args.requests} requests in one window"
    )


def _row(run: Run, fig: Figures) -> str:
    errors = ", ".join(f"{k} x{v}" for k, v in sorted(run.errors.items())) or "-"
    if run.stalled:
        errors = f"STALLED ({run.ok} done); {errors}"
    return (
        f"  {run.label:<36} {run.in_flight:>9} {fig.achieved:10.2f} {fig.share:9.0%} "
        f"{fig.utilization:12.1%} {run.rejected:6d} {run.elapsed:9.2f} {fig.ideal:8.2f}  {errors}"
    )


def _windows_line(run: Run, fig: Figures) -> str:
    parts = []
    for i, w in enumerate(run.windows):
        text = f"{w['ok']}"
        if w["rejected"]:
            text += f"+{w['rejected']}x429"
        if i:
            text += f" ({fig.gaps[i - 1]:+.2f}s)"
        parts.append(text)
    return f"    {run.label}, {run.in_flight} in flight: " + ", ".join(parts)


def report(runs: list[Run], args: argparse.Namespace) -> None:
    print()
    print(
        f"  {'client':<36} {'in flight':>9} {'achieved/s':>10} {'share':>9} "
        f"{'utilization':>12} {'429s':>6} {'elapsed s':>9} {'ideal s':>8}  errors"
    )
    figs = [figures(run, args.limit, args.window) for run in runs]
    for run, fig in zip(runs, figs, strict=True):
        print(_row(run, fig))
    print()
    print("  share = achieved/s / ceiling (the issue's column); utilization = ideal s / elapsed s")
    print("  elapsed: first request sent -> last response; 429s: counted by the server")
    print()
    print(
        "  served per window, with (in brackets) how long after the previous window's reset the "
        "first request of each later window arrived:"
    )
    for run, fig in zip(runs, figs, strict=True):
        print(_windows_line(run, fig))
    print()
    for run, fig in zip(runs, figs, strict=True):
        if not run.client.startswith("sg"):
            continue
        met = fig.share >= SHARE_TARGET and run.rejected == 0 and not run.errors and not run.stalled
        print(
            f"{run.label}, {run.in_flight} in flight: share {fig.share:.0%}, "
            f"utilization {fig.utilization:.1%}, {run.rejected} 429s "
            f"(target: share >= {SHARE_TARGET:.0%} and 0 429s) {'met' if met else 'MISSED'}"
        )


async def main_async(args: argparse.Namespace, clients: list[str]) -> list[Run]:
    register_bench_adapters(args.window, args.limit)
    plans = make_plan(clients, args.concurrency, args.tweepy_in_flight)
    windows = math.ceil(args.requests / args.limit)
    # Generous: a client that loses a whole window on every reset still finishes in time.
    stall_after = 3.0 * windows * args.window + 30.0
    runs = []
    with ServerProcess("window", "--limit", str(args.limit), "--window", str(args.window)) as s:
        header(s, args)
        started = time.perf_counter()
        for plan in plans:
            run = await execute(s, plan, args.requests, stall_after)
            print(
                f"  ran {plan.label}, {plan.in_flight} in flight: {run.elapsed:.1f} s, "
                f"{run.rejected} 429s",
                flush=True,
            )
            runs.append(run)
        total = time.perf_counter() - started
    report(runs, args)
    print()
    print(f"finished in {total:.1f} s")
    return runs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="requests per window (100)")
    parser.add_argument("--window", type=int, default=None, help="window in whole seconds (10)")
    parser.add_argument("--requests", type=int, default=None, help="requests per run (400)")
    parser.add_argument(
        "--quick", action="store_true", help="50 per 5 s and 200 requests: a fast look"
    )
    parser.add_argument(
        "--concurrency", default="1,10,100", help="socialgate's in-flight levels, comma-separated"
    )
    parser.add_argument("--tweepy-in-flight", type=int, default=10)
    parser.add_argument(
        "--clients",
        default=",".join(ALL_CLIENTS),
        help=f"comma-separated subset of {', '.join(ALL_CLIENTS)}",
    )
    args = parser.parse_args(argv)
    quick = {"limit": 50, "window": 5, "requests": 200}
    full = {"limit": 100, "window": 10, "requests": 400}
    for name, value in (quick if args.quick else full).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    clients = []
    for client in args.clients.split(","):
        if client not in ALL_CLIENTS:
            parser.error(f"unknown client {client!r}; choose from {', '.join(ALL_CLIENTS)}")
        why = available(client)
        if why is not None:
            print(f"note: {client} left out: {why}")
        else:
            clients.append(client)
    asyncio.run(main_async(args, clients))


if __name__ == "__main__":
    main()
