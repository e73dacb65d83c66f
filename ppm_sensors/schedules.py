"""Schedules (DESIGN §6): daily Notion reconciliation, hourly gold (and budget vs actual), daily reference data, control room."""

import dagster as dg

from ppm_assets.partitions import monthly_periods, range_tags
from ppm_resources.notion_mapping import load_notion_mapping
from ppm_sensors.jobs import (
    FULL_SYNC_CONFIG,
    budget_vs_actual_job,
    control_room_job,
    gold_hourly_job,
    notion_full_resync_job,
    reference_data_job,
)


@dg.schedule(
    name="notion_daily_reconciliation",
    job=notion_full_resync_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Nightly full resync of every Notion database in one run (the bronze asset's single-run "
    "backfill policy syncs them concurrently under one rate limiter): catches deletions and formula drift.",
)
def notion_daily_reconciliation(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    names = load_notion_mapping().names
    day = context.scheduled_execution_time.strftime("%Y-%m-%d") if context.scheduled_execution_time else ""
    return dg.RunRequest(
        run_key=f"reconciliation:{day}",
        run_config=FULL_SYNC_CONFIG,
        tags={**range_tags(names[0], names[-1]), "ppm/trigger": "daily_reconciliation"},
    )


gold_hourly = dg.ScheduleDefinition(
    name="gold_hourly",
    job=gold_hourly_job,
    cron_schedule="0 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Hourly gold (freshness policy: 2 h).",
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

control_room_every_15_min = dg.ScheduleDefinition(
    name="control_room_every_15_min",
    job=control_room_job,
    cron_schedule="*/15 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Refresh gold.control_room_status (freshness policy: 30 min).",
)

schedules = [
    notion_daily_reconciliation,
    gold_hourly,
    budget_vs_actual_hourly,
    reference_data_daily,
    control_room_every_15_min,
]
