"""Notion jobs users run from the UI/CLI (DESIGN §6): sync, full resync, dry run of the selected databases."""

import dagster as dg

from ppm_assets.tables import NOTION_RAW_PAGES
from ppm_resources.notion.errors import NotionError
from ppm_resources.resilience import CircuitOpenError, RetriesExhaustedError, WaitTooLongError
from ppm_resources.run_tags import DRY_RUN_TAG
from ppm_sensors.retries import RETRY_TAGS

BRONZE_OP = NOTION_RAW_PAGES.op_name

# Bronze plus the silver Notion tables (not gold); `ppm sync` runs the same selection.
NOTION_SELECTION_TEXT = f'key:"{NOTION_RAW_PAGES.path}"+ and group:notion'
NOTION_SELECTION = dg.AssetSelection.from_string(NOTION_SELECTION_TEXT)


#: Client options for a sensor's Notion requests: a tick has 60 s (the daemon's evaluation timeout), so a long
#: Retry-After or a retry storm fails the request at once and the tick says why, instead of timing out silently.
SENSOR_CLIENT = {
    "max_retry_after_s": 10.0,
    "deadline_s": 40.0,
    "max_retry_after_name": "a sensor tick's limit",
    "deadline_name": "a sensor tick's deadline (s)",
}


#: What a sensor's Notion requests may raise that ends the tick with a skip reason (an answer or a bound, not a bug).
SENSOR_REQUEST_ERRORS = (NotionError, WaitTooLongError, RetriesExhaustedError, CircuitOpenError)


def sync_config(**fields: object) -> dict:
    """Run config of the bronze sync op (`full_sync`, `dry_run`, `page_ids`, `list_pages`)."""
    return {"ops": {BRONZE_OP: {"config": fields}}}


FULL_SYNC_CONFIG = sync_config(full_sync=True)

notion_sync_job = dg.define_asset_job(
    name="notion_sync",
    selection=NOTION_SELECTION,
    tags=RETRY_TAGS,
    description="Incremental sync of the selected Notion databases (partitions) into bronze, then silver.",
)

notion_full_resync_job = dg.define_asset_job(
    name="notion_full_resync",
    selection=NOTION_SELECTION,
    config=FULL_SYNC_CONFIG,
    tags=RETRY_TAGS,
    description="Full resync: ignore watermarks, read every page, reconcile trashed/deleted pages and "
    "formula/rollup values.",
)

notion_dry_run_job = dg.define_asset_job(
    name="notion_dry_run",
    selection=NOTION_SELECTION,
    config=sync_config(dry_run=True),
    tags={**RETRY_TAGS, DRY_RUN_TAG: "true"},
    description="Fetch and validate the selected databases; write nothing (counts logged as observations).",
)

jobs = [notion_sync_job, notion_full_resync_job, notion_dry_run_job]
