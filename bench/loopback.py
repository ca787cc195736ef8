"""Per-request cost against one real local server: socialgate vs tweepy, aiohttp and httpx.

A benchmark, not a test: it prints figures and never fails on a timing.

One uvicorn process (one worker; uvloop and httptools when installed) on 127.0.0.1 answers
``GET /2/tweets/{id}`` with the recorded ``tests/fixtures/x/tweepy_get_tweet.json`` body, X's
response headers and a rate-limit budget that never runs out (``bench/_server.py``). In this
process, on the default asyncio event loop, these clients fetch that tweet:

- raw aiohttp: ``ClientSession.get(url)`` + ``.json()`` (what tweepy's AsyncClient is built on);
- tweepy ``AsyncClient.get_tweet`` with the same fields and expansions socialgate asks for, its
  ``api.twitter.com`` URLs redirected to the local server (see ``TweepyRedirect``);
- raw httpx: ``AsyncClient.get(url)`` + ``.json()`` with the default transport;
- socialgate ``acct.posts.get(id)`` with default settings (bearer token, budgets, retries
  armed, the answer parsed into an ``sg.Post``), and once more for each alternative transport
  socialgate exports (``sg.AiohttpTransport`` and the like), passed as ``transport=``.

Sequential, 10 and 100 in flight; a warm-up, then ``--repeats`` samples of ``--requests``
requests per client and mode, clients interleaved, median reported.

Run: ``.venv/bin/python bench/loopback.py [--requests N] [--repeats N] [--profile]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.metadata
import importlib.util
import inspect
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

import socialgate as sg
from socialgate.adapters.x.adapter import MEDIA_FIELDS, POST_EXPANSIONS, TWEET_FIELDS, USER_FIELDS

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _server import ServerProcess, TweepyRedirect

TWEET_ID = "1293593516040269825"
# A made-up token: the server never checks it.
BEARER = "AAAAAAAAAAAAAAAAAAAAAbench0loopback0not0a0real0token"
MODES = (1, 10, 100)
RATIO_TARGET = 1.0
# A sample that takes longer than this has stalled.
STALL_SECONDS = 120.0

Call = Callable[[], Awaitable[Any]]


# --- the clients ----------------------------------------------------------------------------


class Bench:
    """One client under test: ``open`` (inside the loop), ``call`` once per request, ``close``."""

    name = ""
    label = ""

    async def open(self, base_url: str, target: str) -> None:
        raise NotImplementedError

    async def call(self) -> Any:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class RawAiohttp(Bench):
    name = "aiohttp"
    label = "raw aiohttp get(url) + .json()"

    async def open(self, base_url: str, target: str) -> None:
        import aiohttp

        self.session = aiohttp.ClientSession()
        self.url = base_url + target
        self.headers = {"Authorization": f"Bearer {BEARER}"}

    async def call(self) -> Any:
        async with self.session.get(self.url, headers=self.headers) as response:
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")
            return await response.json()

    async def close(self) -> None:
        await self.session.close()


class Tweepy(Bench):
    name = "tweepy"
    label = "tweepy AsyncClient.get_tweet"

    async def open(self, base_url: str, target: str) -> None:
        import aiohttp
        import tweepy.asynchronous

        self.client = tweepy.asynchronous.AsyncClient(bearer_token=BEARER)
        self.client.session = TweepyRedirect(aiohttp.ClientSession(), base_url)
        self.fields = {
            "expansions": POST_EXPANSIONS.split(","),
            "tweet_fields": TWEET_FIELDS.split(","),
            "user_fields": USER_FIELDS.split(","),
            "media_fields": MEDIA_FIELDS.split(","),
        }

    async def call(self) -> Any:
        return await self.client.get_tweet(TWEET_ID, **self.fields)

    async def close(self) -> None:
        await self.client.session.close()


class RawHttpx(Bench):
    name = "httpx"
    label = "raw httpx get(url) + .json()"

    async def open(self, base_url: str, target: str) -> None:
        self.client = httpx.AsyncClient(headers={"Authorization": f"Bearer {BEARER}"})
        self.url = base_url + target

    async def call(self) -> Any:
        response = await self.client.get(self.url)
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}")
        return response.json()

    async def close(self) -> None:
        await self.client.aclose()


class Socialgate(Bench):
    """``acct.posts.get(id)``; ``transport`` names the inner transport passed as ``transport=``
    (``None``: the client's default)."""

    def __init__(
        self,
        transport: str | None = None,
        make_transport: Callable[[], httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        self.make_transport = make_transport
        self.name = "sg" if transport is None else f"sg+{transport}"
        self.label = "socialgate acct.posts.get(id)"
        if transport is not None:
            self.label = f"socialgate, transport={transport}()"

    async def open(self, base_url: str, target: str) -> None:
        kwargs: dict[str, Any] = {}
        if self.make_transport is not None:
            kwargs["transport"] = self.make_transport()
        self.client = sg.Client(
            base_urls={"x": base_url}, token_store=sg.MemoryTokenStore(), **kwargs
        )
        await self.client.__aenter__()
        self.account = self.client.account("x", sg.BearerToken(BEARER))

    async def call(self) -> sg.Post:
        return await self.account.posts.get(TWEET_ID)

    async def close(self) -> None:
        await self.client.aclose()


def httpx_transport() -> httpx.AsyncBaseTransport:
    """httpx's own transport with the limits socialgate gives it when it is the default."""
    return httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20)
    )


async def default_transport_name() -> str:
    """The class of the inner transport a default ``sg.Client`` sends through (read from its
    private attributes, so ``?`` when they change)."""
    async with sg.Client(token_store=sg.MemoryTokenStore()) as client:
        outer = getattr(client.http, "_transport", None)
        inner = getattr(outer, "_inner", outer)
        return type(inner).__name__ if inner is not None else "?"


def alternative_transports() -> list[str]:
    """Names of the httpx transports socialgate exports (``sg.AiohttpTransport``, ...)."""
    names = []
    for name in sorted(dir(sg)):
        obj = getattr(sg, name)
        if inspect.isclass(obj) and issubclass(obj, httpx.AsyncBaseTransport):
            names.append(name)
    if getattr(sg, "AiohttpTransport", None) is not None and "AiohttpTransport" not in names:
        names.append("AiohttpTransport")
    return names


def make_benches(selected: set[str] | None, default: str) -> tuple[list[Bench], list[str]]:
    """The clients to run, and notes on the ones left out; ``default`` names the inner
    transport of a default ``sg.Client``."""
    benches: list[Bench] = []
    notes: list[str] = []
    have_aiohttp = importlib.util.find_spec("aiohttp") is not None
    have_tweepy = importlib.util.find_spec("tweepy") is not None
    candidates: list[tuple[Bench, str | None]] = [
        (RawAiohttp(), None if have_aiohttp else "aiohttp is not installed"),
        (Tweepy(), None if have_tweepy and have_aiohttp else "tweepy[async] is not installed"),
        (RawHttpx(), None),
        (Socialgate(), None),
    ]
    for transport in alternative_transports():
        if transport == default:
            continue  # the plain "sg" row already measures it
        factory = getattr(sg, transport)
        try:
            factory()
        except Exception as exc:  # report any reason it cannot be built
            candidates.append((Socialgate(transport, factory), f"sg.{transport}() failed: {exc!r}"))
        else:
            candidates.append((Socialgate(transport, factory), None))
    if default != "AsyncHTTPTransport":
        candidates.append((Socialgate("httpx.AsyncHTTPTransport", httpx_transport), None))
    for bench, missing in candidates:
        if selected is not None and bench.name not in selected:
            continue
        if missing is not None:
            notes.append(f"{bench.name} left out: {missing}")
        else:
            benches.append(bench)
    return benches, notes


# --- timing ---------------------------------------------------------------------------------


async def run_calls(call: Call, n: int, width: int) -> float:
    """Seconds for ``n`` calls, one after another (width 1) or ``width`` at a time."""
    if width == 1:
        start = time.perf_counter()
        for _ in range(n):
            await call()
        return time.perf_counter() - start
    left = n

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await call()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(width)))
    return time.perf_counter() - start


class Runner:
    def __init__(self, server: ServerProcess, benches: list[Bench]) -> None:
        self.server = server
        self.benches = benches
        self.notes: list[str] = []
        # This process's CPU seconds per request, per (client, width): unlike the wall-clock
        # rate, it hardly moves when other processes take turns on the client's core.
        self.cpu: dict[tuple[str, int], list[float]] = {}

    async def timed(self, bench: Bench, n: int, width: int, record: bool = True) -> float:
        before = self.server.get_json("/_stats")["requests"]
        cpu_before = time.process_time()
        async with asyncio.timeout(STALL_SECONDS):
            elapsed = await run_calls(bench.call, n, width)
        if record:
            cpu = (time.process_time() - cpu_before) / n
            self.cpu.setdefault((bench.name, width), []).append(cpu)
        sent = self.server.get_json("/_stats")["requests"] - before
        if sent != n:
            self.notes.append(f"{bench.name}, {width} in flight: {n} calls sent {sent} requests")
        return elapsed


async def open_all(server: ServerProcess, benches: list[Bench]) -> str:
    """Open every client. A throwaway socialgate client first asks once, so that the raw
    clients can ask for exactly the URL (path and query string) socialgate sends."""
    probe = Socialgate()
    await probe.open(server.base_url, "")
    try:
        await probe.call()
    finally:
        await probe.close()
    target: str = server.get_json("/_stats")["last_target"]
    for bench in benches:
        await bench.open(server.base_url, target)
    return target


async def measure(
    server: ServerProcess,
    benches: list[Bench],
    modes: tuple[int, ...],
    n: int,
    repeats: int,
    warmup: int,
) -> tuple[dict[tuple[str, int], list[float]], dict[tuple[str, int], list[float]], list[str], str]:
    rates: dict[tuple[str, int], list[float]] = {}
    runner = Runner(server, benches)
    target = await open_all(server, benches)
    try:
        for width in modes:
            for bench in benches:
                await runner.timed(bench, warmup, width, record=False)
        for rep in range(repeats):
            for m, width in enumerate(modes):
                # Rotate who goes first so drift (thermal, noisy neighbours) hits everyone.
                shift = (rep + m) % len(benches)
                for bench in benches[shift:] + benches[:shift]:
                    gc.collect()
                    elapsed = await runner.timed(bench, n, width)
                    rates.setdefault((bench.name, width), []).append(n / elapsed)
        for bench in benches:
            if bench.name.startswith("sg"):
                post = await bench.call()
                if post.id != TWEET_ID or not post.text:
                    runner.notes.append(f"{bench.name} returned an unexpected post: {post!r}")
    finally:
        for bench in benches:
            await bench.close()
    return rates, runner.cpu, runner.notes, target


# --- profile --------------------------------------------------------------------------------


async def profile(server: ServerProcess, name: str, n: int, width: int, warmup: int) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("--profile needs pyinstrument: .venv/bin/pip install pyinstrument")
        return
    benches, _ = make_benches({"sg", name}, await default_transport_name())
    bench = next((b for b in benches if b.name == name), None)
    if bench is None:
        print(f"no client named {name!r}; names: sg, sg+<Transport>, aiohttp, tweepy, httpx")
        return
    await open_all(server, benches)
    try:
        await run_calls(bench.call, warmup, width)
        profiler = Profiler(interval=0.001, async_mode="enabled")
        profiler.start()
        elapsed = await run_calls(bench.call, n, width)
        profiler.stop()
    finally:
        for b in benches:
            await b.close()
    print(
        f"pyinstrument, {bench.label}, {n} requests, {width} in flight: "
        f"{n / elapsed:,.0f} req/s while profiled"
    )
    print(profiler.output_text(unicode=False, color=False, show_all=False))


# --- output ---------------------------------------------------------------------------------


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def header(server: ServerProcess, transports: list[str], default: str) -> None:
    print("socialgate loopback bench")
    print(
        f"python {platform.python_version()} | socialgate {sg.__version__} | "
        f"aiohttp {_version('aiohttp')} | tweepy {_version('tweepy')} | "
        f"httpx {_version('httpx')} | httpcore {_version('httpcore')} | "
        f"sniffio {_version('sniffio')} | pydantic {_version('pydantic')}"
    )
    print(
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs | clients: one "
        f"process, asyncio event loop | server: one uvicorn {_version('uvicorn')} process "
        f"(1 worker, loop={server.loop}, http={server.http}) on {server.base_url}"
    )
    print(
        "load average before the run: "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
        + " (other processes on the machine add noise)"
    )
    found = ", ".join(f"sg.{t}" for t in transports) or "none"
    print(f"socialgate's default inner transport: {default}; transports it exports: {found}")


def report(
    benches: list[Bench],
    rates: dict[tuple[str, int], list[float]],
    cpu: dict[tuple[str, int], list[float]],
    modes: tuple[int, ...],
    n: int,
    repeats: int,
    warmup: int,
    target: str,
) -> list[tuple[str, str, float]]:
    """Print the table; return (mode, socialgate client, ratio to tweepy) for the summary."""
    print()
    print(f"GET {target[:60]}... ({len(target)} chars; same URL for every client)")
    print(
        f"{n} requests per sample, {repeats} samples, {warmup} warm-up per client and mode, "
        "clients interleaved; median req/s [best]"
    )
    names = [b.name for b in benches]
    labels = {b.name: b.label for b in benches}
    width_label = max(len(label) for label in labels.values())
    ratios: list[tuple[str, str, float]] = []
    print(
        f"  {'mode':<14} {'client':<{width_label}} {'req/s':>8} {'[best]':>9} {'us/req':>8} "
        f"{'cpu us':>7}  ratio"
    )
    for width in modes:
        mode_name = "sequential" if width == 1 else f"{width} in flight"
        mode = mode_name
        tweepy = statistics.median(rates[("tweepy", width)]) if "tweepy" in names else None
        tweepy_cpu = statistics.median(cpu[("tweepy", width)]) if "tweepy" in names else None
        for name in names:
            samples = rates[(name, width)]
            med = statistics.median(samples)
            cpu_med = statistics.median(cpu[(name, width)])
            ratio = ""
            if tweepy is not None and tweepy_cpu is not None and name != "tweepy":
                # Paired: each round's samples ran one after the other, so a round's ratio
                # is what drift on a shared machine moves least; the median of those.
                paired = statistics.median(
                    ours / theirs
                    for ours, theirs in zip(samples, rates[("tweepy", width)], strict=True)
                )
                paired_cpu = statistics.median(
                    theirs / ours
                    for ours, theirs in zip(cpu[(name, width)], cpu[("tweepy", width)], strict=True)
                )
                ratio = (
                    f"{med / tweepy:5.2f}x tweepy ({tweepy_cpu / cpu_med:4.2f}x by cpu; "
                    f"paired {paired:4.2f}x, by cpu {paired_cpu:4.2f}x)"
                )
                if name.startswith("sg"):
                    ratios.append((mode_name, name, paired))
            print(
                f"  {mode:<14} {labels[name]:<{width_label}} {med:8,.0f} "
                f"{'[' + f'{max(samples):,.0f}' + ']':>9} {1e6 / med:8.1f} {cpu_med * 1e6:7.1f}"
                f"  {ratio}"
            )
            mode = ""
    print(
        "  us/req = 1e6 / median req/s (wall clock); cpu us = this process's CPU time per "
        "request (median), which the server's core does not share; paired = median over "
        "rounds of the ratio between samples taken back to back (what the verdict uses)"
    )
    return ratios


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per sample")
    parser.add_argument("--repeats", type=int, default=3, help="samples per client and mode")
    parser.add_argument("--warmup", type=int, default=300, help="warm-up requests per mode")
    parser.add_argument(
        "--modes", default="1,10,100", help="requests in flight, comma-separated (1 = sequential)"
    )
    parser.add_argument(
        "--clients",
        default=None,
        help="comma-separated subset: aiohttp, tweepy, httpx, sg, sg+<transport> (default all)",
    )
    parser.add_argument(
        "--profile",
        metavar="CLIENT",
        nargs="?",
        const="sg",
        default=None,
        help="only profile one client (default sg) with pyinstrument at the first --modes width",
    )
    args = parser.parse_args(argv)
    modes = tuple(int(m) for m in args.modes.split(","))
    selected = set(args.clients.split(",")) if args.clients else None

    with ServerProcess("loopback") as server:
        transports = alternative_transports()
        default = asyncio.run(default_transport_name())
        header(server, transports, default)
        if args.profile:
            print()
            asyncio.run(profile(server, args.profile, args.requests, modes[0], args.warmup))
            return
        benches, notes = make_benches(selected, default)
        started = time.perf_counter()
        rates, cpu, run_notes, target = asyncio.run(
            measure(server, benches, modes, args.requests, args.repeats, args.warmup)
        )
        elapsed = time.perf_counter() - started
    ratios = report(benches, rates, cpu, modes, args.requests, args.repeats, args.warmup, target)
    for note in notes + run_notes:
        print(f"  note: {note}")
    print()
    print(f"finished in {elapsed:.1f} s")
    for mode, name, ratio in ratios:
        if name != "sg":
            # Another transport passed as transport=: a figure for users choosing one; the
            # target is for socialgate's default settings.
            print(f"{name}/tweepy {mode}: {ratio:.2f}x paired (alternative transport, no target)")
            continue
        verdict = "met" if ratio >= RATIO_TARGET else "MISSED"
        print(
            f"{name}/tweepy {mode}: {ratio:.2f}x paired (target >= {RATIO_TARGET:.1f}x) {verdict}"
        )


if __name__ == "__main__":
    main()
