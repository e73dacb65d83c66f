"""Notion automation: the sync jobs, the change and deletion sensors (within a minute), the nightly reconciliation.

jobs.py           notion_sync / notion_full_resync / notion_dry_run
change_sensor.py  one probe per database every 30 s; syncs changed databases, heartbeat for quiet ones
deletions.py      lists live page ids (within a share of the rate limit); syncs what vanished from Notion
schedules.py      notion_daily_reconciliation (02:00 UTC)
webhooks.py       optional: syncs the pages Notion's webhooks named (events stored by `ppm serve-webhooks`)
"""

import dagster as dg

from ppm_resources.notion.mapping import NotionMapping
from ppm_sensors.notion.change_sensor import build_notion_change_sensor
from ppm_sensors.notion.deletions import build_notion_deletion_sensor
from ppm_sensors.notion.jobs import jobs
from ppm_sensors.notion.schedules import build_daily_reconciliation
from ppm_sensors.notion.webhooks import build_notion_webhook_sensor


def build_defs(mapping: NotionMapping) -> dg.Definitions:
    return dg.Definitions(
        jobs=jobs,
        schedules=[build_daily_reconciliation(mapping)],
        sensors=[
            build_notion_change_sensor(mapping),
            build_notion_deletion_sensor(mapping),
            build_notion_webhook_sensor(mapping),
        ],
    )
