"""Checks of the finance area: the keys of silver.fx_rates, and gold totals reconciling across dimensions."""

import dagster as dg

from ppm_assets.tables import BUDGET_VS_ACTUAL
from ppm_checks.catalog import OTHER_KEYS, RuleCatalog
from ppm_checks.factories import key_unique_not_null_check
from ppm_checks.reconciliation import GOLD_RULE, evaluate_gold_reconciliation
from ppm_checks.rule_checks import check_result
from ppm_resources.lakehouse import Lakehouse


def key_checks() -> list[dg.AssetChecksDefinition]:
    """Keys of the tables that are not Notion tables (blocking)."""
    return [
        key_unique_not_null_check(table.split("."), table, list(columns))
        for table, columns in OTHER_KEYS.items()
    ]


def budget_vs_actual_reconciliation_check(catalog: RuleCatalog) -> dg.AssetChecksDefinition:
    """ERROR (not blocking) when gold.budget_vs_actual totals differ between program, project and category."""
    severity = catalog.severity("gold_reconciliation")

    @dg.asset_check(
        asset=BUDGET_VS_ACTUAL.key,
        name=GOLD_RULE,
        description="Per period: Σ programs = Σ projects = Σ categories for budget, actual and variance.",
    )
    def _check(lakehouse: Lakehouse) -> dg.AssetCheckResult:
        return check_result(evaluate_gold_reconciliation(lakehouse, severity))

    return _check
