"""gold/data_quality_issues: one row per failed rule per evaluation, exclusions per reason, the DQ score."""

from __future__ import annotations

import dagster as dg
import pytest

from ppm_assets.quality.data_quality_issues import TABLE, build_data_quality_issues
from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.notion.mapping import load_notion_mapping
from ppm_resources.reporting_currency import ReportingCurrency

from .conftest import MAPPING, row, silver_table, write_layers

data_quality_issues = build_data_quality_issues(load_notion_mapping())


def materialize(lakehouse) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [data_quality_issues],
        resources={"lakehouse": lakehouse, "reporting": ReportingCurrency(currency="USD")},
    )


def test_one_row_per_failed_rule_plus_exclusions_and_the_score(fresh):
    result = materialize(fresh)
    assert result.success
    rows = fresh.query(f"SELECT * FROM {TABLE}").to_pylist()
    by_rule = {(r["asset"], r["rule"]): r for r in rows}
    # 32 failed row-level rules (test_rules_hand_built.EXPECTED) + 2 reconciliations + 4 exclusion reasons
    # + the score row.
    assert len(rows) == 32 + 2 + 4 + 1
    assert len({r["evaluation_id"] for r in rows}) == 1 and len({r["detected_at"] for r in rows}) == 1
    orphans = by_rule["silver/budget_lines", "project_page_id_not_orphan"]
    assert (orphans["severity"], orphans["failing_rows"], orphans["total_rows"], orphans["row_level"]) == (
        "WARN",
        2,
        7,
        True,
    )
    assert orphans["sample_keys"] == ["l3", "l4"]
    assert orphans["sample_urls"] == ["https://www.notion.so/l3", "https://www.notion.so/l4"]
    assert orphans["sample_values"] == ["p6", "p-ghost"]
    recon = by_rule["silver/programs", "one_row_per_bronze_page"]
    assert (recon["severity"], recon["failing_rows"], recon["row_level"]) == ("ERROR", 1, False)
    # Exclusions from gold, one row per reason, counted by hand from the fixture's budget lines.
    excluded = {
        r["rule"]: (r["failing_rows"], r["severity"]) for r in rows if r["rule_family"] == "gold_exclusion"
    }
    assert excluded == {
        "excluded_archived": (1, "INFO"),  # l8
        "excluded_orphan_project": (3, "WARN"),  # l3 (archived project), l4 (missing), l7 (none)
        "excluded_negative_amount": (1, "WARN"),  # l6
        "excluded_unknown_currency": (1, "WARN"),  # l5
    }
    assert by_rule["gold/budget_vs_actual", "excluded_orphan_project"]["sample_keys"] == ["l3", "l4", "l7"]
    score = by_rule["gold/data_quality_issues", "dq_score_meets_threshold"]
    assert (score["passed"], score["failing_rows"], score["total_rows"], score["dq_score"]) == (
        False,
        15,
        22,
        31.82,
    )
    assert {r["dq_score"] for r in rows} == {31.82}
    assert not any(r["passed"] for r in rows)

    metadata = result.asset_materializations_for_node("gold__data_quality_issues")[0].metadata
    assert metadata["dq_score"] == dg.MetadataValue.float(31.82)
    assert metadata["failing_rules"].value == 34 and metadata["failing_error_rules"].value == 2
    assert metadata["excluded_lines"].value == 6
    assert metadata["dagster/row_count"].value == 39
    assert "[l3](https://www.notion.so/l3)" in metadata["preview"].value
    [check] = result.get_asset_check_evaluations()
    assert (check.check_name, check.passed, check.severity) == (
        "dq_score_meets_threshold",
        False,
        dg.AssetCheckSeverity.ERROR,
    )

    assert materialize(fresh).success  # a second evaluation is appended
    counts = fresh.query(
        f"SELECT evaluation_id, count(*) AS n FROM {TABLE} GROUP BY evaluation_id"
    ).to_pylist()
    assert sorted(c["n"] for c in counts) == [39, 39]


@pytest.mark.parametrize(("defects", "score", "passes"), [(5, 95.0, True), (6, 94.0, False)])
def test_the_score_check_fails_when_defects_pass_five_percent(tmp_path, defects, score, passes):
    """100 live actions, `defects` of them without a title; every other table exists and is empty."""
    actions = [
        row(f"a{i:03d}", title="" if i < defects else f"action {i}", status="Done", priority="Low")
        for i in range(100)
    ]
    archived = [row("a999", archived=True)]  # archived rows never count
    lakehouse = LocalLakehouse(root=str(tmp_path))
    write_layers(lakehouse, {name: [] for name in MAPPING.names})
    lakehouse.replace("silver.actions", silver_table("actions", actions + archived))
    result = materialize(lakehouse)
    assert result.success  # a failed score is an ERROR check, it never fails the run
    [check] = result.get_asset_check_evaluations()
    assert check.passed is passes
    assert check.metadata["dq_score"].value == score
    assert (check.metadata["live_rows"].value, check.metadata["failing_rows"].value) == (100, defects)
    [score_row] = lakehouse.query(f"SELECT * FROM {TABLE} WHERE rule_family = 'dq_score'").to_pylist()
    assert (score_row["passed"], score_row["dq_score"]) == (passes, score)
    assert score_row["severity"] == ("INFO" if passes else "ERROR")
