"""Silver `azure_resources`, `advisor_recommendations` and gold `advisor_summary`: SQL in `sql/`, run on the engine.

Silver keeps the latest snapshot of each subscription that is still a partition of `azure_subscriptions` (the
discovery sensor removes subscriptions that disappeared, and their rows leave silver at the next build), links
each row to a project through the `ppm-project` tag (resource first, then its resource group) and converts
savings to the reporting currency with `silver/fx_rates` (DECIMAL, half up). Gold sums by category x impact x
project; unlinked recommendations stay as their own rows (project NULL).
"""

import dagster as dg
import pyarrow as pa

from ppm_assets.azure.bronze_rows import ADVISOR_SCHEMA, RESOURCES_SCHEMA
from ppm_assets.metadata import markdown_preview, table_metadata
from ppm_assets.partitions import azure_subscriptions
from ppm_assets.tables import (
    ADVISOR_RECOMMENDATIONS,
    ADVISOR_SUMMARY,
    AZURE_ADVISOR_RAW,
    AZURE_RESOURCES,
    AZURE_RESOURCES_RAW,
    FX_RATES,
    Table,
)
from ppm_resources.azure.client import ADVISOR_CATEGORIES
from ppm_resources.lakehouse import Lakehouse, load_sql
from ppm_resources.reporting_currency import ReportingCurrency

GROUP = "azure"
OWNERS = ["team:data-platform"]
KINDS = {"delta", "sql"}
PROJECTS = dg.AssetKey(["silver", "projects"])


def current_subscriptions(instance: dg.DagsterInstance) -> str:
    """The subscriptions silver covers, as the comma-separated `:subscriptions` parameter of the SQL."""
    return ",".join(sorted(instance.get_dynamic_partitions(azure_subscriptions.name)))


def ensure_bronze(lakehouse: Lakehouse) -> None:
    """Before the first ingestion (no subscription discovered, or Azure unreachable at the first
    materialization) the bronze tables are created empty, so silver and gold are empty rather than failing."""
    for table, schema in ((AZURE_RESOURCES_RAW, RESOURCES_SCHEMA), (AZURE_ADVISOR_RAW, ADVISOR_SCHEMA)):
        if not lakehouse.exists(table.name):
            lakehouse.append(table.name, schema.empty_table())


def _build(
    context: dg.AssetExecutionContext, lakehouse: Lakehouse, table: Table, params: dict[str, str]
) -> pa.Table:
    assert table.sql is not None
    ensure_bronze(lakehouse)
    write = lakehouse.replace(table.name, load_sql(table.sql), params=params)
    context.add_asset_metadata(table_metadata(lakehouse, table.name, write))
    return lakehouse.query(f"SELECT * FROM {table.name}")


def _share(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 100.0


@dg.asset(
    key=AZURE_RESOURCES.key,
    deps=[AZURE_RESOURCES_RAW.key, PROJECTS],
    group_name=GROUP,
    kinds=KINDS,
    owners=OWNERS,
    description=(
        "Current Azure inventory: the resources of each subscription's latest snapshot, linked to a project by "
        "the `ppm-project` tag on the resource, else on its resource group (tag names case-insensitive)."
    ),
    metadata={"sql": f"sql/{AZURE_RESOURCES.sql}"},
)
def azure_resources(context: dg.AssetExecutionContext, lakehouse: Lakehouse) -> dg.MaterializeResult:
    subscriptions = current_subscriptions(context.instance)
    rows = _build(context, lakehouse, AZURE_RESOURCES, {"subscriptions": subscriptions})
    linked = sum(1 for value in rows["project_page_id"].to_pylist() if value)
    tagged = sum(1 for value in rows["project_code"].to_pylist() if value)
    context.log.info(
        f"{AZURE_RESOURCES.name}: {rows.num_rows:,} resources in {len(subscriptions.split(',')) if subscriptions else 0} "
        f"subscriptions, {linked:,} linked to a project, {tagged - linked} tagged with an unknown project"
    )
    return dg.MaterializeResult(
        metadata={
            "resources": dg.MetadataValue.int(rows.num_rows),
            "linked_resources": dg.MetadataValue.int(linked),
            "linked_share_pct": dg.MetadataValue.float(_share(linked, rows.num_rows)),
            "orphan_project_tags": dg.MetadataValue.int(tagged - linked),
        }
    )


@dg.asset(
    key=ADVISOR_RECOMMENDATIONS.key,
    deps=[AZURE_ADVISOR_RAW.key, AZURE_RESOURCES.key, AZURE_RESOURCES_RAW.key, FX_RATES.key, PROJECTS],
    group_name=GROUP,
    kinds=KINDS,
    owners=OWNERS,
    description=(
        "Current Advisor recommendations (latest snapshot per subscription), typed, with savings as DECIMAL in "
        "their currency and in the reporting currency, linked to projects through the inventory's tags."
    ),
    metadata={"sql": f"sql/{ADVISOR_RECOMMENDATIONS.sql}"},
)
def advisor_recommendations(
    context: dg.AssetExecutionContext, lakehouse: Lakehouse, reporting: ReportingCurrency
) -> dg.MaterializeResult:
    params = {
        "subscriptions": current_subscriptions(context.instance),
        "reporting_currency": reporting.currency,
    }
    rows = _build(context, lakehouse, ADVISOR_RECOMMENDATIONS, params).to_pylist()
    cost = [row for row in rows if row["category"] == "Cost"]
    cost_linked = sum(1 for row in cost if row["project_page_id"])
    flagged = sum(1 for row in rows if row["dq_flags"])
    context.log.info(
        f"{ADVISOR_RECOMMENDATIONS.name}: {len(rows):,} recommendations, {len(cost)} Cost of which "
        f"{cost_linked} linked to a project, {flagged} with data-quality flags"
    )
    return dg.MaterializeResult(
        metadata={
            "recommendations": dg.MetadataValue.int(len(rows)),
            "cost_recommendations": dg.MetadataValue.int(len(cost)),
            "cost_linked_share_pct": dg.MetadataValue.float(_share(cost_linked, len(cost))),
            "flagged_recommendations": dg.MetadataValue.int(flagged),
            "unit": dg.MetadataValue.text(reporting.currency),
        }
    )


@dg.asset(
    key=ADVISOR_SUMMARY.key,
    deps=[ADVISOR_RECOMMENDATIONS.key, FX_RATES.key, PROJECTS],
    group_name=GROUP,
    kinds=KINDS,
    owners=["team:finance-data"],
    description=(
        "Advisor by category x impact x project: count, monthly and annual savings in the reporting currency "
        "(DECIMAL(18,2)); unlinked recommendations are their own rows (project NULL)."
    ),
    metadata={"sql": f"sql/{ADVISOR_SUMMARY.sql}"},
)
def advisor_summary(
    context: dg.AssetExecutionContext, lakehouse: Lakehouse, reporting: ReportingCurrency
) -> dg.MaterializeResult:
    rows = _build(context, lakehouse, ADVISOR_SUMMARY, {"reporting_currency": reporting.currency})
    records = rows.to_pylist()
    by_category = dict.fromkeys(ADVISOR_CATEGORIES, 0.0)
    for row in records:
        if row["category"] in by_category:
            by_category[row["category"]] += float(row["monthly_savings"] or 0)
    total_count = sum(int(row["recommendations"]) for row in records)
    linked_count = sum(int(row["recommendations"]) for row in records if row["project_page_id"])
    monthly = sum(float(row["monthly_savings"] or 0) for row in records)
    annual = sum(float(row["annual_savings"] or 0) for row in records)
    context.log.info(
        f"{ADVISOR_SUMMARY.name}: {total_count} recommendations, savings {monthly:,.2f} "
        f"{reporting.currency}/month, {annual:,.2f}/year"
    )
    top = sorted(records, key=lambda row: -float(row["monthly_savings"] or 0))
    return dg.MaterializeResult(
        metadata={
            # Numeric KPIs: the UI plots them over materializations.
            "monthly_savings": dg.MetadataValue.float(round(monthly, 2)),
            "annual_savings": dg.MetadataValue.float(round(annual, 2)),
            **{
                f"monthly_savings_{category.lower()}": dg.MetadataValue.float(round(value, 2))
                for category, value in by_category.items()
            },
            "recommendations": dg.MetadataValue.int(total_count),
            "linked_share_pct": dg.MetadataValue.float(_share(linked_count, total_count)),
            "unit": dg.MetadataValue.text(reporting.currency),
            "preview": markdown_preview(
                pa.Table.from_pylist(top).select(
                    ["category", "impact", "project_code", "recommendations", "monthly_savings"]
                )
                if top
                else pa.table({}),
                limit=15,
            ),
        }
    )
