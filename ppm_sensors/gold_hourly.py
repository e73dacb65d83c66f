"""Hourly gold across areas: the unpartitioned gold tables of finance and quality, rebuilt together from silver."""

import dagster as dg

from ppm_assets.tables import BUDGET_VS_ACTUAL
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

defs = dg.Definitions(jobs=[gold_hourly_job], schedules=[gold_hourly])
