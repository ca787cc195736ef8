"""Instructions per request, counted by valgrind: a per-request cost that noise cannot move.

A benchmark, not a test: it prints figures and never fails on them.

``bench/loopback.py`` times clients in wall-clock and CPU seconds; on a shared 2-core machine
those move by several per cent between runs, which is the size of the differences it has to
tell apart. This bench counts instead. One loopback server runs (``bench/_server.py``, not under
valgrind); each client runs in its own ``valgrind --tool=callgrind`` process twice, once for
``--base`` requests and once for ``--base + --requests``, after the same warm-up. The difference
of the two totals, divided by ``--requests``, is the client's instructions per request, with
start-up, imports and warm-up cancelled out. Repeated runs agree to well under one per cent.

Run: ``.venv/bin/python bench/instructions.py [--requests N] [--modes 1,10,100]``
(needs ``valgrind``; each client and mode takes about a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

CLIENTS = ("aiohttp", "tweepy", "sg")


def child(client: str, width: int, n: int, base_url: str, target: str) -> None:
    """Runs inside valgrind: warm up, then ``n`` requests."""
    import loopback

    benches = {
        "aiohttp": loopback.RawAiohttp,
        "tweepy": loopback.Tweepy,
        "sg": loopback.Socialgate,
    }

    async def main() -> None:
        bench = benches[client]()
        await bench.open(base_url, target)
        await loopback.run_calls(bench.call, 200, width)
        await loopback.run_calls(bench.call, n, width)
        await bench.close()

    asyncio.run(main())


def count(client: str, width: int, n: int, base_url: str, target: str) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        result = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                os.path.abspath(__file__),
                "--child",
                client,
                str(width),
                str(n),
                base_url,
                target,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    found = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode != 0 or found is None:
        raise RuntimeError(f"{client} under valgrind failed:\n{result.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _, _, client, width, n, base_url, target = sys.argv
        child(client, int(width), int(n), base_url, target)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests counted")
    parser.add_argument("--base", type=int, default=200, help="requests in the baseline run")
    parser.add_argument("--modes", default="1,10,100", help="requests in flight")
    parser.add_argument("--clients", default=",".join(CLIENTS))
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    import loopback
    from _server import ServerProcess

    modes = [int(m) for m in args.modes.split(",")]
    clients = args.clients.split(",")
    with ServerProcess("loopback") as server:
        target = asyncio.run(loopback.open_all(server, []))
        jobs = [(c, w) for w in modes for c in clients]
        print(f"callgrind instructions per request, GET {target[:40]}... ({len(target)} chars)")
        runs = f"runs of {args.base} and {args.base + args.requests}"
        print(f"{args.requests} requests counted ({runs})")

        def measure(job: tuple[str, int]) -> tuple[str, int, float]:
            client, width = job
            low = count(client, width, args.base, server.base_url, target)
            high = count(client, width, args.base + args.requests, server.base_url, target)
            return client, width, (high - low) / args.requests

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(measure, jobs))
    per = {(c, w): v for c, w, v in results}
    print(f"  {'in flight':>9}  " + "  ".join(f"{c:>10}" for c in clients) + "  sg/tweepy")
    for width in modes:
        row = "  ".join(f"{per[(c, width)]:10,.0f}" for c in clients)
        ratio = ""
        if ("sg", width) in per and ("tweepy", width) in per:
            ratio = f"  {per[('tweepy', width)] / per[('sg', width)]:.2f}x fewer"
        print(f"  {width:>9}  {row}{ratio}")
    print("  (ratio: tweepy's instructions per request / socialgate's; above 1.00x means cheaper)")


if __name__ == "__main__":
    main()
