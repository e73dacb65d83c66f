"""gold.project_health on the hand-built silver layer (conftest.py), as of 2025-06-15; scores by hand.

Elapsed share of a 2025-01-01..2025-12-31 project on 2025-06-15: 165 / 364 = 0.4533.
"""

from decimal import Decimal as D

import pytest

from ppm_resources.lakehouse import load_sql

SQL = load_sql("gold/project_health.sql")


def health(lakehouse, as_of: str = "2025-06-15", currency: str = "USD") -> dict[str, dict]:
    rows = lakehouse.query(SQL, params={"as_of": as_of, "reporting_currency": currency}).to_pylist()
    return {r["project_page_id"]: r for r in rows}


def test_red_project_and_its_drivers(silver_lakehouse):
    red = health(silver_lakehouse)["pr"]
    # Burn: actual 900 (R1) + 300 (R2) = 1200 of 1000 = 1.2 vs 0.4533 elapsed -> 100 x 0.7467, capped at 40.
    assert red["budget_total"] == D("1000.00")
    assert red["actual_to_date"] == D("1200.00")
    assert red["burn_ratio"] == pytest.approx(1.2)
    assert red["elapsed_ratio"] == pytest.approx(0.4533)
    assert red["budget_penalty"] == 40.0
    # Open risks: Critical x High = 4 x 3 = 12, Medium x Medium (Mitigating) = 2 x 2 = 4; the closed one
    # does not count -> exposure 16 -> 2 x 16 = 32, capped at 30.
    assert (red["open_risks"], red["risk_exposure"], red["risk_penalty"]) == (2, 16, 30.0)
    # Overdue: due 06-01 and 06-10, not done -> 2 x 5 = 10 (done and future actions do not count).
    assert (red["overdue_actions"], red["overdue_penalty"]) == (2, 10.0)
    assert (red["schedule_slip_days"], red["slip_penalty"]) == (0, 0.0)
    # 100 - 40 - 30 - 10 - 0 = 20 -> red.
    assert (red["health_score"], red["rag"]) == (20, "red")


def test_amber_project_with_slip_and_a_risk(silver_lakehouse):
    beta = health(silver_lakehouse)["p2"]
    # Budget 500 EUR at the as_of month's rate 1.10 = 550.00; actual 171.00 + 59.40 = 230.40 -> burn 0.4189,
    # elapsed 1 (ended 04-30) -> no budget penalty.
    assert beta["budget_total"] == D("550.00")
    assert beta["actual_to_date"] == D("230.40")
    assert beta["budget_penalty"] == 0.0
    # Ended 04-30 while In Progress: 46 days late -> 46 / 3 = 15.33; High x Medium = 6 -> 12.
    assert (beta["schedule_slip_days"], beta["slip_penalty"]) == (46, 15.33)
    assert (beta["risk_exposure"], beta["risk_penalty"]) == (6, 12.0)
    # 100 - 15.33 - 12 = 72.67 -> 73 -> amber.
    assert (beta["health_score"], beta["rag"]) == (73, "amber")


def test_green_projects(silver_lakehouse):
    rows = health(silver_lakehouse)
    # P1: burn 325.20 / 1000 = 0.3252 < elapsed 0.4533; its only risk is archived; the action due on
    # as_of itself is not overdue -> 100.
    assert rows["p1"]["actual_to_date"] == D("325.20")
    assert (rows["p1"]["health_score"], rows["p1"]["rag"]) == (100, "green")
    assert (rows["p1"]["open_risks"], rows["p1"]["overdue_actions"]) == (0, 0)
    # P5 has no program, but its 60 USD line still counts for the project: burn 0.6 vs 0.4533 elapsed ->
    # 100 x 0.1467 = 14.67 -> 85.
    assert rows["p5"]["actual_to_date"] == D("60.00")
    assert rows["p5"]["budget_penalty"] == 14.67
    assert (rows["p5"]["health_score"], rows["p5"]["rag"]) == (85, "green")
    # P3's budget is in GBP (no rate): no budget figure, no burn; no dates: no elapsed share, no slip.
    assert rows["p3"]["budget_total"] is None
    assert rows["p3"]["burn_ratio"] is None and rows["p3"]["elapsed_ratio"] is None
    assert rows["p3"]["health_score"] == 100


def test_only_live_projects_are_scored(silver_lakehouse):
    assert set(health(silver_lakehouse)) == {"p1", "p2", "p3", "p5", "pr"}  # p4 is archived


def test_budget_converted_at_latest_rate_when_as_of_is_past_the_rates(silver_lakehouse):
    # Rates end in 2025-06; as of 2025-08-01 the June rate (1.10) still converts P2's 500 EUR.
    assert health(silver_lakehouse, as_of="2025-08-01")["p2"]["budget_total"] == D("550.00")
    # Before the first rate month nothing converts.
    assert health(silver_lakehouse, as_of="2024-12-31")["p2"]["budget_total"] is None
