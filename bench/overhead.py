"""How much socialgate costs on top of raw httpx, and how fast it normalises X payloads.

A benchmark, not a test: it prints figures and never fails on a timing.

1. ``GET /2/tweets/{id}``: ``await acct.posts.get(id)`` through socialgate with default
   settings (bearer token, budgets on, retries armed, models parsed) against
   ``(await httpx.AsyncClient.get(url)).json()``, both talking to the same in-process mock of
   X (the recorded ``tests/fixtures/x/tweepy_get_tweet.json`` body with X's real response
   headers). Sequential and with 10 requests in flight; the two clients are interleaved so
   machine noise hits both.
2. Normalisation: recorded multi-tweet X bodies -> ``sg.Post`` through
   ``socialgate.adapters.x.mapping.posts_from_response``, from parsed dicts and from bytes.
3. ``--profile``: the socialgate request path under cProfile (top entries by cumulative time).

Run: ``.venv/bin/python bench/overhead.py [--requests N] [--posts N] [--profile]``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import importlib.metadata
import io
import json
import os
import platform
import pstats
import re
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

import socialgate as sg
from socialgate.adapters.x.mapping import posts_from_response

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "x"
TWEET_FIXTURE = "tweepy_get_tweet.json"
TWEET_ID = "1293593516040269825"
BASE_URL = "https://api.x.com"
# Recorded multi-tweet bodies (timeline, search, lookup by ids), with and without expansions.
LIST_FIXTURES = (
    "sns_tweets_resp.json",
    "sns_timeline_tweets.json",
    "sns_search_tweets_query.json",
    "tweepy_search_recent_tweets.json",
    "tweepy_get_tweets.json",
    "tweepy_get_users_tweets.json",
)
# A made-up token: the mock never checks it.
BEARER = "AAAAAAAAAAAAAAAAAAAAAbench0overhead0not0a0real0token"
IN_FLIGHT = 10
RATIO_TARGET = 0.50
POSTS_TARGET = 20_000.0
# A measurement that takes longer than this has stalled (a budget wait would sleep ~900 s).
STALL_SECONDS = 120.0


# --- the mock -------------------------------------------------------------------------------


class _Body(httpx.AsyncByteStream):
    """A response body delivered as one chunk, like a small body off a keep-alive socket."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._data


class XTweetMock(httpx.AsyncBaseTransport):
    """In-process X ``GET /2/tweets/{id}``: the recorded body plus X's response headers.

    The headers are the ones X sent with the recorded answer (tweepy's cassette), minus
    ``set-cookie`` and gzip, with a live rate-limit window: ``x-rate-limit-limit: 900``,
    ``x-rate-limit-remaining`` counting down and ``x-rate-limit-reset`` about now + 900.
    Long before ``remaining`` could reach 0 the window is reset (generously: every
    ``window_calls`` requests, with a later reset epoch, as if a new window had begun), so
    socialgate's budget never has to wait. Each request yields to the event loop once, where a
    real request would wait for the socket, so ``in flight`` means what it says.
    """

    def __init__(self, payload: bytes, *, limit: int = 900, window_calls: int = 100) -> None:
        self.payload = payload
        self.limit = limit
        self.window_calls = window_calls
        self.requests = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.last_url = ""
        self._remaining = limit
        self._reset = int(time.time()) + 900
        self._date_second = -1
        self._date = b""
        self._static = [
            (b"api-version", b"2.52"),
            (b"cache-control", b"no-cache, no-store, max-age=0"),
            (b"content-disposition", b"attachment; filename=json.json"),
            (b"content-length", str(len(payload)).encode()),
            (b"content-type", b"application/json; charset=utf-8"),
            (b"perf", b"7626143928"),
            (b"server", b"tsa_b"),
            (b"strict-transport-security", b"max-age=631138519"),
            (b"x-access-level", b"read"),
            (
                b"x-connection-hash",
                b"92a77929006ce21d643bb271815d8d8a2f76f1a9e661d89b6662dc31481c7be4",
            ),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"SAMEORIGIN"),
            (b"x-rate-limit-limit", str(limit).encode()),
            (b"x-response-time", b"49"),
            (b"x-transaction-id", b"966424516862f637"),
            (b"x-xss-protection", b"0"),
        ]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)  # the "network": one trip round the event loop
        finally:
            self.in_flight -= 1
        self.last_url = str(request.url)
        now = time.time()
        if self._remaining <= self.limit - self.window_calls:
            # A new window: full budget, and a reset epoch past the previous one (socialgate
            # only treats a reset more than 1.5 s later as a new window).
            self._remaining = self.limit
            self._reset = max(int(now) + 900, self._reset + 2)
        self._remaining -= 1
        second = int(now)
        if second != self._date_second:
            self._date_second = second
            self._date = time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime(now)).encode()
        headers = [
            *self._static,
            (b"date", self._date),
            (b"x-rate-limit-remaining", str(self._remaining).encode()),
            (b"x-rate-limit-reset", str(self._reset).encode()),
        ]
        return httpx.Response(200, headers=headers, stream=_Body(self.payload))


# --- request throughput ---------------------------------------------------------------------

Call = Callable[[], Awaitable[Any]]


async def _sequential(call: Call, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        await call()
    return time.perf_counter() - start


async def _in_flight(call: Call, n: int, width: int) -> float:
    left = n

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await call()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(width)))
    return time.perf_counter() - start


async def _timed(mock: XTweetMock, call: Call, n: int, width: int) -> float:
    before = mock.requests
    async with asyncio.timeout(STALL_SECONDS):
        if width == 1:
            elapsed = await _sequential(call, n)
        else:
            elapsed = await _in_flight(call, n, width)
    sent = mock.requests - before
    if sent != n:
        print(f"  note: {n} calls sent {sent} requests (retries?)", file=sys.stderr)
    return elapsed


class _Clients:
    """The two clients under test, over one mock."""

    def __init__(self, mock: XTweetMock) -> None:
        self.mock = mock
        self.sg_client = sg.Client(transport=mock, token_store=sg.MemoryTokenStore())
        self.account = self.sg_client.account("x", sg.BearerToken(BEARER))
        self.raw = httpx.AsyncClient(transport=mock, headers={"Authorization": f"Bearer {BEARER}"})
        self.url = ""

    async def __aenter__(self) -> _Clients:
        await self.sg_client.__aenter__()
        # The raw client asks for exactly the URL socialgate builds (same query string).
        await self.account.posts.get(TWEET_ID)
        self.url = self.mock.last_url
        await self.raw_get()
        if self.mock.last_url != self.url:
            print(f"  note: raw URL {self.mock.last_url} != socialgate URL {self.url}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.raw.aclose()
        await self.sg_client.aclose()

    async def sg_get(self) -> sg.Post:
        return await self.account.posts.get(TWEET_ID)

    async def raw_get(self) -> Any:
        return (await self.raw.get(self.url)).json()


async def bench_requests(
    n: int, repeats: int, warmup: int
) -> tuple[dict[tuple[str, int], list[float]], int]:
    """Requests/s per (client, width), ``repeats`` samples each, clients interleaved; and the
    most requests the mock ever saw in flight at once."""
    mock = XTweetMock((FIXTURES / TWEET_FIXTURE).read_bytes())
    rates: dict[tuple[str, int], list[float]] = {}
    async with _Clients(mock) as clients:
        calls = {"raw": clients.raw_get, "sg": clients.sg_get}
        for width in (1, IN_FLIGHT):
            for name in ("raw", "sg"):
                await _timed(mock, calls[name], warmup, width)
        for rep in range(repeats):
            for width in (1, IN_FLIGHT):
                # Alternate who goes first so drift (thermal, noisy neighbours) hits both.
                order = ("raw", "sg") if (rep + width) % 2 == 0 else ("sg", "raw")
                for name in order:
                    gc.collect()
                    elapsed = await _timed(mock, calls[name], n, width)
                    rates.setdefault((name, width), []).append(n / elapsed)
        post = await clients.sg_get()
        if post.id != TWEET_ID or not post.text:
            print(f"  note: socialgate returned an unexpected post: {post!r}")
    return rates, mock.peak_in_flight


# --- normalisation throughput ---------------------------------------------------------------


def _load_list_bodies() -> list[tuple[str, bytes, dict[str, Any], int]]:
    bodies = []
    for name in LIST_FIXTURES:
        raw = (FIXTURES / name).read_bytes()
        body = json.loads(raw)
        bodies.append((name, raw, body, len(posts_from_response(body))))
    return bodies


def bench_mapping(target_posts: int, rounds: int) -> dict[str, Any]:
    """Posts/s from parsed dicts, from bytes (json.loads + mapping), and json.loads alone."""
    bodies = _load_list_bodies()
    per_round = max(target_posts // rounds, 1)
    plan: list[int] = []  # indices into bodies, round-robin, about per_round posts
    count = 0
    while count < per_round:
        index = len(plan) % len(bodies)
        plan.append(index)
        count += bodies[index][3]
    work = [(bodies[i][1], bodies[i][2], i) for i in plan]

    for raw, body, _ in work[: len(bodies) * 20]:  # warm-up (pydantic, caches)
        posts_from_response(body)
        posts_from_response(json.loads(raw))

    dict_rates, bytes_rates, loads_rates = [], [], []
    perf = time.perf_counter
    for _ in range(rounds):
        gc.collect()
        start = perf()
        for _raw, body, _i in work:
            posts_from_response(body)
        dict_rates.append(count / (perf() - start))

        gc.collect()
        start = perf()
        for raw, _body, _i in work:
            posts_from_response(json.loads(raw))
        bytes_rates.append(count / (perf() - start))

        start = perf()
        for raw, _body, _i in work:
            json.loads(raw)
        loads_rates.append(count / (perf() - start))

    # Each fixture on its own (from dicts), about a tenth of a round's posts each.
    per_fixture = []
    for name, raw, body, n_posts in bodies:
        repeat = max(per_round // 10 // n_posts, 1)
        gc.collect()
        start = perf()
        for _ in range(repeat):
            posts_from_response(body)
        per_fixture.append((name, n_posts, len(raw), repeat * n_posts / (perf() - start)))
    return {
        "posts": count * rounds,
        "bodies": len(work) * rounds,
        "dict": dict_rates,
        "bytes": bytes_rates,
        "loads": loads_rates,
        "per_fixture": per_fixture,
    }


# --- profile --------------------------------------------------------------------------------


async def _profile_runs(n: int, warmup: int, sort: str, top: int) -> None:
    mock = XTweetMock((FIXTURES / TWEET_FIXTURE).read_bytes())
    async with _Clients(mock) as clients:
        await _timed(mock, clients.raw_get, warmup, 1)
        await _timed(mock, clients.sg_get, warmup, 1)
        totals = {}
        stats = {}
        for name, call in (("raw", clients.raw_get), ("sg", clients.sg_get)):
            profiler = cProfile.Profile()
            gc.collect()
            profiler.enable()
            await _sequential(call, n)
            profiler.disable()
            out = io.StringIO()
            stats[name] = pstats.Stats(profiler, stream=out)
            totals[name] = stats[name].total_tt  # type: ignore[attr-defined]
    print(f"profiled {n} sequential requests per client (times inflated by cProfile)")
    print(f"  raw httpx : {totals['raw']:.3f} s total, {totals['raw'] / n * 1e6:7.1f} us/request")
    print(f"  socialgate: {totals['sg']:.3f} s total, {totals['sg'] / n * 1e6:7.1f} us/request")
    extra = totals["sg"] - totals["raw"]
    print(f"  socialgate beyond raw: {extra / n * 1e6:.1f} us/request ({extra / totals['sg']:.0%})")
    print()
    print(
        f"socialgate path, top {top} by {sort}; share = cumulative / socialgate total "
        "(event-loop and bench frames left out; a coroutine counts one call per resume):"
    )
    sg_stats = stats["sg"]
    sg_stats.sort_stats(sort)
    entries = sg_stats.stats  # type: ignore[attr-defined]
    keys = [k for k in sg_stats.fcn_list if not _harness(k)][:top]  # type: ignore[attr-defined]
    print(f"  {'share':>6} {'cum s':>7} {'own s':>7} {'calls':>9}  function")
    for key in keys:
        _cc, ncalls, tottime, cumtime, _callers = entries[key]
        filename, line, func = key
        label = f"{_short(filename)}:{line}({func})" if line else func
        share = cumtime / totals["sg"]
        print(f"  {share:6.1%} {cumtime:7.3f} {tottime:7.3f} {ncalls:9d}  {label}")


_ASYNCIO_DIR = os.path.dirname(asyncio.__file__) + os.sep


def _harness(key: tuple[str, int, str]) -> bool:
    filename, _line, func = key
    return (
        filename == __file__
        or filename.startswith(_ASYNCIO_DIR)
        or func == "<method 'run' of '_contextvars.Context' objects>"
    )


def _short(filename: str) -> str:
    """``httpx/_client.py`` rather than the full site-packages path."""
    for marker in ("/socialgate/", "/adapters/"):
        at = filename.find(marker)
        if at >= 0:
            return filename[at + 1 :]
    return re.sub(r"^.*/(site-packages|lib/python3\.\d+)/", "", filename)


# --- output ---------------------------------------------------------------------------------


def _header() -> None:
    def version(dist: str) -> str:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return "?"

    print("socialgate overhead bench")
    print(
        f"python {platform.python_version()} ({platform.python_implementation()}) | "
        f"httpx {version('httpx')} | pydantic {version('pydantic')} "
        f"(core {version('pydantic-core')}) | tenacity {version('tenacity')} | "
        f"socialgate {sg.__version__}"
    )
    loop = asyncio.new_event_loop()
    loop_name = type(loop).__name__
    loop.close()
    print(
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"event loop {loop_name}, one process, one thread"
    )


def _fmt(value: float) -> str:
    return f"{value:,.0f}"


def _verdict(value: float, target: float) -> str:
    return "met" if value >= target else "MISSED"


def _report_requests(
    rates: dict[tuple[str, int], list[float]], peak: int, n: int, repeats: int, warmup: int
) -> dict[int, float]:
    size = len((FIXTURES / TWEET_FIXTURE).read_bytes())
    print()
    print(
        f"1) GET /2/tweets/{{id}} against an in-process X mock ({TWEET_FIXTURE}, {size} B, "
        "X headers, no network latency)"
    )
    print(
        f"   {n} requests per sample, {repeats} samples, {warmup} warm-up, clients interleaved; "
        f"median [best]; peak in flight seen by the mock: {peak}"
    )
    print(f"   {'mode':<12} {'client':<34} {'req/s':>9} {'[best]':>10} {'us/req':>8}")
    ratios: dict[int, float] = {}
    labels = {
        "raw": "raw httpx  get(url).json()",
        "sg": "socialgate acct.posts.get(id)",
    }
    for width in (1, IN_FLIGHT):
        mode = "sequential" if width == 1 else f"{width} in flight"
        med = {}
        for name in ("raw", "sg"):
            samples = rates[(name, width)]
            med[name] = statistics.median(samples)
            best = max(samples)
            print(
                f"   {mode:<12} {labels[name]:<34} {_fmt(med[name]):>9} "
                f"{'[' + _fmt(best) + ']':>10} {1e6 / med[name]:8.1f}"
            )
            mode = ""
        ratios[width] = med["sg"] / med["raw"]
        best_ratio = max(rates[("sg", width)]) / max(rates[("raw", width)])
        extra = 1e6 / med["sg"] - 1e6 / med["raw"]
        print(
            f"   {'':<12} {'ratio socialgate/raw':<34} {ratios[width]:9.2f} "
            f"{'[' + f'{best_ratio:.2f}' + ']':>10} {extra:+8.1f}"
        )
    return ratios


def _report_mapping(result: dict[str, Any]) -> float:
    print()
    print(
        f"2) normalisation: recorded X list bodies -> sg.Post via posts_from_response "
        f"({result['posts']:,} posts in {result['bodies']:,} bodies, single core)"
    )
    print(f"   {'input':<54} {'posts/s':>9} {'[best]':>10} {'us/post':>8}")
    rows = (
        ("from parsed dicts (mapping only)", result["dict"]),
        ("from bytes (json.loads + mapping)", result["bytes"]),
        ("json.loads alone (for reference)", result["loads"]),
    )
    for label, samples in rows:
        med = statistics.median(samples)
        print(
            f"   {label:<54} {_fmt(med):>9} {'[' + _fmt(max(samples)) + ']':>10} {1e6 / med:8.2f}"
        )
    dict_us = 1e6 / statistics.median(result["dict"])
    bytes_us = 1e6 / statistics.median(result["bytes"])
    print(f"   {'json.loads share of the from-bytes time':<54} {1 - dict_us / bytes_us:9.0%}")
    print("   per fixture, from dicts:")
    for name, n_posts, size, rate in result["per_fixture"]:
        label = f"{name} ({n_posts} posts, {size:,} B)"
        print(f"     {label:<52} {_fmt(rate):>9} {'':>10} {1e6 / rate:8.2f}")
    return statistics.median(result["dict"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000, help="requests per sample")
    parser.add_argument("--repeats", type=int, default=3, help="samples per measurement")
    parser.add_argument("--warmup", type=int, default=500, help="warm-up requests per client")
    parser.add_argument("--posts", type=int, default=200_000, help="posts to normalise in all")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="only profile the socialgate request path (cProfile) and print the top entries",
    )
    parser.add_argument("--profile-sort", default="cumulative", help="pstats sort key")
    parser.add_argument("--profile-top", type=int, default=25, help="entries to print")
    args = parser.parse_args(argv)

    _header()
    if args.profile:
        print()
        asyncio.run(_profile_runs(args.requests, args.warmup, args.profile_sort, args.profile_top))
        return

    started = time.perf_counter()
    rates, peak = asyncio.run(bench_requests(args.requests, args.repeats, args.warmup))
    ratios = _report_requests(rates, peak, args.requests, args.repeats, args.warmup)
    mapping = bench_mapping(args.posts, args.repeats)
    posts_rate = _report_mapping(mapping)
    print()
    print(f"finished in {time.perf_counter() - started:.1f} s")
    for width, ratio in ratios.items():
        mode = "sequential" if width == 1 else f"{width} in flight"
        print(
            f"overhead ratio {mode}: {ratio:.2f} (target >= {RATIO_TARGET:.2f}) "
            f"{_verdict(ratio, RATIO_TARGET)}"
        )
    print(
        f"normalisation posts/s: {_fmt(posts_rate)} (target >= {_fmt(POSTS_TARGET)}) "
        f"{_verdict(posts_rate, POSTS_TARGET)}"
    )


if __name__ == "__main__":
    main()
