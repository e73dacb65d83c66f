"""Finance automation: `gold/budget_vs_actual` every hour (all months in one run) and the daily FX reload."""

import dagster as dg

from ppm_assets.partitions import monthly_periods, range_tags
from ppm_assets.tables import BUDGET_VS_ACTUAL, FX_RATES
from ppm_sensors.retries import RETRY_TAGS

budget_vs_actual_job = dg.define_asset_job(
    name="budget_vs_actual",
    selection=dg.AssetSelection.assets(BUDGET_VS_ACTUAL.key),
    tags=RETRY_TAGS,
    description="Rebuild gold/budget_vs_actual: every month in one run (one query, a partition write per month).",
)

reference_data_job = dg.define_asset_job(
    name="reference_data",
    selection=dg.AssetSelection.assets(FX_RATES.key),
    description="Reload reference data (FX rates) from config/.",
)


@dg.schedule(
    name="budget_vs_actual_hourly",
    job=budget_vs_actual_job,
    cron_schedule="5 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Hourly, after the gold_hourly tick: every month of gold/budget_vs_actual in one run (a budget "
    "line edited today can move any month's budget or actual).",
)
def budget_vs_actual_hourly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    months = monthly_periods.get_partition_keys(current_time=context.scheduled_execution_time)
    hour = (
        context.scheduled_execution_time.strftime("%Y-%m-%dT%H") if context.scheduled_execution_time else ""
    )
    return dg.RunRequest(
        run_key=f"budget_vs_actual:{hour}",
        tags={**range_tags(months[0], months[-1]), "ppm/trigger": "hourly"},
    )


reference_data_daily = dg.ScheduleDefinition(
    name="reference_data_daily",
    job=reference_data_job,
    cron_schedule="0 5 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="FX rates change monthly; a daily reload picks up config edits without anyone remembering.",
)

defs = dg.Definitions(
    jobs=[budget_vs_actual_job, reference_data_job],
    schedules=[budget_vs_actual_hourly, reference_data_daily],
)
