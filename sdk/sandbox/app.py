"""The sandbox ASGI app: one emulator per network under ``/<network>``, plus ``/_sandbox``.

Each network's emulator lives next to its adapter, in ``socialgate.adapters.<name>.sandbox``,
and exposes ``create_emulator(ctx: SandboxContext) -> ASGI app``. They are imported here,
inside ``create_app``, never when ``socialgate.sandbox`` is imported.

Control endpoints (JSON): ``GET /_sandbox/health``; ``GET /_sandbox/stats`` (per network:
requests, 429s sent, writes applied, statuses, faults) and ``DELETE`` to zero them;
``GET /_sandbox/faults``, ``POST /_sandbox/faults`` with any of the ``FaultConfig`` fields
(``{"reset": true}`` clears them first) and ``DELETE`` to clear them.
"""

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from socialgate._clock import Clock, SystemClock

from .faults import FaultConfig, FaultInjector, Stats, TrafficMiddleware
from .limits import FixedWindowLimiter

__all__ = ["DEFAULT_NETWORKS", "SandboxApp", "SandboxContext", "create_app"]

DEFAULT_NETWORKS: tuple[str, ...] = ("x", "mastodon", "bluesky", "reddit")
DEFAULT_POSTS = 10_000

Scope = dict[str, Any]


@dataclass(slots=True)
class SandboxContext:
    """What an emulator gets from the framework.

    ``anchor`` is the epoch second the dataset is laid out around (the newest seeded post is
    just before it); it defaults to the clock's time when the app is created, so the same
    seed and the same anchor give byte-identical data. ``limiter`` is shared by all
    networks; key it with the network's name. ``options`` carries per-network extras.
    """

    network: str
    seed: int
    posts: int
    users: int | None
    time_scale: float
    clock: Clock
    anchor: float
    limiter: FixedWindowLimiter
    stats: Stats
    faults: FaultInjector
    options: Mapping[str, Any] = field(default_factory=dict)

    def record_write(self, kind: str) -> None:
        """Count one write the emulator applied (``posts.create``, ``posts.delete``, ...)."""
        self.stats.write(self.network, kind)

    def scaled(self, seconds: float) -> float:
        """How long ``seconds`` of network time (a rate-limit window) last here."""
        return self.limiter.scaled(seconds)


def _emulator_factory(network: str) -> tuple[str, Any]:
    """The canonical network name and the ``create_emulator`` of its adapter package."""
    from socialgate._registry import load_adapter

    adapter = load_adapter(network)
    name = adapter.spec.name
    package = adapter.__module__.rpartition(".")[0] or adapter.__module__
    try:
        module = importlib.import_module(f"{package}.sandbox")
    except ModuleNotFoundError as exc:
        if exc.name != f"{package}.sandbox":
            raise
        raise ValueError(f"network '{name}' has no sandbox emulator ({package}.sandbox)") from exc
    return name, module.create_emulator


def create_app(
    networks: Sequence[str] | None = DEFAULT_NETWORKS,
    *,
    seed: int = 1,
    posts: int = DEFAULT_POSTS,
    users: int | None = None,
    time_scale: float = 1.0,
    clock: Clock | None = None,
    faults: FaultConfig | Mapping[str, Any] | None = None,
    anchor: float | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> SandboxApp:
    """An ASGI app serving the emulators of ``networks`` under ``/<network>``.

    ``seed`` fixes the dataset and the fault draws; ``posts`` is the seeded post count (lazy:
    a million costs no memory); ``time_scale`` shrinks rate-limit windows (60 makes 15 minutes
    pass in 15 seconds); ``clock`` is injectable (``sg.FakeClock``) so tests move time without
    sleeping; ``faults`` sets the initial fault knobs.
    """
    if posts < 0:
        raise ValueError("posts must not be negative")
    clock = clock or SystemClock()
    limiter = FixedWindowLimiter(clock, time_scale)
    config = faults if isinstance(faults, FaultConfig) else FaultConfig().updated(faults or {})
    injector = FaultInjector(config, seed=seed)
    stats = Stats()
    start = float(math.floor(clock.time())) if anchor is None else float(anchor)
    mounts: dict[str, Any] = {}
    contexts: dict[str, SandboxContext] = {}
    for requested in networks or DEFAULT_NETWORKS:
        name, factory = _emulator_factory(requested)
        if name in mounts:
            continue
        ctx = SandboxContext(
            network=name,
            seed=seed,
            posts=posts,
            users=users,
            time_scale=float(time_scale),
            clock=clock,
            anchor=start,
            limiter=limiter,
            stats=stats,
            faults=injector,
            options=dict((options or {}).get(name, {})),
        )
        contexts[name] = ctx
        stats.register(name)
        mounts[name] = TrafficMiddleware(factory(ctx), name, injector, stats, clock)
    return SandboxApp(mounts, contexts, stats, injector)


class SandboxApp:
    """The root ASGI app (see the module doc). ``contexts``, ``stats`` and ``faults`` are
    there for in-process tests."""

    def __init__(
        self,
        mounts: Mapping[str, Any],
        contexts: Mapping[str, SandboxContext],
        stats: Stats,
        faults: FaultInjector,
    ) -> None:
        self.mounts = dict(mounts)
        self.contexts = dict(contexts)
        self.stats = stats
        self.faults = faults

    @property
    def networks(self) -> list[str]:
        return list(self.mounts)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":  # websockets: nothing here speaks them yet
            return
        root = scope.get("root_path", "")
        path: str = scope["path"]
        if root and path.startswith(root + "/"):
            path = path[len(root) :]
        head, _, _rest = path.lstrip("/").partition("/")
        app = self.mounts.get(head)
        if app is not None:
            await app({**scope, "root_path": root + "/" + head}, receive, send)
            return
        if head == "_sandbox" or path == "/":
            await self._control(scope, path, receive, send)
            return
        await _json(send, 404, {"error": "not_found", "networks": self.networks})

    async def _control(self, scope: Scope, path: str, receive: Any, send: Any) -> None:
        method = scope["method"]
        action = path.rstrip("/").removeprefix("/_sandbox").strip("/")
        if action in ("", "health") and method == "GET":
            ctx = next(iter(self.contexts.values()), None)
            await _json(
                send,
                200,
                {
                    "status": "ok",
                    "networks": {n: f"/{n}" for n in self.networks},
                    "seed": ctx.seed if ctx else None,
                    "posts": ctx.posts if ctx else None,
                    "time_scale": ctx.time_scale if ctx else None,
                },
            )
        elif action == "stats" and method in ("GET", "DELETE"):
            if method == "DELETE":
                self.stats.reset()
            await _json(send, 200, self.stats.snapshot())
        elif action == "faults" and method in ("GET", "POST", "DELETE"):
            if method == "DELETE":
                self.faults.reset()
            elif method == "POST":
                try:
                    changes = json.loads(await _read_body(receive) or b"{}")
                    if not isinstance(changes, dict):
                        raise ValueError("the body must be a JSON object")
                    if changes.pop("reset", False):
                        self.faults.reset()
                    self.faults.configure(changes)
                except (ValueError, TypeError) as exc:
                    await _json(send, 400, {"error": "invalid_faults", "detail": str(exc)})
                    return
            await _json(send, 200, self.faults.config.as_dict())
        else:
            await _json(send, 404, {"error": "not_found", "detail": f"no control {path}"})


async def _read_body(receive: Any) -> bytes:
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return body
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def _json(send: Any, status: int, payload: Any) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
