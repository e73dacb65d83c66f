"""The local engine: Delta Lake tables (delta-rs) under `<root>/<schema>/<table>`, queried with DuckDB."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import DeltaError
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
    check_restore_target,
    parse_table_name,
)
from ppm_resources.lakehouse.damage import (
    LOG_DIR,
    damaged_table_error,
    find_data_damage,
    find_log_damage,
    quarantine_log_from,
)
from ppm_resources.lakehouse.duckdb_sql import TableRef, to_duckdb
from ppm_resources.lakehouse.errors import (
    DamagedTableError,
    InvalidTableNameError,
    LakehouseError,
    NotWritableError,
    SqlError,
    TableNotFoundError,
)
from ppm_resources.lakehouse.locks import file_lock
from ppm_resources.lakehouse.sql import SqlLike, SqlSource, as_source
from ppm_resources.lakehouse.writable import refusal_reason, refused, require_writable

log = logging.getLogger(__name__)

_BATCH_ROWS = 100_000
LOCKS_DIR = "_locks"  # write locks (`write_lock`), next to the schemas
# Reads that fail this way may have hit a missing or truncated data file (delta-rs, pyarrow and DuckDB's
# scan of an Arrow dataset each report it differently).
_READ_FAILURES = (OSError, pa.ArrowException, DeltaError, duckdb.InvalidInputException)


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
    lock_timeout_s: float = Field(
        default=600.0, gt=0, description="How long a writer waits for another's write lock before failing."
    )

    # -- locations -------------------------------------------------------------------------------------------
    def path(self, table: str) -> Path:
        schema, name = parse_table_name(table)
        return Path(self.root).resolve() / schema / name

    def _open(self, table: str, version: int | str | datetime | None = None) -> DeltaTable:
        path = self.path(table)
        if isinstance(version, int):
            return self._open_version(table, version)
        try:
            delta = DeltaTable(str(path))
        except DeltaTableNotFound:
            raise TableNotFoundError(f"table does not exist at {path}", table=table) from None
        except DeltaError as error:
            # The damage report replaces delta-rs's message (a dump of log paths), also as the root cause
            # Dagster shows for a failed step.
            raise self._log_error(table, error) from None
        if version is not None:
            try:
                delta.load_as_version(version)
            except Exception as error:
                raise LakehouseError(f"cannot time-travel to {version!r}: {error}", table=table) from error
        return delta

    def _open_version(self, table: str, version: int) -> DeltaTable:
        """Load the log only up to `version`, so versions before a damaged commit stay readable."""
        if not self.exists(table):
            raise TableNotFoundError(f"table does not exist at {self.path(table)}", table=table)
        try:
            return DeltaTable(str(self.path(table)), version=version)
        except DeltaError as error:
            raise LakehouseError(f"cannot time-travel to {version!r}: {error}", table=table) from error

    # -- damage and write access -----------------------------------------------------------------------------
    def _log_error(self, table: str, error: Exception) -> LakehouseError:
        """The latest version does not load: a damaged log when a commit it needs is missing or unparsable."""
        path = self.path(table)
        damage = find_log_damage(path)
        if damage is None:
            return LakehouseError(f"cannot load the Delta log at {path / LOG_DIR}: {error}", table=table)
        return damaged_table_error(table, path, damage)

    def _data_damage(self, table: str) -> DamagedTableError | None:
        """A missing or truncated data file in the table's latest version, if there is one."""
        path = self.path(table)
        try:
            version = DeltaTable(str(path)).version()
        except DeltaError:
            return None
        damage = find_data_damage(path, version)
        return damaged_table_error(table, path, damage) if damage else None

    @contextmanager
    def _reading(self, *tables: str) -> Iterator[None]:
        """Reads of the tables' latest data: a failure caused by a damaged data file is reported as such."""
        try:
            yield
        except _READ_FAILURES:
            for table in tables:
                if damaged := self._data_damage(table):
                    raise damaged from None  # the report says more than the reader's error, as root cause too
            raise

    def _require_writable(self, table: str) -> None:
        path = self.path(table)
        require_writable(path / LOG_DIR, path, table=table)

    def _write_error(self, table: str, operation: str, error: Exception) -> LakehouseError:
        """Why a write failed, most specific first: refused by the file system, a damaged table, anything else."""
        path = self.path(table)
        if refused(error):
            return NotWritableError(str(path), refusal_reason(path), table=table)
        if self.exists(table):
            try:
                self._open(table)
            except DamagedTableError as damaged:
                return damaged
            except LakehouseError:
                pass
            if damaged := self._data_damage(table):
                return damaged
        return LakehouseError(f"{operation} failed: {error}", table=table)

    def describe(self) -> str:
        return f"Delta Lake + DuckDB under {Path(self.root).resolve()}"

    def location(self, table: str) -> str:
        return str(self.path(table))

    def exists(self, table: str) -> bool:
        return (self.path(table) / "_delta_log").is_dir()

    def version(self, table: str) -> int | None:
        return self._open(table).version() if self.exists(table) else None

    def write_lock(self, table: str) -> AbstractContextManager[None]:
        schema, name = parse_table_name(table)
        lock = Path(self.root).resolve() / LOCKS_DIR / f"{schema}.{name}.lock"
        require_writable(lock, table=table)  # else `open` fails with a bare PermissionError
        return file_lock(lock, table=table, timeout_s=self.lock_timeout_s)

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
        # Only tables read at their latest version are diagnosed: an old version's files may be vacuumed.
        latest = dict.fromkeys(r.name for r in transpiled.tables if r.version is None and r.timestamp is None)
        with self._connection() as connection:
            for ref in transpiled.tables:
                self._bind(connection, ref, source)
            try:
                with self._reading(*latest):
                    relation = connection.sql(transpiled.text, params=dict(params) if params else None)
                    if relation is None:
                        raise SqlError("expected a query that returns rows (a SELECT)", source=source.origin)
                    yield relation.to_arrow_reader(_BATCH_ROWS)
            except (duckdb.Error, pa.ArrowException, OSError) as error:  # also a SELECT failing mid-stream
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
        self._require_writable(table)
        path.parent.mkdir(parents=True, exist_ok=True)

        def commit(arrow: ArrowData) -> WriteResult:
            stream = counting_reader(arrow)
            try:
                write_deltalake(str(path), stream.reader(), **delta_options)
            except Exception as error:
                if stream.failure is not None and _is_sql(data):  # the SELECT failed: `_execute` says why
                    raise stream.failure from None
                failure = self._write_error(table, operation, error)
                raise failure from (
                    None if isinstance(failure, DamagedTableError | NotWritableError) else error
                )
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
        with self._reading(table):
            dataset = delta.to_pyarrow_dataset()
            num_rows = dataset.count_rows()
        return TableInfo(
            table=table,
            version=delta.version(),
            num_rows=num_rows,
            schema=dataset.schema,
            location=str(self.path(table)),
        )

    def history(self, table: str, limit: int | None = None) -> list[TableVersion]:
        return [_table_version(entry) for entry in self._open(table).history(limit)]

    def restore(self, table: str, version: int) -> TableVersion:
        self._require_writable(table)
        try:
            delta = self._open(table)
        except DamagedTableError as damaged:
            if damaged.unreadable_from is None:
                raise
            delta = self._cut_log(table, version, damaged)
            if delta.version() == version:
                return self.history(table, limit=1)[0]
        check_restore_target(table, version, delta.version())
        self._require_readable(table, version)
        delta.restore(version)
        log.warning("restored %s to version %d (new version %d)", table, version, delta.version())
        return self.history(table, limit=1)[0]

    def _require_readable(self, table: str, version: int) -> None:
        """Refuse to restore a version whose data files are damaged: the table would stay unreadable."""
        path = self.path(table)
        if damage := find_data_damage(path, version):
            raise damaged_table_error(table, path, damage, prefix=f"cannot restore version {version}: ")

    def _cut_log(self, table: str, version: int, damaged: DamagedTableError) -> DeltaTable:
        """Restore across a damaged commit. delta-rs loads no version from the damaged commit on, so no new commit
        can follow them: their log entries are moved out of the table (kept under `_damaged/`), which leaves
        the table at the version before the damage; the caller restores further back from there."""
        first = damaged.unreadable_from
        assert first is not None
        if version >= first:
            raise DamagedTableError(
                f"cannot restore version {version}: {damaged.damage}", table=table, recovery=damaged.recovery
            )
        self._open_version(table, version)  # loads, or says why not
        self._require_readable(table, version)
        path = self.path(table)
        with self.write_lock(table):
            now = find_log_damage(path)
            if now is None or now.unreadable_from != first:  # another restore got here first
                raise LakehouseError("the table's log changed meanwhile: run the restore again", table=table)
            moved_to = quarantine_log_from(path, first, Path(self.root).resolve(), table)
        log.warning(
            "%s: versions %d and later could not be loaded; their log entries were moved to %s",
            table,
            first,
            moved_to,
        )
        return DeltaTable(str(path))

    def vacuum(self, table: str, retention_hours: int = 168, dry_run: bool = False) -> list[str]:
        if not dry_run:
            self._require_writable(table)
        delta = self._open(table)
        return delta.vacuum(
            retention_hours=retention_hours,
            dry_run=dry_run,
            enforce_retention_duration=retention_hours >= 168,
        )

    def optimize(self, table: str) -> Mapping[str, Any]:
        self._require_writable(table)
        delta = self._open(table)
        with self._reading(table):
            return delta.optimize.compact()

    def tables(self) -> list[str]:
        """Every table under the root, as `schema.table`."""
        root = Path(self.root)
        if not root.is_dir():
            return []
        found = []
        for log_dir in sorted(root.glob(f"*/*/{LOG_DIR}")):
            table_dir = log_dir.parent
            name = f"{table_dir.parent.name}.{table_dir.name}"
            try:
                parse_table_name(name)
            except InvalidTableNameError:  # e.g. a damaged table moved aside as `<table>.damaged`
                continue
            found.append(name)
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
