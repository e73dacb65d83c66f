"""The Azure bronze row contract: Arrow schemas and rows from Resource Graph and Advisor JSON (pure functions).

Each ingestion of one subscription is a snapshot: its rows share `ingested_at` and `ingest_run_id`, and exactly
one `snapshot` marker row says the snapshot exists, so a subscription with nothing in it still has a latest
snapshot (silver keeps only the latest snapshot of each subscription).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import pyarrow as pa

from ppm_resources.azure.client import RESOURCE_GROUP_TYPE, SUBSCRIPTION_TYPE

UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")
TEXT_MAP = pa.map_(pa.string(), pa.string())

SNAPSHOT_COLUMNS = [
    pa.field("ingested_at", UTC_TIMESTAMP, nullable=False),
    pa.field("ingest_run_id", pa.string(), nullable=False),
    pa.field("subscription_id", pa.string(), nullable=False),
    pa.field("record_kind", pa.string(), nullable=False),
]

RESOURCES_SCHEMA = pa.schema(
    [
        *SNAPSHOT_COLUMNS,
        pa.field("resource_id", pa.string()),
        pa.field("name", pa.string()),
        pa.field("resource_type", pa.string()),
        pa.field("resource_group", pa.string()),
        pa.field("location", pa.string()),
        pa.field("tags", TEXT_MAP),
        pa.field("raw_json", pa.string()),
    ]
)

ADVISOR_SCHEMA = pa.schema(
    [
        *SNAPSHOT_COLUMNS,
        pa.field("recommendation_id", pa.string()),
        pa.field("recommendation_name", pa.string()),
        pa.field("category", pa.string()),
        pa.field("impact", pa.string()),
        pa.field("impacted_field", pa.string()),
        pa.field("impacted_value", pa.string()),
        pa.field("resource_id", pa.string()),
        pa.field("problem", pa.string()),
        pa.field("solution", pa.string()),
        pa.field("last_updated", pa.string()),
        pa.field("extended_properties", TEXT_MAP),
        pa.field("raw_json", pa.string()),
    ]
)


def text(value: Any) -> str | None:
    """A JSON value as bronze text: strings as they are, other scalars and objects as JSON, null as NULL."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def text_map(value: Any) -> list[tuple[str, str | None]] | None:
    """A JSON object as a text map (Arrow map rows are key/value pairs); anything else is NULL."""
    if not isinstance(value, Mapping):
        return None
    return [(str(key), text(item)) for key, item in value.items()]


def _snapshot(subscription_id: str, ingested_at: datetime, run_id: str, kind: str) -> dict[str, Any]:
    return {
        "ingested_at": ingested_at,
        "ingest_run_id": run_id,
        "subscription_id": subscription_id,
        "record_kind": kind,
    }


def snapshot_marker(subscription_id: str, ingested_at: datetime, run_id: str) -> dict[str, Any]:
    return _snapshot(subscription_id, ingested_at, run_id, "snapshot")


def inventory_records(
    rows: Iterable[Mapping[str, Any]], subscription_id: str, ingested_at: datetime, run_id: str
) -> list[dict[str, Any]]:
    """Resource Graph rows (resources and resource groups) as bronze rows; the subscription's own row is
    skipped (the snapshot marker stands for it)."""
    records = []
    for row in rows:
        resource_type = str(row.get("type") or "").lower()
        if resource_type == SUBSCRIPTION_TYPE:
            continue
        kind = "resource_group" if resource_type == RESOURCE_GROUP_TYPE else "resource"
        records.append(
            {
                **_snapshot(subscription_id, ingested_at, run_id, kind),
                "resource_id": text(row.get("id")),
                "name": text(row.get("name")),
                "resource_type": resource_type or None,
                "resource_group": text(row.get("resourceGroup")),
                "location": text(row.get("location")),
                "tags": text_map(row.get("tags")),
                "raw_json": json.dumps(row, separators=(",", ":"), sort_keys=True),
            }
        )
    return records


#: Advisor JSON paths (flattened one level below `properties` by pandas) -> bronze columns.
ADVISOR_COLUMNS = {
    "id": "recommendation_id",
    "name": "recommendation_name",
    "properties.category": "category",
    "properties.impact": "impact",
    "properties.impactedField": "impacted_field",
    "properties.impactedValue": "impacted_value",
    "properties.resourceMetadata.resourceId": "resource_id",
    "properties.shortDescription.problem": "problem",
    "properties.shortDescription.solution": "solution",
    "properties.lastUpdated": "last_updated",
}


def advisor_records(
    recommendations: list[Mapping[str, Any]], subscription_id: str, ingested_at: datetime, run_id: str
) -> list[dict[str, Any]]:
    """Advisor recommendations (raw JSON, as Azure sent them) as bronze rows.

    `pandas.json_normalize` flattens the documented nested fields; `extendedProperties` stays a map of text
    (its keys differ by recommendation type), and the whole recommendation is kept in `raw_json`.
    """
    if not recommendations:
        return []
    import pandas as pd  # here, not at module level: importing pandas costs ~2 s of every definitions load

    flat = pd.json_normalize(list(recommendations), max_level=2)
    records = []
    for index, raw in enumerate(recommendations):
        properties = raw.get("properties") if isinstance(raw.get("properties"), Mapping) else {}
        record = _snapshot(subscription_id, ingested_at, run_id, "recommendation")
        for path, column in ADVISOR_COLUMNS.items():
            value = flat.at[index, path] if path in flat.columns else None
            record[column] = None if _missing(value) else text(value)
        record["extended_properties"] = text_map((properties or {}).get("extendedProperties"))
        record["raw_json"] = json.dumps(raw, separators=(",", ":"), sort_keys=True)
        records.append(record)
    return records


def _missing(value: Any) -> bool:
    """pandas fills absent paths with NaN; JSON null stays None."""
    return value is None or (isinstance(value, float) and value != value)


def resources_table(records: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(records, schema=RESOURCES_SCHEMA)


def advisor_table(records: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(records, schema=ADVISOR_SCHEMA)
