"""`gold/forecast`: per live project, estimate at completion from the recent burn rate, month by month."""

import dagster as dg

from ppm_assets.finance.marts import (
    FINANCE_INPUTS,
    GROUP,
    KINDS,
    OWNERS,
    AsOfConfig,
    ReportingCurrency,
    money,
    silver_deps,
)
from ppm_assets.metadata import markdown_preview, table_metadata
from ppm_assets.tables import FORECAST
from ppm_resources.lakehouse import Lakehouse, load_sql

TABLE = FORECAST.name
SQL = FORECAST.sql


@dg.asset(
    key=FORECAST.key,
    deps=silver_deps(*FINANCE_INPUTS),
    group_name=GROUP,
    kinds=KINDS,
    owners=OWNERS,
    code_version="1",
    description=(
        "Per live project, as of a reference date: estimate at completion = actual to date + average monthly "
        "actual of the last 3 months x months left, projected overrun against the budget total, and the "
        "projected cumulative spend for each month up to the end date (docs/data-dictionary.md, section Gold finance marts)."
    ),
    metadata={"sql": f"sql/{SQL}"},
)
def forecast(
    context: dg.AssetExecutionContext,
    config: AsOfConfig,
    lakehouse: Lakehouse,
    reporting: ReportingCurrency,
) -> dg.MaterializeResult:
    as_of = config.as_of_date()
    params = {"as_of": as_of.isoformat(), "reporting_currency": reporting.currency}
    write = lakehouse.replace(TABLE, load_sql(SQL), params=params)
    projects = f"SELECT * FROM {TABLE} WHERE months_ahead = 0"  # one row per project
    summary = lakehouse.query(
        f"""
        SELECT
          count(*) AS projects,
          sum(budget_total) AS total_budget,
          sum(actual_to_date) AS total_actual_to_date,
          sum(estimate_at_completion) AS total_eac,
          sum(CASE WHEN projected_overrun > 0 THEN projected_overrun ELSE 0 END) AS total_projected_overrun,
          count_if(projected_overrun > 0) AS projects_overrunning
        FROM ({projects})
        """
    ).to_pylist()[0]
    top = lakehouse.query(
        f"SELECT project_name, budget_total, actual_to_date, monthly_burn_rate, remaining_months, "
        f"estimate_at_completion, projected_overrun, projected_overrun_pct FROM ({projects}) "
        "ORDER BY projected_overrun DESC NULLS LAST, project_name LIMIT 10"
    )
    context.log.info(
        "%s as of %s: %d projects, EAC %s, projected overrun %s %s",
        TABLE,
        as_of,
        summary["projects"],
        summary["total_eac"],
        summary["total_projected_overrun"],
        reporting.currency,
    )
    return dg.MaterializeResult(
        metadata={
            **table_metadata(lakehouse, TABLE, write),
            "as_of": dg.MetadataValue.text(as_of.isoformat()),
            "unit": dg.MetadataValue.text(reporting.currency),
            "projects": dg.MetadataValue.int(summary["projects"]),
            "total_budget": dg.MetadataValue.float(money(summary["total_budget"])),
            "total_actual_to_date": dg.MetadataValue.float(money(summary["total_actual_to_date"])),
            "total_estimate_at_completion": dg.MetadataValue.float(money(summary["total_eac"])),
            "total_projected_overrun": dg.MetadataValue.float(money(summary["total_projected_overrun"])),
            "projects_overrunning": dg.MetadataValue.int(summary["projects_overrunning"]),
            "preview": markdown_preview(top),
        }
    )
