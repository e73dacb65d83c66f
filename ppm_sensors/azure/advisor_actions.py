"""New High-impact Advisor recommendations -> `create_notion_action` runs, one per recommendation (DESIGN §6, §8).

Each High-impact recommendation of `silver.advisor_recommendations` has the Source ID
`advisor:<recommendation id>`; on each new version of the table the sensor requests one write-back run per
recommendation that has no Action yet and no run in flight (run key = Source ID; see `writeback/requests.py`), at
most `MAX_RUNS_PER_TICK` per tick. One that Azure resolved and that came back finds its Action as it is.
"""

import json

import dagster as dg

from ppm_assets.tables import ADVISOR_RECOMMENDATIONS
from ppm_resources.lakehouse import Lakehouse
from ppm_resources.writeback.drafts import high_impact_advisor_drafts, listed_titles
from ppm_sensors.writeback.jobs import create_notion_action_job
from ppm_sensors.writeback.requests import plan_writebacks


def _load(cursor: str | None) -> tuple[int | None, bool]:
    try:
        value = json.loads(cursor) if cursor else {}
    except json.JSONDecodeError:
        value = {}
    if not isinstance(value, dict):
        return None, False
    version = value.get("version")
    return version if isinstance(version, int) else None, value.get("backlog") is True


@dg.sensor(
    name="advisor_high_impact_to_actions",
    job=create_notion_action_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Turns new High-impact Azure Advisor recommendations (silver.advisor_recommendations) into Notion "
    "Action pages: one create_notion_action run per recommendation (run key = its Source ID advisor:<id>), none "
    "for one whose Action exists or whose run is in flight.",
)
def advisor_high_impact_to_actions(
    context: dg.SensorEvaluationContext, lakehouse: Lakehouse
) -> dg.SensorResult | dg.SkipReason:
    table = ADVISOR_RECOMMENDATIONS.name
    if not lakehouse.exists(table):
        return dg.SkipReason(f"{table} does not exist yet")
    version = lakehouse.version(table)
    previous_version, backlog = _load(context.cursor)
    if version == previous_version and not backlog:
        return dg.SkipReason(f"{table} unchanged since the last check (version {version})")
    drafts = high_impact_advisor_drafts(lakehouse, table, asset=ADVISOR_RECOMMENDATIONS.path)
    plan = plan_writebacks(lakehouse, context.instance, [drafts[s] for s in sorted(drafts)])
    cursor = json.dumps({"version": version, "backlog": bool(plan.backlog)})
    if not plan.requests:
        context.update_cursor(cursor)
        return dg.SkipReason(
            f"version {version}: no High-impact recommendation to send ({len(drafts)} open: {len(plan.done)} have "
            f"an Action, {len(plan.in_flight)} being sent)"
        )
    for draft in plan.requested:
        context.log.warning(f"new High-impact Advisor recommendation {draft.source_id}: {draft.title}")
    context.log.info(
        f"version {version}: {len(plan.requests)} write-back runs requested ({listed_titles(plan.requested)})"
        + (f"; {len(plan.backlog)} more next tick" if plan.backlog else "")
    )
    return dg.SensorResult(run_requests=plan.requests, cursor=cursor)
