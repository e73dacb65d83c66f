"""The control room: `gold/control_room_status`, the state of every job, asset, schedule and sensor."""

from ppm_assets.control_room.asset import control_room_status
from ppm_assets.control_room.status import NEVER_RUN, StatusRow, collect_status, next_tick, to_arrow

assets = [control_room_status]

__all__ = [
    "NEVER_RUN",
    "StatusRow",
    "assets",
    "collect_status",
    "control_room_status",
    "next_tick",
    "to_arrow",
]
