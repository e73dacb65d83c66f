"""The gold SQL files: shared blocks identical everywhere, and compatible with the real silver schemas."""

import re

import pytest
import sqlglot
from sqlglot import exp

from ppm_assets.finance.fx_rates import fx_rates_table, load_fx_rates
from ppm_assets.notion.bronze_rows import notion_raw_pages_table
from ppm_assets.notion.silver_sql import silver_select_sql
from ppm_checks.config import load_dq_rules
from ppm_resources.lakehouse import LocalLakehouse, load_sql
from ppm_resources.notion.mapping import load_notion_mapping
from ppm_resources.paths import config_dir, sql_dir

FILES = {
    "gold/budget_vs_actual.sql": {
        "period_start": "2025-01-01",
        "period_end": "2025-03-01",
        "reporting_currency": "USD",
    },
    "gold/budget_vs_actual_exclusions.sql": {"reporting_currency": "USD"},
    "gold/project_health.sql": {"as_of": "2025-06-15", "reporting_currency": "USD"},
    "gold/forecast.sql": {"as_of": "2025-06-15", "reporting_currency": "USD"},
}


def test_line_facts_are_defined_once_and_included_everywhere():
    fragments = sorted(p.name for p in (sql_dir() / "gold" / "fragments").glob("*.sql"))
    assert fragments == ["line_facts.sql", "project_budgets.sql"]
    for path in FILES:
        raw = (sql_dir() / path).read_text(encoding="utf-8")
        assert "-- include: gold/fragments/line_facts.sql" in raw, path
        assert "line_facts AS (" not in raw, path  # the definition lives in the fragment only
        assert "line_facts AS (" in load_sql(path).text, path


def test_parameters_are_exactly_the_documented_ones():
    for path, params in FILES.items():
        text = load_sql(path).text
        used = set(re.findall(r"(?<![:\w]):([a-z_]+)\b", re.sub(r"--[^\n]*", "", text)))
        assert used == set(params), path


@pytest.fixture(scope="module")
def empty_real_silver(tmp_path_factory) -> LocalLakehouse:
    """Silver tables built by the real silver SQL (from the mapping) over an empty bronze, plus real FX."""
    lakehouse = LocalLakehouse(root=str(tmp_path_factory.mktemp("real_silver")))
    lakehouse.append(
        "bronze.notion_raw_pages",
        notion_raw_pages_table([], synced_at=None, sync_run_id="", complete_before=None),
    )
    mapping = load_notion_mapping()
    for name, database in mapping.databases.items():
        lakehouse.replace(database.silver_table_name, silver_select_sql(name, database))
    lakehouse.replace("silver.fx_rates", fx_rates_table(load_fx_rates(config_dir() / "fx_rates.yaml")))
    return lakehouse


@pytest.mark.parametrize("path", sorted(FILES))
def test_runs_on_the_silver_tables_the_mapping_produces(empty_real_silver, path):
    result = empty_real_silver.query(load_sql(path), params=FILES[path])
    assert result.num_rows == 0


def _compared_literals(path: str) -> dict[str, set[str]]:
    """column -> every string literal the gold SQL compares it with (`CASE column WHEN '...'`, `column = '...'`)."""
    found: dict[str, set[str]] = {}
    tree = sqlglot.parse_one(load_sql(path).text.replace(":reporting_currency", "'USD'").replace(":as_of", "'x'"),
                             read="databricks")  # fmt: skip
    for case in tree.find_all(exp.Case):
        column = case.this.find(exp.Column) if case.this else None
        if column is not None:
            found.setdefault(column.name, set()).update(w.this.name for w in case.args["ifs"])
    for comparison in (*tree.find_all(exp.EQ), *tree.find_all(exp.NEQ)):
        column, literal = comparison.left.find(exp.Column), comparison.right
        if column is not None and isinstance(literal, exp.Literal) and literal.is_string:
            found.setdefault(column.name, set()).add(literal.name)
    return found


def test_gold_compares_options_with_the_accepted_values_vocabulary():
    """Gold and the accepted-values checks read an option the same way: exact names from config/dq_rules.yaml."""
    accepted = load_dq_rules(load_notion_mapping()).accepted_values
    health = _compared_literals("gold/project_health.sql")
    assert health["severity"] == set(accepted["risks"]["severity"])
    assert health["probability"] == set(accepted["risks"]["probability"])
    assert health["status"] == {"Closed", "Done", "Completed"}
    assert "Closed" in accepted["risks"]["status"] and "Done" in accepted["actions"]["status"]
    assert "Completed" in accepted["projects"]["status"]
    assert _compared_literals("gold/forecast.sql")["status"] == {"Completed"}
