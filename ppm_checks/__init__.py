"""Asset checks (data-quality rules) for the lakehouse tables; `defs` is this package's piece."""

import dagster as dg

from ppm_checks.factories import key_unique_not_null_check
from ppm_checks.notion_drift import notion_schema_drift_check
from ppm_resources.notion_mapping import NotionMapping, load_notion_mapping


def notion_checks(mapping: NotionMapping) -> list[dg.AssetChecksDefinition]:
    """Per silver Notion table: page_id unique and not null (blocking), and schema drift (warn)."""
    checks = []
    for name, database in mapping.databases.items():
        checks.append(
            key_unique_not_null_check(
                ["silver", database.silver_table], database.silver_table_name, ["page_id"]
            )
        )
        checks.append(notion_schema_drift_check(name, database, mapping.source))
    return checks


checks = [
    key_unique_not_null_check(["silver", "fx_rates"], "silver.fx_rates", ["currency", "month"]),
    *notion_checks(load_notion_mapping()),
]

defs = dg.Definitions(asset_checks=checks)
