"""config/dq_rules.yaml: what it declares, and errors that name the entry."""

from __future__ import annotations

import pytest
import sqlglot

from ppm_assets.finance.fx_rates import load_fx_rates
from ppm_checks.catalog import build_catalog
from ppm_checks.config import DqRulesError, fx_rates_currencies, load_dq_rules, parse_dq_rules
from ppm_checks.sql import row_rules_sql
from ppm_resources.paths import config_dir

from .conftest import MAPPING


def test_the_rules_file_loads_and_keeps_row_level_rules_non_blocking():
    rules = load_dq_rules(MAPPING)
    assert rules.dq_score.min_pct == 95
    severities = rules.severities.model_dump()
    assert {severities[f] for f in ("required", "accepted_values", "ranges", "references", "parseable")} == {
        "WARN"
    }
    assert severities["reconciliation"] == severities["gold_reconciliation"] == "ERROR"


def test_currencies_are_those_gold_can_convert():
    config = load_fx_rates(config_dir() / "fx_rates.yaml")
    assert fx_rates_currencies() == sorted({config.base_currency, *config.rates}) == ["EUR", "PHP", "USD"]
    catalog = build_catalog(MAPPING, load_dq_rules(MAPPING))
    currency = next(
        r for r in catalog.table("silver.budget_lines").row_rules if r.name == "currency_accepted_values"
    )
    assert "NOT IN ('EUR', 'PHP', 'USD')" in currency.condition


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("required: {budget_line: [name]}", "required.budget_line: no silver table 'budget_line'"),
        ("required: {budget_lines: [nme]}", "required.budget_lines: no column 'nme'"),
        ("accepted_values: {budget_lines: {amount: [a]}}", "only string columns, not decimal"),
        ("ranges: {budget_lines: [{column: currency, min: 0}]}", "min/max need a number column"),
        ("ranges: {budget_lines: [{column: amount}]}", "give min and/or max, or not_before"),
        ("references: {risks: {project_page_id: project}}", "no parent table 'project'"),
        ("references: {risks: {title: projects}}", "needs a relation column, not string"),
        ("severities: {required: FATAL}", "severities.required"),
        ("accepted_values: {projects: {currency: fx}}", "accepted_values.projects.currency"),
        ("dq_score: {min_pct: 120}", "dq_score.min_pct"),
    ],
)
def test_errors_name_the_file_and_the_entry(text, message):
    with pytest.raises(DqRulesError, match=r"config/dq_rules\.yaml") as error:
        parse_dq_rules(text, MAPPING)
    assert message in str(error.value)


def test_generated_sql_is_one_databricks_statement_per_table():
    catalog = build_catalog(MAPPING, load_dq_rules(MAPPING))
    for rules in catalog.tables:
        sql = row_rules_sql(rules.table, rules.row_rules)
        [statement] = sqlglot.parse(sql, read="databricks")
        assert statement is not None
        assert sql.count("UNION ALL") == len(rules.row_rules) - 1 + 2  # one SELECT per rule, plus totals


def test_values_with_quotes_are_escaped():
    rules = parse_dq_rules('accepted_values: {projects: {status: ["Won\'t do", Done]}}', MAPPING)
    catalog = build_catalog(MAPPING, rules)
    [status] = [r for r in catalog.table("silver.projects").row_rules if r.family == "accepted_values"]
    assert sqlglot.parse_one(f"SELECT 1 WHERE {status.condition}", read="databricks") is not None
    assert "Won\\'t do" in status.condition
