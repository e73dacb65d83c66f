"""Dagster asset checks for the declarative rules of config/dq_rules.yaml: one multi-check per silver Notion table.

A silver table's row-level rules, its reconciliation with bronze, schema change and row counts are one op
(`silver_<table>_data_quality`) yielding one check result per rule: the UI lists every rule, a run pays for
one step and one statement for all row-level rules. None of them is blocking: row-level defects never stop
the pipeline (gold leaves the rows out and counts them), only key violations do (`factories.py`).
"""

from collections.abc import Iterator, Sequence
from typing import Any

import dagster as dg

from ppm_checks.catalog import RuleCatalog, TableRules
from ppm_checks.evaluate import evaluate_row_rules
from ppm_checks.reconciliation import BRONZE, BRONZE_RULE, evaluate_bronze_reconciliation
from ppm_checks.rules import RuleResult, Sample
from ppm_checks.table_shape import ROW_COUNT_RULE, SCHEMA_RULE, evaluate_row_count, evaluate_schema_change
from ppm_resources.lakehouse import Lakehouse


def asset_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(table.split("."))


def samples_markdown(samples: Sequence[Sample]) -> str:
    """The samples as a markdown table; keys link to their Notion page."""
    lines = ["| key | value |", "|---|---|"]
    for sample in samples:
        key = f"[{sample.key}]({sample.url})" if sample.url else sample.key
        value = (sample.value or "").replace("|", "\\|")
        lines.append(f"| {key} | {value} |")
    return "\n".join(lines)


def check_metadata(result: RuleResult) -> dict[str, Any]:
    """failing_rows, total_rows, sample_keys and sample_urls (up to 10), a samples table, the details."""
    metadata: dict[str, Any] = {
        "failing_rows": dg.MetadataValue.int(result.failing_rows),
        "total_rows": dg.MetadataValue.int(result.total_rows),
        "sample_keys": dg.MetadataValue.json([s.key for s in result.samples]),
        "sample_urls": dg.MetadataValue.json([s.url for s in result.samples if s.url]),
    }
    if result.samples:
        metadata["samples"] = dg.MetadataValue.md(samples_markdown(result.samples))
    for name, value in result.details.items():
        if isinstance(value, bool):
            metadata[name] = dg.MetadataValue.bool(value)
        elif isinstance(value, int):
            metadata[name] = dg.MetadataValue.int(value)
        elif value is not None:
            metadata[name] = dg.MetadataValue.text(str(value))
    return metadata


def check_result(result: RuleResult) -> dg.AssetCheckResult:
    """A rule's evaluation as a Dagster check result (INFO never reaches a check)."""
    description = result.message
    if description is None and not result.passed:
        description = f"{result.failing_rows} of {result.total_rows} live rows of {result.table} fail: {result.description}"
    return dg.AssetCheckResult(
        asset_key=asset_key(result.table),
        check_name=result.rule,
        passed=result.passed,
        severity=dg.AssetCheckSeverity.ERROR if result.severity == "ERROR" else dg.AssetCheckSeverity.WARN,
        description=description,
        metadata=check_metadata(result),
    )


def silver_table_checks(rules: TableRules, catalog: RuleCatalog) -> dg.AssetChecksDefinition:
    """Every non-blocking rule of one silver Notion table, as one multi-check (subsettable)."""
    key = asset_key(rules.table)
    specs = [
        dg.AssetCheckSpec(
            rule.name,
            asset=key,
            description=rule.description,
            # Orphan rules read the parent table: run after it when both are in the run.
            additional_deps=[asset_key(table) for table in rule.reads],
        )
        for rule in rules.row_rules
    ]
    specs += [
        dg.AssetCheckSpec(
            BRONZE_RULE,
            asset=key,
            description=f"Every page of {BRONZE} has exactly one row in {rules.table}.",
        ),
        dg.AssetCheckSpec(
            SCHEMA_RULE, asset=key, description="Columns unchanged since the previous version."
        ),
        dg.AssetCheckSpec(
            ROW_COUNT_RULE, asset=key, description="Live rows within config/dq_rules.yaml `row_counts`."
        ),
    ]

    @dg.multi_asset_check(
        specs=specs,
        name=f"silver_{rules.silver_table}_data_quality",
        can_subset=True,
        description=f"Data-quality rules of {rules.table} (config/dq_rules.yaml, docs/data-dictionary.md).",
    )
    def _checks(
        context: dg.AssetCheckExecutionContext, lakehouse: Lakehouse
    ) -> Iterator[dg.AssetCheckResult]:
        selected = {check.name for check in context.selected_asset_check_keys}
        row_rules = [rule for rule in rules.row_rules if rule.name in selected]
        if row_rules:
            for result in evaluate_row_rules(lakehouse, rules.table, row_rules, catalog).results:
                yield check_result(result)
        if BRONZE_RULE in selected:
            yield check_result(
                evaluate_bronze_reconciliation(
                    lakehouse, rules.database_name, rules.table, catalog.severity("reconciliation")
                )
            )
        if SCHEMA_RULE in selected:
            yield check_result(
                evaluate_schema_change(lakehouse, rules.table, catalog.severity("schema_change"))
            )
        if ROW_COUNT_RULE in selected:
            yield check_result(
                evaluate_row_count(lakehouse, rules.table, rules.row_counts, catalog.severity("row_counts"))
            )

    return _checks
