"""The Azure emulator's HTTP API, served at the root of its own HTTPS listener.

    GET  /{tenant}/v2.0/.well-known/openid-configuration        identity platform (auth.py); also the v1
    POST /{tenant}/oauth2/v2.0/token                            `/{tenant}/.well-known/...` and the empty
    GET  /{tenant}/discovery/v2.0/keys                          key set
    POST /providers/Microsoft.ResourceGraph/resources           Resource Graph (graph.py) + its quota
    GET  /subscriptions/{id}/providers/Microsoft.Advisor/recommendations      Advisor (advisor.py)

ARM paths match case-insensitively, as ARM does. Order of checks, as ARM applies them: bearer token
(401), api-version (400 MissingApiVersionParameter / InvalidApiVersionParameter / NoRegisteredProviderFound),
then the resource provider: Resource Graph counts the query against the principal's quota first (429
RateLimiting) and puts `x-ms-user-quota-*` headers on every answer it gives.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ppm_sandbox.azure.advisor import Advisor
from ppm_sandbox.azure.auth import IdentityPlatform, Principal
from ppm_sandbox.azure.errors import ArmError, rate_limited
from ppm_sandbox.azure.graph import ResourceGraph
from ppm_sandbox.azure.quota import QuotaTracker
from ppm_sandbox.clock import SandboxClock

#: api-versions served, per provider. Resource Graph: 2024-04-01 (what the product pins) and 2021-03-01
#: (azure-mgmt-resourcegraph 8's default); Advisor: 2020-01-01 (azure-mgmt-advisor 9's default) and later.
GRAPH_API_VERSIONS: tuple[str, ...] = ("2021-03-01", "2024-04-01")
ADVISOR_API_VERSIONS: tuple[str, ...] = ("2020-01-01", "2022-10-01", "2023-01-01")
_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview|-beta|-alpha|-privatepreview)?$")

_OPENID = re.compile(r"^/([^/]+)(?:/v2\.0)?/\.well-known/openid-configuration/?$", re.IGNORECASE)
_TOKEN = re.compile(r"^/([^/]+)/oauth2/v2\.0/token/?$", re.IGNORECASE)
_KEYS = re.compile(r"^/([^/]+)/discovery/(?:v2\.0/)?keys/?$", re.IGNORECASE)
_GRAPH = re.compile(r"^/providers/microsoft\.resourcegraph/resources/?$", re.IGNORECASE)
_ADVISOR = re.compile(
    r"^/subscriptions/([^/]+)/providers/microsoft\.advisor/recommendations/?$", re.IGNORECASE
)


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type="application/json; charset=utf-8",
        headers=dict(headers or {}),
    )


def arm_headers() -> dict[str, str]:
    request_id = str(uuid.uuid4())
    return {
        "Cache-Control": "no-cache",
        "Pragma": "no-cache",
        "x-ms-request-id": request_id,
        "x-ms-correlation-request-id": request_id,
    }


def check_api_version(params: Mapping[str, str], supported: tuple[str, ...], resource_type: str) -> str:
    version = params.get("api-version")
    if not version:
        raise ArmError(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    listing = ", ".join(supported)
    if not _API_VERSION.match(version):
        raise ArmError(
            400,
            "InvalidApiVersionParameter",
            f"The api-version '{version}' is invalid. The supported versions are '{listing}'.",
        )
    if version not in supported:
        raise ArmError(
            400,
            "NoRegisteredProviderFound",
            f"No registered resource provider found for location 'global' and API version '{version}' for type "
            f"'{resource_type}'. The supported api-versions are '{listing}'. The supported locations are ', global'.",
        )
    return version


class AzureApp:
    """ASGI app over the emulator's parts (built by `AzureService`)."""

    def __init__(
        self,
        *,
        identity: IdentityPlatform,
        graph: ResourceGraph,
        advisor: Advisor,
        quota: QuotaTracker,
        clock: SandboxClock,
    ) -> None:
        self.identity = identity
        self.graph = graph
        self.advisor = advisor
        self.quota = quota
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        try:
            response = await self.dispatch(request)
        except ArmError as exc:
            response = json_response(exc.status, exc.body(), {**arm_headers(), **exc.headers})
        await response(scope, receive, send)

    async def dispatch(self, request: Request) -> Response:
        path, method = request.url.path, request.method
        base = f"{request.url.scheme}://{request.url.netloc}"
        if match := _OPENID.match(path):
            status, body = self.identity.openid_configuration(base, match.group(1))
            return json_response(status, body, {"Cache-Control": "max-age=86400, private"})
        if match := _TOKEN.match(path):
            if method != "POST":
                return self._method_not_allowed()
            status, body = self.identity.token(
                base,
                match.group(1),
                await request.body(),
                request.headers.get("content-type", ""),
                request.headers.get("authorization"),
            )
            return json_response(status, body, {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"})
        if match := _KEYS.match(path):
            if not self.identity.known_tenant(match.group(1)):
                status, body = self.identity.tenant_not_found(match.group(1), "invalid_tenant")
                return json_response(status, body)
            return json_response(200, {"keys": []})

        # Everything else is ARM: authenticated first, whatever the path.
        principal = self.identity.authenticate(request.headers.get("authorization"), base)
        params = {k.lower(): v for k, v in request.query_params.items()}
        if _GRAPH.match(path):
            if method != "POST":
                return self._method_not_allowed()
            check_api_version(params, GRAPH_API_VERSIONS, "resources")
            return await self._graph(request, principal)
        if match := _ADVISOR.match(path):
            if method != "GET":
                return self._method_not_allowed()
            version = check_api_version(params, ADVISOR_API_VERSIONS, "recommendations")
            payload = self.advisor.list(
                client_id=principal.client_id,
                object_id=principal.object_id,
                subscription=match.group(1),
                params=params,
                base=base,
                api_version=version,
                now=self.clock.now(),
            )
            return json_response(200, payload, arm_headers())
        raise ArmError(
            404,
            "InvalidResourceType",
            f"The resource type could not be found for path '{path}'. The Azure sandbox serves Resource Graph "
            "queries and Advisor recommendations only.",
        )

    async def _graph(self, request: Request, principal: Principal) -> Response:
        now = self.clock.now()
        verdict = self.quota.take(principal.client_id)
        quota_headers = verdict.headers()
        if not verdict.allowed:
            return json_response(429, rate_limited(now), {**arm_headers(), **quota_headers})
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            body = None
        try:
            payload = self.graph.run(principal.client_id, body, now)
        except ArmError as exc:
            return json_response(exc.status, exc.body(), {**arm_headers(), **exc.headers, **quota_headers})
        return json_response(200, payload, {**arm_headers(), **quota_headers})

    @staticmethod
    def _method_not_allowed() -> Response:
        error = ArmError(
            405, "HttpMethodNotAllowed", "The requested HTTP method is not allowed for this resource."
        )
        return json_response(405, error.body(), arm_headers())
