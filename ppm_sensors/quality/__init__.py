"""Quality automation: every check on demand (`dq_checks`), and new critical issues as Notion Action drafts.

dq_actions.py  the `dq_critical_issues_to_actions` sensor
"""

import dagster as dg

from ppm_assets.tables import DATA_QUALITY_ISSUES
from ppm_sensors.quality.dq_actions import dq_critical_issues_to_actions
from ppm_sensors.retries import RETRY_TAGS

# Checks computed inside their asset (`gold/data_quality_issues` -> dq_score_meets_threshold) cannot run
# without materializing it; they run with that asset (gold_hourly) instead.
EMBEDDED_CHECKS = dg.AssetSelection.checks_for_assets(DATA_QUALITY_ISSUES.key)
DQ_CHECKS_SELECTION = dg.AssetSelection.all_asset_checks() - EMBEDDED_CHECKS

dq_checks_job = dg.define_asset_job(
    name="dq_checks",
    selection=DQ_CHECKS_SELECTION,
    tags=RETRY_TAGS,
    description="Run every data-quality check against the current tables, materializing nothing.",
)

defs = dg.Definitions(jobs=[dq_checks_job], sensors=[dq_critical_issues_to_actions])
