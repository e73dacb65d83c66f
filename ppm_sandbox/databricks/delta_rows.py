"""Result rows of Delta's table commands, in Databricks' column names and types (pure builders).

DESCRIBE HISTORY, DESCRIBE DETAIL, RESTORE, VACUUM and OPTIMIZE answer with fixed columns; the values come
from what the engine reports (`history`, `info`, `restore`, `vacuum`, `optimize`), and what it does not
report is filled with what a fresh Delta table would show (user, isolation level, protocol versions).
"""

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from ppm_sandbox.databricks.engine import TableInfoLike, TableVersionLike

USER_ID = "1000000000000001"
USER_NAME = "sandbox@example.com"
ENGINE_INFO = "Databricks-Runtime/sandbox"
_STRING_MAP = pa.map_(pa.string(), pa.string())
_TIMESTAMP = pa.timestamp("us", tz="UTC")

HISTORY_SCHEMA = pa.schema(
    [
        ("version", pa.int64()),
        ("timestamp", _TIMESTAMP),
        ("userId", pa.string()),
        ("userName", pa.string()),
        ("operation", pa.string()),
        ("operationParameters", _STRING_MAP),
        ("readVersion", pa.int64()),
        ("isolationLevel", pa.string()),
        ("isBlindAppend", pa.bool_()),
        ("operationMetrics", _STRING_MAP),
        ("userMetadata", pa.string()),
        ("engineInfo", pa.string()),
    ]
)

DETAIL_SCHEMA = pa.schema(
    [
        ("format", pa.string()),
        ("id", pa.string()),
        ("name", pa.string()),
        ("description", pa.string()),
        ("location", pa.string()),
        ("createdAt", _TIMESTAMP),
        ("lastModified", _TIMESTAMP),
        ("partitionColumns", pa.list_(pa.string())),
        ("numFiles", pa.int64()),
        ("sizeInBytes", pa.int64()),
        ("properties", _STRING_MAP),
        ("minReaderVersion", pa.int32()),
        ("minWriterVersion", pa.int32()),
    ]
)

RESTORE_COLUMNS = (
    "table_size_after_restore",
    "num_of_files_after_restore",
    "num_removed_files",
    "num_restored_files",
    "removed_files_size",
    "restored_files_size",
)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _string_map(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(str(k), _text(v)) for k, v in values.items()]


def history_table(entries: Sequence[TableVersionLike]) -> pa.Table:
    """DESCRIBE HISTORY, newest first (as the engine lists them)."""
    rows = [
        {
            "version": entry.version,
            "timestamp": entry.timestamp,
            "userId": USER_ID,
            "userName": USER_NAME,
            "operation": entry.operation,
            "operationParameters": _string_map(entry.parameters),
            "readVersion": entry.version - 1 if entry.version > 0 else None,
            "isolationLevel": "WriteSerializable",
            "isBlindAppend": str(entry.parameters.get("mode", "")).lower() == "append",
            "operationMetrics": _string_map(entry.metrics),
            "userMetadata": None,
            "engineInfo": ENGINE_INFO,
        }
        for entry in entries
    ]
    return pa.Table.from_pylist(rows, schema=HISTORY_SCHEMA)


def partition_columns(entries: Sequence[TableVersionLike]) -> list[str]:
    """The partition columns the newest commit recorded (`partitionBy`, a JSON list)."""
    for entry in entries:
        raw = entry.parameters.get("partitionBy")
        if raw:
            try:
                columns = json.loads(raw) if isinstance(raw, str) else list(raw)
            except ValueError:
                continue
            return [str(c) for c in columns]
    return []


def data_files(location: str) -> list[Path]:
    """Parquet files under a local table directory. Files of older versions not vacuumed yet count too: the
    engine does not report the files of the current version alone."""
    root = Path(location)
    if not root.is_dir():
        return []
    return [p for p in root.rglob("*.parquet") if "_delta_log" not in p.parts]


def detail_table(
    full_name: str, info: TableInfoLike | None, entries: Sequence[TableVersionLike], location: str
) -> pa.Table:
    """DESCRIBE DETAIL (one row); `info` None for a schemaless placeholder."""
    files = data_files(location) if info is not None else []
    stamps = [e.timestamp for e in entries if e.timestamp is not None]
    created: datetime | None = min(stamps) if stamps else None
    modified: datetime | None = max(stamps) if stamps else None
    row = {
        "format": "delta",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox-table:{full_name}")),
        "name": full_name,
        "description": None,
        "location": location,
        "createdAt": created,
        "lastModified": modified,
        "partitionColumns": partition_columns(entries),
        "numFiles": len(files),
        "sizeInBytes": sum(p.stat().st_size for p in files),
        "properties": [],
        "minReaderVersion": 1,
        "minWriterVersion": 2,
    }
    return pa.Table.from_pylist([row], schema=DETAIL_SCHEMA)


def _metric(metrics: Mapping[str, Any], *names: str) -> int:
    for name in names:
        if name in metrics:
            try:
                return int(metrics[name])
            except (TypeError, ValueError):
                continue
    return 0


def restore_table(metrics: Mapping[str, Any], location: str) -> pa.Table:
    """RESTORE's one row; what the engine does not report is 0."""
    files = data_files(location)
    values = {
        "table_size_after_restore": _metric(metrics, "tableSizeAfterRestore")
        or sum(p.stat().st_size for p in files),
        "num_of_files_after_restore": _metric(metrics, "numOfFilesAfterRestore") or len(files),
        "num_removed_files": _metric(metrics, "numRemovedFiles", "numRemovedFile", "num_removed_files"),
        "num_restored_files": _metric(metrics, "numRestoredFiles", "numRestoredFile", "num_restored_files"),
        "removed_files_size": _metric(metrics, "removedFilesSize"),
        "restored_files_size": _metric(metrics, "restoredFilesSize"),
    }
    return pa.table({name: pa.array([values[name]], pa.int64()) for name in RESTORE_COLUMNS})


def path_table(paths: Sequence[str]) -> pa.Table:
    """VACUUM: one `path` column."""
    return pa.table({"path": pa.array(list(paths), pa.string())})


def _metrics_value(value: Any) -> Any:
    # delta-rs reports nested statistics as JSON text; Databricks shows them as nested structs.
    if isinstance(value, str) and value.startswith("{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def optimize_table(location: str, metrics: Mapping[str, Any]) -> pa.Table:
    """OPTIMIZE: `path` and a `metrics` struct of what the engine reported."""
    cleaned = {str(k): _metrics_value(v) for k, v in metrics.items()}
    try:
        column = pa.array([cleaned]) if cleaned else pa.array([None], pa.struct([]))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        column = pa.array([{k: _text(v) for k, v in cleaned.items()}])
    return pa.table({"path": pa.array([location], pa.string()), "metrics": column})


def counts_table(**counts: int) -> pa.Table:
    """One row of bigint counters (`num_affected_rows`, `num_inserted_rows`, ...)."""
    return pa.table({name: pa.array([value], pa.int64()) for name, value in counts.items()})


def empty_table() -> pa.Table:
    """The result of a DDL statement: no columns, no rows."""
    return pa.table({})
