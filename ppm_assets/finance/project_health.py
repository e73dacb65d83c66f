"""`gold/project_health`: per live project a 0-100 health score and RAG, with the drivers as columns."""

import dagster as dg

from ppm_assets.finance.marts import (
    FINANCE_INPUTS,
    GROUP,
    KINDS,
    OWNERS,
    AsOfConfig,
    ReportingCurrency,
    silver_deps,
)
from ppm_assets.metadata import markdown_preview, table_metadata
from ppm_assets.tables import PROJECT_HEALTH
from ppm_resources.lakehouse import Lakehouse, load_sql

TABLE = PROJECT_HEALTH.name
SQL = PROJECT_HEALTH.sql


@dg.asset(
    key=PROJECT_HEALTH.key,
    deps=silver_deps(*FINANCE_INPUTS, "risks", "actions"),
    group_name=GROUP,
    kinds=KINDS,
    owners=OWNERS,
    code_version="1",
    description=(
        "Per live project, as of a reference date: a 0-100 health score and RAG (green >= 75, amber >= 50, "
        "red < 50) from budget burn vs elapsed time, open risks (severity x probability), overdue actions "
        "and schedule slip; each driver and its penalty is a column (docs/data-dictionary.md, section Gold finance marts)."
    ),
    metadata={"sql": f"sql/{SQL}"},
)
def project_health(
    context: dg.AssetExecutionContext,
    config: AsOfConfig,
    lakehouse: Lakehouse,
    reporting: ReportingCurrency,
) -> dg.MaterializeResult:
    as_of = config.as_of_date()
    params = {"as_of": as_of.isoformat(), "reporting_currency": reporting.currency}
    write = lakehouse.replace(TABLE, load_sql(SQL), params=params)
    summary = lakehouse.query(
        f"""
        SELECT
          count_if(rag = 'red') AS red,
          count_if(rag = 'amber') AS amber,
          count_if(rag = 'green') AS green,
          avg(health_score) AS average_score
        FROM {TABLE}
        """
    ).to_pylist()[0]
    worst = lakehouse.query(
        f"SELECT project_name, health_score, rag, burn_ratio, elapsed_ratio, risk_exposure, overdue_actions, "
        f"schedule_slip_days FROM {TABLE} ORDER BY health_score, project_name LIMIT 10"
    )
    context.log.info(
        "%s as of %s: %d red, %d amber, %d green",
        TABLE,
        as_of,
        summary["red"],
        summary["amber"],
        summary["green"],
    )
    return dg.MaterializeResult(
        metadata={
            **table_metadata(lakehouse, TABLE, write),
            "as_of": dg.MetadataValue.text(as_of.isoformat()),
            "unit": dg.MetadataValue.text(reporting.currency),
            "projects_red": dg.MetadataValue.int(summary["red"]),
            "projects_amber": dg.MetadataValue.int(summary["amber"]),
            "projects_green": dg.MetadataValue.int(summary["green"]),
            "average_health_score": dg.MetadataValue.float(round(float(summary["average_score"] or 0.0), 1)),
            "preview": markdown_preview(worst),
        }
    )
