"""A blocking key check stops downstream gold in the same run; row-level defects never do."""

from __future__ import annotations

import dagster as dg
import pyarrow as pa
import pytest

from ppm_assets.finance.budget_vs_actual import budget_vs_actual
from ppm_assets.finance.forecast import forecast
from ppm_assets.finance.project_health import project_health
from ppm_assets.quality.data_quality_issues import build_data_quality_issues
from ppm_checks import quality_checks
from ppm_checks.factories import key_unique_not_null_check
from ppm_resources.lakehouse import Lakehouse
from ppm_resources.reporting_currency import ReportingCurrency

from .conftest import MAPPING

BUDGET_LINES = dg.AssetKey(["silver", "budget_lines"])
GOLD = ["gold__budget_vs_actual", "gold__project_health", "gold__forecast", "gold__data_quality_issues"]


def stand_in(rows: pa.Table) -> dg.AssetsDefinition:
    """silver/budget_lines, writing the given rows (as if silver SQL had produced them)."""

    @dg.asset(key=BUDGET_LINES)
    def budget_lines(lakehouse: Lakehouse) -> None:
        lakehouse.replace("silver.budget_lines", rows)

    return budget_lines


def run(lakehouse: Lakehouse, rows: pa.Table) -> dg.ExecuteInProcessResult:
    budget_line_checks = [
        c for c in quality_checks(MAPPING) if BUDGET_LINES in {k.asset_key for k in c.check_keys}
    ]
    return dg.materialize(
        [
            stand_in(rows),
            key_unique_not_null_check(BUDGET_LINES.path, "silver.budget_lines", ["page_id"]),
            *budget_line_checks,
            budget_vs_actual,
            project_health,
            forecast,
            build_data_quality_issues(MAPPING),
        ],
        resources={"lakehouse": lakehouse, "reporting": ReportingCurrency(currency="USD")},
        partition_key="2025-03-01",
        raise_on_error=False,
    )


@pytest.mark.parametrize("duplicate", [False, True])
def test_a_duplicate_budget_line_key_stops_gold_but_row_defects_do_not(fresh, duplicate):
    lines = fresh.query("SELECT * FROM silver.budget_lines")
    rows = pa.concat_tables([lines, lines.slice(0, 1)]) if duplicate else lines  # l1 twice
    result = run(fresh, rows)
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    key_check = evaluations["key_page_id_unique_not_null"]
    materialized = {node for node in GOLD if result.asset_materializations_for_node(node)}
    # The planted row-level defects fail their (WARN) checks either way.
    assert not evaluations["project_page_id_not_orphan"].passed
    assert evaluations["project_page_id_not_orphan"].severity == dg.AssetCheckSeverity.WARN
    if duplicate:
        assert not result.success
        assert not key_check.passed and key_check.severity == dg.AssetCheckSeverity.ERROR
        assert key_check.metadata["failing_rows"].value == 2
        assert key_check.metadata["sample_urls"].value == ["https://www.notion.so/l1"]
        assert materialized == set()
        assert not fresh.exists("gold.budget_vs_actual")
    else:
        assert result.success and key_check.passed
        assert materialized == set(GOLD)
