"""Running one recognised statement against the catalog's engine: the result as an Arrow table, or a
`StatementError` (the statement ends FAILED).

Names resolve against the request's `catalog` (default `main`) and `schema`; one catalog per statement, since
each catalog has its own engine. Writes of one table are serialised (a lock per table), so that a COPY INTO's
ledger check, append and ledger update are one step; the emulator reproduces no conflicts between writers.
"""

import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ppm_sandbox.databricks import delta_rows
from ppm_sandbox.databricks.catalog import Catalog
from ppm_sandbox.databricks.config import DEFAULT_CATALOG
from ppm_sandbox.databricks.copy_into import (
    candidate_files,
    new_columns,
    option,
    path_not_found,
    read_files,
    schema_mismatch,
)
from ppm_sandbox.databricks.dialect import (
    CopyInto,
    CreateEmptyTable,
    CreateSchema,
    CreateTableAs,
    CreateVolume,
    DescribeDetail,
    DescribeHistory,
    DropTable,
    InsertInto,
    InsertReplaceWhere,
    Name,
    Optimize,
    Param,
    Query,
    Restore,
    ShowSchemas,
    ShowTables,
    Statement,
    TableName,
    Vacuum,
    files_select,
    like,
    qualify,
    query_tables,
    schema_name,
    table_name,
)
from ppm_sandbox.databricks.engine import Engines, TableEngine
from ppm_sandbox.databricks.errors import (
    ApiError,
    StatementError,
    no_such_catalog,
    quoted,
    schema_not_found,
    sql_error,
    table_already_exists,
    table_not_found,
    unsupported,
)
from ppm_sandbox.databricks.files import VolumeFiles
from ppm_sandbox.databricks.params import Parameter, bind
from ppm_sandbox.databricks.tokens import parameter_markers

#: Delta refuses to vacuum with a shorter retention unless a safety check is turned off.
MIN_RETENTION_HOURS = 168
VACUUM_RETENTION_MESSAGE = (
    "requirement failed: Are you sure you would like to vacuum files with such a low retention period? If you "
    "have writers that are currently writing to this table, there is a risk that you may corrupt the state of "
    "your Delta table.\n\nIf you are certain that there are no operations being performed on this table, such "
    "as insert/upsert/delete/optimize, then you may turn off this check by setting:\n"
    "spark.databricks.delta.retentionDurationCheck.enabled = false\n\nIf you are not sure, please use a value "
    'not less than "168 hours".'
)


def no_engine_error() -> StatementError:
    return StatementError(
        "[SANDBOX_NO_SQL_ENGINE] The Databricks sandbox was started without a SQL engine, so it cannot run "
        "statements. Give it one: DatabricksConfig(engine=lambda root: LocalLakehouse(root=root)), "
        'DatabricksConfig(engine="ppm_resources.lakehouse.local:LocalLakehouse"), or '
        "`ppm-sandbox serve --databricks-engine ppm_resources.lakehouse.local:LocalLakehouse`.",
        error_code="BAD_REQUEST",
    )


@dataclass(frozen=True)
class Scope:
    """What a statement runs with besides its text: the request's defaults and parameters."""

    catalog: str = DEFAULT_CATALOG
    schema: str | None = None
    parameters: tuple[Parameter, ...] = ()


def _counts(rows: int) -> pa.Table:
    return delta_rows.counts_table(num_affected_rows=rows, num_inserted_rows=rows)


class Executor:
    def __init__(self, engines: Engines, catalog: Catalog, files: VolumeFiles) -> None:
        self.engines = engines
        self.catalog = catalog
        self.files = files
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def run(self, statement: Statement, scope: Scope) -> pa.Table:
        if not self.engines.configured:
            raise no_engine_error()
        handlers: dict[type, Callable[[Any, Scope], pa.Table]] = {
            Query: self._query,
            CreateSchema: self._create_schema,
            CreateVolume: self._create_volume,
            DropTable: self._drop_table,
            CreateEmptyTable: self._create_empty_table,
            CreateTableAs: self._create_table_as,
            InsertReplaceWhere: self._insert_replace_where,
            InsertInto: self._insert_into,
            CopyInto: self._copy_into,
            DescribeHistory: self._describe_history,
            DescribeDetail: self._describe_detail,
            Restore: self._restore,
            Vacuum: self._vacuum,
            Optimize: self._optimize,
            ShowSchemas: self._show_schemas,
            ShowTables: self._show_tables,
        }
        return handlers[type(statement)](statement, scope)

    # -- helpers ------------------------------------------------------------------------------------------
    def _lock(self, table: TableName) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(str(table), threading.Lock())

    def _engine(self, catalog: str) -> TableEngine:
        if not self.catalog.has_catalog(catalog):
            raise no_such_catalog(catalog)
        return self.engines.get(catalog)

    def _table_schemas(self, engine: TableEngine) -> set[str]:
        return {name.split(".", 1)[0] for name in engine.tables()}

    def _require_schema(self, engine: TableEngine, catalog: str, schema: str) -> None:
        if not self.catalog.has_schema(catalog, schema, self._table_schemas(engine)):
            raise schema_not_found(catalog, schema)

    def _table(self, name: Name, scope: Scope) -> tuple[TableName, TableEngine]:
        table = table_name(name, scope.catalog, scope.schema)
        engine = self._engine(table.catalog)
        return table, engine

    def _existing(self, name: Name, scope: Scope) -> tuple[TableName, TableEngine]:
        """A table that must exist in the engine (a placeholder is not enough)."""
        table, engine = self._table(name, scope)
        if not engine.exists(table.engine_name):
            raise table_not_found(table.catalog, table.schema, table.table)
        return table, engine

    # -- queries ------------------------------------------------------------------------------------------
    def _volume_path(self, path: str) -> tuple[str, Path]:
        """A `/Volumes/...` path a statement reads (`dbfs:` allowed) and where its files are here."""
        source = path.removeprefix("dbfs:")
        try:
            return source, self.files.local_path(source)
        except ApiError:
            raise path_not_found(source) from None

    def _files_rows(self, select: str) -> pa.Table | None:
        """The rows of `SELECT * FROM read_files('<volume path>') [LIMIT n]`, read here (the engine has no
        `read_files`); None for any other SELECT, which the engine runs."""
        wanted = files_select(select)
        if wanted is None:
            return None
        if wanted.file_format != "PARQUET":
            raise unsupported(f"read_files with format {wanted.file_format.lower()} (parquet only)")
        source, local = self._volume_path(wanted.path)
        read = read_files(candidate_files(source, local, None, None), merge_schema=True, ignore_corrupt=False)
        if read.table is None:
            raise path_not_found(source)
        return read.table if wanted.limit is None else read.table.slice(0, wanted.limit)

    def _query(self, statement: Query, scope: Scope) -> pa.Table:
        sql = statement.sql
        if (rows := self._files_rows(sql)) is not None:
            return rows
        tables = query_tables(sql)
        catalogs = set(tables.catalogs)
        if tables.uncatalogued or tables.unqualified or not catalogs:
            catalogs.add(scope.catalog)
        for catalog in sorted(catalogs):
            if not self.catalog.has_catalog(catalog):
                raise no_such_catalog(catalog)
        if len(catalogs) > 1:
            raise unsupported(f"a query over several catalogs ({', '.join(sorted(catalogs))})")
        if tables.unqualified and scope.schema:
            sql = qualify(sql, scope.schema)
        engine = self._engine(catalogs.pop())
        params = bind(parameter_markers(sql), scope.parameters)
        return engine.query(sql, params=params or None)

    # -- DDL ----------------------------------------------------------------------------------------------
    def _create_schema(self, statement: CreateSchema, scope: Scope) -> pa.Table:
        catalog, schema = schema_name(statement.name, scope.catalog)
        engine = self._engine(catalog)
        if self.catalog.has_schema(catalog, schema, self._table_schemas(engine)):
            if statement.if_not_exists:
                return delta_rows.empty_table()
            raise sql_error(
                "SCHEMA_ALREADY_EXISTS",
                f"Cannot create schema {quoted(catalog, schema)} because it already exists. Choose a different "
                "name, drop the existing schema, or add the IF NOT EXISTS clause to tolerate pre-existing schema.",
                "42P06",
            )
        self.catalog.create_schema(catalog, schema)
        return delta_rows.empty_table()

    def _create_volume(self, statement: CreateVolume, scope: Scope) -> pa.Table:
        parts = statement.name.parts
        if len(parts) == 1 and not scope.schema:
            raise unsupported("CREATE VOLUME needs a schema (catalog.schema.volume)")
        full = (
            TableName(*parts) if len(parts) == 3 else table_name(statement.name, scope.catalog, scope.schema)
        )
        engine = self._engine(full.catalog)
        self._require_schema(engine, full.catalog, full.schema)
        volume = str(full)
        if self.catalog.has_volume(volume):
            if statement.if_not_exists:
                return delta_rows.empty_table()
            raise sql_error(
                "VOLUME_ALREADY_EXISTS",
                f"Cannot create volume {quoted(full.catalog, full.schema, full.table)} because it already exists.",
                "42000",
            )
        self.catalog.create_volume(volume)
        return delta_rows.empty_table()

    def _drop_table(self, statement: DropTable, scope: Scope) -> pa.Table:
        table, engine = self._table(statement.name, scope)
        with self._lock(table):
            if engine.exists(table.engine_name):
                location = Path(engine.info(table.engine_name).location).resolve()
                root = self.engines.root(table.catalog).resolve()
                if root not in location.parents:
                    raise unsupported(f"DROP TABLE of a table stored outside the sandbox ({location})")
                shutil.rmtree(location)
            elif not self.catalog.is_placeholder(str(table)):
                if statement.if_exists:
                    return delta_rows.empty_table()
                raise table_not_found(table.catalog, table.schema, table.table)
            self.catalog.drop_table(str(table))
        return delta_rows.empty_table()

    def _create_empty_table(self, statement: CreateEmptyTable, scope: Scope) -> pa.Table:
        table, engine = self._table(statement.name, scope)
        self._require_schema(engine, table.catalog, table.schema)
        exists = engine.exists(table.engine_name) or self.catalog.is_placeholder(str(table))
        if exists and statement.if_not_exists:
            return delta_rows.empty_table()
        if exists:
            if statement.or_replace:
                raise unsupported("CREATE OR REPLACE TABLE without columns of an existing table")
            raise table_already_exists(table.catalog, table.schema, table.table)
        self.catalog.add_placeholder(str(table))
        return delta_rows.empty_table()

    # -- writes -------------------------------------------------------------------------------------------
    def _create_table_as(self, statement: CreateTableAs, scope: Scope) -> pa.Table:
        table, engine = self._table(statement.name, scope)
        self._require_schema(engine, table.catalog, table.schema)
        with self._lock(table):
            exists = engine.exists(table.engine_name) or self.catalog.is_placeholder(str(table))
            if exists and not statement.or_replace:
                if statement.if_not_exists:
                    return _counts(0).slice(0, 0)
                raise table_already_exists(table.catalog, table.schema, table.table)
            files = self._files_rows(statement.select)
            params = (
                None if files is not None else bind(parameter_markers(statement.select), scope.parameters)
            )
            written = engine.replace(
                table.engine_name,
                statement.select if files is None else files,
                params=params or None,
                partition_by=list(statement.partition_by) or None,
            )
            self.catalog.table_created(str(table))
        return _counts(written.rows_written)

    def _insert_replace_where(self, statement: InsertReplaceWhere, scope: Scope) -> pa.Table:
        table, engine = self._existing(statement.name, scope)
        value: Any = statement.value
        if isinstance(value, Param):
            value = bind([value.name], scope.parameters)[value.name]
            if value is None:
                raise unsupported("REPLACE WHERE with a NULL value")
        files = self._files_rows(statement.select)
        params = None if files is not None else bind(parameter_markers(statement.select), scope.parameters)
        with self._lock(table):
            written = engine.replace_partition(
                table.engine_name,
                statement.column,
                value,
                statement.select if files is None else files,
                params=params or None,
            )
        return _counts(written.rows_written)

    def _insert_into(self, statement: InsertInto, scope: Scope) -> pa.Table:
        table, engine = self._table(statement.name, scope)
        if self.catalog.is_placeholder(str(table)):
            raise sql_error(
                "DELTA_SCHEMA_NOT_SET",
                "Table schema is not set. Write data into it or use CREATE TABLE to set the schema.",
                "KD008",
            )
        if not engine.exists(table.engine_name):
            raise table_not_found(table.catalog, table.schema, table.table)
        params = bind(parameter_markers(statement.select), scope.parameters)
        data = engine.query(statement.select, params=params or None)
        with self._lock(table):
            target = engine.info(table.engine_name).schema
            written = engine.append(table.engine_name, _by_position(data, target, table))
        return _counts(written.rows_written)

    def _copy_into(self, statement: CopyInto, scope: Scope) -> pa.Table:
        table, engine = self._table(statement.name, scope)
        placeholder = self.catalog.is_placeholder(str(table))
        if not placeholder and not engine.exists(table.engine_name):
            raise table_not_found(table.catalog, table.schema, table.table)
        if statement.file_format != "PARQUET":
            raise unsupported(f"COPY INTO with FILEFORMAT = {statement.file_format} (PARQUET only)")
        source, local = self._volume_path(statement.source)
        options = {**statement.format_options, **statement.copy_options}
        merge = option(options, "mergeSchema")
        with self._lock(table):
            candidates = candidate_files(source, local, statement.files, statement.pattern)
            loaded = set() if option(options, "force") else self.catalog.loaded_files(str(table))
            new = [f for f in candidates if f.volume_path not in loaded]
            read = read_files(new, merge_schema=merge, ignore_corrupt=option(options, "ignoreCorruptFiles"))
            rows = 0
            if read.table is not None:
                exists = engine.exists(table.engine_name)
                target = engine.info(table.engine_name).schema if exists else None
                if not merge and (extra := new_columns(read.table.schema, target)):
                    raise schema_mismatch(f"columns {extra} are not in {table}")
                if read.table.num_rows or not exists:
                    engine.append(table.engine_name, read.table)
                rows = read.table.num_rows
            if read.loaded:
                self.catalog.record_loaded(str(table), [f.volume_path for f in read.loaded])
        return delta_rows.counts_table(
            num_affected_rows=rows, num_inserted_rows=rows, num_skipped_corrupt_files=read.skipped_corrupt
        )

    # -- Delta table commands -----------------------------------------------------------------------------
    def _describe_history(self, statement: DescribeHistory, scope: Scope) -> pa.Table:
        table, engine = self._table(statement.name, scope)
        if self.catalog.is_placeholder(str(table)):
            return delta_rows.history_table([])
        table, engine = self._existing(statement.name, scope)
        return delta_rows.history_table(engine.history(table.engine_name, statement.limit))

    def _describe_detail(self, statement: DescribeDetail, scope: Scope) -> pa.Table:
        table, engine = self._table(statement.name, scope)
        if self.catalog.is_placeholder(str(table)):
            return delta_rows.detail_table(str(table), None, [], "")
        table, engine = self._existing(statement.name, scope)
        info = engine.info(table.engine_name)
        history = engine.history(table.engine_name)
        return delta_rows.detail_table(str(table), info, history, info.location)

    def _restore(self, statement: Restore, scope: Scope) -> pa.Table:
        table, engine = self._existing(statement.name, scope)
        with self._lock(table):
            current = engine.version(table.engine_name)
            if current is not None and not 0 <= statement.version <= current:
                raise sql_error(
                    "DELTA_CANNOT_RESTORE_TABLE_VERSION",
                    f"Cannot restore table to version {statement.version}. Available versions: [0, {current}].",
                    "22003",
                )
            if current == statement.version:
                metrics: Any = {}
            else:
                metrics = engine.restore(table.engine_name, statement.version).metrics
            location = engine.info(table.engine_name).location
        return delta_rows.restore_table(metrics, location)

    def _vacuum(self, statement: Vacuum, scope: Scope) -> pa.Table:
        table, engine = self._existing(statement.name, scope)
        hours = MIN_RETENTION_HOURS if statement.retain_hours is None else statement.retain_hours
        if hours < MIN_RETENTION_HOURS:
            raise StatementError(VACUUM_RETENTION_MESSAGE, error_code="BAD_REQUEST")
        with self._lock(table):
            removed = engine.vacuum(table.engine_name, retention_hours=int(hours), dry_run=statement.dry_run)
            location = engine.info(table.engine_name).location
        if statement.dry_run:
            return delta_rows.path_table([f"{location}/{path}" for path in dict.fromkeys(removed)])
        return delta_rows.path_table([location])

    def _optimize(self, statement: Optimize, scope: Scope) -> pa.Table:
        table, engine = self._existing(statement.name, scope)
        with self._lock(table):
            metrics = engine.optimize(table.engine_name)
            location = engine.info(table.engine_name).location
        return delta_rows.optimize_table(location, metrics)

    # -- SHOW ---------------------------------------------------------------------------------------------
    def _show_schemas(self, statement: ShowSchemas, scope: Scope) -> pa.Table:
        catalog = statement.catalog or scope.catalog
        engine = self._engine(catalog)
        names = [
            s
            for s in self.catalog.schemas(catalog, self._table_schemas(engine))
            if like(statement.pattern, s)
        ]
        return pa.table({"databaseName": pa.array(names, pa.string())})

    def _show_tables(self, statement: ShowTables, scope: Scope) -> pa.Table:
        if statement.schema is not None:
            catalog, schema = schema_name(statement.schema, scope.catalog)
        else:
            catalog, schema = scope.catalog, scope.schema or "default"
        engine = self._engine(catalog)
        self._require_schema(engine, catalog, schema)
        names = {t.split(".", 1)[1] for t in engine.tables() if t.split(".", 1)[0] == schema}
        names |= set(self.catalog.placeholders(catalog, schema))
        chosen = sorted(n for n in names if like(statement.pattern, n))
        return pa.table(
            {
                "database": pa.array([schema] * len(chosen), pa.string()),
                "tableName": pa.array(chosen, pa.string()),
                "isTemporary": pa.array([False] * len(chosen), pa.bool_()),
            }
        )


def _by_position(data: pa.Table, target: pa.Schema, table: TableName) -> pa.Table:
    """INSERT's rows matched to the table's columns by position and cast to their types, as Databricks does."""
    if data.num_columns != len(target):
        kind = "TOO_MANY_DATA_COLUMNS" if data.num_columns > len(target) else "NOT_ENOUGH_DATA_COLUMNS"
        raise sql_error(
            f"INSERT_COLUMN_ARITY_MISMATCH.{kind}",
            f"Cannot write to {quoted(table.catalog, table.schema, table.table)}: the table has {len(target)} "
            f"columns, the data has {data.num_columns}.",
            "21S01",
        )
    columns = []
    for column, field in zip(data.columns, target, strict=True):
        try:
            columns.append(pc.cast(column, field.type, safe=True))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            raise sql_error(
                "INCOMPATIBLE_DATA_FOR_TABLE.CANNOT_SAFELY_CAST",
                f"Cannot write incompatible data for the table {quoted(table.catalog, table.schema, table.table)}: "
                f"cannot safely cast {field.name!r} from {column.type} to {field.type} ({exc}).",
                "KD000",
            ) from None
    return pa.Table.from_arrays(columns, schema=pa.schema([pa.field(f.name, f.type) for f in target]))
