"""Gold across areas: the unpartitioned gold tables of finance and quality, rebuilt together from silver every
hour, and every gold table at once after a Notion sync removed pages (a trashed project must not wait an hour)."""

from collections.abc import Iterator

import dagster as dg

from ppm_assets.partitions import monthly_periods, range_tags
from ppm_assets.tables import BUDGET_VS_ACTUAL, NOTION_RAW_PAGES
from ppm_sensors.finance import budget_vs_actual_job
from ppm_sensors.notion.jobs import notion_full_resync_job, notion_sync_job
from ppm_sensors.retries import RETRY_TAGS

# `gold/budget_vs_actual` is monthly-partitioned and cannot share a run with unpartitioned assets; it has its
# own hourly schedule in the finance area.
GOLD_HOURLY_SELECTION = (
    dg.AssetSelection.groups("finance", "quality") & dg.AssetSelection.key_prefixes("gold")
) - dg.AssetSelection.assets(BUDGET_VS_ACTUAL.key)

gold_hourly_job = dg.define_asset_job(
    name="gold_hourly",
    selection=GOLD_HOURLY_SELECTION,
    tags=RETRY_TAGS,
    description="Rebuild the hourly gold tables (finance and quality) from silver.",
)

gold_hourly = dg.ScheduleDefinition(
    name="gold_hourly",
    job=gold_hourly_job,
    cron_schedule="0 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Hourly gold (freshness policy: 2 h).",
)


def tombstones_written(instance: dg.DagsterInstance, run_id: str) -> int:
    """Tombstones the bronze sync of run `run_id` wrote (its materialization metadata)."""
    total = 0
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        materialization = record.asset_materialization
        if materialization is None or materialization.asset_key != NOTION_RAW_PAGES.key:
            continue
        value = materialization.metadata.get("tombstones")
        total += int(value.value) if value is not None and isinstance(value.value, int) else 0
    return total


@dg.run_status_sensor(
    name="gold_after_notion_deletions",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[notion_sync_job, notion_full_resync_job],
    request_jobs=[gold_hourly_job, budget_vs_actual_job],
    minimum_interval_seconds=10,  # it only reads the finished run's events: cheap, and gold waits on it
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After a Notion sync that tombstoned pages (trashed, deleted, moved), rebuild every gold table "
    "at once: hourly gold, and every month of gold/budget_vs_actual.",
)
def gold_after_notion_deletions(
    context: dg.RunStatusSensorContext,
) -> Iterator[dg.RunRequest | dg.SkipReason]:
    run = context.dagster_run
    tombstones = tombstones_written(context.instance, run.run_id)
    if tombstones == 0:
        yield dg.SkipReason(f"run {run.run_id[:8]} removed no Notion page")
        return
    context.log.info(f"run {run.run_id[:8]} wrote {tombstones} tombstones: rebuilding gold")
    tags = {"ppm/trigger": "notion_deletion", "ppm/after_run": run.run_id}
    yield dg.RunRequest(run_key=f"gold_hourly:after:{run.run_id}", job_name=gold_hourly_job.name, tags=tags)
    months = monthly_periods.get_partition_keys()
    yield dg.RunRequest(
        run_key=f"budget_vs_actual:after:{run.run_id}",
        job_name=budget_vs_actual_job.name,
        tags={**tags, **range_tags(months[0], months[-1])},
    )


defs = dg.Definitions(jobs=[gold_hourly_job], schedules=[gold_hourly], sensors=[gold_after_notion_deletions])
