"""Notion automation: the sync jobs, the change sensor (edits within a minute) and the nightly reconciliation.

jobs.py           notion_sync / notion_full_resync / notion_dry_run
change_sensor.py  one probe per database every 30 s; syncs changed databases, heartbeat for quiet ones
schedules.py      notion_daily_reconciliation (02:00 UTC)
"""

import dagster as dg

from ppm_resources.notion.mapping import NotionMapping
from ppm_sensors.notion.change_sensor import build_notion_change_sensor
from ppm_sensors.notion.jobs import jobs
from ppm_sensors.notion.schedules import build_daily_reconciliation


def build_defs(mapping: NotionMapping) -> dg.Definitions:
    return dg.Definitions(
        jobs=jobs,
        schedules=[build_daily_reconciliation(mapping)],
        sensors=[build_notion_change_sensor(mapping)],
    )
