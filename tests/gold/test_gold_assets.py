"""The gold finance assets run through Dagster (in process) on the hand-built silver layer."""

from datetime import date
from decimal import Decimal as D

import dagster as dg

from ppm_assets.finance.budget_vs_actual import budget_vs_actual, monthly_periods
from ppm_assets.finance.forecast import forecast
from ppm_assets.finance.project_health import project_health
from ppm_resources.reporting_currency import ReportingCurrency

assets = [budget_vs_actual, project_health, forecast]

AS_OF = {"config": {"as_of": "2025-06-15"}}
RUN_CONFIG = {"ops": {"gold__project_health": AS_OF, "gold__forecast": AS_OF}}


def resources(lakehouse, currency: str = "USD") -> dict:
    return {"lakehouse": lakehouse, "reporting": ReportingCurrency(currency=currency)}


def materializations(result, node: str) -> dict[str, dict]:
    """Partition (or '') -> metadata values of the node's materializations."""
    return {
        m.partition or "": {k: v.value for k, v in m.metadata.items()}
        for m in result.asset_materializations_for_node(node)
    }


def test_all_three_materialize_with_kpis(fresh_lakehouse):
    result = dg.materialize(
        assets, resources=resources(fresh_lakehouse), partition_key="2025-03-01", run_config=RUN_CONFIG
    )
    assert result.success
    bva = materializations(result, "gold__budget_vs_actual")["2025-03-01"]
    assert bva["dagster/table_name"] == "gold.budget_vs_actual"
    assert bva["total_budget"] == 496.0  # 316 + 180 (see test_budget_vs_actual)
    assert bva["total_actual"] == 320.4
    assert bva["total_variance"] == 175.6
    assert bva["period_rows"] == 24 and bva["projects"] == 2
    # All 8 excluded lines touch March; one count per reason.
    assert bva["excluded_lines"] == 8
    assert (bva["excluded_orphan_project"], bva["excluded_no_program"], bva["excluded_no_fx_rate"]) == (
        2,
        2,
        1,
    )
    assert "Cloud" in bva["preview"]
    health = materializations(result, "gold__project_health")[""]
    assert (health["projects_red"], health["projects_amber"], health["projects_green"]) == (1, 1, 3)
    assert health["as_of"] == "2025-06-15"
    assert [c.name for c in health["dagster/column_schema"].columns][:2] == [
        "project_page_id",
        "project_name",
    ]
    fc = materializations(result, "gold__forecast")[""]
    assert fc["total_projected_overrun"] == 880.0  # PR 800 + P5 80
    assert fc["projects_overrunning"] == 2
    assert fc["total_estimate_at_completion"] == 3186.0  # 975.60 + 1800 + 230.40 + 0 + 180
    assert fc["dagster/row_count"] == 23


def test_partitions_are_replaced_not_appended(fresh_lakehouse):
    for key in ("2025-03-01", "2025-02-01", "2025-03-01"):
        assert dg.materialize(
            [budget_vs_actual], resources=resources(fresh_lakehouse), partition_key=key
        ).success
    rows = fresh_lakehouse.query(
        "SELECT period, count(*) AS n, sum(CASE WHEN dimension = 'program' AND metric_name = 'budget' "
        "THEN value END) AS budget FROM gold.budget_vs_actual GROUP BY period ORDER BY period"
    ).to_pylist()
    assert rows == [
        # 4 metrics x (2 programs + 2 projects + 2 categories) in each month; March written twice, kept once.
        {"period": date(2025, 2, 1), "n": 4 * 6, "budget": D("355.00")},
        {"period": date(2025, 3, 1), "n": 4 * 6, "budget": D("496.00")},
    ]


def test_a_range_runs_once_with_metadata_per_month(fresh_lakehouse):
    result = dg.materialize(
        [budget_vs_actual],
        resources=resources(fresh_lakehouse),
        tags={
            "dagster/asset_partition_range_start": "2025-01-01",
            "dagster/asset_partition_range_end": "2025-05-01",
        },
    )
    assert result.success
    by_month = materializations(result, "gold__budget_vs_actual")
    assert sorted(by_month) == ["2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01", "2025-05-01"]
    assert {k: m["total_budget"] for k, m in by_month.items()} == {
        "2025-01-01": 900.0, "2025-02-01": 355.0, "2025-03-01": 496.0, "2025-04-01": 0.0, "2025-05-01": 0.0,
    }  # fmt: skip
    assert by_month["2025-04-01"]["total_actual"] == 535.2
    assert by_month["2025-05-01"]["period_rows"] == 0 and by_month["2025-05-01"]["preview"] == "_no rows_"


def test_reporting_currency_comes_from_the_resource(fresh_lakehouse):
    result = dg.materialize(
        [budget_vs_actual], resources=resources(fresh_lakehouse, "EUR"), partition_key="2025-03-01"
    )
    assert result.success
    units = fresh_lakehouse.query("SELECT DISTINCT unit FROM gold.budget_vs_actual ORDER BY unit")
    assert units.column("unit").to_pylist() == ["%", "EUR"]


def test_asset_definitions():
    assert [a.key.to_user_string() for a in assets] == [
        "gold/budget_vs_actual",
        "gold/project_health",
        "gold/forecast",
    ]
    for asset in assets:
        spec = next(iter(asset.specs))
        assert spec.group_name == "finance"
        assert {"delta", "sql"} <= set(spec.kinds)
        assert spec.owners and spec.description
        assert dg.AssetKey(["silver", "budget_lines"]) in {d.asset_key for d in spec.deps}
        assert dg.AssetKey(["silver", "fx_rates"]) in {d.asset_key for d in spec.deps}
    health_deps = {d.asset_key for d in next(iter(project_health.specs)).deps}
    assert {dg.AssetKey(["silver", "risks"]), dg.AssetKey(["silver", "actions"])} <= health_deps
    assert forecast.partitions_def is None and project_health.partitions_def is None
    assert budget_vs_actual.partitions_def == monthly_periods
    keys = monthly_periods.get_partition_keys()
    assert keys[0] == "2024-01-01" and "," not in "".join(keys)
