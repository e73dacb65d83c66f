"""Jobs, schedules and sensors, one folder per area plus what crosses areas; `build_defs` is this package's piece.

notion/         notion_sync / notion_full_resync / notion_dry_run, the change sensor, the nightly reconciliation
finance/        budget_vs_actual (hourly, all months), reference_data (daily FX reload)
quality/        dq_checks (every check, nothing materialized), new critical DQ issues -> Notion Action runs
control_room/   gold/control_room_status every 15 minutes
azure/          subscription discovery (dynamic partitions), daily ingest 06:00 and transform 06:30, Advisor actions
writeback/      create_notion_action (Launchpad form or pending drafts), drafts -> run requests (run key = Source ID)
gold_hourly.py  the unpartitioned gold tables of finance and quality, hourly
alerting.py     run failure sensor (JSON log line + optional Slack/Teams webhook)
dead_runs.py    runs left in flight by a ppm process that died: marked failed, pool slots freed
automation.py   the AutomationConditionSensor evaluating `automation_condition`s
retries.py      run retry tags of the data jobs
"""

import dagster as dg

from ppm_resources.notion.mapping import NotionMapping
from ppm_sensors import azure, control_room, finance, gold_hourly, notion, quality, writeback
from ppm_sensors.alerting import run_failure_alert
from ppm_sensors.automation import automation_sensor
from ppm_sensors.dead_runs import dead_cli_runs


def build_defs(mapping: NotionMapping) -> dg.Definitions:
    """Every job, schedule and sensor of the product, for the Notion databases of `mapping`."""
    return dg.Definitions.merge(
        notion.build_defs(mapping),
        finance.defs,
        quality.defs,
        control_room.defs,
        azure.defs,
        writeback.defs,
        gold_hourly.defs,
        dg.Definitions(sensors=[run_failure_alert, automation_sensor, dead_cli_runs]),
    )


__all__ = ["build_defs"]
