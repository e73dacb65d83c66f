"""Deletion detection for the change sensor: which databases to list this tick, and which pages vanished.

Notion's queries never return trashed pages and nothing announces a deletion, so the change sensor lists every
live page id of a database (title only, 100 per request) and compares it with silver's live pages. What is in
silver but no longer listed has been trashed, deleted, moved or unshared: the sensor names those pages to a sync
run, which retrieves each one and stores what became of it.

Cost: the listings of all mapped databases together spend at most `listing_share` of the token's rate limit on
average. Every database is listed every sensor cycle while that fits; otherwise all are listed less often, at the
interval that keeps the share. A database whose listing alone would not fit in one tick is listed by its own sync
run instead (`list_pages`), at the same interval.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from ppm_resources.lakehouse import Lakehouse

PAGES_PER_REQUEST = 100
#: Most listing requests one tick makes (~15 s at 3 requests/s): with the probes, a tick stays well inside the
#: sensor's 60-s evaluation timeout. Larger databases are listed by their sync run.
MAX_TICK_REQUESTS = 45
#: Ticks arrive every cycle give or take a second: a database listed 29.5 s ago is due on a 30-s cycle.
TICK_JITTER = timedelta(seconds=5)
NEVER = datetime.min.replace(tzinfo=UTC)


def listing_requests(pages: int) -> int:
    """Requests one listing of a database with `pages` live pages costs (an empty one still costs one)."""
    return max(1, math.ceil(pages / PAGES_PER_REQUEST))


def listing_interval(
    pages: Mapping[str, int],
    names: Iterable[str],
    *,
    share: float,
    rate_limit_rps: float,
    cycle: timedelta,
) -> timedelta:
    """How often every database is listed: each cycle, unless the listings would spend more than `share`."""
    if not 0 < share <= 1 or rate_limit_rps <= 0:
        raise ValueError(
            f"listing share must be in (0, 1] and the rate limit positive (got {share}, {rate_limit_rps})"
        )
    requests = sum(listing_requests(pages.get(name, 0)) for name in names)
    return max(cycle, timedelta(seconds=requests / (share * rate_limit_rps)))


def due_for_listing(
    names: Iterable[str], listed_at: Mapping[str, datetime], interval: timedelta, now: datetime
) -> list[str]:
    """Databases whose last listing is at least `interval` old, the longest-waiting first."""
    due = [name for name in names if now - listed_at.get(name, NEVER) >= interval - TICK_JITTER]
    return sorted(due, key=lambda name: listed_at.get(name, NEVER))


def silver_live_ids(lakehouse: Lakehouse, table: str) -> set[str] | None:
    """Page ids silver shows as live (not archived); None when the table does not exist yet."""
    if not lakehouse.exists(table):
        return None
    result = lakehouse.query(f"SELECT page_id FROM {table} WHERE NOT coalesce(is_archived, false)")
    return {str(page_id) for page_id in result.column("page_id").to_pylist() if page_id is not None}


def vanished_key(page_ids: Iterable[str]) -> str:
    """A short stable digest of a set of page ids (part of the run key: the same deletions, one run)."""
    return hashlib.sha1("\n".join(sorted(page_ids)).encode()).hexdigest()[:12]
