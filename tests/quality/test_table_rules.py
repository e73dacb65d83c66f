"""Table-level rules: schema change and row-count bounds against the previous version, gold reconciliation."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from ppm_checks.config import RowCountBounds
from ppm_checks.reconciliation import GOLD_BUDGET_VS_ACTUAL, evaluate_gold_reconciliation
from ppm_checks.table_shape import evaluate_row_count, evaluate_schema_change, row_count_problems

from .conftest import gold_budget_vs_actual

BOUNDS = RowCountBounds(min_rows=1, max_drop_pct=50)


def test_a_first_write_and_an_unchanged_rewrite_pass(fresh):
    table = fresh.query("SELECT * FROM silver.programs")
    assert evaluate_schema_change(fresh, "silver.programs", "WARN").passed  # version 0 only
    fresh.replace("silver.programs", table)
    result = evaluate_schema_change(fresh, "silver.programs", "WARN")
    assert result.passed and result.details["previous_version"] == 0


def test_schema_change_names_added_removed_and_retyped_columns(fresh):
    table = fresh.query("SELECT * FROM silver.programs")
    changed = (
        table.drop_columns(["description"])
        .set_column(table.schema.get_field_index("program_code"), "program_code", pa.array([1, 2, 3, 4]))
        .append_column("region", pa.array(["EU"] * 4))
    )
    fresh.replace("silver.programs", changed)
    result = evaluate_schema_change(fresh, "silver.programs", "WARN")
    assert result.failing_rows == 3 and result.severity == "WARN"
    assert {(s.key, s.value) for s in result.samples} == {
        ("region", "added (string)"),
        ("description", "removed (was string)"),
        ("program_code", "type string -> int64"),
    }
    assert "changed since version 0" in result.message


@pytest.mark.parametrize(
    ("live", "previous", "problems"),
    [
        (10, None, 0),
        (0, None, 1),  # below min_rows
        (5, 10, 0),  # exactly 50 % fewer: allowed
        (4, 10, 1),  # 60 % fewer
        (0, 10, 2),  # empty and dropped
        (30, 10, 0),  # growth is not bounded
    ],
)
def test_row_count_bounds(live, previous, problems):
    assert len(row_count_problems(live, previous, BOUNDS)) == problems


def test_row_count_compares_live_rows_with_the_previous_version(fresh):
    table = fresh.query("SELECT * FROM silver.budget_lines")  # 7 live rows + 1 archived
    assert evaluate_row_count(fresh, "silver.budget_lines", BOUNDS, "WARN").passed
    fresh.replace("silver.budget_lines", table.slice(0, 3))  # 3 live rows left
    result = evaluate_row_count(fresh, "silver.budget_lines", BOUNDS, "WARN")
    assert (result.failing_rows, result.total_rows) == (1, 3)
    assert result.message == "live rows dropped from 7 to 3 (-57.1 %, more than 50 %)"
    assert result.samples[0].key == "silver.budget_lines"


def test_gold_totals_reconcile_across_dimensions(fresh):
    march, april = date(2025, 3, 1), date(2025, 4, 1)
    rows = [
        # March: budget 100 everywhere (project split 60 + 40); actual: category is 1 cent short.
        (march, "budget", "program", "100"), (march, "budget", "project", "60"), (march, "budget", "project", "40"),
        (march, "budget", "category", "100"),
        (march, "actual", "program", "50"), (march, "actual", "project", "50"), (march, "actual", "category", "49.99"),
        (march, "variance", "program", "50"), (march, "variance", "project", "50"),
        (march, "variance", "category", "50"),
        (march, "variance_pct", "program", "50"), (march, "variance_pct", "project", "10"),  # not additive
        # April: only programs have a budget row.
        (april, "budget", "program", "7"),
    ]  # fmt: skip
    assert evaluate_gold_reconciliation(fresh, "ERROR").details == {"observed": False}  # no table yet
    fresh.replace(GOLD_BUDGET_VS_ACTUAL, gold_budget_vs_actual(rows))
    result = evaluate_gold_reconciliation(fresh, "ERROR")
    assert (result.failing_rows, result.total_rows, result.severity) == (2, 4, "ERROR")
    assert [(s.key, s.value) for s in result.samples] == [
        ("2025-03-01 actual", "program 50.00, project 50.00, category 49.99"),
        ("2025-04-01 budget", "program 7.00, project 0.00, category 0.00"),
    ]
