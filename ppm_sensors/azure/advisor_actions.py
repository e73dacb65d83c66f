"""High-impact Advisor recommendations, as drafts of Notion Action pages (DESIGN §6 and §8).

Each High-impact recommendation of `silver.advisor_recommendations` yields one draft (`Source ID`
`advisor:<recommendation id>`) when it first appears, and again only after it disappeared (Azure resolved it)
and came back. The Notion write-back is a separate issue: until it lands, the sensor logs the new drafts and
lists them in its skip reason; `ActionDraft` is what the write-back will take.
"""

import hashlib
import json
from collections.abc import Iterable

import dagster as dg

from ppm_assets.tables import ADVISOR_RECOMMENDATIONS
from ppm_resources.lakehouse import Lakehouse
from ppm_sensors.action_drafts import ActionDraft, listed_titles

HIGH_IMPACT_SQL = f"""
SELECT recommendation_id, category, impact, impacted_field, impacted_value, problem, solution,
  monthly_savings_reporting, reporting_currency, project_code, project_page_id
FROM {ADVISOR_RECOMMENDATIONS.name}
WHERE impact = 'High'
ORDER BY recommendation_id
"""


def advisor_action_drafts(rows: Iterable[dict]) -> dict[str, ActionDraft]:
    """Drafts for High-impact recommendations, by source id (pure)."""
    drafts: dict[str, ActionDraft] = {}
    for row in rows:
        if row["impact"] != "High" or not row["recommendation_id"]:
            continue
        source_id = f"advisor:{row['recommendation_id']}"
        target = row["impacted_value"] or row["impacted_field"] or "a resource"
        savings = row["monthly_savings_reporting"]
        detail = " ".join(
            part
            for part in (
                row["solution"] or "",
                f"Estimated savings {savings} {row['reporting_currency']}/month." if savings else "",
                f"Project {row['project_code']}." if row["project_code"] else "No project linked.",
            )
            if part
        )
        drafts[source_id] = ActionDraft(
            source_id=source_id,
            title=f"Azure Advisor ({row['category']}): {row['problem'] or 'recommendation'} on {target}",
            detail=detail,
            asset=ADVISOR_RECOMMENDATIONS.path,
            project_page_id=row["project_page_id"],
        )
    return drafts


def _digest(source_id: str) -> str:
    """Cursor entries are short digests: a tenant can have thousands of open recommendations."""
    return hashlib.sha256(source_id.encode()).hexdigest()[:16]


def _load(cursor: str | None) -> tuple[int | None, set[str]]:
    try:
        value = json.loads(cursor) if cursor else {}
    except json.JSONDecodeError:
        value = {}
    if not isinstance(value, dict):
        return None, set()
    version = value.get("version")
    seen = value.get("open")
    return (
        version if isinstance(version, int) else None,
        {str(s) for s in seen} if isinstance(seen, list) else set(),
    )


@dg.sensor(
    name="advisor_high_impact_to_actions",
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Turns new High-impact Azure Advisor recommendations (silver.advisor_recommendations) into "
    "Notion Action drafts (`Source ID` advisor:<recommendation id>). The Notion write-back is not built yet: "
    "the drafts are logged and listed in the skip reason.",
)
def advisor_high_impact_to_actions(
    context: dg.SensorEvaluationContext, lakehouse: Lakehouse
) -> dg.SkipReason:
    table = ADVISOR_RECOMMENDATIONS.name
    if not lakehouse.exists(table):
        return dg.SkipReason(f"{table} does not exist yet")
    version = lakehouse.version(table)
    previous_version, previous_open = _load(context.cursor)
    if version == previous_version:
        return dg.SkipReason(f"{table} unchanged since the last check (version {version})")
    drafts = advisor_action_drafts(lakehouse.query(HIGH_IMPACT_SQL).to_pylist())
    digests = {source_id: _digest(source_id) for source_id in drafts}
    new = [drafts[s] for s in sorted(drafts) if digests[s] not in previous_open]
    context.update_cursor(json.dumps({"version": version, "open": sorted(digests.values())}))
    if not new:
        return dg.SkipReason(
            f"version {version}: no new High-impact recommendation ({len(drafts)} open, already reported)"
        )
    for draft in new:
        context.log.warning(f"new High-impact Advisor recommendation {draft.source_id}: {draft.title}")
    listed = listed_titles(new)
    return dg.SkipReason(
        f"version {version}: {len(new)} new High-impact Advisor recommendations ({listed}). Notion write-back "
        "not built yet: no Action page created."
    )
