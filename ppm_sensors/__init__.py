"""Jobs, schedules and sensors; `defs` is this package's piece."""

import dagster as dg

reference_data_job = dg.define_asset_job(
    name="reference_data",
    selection=dg.AssetSelection.assets(["silver", "fx_rates"]),
    description="Reload reference data (FX rates) from config/.",
)

reference_data_daily = dg.ScheduleDefinition(
    name="reference_data_daily",
    job=reference_data_job,
    cron_schedule="0 5 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="FX rates change monthly; a daily reload picks up config edits without anyone remembering.",
)

defs = dg.Definitions(jobs=[reference_data_job], schedules=[reference_data_daily])
