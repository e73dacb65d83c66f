"""Jobs, schedules and sensors; `defs` is this package's piece.

jobs.py           notion_sync / notion_full_resync / notion_dry_run / dq_checks / gold_hourly / budget_vs_actual /
                  reference_data / control_room
schedules.py      daily Notion reconciliation (02:00 UTC), hourly gold and budget_vs_actual, daily reference data,
                  control room (15 min)
notion_change.py  Notion change sensor (one probe per database; syncs changed databases, heartbeat for quiet ones)
alerting.py       run failure sensor (JSON log line + optional Slack/Teams webhook)
run_errors.py     root-cause messages of failed runs (alerts, control room)
dq_actions.py     new critical DQ issues -> Notion Action drafts (the write-back is not built yet)
automation.py     the AutomationConditionSensor evaluating `automation_condition`s
freshness.py      DESIGN §6 freshness policies: `apply_freshness(assets)`
"""

import dagster as dg

from ppm_sensors.alerting import run_failure_alert
from ppm_sensors.automation import automation_sensor
from ppm_sensors.dq_actions import dq_critical_issues_to_actions
from ppm_sensors.freshness import FRESHNESS_RULES, apply_freshness, freshness_policy_for, with_freshness
from ppm_sensors.jobs import jobs
from ppm_sensors.notion_change import notion_change_sensor
from ppm_sensors.schedules import schedules

defs = dg.Definitions(
    jobs=jobs,
    schedules=schedules,
    sensors=[notion_change_sensor, run_failure_alert, automation_sensor, dq_critical_issues_to_actions],
)

__all__ = ["FRESHNESS_RULES", "apply_freshness", "defs", "freshness_policy_for", "with_freshness"]
