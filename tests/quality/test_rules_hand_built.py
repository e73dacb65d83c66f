"""Each rule on the hand-built silver layer (tests/quality/conftest.py) catches exactly the planted rows."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ppm_assets.notion.bronze_rows import notion_raw_pages_table
from ppm_checks.catalog import NOTION_KEY, build_catalog
from ppm_checks.config import load_dq_rules
from ppm_checks.evaluate import evaluate_all, evaluate_key, evaluate_row_rules
from ppm_checks.reconciliation import evaluate_bronze_reconciliation
from ppm_checks.rules import notion_url
from ppm_resources.lakehouse import LocalLakehouse

from .conftest import (
    FAILING_ROWS,
    LIVE_ROWS,
    MAPPING,
    SILVER,
    SYNCED_AT,
    write_layers,
)

CATALOG = build_catalog(MAPPING, load_dq_rules(MAPPING))

# Every row-level rule of every table with the live rows it must catch, worked out from the fixture.
EXPECTED: dict[str, dict[str, set[str]]] = {
    "programs": {
        "name_present": {"g2"},
        "status_present": set(),
        "status_accepted_values": {"g3"},
        "end_date_not_before_start_date": {"g3"},
        "values_parseable": set(),
    },
    "projects": {
        "name_present": set(),
        "program_page_id_present": {"p5"},
        "currency_present": set(),
        "status_present": set(),
        "status_accepted_values": {"p5"},
        "currency_accepted_values": {"p4"},
        "priority_accepted_values": {"p5"},
        "budget_total_not_negative": {"p4"},
        "end_date_not_before_start_date": set(),
        "program_page_id_not_orphan": {"p3", "p4"},
        "values_parseable": set(),
    },
    "budget_lines": {
        "name_present": {"l6"},
        "project_page_id_present": {"l7"},
        "category_present": {"l7"},
        "amount_present": {"l7"},
        "currency_present": {"l7"},
        "committed_date_present": {"l7"},
        "category_accepted_values": {"l5"},
        "currency_accepted_values": {"l5"},
        "amount_not_negative": {"l4"},
        "actual_amount_not_negative": {"l6"},
        "paid_date_not_before_invoice_date": {"l6"},
        "project_page_id_not_orphan": {"l3", "l4"},
        "values_parseable": {"l7"},
    },
    "risks": {
        "title_present": {"k3"},
        "project_page_id_present": set(),
        "severity_present": set(),
        "probability_present": set(),
        "status_present": {"k3"},
        "severity_accepted_values": {"k2"},
        "probability_accepted_values": {"k3"},
        "status_accepted_values": set(),
        "project_page_id_not_orphan": {"k2"},
    },
    "actions": {
        "title_present": {"a3"},
        "status_present": set(),
        "status_accepted_values": {"a2"},
        "priority_accepted_values": {"a3"},
        "project_page_id_not_orphan": {"a3"},
        "values_parseable": {"a4"},
    },
}
VALUES = {  # the offending value each sample shows
    ("programs", "status_accepted_values", "g3"): "Paused",
    ("projects", "currency_accepted_values", "p4"): "GBP",
    ("projects", "budget_total_not_negative", "p4"): "-5.00",
    ("projects", "program_page_id_not_orphan", "p3"): "g4",
    ("budget_lines", "category_accepted_values", "l5"): "Misc",
    (
        "budget_lines",
        "paid_date_not_before_invoice_date",
        "l6",
    ): "invoice_date 2025-04-10, paid_date 2025-04-02",
    ("budget_lines", "values_parseable", "l7"): "unparseable:amount",
    ("risks", "project_page_id_not_orphan", "k2"): "p-ghost",
}


@pytest.mark.parametrize("table", sorted(EXPECTED))
def test_each_row_rule_catches_exactly_the_planted_rows(hand_built, table):
    rules = CATALOG.table(f"silver.{table}")
    evaluation = evaluate_row_rules(hand_built, rules.table, rules.row_rules, CATALOG)
    assert {r.rule for r in evaluation.results} == set(EXPECTED[table]), "a rule was added or removed"
    for result in evaluation.results:
        expected = EXPECTED[table][result.rule]
        assert result.failing_rows == len(expected), (table, result.rule)
        assert {s.key for s in result.samples} == expected, (table, result.rule)
        assert all(s.url == notion_url(s.key) for s in result.samples)
        assert result.total_rows == LIVE_ROWS[table]
        assert result.severity == "WARN" and result.row_level
        for sample in result.samples:
            if (table, result.rule, sample.key) in VALUES:
                assert sample.value == VALUES[table, result.rule, sample.key]
    assert (evaluation.live_rows, evaluation.failing_rows) == (LIVE_ROWS[table], FAILING_ROWS[table])


def test_the_score_over_the_hand_built_layer(hand_built):
    score = evaluate_all(hand_built, CATALOG).score
    # 22 live rows, 15 of which break at least one row-level rule: 7 / 22 = 31.82 %.
    assert (score.live_rows, score.failing_rows, score.pct) == (22, 15, 31.82)
    assert not score.meets(95)


def test_keys_pass_and_a_planted_duplicate_and_null_are_caught(hand_built, fresh):
    for rules in CATALOG.tables:
        assert evaluate_key(hand_built, rules.table, NOTION_KEY).passed
    table = fresh.query("SELECT * FROM silver.risks")
    fresh.append("silver.risks", table.filter([r == "k1" for r in table.column("page_id").to_pylist()]))
    fresh.append("silver.risks", table.slice(0, 1).set_column(0, "page_id", [[None]]))
    result = evaluate_key(fresh, "silver.risks", NOTION_KEY)
    assert (result.failing_rows, result.total_rows, result.severity) == (3, 6, "ERROR")  # 2 x k1 + 1 NULL
    assert [(s.key, s.url) for s in result.samples] == [("<null>", None), ("k1", notion_url("k1"))]


def test_bronze_reconciliation_finds_the_missing_and_the_extra_page(hand_built):
    results = {
        rules.table: evaluate_bronze_reconciliation(hand_built, rules.database_name, rules.table, "ERROR")
        for rules in CATALOG.tables
    }
    failing = {table: r.failing_rows for table, r in results.items() if not r.passed}
    assert failing == {"silver.programs": 1, "silver.actions": 1}
    assert [(s.key, s.value) for s in results["silver.programs"].samples] == [("g9", "missing_in_silver")]
    assert [(s.key, s.value) for s in results["silver.actions"].samples] == [("a4", "not_in_bronze")]
    assert results["silver.programs"].details["bronze_pages"] == 5  # g1..g4 + g9
    assert results["silver.actions"].severity == "ERROR"


def test_bronze_rows_newer_than_silver_are_not_reported(fresh):
    late = notion_raw_pages_table(
        [{"page_id": "g10", "database_name": "programs", "properties": {}, "property_lists": {},
          "content_hash": "x"}],
        synced_at=SYNCED_AT + timedelta(minutes=5), sync_run_id="later", complete_before=None,
    )  # fmt: skip
    fresh.append("bronze.notion_raw_pages", late)  # a sync appending after silver was built
    result = evaluate_bronze_reconciliation(fresh, "programs", "silver.programs", "ERROR")
    assert result.failing_rows == 1 and [s.key for s in result.samples] == ["g9"]


def test_duplicated_silver_rows_break_reconciliation(fresh):
    table = fresh.query("SELECT * FROM silver.projects")
    fresh.append("silver.projects", table.slice(0, 1))  # p1 twice
    result = evaluate_bronze_reconciliation(fresh, "projects", "silver.projects", "ERROR")
    assert result.failing_rows == 1
    assert [(s.key, s.value) for s in result.samples] == [("p1", "duplicated: 2 silver rows")]


def test_an_orphan_rule_whose_parent_table_is_missing_is_not_evaluated(tmp_path):
    lakehouse = LocalLakehouse(root=str(tmp_path))
    write_layers(lakehouse, {name: rows for name, rows in SILVER.items() if name != "programs"})
    rules = CATALOG.table("silver.projects")
    results = {
        r.rule: r for r in evaluate_row_rules(lakehouse, rules.table, rules.row_rules, CATALOG).results
    }
    orphan = results["program_page_id_not_orphan"]
    assert orphan.passed and orphan.message == "not evaluated: silver.programs does not exist yet"
    assert results["currency_accepted_values"].failing_rows == 1  # the other rules still run
    assert [r.rule for r in evaluate_all(lakehouse, CATALOG).failed if r.table == "silver.programs"] == [
        "table_exists"
    ]
