"""Running one SQL statement on a Databricks SQL warehouse through the Statement Execution API.

`StatementRunner.run` submits the statement with typed named parameters, polls while it is PENDING or RUNNING,
and returns its rows as Arrow: `EXTERNAL_LINKS` + `ARROW_STREAM` for queries (any size; chunks are fetched from
their pre-signed links *without* the workspace token, which such links refuse), `INLINE` + `JSON_ARRAY` for the
small answers of DDL, DML and metadata statements.

Failures become `LakehouseError`s that say what to do, never the SDK's raw exception and never a secret:
a wrong token, an unreachable host, a stopped warehouse, a missing catalog, a FAILED statement (with the table
and the SQL source it came from).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pyarrow as pa

from ppm_resources.lakehouse.base import SqlParams
from ppm_resources.lakehouse.databricks_types import arrow_schema, json_rows_table, statement_parameter
from ppm_resources.lakehouse.errors import LakehouseError, SqlError, TableNotFoundError

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.service.sql import StatementResponse

log = logging.getLogger(__name__)

_RUNNING = ("PENDING", "RUNNING")
# A warehouse in one of these states will not run a statement without someone starting it.
_DOWN = ("STOPPED", "STOPPING", "DELETED", "DELETING")
_NOT_FOUND_CLASSES = ("[TABLE_OR_VIEW_NOT_FOUND]", "[DELTA_TABLE_NOT_FOUND]", "[DELTA_MISSING_DELTA_TABLE]")


class DatabricksUnavailableError(LakehouseError):
    """The workspace or the warehouse cannot run statements now: what is wrong, and what to do."""


@dataclass(frozen=True)
class StatementResult:
    """A finished statement: its id and its rows."""

    statement_id: str
    rows: pa.Table


@dataclass(frozen=True)
class StatementRunner:
    """Runs statements on one warehouse. Thread-safe: it holds no state but the client."""

    client: WorkspaceClient
    warehouse_id: str
    catalog: str
    host: str
    #: Give up on a statement still PENDING/RUNNING after this long (it is then cancelled).
    statement_timeout_s: float = 3600.0
    #: How long a PENDING statement may wait for a warehouse that is STARTING.
    warehouse_start_timeout_s: float = 600.0
    #: A statement PENDING this long makes the runner look at the warehouse's state.
    pending_check_after_s: float = 2.0
    link_timeout_s: float = 60.0

    # -- submit and wait -------------------------------------------------------------------------------------
    def run(
        self,
        statement: str,
        params: SqlParams | None = None,
        *,
        rows: str = "inline",
        table: str | None = None,
        source: str | None = None,
    ) -> StatementResult:
        """Run one statement; `rows="arrow"` fetches its result as Arrow streams (queries), else inline JSON."""
        from databricks.sdk.service.sql import (
            Disposition,
            ExecuteStatementRequestOnWaitTimeout,
            Format,
            StatementParameterListItem,
        )

        parameters = [
            StatementParameterListItem(**statement_parameter(name, value))
            for name, value in (params or {}).items()
        ]
        arrow = rows == "arrow"
        response = self._call(
            lambda: self.client.statement_execution.execute_statement(
                statement=statement,
                warehouse_id=self.warehouse_id,
                catalog=self.catalog,
                parameters=parameters or None,
                disposition=Disposition.EXTERNAL_LINKS if arrow else Disposition.INLINE,
                format=Format.ARROW_STREAM if arrow else Format.JSON_ARRAY,
                wait_timeout="5s",
                on_wait_timeout=ExecuteStatementRequestOnWaitTimeout.CONTINUE,
            ),
            table=table,
            source=source,
        )
        response = self._wait(response, table=table, source=source)
        return StatementResult(
            statement_id=str(response.statement_id),
            rows=self._arrow_rows(response) if arrow else self._inline_rows(response),
        )

    def _wait(
        self, response: StatementResponse, *, table: str | None, source: str | None
    ) -> StatementResponse:
        started = time.monotonic()
        pause = 0.05
        next_warehouse_check = started + self.pending_check_after_s
        while _state(response) in _RUNNING:
            now = time.monotonic()
            if now - started > self.statement_timeout_s:
                self._cancel(response)
                raise DatabricksUnavailableError(
                    f"statement {response.statement_id} still {_state(response)} after "
                    f"{self.statement_timeout_s:.0f} s: cancelled",
                    table=table,
                    source=source,
                )
            if _state(response) == "PENDING" and now >= next_warehouse_check:
                self._require_warehouse_coming_up(response, started, table=table, source=source)
                next_warehouse_check = now + 5.0
            time.sleep(pause)
            pause = min(pause * 2, 1.0)
            response = self._call(
                functools.partial(self.client.statement_execution.get_statement, str(response.statement_id)),
                table=table,
                source=source,
            )
        state = _state(response)
        if state == "SUCCEEDED":
            return response
        error = response.status.error if response.status else None
        code = (error.error_code.value if error and error.error_code else None) or state
        message = (error.message if error else None) or f"statement ended {state}"
        failure = TableNotFoundError if any(c in message for c in _NOT_FOUND_CLASSES) else SqlError
        raise failure(f"Databricks statement {state}: {code}: {message}", table=table, source=source)

    def _require_warehouse_coming_up(
        self, response: StatementResponse, started: float, *, table: str | None, source: str | None
    ) -> None:
        """A statement PENDING for a while: fail fast when the warehouse is down (not merely starting)."""
        warehouse = self._call(
            lambda: self.client.warehouses.get(self.warehouse_id), table=table, source=source
        )
        state = warehouse.state.value if warehouse.state else "UNKNOWN"
        waited = time.monotonic() - started
        if state in _DOWN or (state == "STARTING" and waited > self.warehouse_start_timeout_s):
            self._cancel(response)
            raise DatabricksUnavailableError(
                f"SQL warehouse {self.warehouse_id} is {state}: the statement waited {waited:.0f} s and was "
                "cancelled; start the warehouse (SQL Warehouses in the workspace, or "
                f"`databricks warehouses start {self.warehouse_id}`) and run again",
                table=table,
                source=source,
            )

    def _cancel(self, response: StatementResponse) -> None:
        try:
            self.client.statement_execution.cancel_execution(str(response.statement_id))
        except Exception as error:  # the statement is abandoned either way; say so, keep the first error
            log.warning("could not cancel statement %s: %s", response.statement_id, error)

    # -- results ---------------------------------------------------------------------------------------------
    def _inline_rows(self, response: StatementResponse) -> pa.Table:
        schema = _manifest_schema(response)
        rows: list[list[str | None]] = []
        chunk = response.result
        while chunk is not None:
            rows.extend(chunk.data_array or [])
            if chunk.next_chunk_index is None:
                break
            chunk = self.client.statement_execution.get_statement_result_chunk_n(
                str(response.statement_id), chunk.next_chunk_index
            )
        return json_rows_table(rows, schema)

    def _arrow_rows(self, response: StatementResponse) -> pa.Table:
        schema = _manifest_schema(response)
        batches = list(self._link_batches(response))
        if not batches:
            return schema.empty_table()
        # The streams' own schema is authoritative (exact decimals, timestamps); the manifest's is for no rows.
        return pa.Table.from_batches(batches)

    def _link_batches(self, response: StatementResponse) -> Iterator[pa.RecordBatch]:
        links = list((response.result.external_links or []) if response.result else [])
        with httpx.Client(timeout=self.link_timeout_s, follow_redirects=True) as http:
            while links:
                link = links.pop(0)
                # No Authorization header: pre-signed storage URLs refuse the workspace token.
                body = http.get(str(link.external_link))
                if body.status_code != 200:
                    raise LakehouseError(
                        f"cannot fetch result chunk {link.chunk_index} of statement {response.statement_id}: "
                        f"HTTP {body.status_code} from the result link (links expire after about 15 minutes)"
                    )
                yield from pa.ipc.open_stream(body.content)
                if link.next_chunk_index is not None and not links:
                    chunk = self.client.statement_execution.get_statement_result_chunk_n(
                        str(response.statement_id), link.next_chunk_index
                    )
                    links = list(chunk.external_links or [])

    # -- errors ----------------------------------------------------------------------------------------------
    def _call(self, request: Any, *, table: str | None, source: str | None) -> Any:
        """`request()`, with the SDK's failures said for people (never quoting the token)."""
        from databricks.sdk.errors import DatabricksError, NotFound, PermissionDenied, Unauthenticated

        try:
            return request()
        except (PermissionDenied, Unauthenticated) as error:
            raise DatabricksUnavailableError(
                f"Databricks at {self.host} refused the credentials ({error.error_code or 'HTTP 401/403'}: "
                f"{_first_line(error)}): check DATABRICKS_TOKEN and that it may use warehouse {self.warehouse_id}",
                table=table,
                source=source,
            ) from None
        except NotFound as error:
            raise DatabricksUnavailableError(
                f"Databricks at {self.host}: {_first_line(error)} (is DATABRICKS_WAREHOUSE_ID="
                f"{self.warehouse_id} a SQL warehouse of this workspace?)",
                table=table,
                source=source,
            ) from None
        except DatabricksError as error:
            raise DatabricksUnavailableError(
                f"Databricks at {self.host} answered {error.error_code or type(error).__name__}: "
                f"{_first_line(error)}",
                table=table,
                source=source,
            ) from None
        except TimeoutError as error:  # the SDK's retries of connection errors ran out
            cause = error.__cause__ or error
            raise DatabricksUnavailableError(
                f"cannot reach Databricks at {self.host} ({type(cause).__name__}): check DATABRICKS_HOST "
                "and the network",
                table=table,
                source=source,
            ) from None


def _state(response: StatementResponse) -> str:
    return response.status.state.value if response.status and response.status.state else "UNKNOWN"


def _manifest_schema(response: StatementResponse) -> pa.Schema:
    manifest = response.manifest
    columns = manifest.schema.columns if manifest and manifest.schema and manifest.schema.columns else []
    return arrow_schema([{"name": c.name, "type_text": c.type_text, "position": c.position} for c in columns])


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [""])[0]
