"""Schema drift of Notion databases: mapped properties that Notion no longer sends (renamed or removed), or
sends with a type that cannot feed their column (re-created with another type).

Every page Notion returns carries all of its database's properties, so the newest bronze row of a database
shows the current schema, and its `raw_payload` each property's type. A mapped property missing from it, or
of a type its `column_type` does not accept (`ColumnKind.notion_types`), is reported with its mapping line;
properties nobody mapped yet are listed too (bronze keeps them, so adding them to the mapping needs no resync).
"""

import json
from dataclasses import dataclass, field

import dagster as dg

from ppm_assets.tables import NOTION_RAW_PAGES
from ppm_resources.lakehouse import Lakehouse, sql_string
from ppm_resources.notion.mapping import DatabaseMapping

BRONZE = NOTION_RAW_PAGES.name


@dataclass(frozen=True)
class Drift:
    missing: list[str]  # "Amount (config/notion_mapping.yaml line 57, column amount)"
    unmapped: list[str]
    observed: bool  # False: no bronze row yet, nothing to compare
    retyped: list[str] = field(
        default_factory=list
    )  # "Amount is rich_text in Notion, mapped as decimal (...)"

    @property
    def broken(self) -> list[str]:
        return [*self.missing, *self.retyped]


def newest_property_names_sql(database_name: str, candidates: int = 20) -> str:
    """Key sets of a few of the newest rows of a database, from its latest sync only (parameter `:newest`).

    The literal `synced_at` filter lets the scan skip every older file, so the map columns of the
    history are never read; tombstones (empty maps) are skipped by the caller.
    """
    name = sql_string(database_name)
    return f"""
SELECT map_keys(properties) AS scalar_keys, map_keys(property_lists) AS list_keys, raw_payload
FROM {BRONZE}
WHERE database_name = {name} AND synced_at = CAST(:newest AS TIMESTAMP) AND NOT coalesce(deleted, false)
ORDER BY last_edited_time DESC
LIMIT {int(candidates)}
"""


def newest_sync_sql(database_name: str) -> str:
    name = sql_string(database_name)
    return f"SELECT max(synced_at) AS newest FROM {BRONZE} WHERE database_name = {name} AND NOT coalesce(deleted, false)"


def property_types(raw_payload: str | None) -> dict[str, str]:
    """Property name -> Notion type, from a page as Notion sent it ({} when the payload has none)."""
    try:
        page = json.loads(raw_payload or "{}")
    except ValueError:
        return {}
    properties = page.get("properties") if isinstance(page, dict) else None
    if not isinstance(properties, dict):
        return {}
    return {name: str(prop.get("type")) for name, prop in properties.items() if isinstance(prop, dict)}


def compare(
    database: DatabaseMapping, present: set[str], source: str, types: dict[str, str] | None = None
) -> Drift:
    """Pure comparison of the mapped properties with the property names (and types) Notion sent."""
    missing = [
        f"{column.notion_property} ({source} line {column.line}, column {column.column_name})"
        for column in database.columns
        if column.notion_property not in present
    ]
    retyped = [
        f"{column.notion_property} is {types[column.notion_property]} in Notion, mapped as {column.column_type} "
        f"({source} line {column.line}, column {column.column_name})"
        for column in database.columns
        if types
        and column.notion_property in types
        and types[column.notion_property] not in column.kind.notion_types
    ]
    mapped = {column.notion_property for column in database.columns}
    return Drift(missing=missing, unmapped=sorted(present - mapped), observed=True, retyped=retyped)


def detect_drift(lakehouse: Lakehouse, database_name: str, database: DatabaseMapping, source: str) -> Drift:
    if not lakehouse.exists(BRONZE):
        return Drift([], [], observed=False)
    newest = lakehouse.query(newest_sync_sql(database_name)).to_pylist()[0]["newest"]
    if newest is None:
        return Drift([], [], observed=False)
    params = {"newest": newest.isoformat()}
    for row in lakehouse.query(newest_property_names_sql(database_name), params=params).to_pylist():
        present = set(row["scalar_keys"] or []) | set(row["list_keys"] or [])
        if present:
            return compare(database, present, source, property_types(row["raw_payload"]))
    return Drift([], [], observed=False)


def notion_schema_drift_check(
    asset_key: dg.AssetKey, database_name: str, database: DatabaseMapping, source: str
) -> dg.AssetChecksDefinition:
    """WARN check on the silver table `asset_key`: every mapped Notion property still exists."""

    @dg.asset_check(
        asset=asset_key,
        name="notion_schema_matches_mapping",
        description=f"Every property {source} maps for {database.title!r} still exists in Notion.",
    )
    def _check(lakehouse: Lakehouse) -> dg.AssetCheckResult:
        drift = detect_drift(lakehouse, database_name, database, source)
        problems = []
        if drift.missing:
            problems.append(
                f"Notion no longer sends {'; '.join(drift.missing)} for database {database.title!r}: renamed or "
                "removed in Notion?"
            )
        if drift.retyped:
            problems.append(f"Property type changed: {'; '.join(drift.retyped)}.")
        description = (
            " ".join(problems) + f" Update {source} (the affected columns are NULL until then)."
            if problems
            else None
        )
        return dg.AssetCheckResult(
            passed=not drift.broken,
            severity=dg.AssetCheckSeverity.WARN,
            description=description,
            metadata={
                "missing_properties": dg.MetadataValue.json(drift.missing),
                "retyped_properties": dg.MetadataValue.json(drift.retyped),
                "unmapped_properties": dg.MetadataValue.json(drift.unmapped),
                "observed": dg.MetadataValue.bool(drift.observed),
            },
        )

    return _check
