"""gold.budget_vs_actual and its exclusions on the hand-built silver layer (conftest.py); numbers by hand."""

from datetime import date
from decimal import Decimal as D

import pytest

from ppm_resources.lakehouse import load_sql

SQL = load_sql("gold/budget_vs_actual.sql")
EXCLUSIONS = load_sql("gold/budget_vs_actual_exclusions.sql")


def run(lakehouse, period: str, currency: str = "USD") -> list[dict]:
    params = {"period_start": period, "period_end": period, "reporting_currency": currency}
    return lakehouse.query(SQL, params=params).to_pylist()


def values(rows: list[dict]) -> dict[tuple[str, str, str], D | None]:
    """(dimension, dimension_key, metric_name) -> value."""
    return {(r["dimension"], r["dimension_key"], r["metric_name"]): r["value"] for r in rows}


def test_march_by_project_program_and_category(silver_lakehouse):
    v = values(run(silver_lakehouse, "2025-03-01"))
    # P1: budget 100 USD (L1) + 200 EUR x 1.08 (L2) = 316.00; actual 90 USD (L1, paid March);
    # L2's actual is invoiced in April and not paid, so it belongs to April.
    assert v["project", "p1", "budget"] == D("316.00")
    assert v["project", "p1", "actual"] == D("90.00")
    assert v["project", "p1", "variance"] == D("226.00")
    assert v["project", "p1", "variance_pct"] == D("71.52")  # 226 / 316 = 71.5189...%
    # P2: budget 10000 PHP x 0.018 = 180.00 (L3; L4 was committed in February);
    # actual 9500 PHP x 0.018 = 171.00 (L3 paid 03-28 wins over its February invoice) + 55 EUR x 1.08 = 59.40 (L4).
    assert v["project", "p2", "budget"] == D("180.00")
    assert v["project", "p2", "actual"] == D("230.40")
    assert v["project", "p2", "variance"] == D("-50.40")
    assert v["project", "p2", "variance_pct"] == D("-28.00")
    # Programs: Cloud = P1, Data = P2.
    assert v["program", "g1", "budget"] == D("316.00")
    assert v["program", "g2", "actual"] == D("230.40")
    # Categories: OpEx = L1 + L3 = 100 + 180 budget, 90 + 171 actual; CapEx = L2 budget 216, L4 actual 59.40.
    assert v["category", "OpEx", "budget"] == D("280.00")
    assert v["category", "OpEx", "actual"] == D("261.00")
    assert v["category", "OpEx", "variance_pct"] == D("6.79")  # 19 / 280
    assert v["category", "CapEx", "budget"] == D("216.00")
    assert v["category", "CapEx", "actual"] == D("59.40")
    assert v["category", "CapEx", "variance_pct"] == D("72.50")  # 156.60 / 216
    # Nothing else: excluded lines (x1..x8) and projects without March amounts have no rows.
    assert {(d, k) for d, k, _ in v} == {
        ("project", "p1"), ("project", "p2"), ("program", "g1"), ("program", "g2"),
        ("category", "OpEx"), ("category", "CapEx"),
    }  # fmt: skip


def test_row_shape_ids_and_units(silver_lakehouse):
    rows = run(silver_lakehouse, "2025-03-01")
    assert len(rows) == 6 * 4
    p1 = next(r for r in rows if r["dimension_key"] == "p1" and r["metric_name"] == "budget")
    assert p1["metric_id"] == "budget:project:p1:2025-03"
    assert p1["dimension_value"] == "Alpha"
    assert p1["period"] == date(2025, 3, 1)
    assert {r["unit"] for r in rows if r["metric_name"] != "variance_pct"} == {"USD"}
    assert {r["unit"] for r in rows if r["metric_name"] == "variance_pct"} == {"%"}
    assert len({r["metric_id"] for r in rows}) == len(rows)


def test_actual_without_budget_has_no_variance_pct(silver_lakehouse):
    v = values(run(silver_lakehouse, "2025-04-01"))
    # April: only actuals. L2 210 EUR invoiced 04-02 x 1.12 = 235.20; R2 300 USD paid 04-15.
    assert v["project", "p1", "budget"] == D("0.00")
    assert v["project", "p1", "actual"] == D("235.20")
    assert v["project", "p1", "variance"] == D("-235.20")
    assert v["project", "p1", "variance_pct"] is None
    assert v["program", "g1", "actual"] == D("535.20")


def test_reporting_currency_is_a_parameter(silver_lakehouse):
    v = values(run(silver_lakehouse, "2025-03-01", currency="EUR"))
    # In EUR: L1 100 USD x 1.0 / 1.08 = 92.59 (rounded per line) + L2 200 EUR + X7 100 EUR = 392.59.
    # X7 is excluded in USD (its July payment has no rate), but EUR amounts need no rate to report in EUR.
    assert v["project", "p1", "budget"] == D("392.59")
    rows = run(silver_lakehouse, "2025-03-01", currency="EUR")
    assert {r["unit"] for r in rows if r["metric_name"] == "budget"} == {"EUR"}
    excluded = silver_lakehouse.query(EXCLUSIONS, params={"reporting_currency": "EUR"})
    assert "x7" not in excluded.column("page_id").to_pylist()


@pytest.mark.parametrize("period", ["2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01", "2025-05-01"])
def test_totals_reconcile_across_dimensions(silver_lakehouse, period):
    rows = run(silver_lakehouse, period)
    for metric in ("budget", "actual", "variance"):
        totals = {
            dimension: sum(
                (r["value"] for r in rows if r["dimension"] == dimension and r["metric_name"] == metric), D(0)
            )
            for dimension in ("program", "project", "category")
        }
        assert len(set(totals.values())) == 1, (period, metric, totals)


def test_monthly_totals_by_hand(silver_lakehouse):
    def total(period: str, metric: str) -> D:
        rows = run(silver_lakehouse, period)
        return sum(
            (r["value"] for r in rows if r["dimension"] == "program" and r["metric_name"] == metric), D(0)
        )

    assert total("2025-01-01", "budget") == D("900.00")  # R1
    assert total("2025-02-01", "budget") == D("355.00")  # L4 50 EUR x 1.10 + R2 300
    assert total("2025-02-01", "actual") == D("900.00")  # R1 paid 02-10
    assert total("2025-03-01", "budget") == D("496.00")  # 316 + 180
    assert total("2025-03-01", "actual") == D("320.40")  # 90 + 171 + 59.40
    assert total("2025-04-01", "actual") == D("535.20")  # 235.20 + 300
    assert run(silver_lakehouse, "2025-05-01") == []
    # July has no FX rates at all, but L5 is in USD, the reporting currency: it needs none.
    assert total("2025-07-01", "budget") == D("40.00")


def test_every_exclusion_reason_is_listed_once_per_line(silver_lakehouse):
    rows = silver_lakehouse.query(EXCLUSIONS, params={"reporting_currency": "USD"}).to_pylist()
    assert {r["page_id"]: r["reason"] for r in rows} == {
        "x1": "archived",
        "x2": "unknown_currency",  # GBP has no rate at all
        "x3": "negative_amount",
        "x4": "orphan_project",  # project page that does not exist
        "x5": "orphan_project",  # project archived
        "x6": "no_program",  # project without a program
        "x7": "no_fx_rate",  # EUR paid in 2025-07, a month without rates: the whole line is out
        "x8": "no_program",  # project whose program is archived
    }
    x4 = next(r for r in rows if r["page_id"] == "x4")
    assert x4["notion_url"] == "https://www.notion.so/x4"
    assert "p-ghost" in x4["detail"]
    assert all(r["detail"] for r in rows)


def test_excluded_lines_are_in_no_dimension(silver_lakehouse):
    # Every excluded line is committed in March; none of their projects or programs shows up.
    keys = {r["dimension_key"] for r in run(silver_lakehouse, "2025-03-01")}
    assert not {"p3", "p4", "p5", "p-ghost", "g3"} & keys


def test_one_range_query_equals_the_months_queried_one_by_one(silver_lakehouse):
    months = ["2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01", "2025-05-01"]
    params = {"period_start": months[0], "period_end": months[-1], "reporting_currency": "USD"}
    ranged = silver_lakehouse.query(SQL, params=params).to_pylist()
    one_by_one = [row for month in months for row in run(silver_lakehouse, month)]
    assert ranged == one_by_one
