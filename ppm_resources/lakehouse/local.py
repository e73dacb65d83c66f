"""The local engine: Delta Lake tables (delta-rs) under `<root>/<schema>/<table>`, queried with DuckDB."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import TableNotFoundError as DeltaTableNotFound
from pydantic import Field

from ppm_resources.lakehouse.arrow_types import counting_reader
from ppm_resources.lakehouse.base import (
    ArrowData,
    Lakehouse,
    SqlParams,
    TableInfo,
    TableVersion,
    WriteResult,
    parse_table_name,
)
from ppm_resources.lakehouse.duckdb_sql import TableRef, to_duckdb
from ppm_resources.lakehouse.errors import LakehouseError, SqlError, TableNotFoundError
from ppm_resources.lakehouse.sql import SqlLike, SqlSource, as_source

log = logging.getLogger(__name__)

_BATCH_ROWS = 100_000


def _sql_literal(value: str | int | date | datetime) -> str:
    if isinstance(value, bool):
        raise TypeError("partition values cannot be booleans")
    if isinstance(value, int):
        return str(value)
    text = value.isoformat() if isinstance(value, date | datetime) else str(value)
    return "'" + text.replace("'", "''") + "'"


def _is_sql(data: object) -> bool:
    return isinstance(data, str | SqlSource)


class LocalLakehouse(Lakehouse):
    """Delta Lake files + in-process DuckDB. Safe to share between threads: each call opens its own handles."""

    root: str = Field(default=".lakehouse", description="Directory holding <schema>/<table> Delta tables.")
    duckdb_threads: int | None = Field(
        default=None, description="DuckDB worker threads (default: all cores)."
    )
    duckdb_memory_limit: str | None = Field(default=None, description="DuckDB memory limit, e.g. '4GB'.")

    # -- locations -------------------------------------------------------------------------------------------
    def path(self, table: str) -> Path:
        schema, name = parse_table_name(table)
        return Path(self.root).resolve() / schema / name

    def _open(self, table: str, version: int | str | datetime | None = None) -> DeltaTable:
        path = self.path(table)
        try:
            delta = DeltaTable(str(path))
        except DeltaTableNotFound:
            raise TableNotFoundError(f"table does not exist at {path}", table=table) from None
        if version is not None:
            try:
                delta.load_as_version(version)
            except Exception as error:
                raise LakehouseError(f"cannot time-travel to {version!r}: {error}", table=table) from error
        return delta

    def describe(self) -> str:
        return f"Delta Lake + DuckDB under {Path(self.root).resolve()}"

    def location(self, table: str) -> str:
        return str(self.path(table))

    def exists(self, table: str) -> bool:
        return (self.path(table) / "_delta_log").is_dir()

    # -- reads -----------------------------------------------------------------------------------------------
    @contextmanager
    def _connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        config: dict[str, Any] = {}
        if self.duckdb_threads:
            config["threads"] = self.duckdb_threads
        if self.duckdb_memory_limit:
            config["memory_limit"] = self.duckdb_memory_limit
        connection = duckdb.connect(":memory:", config=config)
        try:
            connection.execute("SET TimeZone = 'UTC'")
            yield connection
        finally:
            connection.close()

    def _bind(self, connection: duckdb.DuckDBPyConnection, ref: TableRef, source: SqlSource) -> None:
        travel: int | str | None = ref.version if ref.version is not None else ref.timestamp
        try:
            delta = self._open(ref.name, travel)
        except TableNotFoundError as error:
            raise TableNotFoundError(
                f"table does not exist at {self.path(ref.name)}; materialize its asset first",
                table=ref.name,
                source=source.origin,
            ) from error
        connection.register(ref.binding, delta.to_pyarrow_dataset())

    @contextmanager
    def _execute(self, sql: SqlLike, params: SqlParams | None) -> Iterator[pa.RecordBatchReader]:
        source = as_source(sql)
        transpiled = to_duckdb(source)
        with self._connection() as connection:
            for ref in transpiled.tables:
                self._bind(connection, ref, source)
            try:
                relation = connection.sql(transpiled.text, params=dict(params) if params else None)
                if relation is None:
                    raise SqlError("expected a query that returns rows (a SELECT)", source=source.origin)
                yield relation.to_arrow_reader(_BATCH_ROWS)
            except duckdb.Error as error:
                message = f"{type(error).__name__}: {error}"
                for ref in transpiled.tables:  # speak of tables as the SQL names them
                    message = message.replace(ref.binding, str(ref))
                tables = ", ".join(str(ref) for ref in transpiled.tables) or None
                raise SqlError(message, table=tables, source=source.origin) from error

    def query(self, sql: SqlLike, *, params: SqlParams | None = None) -> pa.Table:
        with self._execute(sql, params) as reader:
            return reader.read_all()

    # -- writes ----------------------------------------------------------------------------------------------
    def _write(
        self,
        table: str,
        operation: str,
        data: SqlLike | ArrowData,
        params: SqlParams | None,
        **delta_options: Any,
    ) -> WriteResult:
        path = self.path(table)
        path.parent.mkdir(parents=True, exist_ok=True)

        def commit(arrow: ArrowData) -> WriteResult:
            stream = counting_reader(arrow)
            try:
                write_deltalake(str(path), stream.reader(), **delta_options)
            except Exception as error:
                raise LakehouseError(f"{operation} failed: {error}", table=table) from error
            version = DeltaTable(str(path)).version()
            log.info("%s %s: %d rows, version %d", operation, table, stream.rows, version)
            return WriteResult(table=table, operation=operation, version=version, rows_written=stream.rows)

        if _is_sql(data):
            with self._execute(data, params) as reader:  # type: ignore[arg-type]
                return commit(reader)
        return commit(data)  # type: ignore[arg-type]

    def append(self, table: str, data: ArrowData, *, partition_by: list[str] | None = None) -> WriteResult:
        return self._write(
            table, "append", data, None, mode="append", schema_mode="merge", partition_by=partition_by
        )

    def replace(
        self,
        table: str,
        data: SqlLike | ArrowData,
        *,
        params: SqlParams | None = None,
        partition_by: list[str] | None = None,
    ) -> WriteResult:
        return self._write(
            table,
            "replace",
            data,
            params,
            mode="overwrite",
            schema_mode="overwrite",
            partition_by=partition_by,
        )

    def replace_partition(
        self,
        table: str,
        column: str,
        value: str | int | date | datetime,
        data: SqlLike | ArrowData,
        *,
        params: SqlParams | None = None,
    ) -> WriteResult:
        if not column.isidentifier():
            raise LakehouseError(f"invalid partition column {column!r}", table=table)
        if not self.exists(table):
            # First write creates the table partitioned by the column being replaced.
            return self._write(table, "replace_partition", data, params, mode="append", partition_by=[column])
        predicate = f"{column} = {_sql_literal(value)}"
        return self._write(table, "replace_partition", data, params, mode="overwrite", predicate=predicate)

    # -- metadata and maintenance ----------------------------------------------------------------------------
    def info(self, table: str) -> TableInfo:
        delta = self._open(table)
        dataset = delta.to_pyarrow_dataset()
        return TableInfo(
            table=table,
            version=delta.version(),
            num_rows=dataset.count_rows(),
            schema=dataset.schema,
            location=str(self.path(table)),
        )

    def history(self, table: str, limit: int | None = None) -> list[TableVersion]:
        return [_table_version(entry) for entry in self._open(table).history(limit)]

    def restore(self, table: str, version: int) -> TableVersion:
        delta = self._open(table)
        if not 0 <= version <= delta.version():
            raise LakehouseError(
                f"version {version} does not exist (latest is {delta.version()})", table=table
            )
        if version == delta.version():
            raise LakehouseError(f"already at version {version}: nothing to restore", table=table)
        delta.restore(version)
        log.warning("restored %s to version %d (new version %d)", table, version, delta.version())
        return self.history(table, limit=1)[0]

    def vacuum(self, table: str, retention_hours: int = 168, dry_run: bool = False) -> list[str]:
        delta = self._open(table)
        return delta.vacuum(
            retention_hours=retention_hours,
            dry_run=dry_run,
            enforce_retention_duration=retention_hours >= 168,
        )

    def optimize(self, table: str) -> Mapping[str, Any]:
        return self._open(table).optimize.compact()

    def tables(self) -> list[str]:
        """Every table under the root, as `schema.table`."""
        root = Path(self.root)
        if not root.is_dir():
            return []
        found = []
        for log_dir in sorted(root.glob("*/*/_delta_log")):
            table_dir = log_dir.parent
            found.append(f"{table_dir.parent.name}.{table_dir.name}")
        return found


def _table_version(entry: Mapping[str, Any]) -> TableVersion:
    millis = entry.get("timestamp")
    return TableVersion(
        version=int(entry["version"]),
        timestamp=datetime.fromtimestamp(millis / 1000, tz=UTC) if millis else None,
        operation=str(entry.get("operation", "")),
        parameters=dict(entry.get("operationParameters") or {}),
        metrics=dict(entry.get("operationMetrics") or {}),
    )
