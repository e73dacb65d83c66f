"""New critical data-quality issues, as drafts of Notion Action pages (DESIGN §6 and §8).

Critical = a failed rule of ERROR severity in the latest evaluation of `gold.data_quality_issues` (key
violations, a DQ score under the threshold). The sensor remembers which ones were already open, so each issue
yields one draft when it first appears, and again only after it was resolved and came back.

The Notion write-back (create an Action page looked up by its `Source ID` first, DESIGN §8) is not built yet:
the sensor logs the drafts and reports them in its skip reason. `ActionDraft` is what the write-back will
take; plugging it in means requesting its job here instead of skipping.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import dagster as dg

from ppm_assets.tables import DATA_QUALITY_ISSUES
from ppm_resources.lakehouse import Lakehouse, sql_string
from ppm_sensors.action_drafts import ActionDraft, listed_titles

ISSUES_TABLE = DATA_QUALITY_ISSUES.name


def action_drafts(rows: Iterable[dict]) -> dict[str, ActionDraft]:
    """Drafts for the critical issues among one evaluation's rows, by source id."""
    drafts: dict[str, ActionDraft] = {}
    for row in rows:
        if row["passed"] or row["severity"] != "ERROR":
            continue
        source_id = f"dq:{row['rule']}:{row['asset']}"
        drafts[source_id] = ActionDraft(
            source_id=source_id,
            title=f"Fix data quality: {row['rule']} on {row['asset']} ({row['failing_rows']} rows)",
            detail=row["message"] or "",
            asset=row["asset"],
            sample_urls=tuple(url for url in row["sample_urls"] or [] if url),
        )
    return drafts


@dataclass
class DqActionsCursor:
    evaluation_id: str | None = None
    open_issues: tuple[str, ...] = ()

    def dumps(self) -> str:
        return json.dumps({"evaluation_id": self.evaluation_id, "open_issues": list(self.open_issues)})

    @classmethod
    def loads(cls, cursor: str | None) -> DqActionsCursor:
        try:
            value = json.loads(cursor) if cursor else {}
        except json.JSONDecodeError:
            value = {}
        if not isinstance(value, dict):
            return cls()
        evaluation_id = value.get("evaluation_id")
        issues = value.get("open_issues")
        return cls(
            evaluation_id=evaluation_id if isinstance(evaluation_id, str) else None,
            open_issues=tuple(str(i) for i in issues) if isinstance(issues, list) else (),
        )


def latest_evaluation(lakehouse: Lakehouse) -> tuple[str | None, list[dict]]:
    """The newest evaluation id of the issues table and its rows (None, [] before the first one)."""
    if not lakehouse.exists(ISSUES_TABLE):
        return None, []
    latest = lakehouse.query(
        f"SELECT max_by(evaluation_id, detected_at) AS evaluation_id FROM {ISSUES_TABLE}"
    ).to_pylist()[0]["evaluation_id"]
    if latest is None:
        return None, []
    rows = lakehouse.query(
        f"SELECT * FROM {ISSUES_TABLE} WHERE evaluation_id = {sql_string(latest)}"
    ).to_pylist()
    return latest, rows


@dg.sensor(
    name="dq_critical_issues_to_actions",
    minimum_interval_seconds=120,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Turns new critical DQ issues (failed ERROR rules of the latest gold.data_quality_issues "
    "evaluation) into Notion Action drafts. The Notion write-back is not built yet: the drafts are logged "
    "and listed in the skip reason.",
)
def dq_critical_issues_to_actions(context: dg.SensorEvaluationContext, lakehouse: Lakehouse) -> dg.SkipReason:
    previous = DqActionsCursor.loads(context.cursor)
    evaluation_id, rows = latest_evaluation(lakehouse)
    if evaluation_id is None or evaluation_id == previous.evaluation_id:
        return dg.SkipReason("no new data-quality evaluation since the last check")
    drafts = action_drafts(rows)
    new = [drafts[key] for key in sorted(drafts) if key not in previous.open_issues]
    context.update_cursor(DqActionsCursor(evaluation_id, tuple(sorted(drafts))).dumps())
    if not new:
        return dg.SkipReason(
            f"evaluation {evaluation_id}: no new critical issue ({len(drafts)} still open, already reported)"
        )
    for draft in new:
        context.log.warning(f"new critical DQ issue {draft.source_id}: {draft.title}. {draft.detail}")
    listed = listed_titles(new)
    return dg.SkipReason(
        f"evaluation {evaluation_id}: {len(new)} new critical issues ({listed}). Notion write-back not built "
        "yet: no Action page created."
    )
