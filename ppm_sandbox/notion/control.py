"""Control endpoints `/_sandbox/notion/...`: mutate and inspect the workspace over HTTP.

They call the same `NotionStore` methods as the Python API and take plain values
(`{"properties": {"Amount": 12.5, "Status": "Done"}}`). No auth, no rate limit, no faults.
`NotionService.control_routes` hands them to the sandbox; `POST /_sandbox/notion/reset` and
`/_sandbox/notion/faults` are the shared control plane's (`ppm_sandbox.control`).

Webhooks: `POST /_sandbox/notion/webhooks {"url": ..., "verification_token": optional, "api_version": optional}`
subscribes a receiver (the handshake first; 502 if the receiver does not acknowledge it), `DELETE` with
`{"url": ...}` (or no body: every URL) unsubscribes, `GET` lists subscriptions and delivery counters.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ppm_sandbox.notion.errors import NotionError, error_body, validation_error
from ppm_sandbox.notion.render import V2022, VERSIONS, render_page
from ppm_sandbox.notion.store import NotionStore
from ppm_sandbox.notion.webhooks import WebhookError

ControlHandler = Callable[[Request, NotionStore], Awaitable[Any]]


def _wrap(store: NotionStore, handler: ControlHandler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            result = await handler(request, store)
        except NotionError as exc:
            return JSONResponse(error_body(exc.status, exc.code, exc.message), exc.status)
        except KeyError as exc:
            return JSONResponse(
                error_body(404, "object_not_found", str(exc.args[0] if exc.args else exc)), 404
            )
        except (ValueError, TypeError) as exc:
            return JSONResponse(error_body(400, "validation_error", str(exc)), 400)
        return result if isinstance(result, Response) else JSONResponse(result)

    return endpoint


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    body = json.loads(raw)
    if not isinstance(body, dict):
        raise ValueError("the body should be a JSON object")
    return body


def _version(request: Request) -> str:
    version = request.query_params.get("version", V2022)
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {VERSIONS}")
    return version


async def databases(request: Request, store: NotionStore) -> Any:
    with store.lock:
        return {"databases": store.describe()}


async def defects(request: Request, store: NotionStore) -> Any:
    database = request.query_params.get("database")
    with store.lock:
        found = store.defects(database)
    return {
        "count": len(found),
        "by_kind": dict(Counter(d.kind for d in found)),
        "by_database": dict(Counter(d.database for d in found)),
        "defects": [d.to_json() for d in found],
    }


async def truth(request: Request, store: NotionStore) -> Any:
    ref = request.path_params["database"]
    offset = int(request.query_params.get("offset", 0))
    limit = int(request.query_params.get("limit", 10_000))
    pages = []
    with store.lock:
        db = store.database(ref)
        for n, page in enumerate(store.iter_truth(db.key)):
            if n < offset:
                continue
            if len(pages) >= limit:
                break
            pages.append(page)
        total = store.count_live(db.key)
    return {"database": db.title, "database_id": db.id, "total": total, "offset": offset, "pages": pages}


async def create_page(request: Request, store: NotionStore) -> Any:
    body = await _json(request)
    with store.lock:
        view = store.create_page(
            request.path_params["database"], body.get("properties") or {}, by=body.get("by")
        )
        return render_page(store, view, _version(request))


async def edit_page(request: Request, store: NotionStore) -> Any:
    body = await _json(request)
    with store.lock:
        view = store.update_page(
            request.path_params["page_id"],
            body.get("properties") or {},
            in_trash=body.get("in_trash"),
            by=body.get("by"),
            simple=True,
        )
        return render_page(store, view, _version(request))


def _page_action(action: str) -> ControlHandler:
    async def handler(request: Request, store: NotionStore) -> Any:
        page_id = request.path_params["page_id"]
        getattr(store, action)(page_id)
        return {"ok": True, "page_id": page_id, "action": action}

    return handler


async def move_page(request: Request, store: NotionStore) -> Any:
    """`{"database": key|title|id}`: the page moves there, keeping its id."""
    body = await _json(request)
    database = body.get("database")
    if not isinstance(database, str):
        raise validation_error("body.database should be a database key, title or id")
    with store.lock:
        view = store.move_page(request.path_params["page_id"], database, by=body.get("by"))
        return render_page(store, view, _version(request))


async def delete_page(request: Request, store: NotionStore) -> Any:
    store.delete_page(request.path_params["page_id"])
    return {"ok": True, "page_id": request.path_params["page_id"], "action": "delete_page"}


def _database_share(shared: bool) -> ControlHandler:
    async def handler(request: Request, store: NotionStore) -> Any:
        db = store.database(request.path_params["database"])
        (store.share if shared else store.unshare)(db.id)
        return {"ok": True, "database_id": db.id, "shared": shared}

    return handler


async def add_property(request: Request, store: NotionStore) -> Any:
    body = await _json(request)
    spec = store.add_property(
        request.path_params["database"],
        body["name"],
        body["type"],
        options=body.get("options"),
        prefix=body.get("prefix"),
        target=body.get("target"),
    )
    return {"id": spec.id, "name": spec.name, "type": spec.type}


async def rename_property(request: Request, store: NotionStore) -> Any:
    body = await _json(request)
    spec = store.rename_property(request.path_params["database"], request.path_params["name"], body["name"])
    return {"id": spec.id, "name": spec.name, "type": spec.type}


async def drop_property(request: Request, store: NotionStore) -> Any:
    spec = store.drop_property(request.path_params["database"], request.path_params["name"])
    return {"id": spec.id, "name": spec.name, "type": spec.type, "dropped": True}


async def cursors(request: Request, store: NotionStore) -> Any:
    if request.method == "POST":
        body = await _json(request)
        if body.get("all"):
            store.cursors.expire_all()
        if body.get("next"):
            store.cursors.expire_next(int(body["next"]))
        if body.get("ttl_s") is not None:
            store.cursors.ttl_s = float(body["ttl_s"])
        if body.get("clear"):
            store.cursors.clear_faults()
    return {"ttl_s": store.cursors.ttl_s, "pending_failures": store.cursors.pending_failures}


async def webhooks(request: Request, store: NotionStore) -> Any:
    """Subscribe (handshake, then signed events per page mutation), unsubscribe, or describe."""
    sender = store.webhooks
    if request.method == "GET":
        return sender.describe()
    body = await _json(request)
    url = body.get("url")
    if request.method == "DELETE":
        if url is None:
            removed = len(sender.subscriptions())
            sender.clear()
        elif not sender.unsubscribe(str(url)):
            raise KeyError(f"no webhook subscription for {url!r}")
        else:
            removed = 1
        return {"ok": True, "removed": removed}
    token = body.get("verification_token")
    if not isinstance(url, str) or (token is not None and not isinstance(token, str)):
        raise validation_error("body.url should be the receiver's URL and body.verification_token a string")
    try:
        # The handshake waits for the receiver: off the event loop, and never under the store lock.
        subscription = await asyncio.to_thread(
            sender.subscribe, url, token, str(body.get("api_version") or V2022)
        )
    except WebhookError as exc:
        return JSONResponse(error_body(502, "webhook_handshake_failed", str(exc)), 502)
    return {**subscription.to_json(), "verification_token": subscription.token}


def control_routes(store: NotionStore) -> list[Route]:
    """Routes relative to `/_sandbox/notion`."""

    def r(path: str, handler: ControlHandler, methods: list[str]) -> Route:
        return Route(path, _wrap(store, handler), methods=methods)

    return [
        r("/databases", databases, ["GET"]),
        r("/defects", defects, ["GET"]),
        r("/databases/{database}/truth", truth, ["GET"]),
        r("/databases/{database}/pages", create_page, ["POST"]),
        r("/databases/{database}/unshare", _database_share(False), ["POST"]),
        r("/databases/{database}/share", _database_share(True), ["POST"]),
        r("/databases/{database}/properties", add_property, ["POST"]),
        r("/databases/{database}/properties/{name:path}", rename_property, ["PATCH"]),
        r("/databases/{database}/properties/{name:path}", drop_property, ["DELETE"]),
        r("/pages/{page_id}", edit_page, ["PATCH"]),
        r("/pages/{page_id}", delete_page, ["DELETE"]),
        r("/pages/{page_id}/move", move_page, ["POST"]),
        r("/pages/{page_id}/trash", _page_action("trash_page"), ["POST"]),
        r("/pages/{page_id}/untrash", _page_action("untrash_page"), ["POST"]),
        r("/pages/{page_id}/unshare", _page_action("unshare"), ["POST"]),
        r("/pages/{page_id}/share", _page_action("share"), ["POST"]),
        r("/cursors", cursors, ["GET", "POST"]),
        r("/webhooks", webhooks, ["GET", "POST", "DELETE"]),
    ]
