"""Evaluating rules against a lakehouse: row-level rules of a table in one statement, keys, and everything."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ppm_checks.catalog import NOTION_KEY, OTHER_KEYS, RuleCatalog, TableRules
from ppm_checks.reconciliation import evaluate_bronze_reconciliation, evaluate_gold_reconciliation
from ppm_checks.rules import SAMPLE_LIMIT, RowRule, RuleResult, Sample, notion_url
from ppm_checks.score import DqScore
from ppm_checks.sql import FAILING_ANY, LIVE_ROWS, key_violations_sql, row_rules_sql
from ppm_checks.table_shape import evaluate_row_count, evaluate_schema_change
from ppm_resources.lakehouse import Lakehouse


@dataclass(frozen=True)
class RowRulesEvaluation:
    """The row-level rules of one table: each rule's result, live rows, live rows failing any rule."""

    table: str
    live_rows: int
    failing_rows: int
    results: tuple[RuleResult, ...]


def evaluate_row_rules(
    lakehouse: Lakehouse, table: str, rules: Sequence[RowRule], catalog: RuleCatalog
) -> RowRulesEvaluation:
    """Every row-level rule of `table` in one statement (`row_rules_sql`).

    A rule reading a table that does not exist yet (the parent of a relation) is not evaluated: it passes
    with a message, and the missing table is reported by its own asset and by `table_missing`.
    """
    absent = {name for rule in rules for name in rule.reads if not lakehouse.exists(name)}
    runnable = [rule for rule in rules if not absent.intersection(rule.reads)]
    rows = lakehouse.query(row_rules_sql(table, runnable, SAMPLE_LIMIT)).to_pylist()
    counts = {r["rule"]: int(r["failing_rows"]) for r in rows}
    samples: dict[str, list[Sample]] = {}
    for r in rows:
        if r["page_id"] is not None:
            samples.setdefault(r["rule"], []).append(Sample(r["page_id"], r["notion_url"], r["value"]))
    live = counts.get(LIVE_ROWS, 0)
    results = tuple(
        RuleResult(
            rule=rule.name,
            family=rule.family,
            table=table,
            severity=catalog.severity(rule.family),
            failing_rows=counts.get(rule.name, 0),
            total_rows=live,
            description=rule.description,
            samples=tuple(sorted(samples.get(rule.name, []), key=lambda s: s.key)),
            details={"column": rule.column} if rule.column else {},
            message=(
                f"not evaluated: {', '.join(sorted(absent.intersection(rule.reads)))} does not exist yet"
                if rule not in runnable
                else None
            ),
        )
        for rule in rules
    )
    return RowRulesEvaluation(table, live, counts.get(FAILING_ANY, 0), results)


def evaluate_key(lakehouse: Lakehouse, table: str, key_columns: Sequence[str]) -> RuleResult:
    """Rows whose key is NULL or shared (blocking ERROR as a check; see `factories.key_unique_not_null_check`)."""
    row = lakehouse.query(key_violations_sql(table, list(key_columns))).to_pylist()[0]
    is_page = tuple(key_columns) == NOTION_KEY
    samples = tuple(
        Sample(key, notion_url(key) if is_page and key != "<null>" else None)
        for key in sorted(row["sample_keys"] or [])
    )
    return RuleResult(
        rule=key_check_name(key_columns),
        family="keys",
        table=table,
        severity="ERROR",
        failing_rows=int(row["failing_rows"]),
        total_rows=int(row["total_rows"]),
        description=f"({', '.join(key_columns)}) is not null and unique in {table}.",
        samples=samples,
    )


def key_check_name(key_columns: Sequence[str]) -> str:
    return "key_" + "_".join(key_columns) + "_unique_not_null"


def evaluate_table(
    lakehouse: Lakehouse, rules: TableRules, catalog: RuleCatalog
) -> tuple[RowRulesEvaluation, list[RuleResult]]:
    """Row-level rules, reconciliation with bronze, schema change and row counts of one silver Notion table."""
    row_level = evaluate_row_rules(lakehouse, rules.table, rules.row_rules, catalog)
    table_level = [
        evaluate_bronze_reconciliation(
            lakehouse, rules.database_name, rules.table, catalog.severity("reconciliation")
        ),
        evaluate_schema_change(lakehouse, rules.table, catalog.severity("schema_change")),
        evaluate_row_count(lakehouse, rules.table, rules.row_counts, catalog.severity("row_counts")),
    ]
    return row_level, table_level


@dataclass(frozen=True)
class Evaluation:
    """Every rule evaluated once, and the DQ score over the row-level ones."""

    results: tuple[RuleResult, ...]
    score: DqScore

    @property
    def failed(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.results if not r.passed)


def table_missing(table: str) -> RuleResult:
    return RuleResult(
        rule="table_exists",
        family="table_exists",
        table=table,
        severity="ERROR",
        failing_rows=1,
        total_rows=0,
        description=f"{table} has been materialized.",
        message=f"{table} does not exist: materialize it (its rules could not be evaluated).",
    )


def evaluate_all(lakehouse: Lakehouse, catalog: RuleCatalog) -> Evaluation:
    """Keys, row-level and table-level rules of every silver Notion table, FX keys, gold reconciliation."""
    results: list[RuleResult] = []
    by_table: dict[str, tuple[int, int]] = {}
    for rules in catalog.tables:
        if not lakehouse.exists(rules.table):
            results.append(table_missing(rules.table))
            continue
        results.append(evaluate_key(lakehouse, rules.table, NOTION_KEY))
        row_level, table_level = evaluate_table(lakehouse, rules, catalog)
        results += [*row_level.results, *table_level]
        by_table[rules.table] = (row_level.live_rows, row_level.failing_rows)
    for table, key_columns in OTHER_KEYS.items():
        if lakehouse.exists(table):
            results.append(evaluate_key(lakehouse, table, key_columns))
        else:
            results.append(table_missing(table))
    results.append(evaluate_gold_reconciliation(lakehouse, catalog.severity("gold_reconciliation")))
    return Evaluation(tuple(results), DqScore(by_table))
