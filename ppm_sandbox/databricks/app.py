"""The Databricks emulator's HTTP API, mounted under `/databricks` (the SDK's host is `<sandbox url>/databricks`).

    GET  /.well-known/databricks-config                       workspace stub (no auth)
    POST /api/2.0/sql/statements[/]                           execute (waits up to wait_timeout)
    GET  /api/2.0/sql/statements/{id}                         poll
    POST /api/2.0/sql/statements/{id}/cancel
    GET  /api/2.0/sql/statements/{id}/result/chunks/{n}
    GET  /api/2.0/sql/warehouses[/{id}], POST .../{id}/start|stop
    *    /api/2.0/fs/files/Volumes/..., /api/2.0/fs/directories/Volumes/...     Files API (files.py)
    GET  /api/2.0/preview/scim/v2/Me                          the token's user
    GET  /external-results/{id}/{n}?expires=&signature=       presigned result chunks (links.py; no auth)

Every `/api/` route wants `Authorization: Bearer <token>`: none is 401 UNAUTHENTICATED, a wrong one 403
PERMISSION_DENIED. Errors are `{"error_code", "message"}`; a statement that fails is still HTTP 200.
"""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppm_sandbox.databricks.config import DatabricksConfig
from ppm_sandbox.databricks.errors import ApiError, error_body, invalid_parameter
from ppm_sandbox.databricks.files import VolumeFiles, directory_endpoint, file_endpoint
from ppm_sandbox.databricks.links import LINK_PATH, LinkError, LinkSigner
from ppm_sandbox.databricks.responses import error_response, json_response
from ppm_sandbox.databricks.statements import Statement, StatementStore
from ppm_sandbox.databricks.switches import DatabricksFaults
from ppm_sandbox.databricks.warehouse import RUNNING, STOPPED, Warehouse
from ppm_sandbox.databricks.wire import chunk_response, execute_request, statement_json

WORKSPACE_ID = "1234567890123456"
#: How long a POST answered by an `after_execute_status` fault waits for its statement to end.
AFTER_STATUS_WAIT_S = 60.0
_API_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]

Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class DatabricksParts:
    """What the routes act on (the service's live parts)."""

    config: DatabricksConfig
    statements: StatementStore
    warehouse: Warehouse
    files: VolumeFiles
    signer: LinkSigner
    faults: DatabricksFaults


def base_url(request: Request) -> str:
    """The workspace URL clients use (`http://127.0.0.1:PORT/databricks`): the mount point is the root path."""
    url = request.url
    return f"{url.scheme}://{url.netloc}{request.scope.get('root_path', '')}".rstrip("/")


def authenticate(request: Request, config: DatabricksConfig) -> None:
    header = request.headers.get("authorization")
    if not header:
        raise ApiError(
            401, "UNAUTHENTICATED", "Credential was not sent or was of an unsupported type for this API."
        )
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not config.accepts(token.strip()):
        raise ApiError(403, "PERMISSION_DENIED", "Invalid access token.")


async def wait_for(statement: Statement, timeout_s: float) -> bool:
    """Wait (without blocking the event loop) until the statement ends or `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    pause = 0.002
    while not statement.done.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        await asyncio.sleep(min(pause, remaining))
        pause = min(pause * 2, 0.02)
    return True


class DatabricksRoutes:
    def __init__(self, parts: DatabricksParts) -> None:
        self.parts = parts

    def api(self, handler: Endpoint) -> Endpoint:
        """An authenticated endpoint whose ApiErrors become Databricks error responses."""

        async def endpoint(request: Request) -> Response:
            try:
                authenticate(request, self.parts.config)
                return await handler(request)
            except ApiError as exc:
                return error_response(exc)

        return endpoint

    def _statement(self, request: Request) -> Statement:
        statement_id = request.path_params["statement_id"]
        try:
            return self.parts.statements.get(statement_id)
        except KeyError:
            raise ApiError(404, "NOT_FOUND", f"The statement {statement_id} was not found.") from None

    def _warehouse(self, request: Request) -> Warehouse:
        warehouse_id = request.path_params["warehouse_id"]
        if warehouse_id != self.parts.warehouse.id:
            raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"Warehouse {warehouse_id} does not exist.")
        return self.parts.warehouse

    # -- statements ---------------------------------------------------------------------------------------
    async def execute(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            raise invalid_parameter("The request body is not valid JSON.") from None
        execute = execute_request(body)
        if execute.warehouse_id != self.parts.warehouse.id:
            raise ApiError(
                404, "RESOURCE_DOES_NOT_EXIST", f"Warehouse {execute.warehouse_id} does not exist."
            )
        faults = self.parts.faults
        injected = faults.take_failure(execute.statement)
        after_status = faults.take_after_status(execute.statement)
        statement = self.parts.statements.submit(execute, injected)
        if after_status is not None:
            # The statement runs to its end; only the answer is lost.
            await wait_for(statement, AFTER_STATUS_WAIT_S)
            headers = {"Retry-After": "1"} if after_status in (429, 503) else {}
            return json_response(after_status, error_body(after_status), headers)
        if execute.wait_timeout_s > 0:
            finished = await wait_for(statement, execute.wait_timeout_s)
            if not finished and execute.on_wait_timeout == "CANCEL":
                self.parts.statements.cancel(statement)
        return json_response(200, statement_json(statement, base_url(request), self.parts.signer))

    async def get_statement(self, request: Request) -> Response:
        statement = self._statement(request)
        return json_response(200, statement_json(statement, base_url(request), self.parts.signer))

    async def cancel(self, request: Request) -> Response:
        self.parts.statements.cancel(self._statement(request))
        return json_response(200, {})

    async def chunk(self, request: Request) -> Response:
        statement = self._statement(request)
        index = int(request.path_params["chunk_index"])
        return json_response(200, chunk_response(statement, index, base_url(request), self.parts.signer))

    # -- warehouses ---------------------------------------------------------------------------------------
    async def list_warehouses(self, request: Request) -> Response:
        return json_response(200, {"warehouses": [self.parts.warehouse.to_json(base_url(request))]})

    async def get_warehouse(self, request: Request) -> Response:
        return json_response(200, self._warehouse(request).to_json(base_url(request)))

    def _set_state(self, state: str) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            self._warehouse(request).set_state(state)
            return json_response(200, {})

        return endpoint

    # -- other --------------------------------------------------------------------------------------------
    async def me(self, request: Request) -> Response:
        return json_response(
            200,
            {
                "id": "1000000000000001",
                "userName": "sandbox@example.com",
                "displayName": "Sandbox User",
                "active": True,
                "emails": [{"value": "sandbox@example.com", "primary": True, "type": "work"}],
            },
        )

    async def well_known(self, request: Request) -> Response:
        return json_response(
            200, {"workspace_id": WORKSPACE_ID, "host": base_url(request), "cloud": "sandbox"}
        )

    async def external_result(self, request: Request) -> Response:
        try:
            if "authorization" in request.headers:
                raise LinkError(
                    400,
                    "InvalidArgument",
                    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query "
                    "string parameter or the Authorization header should be specified",
                )
            statement_id = request.path_params["statement_id"]
            index = int(request.path_params["chunk_index"])
            params = request.query_params
            self.parts.signer.verify(statement_id, index, params.get("expires"), params.get("signature"))
            payload = self._payload(statement_id, index)
        except LinkError as exc:
            return exc.response()
        return Response(payload, status_code=200, media_type="application/octet-stream")

    def _payload(self, statement_id: str, index: int) -> bytes:
        try:
            _, _, result = self.parts.statements.get(statement_id).snapshot()
        except KeyError:
            result = None
        if result is None or not 0 <= index < len(result.chunks) or result.chunks[index].payload is None:
            raise LinkError(404, "NoSuchKey", "The specified key does not exist.")
        payload = result.chunks[index].payload
        assert payload is not None
        return payload

    async def unknown(self, request: Request) -> Response:
        path = request.url.path.removeprefix(request.scope.get("root_path", ""))
        return error_response(
            ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for '{request.method} {path}'")
        )

    def routes(self) -> list[Route]:
        files = self.parts.files

        async def file_route(request: Request) -> Response:
            return await file_endpoint(request, files)

        async def directory_route(request: Request) -> Response:
            return await directory_endpoint(request, files)

        api = self.api
        statements = "/api/2.0/sql/statements"
        warehouses = "/api/2.0/sql/warehouses"
        return [
            Route("/.well-known/databricks-config", self.well_known, methods=["GET"]),
            Route(statements, api(self.execute), methods=["POST"]),
            Route(f"{statements}/", api(self.execute), methods=["POST"]),
            Route(f"{statements}/{{statement_id}}", api(self.get_statement), methods=["GET"]),
            Route(f"{statements}/{{statement_id}}/cancel", api(self.cancel), methods=["POST"]),
            Route(
                f"{statements}/{{statement_id}}/result/chunks/{{chunk_index:int}}",
                api(self.chunk),
                methods=["GET"],
            ),
            Route(warehouses, api(self.list_warehouses), methods=["GET"]),
            Route(f"{warehouses}/{{warehouse_id}}", api(self.get_warehouse), methods=["GET"]),
            Route(f"{warehouses}/{{warehouse_id}}/start", api(self._set_state(RUNNING)), methods=["POST"]),
            Route(f"{warehouses}/{{warehouse_id}}/stop", api(self._set_state(STOPPED)), methods=["POST"]),
            Route("/api/2.0/fs/files/{path:path}", api(file_route), methods=["GET", "HEAD", "PUT", "DELETE"]),
            Route(
                "/api/2.0/fs/directories/{path:path}",
                api(directory_route),
                methods=["GET", "HEAD", "PUT", "DELETE"],
            ),
            Route("/api/2.0/preview/scim/v2/Me", api(self.me), methods=["GET"]),
            Route(f"{LINK_PATH}/{{statement_id}}/{{chunk_index:int}}", self.external_result, methods=["GET"]),
            Route("/{path:path}", api(self.unknown), methods=_API_METHODS),
        ]


def build_databricks_app(parts: DatabricksParts) -> Starlette:
    """The API app; paths are relative to its mount point."""

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        return json_response(status, error_body(status))

    async def crash(request: Request, exc: Exception) -> Response:
        return json_response(500, error_body(500, "INTERNAL_ERROR", f"{type(exc).__name__}: {exc}"))

    return Starlette(
        routes=DatabricksRoutes(parts).routes(),
        exception_handlers={HTTPException: http_error, Exception: crash},
    )
