"""`bronze.notion_writebacks`: one row per draft a write-back run handled (append-only, never updated).

What was sent, when, by which run, and what came of it: `created` (a new page, including one whose answer was
lost and which a re-read found), `existed` (a page with this Source ID was already there: nothing written), or
`failed` (with the error; the draft is sent again by the next run). The UI shows the same results in the run's
metadata; SQL reads them here.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import pyarrow as pa

from ppm_resources.writeback.writer import ActionResult

LEDGER_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),
        pa.field("source_id", pa.string(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("project_page_id", pa.string()),
        pa.field("assignee_id", pa.string()),
        pa.field("due_date", pa.date32()),
        pa.field("priority", pa.string()),
        pa.field("outcome", pa.string(), nullable=False),
        pa.field("page_id", pa.string()),
        pa.field("page_url", pa.string()),
        pa.field("create_requests", pa.int32(), nullable=False),
        pa.field("note", pa.string()),
        pa.field("error", pa.string()),
        pa.field("requested_by", pa.string(), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("api_version", pa.string(), nullable=False),
        pa.field("sent_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("duration_s", pa.float64(), nullable=False),
    ]
)


def ledger_rows(results: Sequence[ActionResult], *, run_id: str, api_version: str) -> pa.Table:
    rows = [
        {
            "source": r.draft.source,
            "source_id": r.draft.source_id,
            "title": r.draft.title,
            "project_page_id": r.draft.project_page_id,
            "assignee_id": r.draft.assignee_id,
            "due_date": r.draft.due_date,
            "priority": r.draft.priority,
            "outcome": r.outcome,
            "page_id": r.page_id,
            "page_url": r.url,
            "create_requests": r.create_requests,
            "note": r.note or None,
            "error": r.error,
            "requested_by": r.draft.requested_by or "manual",
            "run_id": run_id,
            "api_version": api_version,
            "sent_at": r.sent_at or datetime.now(UTC),
            "duration_s": r.duration_s,
        }
        for r in results
    ]
    return pa.Table.from_pylist(rows, schema=LEDGER_SCHEMA)
