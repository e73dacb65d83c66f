"""The sandbox: one ASGI app hosting every registered service under its own prefix.

    GET  /healthz                    liveness; lists the registered services
    /_sandbox/...                    shared control plane: stats, faults, clock, per-service reset
                                     (ppm_sandbox.control)
    /<prefix>/...                    each service's API behind its own ServiceGate (rate limit,
                                     latency, faults): /notion/v1/... today
    /_sandbox/<name>/...             each service's own control routes (/_sandbox/notion/...)

The services come from a `ServiceRegistry` (`ppm_sandbox.registry.SERVICES` by default); this
module only composes them and knows nothing about any one of them.
"""

from __future__ import annotations

from email.utils import format_datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Message, Receive, Scope, Send

from ppm_sandbox.config import SandboxConfig
from ppm_sandbox.control import control_routes
from ppm_sandbox.faults import RAW_SEND_SCOPE_KEY, ServiceGate
from ppm_sandbox.sandbox import Sandbox
from ppm_sandbox.services import ServiceRegistry

__all__ = ["Sandbox", "SandboxApp", "SandboxConfig", "build_app"]


class SandboxApp(Starlette):
    """Starlette app that remembers the server's own `send` (see `faults.RAW_SEND_SCOPE_KEY`).

    Every response carries a `Date` header from the sandbox clock, as real services send their own time:
    clients that bound their watermarks by the server's time must see the frozen or advanced clock of a test.
    """

    sandbox: Sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        clock = self.sandbox.clock

        async def dated_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                headers.append((b"date", format_datetime(clock.now(), usegmt=True).encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        scope[RAW_SEND_SCOPE_KEY] = dated_send
        await super().__call__(scope, receive, dated_send)


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "services": list(request.app.sandbox.services)})


def service_routes(sandbox: Sandbox) -> list[BaseRoute]:
    """Per service: its gated API under its prefix, and its control routes if it has any."""
    routes: list[BaseRoute] = []
    for name, service in sandbox.services.items():
        gate = ServiceGate(
            service.asgi_app(),
            faults=sandbox.faults[name],
            stats=sandbox.stats,
            render_error=service.render_error,
        )
        routes.append(Mount(service.prefix, app=gate))
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
