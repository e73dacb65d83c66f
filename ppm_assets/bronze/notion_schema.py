"""The Arrow schema of `bronze.notion_raw_pages` and the conversion of client rows into it."""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import pyarrow as pa

UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")

NOTION_RAW_PAGES_SCHEMA = pa.schema(
    [
        pa.field("page_id", pa.string(), nullable=False),
        pa.field("database_name", pa.string(), nullable=False),
        pa.field("database_id", pa.string()),
        pa.field("data_source_id", pa.string()),
        pa.field("created_time", UTC_TIMESTAMP),
        pa.field("last_edited_time", UTC_TIMESTAMP),
        pa.field("in_trash", pa.bool_()),
        pa.field("deleted", pa.bool_()),
        pa.field("properties", pa.map_(pa.string(), pa.string())),
        pa.field("property_lists", pa.map_(pa.string(), pa.list_(pa.string()))),
        pa.field("raw_payload", pa.string()),
        pa.field("content_hash", pa.string(), nullable=False),
        # The scan's safe watermark when this row was written: every page of the database edited before it
        # had been written by then. The sync watermark is max(complete_before), so a crash mid-scan (batches
        # of a sliced scan arrive out of time order) can never make the next sync skip a page.
        pa.field("complete_before", UTC_TIMESTAMP),
        pa.field("synced_at", UTC_TIMESTAMP, nullable=False),
        pa.field("sync_run_id", pa.string(), nullable=False),
    ]
)


def notion_raw_pages_table(
    rows: Iterable[Mapping[str, Any]],
    *,
    synced_at: datetime,
    sync_run_id: str,
    complete_before: datetime | None,
) -> pa.Table:
    """Client rows (`ppm_resources.notion.bronze_row`) stamped with the sync's columns, as Arrow."""
    materialized = list(rows)
    columns: dict[str, list[Any]] = {field.name: [] for field in NOTION_RAW_PAGES_SCHEMA}
    for row in materialized:
        for name in ("page_id", "database_name", "database_id", "data_source_id", "created_time",
                     "last_edited_time", "in_trash", "deleted", "raw_payload", "content_hash"):  # fmt: skip
            columns[name].append(row.get(name))
        columns["properties"].append(list(row["properties"].items()))
        columns["property_lists"].append(list(row["property_lists"].items()))
    count = len(materialized)
    columns["complete_before"] = [complete_before] * count
    columns["synced_at"] = [synced_at] * count
    columns["sync_run_id"] = [sync_run_id] * count
    return pa.table(columns, schema=NOTION_RAW_PAGES_SCHEMA)
