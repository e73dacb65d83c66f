"""Control endpoints `/_sandbox/databricks/...` (no auth, no gate): what the emulator received and holds.

    GET  /statements     every statement received, in order: id, statement, state, error, parameters,
                         catalog, schema, disposition, format, submitted_at, duration_ms (cleared by reset)
    GET  /files          every file in every volume: path, size
    GET  /catalog        catalogs, schemas, volumes, schemaless placeholders, COPY INTO's loaded files
    GET  /describe       token, warehouse id, catalogs, engine, storage directory (what the ready line says)

`POST /_sandbox/databricks/reset` (shared control plane) drops every table, volume file, schema, ledger entry
and statement, and brings the warehouse back to RUNNING; `/_sandbox/databricks/faults` takes the fault
switches of `switches.py`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ppm_sandbox.databricks.catalog import Catalog
from ppm_sandbox.databricks.files import VolumeFiles
from ppm_sandbox.databricks.statements import StatementStore


@dataclass(frozen=True)
class ControlParts:
    statements: StatementStore
    files: VolumeFiles
    catalog: Catalog
    describe: Callable[[], dict[str, Any]]


def control_routes(parts: ControlParts) -> list[Route]:
    async def statements(request: Request) -> JSONResponse:
        records = parts.statements.records()
        return JSONResponse({"count": len(records), "statements": records})

    async def files(request: Request) -> JSONResponse:
        return JSONResponse({"files": parts.files.every_file()})

    async def catalog(request: Request) -> JSONResponse:
        return JSONResponse(parts.catalog.describe())

    async def describe(request: Request) -> JSONResponse:
        return JSONResponse(parts.describe())

    return [
        Route("/statements", statements, methods=["GET"]),
        Route("/files", files, methods=["GET"]),
        Route("/catalog", catalog, methods=["GET"]),
        Route("/describe", describe, methods=["GET"]),
    ]
