"""Reconciliation: bronze -> silver (one silver row per bronze page) and gold totals across dimensions."""

from __future__ import annotations

from decimal import Decimal

from ppm_assets.tables import BUDGET_VS_ACTUAL, NOTION_RAW_PAGES
from ppm_checks.rules import SAMPLE_LIMIT, RuleResult, Sample, Severity, notion_url
from ppm_resources.lakehouse import Lakehouse, load_sql, parse_table_name, sql_string

BRONZE = NOTION_RAW_PAGES.name
GOLD_BUDGET_VS_ACTUAL = BUDGET_VS_ACTUAL.name
GOLD_RECONCILIATION_SQL = "gold/data_quality_budget_vs_actual_reconciliation.sql"

BRONZE_RULE = "one_row_per_bronze_page"
GOLD_RULE = "totals_reconcile_across_dimensions"


def _unobserved(
    rule: str, family: str, table: str, severity: Severity, description: str, missing: str
) -> RuleResult:
    """Passes: with no `missing` table yet there is nothing to compare (its own asset reports why)."""
    return RuleResult(
        rule=rule,
        family=family,
        table=table,
        severity=severity,
        failing_rows=0,
        total_rows=0,
        description=description,
        details={"observed": False},
        message=f"{missing} does not exist yet: nothing to compare.",
    )


def _bronze_silver_problems(database_name: str, table: str) -> str:
    """CTEs ending in `problems(page_id, problem)`: bronze pages without exactly one silver row, and back.

    Bronze rows written after the newest one silver has seen are left out, so a sync appending while silver
    is built or checked is not reported.
    """
    parse_table_name(table)
    return f"""
WITH bound AS (
  SELECT max(synced_at) AS synced_at FROM {table}
),
bronze_pages AS (
  SELECT DISTINCT r.page_id
  FROM {BRONZE} r CROSS JOIN bound
  WHERE r.database_name = {sql_string(database_name)}
    AND (bound.synced_at IS NULL OR r.synced_at <= bound.synced_at)
),
silver_pages AS (
  SELECT page_id, count(*) AS copies FROM {table} GROUP BY page_id
),
problems AS (
  SELECT b.page_id, 'missing_in_silver' AS problem
  FROM bronze_pages b LEFT JOIN silver_pages s ON s.page_id = b.page_id
  WHERE s.page_id IS NULL
  UNION ALL
  SELECT s.page_id, 'not_in_bronze' AS problem
  FROM silver_pages s LEFT JOIN bronze_pages b ON b.page_id = s.page_id
  WHERE b.page_id IS NULL
  UNION ALL
  SELECT page_id, concat('duplicated: ', CAST(copies AS STRING), ' silver rows') AS problem
  FROM silver_pages
  WHERE copies > 1
)"""


def bronze_silver_summary_sql(database_name: str, table: str) -> str:
    """One row: bronze pages, silver rows, and the pages missing in silver, not in bronze, duplicated."""
    return (
        _bronze_silver_problems(database_name, table)
        + f"""
SELECT
  (SELECT count(*) FROM bronze_pages) AS bronze_pages,
  (SELECT count(*) FROM {table}) AS silver_rows,
  (SELECT count(*) FROM problems WHERE problem = 'missing_in_silver') AS missing_in_silver,
  (SELECT count(*) FROM problems WHERE problem = 'not_in_bronze') AS not_in_bronze,
  (SELECT count(*) FROM problems WHERE problem LIKE 'duplicated%') AS duplicated
"""
    )


def bronze_silver_samples_sql(database_name: str, table: str, sample_limit: int = SAMPLE_LIMIT) -> str:
    return (
        _bronze_silver_problems(database_name, table)
        + f"\nSELECT page_id, problem FROM problems ORDER BY page_id, problem LIMIT {int(sample_limit)}\n"
    )


def evaluate_bronze_reconciliation(
    lakehouse: Lakehouse, database_name: str, table: str, severity: Severity
) -> RuleResult:
    """Every page of the database in bronze has exactly one row in silver, and silver has no other page."""
    description = f"Every page of {BRONZE} (database {database_name!r}) has exactly one row in {table}."
    if not lakehouse.exists(BRONZE):
        return _unobserved(BRONZE_RULE, "reconciliation", table, severity, description, BRONZE)
    summary = lakehouse.query(bronze_silver_summary_sql(database_name, table)).to_pylist()[0]
    failing = int(summary["missing_in_silver"] + summary["not_in_bronze"] + summary["duplicated"])
    samples: tuple[Sample, ...] = ()
    if failing:
        rows = lakehouse.query(bronze_silver_samples_sql(database_name, table)).to_pylist()
        samples = tuple(
            Sample(r["page_id"] or "<null>", notion_url(r["page_id"]) if r["page_id"] else None, r["problem"])
            for r in rows
        )
    return RuleResult(
        rule=BRONZE_RULE,
        family="reconciliation",
        table=table,
        severity=severity,
        failing_rows=failing,
        total_rows=int(summary["bronze_pages"]),
        description=description,
        samples=samples,
        details={k: int(v) for k, v in summary.items()},
        message=(
            f"{summary['missing_in_silver']} bronze pages missing in silver, {summary['not_in_bronze']} silver "
            f"rows with no bronze page, {summary['duplicated']} pages duplicated: rematerialize {table}."
            if failing
            else None
        ),
    )


def _money(value: Decimal | None) -> str:
    return "0.00" if value is None else f"{value:.2f}"


def evaluate_gold_reconciliation(lakehouse: Lakehouse, severity: Severity) -> RuleResult:
    """Σ over programs = Σ over projects = Σ over categories, per period and metric (budget, actual, variance)."""
    description = (
        f"In {GOLD_BUDGET_VS_ACTUAL}, for every period and for budget, actual and variance, the totals over "
        "programs, projects and categories are equal."
    )
    if not lakehouse.exists(GOLD_BUDGET_VS_ACTUAL):
        return _unobserved(
            GOLD_RULE,
            "gold_reconciliation",
            GOLD_BUDGET_VS_ACTUAL,
            severity,
            description,
            GOLD_BUDGET_VS_ACTUAL,
        )
    rows = lakehouse.query(load_sql(GOLD_RECONCILIATION_SQL)).to_pylist()
    failing = [r for r in rows if not r["reconciles"]]
    samples = tuple(
        Sample(
            f"{r['period'].isoformat()} {r['metric_name']}",
            None,
            f"program {_money(r['program_total'])}, project {_money(r['project_total'])}, "
            f"category {_money(r['category_total'])}",
        )
        for r in failing[:SAMPLE_LIMIT]
    )
    return RuleResult(
        rule=GOLD_RULE,
        family="gold_reconciliation",
        table=GOLD_BUDGET_VS_ACTUAL,
        severity=severity,
        failing_rows=len(failing),
        total_rows=len(rows),
        description=description,
        samples=samples,
        details={"periods": len({r["period"] for r in rows})},
        message=f"{len(failing)} (period, metric) totals differ between dimensions." if failing else None,
    )
