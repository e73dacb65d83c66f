"""Schema drift of Notion databases: mapped properties that Notion no longer sends (renamed or removed).

Every page Notion returns carries all of its database's properties, so the newest bronze row of a database
shows the current schema. A mapped property missing from it is reported with its mapping line; properties
nobody mapped yet are listed too (bronze keeps them, so adding them to the mapping needs no resync).
"""

from dataclasses import dataclass

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


def newest_property_names_sql(database_name: str, candidates: int = 20) -> str:
    """Key sets of a few of the newest rows of a database, from its latest sync only (parameter `:newest`).

    The literal `synced_at` filter lets the scan skip every older file, so the map columns of the
    history are never read; tombstones (empty maps) are skipped by the caller.
    """
    name = sql_string(database_name)
    return f"""
SELECT map_keys(properties) AS scalar_keys, map_keys(property_lists) AS list_keys
FROM {BRONZE}
WHERE database_name = {name} AND synced_at = CAST(:newest AS TIMESTAMP) AND NOT coalesce(deleted, false)
ORDER BY last_edited_time DESC
LIMIT {int(candidates)}
"""


def newest_sync_sql(database_name: str) -> str:
    name = sql_string(database_name)
    return f"SELECT max(synced_at) AS newest FROM {BRONZE} WHERE database_name = {name} AND NOT coalesce(deleted, false)"


def compare(database: DatabaseMapping, present: set[str], source: str) -> Drift:
    """Pure comparison of the mapped properties with the property names Notion sent."""
    missing = [
        f"{column.notion_property} ({source} line {column.line}, column {column.column_name})"
        for column in database.columns
        if column.notion_property not in present
    ]
    mapped = {column.notion_property for column in database.columns}
    return Drift(missing=missing, unmapped=sorted(present - mapped), observed=True)


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
            return compare(database, present, source)
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
        description = (
            f"Notion no longer sends {'; '.join(drift.missing)} for database {database.title!r}: renamed or "
            f"removed in Notion? Update {source} (the affected columns are NULL until then)."
            if drift.missing
            else None
        )
        return dg.AssetCheckResult(
            passed=not drift.missing,
            severity=dg.AssetCheckSeverity.WARN,
            description=description,
            metadata={
                "missing_properties": dg.MetadataValue.json(drift.missing),
                "unmapped_properties": dg.MetadataValue.json(drift.unmapped),
                "observed": dg.MetadataValue.bool(drift.observed),
            },
        )

    return _check
