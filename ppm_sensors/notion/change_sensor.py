"""Notion change sensor: one cheap probe per database; syncs what changed, and what has not synced for a while.

Deletions (which no probe can see) are the deletion sensor's job (`deletions.py`): kept apart so this tick stays a
few requests and an edit is not held up by a listing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import dagster as dg

from ppm_assets.partitions import range_tags
from ppm_assets.tables import NOTION_RAW_PAGES, NOTION_SYNC_WATERMARKS, notion_silver_table
from ppm_resources.notion import NotionClient
from ppm_resources.notion.mapping import NotionMapping
from ppm_resources.notion.resource import NotionResource
from ppm_resources.notion.times import notion_time
from ppm_sensors.notion.cursors import cursor_object, database_times
from ppm_sensors.notion.jobs import SENSOR_CLIENT, SENSOR_REQUEST_ERRORS, notion_sync_job

# The newest edit of a database, as Notion writes timestamps, or EMPTY when the database has no pages.
EMPTY = ""
# A database with no sync requested for this long gets a cheap incremental one anyway (a heartbeat): the
# freshness policies of its bronze partition (30 min, runbook P2) and silver table (45 min) then mean "the sync
# works", not "someone edited this database lately".
HEARTBEAT = timedelta(minutes=20)


@dataclass
class SensorCursor:
    newest_edit: dict[str, str] = field(default_factory=dict)  # database -> newest last_edited_time
    requested_at: dict[str, datetime] = field(default_factory=dict)  # database -> last sync requested

    def dumps(self) -> str:
        requested = {name: at.isoformat() for name, at in self.requested_at.items()}
        return json.dumps({"newest_edit": self.newest_edit, "requested_at": requested}, sort_keys=True)


def parse_cursor(cursor: str | None) -> SensorCursor:
    """The sensor cursor; an unreadable one starts over (every database counts as changed)."""
    value = cursor_object(cursor)
    edits = value.get("newest_edit")
    return SensorCursor(
        newest_edit={str(k): str(v) for k, v in edits.items()} if isinstance(edits, dict) else {},
        requested_at=database_times(value.get("requested_at")),
    )


async def _newest_edit(client: NotionClient, database_id: str) -> str:
    newest = await client.newest_edit(database_id)
    return notion_time(newest) if newest is not None else EMPTY


async def probe(
    notion: NotionResource, mapping: NotionMapping, names: list[str]
) -> dict[str, str | BaseException]:
    """Newest last_edited_time per database (or the error that stopped its probe)."""
    async with notion.client(**SENSOR_CLIENT) as client:
        database_ids = await notion.resolve_database_ids(client, mapping, names)
        results = await asyncio.gather(
            *(_newest_edit(client, database_ids[name]) for name in names), return_exceptions=True
        )
    return dict(zip(names, results, strict=True))


def build_notion_change_sensor(mapping: NotionMapping) -> dg.SensorDefinition:
    """The change sensor for the databases of `mapping`."""

    @dg.sensor(
        name="notion_change_sensor",
        job=notion_sync_job,
        minimum_interval_seconds=30,  # ~6 cheap requests per tick, ~7 % of one token's 3 req/s
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Probes each mapped Notion database (one page, newest edit first) and syncs the databases whose "
        "newest edit moved since the last tick, plus those with no sync for 20 minutes (a heartbeat for freshness); "
        "all of them in one run when all are due.",
    )
    def notion_change_sensor(
        context: dg.SensorEvaluationContext, notion: NotionResource
    ) -> Iterator[dg.RunRequest | dg.SkipReason]:
        names = mapping.names
        previous = parse_cursor(context.cursor)
        try:
            observed = asyncio.run(probe(notion, mapping, names))
        except SENSOR_REQUEST_ERRORS as error:
            # Before any probe (e.g. resolving the databases): skip with the reason; the next tick tries again.
            yield dg.SkipReason(f"Notion could not be probed this tick: {type(error).__name__}: {error}")
            return
        now = datetime.now(UTC)

        cursor = SensorCursor(dict(previous.newest_edit), dict(previous.requested_at))
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
        # Heartbeats go to failed probes too: the sync then fails loudly (alert, freshness) instead of waiting.
        quiet = [
            name
            for name in names
            if name not in changed
            and now - previous.requested_at.get(name, datetime.min.replace(tzinfo=UTC)) >= HEARTBEAT
        ]
        detail = ""
        if failed:  # e.g. a Retry-After longer than a tick may wait: the reason, not a silent timeout
            first = observed[failed[0]]
            detail = f"; probe failed for {', '.join(failed)} ({type(first).__name__}: {first})"

        if not changed and not quiet:
            yield dg.SkipReason(
                f"no Notion database changed since the last check ({len(names)} probed){detail}"
            )
            return
        if changed:
            context.log.info(f"changed Notion databases: {', '.join(changed)}{detail}")
        if quiet:
            context.log.info(f"no sync requested for {HEARTBEAT} (heartbeat): {', '.join(quiet)}")
        if set(changed) | set(quiet) == set(names):  # the first tick, or all due: one run, silver built once
            edits = ",".join(cursor.newest_edit.get(n) or "empty" for n in names)
            yield _every_database(
                names, f"all:{edits}:{now:%Y-%m-%dT%H:%M}", "notion_change" if changed else "notion_heartbeat"
            )
        else:
            for name in [*changed, *quiet]:
                # Only the database's own silver table: the others did not change.
                is_change = name in changed
                yield dg.RunRequest(
                    partition_key=name,
                    run_key=f"{name}:{cursor.newest_edit[name] or 'empty'}"
                    if is_change
                    else f"{name}:heartbeat:{now:%Y-%m-%dT%H:%M}",
                    asset_selection=[
                        NOTION_RAW_PAGES.key,
                        NOTION_SYNC_WATERMARKS.key,
                        silver_key(mapping, name),
                    ],
                    tags={"ppm/trigger": "notion_change" if is_change else "notion_heartbeat"},
                )
        for name in [*changed, *quiet]:
            cursor.requested_at[name] = now
        context.update_cursor(cursor.dumps())

    return notion_change_sensor


def silver_key(mapping: NotionMapping, name: str) -> dg.AssetKey:
    return notion_silver_table(name, mapping).key


def _every_database(names: list[str], run_key: str, trigger: str) -> dg.RunRequest:
    """One run over every partition (the bronze asset's single-run backfill), then every silver table."""
    return dg.RunRequest(run_key=run_key, tags={**range_tags(names[0], names[-1]), "ppm/trigger": trigger})
