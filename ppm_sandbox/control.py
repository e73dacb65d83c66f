"""The control plane shared by every service, under `/_sandbox` (no auth, no gate).

GET    /_sandbox/stats                 counters (total, 429s, per endpoint, per status, faults)
POST   /_sandbox/stats/reset           zero them (DELETE /_sandbox/stats does the same)
GET    /_sandbox/faults                current fault spec of every service, by name
POST   /_sandbox/faults                partial update for every service, e.g.
                                       {"rate": 30, "burst": 10, "latency_ms": 200,
                                        "fail_next": [{"status": 503, "count": 3}],
                                        "error_rate": 0.05, "cursor_expire_next": 2}
                                       (keys a service declares in `fault_keys`, like Notion's
                                       cursor_*, go to that service)
DELETE /_sandbox/faults                back to the start-up spec
GET|POST|DELETE /_sandbox/{service}/faults   the same for one service only (404 if unknown)
POST   /_sandbox/{service}/reset       the service's state back to start-up (`service.reset()`)
GET    /_sandbox/clock                 sandbox time (one clock for every service)
POST   /_sandbox/clock                 {"freeze": true} {"set": "2026-11-21T10:42:00Z"}
                                       {"advance_seconds": 90} {"unfreeze": true} {"real": true}

Fault logic lives in `Sandbox.apply_faults` / `describe_faults` / `reset_faults`; this module
only speaks HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

if TYPE_CHECKING:
    from ppm_sandbox.sandbox import Sandbox


def control_routes(sandbox: Sandbox) -> list[Route]:
    """Absolute routes (listed before the per-service `/_sandbox/<service>` mounts)."""

    async def body_of(request: Request) -> dict[str, Any]:
        raw = await request.body()
        data = json.loads(raw) if raw.strip() else {}
        if not isinstance(data, dict):
            raise ValueError("the body should be a JSON object")
        return data

    def unknown_service(request: Request) -> JSONResponse:
        return JSONResponse({"error": f"unknown service {request.path_params['service']!r}"}, 404)

    async def stats(request: Request) -> JSONResponse:
        if request.method == "DELETE":
            sandbox.stats.reset()
        return JSONResponse(sandbox.stats.snapshot())

    async def stats_reset(request: Request) -> JSONResponse:
        sandbox.stats.reset()
        return JSONResponse(sandbox.stats.snapshot())

    async def faults(request: Request) -> JSONResponse:
        service = request.path_params.get("service")
        try:
            services = sandbox.service_names(None if service is None else [service])
        except KeyError:
            return unknown_service(request)
        try:
            if request.method == "POST":
                return JSONResponse(sandbox.apply_faults(await body_of(request), services))
            if request.method == "DELETE":
                sandbox.reset_faults(services)
            return JSONResponse(sandbox.describe_faults(services))
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, 400)

    async def reset_service(request: Request) -> JSONResponse:
        try:
            service = sandbox.service(request.path_params["service"])
        except KeyError:
            return unknown_service(request)
        service.reset()
        return JSONResponse({"ok": True})

    async def clock(request: Request) -> JSONResponse:
        if request.method == "POST":
            try:
                body = await body_of(request)
                _apply_clock(sandbox, body)
            except (ValueError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse(sandbox.clock.describe())

    return [
        Route("/_sandbox/stats", stats, methods=["GET", "DELETE"]),
        Route("/_sandbox/stats/reset", stats_reset, methods=["POST"]),
        Route("/_sandbox/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/{service}/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/{service}/reset", reset_service, methods=["POST"]),
        Route("/_sandbox/clock", clock, methods=["GET", "POST"]),
    ]


def _apply_clock(sandbox: Sandbox, body: Mapping[str, Any]) -> None:
    clock = sandbox.clock
    if body.get("real"):
        clock.real()
    if body.get("freeze"):
        clock.freeze()
    if body.get("set"):
        clock.set(datetime.fromisoformat(str(body["set"]).replace("Z", "+00:00")))
    if body.get("advance_seconds"):
        clock.advance(float(body["advance_seconds"]))
    if body.get("unfreeze"):
        clock.unfreeze()
