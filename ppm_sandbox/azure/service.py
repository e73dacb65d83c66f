"""The Azure emulator as a sandbox service: identity platform + ARM (Resource Graph, Advisor) over HTTPS.

`tls = True`: Azure's SDKs refuse plain HTTP (MSAL wants an https authority, the management clients
refuse to send bearer tokens over http) and MSAL takes the tenant from the first path segment of the
authority, so the service is served at `/` of its own HTTPS listener (`SandboxServer.service_url("azure")`,
certificate `SandboxServer.ca_cert`), not under a prefix of the HTTP port. Its prefix `/azure` stays
reserved there (nothing is mounted on it); its control routes are `/_sandbox/azure/...` on the HTTP port.

The gate's token bucket is off by default (`initial_faults`): Resource Graph throttles with its own
quota (`quota.py`). Gate-made errors (injected 5xx, timeouts, a configured token bucket) are rendered
in the format of the endpoint they answer: identity platform or ARM (`RateLimiting` for Resource Graph).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, ClassVar

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from ppm_sandbox.azure.advisor import Advisor
from ppm_sandbox.azure.app import AzureApp
from ppm_sandbox.azure.auth import IdentityPlatform
from ppm_sandbox.azure.config import AzureConfig
from ppm_sandbox.azure.control import AzureParts, control_routes
from ppm_sandbox.azure.errors import CURRENT_PATH, render_gate_error
from ppm_sandbox.azure.graph import ResourceGraph
from ppm_sandbox.azure.pagetokens import PageTokens
from ppm_sandbox.azure.quota import QuotaTracker
from ppm_sandbox.azure.store import AzureStore
from ppm_sandbox.clock import SandboxClock
from ppm_sandbox.faults import FaultSpec
from ppm_sandbox.notion.workspace import NotionConfig, plan_databases
from ppm_sandbox.services import SandboxService, ServiceContext


def live_project_count(notion: NotionConfig) -> int:
    """Projects of the Notion demo workspace that are not in the trash (the last one starts there)."""
    count = next(plan.count for plan in plan_databases(notion) if plan.key == "projects")
    return count - 1 if count >= 2 else count


class _PathContext:
    """Remembers the request path for `render_error` (the gate does not pass it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = CURRENT_PATH.set(scope.get("path", "/"))
        try:
            await self.app(scope, receive, send)
        finally:
            CURRENT_PATH.reset(token)


class AzureService(SandboxService):
    """One generated tenant (`store`) behind the identity platform, Resource Graph and Advisor."""

    name: ClassVar[str] = "azure"
    tls: ClassVar[bool] = True

    def __init__(self, config: AzureConfig, clock: SandboxClock, *, project_count: int) -> None:
        config.validate()
        self.config = config
        self.clock = clock
        self.store = AzureStore(config, project_count=project_count, clock=clock)
        self.quota = QuotaTracker(clock, config.quota, config.quota_window_s, config.retry_after)
        self.identity = IdentityPlatform(self.store, clock, config.token_lifetime_s)
        tokens = PageTokens()
        self.graph = ResourceGraph(self.store, tokens)
        self.advisor = Advisor(self.store, tokens, config.advisor_page_size)

    @classmethod
    def create(cls, context: ServiceContext) -> AzureService:
        """Registry factory: options from `SandboxConfig.services["azure"]`; tags point at the Notion projects."""
        config: AzureConfig = context.options(AzureConfig())
        count = config.project_count
        if count is None:
            count = live_project_count(context.config.service_options("notion", None) or NotionConfig())
        return cls(config, context.clock, project_count=count)

    def asgi_app(self) -> ASGIApp:
        return AzureApp(
            identity=self.identity, graph=self.graph, advisor=self.advisor, quota=self.quota, clock=self.clock
        )

    def wrap_gate(self, gate: ASGIApp) -> ASGIApp:
        return _PathContext(gate)

    def render_error(self, status: int, code: str | None) -> bytes:
        return render_gate_error(status, code, CURRENT_PATH.get(), self.clock.now())

    def initial_faults(self, spec: FaultSpec) -> FaultSpec:
        return replace(spec, rate=None)

    def control_routes(self) -> Sequence[BaseRoute]:
        return control_routes(AzureParts(self.config, self.store, self.quota, self.identity, self.describe))

    def reset(self) -> None:
        self.store.reset()
        self.quota.reset()

    def describe(self) -> dict[str, Any]:
        """What a client needs besides the URL and the certificate (ready line, /_sandbox/azure/principal)."""
        return {
            "tenant_id": self.config.tenant_id,
            "client_id": self.config.client_id,
            "client_secret": self.config.client_secret,
            "object_id": self.config.object_id,
            "extra_clients": sorted(self.config.extra_clients),
            "subscriptions": {s.subscription_id: s.display_name for s in self.store.subscriptions()},
            "credential_scope": "https://management.azure.com/.default",
            "api_versions": {"resourcegraph": "2024-04-01", "advisor": "2020-01-01"},
        }
