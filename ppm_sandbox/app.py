"""The sandbox: one ASGI app hosting every registered service under its own prefix.

    GET  /healthz                    liveness; lists the registered services
    /_sandbox/...                    shared control plane: stats, faults, clock, per-service reset
                                     (ppm_sandbox.control)
    /<prefix>/...                    each service's API behind its own ServiceGate (rate limit,
                                     latency, faults): /notion/v1/...
    /_sandbox/<name>/...             each service's own control routes (/_sandbox/notion/...)

A service with `tls = True` (Azure) is not mounted here: `build_tls_app` serves its gated API at the root
of its own HTTPS listener (started by `SandboxServer` / `ppm-sandbox serve`), with the same clock-dated
responses; its control routes stay on this app.

The services come from a `ServiceRegistry` (`ppm_sandbox.registry.SERVICES` by default); this
module only composes them and knows nothing about any one of them.
"""

from __future__ import annotations

from email.utils import format_datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ppm_sandbox.clock import SandboxClock
from ppm_sandbox.config import SandboxConfig
from ppm_sandbox.control import control_routes
from ppm_sandbox.faults import RAW_SEND_SCOPE_KEY, ServiceGate
from ppm_sandbox.sandbox import Sandbox
from ppm_sandbox.services import ServiceRegistry

__all__ = ["Sandbox", "SandboxApp", "SandboxConfig", "TlsServiceApp", "build_app", "build_tls_app"]


def dated(clock: SandboxClock, send: Send) -> Send:
    """`send` that stamps every response with a `Date` header from the sandbox clock, as real services
    send their own time: clients that bound their watermarks by the server's time must see the frozen or
    advanced clock of a test."""

    async def dated_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
            headers.append((b"date", format_datetime(clock.now(), usegmt=True).encode("latin-1")))
            message = {**message, "headers": headers}
        await send(message)

    return dated_send


class SandboxApp(Starlette):
    """Starlette app that remembers the server's own `send` (see `faults.RAW_SEND_SCOPE_KEY`) and dates
    every response with the sandbox clock (`dated`)."""

    sandbox: Sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        dated_send = dated(self.sandbox.clock, send)
        scope[RAW_SEND_SCOPE_KEY] = dated_send
        await super().__call__(scope, receive, dated_send)


class TlsServiceApp:
    """One `tls` service at the root of its own HTTPS listener: its gate (stats, faults), clock-dated
    responses and the raw `send` the gate needs to reset connections, as on the HTTP app."""

    def __init__(self, sandbox: Sandbox, name: str) -> None:
        self.sandbox = sandbox
        self.name = name
        self.app = gated(sandbox, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return
        dated_send = dated(self.sandbox.clock, send)
        scope[RAW_SEND_SCOPE_KEY] = dated_send
        await self.app(scope, receive, dated_send)


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "services": list(request.app.sandbox.services)})


def gated(sandbox: Sandbox, name: str) -> ASGIApp:
    """Service `name`'s API behind its `ServiceGate` (and whatever the service puts in front of it)."""
    service = sandbox.service(name)
    gate = ServiceGate(
        service.asgi_app(),
        faults=sandbox.faults[name],
        stats=sandbox.stats,
        render_error=service.render_error,
    )
    return service.wrap_gate(gate)


def service_routes(sandbox: Sandbox) -> list[BaseRoute]:
    """Per service: its gated API under its prefix (not for `tls` services, which have their own
    listener), and its control routes if it has any."""
    routes: list[BaseRoute] = []
    for name, service in sandbox.services.items():
        if not service.tls:
            routes.append(Mount(service.prefix, app=gated(sandbox, name)))
        control = list(service.control_routes())
        if control:
            routes.append(Mount(f"/_sandbox/{name}", routes=control))
    return routes


def build_app(
    config: SandboxConfig | None = None,
    *,
    sandbox: Sandbox | None = None,
    services: ServiceRegistry | None = None,
) -> SandboxApp:
    """The composed sandbox app; its live state is `app.sandbox`.

    Pass `sandbox` to serve existing state, or `config` (and optionally a `services` registry
    other than the default) to build it.
    """
    state = sandbox or Sandbox(config, services=services)
    app = SandboxApp(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            # Absolute control routes first: `/_sandbox/{service}/faults` and `/reset` must win over
            # the per-service `/_sandbox/<name>` mounts.
            *control_routes(state),
            *service_routes(state),
        ]
    )
    app.sandbox = state
    return app


def build_tls_app(sandbox: Sandbox, name: str) -> TlsServiceApp:
    """The app of `tls` service `name`'s own HTTPS listener (its API at `/`)."""
    if not sandbox.service(name).tls:
        raise ValueError(f"sandbox service {name!r} is not a tls service")
    return TlsServiceApp(sandbox, name)
