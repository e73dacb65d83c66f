"""Control endpoints `/_sandbox/azure/...` (HTTP port; no auth, no gate): inspect and mutate the tenant.

    GET    /truth                         counts per subscription, project links, recommendations by category
    GET    /defects                       planted defects still present
    GET    /principal                     tenant id, client id + secret, object id, subscriptions
    GET    /subscriptions                 subscriptions with their denials
    POST   /subscriptions                 {"display_name": "ppm-lab", "subscription_id"?: ..., "currency"?: "USD"}
    DELETE /subscriptions/{id}            the subscription and everything in it disappear
    POST   /subscriptions/{id}/deny       {"client_id"?: ...} (default: every principal)
    POST   /subscriptions/{id}/allow      {"client_id"?: ...} (default: lift every denial)
    POST   /resource-groups               {"subscription_id", "name", "location"?, "tags"?}
    DELETE /resource-groups               {"subscription_id", "name"}
    POST   /resources                     {"subscription_id", "resource_group", "type", "name", "location"?,
                                           "tags"?, "sku"?, "kind"?, "properties"?, "parent"?}
    DELETE /resources                     {"id": ...}
    PUT    /tags                          {"id": resource or group id, "tags": {...} | null}
    PATCH  /tags                          {"id": ..., "set": {...}, "remove": [...]}
    POST   /recommendations               {"resource_id", "category"?, "impact"?, "problem"?, "solution"?,
                                           "extended_properties"?: {...}, "guid"?}
    DELETE /recommendations/{guid}
    GET    /quota, POST /quota            {"quota": 15, "window_s": 5, "retry_after": true, "clear": true}
    POST   /tokens                        {"client_id"?: ..., "audience"?: ...}: a valid access token (curl)

`POST /_sandbox/azure/reset` (shared control plane) restores the generated tenant and the quota settings.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ppm_sandbox.azure.auth import IdentityPlatform
from ppm_sandbox.azure.config import AzureConfig
from ppm_sandbox.azure.quota import QuotaTracker
from ppm_sandbox.azure.store import AzureStore


@dataclass(frozen=True)
class AzureParts:
    """What the control routes act on (the service's live parts)."""

    config: AzureConfig
    store: AzureStore
    quota: QuotaTracker
    identity: IdentityPlatform
    describe: Callable[[], dict[str, Any]]


Handler = Callable[[Request, AzureParts], Awaitable[Any]]


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    body = json.loads(raw)
    if not isinstance(body, dict):
        raise ValueError("the body should be a JSON object")
    return body


def _wrap(service: AzureParts, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            result = await handler(request, service)
        except KeyError as exc:
            return JSONResponse({"error": str(exc.args[0] if exc.args else exc)}, 404)
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return result if isinstance(result, Response) else JSONResponse(result)

    return endpoint


async def truth(request: Request, service: AzureParts) -> Any:
    return service.store.counts()


async def defects(request: Request, service: AzureParts) -> Any:
    found = service.store.defects()
    kinds: dict[str, int] = {}
    for d in found:
        kinds[d.kind] = kinds.get(d.kind, 0) + 1
    return {"count": len(found), "by_kind": kinds, "defects": [d.to_json() for d in found]}


async def principal(request: Request, service: AzureParts) -> Any:
    return service.describe()


async def subscriptions(request: Request, service: AzureParts) -> Any:
    store = service.store
    if request.method == "POST":
        body = await _json(request)
        sub = store.add_subscription(
            str(body["display_name"]), body.get("subscription_id"), currency=str(body.get("currency", "USD"))
        )
        return {"subscription_id": sub.subscription_id, "display_name": sub.display_name}
    denied = store.denied()
    return {
        "subscriptions": [
            {
                "subscription_id": s.subscription_id,
                "display_name": s.display_name,
                "denied_to": [d["client_id"] for d in denied if d["subscription_id"] == s.subscription_id],
            }
            for s in store.subscriptions()
        ]
    }


async def remove_subscription(request: Request, service: AzureParts) -> Any:
    service.store.remove_subscription(request.path_params["subscription"])
    return {"ok": True}


def _access(allow: bool) -> Handler:
    async def handler(request: Request, service: AzureParts) -> Any:
        body = await _json(request)
        sub = request.path_params["subscription"]
        if allow:
            service.store.allow_subscription(sub, body.get("client_id"))
        else:
            service.store.deny_subscription(sub, body.get("client_id"))
        return {"ok": True, "denied": service.store.denied()}

    return handler


async def resource_groups(request: Request, service: AzureParts) -> Any:
    body = await _json(request)
    if request.method == "DELETE":
        service.store.remove_resource_group(str(body["subscription_id"]), str(body["name"]))
        return {"ok": True}
    group = service.store.add_resource_group(
        str(body["subscription_id"]),
        str(body["name"]),
        str(body.get("location", "westeurope")),
        body.get("tags"),
    )
    return {"id": group.id}


async def resources(request: Request, service: AzureParts) -> Any:
    body = await _json(request)
    if request.method == "DELETE":
        service.store.remove_resource(str(body["id"]))
        return {"ok": True}
    res = service.store.add_resource(
        str(body["subscription_id"]),
        str(body["resource_group"]),
        str(body["type"]),
        str(body["name"]),
        location=body.get("location"),
        tags=body.get("tags"),
        sku=body.get("sku"),
        kind=str(body.get("kind", "")),
        properties=body.get("properties"),
        parent=body.get("parent"),
    )
    return {"id": res.id}


async def tags(request: Request, service: AzureParts) -> Any:
    body = await _json(request)
    target = str(body["id"])
    if request.method == "PUT":
        service.store.set_tags(target, body.get("tags"))
    else:
        service.store.update_tags(target, body.get("set") or {}, body.get("remove") or ())
    return {"ok": True}


async def recommendations(request: Request, service: AzureParts) -> Any:
    body = await _json(request)
    rec = service.store.add_recommendation(
        str(body["resource_id"]),
        category=str(body.get("category", "Cost")),
        impact=str(body.get("impact", "Medium")),
        problem=str(body.get("problem", "Sandbox recommendation")),
        solution=str(body.get("solution", "Sandbox recommendation")),
        extended=body.get("extended_properties"),
        guid=body.get("guid"),
    )
    return rec.to_json()


async def remove_recommendation(request: Request, service: AzureParts) -> Any:
    service.store.remove_recommendation(request.path_params["guid"])
    return {"ok": True}


async def quota(request: Request, service: AzureParts) -> Any:
    if request.method == "POST":
        body = await _json(request)
        service.quota.configure(
            quota=body.get("quota"), window_s=body.get("window_s"), retry_after=body.get("retry_after")
        )
        if body.get("clear"):
            service.quota.clear()
    return service.quota.describe()


async def tokens(request: Request, service: AzureParts) -> Any:
    body = await _json(request)
    client_id = str(body.get("client_id", service.config.client_id))
    if client_id not in service.store.clients():
        raise KeyError(f"unknown client {client_id}")
    audience = str(body.get("audience", "https://management.azure.com"))
    return {"token_type": "Bearer", "access_token": service.identity.issue(client_id, audience)}


def control_routes(service: AzureParts) -> list[Route]:
    def route(path: str, handler: Handler, methods: list[str]) -> Route:
        return Route(path, _wrap(service, handler), methods=methods)

    return [
        route("/truth", truth, ["GET"]),
        route("/defects", defects, ["GET"]),
        route("/principal", principal, ["GET"]),
        route("/subscriptions", subscriptions, ["GET", "POST"]),
        route("/subscriptions/{subscription}", remove_subscription, ["DELETE"]),
        route("/subscriptions/{subscription}/deny", _access(False), ["POST"]),
        route("/subscriptions/{subscription}/allow", _access(True), ["POST"]),
        route("/resource-groups", resource_groups, ["POST", "DELETE"]),
        route("/resources", resources, ["POST", "DELETE"]),
        route("/tags", tags, ["PUT", "PATCH"]),
        route("/recommendations", recommendations, ["POST"]),
        route("/recommendations/{guid}", remove_recommendation, ["DELETE"]),
        route("/quota", quota, ["GET", "POST"]),
        route("/tokens", tokens, ["POST"]),
    ]
