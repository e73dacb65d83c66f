"""The control room: `gold/control_room_status`, the state of every job, asset, schedule and sensor.

asset.py   the asset (the code location comes from the `code_location` resource)
status.py  reading the Dagster instance into status rows (also `ppm status`)
"""

import dagster as dg

from ppm_assets.control_room.asset import control_room_status
from ppm_assets.control_room.status import NEVER_RUN, StatusRow, collect_status, next_tick, to_arrow

defs = dg.Definitions(assets=[control_room_status])

__all__ = [
    "NEVER_RUN",
    "StatusRow",
    "collect_status",
    "control_room_status",
    "defs",
    "next_tick",
    "to_arrow",
]
