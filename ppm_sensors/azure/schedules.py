"""Daily Azure schedules (the seed's cadence): ingest every subscription at 06:00 UTC, transform at 06:30."""

from datetime import datetime

import dagster as dg

from ppm_assets.partitions import azure_subscriptions
from ppm_sensors.azure.jobs import azure_ingest_job, azure_transform_job


def _day(context: dg.ScheduleEvaluationContext) -> str:
    moment = context.scheduled_execution_time or datetime.now()
    return moment.strftime("%Y-%m-%d")


@dg.schedule(
    name="azure_ingest_daily",
    job=azure_ingest_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="06:00 UTC: one ingest run per subscription (partition), so one unreadable subscription fails "
    "alone; the pool `azure_api` runs them one at a time within the Resource Graph quota.",
)
def azure_ingest_daily(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest] | dg.SkipReason:
    day = _day(context)
    subscriptions = context.instance.get_dynamic_partitions(azure_subscriptions.name)
    if not subscriptions:
        return dg.SkipReason("no Azure subscription discovered yet (sensor azure_subscription_discovery)")
    return [
        dg.RunRequest(run_key=f"{day}:{subscription}", partition_key=subscription)
        for subscription in sorted(subscriptions)
    ]


@dg.schedule(
    name="azure_transform_daily",
    job=azure_transform_job,
    cron_schedule="30 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="06:30 UTC: silver and gold Azure tables from each subscription's latest snapshot.",
)
def azure_transform_daily(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return dg.RunRequest(run_key=f"azure_transform:{_day(context)}")
