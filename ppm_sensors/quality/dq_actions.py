"""New critical data-quality issues -> `create_notion_action` runs, one per issue (DESIGN §6 and §8).

Critical = a failed rule of ERROR severity in the latest evaluation of `gold.data_quality_issues` (key
violations, a DQ score under the threshold). Each issue has the Source ID `dq:<rule>:<asset>`; on each new
evaluation the sensor requests one write-back run per issue that has no Action yet and no run in flight (run key
= Source ID; see `writeback/requests.py`), at most `MAX_RUNS_PER_TICK` per tick. An issue the ledger shows with a
page is never requested again: one that was resolved and came back finds its Action as it is (a closed Action
stays closed); one whose runs all failed is requested again.
"""

import json
from dataclasses import dataclass

import dagster as dg

from ppm_assets.tables import DATA_QUALITY_ISSUES
from ppm_resources.lakehouse import Lakehouse
from ppm_resources.writeback.drafts import latest_dq_drafts, listed_titles
from ppm_sensors.writeback.jobs import create_notion_action_job
from ppm_sensors.writeback.requests import plan_writebacks

ISSUES_TABLE = DATA_QUALITY_ISSUES.name


@dataclass
class DqActionsCursor:
    evaluation_id: str | None = None
    backlog: bool = False  # pending issues left for the next tick (over the per-tick bound)

    def dumps(self) -> str:
        return json.dumps({"evaluation_id": self.evaluation_id, "backlog": self.backlog})

    @classmethod
    def loads(cls, cursor: str | None) -> "DqActionsCursor":
        try:
            value = json.loads(cursor) if cursor else {}
        except json.JSONDecodeError:
            value = {}
        if not isinstance(value, dict):
            return cls()
        evaluation_id = value.get("evaluation_id")
        return cls(
            evaluation_id=evaluation_id if isinstance(evaluation_id, str) else None,
            backlog=value.get("backlog") is True,
        )


@dg.sensor(
    name="dq_critical_issues_to_actions",
    job=create_notion_action_job,
    minimum_interval_seconds=120,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Turns new critical DQ issues (failed ERROR rules of the latest gold.data_quality_issues "
    "evaluation) into Notion Action pages: one create_notion_action run per issue (run key = its Source ID "
    "dq:<rule>:<asset>), none for an issue whose Action exists or whose run is in flight.",
)
def dq_critical_issues_to_actions(
    context: dg.SensorEvaluationContext, lakehouse: Lakehouse
) -> dg.SensorResult | dg.SkipReason:
    previous = DqActionsCursor.loads(context.cursor)
    evaluation_id, drafts = latest_dq_drafts(lakehouse, ISSUES_TABLE)
    if evaluation_id is None or (evaluation_id == previous.evaluation_id and not previous.backlog):
        return dg.SkipReason("no new data-quality evaluation since the last check")
    plan = plan_writebacks(lakehouse, context.instance, [drafts[key] for key in sorted(drafts)])
    cursor = DqActionsCursor(evaluation_id, bool(plan.backlog)).dumps()
    if not plan.requests:
        context.update_cursor(cursor)
        return dg.SkipReason(
            f"evaluation {evaluation_id}: no critical issue to send ({len(drafts)} open: {len(plan.done)} have an "
            f"Action, {len(plan.in_flight)} being sent)"
        )
    for draft in plan.requested:
        context.log.warning(f"new critical DQ issue {draft.source_id}: {draft.title}. {draft.detail}")
    context.log.info(
        f"evaluation {evaluation_id}: {len(plan.requests)} write-back runs requested ({listed_titles(plan.requested)})"
        + (f"; {len(plan.backlog)} more next tick" if plan.backlog else "")
    )
    return dg.SensorResult(run_requests=plan.requests, cursor=cursor)
