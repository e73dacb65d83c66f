"""Data-quality rules and the asset checks that run them; `build_defs` is this package's piece.

The rule engine is area-neutral: rules and severities come from config/dq_rules.yaml (`config`), one module per
rule family (`required`, `accepted_values`, `ranges`, `references`, `parseable`, `reconciliation`,
`table_shape`, `score`) generates Databricks SQL with pure functions, `catalog` assembles them per table,
`evaluate` runs them, `rule_checks` and `factories` turn them into Dagster checks. Checks that belong to one
area sit in its folder (`notion/`, `finance/`, `azure/`, `writeback/`). `gold/data_quality_issues` (ppm_assets.quality) records every
failed rule and the DQ score. Rules and severities: docs/data-dictionary.md.
"""

import dagster as dg

from ppm_checks.azure import azure_checks
from ppm_checks.catalog import build_catalog
from ppm_checks.config import DqRules, load_dq_rules
from ppm_checks.finance import budget_vs_actual_reconciliation_check, key_checks
from ppm_checks.notion import notion_checks
from ppm_checks.rule_checks import silver_table_checks
from ppm_checks.writeback import writeback_checks
from ppm_resources.notion.mapping import NotionMapping


def quality_checks(mapping: NotionMapping, rules: DqRules | None = None) -> list[dg.AssetChecksDefinition]:
    """The declarative rules of config/dq_rules.yaml as checks: per silver Notion table, and on gold."""
    catalog = build_catalog(mapping, rules or load_dq_rules(mapping))
    return [
        *(silver_table_checks(table, catalog) for table in catalog.tables),
        budget_vs_actual_reconciliation_check(catalog),
    ]


def build_checks(mapping: NotionMapping) -> list[dg.AssetChecksDefinition]:
    """Every asset check of the product, for the Notion databases of `mapping`."""
    return [
        *key_checks(),
        *notion_checks(mapping),
        *quality_checks(mapping),
        *azure_checks(),
        *writeback_checks(),
    ]


def build_defs(mapping: NotionMapping) -> dg.Definitions:
    return dg.Definitions(asset_checks=build_checks(mapping))


__all__ = ["build_checks", "build_defs", "key_checks", "notion_checks", "quality_checks"]
