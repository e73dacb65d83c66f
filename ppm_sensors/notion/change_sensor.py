"""Notion change sensor: one cheap probe per database; syncs what changed, what vanished, and what is overdue.

Each tick: a probe per database (one page, newest edit first) finds edits; a listing of live page ids, on the
cadence `deletions.listing_interval` allows, finds pages trashed, deleted or moved since (Notion's queries never
return them); a database with no sync requested for `HEARTBEAT` gets one anyway.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import dagster as dg

from ppm_assets.partitions import range_tags
from ppm_assets.tables import NOTION_RAW_PAGES, NOTION_SYNC_WATERMARKS, notion_silver_table
from ppm_resources.lakehouse import Lakehouse
from ppm_resources.notion import NotionClient
from ppm_resources.notion.mapping import NotionMapping
from ppm_resources.notion.resource import NotionResource
from ppm_resources.notion.times import notion_time
from ppm_sensors.notion.deletions import (
    MAX_TICK_REQUESTS,
    due_for_listing,
    listing_interval,
    listing_requests,
    silver_live_ids,
    vanished_key,
)
from ppm_sensors.notion.jobs import notion_sync_job, sync_config

# The newest edit of a database, as Notion writes timestamps, or EMPTY when the database has no pages.
EMPTY = ""
# A database with no sync requested for this long gets a cheap incremental one anyway (a heartbeat): the
# freshness policies of its bronze partition (30 min, runbook P2) and silver table (45 min) then mean "the sync
# works", not "someone edited this database lately".
HEARTBEAT = timedelta(minutes=20)
CYCLE = timedelta(seconds=30)  # the sensor's minimum interval
DELETION_TRIGGER = "notion_deletion"


def _read_times(value: object) -> dict[str, datetime]:
    times: dict[str, datetime] = {}
    for name, at in value.items() if isinstance(value, dict) else []:
        try:
            times[str(name)] = datetime.fromisoformat(at)
        except (TypeError, ValueError):
            continue  # that database is just due sooner
    return times


@dataclass
class SensorCursor:
    newest_edit: dict[str, str] = field(default_factory=dict)  # database -> newest last_edited_time
    requested_at: dict[str, datetime] = field(default_factory=dict)  # database -> last sync requested
    listed_at: dict[str, datetime] = field(default_factory=dict)  # database -> last id listing
    pages: dict[str, int] = field(default_factory=dict)  # database -> live pages at that listing

    def dumps(self) -> str:
        return json.dumps(
            {
                "newest_edit": self.newest_edit,
                "requested_at": {name: at.isoformat() for name, at in self.requested_at.items()},
                "listed_at": {name: at.isoformat() for name, at in self.listed_at.items()},
                "pages": self.pages,
            },
            sort_keys=True,
        )


def parse_cursor(cursor: str | None) -> SensorCursor:
    """The sensor cursor; an unreadable one starts over (every database counts as changed)."""
    try:
        value = json.loads(cursor) if cursor else {}
    except json.JSONDecodeError:
        value = {}
    if not isinstance(value, dict):
        return SensorCursor()
    edits = value.get("newest_edit")
    pages = value.get("pages")
    return SensorCursor(
        newest_edit={str(k): str(v) for k, v in edits.items()} if isinstance(edits, dict) else {},
        requested_at=_read_times(value.get("requested_at")),
        listed_at=_read_times(value.get("listed_at")),
        pages={str(k): v for k, v in pages.items() if isinstance(v, int)} if isinstance(pages, dict) else {},
    )


async def _newest_edit(client: NotionClient, database_id: str) -> str:
    newest = await client.newest_edit(database_id)
    return notion_time(newest) if newest is not None else EMPTY


async def probe(
    notion: NotionResource, mapping: NotionMapping, names: Sequence[str], listing: Sequence[str] = ()
) -> tuple[dict[str, str | BaseException], dict[str, set[str] | BaseException]]:
    """Newest last_edited_time per database, and the live page ids of those in `listing` (or the errors)."""
    async with notion.client() as client:
        database_ids = await notion.resolve_database_ids(client, mapping, names)
        results = await asyncio.gather(
            *(_newest_edit(client, database_ids[name]) for name in names),
            *(client.list_page_ids(database_ids[name]) for name in listing),
            return_exceptions=True,
        )
    newest = dict(zip(names, results[: len(names)], strict=True))
    return newest, dict(zip(listing, results[len(names) :], strict=True))


def build_notion_change_sensor(mapping: NotionMapping) -> dg.SensorDefinition:
    """The change sensor for the databases of `mapping`."""

    @dg.sensor(
        name="notion_change_sensor",
        job=notion_sync_job,
        minimum_interval_seconds=int(CYCLE.total_seconds()),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Probes each mapped Notion database (one page, newest edit first) and syncs the databases whose "
        "newest edit moved since the last tick; lists live page ids (title only, within NOTION_LISTING_SHARE of the "
        "rate limit) and sends pages gone from Notion but live in silver to a sync that tombstones them; syncs "
        "databases with no sync for 20 minutes (a heartbeat for freshness). All in one run when all are due.",
    )
    def notion_change_sensor(
        context: dg.SensorEvaluationContext, notion: NotionResource, lakehouse: Lakehouse
    ) -> Iterator[dg.RunRequest | dg.SkipReason]:
        names = mapping.names
        previous = parse_cursor(context.cursor)
        now = datetime.now(UTC)
        cursor = SensorCursor(
            dict(previous.newest_edit),
            dict(previous.requested_at),
            dict(previous.listed_at),
            dict(previous.pages),
        )

        # Silver is read before the listing: a page synced in between would otherwise look vanished.
        interval = listing_interval(
            previous.pages,
            names,
            share=notion.listing_share,
            rate_limit_rps=notion.rate_limit_rps,
            cycle=CYCLE,
        )
        silver: dict[str, set[str]] = {}
        for name in due_for_listing(names, previous.listed_at, interval, now):
            live = silver_live_ids(lakehouse, notion_silver_table(name, mapping).name)
            if live is not None:  # no silver yet: nothing to compare with (the first sync builds it)
                silver[name] = live
        in_tick, in_run, budget = [], [], MAX_TICK_REQUESTS
        for name, live in silver.items():
            cost = listing_requests(len(live))
            if cost > MAX_TICK_REQUESTS:
                in_run.append(name)  # too large for one tick: its sync run lists it
            elif cost <= budget:
                in_tick.append(name)
                budget -= cost

        observed, listed = asyncio.run(probe(notion, mapping, names, in_tick))

        changed: list[str] = []
        failed: list[str] = []
        for name in names:
            newest = observed[name]
            if isinstance(newest, BaseException):
                failed.append(name)
                context.log.warning(f"notion probe of {name} failed: {type(newest).__name__}: {newest}")
                continue
            if previous.newest_edit.get(name) != newest:
                changed.append(name)
                cursor.newest_edit[name] = newest
        vanished: dict[str, list[str]] = {}
        for name in in_tick:
            ids = listed[name]
            if isinstance(ids, BaseException):
                context.log.warning(f"notion page listing of {name} failed: {type(ids).__name__}: {ids}")
                continue
            cursor.listed_at[name], cursor.pages[name] = now, len(ids)
            if gone := silver[name] - ids:
                vanished[name] = sorted(gone)
        for name in in_run:
            cursor.listed_at[name], cursor.pages[name] = now, len(silver[name])
        if vanished:
            counts = ", ".join(f"{name}: {len(ids)}" for name, ids in vanished.items())
            context.log.info(f"pages live in silver but no longer listed by Notion ({counts})")
        if in_run:
            context.log.info(
                f"too large to list within a tick, listed by their sync run: {', '.join(in_run)}"
            )
        # Heartbeats go to failed probes too: the sync then fails loudly (alert, freshness) instead of waiting.
        quiet = [
            name
            for name in names
            if name not in changed
            and name not in vanished
            and name not in in_run
            and now - previous.requested_at.get(name, datetime.min.replace(tzinfo=UTC)) >= HEARTBEAT
        ]
        detail = f"; probe failed for {', '.join(failed)}" if failed else ""
        due = [
            name for name in names if name in changed or name in vanished or name in in_run or name in quiet
        ]

        if not due:
            yield dg.SkipReason(
                f"no Notion database changed since the last check ({len(names)} probed, "
                f"{len(in_tick)} listed){detail}"
            )
            if cursor != previous:
                context.update_cursor(cursor.dumps())
            return
        if changed:
            context.log.info(f"changed Notion databases: {', '.join(changed)}{detail}")
        if quiet:
            context.log.info(f"no sync requested for {HEARTBEAT} (heartbeat): {', '.join(quiet)}")
        if set(due) == set(names):  # the first tick, or all due: one run, silver built once
            edits = ",".join(cursor.newest_edit.get(n) or "empty" for n in names)
            page_ids = sorted(page_id for ids in vanished.values() for page_id in ids)
            key = f"all:{edits}:{now:%Y-%m-%dT%H:%M}" + (f":{vanished_key(page_ids)}" if page_ids else "")
            trigger = _trigger(deletion=bool(vanished or in_run), change=bool(changed))
            yield _every_database(names, key, trigger, page_ids, bool(in_run))
        else:
            for name in due:
                # Only the database's own silver table: the others did not change.
                yield dg.RunRequest(
                    partition_key=name,
                    run_key=_run_key(name, cursor.newest_edit.get(name), changed, vanished, in_run, now),
                    run_config=_sync_run_config(vanished.get(name, []), name in in_run),
                    asset_selection=[
                        NOTION_RAW_PAGES.key,
                        NOTION_SYNC_WATERMARKS.key,
                        silver_key(mapping, name),
                    ],
                    tags={
                        "ppm/trigger": _trigger(
                            deletion=name in vanished or name in in_run, change=name in changed
                        )
                    },
                )
        for name in due:
            cursor.requested_at[name] = now
        context.update_cursor(cursor.dumps())

    return notion_change_sensor


def _trigger(*, deletion: bool, change: bool) -> str:
    """The run's `ppm/trigger` tag: deletions first (they are what the run must not miss), then edits, heartbeats."""
    if deletion:
        return DELETION_TRIGGER
    return "notion_change" if change else "notion_heartbeat"


def _run_key(
    name: str,
    newest: str | None,
    changed: Sequence[str],
    vanished: dict[str, list[str]],
    in_run: Sequence[str],
    now: datetime,
) -> str:
    """One run per distinct event: an edit (newest edit time), a set of vanished pages, a listing, a heartbeat."""
    parts = [name]
    if name in changed:
        parts.append(newest or "empty")
    if name in vanished:
        parts.append(f"vanished:{vanished_key(vanished[name])}")
    if name in in_run:
        parts.append(f"listing:{now:%Y-%m-%dT%H:%M}")
    if len(parts) == 1:
        parts.append(f"heartbeat:{now:%Y-%m-%dT%H:%M}")
    return ":".join(parts)


def _sync_run_config(page_ids: list[str], list_pages: bool) -> dict:
    fields: dict = {}
    if page_ids:
        fields["page_ids"] = page_ids
    if list_pages:
        fields["list_pages"] = True
    return sync_config(**fields) if fields else {}


def silver_key(mapping: NotionMapping, name: str) -> dg.AssetKey:
    return notion_silver_table(name, mapping).key


def _every_database(
    names: list[str], run_key: str, trigger: str, page_ids: list[str], list_pages: bool
) -> dg.RunRequest:
    """One run over every partition (the bronze asset's single-run backfill), then every silver table."""
    return dg.RunRequest(
        run_key=run_key,
        run_config=_sync_run_config(page_ids, list_pages),
        tags={**range_tags(names[0], names[-1]), "ppm/trigger": trigger},
    )
