"""Control room automation: `gold/control_room_status` every 15 minutes."""

import dagster as dg

from ppm_assets.tables import CONTROL_ROOM_STATUS

control_room_job = dg.define_asset_job(
    name="control_room",
    selection=dg.AssetSelection.assets(CONTROL_ROOM_STATUS.key),
    description="Snapshot the state of every job, asset, schedule and sensor into gold.control_room_status.",
)

control_room_every_15_min = dg.ScheduleDefinition(
    name="control_room_every_15_min",
    job=control_room_job,
    cron_schedule="*/15 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Refresh gold.control_room_status (freshness policy: 30 min).",
)

defs = dg.Definitions(jobs=[control_room_job], schedules=[control_room_every_15_min])
