"""The code location's table of contents: every area's assets, the checks, jobs, schedules, sensors, resources.

Each area (`notion`, `finance`, `quality`, `control_room`, `azure`, `writeback`) owns its assets; `ppm_checks` and `ppm_sensors` own
the checks and automation, by the same areas. The Notion mapping is read once, here, and passed to whatever is
built from it. Policies that cut across areas (freshness, automation conditions) are applied here, by selection.
"""

import dagster as dg

import ppm_checks
import ppm_sensors
from ppm_assets import azure, control_room, finance, notion, quality, writeback
from ppm_assets.policies import apply_policies
from ppm_resources import build_resources, load_settings, prepare_process
from ppm_resources.notion.mapping import load_notion_mapping

prepare_process()  # `.env` into the environment (for dg.EnvVar); secrets scrubbed from every log record
mapping = load_notion_mapping()

assets = dg.Definitions.merge(
    notion.build_defs(mapping),
    finance.defs,
    quality.build_defs(mapping),
    control_room.defs,
    azure.defs,
    writeback.build_defs(mapping),
).assets

defs = dg.Definitions.merge(
    dg.Definitions(
        assets=apply_policies(assets or []),
        resources=build_resources(load_settings(mapping=mapping)),
        # Steps run in the run's process: each step is SQL on the engine or one async Notion sync, so a process
        # per step (the multiprocess default) costs a definitions load (~4 s) and buys nothing.
        executor=dg.in_process_executor,
    ),
    ppm_checks.build_defs(mapping),
    ppm_sensors.build_defs(mapping),
)
