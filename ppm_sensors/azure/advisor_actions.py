"""New High-impact Advisor recommendations -> `create_notion_action` runs, one per recommendation (DESIGN §6, §8).

Each High-impact recommendation of `silver.advisor_recommendations` has the Source ID
`advisor:<recommendation id>`; the sensor requests one write-back run per new one (run key = Source ID), at most
`MAX_RUNS_PER_TICK` per tick, none for a recommendation whose Action the ledger already shows. One that Azure
resolved and that came back finds its Action as it is.
"""

import hashlib
import json
from collections.abc import Iterable

import dagster as dg

from ppm_assets.tables import ADVISOR_RECOMMENDATIONS
from ppm_resources.lakehouse import Lakehouse
from ppm_resources.writeback.drafts import ActionDraft, high_impact_sql, listed_titles
from ppm_resources.writeback.drafts import advisor_action_drafts as _drafts
from ppm_sensors.writeback.jobs import create_notion_action_job
from ppm_sensors.writeback.requests import plan_writebacks

HIGH_IMPACT_SQL = high_impact_sql(ADVISOR_RECOMMENDATIONS.name)


def advisor_action_drafts(rows: Iterable[dict]) -> dict[str, ActionDraft]:
    """Drafts for High-impact recommendations, by source id (pure)."""
    return _drafts(rows, asset=ADVISOR_RECOMMENDATIONS.path)


def _digest(source_id: str) -> str:
    """Cursor entries are short digests: a tenant can have thousands of open recommendations."""
    return hashlib.sha256(source_id.encode()).hexdigest()[:16]


def _load(cursor: str | None) -> tuple[int | None, set[str], bool]:
    try:
        value = json.loads(cursor) if cursor else {}
    except json.JSONDecodeError:
        value = {}
    if not isinstance(value, dict):
        return None, set(), False
    version = value.get("version")
    seen = value.get("open")
    return (
        version if isinstance(version, int) else None,
        {str(s) for s in seen} if isinstance(seen, list) else set(),
        value.get("backlog") is True,
    )


@dg.sensor(
    name="advisor_high_impact_to_actions",
    job=create_notion_action_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Turns new High-impact Azure Advisor recommendations (silver.advisor_recommendations) into Notion "
    "Action pages: one create_notion_action run per recommendation (run key = its Source ID advisor:<id>), none "
    "for one whose Action already exists.",
)
def advisor_high_impact_to_actions(
    context: dg.SensorEvaluationContext, lakehouse: Lakehouse
) -> dg.SensorResult | dg.SkipReason:
    table = ADVISOR_RECOMMENDATIONS.name
    if not lakehouse.exists(table):
        return dg.SkipReason(f"{table} does not exist yet")
    version = lakehouse.version(table)
    previous_version, previous_open, backlog = _load(context.cursor)
    if version == previous_version and not backlog:
        return dg.SkipReason(f"{table} unchanged since the last check (version {version})")
    drafts = advisor_action_drafts(lakehouse.query(HIGH_IMPACT_SQL).to_pylist())
    digests = {source_id: _digest(source_id) for source_id in drafts}
    new = [drafts[s] for s in sorted(drafts) if digests[s] not in previous_open]
    plan = plan_writebacks(lakehouse, new)
    handled = (previous_open & set(digests.values())) | {digests[s] for s in plan.handled}
    cursor = json.dumps({"version": version, "open": sorted(handled), "backlog": bool(plan.backlog)})
    if not plan.requests:
        context.update_cursor(cursor)
        return dg.SkipReason(
            f"version {version}: no new High-impact recommendation without an Action ({len(drafts)} open, "
            f"{len(plan.done)} newly seen already have one)"
        )
    for draft in plan.requested:
        context.log.warning(f"new High-impact Advisor recommendation {draft.source_id}: {draft.title}")
    context.log.info(
        f"version {version}: {len(plan.requests)} write-back runs requested ({listed_titles(plan.requested)})"
        + (f"; {len(plan.backlog)} more next tick" if plan.backlog else "")
    )
    return dg.SensorResult(run_requests=plan.requests, cursor=cursor)
