"""The Notion deletion sensor: trashed, deleted and moved pages out of silver within a sensor cycle.

Notion's queries never return trashed pages and nothing announces a deletion, so this sensor lists every live
page id of a database (title only, 100 per request) and compares it with silver's live pages. What is in silver
but no longer listed has been trashed, deleted, moved or unshared: the sensor names those pages to a sync run of
the database (`page_ids`), which retrieves each one and stores what became of it; `gold_after_notion_deletions`
then rebuilds gold.

Cost: the listings of all mapped databases together spend at most `listing_share` of the token's rate limit on
average. Every database is listed every sensor cycle while that fits; otherwise all are listed less often, at the
interval that keeps the share. A database whose listing alone would not fit in one tick is listed by its own sync
run instead (`list_pages`), at the same interval.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import dagster as dg

from ppm_assets.tables import NOTION_RAW_PAGES, NOTION_SYNC_WATERMARKS, notion_silver_table
from ppm_resources.lakehouse import Lakehouse
from ppm_resources.notion.mapping import NotionMapping
from ppm_resources.notion.resource import NotionResource
from ppm_sensors.notion.cursors import cursor_object, database_times
from ppm_sensors.notion.jobs import SENSOR_CLIENT, SENSOR_REQUEST_ERRORS, notion_sync_job, sync_config

PAGES_PER_REQUEST = 100
#: Most listing requests one tick makes (~15 s at 3 requests/s): with the probes, a tick stays well inside the
#: sensor's 60-s evaluation timeout. Larger databases are listed by their sync run.
MAX_TICK_REQUESTS = 45
#: Ticks arrive every cycle give or take a second: a database listed 29.5 s ago is due on a 30-s cycle.
TICK_JITTER = timedelta(seconds=5)
NEVER = datetime.min.replace(tzinfo=UTC)
CYCLE = timedelta(seconds=30)  # the sensor's minimum interval
TRIGGER = "notion_deletion"


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


@dataclass
class ListingCursor:
    listed_at: dict[str, datetime] = field(default_factory=dict)  # database -> last id listing
    pages: dict[str, int] = field(default_factory=dict)  # database -> live pages at that listing

    def dumps(self) -> str:
        listed = {name: at.isoformat() for name, at in self.listed_at.items()}
        return json.dumps({"listed_at": listed, "pages": self.pages}, sort_keys=True)


def parse_listing_cursor(cursor: str | None) -> ListingCursor:
    """The sensor cursor; anything unreadable starts over (every database is due for a listing)."""
    value = cursor_object(cursor)
    pages = value.get("pages")
    counts = {str(k): v for k, v in pages.items() if isinstance(v, int)} if isinstance(pages, dict) else {}
    return ListingCursor(database_times(value.get("listed_at")), counts)


def split_by_size(live: Mapping[str, set[str]]) -> tuple[list[str], list[str]]:
    """(databases listed within this tick, in order, while MAX_TICK_REQUESTS last; databases their run lists)."""
    in_tick: list[str] = []
    in_run: list[str] = []
    budget = MAX_TICK_REQUESTS
    for name, ids in live.items():
        cost = listing_requests(len(ids))
        if cost > MAX_TICK_REQUESTS:
            in_run.append(name)
        elif cost <= budget:
            in_tick.append(name)
            budget -= cost
    return in_tick, in_run


async def list_live_ids(
    notion: NotionResource, mapping: NotionMapping, names: Sequence[str]
) -> dict[str, set[str] | BaseException]:
    """Live page ids per database (or the error that stopped its listing), all under one rate limiter."""
    async with notion.client(**SENSOR_CLIENT) as client:
        database_ids = await notion.resolve_database_ids(client, mapping, list(names))
        results = await asyncio.gather(
            *(client.list_page_ids(database_ids[name]) for name in names), return_exceptions=True
        )
    return dict(zip(names, results, strict=True))


def _run_request(mapping: NotionMapping, name: str, run_key: str, fields: dict[str, object]) -> dg.RunRequest:
    """A sync of one database and its silver table, with the bronze op's deletion config."""
    return dg.RunRequest(
        partition_key=name,
        run_key=run_key,
        run_config=sync_config(**fields),
        asset_selection=[
            NOTION_RAW_PAGES.key,
            NOTION_SYNC_WATERMARKS.key,
            notion_silver_table(name, mapping).key,
        ],
        tags={"ppm/trigger": TRIGGER},
    )


def build_notion_deletion_sensor(mapping: NotionMapping) -> dg.SensorDefinition:
    """The deletion sensor for the databases of `mapping`."""

    @dg.sensor(
        name="notion_deletion_sensor",
        job=notion_sync_job,
        minimum_interval_seconds=int(CYCLE.total_seconds()),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Lists the live page ids of each mapped Notion database (title only, 100 per request, within "
        "NOTION_LISTING_SHARE of the rate limit) and sends the pages silver still shows but Notion no longer "
        "lists (trashed, deleted, moved) to a sync of their database, which stores their fate.",
    )
    def notion_deletion_sensor(
        context: dg.SensorEvaluationContext, notion: NotionResource, lakehouse: Lakehouse
    ) -> Iterator[dg.RunRequest | dg.SkipReason]:
        names = mapping.names
        previous = parse_listing_cursor(context.cursor)
        cursor = ListingCursor(dict(previous.listed_at), dict(previous.pages))
        now = datetime.now(UTC)
        interval = listing_interval(
            previous.pages,
            names,
            share=notion.listing_share,
            rate_limit_rps=notion.rate_limit_rps,
            cycle=CYCLE,
        )
        # Silver is read before the listing: a page synced in between would otherwise look vanished.
        silver: dict[str, set[str]] = {}
        for name in due_for_listing(names, previous.listed_at, interval, now):
            live = silver_live_ids(lakehouse, notion_silver_table(name, mapping).name)
            if live is not None:  # no silver yet: nothing to compare with (the first sync builds it)
                silver[name] = live
        if not silver:
            yield dg.SkipReason(
                f"no database due for its id listing (every {interval.total_seconds():.0f} s)"
            )
            return
        in_tick, in_run = split_by_size(silver)
        try:
            listed = asyncio.run(list_live_ids(notion, mapping, in_tick)) if in_tick else {}
        except SENSOR_REQUEST_ERRORS as error:
            yield dg.SkipReason(f"Notion could not be listed this tick: {type(error).__name__}: {error}")
            return

        requested = 0
        for name in in_tick:
            ids = listed[name]
            if isinstance(ids, BaseException):
                # An unshared database fails here (and its sync fails loudly): never "every page deleted".
                context.log.warning(f"notion page listing of {name} failed: {type(ids).__name__}: {ids}")
                continue
            cursor.listed_at[name], cursor.pages[name] = now, len(ids)
            vanished = sorted(silver[name] - ids)
            if vanished:
                context.log.info(
                    f"{name}: {len(vanished)} pages live in silver are no longer listed by Notion"
                )
                requested += 1
                yield _run_request(
                    mapping, name, f"{name}:vanished:{vanished_key(vanished)}", {"page_ids": vanished}
                )
        for name in in_run:
            cursor.listed_at[name], cursor.pages[name] = now, len(silver[name])
            context.log.info(
                f"{name}: too large to list within a tick ({len(silver[name])} pages); its run lists it"
            )
            requested += 1
            yield _run_request(mapping, name, f"{name}:listing:{now:%Y-%m-%dT%H:%M}", {"list_pages": True})
        context.update_cursor(cursor.dumps())
        if not requested:
            yield dg.SkipReason(f"listed {', '.join(in_tick) or 'nothing'}: no page vanished")

    return notion_deletion_sensor
