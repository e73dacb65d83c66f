"""Checks of the Notion area: each silver table's key, and schema drift of its Notion database (drift.py)."""

import dagster as dg

from ppm_assets.tables import notion_silver_table
from ppm_checks.factories import key_unique_not_null_check
from ppm_checks.notion.drift import notion_schema_drift_check
from ppm_resources.notion.mapping import NotionMapping


def notion_checks(mapping: NotionMapping) -> list[dg.AssetChecksDefinition]:
    """Per silver Notion table: page_id unique and not null (blocking), and schema drift (warn)."""
    checks = []
    for name, database in mapping.databases.items():
        table = notion_silver_table(name, mapping)
        checks.append(key_unique_not_null_check(table.key.path, table.name, ["page_id"]))
        checks.append(notion_schema_drift_check(table.key, name, database, mapping.source))
    return checks
