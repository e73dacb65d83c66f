"""The `Lakehouse` interface: the few table operations the assets need, engine-neutral.

Implementations: `LocalLakehouse` (Delta Lake files + DuckDB, the default); `build_resources` picks one per
`PPM_ENV`. Asset code and the `ppm` command only ever see this interface, so they never branch on the engine.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
from dagster import ConfigurableResource

from ppm_resources.lakehouse.errors import InvalidTableNameError, LakehouseError
from ppm_resources.lakehouse.sql import SqlLike

_TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")

ArrowData = pa.Table | pa.RecordBatchReader | Iterable[pa.RecordBatch]
SqlParams = Mapping[str, Any]


def parse_table_name(table: str) -> tuple[str, str]:
    """Split `schema.table`; both parts lower-case snake case."""
    if not _TABLE_NAME.match(table):
        raise InvalidTableNameError(
            f"invalid table name {table!r}: expected 'schema.table' in lower-case snake case, "
            "e.g. 'silver.projects'"
        )
    schema, name = table.split(".")
    return schema, name


def check_restore_target(table: str, version: int, latest: int) -> None:
    """Refuse a restore to a version that does not exist, or to the current one (every engine says it alike)."""
    if not 0 <= version <= latest:
        raise LakehouseError(f"version {version} does not exist (latest is {latest})", table=table)
    if version == latest:
        raise LakehouseError(f"already at version {version}: nothing to restore", table=table)


@dataclass(frozen=True)
class WriteResult:
    """What a write committed."""

    table: str
    operation: str
    version: int
    rows_written: int


@dataclass(frozen=True)
class TableVersion:
    """One entry of a table's history (newest first when listed)."""

    version: int
    timestamp: datetime | None
    operation: str
    parameters: Mapping[str, Any]
    metrics: Mapping[str, Any]


@dataclass(frozen=True)
class TableInfo:
    """Current shape of a table, for `dagster/column_schema` and `dagster/row_count` metadata."""

    table: str
    version: int
    num_rows: int
    schema: pa.Schema
    location: str


class Lakehouse(ConfigurableResource):
    """Engine-neutral table operations. Table names are `schema.table`; SQL is Databricks dialect."""

    @abstractmethod
    def append(self, table: str, data: ArrowData, *, partition_by: list[str] | None = None) -> WriteResult:
        """Append rows atomically (creating the table on first write)."""

    @abstractmethod
    def replace(
        self,
        table: str,
        data: SqlLike | ArrowData,
        *,
        params: SqlParams | None = None,
        partition_by: list[str] | None = None,
    ) -> WriteResult:
        """Replace the whole table with the result of `data` (a SELECT, or Arrow rows), atomically."""

    @abstractmethod
    def replace_partition(
        self,
        table: str,
        column: str,
        value: str | int | datetime,
        data: SqlLike | ArrowData,
        *,
        params: SqlParams | None = None,
    ) -> WriteResult:
        """Replace the rows where `column = value` with `data`, atomically; other rows are untouched."""

    @abstractmethod
    def version(self, table: str) -> int | None:
        """The table's current version (cheap: no data is read); None when the table does not exist."""

    @abstractmethod
    def write_lock(self, table: str) -> AbstractContextManager[None]:
        """Exclusive right to write `table`, shared by every process and instance using this lakehouse."""

    @abstractmethod
    def query(self, sql: SqlLike, *, params: SqlParams | None = None) -> pa.Table:
        """Run a SELECT and return its rows."""

    @abstractmethod
    def tables(self) -> list[str]:
        """Every table written so far, as `schema.table`, sorted."""

    @abstractmethod
    def describe(self) -> str:
        """The engine and where its tables live, in one line for people (`ppm health`)."""

    @abstractmethod
    def location(self, table: str) -> str:
        """Where the table lives, for people (a directory, or a Unity Catalog name)."""

    @abstractmethod
    def exists(self, table: str) -> bool:
        """Whether the table has been written."""

    @abstractmethod
    def info(self, table: str) -> TableInfo:
        """Current version, row count and schema."""

    @abstractmethod
    def history(self, table: str, limit: int | None = None) -> list[TableVersion]:
        """Commits, newest first."""

    @abstractmethod
    def restore(self, table: str, version: int) -> TableVersion:
        """Make `version` the current state again (a new commit; history is kept)."""

    @abstractmethod
    def vacuum(self, table: str, retention_hours: int = 168, dry_run: bool = False) -> list[str]:
        """Delete data files no longer referenced by versions newer than the retention; returns them."""

    @abstractmethod
    def optimize(self, table: str) -> Mapping[str, Any]:
        """Compact small files; returns the engine's metrics."""
