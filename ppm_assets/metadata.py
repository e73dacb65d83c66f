"""Materialization metadata shared by every table asset (what the Dagster UI shows and plots)."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pyarrow as pa

from ppm_resources.lakehouse import Lakehouse, WriteResult


def column_schema(schema: pa.Schema) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name=field.name, type=str(field.type), constraints=_constraints(field))
            for field in schema
        ]
    )


def _constraints(field: pa.Field) -> dg.TableColumnConstraints | None:
    return None if field.nullable else dg.TableColumnConstraints(nullable=False)


def table_metadata(lakehouse: Lakehouse, table: str, write: WriteResult | None = None) -> dict[str, Any]:
    """`dagster/table_name`, `dagster/column_schema`, `dagster/row_count` plus the table version written."""
    info = lakehouse.info(table)
    metadata: dict[str, Any] = {
        "dagster/table_name": dg.MetadataValue.text(table),
        "dagster/column_schema": dg.MetadataValue.table_schema(column_schema(info.schema)),
        "dagster/row_count": dg.MetadataValue.int(info.num_rows),
    }
    metadata["table_version"] = dg.MetadataValue.int(info.version)
    metadata["location"] = dg.MetadataValue.path(info.location)
    if write is not None:
        metadata["rows_written"] = dg.MetadataValue.int(write.rows_written)
    return metadata


def markdown_preview(rows: pa.Table, limit: int = 10) -> dg.MetadataValue:
    """A small markdown table of the first rows, for the asset's materialization page."""
    head = rows.slice(0, limit).to_pylist()
    if not head:
        return dg.MetadataValue.md("_no rows_")
    columns = list(head[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += [
        "| " + " | ".join("" if row[c] is None else str(row[c]) for c in columns) + " |" for row in head
    ]
    return dg.MetadataValue.md("\n".join(lines))
