"""The nightly Notion reconciliation (DESIGN §4.1): a full resync of every database in one run."""

import dagster as dg

from ppm_assets.partitions import range_tags
from ppm_resources.notion.mapping import NotionMapping
from ppm_sensors.notion.jobs import FULL_SYNC_CONFIG, notion_full_resync_job


def build_daily_reconciliation(mapping: NotionMapping) -> dg.ScheduleDefinition:
    names = mapping.names

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
        day = (
            context.scheduled_execution_time.strftime("%Y-%m-%d") if context.scheduled_execution_time else ""
        )
        return dg.RunRequest(
            run_key=f"reconciliation:{day}",
            run_config=FULL_SYNC_CONFIG,
            tags={**range_tags(names[0], names[-1]), "ppm/trigger": "daily_reconciliation"},
        )

    return notion_daily_reconciliation
