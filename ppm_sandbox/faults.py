"""Rate limiting, latency and fault injection in front of any emulated service.

`ServiceGate` is a pure ASGI wrapper put around one registered service's app (Notion today; Azure, UniFi,
NinjaOne and Databricks later). It counts requests in `Stats`, applies a per-bearer-token
token bucket (429 + `Retry-After`), injects latency, and plays the faults queued or sampled by a
`FaultController`: 5xx answers, timeouts (the request is held past any sane client timeout),
connection resets (TCP RST) and malformed JSON bodies. Error bodies are rendered by the service so
that each emulator keeps its own wire format.

A queued fault normally replaces the request (`when="before"`: the service never sees it). With
`when="after"` the real handler runs to completion first and only its response is lost, which is
what makes a non-idempotent write (Notion's page creation has no idempotency key) dangerous to retry.
"""

from __future__ import annotations

import asyncio
import math
import random
import re
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

FaultKind = Literal["status", "timeout", "reset", "malformed"]
FAULT_KINDS: tuple[str, ...] = ("status", "timeout", "reset", "malformed")
FaultWhen = Literal["before", "after"]
FAULT_WHENS: tuple[str, ...] = ("before", "after")
_RULE_KEYS = frozenset({"kind", "fault", "status", "count", "path", "method", "when"})

#: Scope key under which `ppm_sandbox.app.SandboxApp` stores the server's own `send` callable,
#: so that a gate deep inside the middleware stack can still reach the socket to reset it.
RAW_SEND_SCOPE_KEY = "ppm_sandbox.raw_send"


@dataclass(frozen=True)
class FailRule:
    """`count` next requests (whose path contains `path` and whose method is `method`, if given) fail
    with this fault.

    `method` exists because paths nest: `/v1/pages` is a substring of `/v1/pages/{id}`, so only the
    method tells a page creation (POST) from a read (GET) or an update (PATCH).
    `when="after"` runs the real handler first (the write is applied), then drops its response and
    plays the fault instead: the lost-response case a retrying client must survive without
    duplicating. `malformed` always runs the handler, so `when` changes nothing for it.
    """

    kind: FaultKind = "status"
    status: int = 503
    count: int = 1
    path: str | None = None
    method: str | None = None
    when: FaultWhen = "before"

    def __post_init__(self) -> None:
        if self.when not in FAULT_WHENS:
            raise ValueError(f"fail_next when must be 'before' or 'after', got {self.when!r}")
        if self.method is not None:
            if not isinstance(self.method, str) or not self.method.strip():
                raise ValueError(f"fail_next method must be an HTTP method name, got {self.method!r}")
            # Stored upper-case so that matching and `to_json` need not care how it was spelled.
            object.__setattr__(self, "method", self.method.strip().upper())

    def matches(self, path: str, method: str | None) -> bool:
        """Whether a request to `path` with `method` (None: unknown, never matches a method rule) is hit."""
        if self.path is not None and self.path not in path:
            return False
        return self.method is None or (method is not None and method.upper() == self.method)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FailRule:
        unknown = set(data) - _RULE_KEYS
        if unknown:
            raise ValueError(f"unknown fail_next keys {sorted(unknown)}; known: {sorted(_RULE_KEYS)}")
        kind = data.get("kind", data.get("fault", "status"))
        if kind not in FAULT_KINDS:
            raise ValueError(f"fail_next kind must be one of {FAULT_KINDS}, got {kind!r}")
        status = int(data.get("status", 504 if kind == "timeout" else 503))
        count = int(data.get("count", 1))
        if count < 1:
            raise ValueError("fail_next count must be >= 1")
        return cls(
            kind=kind,
            status=status,
            count=count,
            path=data.get("path"),
            method=data.get("method"),
            when=data.get("when", "before"),
        )

    def to_json(self) -> dict[str, Any]:
        """JSON form; `method` and `when` only when set, so that plain rules keep their old shape."""
        data: dict[str, Any] = {
            "kind": self.kind,
            "status": self.status,
            "count": self.count,
            "path": self.path,
        }
        if self.method is not None:
            data["method"] = self.method
        if self.when != "before":
            data["when"] = self.when
        return data


@dataclass(frozen=True)
class FaultSpec:
    """What a gate does to traffic. `rate=None` means unlimited.

    Probabilities (`*_rate`) are sampled per admitted request from a seeded RNG, so a run with
    the same spec and the same request sequence injects the same faults.
    """

    rate: float | None = 3.0
    burst: int = 10
    retry_after_s: int | None = None
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 502, 503, 504)
    timeout_rate: float = 0.0
    reset_rate: float = 0.0
    malformed_rate: float = 0.0
    timeout_s: float = 30.0
    fail_next: tuple[FailRule, ...] = ()
    seed: int = 0

    @classmethod
    def unlimited(cls) -> FaultSpec:
        """No rate limit, no latency, no faults."""
        return cls(rate=None)

    def updated(self, changes: Mapping[str, Any]) -> FaultSpec:
        """A copy with the given JSON-style keys changed (`fail_next` replaces the queue)."""
        known = set(self.__dataclass_fields__)
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown fault keys {sorted(unknown)}; known: {sorted(known)}")
        values: dict[str, Any] = {}
        for key, raw in changes.items():
            if key == "rate":
                values[key] = _parse_rate(raw)
            elif key == "fail_next":
                values[key] = tuple(
                    r if isinstance(r, FailRule) else FailRule.from_json(r) for r in raw or ()
                )
            elif key == "error_statuses":
                values[key] = tuple(int(s) for s in raw)
            elif key in ("burst", "seed"):
                values[key] = int(raw)
            elif key == "retry_after_s":
                values[key] = None if raw is None else max(1, int(raw))
            else:
                values[key] = float(raw)
        spec = replace(self, **values)
        spec.validate()
        return spec

    def validate(self) -> None:
        if self.rate is not None and self.rate <= 0:
            raise ValueError("rate must be > 0 (or null / 'unlimited')")
        if self.burst < 1:
            raise ValueError("burst must be >= 1")
        for name in ("error_rate", "timeout_rate", "reset_rate", "malformed_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")
        if self.latency_ms < 0 or self.jitter_ms < 0 or self.timeout_s < 0:
            raise ValueError("latency_ms, jitter_ms and timeout_s must be >= 0")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["rate"] = "unlimited" if self.rate is None else self.rate
        data["error_statuses"] = list(self.error_statuses)
        data["fail_next"] = [rule.to_json() for rule in self.fail_next]
        return data


def _parse_rate(raw: Any) -> float | None:
    if raw is None or raw == "unlimited" or raw == 0:
        return None
    return float(raw)


@dataclass(frozen=True, slots=True)
class Admission:
    """The gate's verdict on one request."""

    delay_s: float = 0.0
    retry_after: int | None = None
    fault: FailRule | None = None


class TokenBucket:
    """Classic token bucket: `burst` capacity, refilled at `rate` tokens per second."""

    __slots__ = ("burst", "rate", "tokens", "updated")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = now

    def take(self, now: float) -> float:
        """Consume one token; return 0 when admitted, else the seconds until one is available."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class FaultController:
    """Live, thread-safe fault state of one service: read by the gate, set by tests and endpoints."""

    def __init__(
        self, spec: FaultSpec | None = None, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._initial = spec or FaultSpec()
        self._initial.validate()
        self._lock = threading.Lock()
        self._monotonic = monotonic
        self._spec = self._initial
        self._queue: list[list[Any]] = []
        self._buckets: dict[str, TokenBucket] = {}
        self._rng = random.Random(self._spec.seed)
        self._load_queue(self._spec.fail_next)

    @property
    def spec(self) -> FaultSpec:
        """The current spec; `fail_next` reflects what is still queued."""
        with self._lock:
            pending = tuple(replace(rule, count=left) for rule, left in self._queue)
            return replace(self._spec, fail_next=pending)

    def set(self, spec: FaultSpec | None = None, /, **changes: Any) -> FaultSpec:
        """Replace the whole spec, or change some keys (`faults.set(rate=30, latency_ms=200)`)."""
        with self._lock:
            base = spec if spec is not None else self._spec
            new = base.updated(changes) if changes else base
            new.validate()
            if (new.rate, new.burst) != (self._spec.rate, self._spec.burst):
                self._buckets.clear()
            if new.seed != self._spec.seed:
                self._rng = random.Random(new.seed)
            self._spec = new
            if spec is not None or "fail_next" in changes:
                self._load_queue(new.fail_next)
        return self.spec

    def update(self, changes: Mapping[str, Any]) -> FaultSpec:
        """JSON-style partial update (the control endpoint's body)."""
        return self.set(**dict(changes))

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 503,
        kind: FaultKind = "status",
        path: str | None = None,
        method: str | None = None,
        when: FaultWhen = "before",
    ) -> None:
        """Queue `count` failures after the ones already queued.

        `fail_next(1, status=502, method="POST", path="/v1/pages", when="after")`: the next page
        creation is applied, but its client gets a 502.
        """
        rule = FailRule(kind=kind, status=status, count=count, path=path, method=method, when=when)
        with self._lock:
            self._queue.append([rule, count])

    def reset(self) -> FaultSpec:
        """Back to the spec the server started with; empties buckets and queues."""
        with self._lock:
            self._spec = self._initial
            self._buckets.clear()
            self._rng = random.Random(self._spec.seed)
            self._load_queue(self._spec.fail_next)
        return self.spec

    def admit(self, key: str, path: str, method: str | None = None) -> Admission:
        """Decide the fate of a `method` request from bearer `key` to `path`."""
        with self._lock:
            spec = self._spec
            delay = spec.latency_ms / 1000.0
            if spec.jitter_ms:
                delay += self._rng.uniform(0.0, spec.jitter_ms) / 1000.0
            if spec.rate is not None:
                now = self._monotonic()
                bucket = self._buckets.get(key)
                if bucket is None:
                    bucket = self._buckets[key] = TokenBucket(spec.rate, spec.burst, now)
                wait = bucket.take(now)
                if wait > 0:
                    retry_after = spec.retry_after_s or max(1, math.ceil(wait))
                    return Admission(delay_s=delay, retry_after=retry_after)
            return Admission(delay_s=delay, fault=self._next_fault(spec, path, method))

    def _next_fault(self, spec: FaultSpec, path: str, method: str | None) -> FailRule | None:
        for entry in self._queue:
            rule: FailRule = entry[0]
            if rule.matches(path, method):
                entry[1] -= 1
                if entry[1] <= 0:
                    self._queue.remove(entry)
                return rule
        draw = self._rng.random
        if spec.error_rate and draw() < spec.error_rate:
            return FailRule(kind="status", status=self._rng.choice(spec.error_statuses))
        if spec.timeout_rate and draw() < spec.timeout_rate:
            return FailRule(kind="timeout", status=504)
        if spec.reset_rate and draw() < spec.reset_rate:
            return FailRule(kind="reset")
        if spec.malformed_rate and draw() < spec.malformed_rate:
            return FailRule(kind="malformed")
        return None

    def _load_queue(self, rules: tuple[FailRule, ...]) -> None:
        self._queue = [[rule, rule.count] for rule in rules]


@dataclass
class Stats:
    """Request counters the benchmarks read; shared by all gates of one sandbox."""

    total_requests: int = 0
    rate_limited: int = 0
    by_endpoint: Counter[str] = field(default_factory=Counter)
    by_status: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    started_at: float = field(default_factory=time.time)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record_request(self, endpoint: str) -> None:
        with self._lock:
            self.total_requests += 1
            self.by_endpoint[endpoint] += 1

    def record_status(self, status: int) -> None:
        with self._lock:
            self.by_status[status] += 1
            if status == 429:
                self.rate_limited += 1

    def record_fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def reset(self) -> None:
        with self._lock:
            self.total_requests = 0
            self.rate_limited = 0
            self.by_endpoint.clear()
            self.by_status.clear()
            self.faults.clear()
            self.started_at = time.time()

    def snapshot(self) -> dict[str, Any]:
        """JSON-able copy: totals, per-endpoint and per-status counts, injected faults."""
        with self._lock:
            elapsed = max(time.time() - self.started_at, 1e-9)
            return {
                "total_requests": self.total_requests,
                "rate_limited": self.rate_limited,
                "by_endpoint": dict(sorted(self.by_endpoint.items())),
                "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
                "faults": dict(sorted(self.faults.items())),
                "elapsed_s": round(elapsed, 3),
                "requests_per_s": round(self.total_requests / elapsed, 3),
            }


ErrorRenderer = Callable[[int, str | None], bytes]
"""Renders a service error body for (status, code or None = the service's default for status)."""

_ID_SEGMENT = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


def endpoint_name(method: str, path: str) -> str:
    """`POST /notion/v1/databases/{id}/query`: ids and property ids replaced by placeholders."""
    parts = path.split("/")
    out: list[str] = []
    for i, part in enumerate(parts):
        if _ID_SEGMENT.match(part):
            out.append("{id}")
        elif i > 0 and parts[i - 1] == "properties" and part:
            out.append("{property_id}")
        else:
            out.append(part)
    return f"{method} {'/'.join(out)}"


class ServiceGate:
    """ASGI wrapper applying a `FaultController` and counting into `Stats` for one service."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        faults: FaultController,
        stats: Stats,
        render_error: ErrorRenderer,
    ) -> None:
        self.app = app
        self.faults = faults
        self.stats = stats
        self.render_error = render_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        self.stats.record_request(endpoint_name(method, path))
        admission = self.faults.admit(_client_key(scope), path, method)
        if admission.delay_s:
            await asyncio.sleep(admission.delay_s)
        if admission.retry_after is not None:
            retry = [(b"retry-after", str(admission.retry_after).encode())]
            await self._send_error(send, 429, "rate_limited", retry)
            return
        fault = admission.fault
        if fault is None:
            await self.app(scope, receive, self._counting(send))
            return
        if fault.kind == "malformed":
            self.stats.record_fault("malformed")
            await self._send_malformed(scope, receive, send)
            return
        name = fault.kind if fault.kind != "status" else f"status_{fault.status}"
        if fault.when == "after":
            # The request's body reaches the handler through `receive`; its response is dropped.
            await self.app(scope, receive, _discard)
            name = f"after_{name}"
        self.stats.record_fault(name)
        if fault.kind == "status":
            await self._send_status_fault(send, fault.status)
        elif fault.kind == "timeout":
            if await _hold_until_disconnect(receive, self.faults.spec.timeout_s):
                await self._send_error(send, 504, "gateway_timeout")
        else:
            await _reset_connection(scope, send)

    async def _send_status_fault(self, send: Send, status: int) -> None:
        """A queued status answer; a 429 carries `Retry-After` as the real rate limiter's does, since
        clients honour that header and a 429 without it is not what they will meet."""
        if status != 429:
            await self._send_error(send, status, None)
            return
        retry_after = self.faults.spec.retry_after_s or 1
        await self._send_error(send, 429, "rate_limited", [(b"retry-after", str(retry_after).encode())])

    def _counting(self, send: Send) -> Send:
        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.stats.record_status(message["status"])
            await send(message)

        return counting_send

    async def _send_error(
        self,
        send: Send,
        status: int,
        code: str | None,
        extra_headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        body = self.render_error(status, code)
        headers = [
            (b"content-type", b"application/json; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            *(extra_headers or []),
        ]
        self.stats.record_status(status)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _send_malformed(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the real handler, then cut its body in half: headers fine, JSON broken."""
        captured: list[Message] = []

        async def capture(message: Message) -> None:
            captured.append(message)

        await self.app(scope, receive, capture)
        start = next(m for m in captured if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in captured if m["type"] == "http.response.body")
        broken = body[: max(1, len(body) // 2)]
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(broken)).encode()))
        self.stats.record_status(start["status"])
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send({"type": "http.response.body", "body": broken})


async def _discard(message: Message) -> None:
    """`send` for a handler whose response is lost (`when="after"` faults)."""


def _client_key(scope: Scope) -> str:
    """Rate-limit key: the Authorization header (one bucket per token), else the client address."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            return value.decode("latin-1")
    client = scope.get("client")
    return f"client:{client[0] if client else '?'}"


async def _hold_until_disconnect(receive: Receive, seconds: float) -> bool:
    """Hold a request for `seconds`; return False if the client gave up (disconnected) first."""

    async def wait_for_disconnect() -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return

    try:
        await asyncio.wait_for(wait_for_disconnect(), timeout=seconds)
    except TimeoutError:
        return True
    return False


async def _reset_connection(scope: Scope, send: Send) -> None:
    """Abort the TCP connection with an RST (SO_LINGER 0), as a flaky load balancer would.

    uvicorn's `send` is a bound method of the request cycle, which owns the transport. When that is
    not reachable (another server), fall back to starting a response and never finishing it.
    """
    raw_send = scope.get(RAW_SEND_SCOPE_KEY)
    transport = getattr(getattr(raw_send, "__self__", None), "transport", None)
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
        # Let uvicorn's connection_lost run so it does not try to answer on the dead socket.
        for _ in range(3):
            await asyncio.sleep(0)
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
        }
    )
    await send({"type": "http.response.body", "body": b'{"object": "list", "res', "more_body": True})
    raise ConnectionResetError("sandbox fault: connection reset")
