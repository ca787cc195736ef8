"""``socialgate sandbox serve``: the sandbox as a real HTTP server (uvicorn).

``main(["serve", "--port", "8765"])`` is the ``sandbox`` sub-command; ``serve(argv)`` takes the
flags alone. Also runnable as ``python -m socialgate.sandbox.cli serve --port 8765``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from .app import DEFAULT_NETWORKS, DEFAULT_POSTS, create_app
from .faults import ConnectionDropped, FaultConfig

__all__ = ["build_parser", "main", "serve"]

_FAULT_FLAGS = (
    ("latency_ms", float, "added latency per request, in milliseconds"),
    ("error_rate", float, "share of requests answered with a 5xx (0 to 1)"),
    ("rate_limit_storm", float, "share of requests answered 429 whatever the budget"),
    ("drop_rate", float, "share of connections dropped before any response"),
    ("malformed_rate", float, "share of responses with a truncated JSON body"),
    ("lost_response_rate", float, "share of writes applied but answered 504 or dropped"),
)


def build_parser(prog: str = "socialgate sandbox serve") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve local emulators of the social networks' APIs (no credentials, "
        "no internet). Point sg.Client at sg.sandbox.base_urls('http://HOST:PORT').",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    parser.add_argument(
        "--networks",
        default=",".join(DEFAULT_NETWORKS),
        help=f"comma-separated networks to emulate (default {','.join(DEFAULT_NETWORKS)})",
    )
    parser.add_argument("--seed", type=int, default=1, help="dataset and fault seed")
    parser.add_argument("--posts", type=int, default=DEFAULT_POSTS, help="seeded posts")
    parser.add_argument("--users", type=int, default=None, help="seeded users (default: auto)")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="rate-limit windows pass this many times faster (60: 15 minutes in 15 s)",
    )
    for name, kind, text in _FAULT_FLAGS:
        parser.add_argument("--" + name.replace("_", "-"), type=kind, default=0.0, help=text)
    parser.add_argument(
        "--lost-response-mode",
        choices=("504", "drop"),
        default="504",
        help="how writes lose their response (default 504)",
    )
    parser.add_argument("--log-level", default="warning", help="uvicorn log level")
    return parser


class _HideDroppedConnections(logging.Filter):
    """uvicorn logs an app exception with a traceback; a drop fault is not an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


def serve(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        import uvicorn
    except ImportError:  # pragma: no cover - depends on the install
        print(
            "the sandbox server needs uvicorn: pip install 'socialgate[sandbox]'", file=sys.stderr
        )
        return 2
    faults: dict[str, Any] = {name: getattr(args, name) for name, _, _ in _FAULT_FLAGS}
    faults["lost_response_mode"] = args.lost_response_mode
    networks = [n.strip() for n in args.networks.split(",") if n.strip()]
    try:
        app = create_app(
            networks,
            seed=args.seed,
            posts=args.posts,
            users=args.users,
            time_scale=args.time_scale,
            faults=FaultConfig().updated(faults),
        )
    except ValueError as exc:
        print(f"socialgate sandbox: {exc}", file=sys.stderr)
        return 2
    root = f"http://{args.host}:{args.port}"
    print(
        f"socialgate sandbox on {root} (seed {args.seed}, {args.posts} posts, "
        f"time scale {args.time_scale:g})"
    )
    for name in app.networks:
        print(f"  {name}: {root}/{name}")
    print("  control: GET /_sandbox/stats, POST /_sandbox/faults", flush=True)
    logging.getLogger("uvicorn.error").addFilter(_HideDroppedConnections())
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, lifespan="on")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The ``socialgate sandbox`` command: ``serve [flags]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(
            "usage: socialgate sandbox serve [--port 8765] [--time-scale 60] [--seed 1] "
            "[--posts 10000] [fault flags]; see 'socialgate sandbox serve --help'"
        )
        return 0 if args else 2
    if args[0] != "serve":
        print(
            f"socialgate sandbox: unknown command '{args[0]}' (expected 'serve')", file=sys.stderr
        )
        return 2
    return serve(args[1:])


if __name__ == "__main__":
    raise SystemExit(main())
