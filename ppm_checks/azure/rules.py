"""The Azure data-quality rules as Dagster asset checks: each rule is one SQL count with sample keys."""

from collections.abc import Iterator
from dataclasses import dataclass

import dagster as dg

from ppm_assets.tables import ADVISOR_RECOMMENDATIONS, AZURE_ADVISOR_RAW, AZURE_RESOURCES, AZURE_RESOURCES_RAW
from ppm_checks.factories import counted_result, key_unique_not_null_check
from ppm_checks.rules import SAMPLE_LIMIT
from ppm_resources.azure.client import ADVISOR_CATEGORIES, ADVISOR_IMPACTS
from ppm_resources.lakehouse import Lakehouse, sql_string

#: Below this share of Cost recommendations linked to a project, savings cannot be attributed: WARN.
MIN_COST_LINKED_SHARE = 0.8
SAVINGS_FLAGS = (
    "negative_savings",
    "unknown_currency",
    "missing_savings",
    "no_fx_rate",
    "unparseable_savings",
)


@dataclass(frozen=True)
class RowRule:
    """Rows of `table` for which `condition` holds fail; `key` and `value` make the samples."""

    name: str
    table: str
    key: str
    condition: str
    value: str
    description: str


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(sql_string(v) for v in values)


RECOMMENDATION_RULES = (
    RowRule(
        "category_accepted",
        ADVISOR_RECOMMENDATIONS.name,
        "recommendation_id",
        f"category IS NULL OR category NOT IN ({_listed(ADVISOR_CATEGORIES)})",
        "category",
        f"category is one of {', '.join(ADVISOR_CATEGORIES)}.",
    ),
    RowRule(
        "impact_accepted",
        ADVISOR_RECOMMENDATIONS.name,
        "recommendation_id",
        f"impact IS NULL OR impact NOT IN ({_listed(ADVISOR_IMPACTS)})",
        "impact",
        f"impact is one of {', '.join(ADVISOR_IMPACTS)}.",
    ),
    RowRule(
        "savings_valid",
        ADVISOR_RECOMMENDATIONS.name,
        "recommendation_id",
        " OR ".join(f"array_contains(dq_flags, {sql_string(flag)})" for flag in SAVINGS_FLAGS),
        "concat_ws(' ', coalesce(CAST(savings_amount AS STRING), '<none>'), coalesce(savings_currency, ''))",
        "Savings are numbers >= 0, present on Cost recommendations, and in a currency with an FX rate for the month.",
    ),
    RowRule(
        "resource_in_inventory",
        ADVISOR_RECOMMENDATIONS.name,
        "recommendation_id",
        "array_contains(dq_flags, 'resource_not_in_inventory')",
        "resource_id",
        "The recommendation's resource is in the latest inventory snapshot (else it cannot be linked by its own tag).",
    ),
)

RESOURCE_RULES = (
    RowRule(
        "project_tag_known",
        AZURE_RESOURCES.name,
        "resource_id",
        "project_code IS NOT NULL AND project_page_id IS NULL",
        "project_code",
        "The `ppm-project` tag (on the resource or its resource group) names a project that exists in "
        "silver.projects.",
    ),
)


def rule_sql(rule: RowRule) -> str:
    return f"""
SELECT
  count_if({rule.condition}) AS failing_rows,
  count(*) AS total_rows,
  slice(array_sort(collect_list(CASE WHEN {rule.condition} THEN concat({rule.key}, ' = ', coalesce(CAST({rule.value} AS STRING), '<null>')) END)), 1, {SAMPLE_LIMIT}) AS samples
FROM {rule.table}
"""


COST_LINKED_SQL = f"""
SELECT count(*) AS cost_rows, count_if(project_page_id IS NOT NULL) AS linked_rows,
  slice(array_sort(collect_list(CASE WHEN project_page_id IS NULL THEN recommendation_id END)), 1, {SAMPLE_LIMIT}) AS samples
FROM {ADVISOR_RECOMMENDATIONS.name}
WHERE category = 'Cost'
"""


def source_key_sql(table: str, kind: str, key: str) -> str:
    """NULL or repeated ids (compared lowercased, as ARM ids are) among the rows of each subscription's latest
    bronze snapshot: silver keeps one row per id, so the source is where a duplicate can still be seen."""
    return f"""
WITH latest AS (
  SELECT subscription_id, max(ingested_at) AS ingested_at FROM {table} WHERE record_kind = 'snapshot'
  GROUP BY subscription_id
),
snapshot_rows AS (
  SELECT lower(b.{key}) AS id FROM {table} b
  JOIN latest l ON b.subscription_id = l.subscription_id AND b.ingested_at = l.ingested_at
  WHERE b.record_kind = '{kind}'
),
grouped AS (SELECT id, count(*) AS n FROM snapshot_rows GROUP BY id)
SELECT
  coalesce(sum(CASE WHEN id IS NULL OR n > 1 THEN n ELSE 0 END), 0) AS failing_rows,
  coalesce(sum(n), 0) AS total_rows,
  slice(array_sort(collect_list(CASE WHEN id IS NULL OR n > 1 THEN coalesce(id, '<null>') END)), 1, {SAMPLE_LIMIT}) AS samples
FROM grouped
"""


def source_key_check(
    asset: dg.AssetKey, bronze: str, kind: str, key: str, name: str
) -> dg.AssetChecksDefinition:
    sql = source_key_sql(bronze, kind, key)

    @dg.asset_check(
        asset=asset,
        name=name,
        blocking=True,
        description=f"In each subscription's latest snapshot of {bronze}, every {kind} has an id and no id appears "
        "twice (silver keeps one row per id, so this is checked at the source).",
    )
    def _check(lakehouse: Lakehouse) -> dg.AssetCheckResult:
        return counted_result(
            lakehouse.query(sql).to_pylist()[0],
            lambda failing, total: (
                f"{failing} of {total} {kind} rows of the latest {bronze} snapshots have a NULL "
                "or repeated id: downstream assets of this run were not materialized."
            ),
        )

    return _check


def evaluate_rule(lakehouse: Lakehouse, rule: RowRule) -> dg.AssetCheckResult:
    row = lakehouse.query(rule_sql(rule)).to_pylist()[0]
    failing, total = int(row["failing_rows"] or 0), int(row["total_rows"] or 0)
    return dg.AssetCheckResult(
        check_name=rule.name,
        passed=failing == 0,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{failing} of {total} rows of {rule.table} fail: {rule.description}"
        if failing
        else None,
        metadata={
            "failing_rows": dg.MetadataValue.int(failing),
            "total_rows": dg.MetadataValue.int(total),
            "samples": dg.MetadataValue.json(list(row["samples"] or [])),
        },
    )


def evaluate_cost_linked_share(lakehouse: Lakehouse) -> dg.AssetCheckResult:
    row = lakehouse.query(COST_LINKED_SQL).to_pylist()[0]
    cost, linked = int(row["cost_rows"] or 0), int(row["linked_rows"] or 0)
    share = linked / cost if cost else 1.0
    passed = share >= MIN_COST_LINKED_SHARE
    return dg.AssetCheckResult(
        check_name="cost_linked_share",
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=None
        if passed
        else (
            f"only {share:.1%} of {cost} Cost recommendations are linked to a project (expected >= "
            f"{MIN_COST_LINKED_SHARE:.0%}): tag the resources or their resource groups `ppm-project: <Project ID>`"
        ),
        metadata={
            "linked_share_pct": dg.MetadataValue.float(round(100 * share, 2)),
            "cost_recommendations": dg.MetadataValue.int(cost),
            "linked": dg.MetadataValue.int(linked),
            "unlinked_samples": dg.MetadataValue.json(list(row["samples"] or [])),
        },
    )


def _row_rule_checks(
    asset: dg.AssetKey, rules: tuple[RowRule, ...], name: str, extra: bool
) -> dg.AssetChecksDefinition:
    specs = [dg.AssetCheckSpec(rule.name, asset=asset, description=rule.description) for rule in rules]
    if extra:
        specs.append(
            dg.AssetCheckSpec(
                "cost_linked_share",
                asset=asset,
                description=f"At least {MIN_COST_LINKED_SHARE:.0%} of Cost recommendations are linked to a project.",
            )
        )

    @dg.multi_asset_check(specs=specs, name=name, can_subset=True)
    def _checks(
        context: dg.AssetCheckExecutionContext, lakehouse: Lakehouse
    ) -> Iterator[dg.AssetCheckResult]:
        selected = {key.name for key in context.selected_asset_check_keys}
        for rule in rules:
            if rule.name in selected:
                yield evaluate_rule(lakehouse, rule)
        if extra and "cost_linked_share" in selected:
            yield evaluate_cost_linked_share(lakehouse)

    return _checks


def azure_checks() -> list[dg.AssetChecksDefinition]:
    return [
        source_key_check(
            ADVISOR_RECOMMENDATIONS.key,
            AZURE_ADVISOR_RAW.name,
            "recommendation",
            "recommendation_id",
            "source_recommendation_ids_unique_not_null",
        ),
        source_key_check(
            AZURE_RESOURCES.key,
            AZURE_RESOURCES_RAW.name,
            "resource",
            "resource_id",
            "source_resource_ids_unique_not_null",
        ),
        key_unique_not_null_check(
            ADVISOR_RECOMMENDATIONS.key.path, ADVISOR_RECOMMENDATIONS.name, ["recommendation_id"]
        ),
        key_unique_not_null_check(AZURE_RESOURCES.key.path, AZURE_RESOURCES.name, ["resource_id"]),
        _row_rule_checks(
            ADVISOR_RECOMMENDATIONS.key,
            RECOMMENDATION_RULES,
            "silver_advisor_recommendations_data_quality",
            True,
        ),
        _row_rule_checks(AZURE_RESOURCES.key, RESOURCE_RULES, "silver_azure_resources_data_quality", False),
    ]
