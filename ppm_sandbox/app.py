"""The sandbox: one ASGI app hosting every emulator under its own prefix.

    GET  /healthz                    liveness
    /notion/v1/...                   Notion API (behind a ServiceGate: rate limit, latency, faults)
    /_sandbox/...                    control plane: stats, faults, clock (ppm_sandbox.control)
    /_sandbox/notion/...             Notion workspace mutations and truth (ppm_sandbox.notion.control)

Azure, UniFi, NinjaOne and Databricks emulators will mount beside `/notion` the same way: a
sub-app wrapped in its own `ServiceGate`, registered in `Sandbox.faults` under its name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from ppm_sandbox.clock import SandboxClock
from ppm_sandbox.control import control_routes
from ppm_sandbox.faults import RAW_SEND_SCOPE_KEY, FaultController, FaultSpec, ServiceGate, Stats
from ppm_sandbox.notion.app import build_notion_app
from ppm_sandbox.notion.control import control_routes as notion_control_routes
from ppm_sandbox.notion.errors import render_error as notion_error
from ppm_sandbox.notion.store import NotionStore
from ppm_sandbox.notion.workspace import NotionConfig


@dataclass(frozen=True)
class SandboxConfig:
    """Everything a sandbox starts with. `faults` applies to every service (Notion-like 3 req/s)."""

    notion: NotionConfig = field(default_factory=NotionConfig)
    faults: FaultSpec = field(default_factory=FaultSpec)
    frozen_at: datetime | None = None


class Sandbox:
    """The live state behind the app: tests and control endpoints mutate these objects."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.clock = SandboxClock(frozen_at=self.config.frozen_at)
        self.stats = Stats()
        self.notion = NotionStore(self.config.notion, clock=self.clock)
        self.faults: dict[str, FaultController] = {"notion": FaultController(self.config.faults)}

    def reset_faults(self) -> None:
        """Initial fault spec on every service, empty rate buckets, no armed cursor failures."""
        for controller in self.faults.values():
            controller.reset()
        self.notion.cursors.clear_faults()
        self.notion.cursors.ttl_s = self.config.notion.cursor_ttl_s


class SandboxApp(Starlette):
    """Starlette app that remembers the server's own `send` (see `faults.RAW_SEND_SCOPE_KEY`)."""

    sandbox: Sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[RAW_SEND_SCOPE_KEY] = send
        await super().__call__(scope, receive, send)


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "services": sorted(request.app.sandbox.faults)})


def build_app(config: SandboxConfig | None = None, *, sandbox: Sandbox | None = None) -> SandboxApp:
    """The composed sandbox app; its live state is `app.sandbox`."""
    state = sandbox or Sandbox(config)
    notion = ServiceGate(
        build_notion_app(state.notion),
        faults=state.faults["notion"],
        stats=state.stats,
        render_error=notion_error,
    )
    app = SandboxApp(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            *control_routes(state),
            Mount("/notion", app=notion),
            Mount("/_sandbox/notion", routes=notion_control_routes(state.notion)),
        ]
    )
    app.sandbox = state
    return app
