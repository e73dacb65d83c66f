"""`gold/budget_vs_actual`: budget, actual, variance by program, project and category, one partition a month."""

from collections import Counter
from datetime import date

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc

from ppm_assets.finance.exclusions import EXCLUSION_REASONS, EXCLUSIONS_SQL
from ppm_assets.finance.marts import (
    FINANCE_INPUTS,
    GROUP,
    KINDS,
    OWNERS,
    ReportingCurrency,
    money,
    silver_deps,
)
from ppm_assets.metadata import markdown_preview, table_metadata
from ppm_assets.partitions import monthly_periods
from ppm_assets.tables import BUDGET_VS_ACTUAL
from ppm_resources.lakehouse import Lakehouse, load_sql

TABLE = BUDGET_VS_ACTUAL.name
SQL = BUDGET_VS_ACTUAL.sql


def period_totals(rows: pa.Table) -> dict[str, object]:
    """Budget, actual and variance of one month's rows (over programs; every dimension sums the same)."""
    programs = rows.filter(pc.equal(rows["dimension"], "program"))

    def total(metric: str) -> object:
        values = programs.filter(pc.equal(programs["metric_name"], metric))["value"]
        return pc.sum(values).as_py() if len(values) else None

    projects = rows.filter(
        pc.and_(pc.equal(rows["dimension"], "project"), pc.equal(rows["metric_name"], "budget"))
    )
    return {
        "total_budget": total("budget"),
        "total_actual": total("actual"),
        "total_variance": total("variance"),
        "projects": projects.num_rows,
    }


def exclusions_by_period(exclusions: pa.Table, period: date) -> Counter[str]:
    """Excluded lines whose budget or actual falls in `period`, counted per reason."""
    counts: Counter[str] = Counter()
    for row in exclusions.select(["reason", "budget_period", "actual_period"]).to_pylist():
        if period in (row["budget_period"], row["actual_period"]):
            counts[row["reason"]] += 1
    return counts


@dg.asset(
    key=BUDGET_VS_ACTUAL.key,
    deps=silver_deps(*FINANCE_INPUTS),
    partitions_def=monthly_periods,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name=GROUP,
    kinds=KINDS,
    owners=OWNERS,
    code_version="1",
    description=(
        "Budget (by committed month), actual (by paid, else invoice month), variance and variance % per "
        "program, project and category, one partition per month (`period`), in the reporting currency. "
        "Archived, orphan, negative, unconvertible and program-less lines are excluded "
        "(sql/gold/budget_vs_actual_exclusions.sql); totals reconcile across dimensions."
    ),
    metadata={"sql": f"sql/{SQL}", "exclusions_sql": f"sql/{EXCLUSIONS_SQL}"},
)
def budget_vs_actual(
    context: dg.AssetExecutionContext, lakehouse: Lakehouse, reporting: ReportingCurrency
) -> dg.MaterializeResult:
    sql = load_sql(SQL)
    currency = reporting.currency
    keys = list(context.partition_keys)  # one key, or every key of a single-run backfill
    exclusions = lakehouse.query(load_sql(EXCLUSIONS_SQL), params={"reporting_currency": currency})
    # One query for the whole range, then one atomic partition write per month from its slice.
    result = lakehouse.query(
        sql, params={"period_start": keys[0], "period_end": keys[-1], "reporting_currency": currency}
    )
    rows_written = 0
    for key in keys:
        period = date.fromisoformat(key)
        month = result.filter(pc.equal(result["period"], pa.scalar(period, pa.date32())))
        write = lakehouse.replace_partition(TABLE, "period", period, month)
        rows_written += write.rows_written
        totals = period_totals(month)
        excluded = exclusions_by_period(exclusions, period)
        programs = month.filter(pc.equal(month["dimension"], "program")).select(
            ["dimension_value", "metric_name", "value", "unit"]
        )
        context.log.info(
            "%s %s: %d rows, budget %s, actual %s %s; %d excluded lines",
            TABLE,
            key,
            write.rows_written,
            totals["total_budget"],
            totals["total_actual"],
            currency,
            sum(excluded.values()),
        )
        context.add_asset_metadata(
            {
                "period_rows": dg.MetadataValue.int(write.rows_written),
                "total_budget": dg.MetadataValue.float(money(totals["total_budget"])),
                "total_actual": dg.MetadataValue.float(money(totals["total_actual"])),
                "total_variance": dg.MetadataValue.float(money(totals["total_variance"])),
                "projects": dg.MetadataValue.int(int(totals["projects"] or 0)),
                "excluded_lines": dg.MetadataValue.int(sum(excluded.values())),
                **{
                    f"excluded_{reason}": dg.MetadataValue.int(excluded[reason])
                    for reason in EXCLUSION_REASONS
                },
                "preview": markdown_preview(
                    programs.rename_columns(["program", "metric_name", "value", "unit"]), limit=40
                ),
            },
            partition_key=key,
        )
    return dg.MaterializeResult(
        metadata={
            **table_metadata(lakehouse, TABLE),
            "rows_written": dg.MetadataValue.int(rows_written),
            "unit": dg.MetadataValue.text(currency),
        }
    )
