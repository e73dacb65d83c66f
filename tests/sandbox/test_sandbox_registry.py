"""The sandbox is a registry of services: Notion is the first, and a second one plugs in beside it.

`EchoService` is a throwaway service registered through the public registry API
(`SERVICES.with_service`): a real Starlette app served over real HTTP next to Notion, to prove
that a registered service is mounted under its prefix, gated by its own FaultController, shares
the clock and stats, has its control routes and reset, and is listed by `/healthz`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import ClassVar

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from ppm_sandbox import (
    SERVICES,
    FaultSpec,
    SandboxClock,
    SandboxConfig,
    SandboxProcess,
    SandboxServer,
    SandboxService,
    ServiceContext,
    ServiceRegistry,
)
from ppm_sandbox.notion.service import NotionService


class EchoService(SandboxService):
    """Answers `GET /echo/now` with the sandbox time and a greeting from `SandboxConfig.services`."""

    name: ClassVar[str] = "echo"

    def __init__(self, context: ServiceContext) -> None:
        self.clock = context.clock
        self.greeting = str(context.options("hello"))
        self.hits = 0

    def asgi_app(self) -> ASGIApp:
        async def now(request: Request) -> JSONResponse:
            self.hits += 1
            return JSONResponse({"greeting": self.greeting, "now": self.clock.now().isoformat()})

        return Starlette(routes=[Route("/now", now, methods=["GET"])])

    def render_error(self, status: int, code: str | None) -> bytes:
        # Deliberately not Notion's shape: each service keeps its own wire format.
        return json.dumps({"echo_error": code or f"status_{status}"}).encode()

    def control_routes(self) -> Sequence[BaseRoute]:
        async def hits(request: Request) -> JSONResponse:
            return JSONResponse({"hits": self.hits})

        return [Route("/hits", hits, methods=["GET"])]

    def reset(self) -> None:
        self.hits = 0


class PrefixedService(EchoService):
    """An echo under a custom prefix, to check prefix handling (never served)."""

    name: ClassVar[str] = "prefixed"

    def __init__(self, context: ServiceContext, prefix: str) -> None:
        super().__init__(context)
        self._prefix = prefix

    @property
    def prefix(self) -> str:
        return self._prefix


@pytest.fixture(scope="module")
def pair() -> Iterator[SandboxServer]:
    """Notion plus Echo on one server (the session `sandbox` keeps the default registry)."""
    registry = SERVICES.with_service("echo", EchoService)
    config = SandboxConfig(faults=FaultSpec.unlimited(), services={"echo": "bonjour"})
    with SandboxServer(config, services=registry) as server:
        yield server


@pytest.fixture
def clean_pair(pair: SandboxServer) -> Iterator[SandboxServer]:
    """Start-up faults, stats and clock, and a fresh echo (Notion's workspace is never edited here)."""
    pair.reset()
    pair.service("echo").reset()
    yield pair
    pair.reset()


@pytest.fixture
def pair_control(clean_pair: SandboxServer) -> Iterator[httpx.Client]:
    """Client for the pair's /_sandbox control plane."""
    with httpx.Client(base_url=f"{clean_pair.url}/_sandbox", timeout=10) as client:
        yield client


def notion_get(server: SandboxServer, headers: dict[str, str]) -> httpx.Response:
    return httpx.get(
        f"{server.notion_url}/v1/databases/{server.notion.database('projects').id}", headers=headers
    )


def echo_get(server: SandboxServer) -> httpx.Response:
    return httpx.get(f"{server.service_url('echo')}/now", timeout=10)


def test_default_registry_is_notion_and_healthz_lists_it(sandbox: SandboxServer) -> None:
    assert next(iter(SERVICES)) == "notion"
    assert list(sandbox.sandbox.services) == list(SERVICES)
    assert httpx.get(f"{sandbox.url}/healthz").json()["services"] == list(SERVICES)
    assert isinstance(sandbox.service("notion"), NotionService)
    assert sandbox.service("notion", NotionService).store is sandbox.notion
    assert sandbox.service_url("notion") == sandbox.notion_url
    assert sandbox.fault_controller("notion") is sandbox.faults


def test_a_registered_service_is_mounted_listed_and_configured(clean_pair: SandboxServer) -> None:
    assert "echo" not in SERVICES, "with_service must not touch the default registry"
    assert httpx.get(f"{clean_pair.url}/healthz").json() == {"status": "ok", "services": [*SERVICES, "echo"]}
    assert clean_pair.service_url("echo") == f"{clean_pair.url}/echo"
    response = echo_get(clean_pair)
    assert response.status_code == 200 and response.json()["greeting"] == "bonjour"
    assert httpx.get(f"{clean_pair.url}/_sandbox/echo/hits").json() == {"hits": 1}
    assert httpx.post(f"{clean_pair.url}/_sandbox/echo/reset").json() == {"ok": True}
    assert httpx.get(f"{clean_pair.url}/_sandbox/echo/hits").json() == {"hits": 0}
    assert httpx.post(f"{clean_pair.url}/_sandbox/nope/reset").status_code == 404
    with pytest.raises(KeyError, match="no sandbox service 'nope'"):
        clean_pair.service("nope")
    with pytest.raises(TypeError):
        clean_pair.service("echo", NotionService)


def test_services_share_one_clock_and_one_stats(
    clean_pair: SandboxServer, pair_control: httpx.Client, notion_headers: dict[str, str]
) -> None:
    echo = clean_pair.service("echo", EchoService)
    assert echo.clock is clean_pair.clock is clean_pair.notion.clock
    pair_control.post("/clock", json={"set": "2026-11-21T10:42:00Z", "freeze": True})
    assert echo_get(clean_pair).json()["now"].startswith("2026-11-21T10:42:00")
    clean_pair.stats.reset()
    assert notion_get(clean_pair, notion_headers).status_code == 200
    assert echo_get(clean_pair).status_code == 200
    stats = pair_control.get("/stats").json()
    assert stats["total_requests"] == 2
    assert stats["by_endpoint"] == {"GET /echo/now": 1, "GET /notion/v1/databases/{id}": 1}


def test_each_service_has_its_own_fault_controller(
    clean_pair: SandboxServer, pair_control: httpx.Client, notion_headers: dict[str, str]
) -> None:
    assert clean_pair.fault_controller("echo") is not clean_pair.faults
    # Faults set on echo only: echo fails in its own format, Notion is untouched.
    echo = pair_control.post("/echo/faults", json={"fail_next": [{"status": 503, "count": 2}]}).json()
    assert list(echo) == ["echo"] and echo["echo"]["fail_next"][0]["count"] == 2
    assert "cursor_ttl_s" not in echo["echo"], "Notion's own fault keys stay Notion's"
    assert notion_get(clean_pair, notion_headers).status_code == 200
    failed = echo_get(clean_pair)
    assert failed.status_code == 503 and failed.json() == {"echo_error": "status_503"}
    assert pair_control.get("/faults").json()["notion"]["fail_next"] == []
    # Faults set on Notion only (with a Notion-specific key): echo is untouched.
    notion = pair_control.post(
        "/notion/faults", json={"fail_next": [{"status": 502}], "cursor_expire_next": 1}
    )
    assert notion.json()["notion"]["cursor_expire_next"] == 1
    assert echo_get(clean_pair).status_code == 503  # echo's own second queued failure
    assert echo_get(clean_pair).status_code == 200
    bad_gateway = notion_get(clean_pair, notion_headers)
    assert bad_gateway.status_code == 502 and bad_gateway.json()["code"] == "bad_gateway"
    # A Notion key sent to echo is rejected, and a rejected body changes nothing anywhere.
    assert pair_control.post("/echo/faults", json={"cursor_expire_next": 3}).status_code == 400
    bad = pair_control.post("/faults", json={"latency_ms": 5, "cursor_expire_next": "x"})
    assert bad.status_code == 400
    everything = pair_control.get("/faults").json()
    assert list(everything) == [*SERVICES, "echo"]
    assert everything["notion"]["cursor_expire_next"] == 1
    assert everything["notion"]["latency_ms"] == everything["echo"]["latency_ms"] == 0


def test_faults_for_every_service_and_reset_per_service(
    clean_pair: SandboxServer, pair_control: httpx.Client, notion_headers: dict[str, str]
) -> None:
    both = pair_control.post("/faults", json={"fail_next": [{"status": 500}], "cursor_ttl_s": 60}).json()
    assert both["notion"]["cursor_ttl_s"] == 60 and "cursor_ttl_s" not in both["echo"]
    assert echo_get(clean_pair).json() == {"echo_error": "status_500"}
    assert notion_get(clean_pair, notion_headers).json()["code"] == "internal_server_error"
    clean_pair.set_faults(rate=1, burst=1)
    assert [echo_get(clean_pair).status_code for _ in range(2)] == [200, 429]
    # Each gate keeps its own bucket: echo's exhausted bucket does not limit Notion.
    assert notion_get(clean_pair, notion_headers).status_code == 200
    assert pair_control.delete("/echo/faults").json()["echo"]["rate"] == "unlimited"
    assert pair_control.get("/notion/faults").json()["notion"]["rate"] == 1
    assert echo_get(clean_pair).status_code == 200
    assert pair_control.get("/nope/faults").status_code == 404


def test_registry_rejects_clashing_services() -> None:
    with pytest.raises(ValueError, match="already registered"):
        SERVICES.with_service("notion", NotionService.create)
    for bad in ("stats", "faults", "clock", "healthz", "Bad-Name"):
        with pytest.raises(ValueError, match="invalid sandbox service name"):
            ServiceRegistry().register(bad, EchoService)

    def build(prefix: str) -> dict[str, SandboxService]:
        registry = ServiceRegistry({"echo": EchoService})
        registry.register("prefixed", lambda context: PrefixedService(context, prefix))
        return registry.build(SandboxConfig(), SandboxClock())

    assert build("/other/api")["prefixed"].prefix == "/other/api"
    with pytest.raises(ValueError, match="overlap"):
        build("/echo/sub")
    for prefix in ("/_sandbox/x", "/healthz", "no-slash", "/trailing/"):
        with pytest.raises(ValueError, match="bad prefix"):
            build(prefix)
    with pytest.raises(ValueError, match="registered as 'other' built service 'echo'"):
        ServiceRegistry({"other": EchoService}).build(SandboxConfig(), SandboxClock())


def test_ready_line_lists_service_urls() -> None:
    with SandboxProcess(rate=None, counts={"budget_lines": 100}) as proc:
        assert list(proc.info["services"]) == list(SERVICES)
        assert proc.service_url("notion") == proc.notion_url == f"{proc.url}/notion"
        assert httpx.get(f"{proc.url}/healthz").json()["services"] == list(SERVICES)
