"""Bronze rows of ``notion_raw_pages`` built from Notion pages, and their content hash.

The asset adds ``synced_at`` and ``sync_run_id``; everything else of the row comes from here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from ppm_resources.notion.flatten import flatten_properties

#: Columns produced by :func:`bronze_row` (in table order, without the asset's synced_at/sync_run_id).
BRONZE_COLUMNS = (
    "page_id",
    "database_name",
    "database_id",
    "data_source_id",
    "created_time",
    "last_edited_time",
    "in_trash",
    "deleted",
    "properties",
    "property_lists",
    "raw_payload",
    "content_hash",
)


def parse_time(value: str | None) -> datetime | None:
    """A Notion ISO timestamp (``2024-05-01T10:31:00.000Z``) as an aware UTC datetime."""
    if not value:
        return None
    return datetime.fromisoformat(value).astimezone(UTC)


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
