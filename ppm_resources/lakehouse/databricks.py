"""The Databricks engine: Unity Catalog tables `<catalog>.<schema>.<table>` on a SQL warehouse.

SQL runs as written (Databricks dialect) through the Statement Execution API of the `WorkspaceClient` that
dagster-databricks' `DatabricksClientResource` provides; the request's default catalog makes `silver.projects`
mean `<catalog>.silver.projects`, so the project's SQL needs no rewriting. Rows written from Arrow go to a Unity
Catalog Volume as one Parquet file per write (Files API) and are loaded from there:

    append             CREATE TABLE IF NOT EXISTS ... AS SELECT ... LIMIT 0 (first write), then COPY INTO ... FILES
    replace            CREATE OR REPLACE TABLE ... AS <select>        (Arrow: AS SELECT * FROM read_files(<file>))
    replace_partition  INSERT INTO ... REPLACE WHERE <col> = <value> <select>   (first write: CREATE TABLE ... AS)
    history / restore  DESCRIBE HISTORY / RESTORE TABLE ... TO VERSION AS OF n
    vacuum / optimize  VACUUM ... RETAIN n HOURS [DRY RUN] / OPTIMIZE

The execute POST is not idempotent and the SDK retries it after a 429 or 503, so every write is made safe to
run twice: COPY INTO skips a file it has loaded (each write names its own file), CREATE OR REPLACE and REPLACE
WHERE give the same table from the same input, and `CREATE ... IF NOT EXISTS` does nothing the second time.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import uuid
from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field, PrivateAttr

from ppm_resources.lakehouse.arrow_types import counting_reader
from ppm_resources.lakehouse.base import (
    ArrowData,
    Lakehouse,
    SqlParams,
    TableInfo,
    TableVersion,
    WriteResult,
    check_restore_target,
    parse_table_name,
)
from ppm_resources.lakehouse.databricks_statements import StatementRunner
from ppm_resources.lakehouse.errors import LakehouseError, TableNotFoundError
from ppm_resources.lakehouse.locks import file_lock
from ppm_resources.lakehouse.sql import SqlLike, SqlSource, as_source, sql_string

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

log = logging.getLogger(__name__)

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SELECT = re.compile(r"^\s*(?:--[^\n]*\n\s*)*(select|with|values|\()", re.IGNORECASE)


def _literal(value: str | int | date | datetime) -> str:
    """A partition value as a Databricks literal (REPLACE WHERE needs a constant predicate)."""
    if isinstance(value, bool):
        raise TypeError("partition values cannot be booleans")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return f"TIMESTAMP {sql_string(value.isoformat())}"
    if isinstance(value, date):
        return f"DATE {sql_string(value.isoformat())}"
    return sql_string(str(value))


def _quote(identifier: str) -> str:
    return f"`{identifier}`"


def _table_rows(data: ArrowData) -> pa.Table:
    stream = counting_reader(data)  # Delta-compatible types: no unsigned, null-typed or nanosecond columns
    return stream.reader().read_all()


class DatabricksLakehouse(Lakehouse):
    """Unity Catalog tables on a SQL warehouse. Safe to share between threads."""

    host: str = Field(description="Workspace URL, e.g. https://adb-123.4.azuredatabricks.net.")
    token: str = Field(description="Personal access token (an EnvVar reference outside the sandbox).")
    warehouse_id: str = Field(description="The SQL warehouse that runs every statement.")
    catalog: str = Field(
        default="main", description="Unity Catalog catalog holding the bronze/silver/gold schemas."
    )
    volume: str = Field(
        default="main.bronze.landing",
        description="`catalog.schema.volume` where Arrow writes are staged as Parquet before loading.",
    )
    lock_dir: str = Field(default=".state/locks", description="Where this machine's write locks live.")
    lock_timeout_s: float = Field(default=600.0, gt=0)
    retry_timeout_s: int = Field(
        default=20,
        ge=1,
        description="How long the SDK retries a connection error or 429/503 (its default: 300 s).",
    )
    http_timeout_s: float = Field(default=60.0, gt=0)
    statement_timeout_s: float = Field(default=3600.0, gt=0)
    warehouse_start_timeout_s: float = Field(default=600.0, gt=0)

    _client: Any = PrivateAttr(default=None)
    _ready_schemas: set[str] = PrivateAttr(default_factory=set)
    _guard: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    # -- the client ------------------------------------------------------------------------------------------
    def workspace_client(self) -> WorkspaceClient:
        """dagster-databricks' `WorkspaceClient`, with short retry and HTTP timeouts (built once)."""
        with self._guard:
            if self._client is None:
                from dagster_databricks import DatabricksClientResource
                from databricks.sdk import WorkspaceClient

                provided = (
                    DatabricksClientResource(host=self.host, token=self.token).get_client().workspace_client
                )
                config = provided.config
                # The SDK retries connection errors for 300 s by default: a wrong host would hang a run for minutes.
                config.retry_timeout_seconds = self.retry_timeout_s
                config.http_timeout_seconds = self.http_timeout_s
                self._client = WorkspaceClient(config=config)
            return self._client

    def _runner(self) -> StatementRunner:
        return StatementRunner(
            client=self.workspace_client(),
            warehouse_id=self.warehouse_id,
            catalog=self.catalog,
            host=self.host,
            statement_timeout_s=self.statement_timeout_s,
            warehouse_start_timeout_s=self.warehouse_start_timeout_s,
        )

    def _run(
        self,
        statement: str,
        params: SqlParams | None = None,
        *,
        rows: str = "inline",
        table: str | None = None,
        source: str | None = None,
    ) -> pa.Table:
        return self._runner().run(statement, params, rows=rows, table=table, source=source).rows

    # -- names -----------------------------------------------------------------------------------------------
    def _full_name(self, table: str) -> str:
        schema, name = parse_table_name(table)
        return ".".join(_quote(part) for part in (self.catalog, schema, name))

    def _volume_parts(self) -> tuple[str, str, str]:
        catalog, schema, volume = self.volume.split(".")
        return catalog, schema, volume

    def describe(self) -> str:
        return f"Databricks SQL warehouse {self.warehouse_id} at {self.host}, catalog {self.catalog}"

    def location(self, table: str) -> str:
        schema, name = parse_table_name(table)
        return f"{self.catalog}.{schema}.{name}"

    # -- schemas, volume, staging ----------------------------------------------------------------------------
    def _ensure_schema(self, catalog: str, schema: str) -> None:
        key = f"{catalog}.{schema}"
        if key in self._ready_schemas:
            return
        self._run(f"CREATE SCHEMA IF NOT EXISTS {_quote(catalog)}.{_quote(schema)}")
        self._ready_schemas.add(key)

    def _stage(self, table: str, rows: pa.Table) -> str:
        """Upload `rows` as one Parquet file of the staging volume; returns its `/Volumes/...` path."""
        catalog, schema, volume = self._volume_parts()
        self._ensure_schema(catalog, schema)
        key = f"volume:{self.volume}"
        if key not in self._ready_schemas:
            self._run(f"CREATE VOLUME IF NOT EXISTS {'.'.join(_quote(p) for p in (catalog, schema, volume))}")
            self._ready_schemas.add(key)
        target_schema, name = parse_table_name(table)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = (
            f"/Volumes/{catalog}/{schema}/{volume}/{target_schema}/{name}/{stamp}-{uuid.uuid4().hex}.parquet"
        )
        buffer = io.BytesIO()
        pq.write_table(rows, buffer)
        buffer.seek(0)
        try:
            # overwrite=True: the SDK may send the PUT again after a 503; the second one writes the same bytes.
            self.workspace_client().files.upload(path, buffer, overwrite=True)
        except Exception as error:
            raise LakehouseError(f"cannot upload the rows to {path}: {error}", table=table) from None
        return path

    def _unstage(self, path: str) -> None:
        try:
            self.workspace_client().files.delete(path)
        except (
            Exception
        ) as error:  # a leftover staged file costs storage only: COPY INTO will not load it twice
            log.warning("could not delete the staged file %s: %s", path, error)

    # -- reads -----------------------------------------------------------------------------------------------
    def query(self, sql: SqlLike, *, params: SqlParams | None = None) -> pa.Table:
        source = as_source(sql)
        if not _SELECT.match(source.text):
            raise LakehouseError("expected a query that returns rows (a SELECT)", source=source.origin)
        return self._run(source.text, params, rows="arrow", source=source.origin)

    def exists(self, table: str) -> bool:
        return self.version(table) is not None

    def version(self, table: str) -> int | None:
        try:
            history = self.history(table, limit=1)
        except TableNotFoundError:
            return None
        return history[0].version if history else None

    def info(self, table: str) -> TableInfo:
        full = self._full_name(table)
        version = self.version(table)
        if version is None:
            raise TableNotFoundError(f"table {self.location(table)} does not exist", table=table)
        schema = self._run(
            f"SELECT * FROM {full} VERSION AS OF {version} LIMIT 0", rows="arrow", table=table
        ).schema
        count = self._run(f"SELECT count(*) AS n FROM {full} VERSION AS OF {version}", table=table)
        return TableInfo(
            table=table,
            version=version,
            num_rows=int(count.column(0)[0].as_py()),
            schema=schema,
            location=self.location(table),
        )

    def tables(self) -> list[str]:
        found = []
        schemas = self._run(f"SHOW SCHEMAS IN {_quote(self.catalog)}")
        for schema in schemas.column(0).to_pylist():
            if schema in ("information_schema", "default") or not _IDENTIFIER.match(schema or ""):
                continue
            listed = self._run(f"SHOW TABLES IN {_quote(self.catalog)}.{_quote(schema)}")
            names = listed.column("tableName").to_pylist() if listed.num_rows else []
            found += [f"{schema}.{name}" for name in names if re.match(r"^[a-z_][a-z0-9_]*$", name)]
        return sorted(found)

    # -- writes ----------------------------------------------------------------------------------------------
    def write_lock(self, table: str) -> AbstractContextManager[None]:
        schema, name = parse_table_name(table)
        lock = Path(self.lock_dir).resolve() / "lakehouse" / f"{self.catalog}.{schema}.{name}.lock"
        return file_lock(lock, table=table, timeout_s=self.lock_timeout_s)

    def _written(self, table: str, operation: str, rows: int) -> WriteResult:
        version = self.version(table)
        if version is None:
            raise LakehouseError(f"{operation} reported success but the table does not exist", table=table)
        log.info("%s %s: %d rows, version %d", operation, table, rows, version)
        return WriteResult(table=table, operation=operation, version=version, rows_written=rows)

    @staticmethod
    def _inserted(result: pa.Table) -> int:
        if result.num_rows and "num_inserted_rows" in result.column_names:
            return int(result.column("num_inserted_rows")[0].as_py() or 0)
        return 0

    def copy_into_statement(self, table: str, path: str) -> str:
        """`COPY INTO` the one staged file at `path`: sent twice (an SDK retry), the second loads 0 files."""
        directory, name = path.rsplit("/", 1)
        return (
            f"COPY INTO {self._full_name(table)} FROM {sql_string(directory)} FILEFORMAT = PARQUET "
            f"FILES = ({sql_string(name)}) "
            "FORMAT_OPTIONS ('mergeSchema' = 'true') COPY_OPTIONS ('mergeSchema' = 'true')"
        )

    def append(self, table: str, data: ArrowData, *, partition_by: list[str] | None = None) -> WriteResult:
        schema, _ = parse_table_name(table)
        self._ensure_schema(self.catalog, schema)
        rows = _table_rows(data)
        path = self._stage(table, rows)
        full = self._full_name(table)
        if not self.exists(table):
            partitions = f" PARTITIONED BY ({', '.join(map(_quote, partition_by))})" if partition_by else ""
            self._run(
                f"CREATE TABLE IF NOT EXISTS {full}{partitions} AS "
                f"SELECT * FROM read_files({sql_string(path)}, format => 'parquet') LIMIT 0",
                table=table,
            )
        self._run(self.copy_into_statement(table, path), table=table)
        self._unstage(path)
        return self._written(table, "append", rows.num_rows)

    def replace(
        self,
        table: str,
        data: SqlLike | ArrowData,
        *,
        params: SqlParams | None = None,
        partition_by: list[str] | None = None,
    ) -> WriteResult:
        schema, _ = parse_table_name(table)
        self._ensure_schema(self.catalog, schema)
        partitions = f" PARTITIONED BY ({', '.join(map(_quote, partition_by))})" if partition_by else ""
        head = f"CREATE OR REPLACE TABLE {self._full_name(table)}{partitions} AS "
        if isinstance(data, str | SqlSource):
            source = as_source(data)  # type: ignore[arg-type]
            result = self._run(head + source.text, params, table=table, source=source.origin)
            return self._written(table, "replace", self._inserted(result))
        rows = _table_rows(data)  # type: ignore[arg-type]
        path = self._stage(table, rows)
        self._run(head + f"SELECT * FROM read_files({sql_string(path)}, format => 'parquet')", table=table)
        self._unstage(path)
        return self._written(table, "replace", rows.num_rows)

    def replace_partition(
        self,
        table: str,
        column: str,
        value: str | int | date | datetime,
        data: SqlLike | ArrowData,
        *,
        params: SqlParams | None = None,
    ) -> WriteResult:
        if not _IDENTIFIER.match(column):
            raise LakehouseError(f"invalid partition column {column!r}", table=table)
        schema, _ = parse_table_name(table)
        self._ensure_schema(self.catalog, schema)
        full = self._full_name(table)
        staged: str | None = None
        if isinstance(data, str | SqlSource):
            source = as_source(data)  # type: ignore[arg-type]
            select, origin, rows = source.text, source.origin, None
        else:
            table_rows = _table_rows(data)  # type: ignore[arg-type]
            staged = self._stage(table, table_rows)
            select = f"SELECT * FROM read_files({sql_string(staged)}, format => 'parquet')"
            origin, rows = None, table_rows.num_rows
        if self.exists(table):
            statement = f"INSERT INTO {full} REPLACE WHERE {_quote(column)} = {_literal(value)} {select}"
        else:  # first write creates the table partitioned by the column being replaced
            statement = f"CREATE TABLE IF NOT EXISTS {full} PARTITIONED BY ({_quote(column)}) AS {select}"
        result = self._run(statement, params, table=table, source=origin)
        if staged:
            self._unstage(staged)
        return self._written(table, "replace_partition", rows if rows is not None else self._inserted(result))

    # -- history and maintenance -----------------------------------------------------------------------------
    def history(self, table: str, limit: int | None = None) -> list[TableVersion]:
        clause = f" LIMIT {int(limit)}" if limit else ""
        rows = self._run(f"DESCRIBE HISTORY {self._full_name(table)}{clause}", table=table)
        return [_table_version(row) for row in rows.to_pylist()]

    def restore(self, table: str, version: int) -> TableVersion:
        latest = self.version(table)
        if latest is None:
            raise TableNotFoundError(f"table {self.location(table)} does not exist", table=table)
        check_restore_target(table, version, latest)
        self._run(f"RESTORE TABLE {self._full_name(table)} TO VERSION AS OF {int(version)}", table=table)
        restored = self.history(table, limit=1)[0]
        log.warning("restored %s to version %d (new version %d)", table, version, restored.version)
        return restored

    def vacuum(self, table: str, retention_hours: int = 168, dry_run: bool = False) -> list[str]:
        """VACUUM names the files it deletes only in a dry run: list them first, so both say what went."""
        statement = f"VACUUM {self._full_name(table)} RETAIN {int(retention_hours)} HOURS"
        listed = self._run(statement + " DRY RUN", table=table)
        files = [str(path) for path in listed.column("path").to_pylist()] if listed.num_rows else []
        if not dry_run and files:
            self._run(statement, table=table)
        return files

    def optimize(self, table: str) -> Mapping[str, Any]:
        rows = self._run(f"OPTIMIZE {self._full_name(table)}", table=table)
        if not rows.num_rows or "metrics" not in rows.column_names:
            return {}
        metrics = rows.column("metrics")[0].as_py()
        return dict(metrics) if isinstance(metrics, Mapping) else {"metrics": metrics}


def _table_version(row: Mapping[str, Any]) -> TableVersion:
    def as_dict(value: Any) -> dict[str, Any]:
        return dict(value or {})  # Arrow maps arrive as (key, value) pairs, which dict() takes too

    moment = row.get("timestamp")
    return TableVersion(
        version=int(row["version"]),
        timestamp=moment if isinstance(moment, datetime) else None,
        operation=str(row.get("operation") or ""),
        parameters=as_dict(row.get("operationParameters")),
        metrics=as_dict(row.get("operationMetrics")),
    )
