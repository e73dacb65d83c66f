"""Helpers for the Databricks emulator's tests: a sandbox with the local lakehouse as its engine, the real SDK.

Each test module starts its own server (`databricks_workspace`, ~0.2 s) from a module-scoped fixture, so that
options such as `min_pending_s` can differ per module and a reset in one module never races another's.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.sql import StatementParameterListItem, StatementResponse, StatementState

from ppm_resources.lakehouse.local import LocalLakehouse
from ppm_sandbox import (
    DATABRICKS_TOKEN,
    DATABRICKS_WAREHOUSE_ID,
    DatabricksConfig,
    FaultSpec,
    SandboxConfig,
    SandboxServer,
)


def local_engine(root: str) -> LocalLakehouse:
    return LocalLakehouse(root=root)


@dataclass
class Workspace:
    """One sandbox serving Databricks, with the SDK client and raw HTTP clients pointed at it."""

    server: SandboxServer
    storage: Path
    client: WorkspaceClient
    http: httpx.Client  # authenticated, base URL = the workspace host
    control: httpx.Client  # /_sandbox/databricks

    @property
    def host(self) -> str:
        return self.server.service_url("databricks")

    def execute(self, statement: str, **options: Any) -> StatementResponse:
        """`execute_statement` on the sandbox warehouse; `parameters` may be (name, value[, type]) tuples."""
        raw = options.pop("parameters", None)
        if raw is not None:
            options["parameters"] = [
                StatementParameterListItem(name=p[0], value=p[1], type=p[2] if len(p) > 2 else None)
                for p in raw
            ]
        return self.client.statement_execution.execute_statement(
            statement=statement, warehouse_id=DATABRICKS_WAREHOUSE_ID, **options
        )

    def ok(self, statement: str, **options: Any) -> StatementResponse:
        response = self.execute(statement, **options)
        assert response.status is not None
        assert response.status.state == StatementState.SUCCEEDED, response.status.error
        return response

    def rows(self, statement: str, **options: Any) -> list[list[str | None]]:
        """Every row of a SUCCEEDED INLINE statement, following its chunks."""
        response = self.ok(statement, **options)
        rows = list(response.result.data_array or []) if response.result else []
        following = response.result.next_chunk_index if response.result else None
        while following is not None:
            chunk = self.client.statement_execution.get_statement_result_chunk_n(
                response.statement_id, following
            )
            rows += chunk.data_array or []
            following = chunk.next_chunk_index
        return rows

    def failure(self, statement: str, **options: Any) -> str:
        """The error message of a statement that must end FAILED (HTTP 200)."""
        response = self.execute(statement, **options)
        assert response.status is not None and response.status.state == StatementState.FAILED, response
        assert response.status.error is not None and response.status.error.message
        return response.status.error.message

    def post(self, body: dict[str, Any]) -> httpx.Response:
        return self.http.post(
            "/api/2.0/sql/statements/", json={"warehouse_id": DATABRICKS_WAREHOUSE_ID, **body}
        )

    def statements(self) -> list[dict[str, Any]]:
        return list(self.control.get("/statements").json()["statements"])

    def reset(self) -> None:
        assert self.control.post("/reset").status_code == 200
        assert self.control.delete("/faults").status_code == 200
        self.server.clock.real()


@contextmanager
def databricks_workspace(storage: Path, **options: Any) -> Iterator[Workspace]:
    config = DatabricksConfig(engine=local_engine, storage_dir=str(storage), **options)
    sandbox = SandboxConfig(faults=FaultSpec.unlimited(), services={"databricks": config})
    with SandboxServer(sandbox) as server:
        host = server.service_url("databricks")
        client = WorkspaceClient(host=host, token=DATABRICKS_TOKEN, auth_type="pat")
        headers = {"Authorization": f"Bearer {DATABRICKS_TOKEN}"}
        with (
            httpx.Client(base_url=host, headers=headers, timeout=30) as http,
            httpx.Client(base_url=f"{server.url}/_sandbox/databricks", timeout=30) as control,
        ):
            yield Workspace(server, storage, client, http, control)


def workspace_fixture(**options: Any) -> Any:
    """A module-scoped `ws` fixture: one emulator with `options` for the module (`ws = workspace_fixture(...)`);
    the `clean` fixture of `tests/sandbox/conftest.py` resets it around a test."""

    @pytest.fixture(scope="module")
    def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
        with databricks_workspace(Path(tmp_path_factory.mktemp("dbx")), **options) as workspace:
            yield workspace

    return ws
