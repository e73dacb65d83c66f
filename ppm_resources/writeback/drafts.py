"""`ActionDraft`: an Action page the write-back is asked to create, whatever raised it (DESIGN §8).

Three sources, as in the seed's `POST /api/notion/actions`: `dq` (a critical data-quality issue), `advisor` (a
High-impact Azure Advisor recommendation) and `manual` (raised by an engineer from the Launchpad or the CLI).
`source_id` becomes the page's `Source ID` property: the write-back finds pages by it, so one source item has one
page, never two (`dq:<rule>:<asset>`, `advisor:<recommendation id>`, `manual:<project>:<title digest>`).

The builders are pure functions over rows of `gold.data_quality_issues` and `silver.advisor_recommendations`,
shared by the sensors that request write-backs and by the write-back asset's "pending drafts" mode; the SQL
that reads those rows is here too, with the table names passed in (the registry lives above this layer).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, get_args

from ppm_resources.lakehouse import Lakehouse, sql_string
from ppm_resources.notion.text import clean_text

ActionSource = Literal["dq", "advisor", "manual"]
ACTION_SOURCES: tuple[str, ...] = get_args(ActionSource)
logger = logging.getLogger("ppm_resources.writeback")

#: Longest Source ID accepted: it is compared with `equals` in a filter, so it must be stored unchanged.
MAX_SOURCE_ID = 1000
#: Drafts named in a sensor's skip reason or log line; the rest are counted.
MAX_LISTED = 10


class DraftError(ValueError):
    """A draft that cannot be written as given (the message says which field and why)."""


@dataclass(frozen=True)
class ActionDraft:
    source: ActionSource
    source_id: str
    title: str
    detail: str = ""
    asset: str = ""
    sample_urls: tuple[str, ...] = ()
    project_page_id: str | None = None  # the Action's Project relation, when the source is linked to one
    assignee_id: str | None = None
    due_date: date | None = None
    priority: str | None = None
    requested_by: str = field(default="", compare=False)  # "manual", a sensor's name, "pending"

    def __post_init__(self) -> None:
        if self.source not in ACTION_SOURCES:
            raise DraftError(f"source must be one of {', '.join(ACTION_SOURCES)}, got {self.source!r}")
        check_source_id(self.source_id, self.source)
        if not clean_text(self.title, single_line=True):
            raise DraftError(f"{self.source_id}: the title is empty")


def check_source_id(source_id: str, source: str | None = None) -> str:
    """``source_id`` if it can be stored and found again unchanged, else DraftError saying why."""
    if not source_id or clean_text(source_id, single_line=True) != source_id or " " in source_id:
        raise DraftError(
            f"Source ID {source_id!r} must be non-empty text without spaces or control characters"
        )
    if len(source_id) > MAX_SOURCE_ID:
        raise DraftError(f"Source ID must be at most {MAX_SOURCE_ID} characters, got {len(source_id)}")
    if source is not None and not source_id.startswith(f"{source}:"):
        raise DraftError(f"Source ID {source_id!r} of a {source} action must start with {source + ':'!r}")
    return source_id


def manual_source_id(project_code: str, title: str) -> str:
    """The Source ID of a hand-raised action: the same project and title give the same id (a second click on
    "Launch run" finds the first page instead of making another)."""
    digest = hashlib.sha256(clean_text(title, single_line=True).casefold().encode()).hexdigest()[:16]
    return f"manual:{project_code}:{digest}"


def listed_titles(drafts: Sequence[ActionDraft]) -> str:
    """The first drafts' titles for a skip reason, `; ...` when there are more."""
    return "; ".join(d.title for d in drafts[:MAX_LISTED]) + ("; ..." if len(drafts) > MAX_LISTED else "")


# ------------------------------------------------------------------------------ data-quality issues


def dq_action_drafts(rows: Iterable[dict]) -> dict[str, ActionDraft]:
    """Drafts for the critical issues (failed ERROR rules) among one evaluation's rows, by source id."""
    drafts: dict[str, ActionDraft] = {}
    for row in rows:
        if row["passed"] or row["severity"] != "ERROR":
            continue
        source_id = f"dq:{row['rule']}:{row['asset']}"
        _add(
            drafts,
            source="dq",
            source_id=source_id,
            title=f"Fix data quality: {row['rule']} on {row['asset']} ({row['failing_rows']} rows)",
            detail=row["message"] or "",
            asset=row["asset"],
            sample_urls=tuple(url for url in row["sample_urls"] or [] if url),
            priority="High",
        )
    return drafts


def _add(drafts: dict[str, ActionDraft], **fields: Any) -> None:
    """Add a draft; one whose Source ID cannot be stored is logged and skipped, never failing the others."""
    try:
        draft = ActionDraft(**fields)
    except DraftError as exc:
        logger.warning("no Action draft for %s: %s", fields.get("source_id"), exc)
        return
    drafts[draft.source_id] = draft


def latest_dq_evaluation(lakehouse: Lakehouse, table: str) -> tuple[str | None, list[dict]]:
    """The newest evaluation id of the issues table and its rows (None, [] before the first one)."""
    if not lakehouse.exists(table):
        return None, []
    latest = lakehouse.query(
        f"SELECT max_by(evaluation_id, detected_at) AS evaluation_id FROM {table}"
    ).to_pylist()[0]["evaluation_id"]
    if latest is None:
        return None, []
    rows = lakehouse.query(f"SELECT * FROM {table} WHERE evaluation_id = {sql_string(latest)}").to_pylist()
    return latest, rows


def latest_dq_drafts(lakehouse: Lakehouse, table: str) -> tuple[str | None, dict[str, ActionDraft]]:
    """The newest evaluation id of the issues table and the drafts of its critical issues."""
    evaluation_id, rows = latest_dq_evaluation(lakehouse, table)
    return evaluation_id, dq_action_drafts(rows)


# ------------------------------------------------------------------------------ Azure Advisor


def high_impact_sql(table: str) -> str:
    """The High-impact recommendations of `silver.advisor_recommendations` with what a draft needs."""
    return f"""
SELECT recommendation_id, category, impact, impacted_field, impacted_value, problem, solution,
  monthly_savings_reporting, reporting_currency, project_code, project_page_id
FROM {table}
WHERE impact = 'High'
ORDER BY recommendation_id
"""


def advisor_action_drafts(rows: Iterable[dict], *, asset: str = "") -> dict[str, ActionDraft]:
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
        _add(
            drafts,
            source="advisor",
            source_id=source_id,
            title=f"Azure Advisor ({row['category']}): {row['problem'] or 'recommendation'} on {target}",
            detail=detail,
            asset=asset,
            project_page_id=row["project_page_id"],
            priority="High",
        )
    return drafts


def high_impact_advisor_drafts(lakehouse: Lakehouse, table: str, *, asset: str) -> dict[str, ActionDraft]:
    """The drafts of the High-impact recommendations in ``table`` (none before the table exists)."""
    if not lakehouse.exists(table):
        return {}
    return advisor_action_drafts(lakehouse.query(high_impact_sql(table)).to_pylist(), asset=asset)


# ------------------------------------------------------------------------------ the ledger

#: Ledger outcomes after which a draft is done: nobody sends it again (a closed Action is never reopened).
DONE_OUTCOMES = ("created", "existed")


def done_source_ids(lakehouse: Lakehouse, table: str, source_ids: Sequence[str] | None = None) -> set[str]:
    """Source IDs the ledger shows with a page (created or existed); narrowed to ``source_ids`` when given."""
    if not lakehouse.exists(table):
        return set()
    where = f"outcome IN ({', '.join(sql_string(o) for o in DONE_OUTCOMES)})"
    if source_ids is not None:
        if not source_ids:
            return set()
        where += f" AND source_id IN ({', '.join(sql_string(s) for s in source_ids)})"
    rows = lakehouse.query(f"SELECT DISTINCT source_id FROM {table} WHERE {where}").to_pylist()
    return {row["source_id"] for row in rows}
