"""Fault injection and traffic counters, wrapped around every network's emulator.

``TrafficMiddleware`` sits between the sandbox's router and one emulator. For each request
it counts it, draws a ``FaultDecision`` from a seeded ``random.Random`` (so a test that
sends the same requests sees the same faults), and then:

- ``latency_ms``: waits on the sandbox clock before handling (a fake clock just advances);
- ``drop_rate``: drops the connection before the request reaches the emulator (nothing is
  applied): the response head is sent and the connection is cut. Over a real server the
  client sees the connection close mid-response (httpx raises ``RemoteProtocolError``);
  in-process under ``httpx.ASGITransport`` the app raises ``ConnectionDropped``, itself an
  ``httpx.RemoteProtocolError``, which the transport passes to the client unchanged;
- ``lost_response_rate`` (writes only): lets the emulator apply the write, then throws its
  answer away and sends a gateway 504 (``lost_response_mode="504"``) or drops the connection
  (``"drop"``), the case where a client cannot know whether its write happened;
- ``malformed_rate``: cuts the emulator's JSON body in half (still labelled JSON).

``error_rate`` (5xx) and ``rate_limit_storm`` (429 whatever the budget) need the network's
own error body and rate-limit headers, so the middleware only marks them in the decision it
puts in ``scope[FAULT_SCOPE_KEY]`` and the emulator answers them (see ``FaultDecision``).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

import httpx

from socialgate._clock import Clock

__all__ = [
    "FAULT_SCOPE_KEY",
    "ConnectionDropped",
    "FaultConfig",
    "FaultDecision",
    "FaultInjector",
    "Stats",
    "TrafficMiddleware",
]

FAULT_SCOPE_KEY = "socialgate.sandbox.fault"
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_RATES = ("error_rate", "rate_limit_storm", "drop_rate", "malformed_rate", "lost_response_rate")
_GATEWAY_TIMEOUT = (
    b"<html><head><title>504 Gateway Time-out</title></head><body>"
    b"<center><h1>504 Gateway Time-out</h1></center></body></html>\n"
)


class ConnectionDropped(httpx.RemoteProtocolError):
    """The sandbox cut the connection on purpose (a ``drop_rate`` or lost-response fault)."""


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """The fault knobs. Rates are probabilities per request, from 0 to 1."""

    latency_ms: float = 0.0
    error_rate: float = 0.0
    error_status: int = 503
    rate_limit_storm: float = 0.0
    drop_rate: float = 0.0
    malformed_rate: float = 0.0
    lost_response_rate: float = 0.0
    lost_response_mode: Literal["504", "drop"] = "504"

    def updated(self, changes: Mapping[str, Any]) -> FaultConfig:
        """A copy with ``changes`` applied and checked; raises ``ValueError`` on bad input."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown fault settings {sorted(unknown)}; known: {sorted(known)}")
        values: dict[str, Any] = {}
        for name, value in changes.items():
            if name == "lost_response_mode":
                if str(value) not in ("504", "drop"):
                    raise ValueError("lost_response_mode must be '504' or 'drop'")
                values[name] = str(value)
            elif name == "error_status":
                status = int(value)
                if not 500 <= status <= 599:
                    raise ValueError("error_status must be a 5xx status")
                values[name] = status
            else:
                number = float(value)  # bools become 0.0 / 1.0
                if name in _RATES and not 0.0 <= number <= 1.0:
                    raise ValueError(f"{name} must be between 0 and 1")
                if number < 0:
                    raise ValueError(f"{name} must not be negative")
                values[name] = number
        return replace(self, **values)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What happens to one request. Emulators must honour ``error_status`` (answer that 5xx
    with their own error body and rate-limit headers, without handling the request) and
    ``storm`` (answer 429 as if the budget were spent, without consuming it)."""

    latency: float = 0.0
    error_status: int | None = None
    storm: bool = False
    drop: bool = False
    malformed: bool = False
    lose_response: Literal["504", "drop"] | None = None


NO_FAULT = FaultDecision()


class FaultInjector:
    """Draws fault decisions from one seeded ``random.Random``, in request order."""

    def __init__(self, config: FaultConfig | None = None, *, seed: int = 1) -> None:
        self.config = config or FaultConfig()
        self._seed = seed
        self._random = random.Random(seed)  # noqa: S311 - fault simulation, not security

    def configure(self, changes: Mapping[str, Any]) -> FaultConfig:
        self.config = self.config.updated(changes)
        return self.config

    def reset(self, *, reseed: bool = True) -> None:
        self.config = FaultConfig()
        if reseed:
            self._random = random.Random(self._seed)  # noqa: S311

    def _draw(self, rate: float) -> bool:
        return rate > 0 and self._random.random() < rate

    def decide(self, *, write: bool) -> FaultDecision:
        cfg = self.config
        if cfg == FaultConfig():
            return NO_FAULT
        latency = cfg.latency_ms / 1000.0
        if self._draw(cfg.drop_rate):
            return FaultDecision(latency=latency, drop=True)
        if self._draw(cfg.error_rate):
            return FaultDecision(latency=latency, error_status=cfg.error_status)
        if self._draw(cfg.rate_limit_storm):
            return FaultDecision(latency=latency, storm=True)
        lose = cfg.lost_response_mode if write and self._draw(cfg.lost_response_rate) else None
        malformed = self._draw(cfg.malformed_rate)
        return FaultDecision(latency=latency, malformed=malformed, lose_response=lose)


class Stats:
    """Per-network counters: requests, statuses, 429s sent, writes applied, faults."""

    def __init__(self) -> None:
        self._networks: dict[str, dict[str, Counter[str]]] = {}

    def _net(self, network: str) -> dict[str, Counter[str]]:
        net = self._networks.get(network)
        if net is None:
            net = {
                "totals": Counter(),
                "statuses": Counter(),
                "writes": Counter(),
                "faults": Counter(),
            }
            self._networks[network] = net
        return net

    def register(self, network: str) -> None:
        """List ``network`` in snapshots (with zeros) before its first request."""
        self._net(network)

    def request(self, network: str) -> None:
        self._net(network)["totals"]["requests"] += 1

    def response(self, network: str, status: int) -> None:
        net = self._net(network)
        net["statuses"][str(status)] += 1
        if status == 429:
            net["totals"]["rate_limited"] += 1

    def write(self, network: str, kind: str) -> None:
        net = self._net(network)
        net["totals"]["writes_applied"] += 1
        net["writes"][kind] += 1

    def fault(self, network: str, kind: str) -> None:
        self._net(network)["faults"][kind] += 1

    def reset(self) -> None:
        """Zero every counter; registered networks stay listed."""
        for net in self._networks.values():
            for counter in net.values():
                counter.clear()

    def snapshot(self) -> dict[str, Any]:
        networks: dict[str, Any] = {}
        for name, net in sorted(self._networks.items()):
            totals = net["totals"]
            networks[name] = {
                "requests": totals["requests"],
                "rate_limited": totals["rate_limited"],
                "writes_applied": totals["writes_applied"],
                "statuses": dict(sorted(net["statuses"].items())),
                "writes": dict(sorted(net["writes"].items())),
                "faults": dict(sorted(net["faults"].items())),
            }
        keys = ("requests", "rate_limited", "writes_applied")
        total = {k: sum(n[k] for n in networks.values()) for k in keys}
        return {"networks": networks, "total": total}


Scope = dict[str, Any]
Message = dict[str, Any]


class TrafficMiddleware:
    """Counts and perturbs the traffic of one network's emulator (see the module doc)."""

    def __init__(
        self, app: Any, network: str, injector: FaultInjector, stats: Stats, clock: Clock
    ) -> None:
        self.app = app
        self.network = network
        self.injector = injector
        self.stats = stats
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        network, stats = self.network, self.stats
        stats.request(network)
        decision = self.injector.decide(write=scope["method"] not in _READ_METHODS)
        if decision.latency:
            stats.fault(network, "latency")
            await self.clock.sleep(decision.latency)
        if decision.drop:
            stats.fault(network, "drop")
            await _drop(send)
        if decision.error_status:
            stats.fault(network, "error")
        if decision.storm:
            stats.fault(network, "rate_limit_storm")
        scope = {**scope, FAULT_SCOPE_KEY: decision}
        if not (decision.malformed or decision.lose_response):

            async def counting_send(message: Message) -> None:
                if message["type"] == "http.response.start":
                    stats.response(network, int(message["status"]))
                await send(message)

            await self.app(scope, receive, counting_send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def buffering_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, buffering_send)
        status = int(start.get("status", 500))
        body = b"".join(chunks)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        if decision.lose_response and status < 400:
            stats.fault(network, "lost_response")
            if decision.lose_response == "drop":
                await _drop(send)
            status, body = 504, _GATEWAY_TIMEOUT
            headers = [(b"content-type", b"text/html")]
        elif decision.malformed:
            stats.fault(network, "malformed")
            body = body[: max(len(body) // 2, 1)] if body else b"{"
        headers.append((b"content-length", str(len(body)).encode()))
        stats.response(network, status)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _drop(send: Any) -> None:
    """Start a response and cut it off: the client never gets a complete answer."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
        }
    )
    raise ConnectionDropped("sandbox fault: connection dropped before the response completed")
