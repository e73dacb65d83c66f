"""The rules as Dagster checks: where they sit, subsetting one rule, the gold reconciliation check."""

from __future__ import annotations

from datetime import date

import dagster as dg

import ppm_checks
from ppm_checks import quality_checks
from ppm_checks.reconciliation import GOLD_BUDGET_VS_ACTUAL

from .conftest import MAPPING, gold_budget_vs_actual
from .test_rules_hand_built import EXPECTED


def test_every_silver_notion_table_and_gold_has_its_checks():
    keys = {key for check in ppm_checks.build_checks(MAPPING) for key in check.check_keys}
    for name, rules in EXPECTED.items():
        names = {k.name for k in keys if k.asset_key == dg.AssetKey(["silver", name])}
        assert names == {
            *rules,
            "key_page_id_unique_not_null",
            "notion_schema_matches_mapping",
            "one_row_per_bronze_page",
            "schema_unchanged",
            "row_count_within_bounds",
        }
    assert (
        dg.AssetCheckKey(dg.AssetKey(["gold", "budget_vs_actual"]), "totals_reconcile_across_dimensions")
        in keys
    )
    blocking = {
        k.name
        for c in ppm_checks.build_checks(MAPPING)
        for k in c.check_keys
        if c.get_spec_for_check_key(k).blocking
    }
    assert blocking == {
        "key_page_id_unique_not_null",
        "key_currency_to_currency_month_unique_not_null",
        "key_recommendation_id_unique_not_null",
        "key_resource_id_unique_not_null",
        "source_recommendation_ids_unique_not_null",
        "source_resource_ids_unique_not_null",
    }


def test_one_rule_can_run_alone(hand_built):
    checks = [
        c
        for c in quality_checks(MAPPING)
        if dg.AssetKey(["silver", "risks"]) in {k.asset_key for k in c.check_keys}
    ]
    key = dg.AssetCheckKey(dg.AssetKey(["silver", "risks"]), "severity_accepted_values")
    result = dg.materialize(
        checks, resources={"lakehouse": hand_built}, selection=dg.AssetSelection.checks(key)
    )
    [evaluation] = result.get_asset_check_evaluations()
    assert (evaluation.check_name, evaluation.passed, evaluation.severity) == (
        "severity_accepted_values",
        False,
        dg.AssetCheckSeverity.WARN,
    )
    assert evaluation.metadata["failing_rows"].value == 1 and evaluation.metadata["total_rows"].value == 3
    assert evaluation.metadata["sample_urls"].value == ["https://www.notion.so/k2"]
    assert "[k2](https://www.notion.so/k2) | Severe" in evaluation.metadata["samples"].value
    assert evaluation.description == (
        "1 of 3 live rows of silver.risks fail: severity is one of: Critical, High, Medium, Low (or empty)."
    )


def test_gold_reconciliation_check_is_an_error_that_does_not_fail_the_run(fresh):
    fresh.replace(
        GOLD_BUDGET_VS_ACTUAL, gold_budget_vs_actual([(date(2025, 3, 1), "budget", "program", "1")])
    )
    [check] = [
        c
        for c in quality_checks(MAPPING)
        if c.check_keys and next(iter(c.check_keys)).asset_key.path[0] == "gold"
    ]
    result = dg.materialize(
        [check], resources={"lakehouse": fresh}, selection=dg.AssetSelection.all_asset_checks()
    )
    assert result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["sample_keys"].value == ["2025-03-01 budget"]
