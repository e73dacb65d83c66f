"""HTTP routes of the Notion API emulator (served under `/notion` by `NotionService`, ppm_sandbox.notion.service).

Every request is checked like the real API does: bearer token (401 `unauthorized`), then the
`Notion-Version` header (400 `missing_version`), then the JSON body (400 `invalid_json`), then
path ids (400 `validation_error`), then sharing (404 `object_not_found`). Unknown URLs answer
400 `invalid_request_url`. Rate limits and injected faults happen in front of this app, in
`ppm_sandbox.faults.ServiceGate`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppm_sandbox.notion.errors import (
    NotionError,
    error_body,
    invalid_request_url,
    not_found,
    validation_error,
)
from ppm_sandbox.notion.ids import normalize_uuid
from ppm_sandbox.notion.properties import MAX_ARRAY_ITEMS, parse_rich_text
from ppm_sandbox.notion.query import (
    MAX_PAGE_SIZE,
    page_size_of,
    retrieve_data_source,
    retrieve_database,
    run_query_json,
    run_search,
)
from ppm_sandbox.notion.render import (
    V2022,
    V2025,
    VERSIONS,
    property_items,
    render_loose_page,
    render_page,
    single_property_item,
)
from ppm_sandbox.notion.schema import LIST_ITEM_TYPES, DatabaseSchema
from ppm_sandbox.notion.store import Database, NotionStore, require_database

Handler = Callable[[Request, NotionStore, str], Awaitable[Any]]


def json_response(
    payload: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    request_id = str(uuid.uuid4())
    body = {**payload, "request_id": payload.get("request_id", request_id)}
    return Response(
        json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(),
        status_code=status,
        media_type="application/json",
        headers={"x-request-id": body["request_id"], **(headers or {})},
    )


def error_response(exc: NotionError) -> Response:
    return json_response(error_body(exc.status, exc.code, exc.message), exc.status)


def _authorize(request: Request, store: NotionStore) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not store.config.token_ok(token.strip()):
        raise NotionError(401, "unauthorized", "API token is invalid.")


def _version(request: Request) -> str:
    version = request.headers.get("notion-version")
    if version is None:
        raise NotionError(
            400, "missing_version", "Notion-Version header should be defined, instead was `undefined`."
        )
    if version not in VERSIONS:
        raise validation_error(
            f"Notion-Version header failed validation: `{version}` is not a supported API version "
            f"(this sandbox supports {', '.join(VERSIONS)})."
        )
    return version


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotionError(400, "invalid_json", "Error parsing JSON body.") from exc
    if not isinstance(body, dict):
        raise validation_error(f"body failed validation: body should be an object, instead was `{body!r}`.")
    return body


def _only(request: Request, schema: DatabaseSchema) -> set[str] | None:
    """Property ids from repeated `filter_properties` query parameters."""
    wanted = request.query_params.getlist("filter_properties")
    if not wanted:
        return None
    ids = set()
    for key in wanted:
        spec = schema.get(key)
        if spec is None:
            raise validation_error(f"Could not find property with name or id: {key}")
        ids.add(spec.id)
    return ids


def _endpoint(store: NotionStore, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            _authorize(request, store)
            version = _version(request)
            result = await handler(request, store, version)
        except NotionError as exc:
            return error_response(exc)
        return result if isinstance(result, Response) else json_response(result)

    return endpoint


# -------------------------------------------------------------------------------- handlers


async def get_database(request: Request, store: NotionStore, version: str) -> dict[str, Any]:
    db = require_database(store, request.path_params["database_id"], data_source=False)
    return retrieve_database(store, db, version)


async def query_database(request: Request, store: NotionStore, version: str) -> Response:
    if version == V2025:
        raise invalid_request_url(
            "POST /v1/databases/{database_id}/query is not available in Notion-Version 2025-09-03: "
            "query the database's data source with POST /v1/data_sources/{data_source_id}/query."
        )
    body = await _body(request)
    db = require_database(store, request.path_params["database_id"], data_source=False)
    return query_response(store, db, body, version, _only(request, db.schema))


async def get_data_source(request: Request, store: NotionStore, version: str) -> dict[str, Any]:
    _require_2025(version)
    db = require_database(store, request.path_params["data_source_id"], data_source=True)
    return retrieve_data_source(store, db)


async def query_data_source(request: Request, store: NotionStore, version: str) -> Response:
    _require_2025(version)
    body = await _body(request)
    db = require_database(store, request.path_params["data_source_id"], data_source=True)
    return query_response(store, db, body, version, _only(request, db.schema))


def query_response(
    store: NotionStore, db: Database, body: dict[str, Any], version: str, only: set[str] | None
) -> Response:
    """Query results are written straight to JSON bytes (see `render_json`)."""
    request_id = str(uuid.uuid4())
    content = run_query_json(store, db, body, version, request_id, only)
    return Response(content, media_type="application/json", headers={"x-request-id": request_id})


def _require_2025(version: str) -> None:
    if version != V2025:
        raise invalid_request_url(
            f"Data source endpoints need Notion-Version {V2025}; with {version} use /v1/databases/{{database_id}}."
        )


def _page_id(request: Request) -> str:
    raw = request.path_params["page_id"]
    normalized = normalize_uuid(raw)
    if normalized is None:
        raise validation_error(
            f'path failed validation: path.page_id should be a valid uuid, instead was `"{raw}"`.'
        )
    return normalized


async def get_page(request: Request, store: NotionStore, version: str) -> dict[str, Any]:
    page_id = _page_id(request)
    with store.lock:
        loose = store.loose_pages.get(page_id)
        if loose is not None:  # a page outside every database (parent: a page or the workspace)
            return render_loose_page(store, loose, version)
        view = store.require_view(page_id)
        return render_page(store, view, version, _only(request, view.db.schema))


async def patch_page(request: Request, store: NotionStore, version: str) -> dict[str, Any]:
    body = await _body(request)
    page_id = _page_id(request)
    trash = body.get("in_trash", body.get("archived"))
    if "in_trash" in body and "archived" in body and body["in_trash"] != body["archived"]:
        raise validation_error("body failed validation: body.in_trash and body.archived disagree.")
    if trash is not None and not isinstance(trash, bool):
        raise validation_error(
            f"body failed validation: body.in_trash should be a boolean, instead was `{trash!r}`."
        )
    properties = body.get("properties")
    if properties is not None and not isinstance(properties, dict):
        raise validation_error("body failed validation: body.properties should be an object.")
    with store.lock:
        view = store.update_page(page_id, properties, in_trash=trash, by=store.model.bot.id)
        return render_page(store, view, version)


async def create_page(request: Request, store: NotionStore, version: str) -> dict[str, Any]:
    body = await _body(request)
    parent = body.get("parent")
    if not isinstance(parent, dict):
        raise validation_error(
            "body failed validation: body.parent should be defined, instead was `undefined`."
        )
    if "data_source_id" in parent:
        if version != V2025:
            raise validation_error(f"body.parent.data_source_id needs Notion-Version {V2025}.")
        db = require_database(store, str(parent["data_source_id"]), data_source=True)
    elif "database_id" in parent:
        db = require_database(store, str(parent["database_id"]), data_source=False)
    else:
        raise validation_error(
            "The sandbox creates pages in databases only: body.parent.database_id should be defined."
        )
    properties = body.get("properties") or {}
    _check_children(body.get("children"))
    with store.lock:
        view = store.create_page(db.key, properties, by=store.model.bot.id, simple=False)
        return render_page(store, view, version)


#: Block types whose body is `{rich_text: [...]}`: what a page's content is validated as (blocks are not stored).
TEXT_BLOCK_TYPES = frozenset(
    {"paragraph", "heading_1", "heading_2", "heading_3", "bulleted_list_item", "numbered_list_item", "quote",
     "to_do", "toggle", "callout"}
)  # fmt: skip


def _check_children(children: Any) -> None:
    """Validate `children` as Notion does (an array of at most 100 block objects with valid rich text).

    The sandbox stores no page content, so valid blocks are dropped; invalid ones fail the create like Notion's.
    """
    if children is None:
        return
    if not isinstance(children, list):
        raise validation_error(
            "body failed validation: body.children should be an array, instead was an object."
        )
    if len(children) > MAX_ARRAY_ITEMS:
        raise validation_error(
            f"body failed validation: body.children.length should be ≤ `{MAX_ARRAY_ITEMS}`, instead was "
            f"`{len(children)}`."
        )
    for i, block in enumerate(children):
        where = f"body.children[{i}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind is None and isinstance(block, dict):
            kind = next((k for k in block if k in TEXT_BLOCK_TYPES), None)
        if kind not in TEXT_BLOCK_TYPES or not isinstance(block.get(kind), dict):
            raise validation_error(
                f"body failed validation: {where} should be a block object of a text type "
                f"({', '.join(sorted(TEXT_BLOCK_TYPES))}) with its `{kind or 'type'}` object."
            )
        parse_rich_text(block[kind].get("rich_text", []), f"{where}.{kind}.rich_text")


async def get_property_item(request: Request, store: NotionStore, version: str) -> dict[str, Any]:
    page_id = _page_id(request)
    property_key = request.path_params["property_id"]
    size = page_size_of(_int_param(request, "page_size"), "query.page_size")
    cursor = request.query_params.get("start_cursor")
    with store.lock:
        view = store.require_view(page_id)
        spec = view.db.schema.get(property_key)
        if spec is None:
            raise NotionError(404, "object_not_found", f"Could not find property with ID: {property_key}.")
        if spec.type not in LIST_ITEM_TYPES:
            return single_property_item(store, view, spec)
        items, rollup_value = property_items(store, view, spec)
        scope = f"p:{page_id}:{spec.id}"
        offset = store.cursors.redeem(cursor, scope) if cursor else 0
        if not isinstance(offset, int) or offset < 0:
            raise validation_error(f"The start_cursor provided is invalid: {cursor}")
        chunk = items[offset : offset + size]
        more = offset + size < len(items)
        next_cursor = store.cursors.issue(scope, offset + size) if more else None
    next_url = None
    if next_cursor:
        # Rebuild from the property id as Notion spells it (percent-encoded), not the decoded path.
        base = str(request.url).split("?", 1)[0]
        base = base[: base.rindex("/properties/") + len("/properties/")] + spec.id
        next_url = f"{base}?{urlencode({'start_cursor': next_cursor, 'page_size': size})}"
    item: dict[str, Any] = {
        "id": spec.id,
        "next_url": next_url,
        "type": spec.type,
        spec.type: rollup_value or {},
    }
    return {
        "object": "list",
        "results": chunk,
        "next_cursor": next_cursor,
        "has_more": more,
        "type": "property_item",
        "property_item": item,
    }


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise validation_error(
            f"query failed validation: query.{name} should be a number, instead was `{raw}`."
        ) from exc


async def search(request: Request, store: NotionStore, version: str) -> dict[str, Any]:
    return run_search(store, await _body(request), version)


async def users_me(request: Request, store: NotionStore, version: str) -> dict[str, Any]:
    bot = dict(store.user_json(store.model.bot.id))
    bot["bot"] = {"owner": {"type": "workspace", "workspace": True}, "workspace_name": "PPM Sandbox"}
    return bot


async def list_users(request: Request, store: NotionStore, version: str) -> dict[str, Any]:
    users = [store.user_json(u.id) for u in [store.model.bot, *store.model.people]]
    return {
        "object": "list",
        "results": users[:MAX_PAGE_SIZE],
        "next_cursor": None,
        "has_more": False,
        "type": "user",
        "user": {},
    }


async def get_user(request: Request, store: NotionStore, version: str) -> dict[str, Any]:
    user_id = request.path_params["user_id"]
    user = store.user_json(user_id)
    if "name" not in user:
        raise not_found("user", user_id)
    return user


async def unknown_url(request: Request, store: NotionStore, version: str) -> dict[str, Any]:
    raise invalid_request_url()


def build_notion_app(store: NotionStore) -> Starlette:
    """The Notion API app; paths are relative to its mount point (`/v1/...`)."""

    def route(path: str, handler: Handler, methods: list[str]) -> Route:
        return Route(path, _endpoint(store, handler), methods=methods)

    routes = [
        route("/v1/databases/{database_id}", get_database, ["GET"]),
        route("/v1/databases/{database_id}/query", query_database, ["POST"]),
        route("/v1/data_sources/{data_source_id}", get_data_source, ["GET"]),
        route("/v1/data_sources/{data_source_id}/query", query_data_source, ["POST"]),
        route("/v1/pages", create_page, ["POST"]),
        route("/v1/pages/{page_id}", get_page, ["GET"]),
        route("/v1/pages/{page_id}", patch_page, ["PATCH"]),
        route("/v1/pages/{page_id}/properties/{property_id:path}", get_property_item, ["GET"]),
        route("/v1/search", search, ["POST"]),
        route("/v1/users/me", users_me, ["GET"]),
        route("/v1/users", list_users, ["GET"]),
        route("/v1/users/{user_id}", get_user, ["GET"]),
        route("/{path:path}", unknown_url, ["GET", "POST", "PATCH", "PUT", "DELETE"]),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        if status in (404, 405):
            return error_response(invalid_request_url())
        return error_response(NotionError(500, "internal_server_error", "Unexpected error occurred."))

    async def crash(request: Request, exc: Exception) -> Response:
        return error_response(NotionError(500, "internal_server_error", "Unexpected error occurred."))

    return Starlette(routes=routes, exception_handlers={HTTPException: http_error, Exception: crash})


__all__ = ["V2022", "V2025", "build_notion_app", "error_response", "json_response"]
