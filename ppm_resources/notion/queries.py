"""Query bodies over ``last_edited_time``: the one time axis every read of this package is ordered by.

Pure functions shared by the client's ``newest_edit`` endpoint and the scanners (:mod:`.pagination`), so the
filter and probe shapes exist once and neither side has to import the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ppm_resources.notion.times import notion_time, parse_time

ASCENDING = [{"timestamp": "last_edited_time", "direction": "ascending"}]
DESCENDING = [{"timestamp": "last_edited_time", "direction": "descending"}]
#: Listing order that edits cannot disturb: a page's creation time never changes.
BY_CREATION = [{"timestamp": "created_time", "direction": "ascending"}]
#: ``filter_properties`` for a probe that only needs page timestamps: the title is the one property every
#: database has (its id is always "title"), and asking for one keeps the answer small.
TITLE_ONLY = ("title",)


def edited_range_filter(
    lo: datetime | None, hi: datetime | None, extra: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """Filter for ``lo <= last_edited_time < hi`` (either bound optional) AND ``extra``."""
    conditions: list[dict[str, Any]] = []
    if lo is not None:
        conditions.append(
            {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": notion_time(lo)}}
        )
    if hi is not None:
        conditions.append({"timestamp": "last_edited_time", "last_edited_time": {"before": notion_time(hi)}})
    if extra:
        # Flatten a top-level "and" so the nesting stays within Notion's two levels.
        conditions.extend(extra["and"] if set(extra) == {"and"} else [extra])
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else {"and": conditions}


def newest_first_body(lo: datetime | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A one-page query for the most recently edited page at or after ``lo`` matching ``extra``."""
    body: dict[str, Any] = {"page_size": 1, "sorts": DESCENDING}
    query_filter = edited_range_filter(lo, None, extra)
    if query_filter is not None:
        body["filter"] = query_filter
    return body


def first_edit_time(response: Mapping[str, Any]) -> datetime | None:
    """``last_edited_time`` of the first page of a query response (None when it has no pages)."""
    results = response.get("results") or []
    return parse_time(results[0].get("last_edited_time")) if results else None
