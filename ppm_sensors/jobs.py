"""Jobs users run from the UI/CLI (DESIGN §6): sync, full resync, dry run, DQ checks, gold, control room."""

import dagster as dg

BRONZE_OP = "bronze__notion_raw_pages"

# Run retries (dagster.yaml `run_retries`) re-execute from the failed step, not from scratch.
RETRY_TAGS = {"dagster/max_retries": "2", "dagster/retry_strategy": "FROM_FAILURE"}

# Bronze plus the silver Notion tables (not gold); `ppm sync` runs the same selection.
NOTION_SELECTION_TEXT = 'key:"bronze/notion_raw_pages"+ and group:notion'
NOTION_SELECTION = dg.AssetSelection.from_string(NOTION_SELECTION_TEXT)

# Gold refreshed every hour: the unpartitioned gold tables of finance and quality. `gold/budget_vs_actual`
# is monthly-partitioned and cannot share a run with unpartitioned assets; it has its own cadence.
PARTITIONED_GOLD = dg.AssetSelection.assets(["gold", "budget_vs_actual"])
GOLD_HOURLY_SELECTION = (
    dg.AssetSelection.groups("finance", "quality") & dg.AssetSelection.key_prefixes("gold")
) - PARTITIONED_GOLD


def _bronze_config(**fields: bool) -> dict:
    return {"ops": {BRONZE_OP: {"config": fields}}}


FULL_SYNC_CONFIG = _bronze_config(full_sync=True)

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
    config=_bronze_config(dry_run=True),
    tags=RETRY_TAGS,
    description="Fetch and validate the selected databases; write nothing (counts logged as observations).",
)

# Checks computed inside their asset (`gold/data_quality_issues` -> dq_score_meets_threshold) cannot run
# without materializing it; they run with that asset (gold_hourly) instead.
EMBEDDED_CHECKS = dg.AssetSelection.checks_for_assets(dg.AssetKey(["gold", "data_quality_issues"]))
DQ_CHECKS_SELECTION = dg.AssetSelection.all_asset_checks() - EMBEDDED_CHECKS

dq_checks_job = dg.define_asset_job(
    name="dq_checks",
    selection=DQ_CHECKS_SELECTION,
    tags=RETRY_TAGS,
    description="Run every data-quality check against the current tables, materializing nothing.",
)

budget_vs_actual_job = dg.define_asset_job(
    name="budget_vs_actual",
    selection=PARTITIONED_GOLD,
    tags=RETRY_TAGS,
    description="Rebuild gold/budget_vs_actual: every month in one run (one query, a partition write per month).",
)

gold_hourly_job = dg.define_asset_job(
    name="gold_hourly",
    selection=GOLD_HOURLY_SELECTION,
    tags=RETRY_TAGS,
    description="Rebuild the hourly gold tables (finance and quality) from silver.",
)

reference_data_job = dg.define_asset_job(
    name="reference_data",
    selection=dg.AssetSelection.assets(["silver", "fx_rates"]),
    description="Reload reference data (FX rates) from config/.",
)

CONTROL_ROOM_SELECTION = dg.AssetSelection.groups("control_room")

control_room_job = dg.define_asset_job(
    name="control_room",
    selection=CONTROL_ROOM_SELECTION,
    description="Snapshot the state of every job, asset, schedule and sensor into gold.control_room_status.",
)

jobs = [
    notion_sync_job,
    notion_full_resync_job,
    notion_dry_run_job,
    dq_checks_job,
    gold_hourly_job,
    budget_vs_actual_job,
    reference_data_job,
    control_room_job,
]
