"""The code location: every asset, check, job, schedule, sensor and resource, merged in one place."""

import dagster as dg

import ppm_checks
import ppm_sensors
from ppm_assets import bronze, control_room, gold, silver
from ppm_resources import build_resources

defs = dg.Definitions.merge(
    dg.Definitions(
        # Freshness policies (DESIGN §6) are applied here, in one place, not on each asset.
        assets=ppm_sensors.apply_freshness(
            [*bronze.assets, *silver.assets, *gold.assets, *gold.quality_assets, *control_room.assets]
        ),
        resources=build_resources(),
        # Steps run in the run's process: each step is SQL on DuckDB/Databricks or one async Notion sync, so
        # a process per step (the multiprocess default) costs a definitions load (~4 s) and buys nothing.
        executor=dg.in_process_executor,
    ),
    ppm_checks.defs,
    ppm_sensors.defs,
)
