"""The bronze row contract of `bronze.notion_raw_pages`: its Arrow schema, and rows built from plain pages.

A page as the Notion API returns it (query or retrieve) becomes one row: properties flattened into the two maps
(`flatten.py`), the raw payload kept, a content hash that ignores what changes on every read. The client in
`ppm_resources.notion` only moves pages; everything about what bronze stores is decided here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa

from ppm_assets.notion.flatten import flatten_properties
from ppm_resources.notion import PageBatch
from ppm_resources.notion.times import parse_time

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


#: Columns stamped by the sync when it writes a batch; every other column comes from the page itself.
SYNC_COLUMNS = ("complete_before", "synced_at", "sync_run_id")
MAP_COLUMNS = ("properties", "property_lists")
#: Columns of `bronze_row`/`tombstone_row` copied as they are.
PAGE_COLUMNS = tuple(
    f.name for f in NOTION_RAW_PAGES_SCHEMA if f.name not in SYNC_COLUMNS and f.name not in MAP_COLUMNS
)

#: Bronze keeps every observation; a page's current one is the newest sync, then the newest edit. Silver and the
#: sync's "already stored" set both pick it with this clause.
LATEST_PAGE_VERSION = (
    "QUALIFY row_number() OVER (PARTITION BY page_id ORDER BY synced_at DESC, last_edited_time DESC) = 1"
)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="milliseconds") if value else None


def content_hash(
    *,
    page_id: str,
    created_time: datetime | None,
    last_edited_time: datetime | None,
    in_trash: bool,
    deleted: bool,
    properties: Mapping[str, str | None],
    property_lists: Mapping[str, list[str]],
) -> str:
    """SHA-256 of the flattened content, independent of key order.

    Left out on purpose: raw_payload (signed file URLs and expiry times change on every read), the database
    name/id and data source id (labels; switching API version must not re-append every page), and the
    sync's own columns. last_edited_time stays in, so a touched page gets a new row and moves the watermark.
    """
    view = {
        "page_id": page_id,
        "created_time": _iso(created_time),
        "last_edited_time": _iso(last_edited_time),
        "in_trash": in_trash,
        "deleted": deleted,
        "properties": properties,
        "property_lists": property_lists,
    }
    # Same bytes as json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False), several times faster.
    canonical = orjson.dumps(view, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def page_parent_ids(page: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """``(database_id, data_source_id)`` from a page's parent (2025-09-03 parents carry both)."""
    parent = page.get("parent") or {}
    return parent.get("database_id"), parent.get("data_source_id")


def bronze_row(
    page: Mapping[str, Any],
    *,
    database_name: str,
    database_id: str | None = None,
    data_source_id: str | None = None,
) -> dict[str, Any]:
    """One ``notion_raw_pages`` row for a page as returned by a query or retrieve call."""
    parent_db, parent_ds = page_parent_ids(page)
    properties, property_lists = flatten_properties(page.get("properties") or {})
    created = parse_time(page.get("created_time"))
    edited = parse_time(page.get("last_edited_time"))
    # 2022-06-28 payloads carry `archived` (and newer ones `in_trash` too); 2025-09-03 only `in_trash`.
    in_trash = bool(page.get("in_trash") or page.get("archived"))
    row = {
        "page_id": page["id"],
        "database_name": database_name,
        "database_id": database_id or parent_db,
        "data_source_id": data_source_id or parent_ds,
        "created_time": created,
        "last_edited_time": edited,
        "in_trash": in_trash,
        "deleted": False,
        "properties": properties,
        "property_lists": property_lists,
        "raw_payload": orjson.dumps(page).decode("utf-8"),
    }
    row["content_hash"] = content_hash(
        page_id=row["page_id"],
        created_time=created,
        last_edited_time=edited,
        in_trash=in_trash,
        deleted=False,
        properties=properties,
        property_lists=property_lists,
    )
    return row


def tombstone_row(
    page_id: str,
    *,
    database_name: str,
    database_id: str | None,
    data_source_id: str | None = None,
    deleted: bool,
    last_edited_time: datetime | None = None,
    created_time: datetime | None = None,
) -> dict[str, Any]:
    """A row recording that a page vanished: ``deleted=True`` when Notion answers 404 (deleted or unshared).

    For a page found in the trash prefer ``bronze_row(retrieved_page)``: it carries ``in_trash=True`` and the
    page's last values. This function is for when there is no payload to keep.
    """
    in_trash = not deleted
    return {
        "page_id": page_id,
        "database_name": database_name,
        "database_id": database_id,
        "data_source_id": data_source_id,
        "created_time": created_time,
        "last_edited_time": last_edited_time,
        "in_trash": in_trash,
        "deleted": deleted,
        "properties": {},
        "property_lists": {},
        "raw_payload": "{}",
        "content_hash": content_hash(
            page_id=page_id,
            created_time=created_time,
            last_edited_time=last_edited_time,
            in_trash=in_trash,
            deleted=deleted,
            properties={},
            property_lists={},
        ),
    }


def batch_rows(batch: PageBatch) -> list[dict[str, Any]]:
    """A client batch as bronze rows (without the sync's own columns)."""
    return [
        bronze_row(
            page,
            database_name=batch.name,
            database_id=batch.database_id,
            data_source_id=batch.data_source_id,
        )
        for page in batch.pages
    ]


def notion_raw_pages_table(
    rows: Iterable[Mapping[str, Any]],
    *,
    synced_at: datetime,
    sync_run_id: str,
    complete_before: datetime | None,
) -> pa.Table:
    """Rows of `bronze_row`/`tombstone_row` stamped with the sync's columns, as Arrow."""
    materialized = list(rows)
    columns: dict[str, list[Any]] = {field.name: [] for field in NOTION_RAW_PAGES_SCHEMA}
    for row in materialized:
        for name in PAGE_COLUMNS:
            columns[name].append(row.get(name))
        columns["properties"].append(list(row["properties"].items()))
        columns["property_lists"].append(list(row["property_lists"].items()))
    count = len(materialized)
    columns["complete_before"] = [complete_before] * count
    columns["synced_at"] = [synced_at] * count
    columns["sync_run_id"] = [sync_run_id] * count
    return pa.table(columns, schema=NOTION_RAW_PAGES_SCHEMA)
