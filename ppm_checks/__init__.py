"""Asset checks (data-quality rules) for the lakehouse tables; `defs` is this package's piece.

Rules and severities: docs/data-dictionary.md. Declarative rules come from config/dq_rules.yaml; one module per rule
family (`required`, `accepted_values`, `ranges`, `references`, `parseable`, `reconciliation`, `table_shape`,
`score`) generates Databricks SQL with pure functions; `evaluate` runs them, `quality` and `factories` turn
them into Dagster checks, and gold/data_quality_issues records every failed rule and the DQ score.
"""

import dagster as dg

from ppm_checks.catalog import OTHER_KEYS
from ppm_checks.factories import key_unique_not_null_check
from ppm_checks.notion_drift import notion_schema_drift_check
from ppm_checks.quality import quality_checks
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


def key_checks() -> list[dg.AssetChecksDefinition]:
    """Keys of the tables that are not Notion tables (blocking)."""
    return [
        key_unique_not_null_check(table.split("."), table, list(columns))
        for table, columns in OTHER_KEYS.items()
    ]


checks = [
    *key_checks(),
    *notion_checks(load_notion_mapping()),
    *quality_checks(load_notion_mapping()),
]

defs = dg.Definitions(asset_checks=checks)

__all__ = ["checks", "defs", "key_checks", "notion_checks", "quality_checks"]
