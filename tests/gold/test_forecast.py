"""gold.forecast on the hand-built silver layer (conftest.py), as of 2025-06-15; numbers by hand.

The burn window is the three calendar months before the as_of month: 2025-03, 2025-04, 2025-05.
"""

from datetime import date
from decimal import Decimal as D

from ppm_resources.lakehouse import load_sql

SQL = load_sql("gold/forecast.sql")


def forecast(lakehouse, as_of: str = "2025-06-15") -> list[dict]:
    return lakehouse.query(SQL, params={"as_of": as_of, "reporting_currency": "USD"}).to_pylist()


def by_project(rows: list[dict]) -> dict[str, dict]:
    return {r["project_page_id"]: r for r in rows if r["months_ahead"] == 0}


def test_eac_from_the_recent_burn_rate(silver_lakehouse):
    projects = by_project(forecast(silver_lakehouse))
    alpha = projects["p1"]
    # Actuals: 90 (March) + 235.20 (April) = 325.20 to date; burn rate 325.20 / 3 = 108.40 a month;
    # 6 months after June to December -> EAC 325.20 + 6 x 108.40 = 975.60, 24.40 under the 1000 budget.
    assert alpha["actual_to_date"] == D("325.20")
    assert alpha["monthly_burn_rate"] == D("108.40")
    assert alpha["remaining_months"] == 6
    assert alpha["estimate_at_completion"] == D("975.60")
    assert alpha["projected_overrun"] == D("-24.40")
    assert alpha["projected_overrun_pct"] == D("-2.44")
    red = projects["pr"]
    # 1200 to date; only R2's 300 (April) is in the window -> 100.00 a month -> 1200 + 600 = 1800: 800 over.
    assert (red["estimate_at_completion"], red["projected_overrun"]) == (D("1800.00"), D("800.00"))
    assert red["projected_overrun_pct"] == D("80.00")


def test_ended_and_undated_projects_project_nothing_further(silver_lakehouse):
    projects = by_project(forecast(silver_lakehouse))
    # P2 ended in April: EAC = actual to date 230.40; budget 550.00 -> 319.60 under.
    assert projects["p2"]["remaining_months"] == 0
    assert projects["p2"]["estimate_at_completion"] == D("230.40")
    assert projects["p2"]["projected_overrun"] == D("-319.60")
    # P3 has no end date and a budget in an unknown currency: EAC 0, no overrun figure.
    assert projects["p3"]["estimate_at_completion"] == D("0.00")
    assert projects["p3"]["projected_overrun"] is None


def test_month_by_month_cumulative_spend(silver_lakehouse):
    rows = [r for r in forecast(silver_lakehouse) if r["project_page_id"] == "p1"]
    assert [r["forecast_month"] for r in rows] == [date(2025, m, 1) for m in range(6, 13)]
    assert [r["projected_cumulative_spend"] for r in rows] == [
        D("325.20"), D("433.60"), D("542.00"), D("650.40"), D("758.80"), D("867.20"), D("975.60"),
    ]  # fmt: skip
    assert rows[-1]["projected_cumulative_spend"] == rows[-1]["estimate_at_completion"]


def test_one_row_per_project_and_month(silver_lakehouse):
    rows = forecast(silver_lakehouse)
    # p1, p5, pr: June..December (7 rows each); p2 (ended), p3 (no end date): the as_of month only.
    assert len(rows) == 7 + 7 + 7 + 1 + 1
    assert len({(r["project_page_id"], r["forecast_month"]) for r in rows}) == len(rows)
    assert {r["project_page_id"] for r in rows} == {"p1", "p2", "p3", "p5", "pr"}
    # Total projected overrun (overruns only): PR 800 + P5 (60 + 6 x 20 = 180 vs 100) 80 = 880.
    overruns = [p["projected_overrun"] for p in by_project(rows).values() if p["projected_overrun"]]
    assert sum(o for o in overruns if o > 0) == D("880.00")
