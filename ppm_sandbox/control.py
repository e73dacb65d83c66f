"""Service-independent control endpoints under `/_sandbox`.

GET    /_sandbox/stats                 counters (total, 429s, per endpoint, per status, faults)
POST   /_sandbox/stats/reset           zero them (DELETE /_sandbox/stats does the same)
GET    /_sandbox/faults                current fault spec of every service
POST   /_sandbox/faults                partial update for every service, e.g.
                                       {"rate": 30, "burst": 10, "latency_ms": 200,
                                        "fail_next": [{"status": 503, "count": 3}],
                                        "error_rate": 0.05, "cursor_expire_next": 2}
DELETE /_sandbox/faults                back to the start-up spec
GET|POST|DELETE /_sandbox/{service}/faults   the same for one service ("notion")
GET    /_sandbox/clock                 sandbox time
POST   /_sandbox/clock                 {"freeze": true} {"set": "2026-11-21T10:42:00Z"}
                                       {"advance_seconds": 90} {"unfreeze": true} {"real": true}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ppm_sandbox.faults import FaultController

if TYPE_CHECKING:
    from ppm_sandbox.app import Sandbox

#: Keys of a faults body that are Notion-specific and handled by the Notion store.
NOTION_FAULT_KEYS = ("cursor_expire_next", "cursor_ttl_s", "cursor_expire_all")


def apply_faults(sandbox: Sandbox, body: Mapping[str, Any], services: list[str]) -> dict[str, Any]:
    """Apply a JSON fault spec to `services`; returns the resulting specs."""
    changes = dict(body)
    cursors = sandbox.notion.cursors
    if "notion" in services:
        if changes.get("cursor_expire_next"):
            cursors.expire_next(int(changes["cursor_expire_next"]))
        if changes.get("cursor_ttl_s") is not None:
            cursors.ttl_s = float(changes["cursor_ttl_s"])
        if changes.get("cursor_expire_all"):
            cursors.expire_all()
    for key in NOTION_FAULT_KEYS:
        changes.pop(key, None)
    controllers: dict[str, FaultController] = {name: sandbox.faults[name] for name in services}
    # Validate against every service first so a bad key changes nothing anywhere.
    for controller in controllers.values():
        controller.spec.updated(changes)
    for controller in controllers.values():
        controller.update(changes)
    return describe_faults(sandbox, services)


def describe_faults(sandbox: Sandbox, services: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {name: sandbox.faults[name].spec.to_json() for name in services}
    if "notion" in services:
        out["notion"]["cursor_expire_next"] = sandbox.notion.cursors.pending_failures
        out["notion"]["cursor_ttl_s"] = sandbox.notion.cursors.ttl_s
    return out


def control_routes(sandbox: Sandbox) -> list[Route]:
    """Absolute routes (listed before the per-service `/_sandbox/<service>` mounts)."""

    async def body_of(request: Request) -> dict[str, Any]:
        raw = await request.body()
        data = json.loads(raw) if raw.strip() else {}
        if not isinstance(data, dict):
            raise ValueError("the body should be a JSON object")
        return data

    def services_of(request: Request) -> list[str]:
        service = request.path_params.get("service")
        if service is None:
            return sorted(sandbox.faults)
        if service not in sandbox.faults:
            raise KeyError(service)
        return [service]

    async def stats(request: Request) -> JSONResponse:
        if request.method == "DELETE":
            sandbox.stats.reset()
        return JSONResponse(sandbox.stats.snapshot())

    async def stats_reset(request: Request) -> JSONResponse:
        sandbox.stats.reset()
        return JSONResponse(sandbox.stats.snapshot())

    async def faults(request: Request) -> JSONResponse:
        try:
            services = services_of(request)
            if request.method == "POST":
                return JSONResponse(apply_faults(sandbox, await body_of(request), services))
            if request.method == "DELETE":
                for name in services:
                    sandbox.faults[name].reset()
                if "notion" in services:
                    sandbox.notion.cursors.clear_faults()
                    sandbox.notion.cursors.ttl_s = sandbox.config.notion.cursor_ttl_s
            return JSONResponse(describe_faults(sandbox, services))
        except KeyError as exc:
            return JSONResponse({"error": f"unknown service {exc.args[0]!r}"}, 404)
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, 400)

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
