"""Azure automation: subscription discovery (dynamic partitions), daily ingest and transform, Advisor drafts.

jobs.py             azure_ingest (bronze, per subscription), azure_transform (silver and gold)
schedules.py        azure_ingest_daily 06:00 UTC, azure_transform_daily 06:30 UTC
discovery.py        azure_subscription_discovery: adds/removes subscription partitions
advisor_actions.py  High-impact recommendations -> Notion Action drafts
"""

import dagster as dg

from ppm_sensors.azure.advisor_actions import advisor_high_impact_to_actions
from ppm_sensors.azure.discovery import azure_subscription_discovery
from ppm_sensors.azure.jobs import azure_ingest_job, azure_transform_job
from ppm_sensors.azure.schedules import azure_ingest_daily, azure_transform_daily

defs = dg.Definitions(
    jobs=[azure_ingest_job, azure_transform_job],
    schedules=[azure_ingest_daily, azure_transform_daily],
    sensors=[azure_subscription_discovery, advisor_high_impact_to_actions],
)
