"""Notion change sensor: one cheap probe per database, runs only for the databases that changed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from ppm_assets.partitions import range_tags
from ppm_resources.notion import NotionClient
from ppm_resources.notion_mapping import NotionMapping, load_notion_mapping
from ppm_resources.notion_resource import NotionResource
from ppm_sensors.jobs import notion_sync_job

BRONZE_KEY = dg.AssetKey(["bronze", "notion_raw_pages"])
WATERMARKS_KEY = dg.AssetKey(["bronze", "notion_sync_watermarks"])
# The newest edit of a database, as an ISO timestamp, or EMPTY when the database has no pages.
EMPTY = ""
PROBE_BODY = {"page_size": 1, "sorts": [{"timestamp": "last_edited_time", "direction": "descending"}]}
# With no edit anywhere, one cheap incremental sync of every database this often anyway: the bronze freshness
# policy (30 min, runbook P2) then means "the sync works", not "someone edited Notion lately".
HEARTBEAT = timedelta(minutes=20)


@dataclass
class SensorCursor:
    newest_edit: dict[str, str] = field(default_factory=dict)  # database -> newest last_edited_time
    run_requested_at: datetime | None = None

    def dumps(self) -> str:
        requested = self.run_requested_at.isoformat() if self.run_requested_at else None
        return json.dumps({"newest_edit": self.newest_edit, "run_requested_at": requested}, sort_keys=True)


def parse_cursor(cursor: str | None) -> SensorCursor:
    """The sensor cursor; an unreadable one starts over (every database counts as changed)."""
    try:
        value = json.loads(cursor) if cursor else {}
    except json.JSONDecodeError:
        value = {}
    if not isinstance(value, dict):
        return SensorCursor()
    edits = value.get("newest_edit")
    requested = value.get("run_requested_at")
    try:
        requested_at = datetime.fromisoformat(requested) if isinstance(requested, str) else None
    except ValueError:
        requested_at = None
    return SensorCursor(
        newest_edit={str(k): str(v) for k, v in edits.items()} if isinstance(edits, dict) else {},
        run_requested_at=requested_at,
    )


async def _newest_edit(client: NotionClient, database_id: str) -> str:
    newest = EMPTY
    for target in await client.query_targets(database_id):
        result: dict[str, Any] = await client.query(target, PROBE_BODY)
        for page in result.get("results") or []:
            newest = max(newest, str(page.get("last_edited_time") or EMPTY))
    return newest


async def probe(notion: NotionResource, names: list[str]) -> dict[str, str | BaseException]:
    """Newest last_edited_time per database (or the error that stopped its probe)."""
    mapping = load_notion_mapping()
    async with notion.client() as client:
        database_ids = await notion.resolve_database_ids(client, mapping, names)
        results = await asyncio.gather(
            *(_newest_edit(client, database_ids[name]) for name in names), return_exceptions=True
        )
    return dict(zip(names, results, strict=True))


@dg.sensor(
    name="notion_change_sensor",
    job=notion_sync_job,
    minimum_interval_seconds=30,  # ~6 cheap requests per tick, ~7 % of one token's 3 req/s
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Probes each mapped Notion database (one page, newest edit first) and requests a sync of "
    "exactly the databases whose newest edit moved since the last tick.",
)
def notion_change_sensor(
    context: dg.SensorEvaluationContext, notion: NotionResource
) -> Iterator[dg.RunRequest | dg.SkipReason]:
    mapping = load_notion_mapping()
    names = mapping.names
    previous = parse_cursor(context.cursor)
    observed = asyncio.run(probe(notion, names))
    now = datetime.now(UTC)

    cursor = SensorCursor(dict(previous.newest_edit), previous.run_requested_at)
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
    detail = f"; probe failed for {', '.join(failed)}" if failed else ""

    if not changed:
        if previous.run_requested_at is not None and now - previous.run_requested_at < HEARTBEAT:
            yield dg.SkipReason(
                f"no Notion database changed since the last check ({len(names)} probed){detail}"
            )
            return
        context.log.info(
            f"no change, but no sync requested for {HEARTBEAT}: heartbeat sync of every database"
        )
        yield _every_database(names, f"heartbeat:{now:%Y-%m-%dT%H:%M}", "notion_heartbeat")
    elif set(changed) == set(names):  # the first tick, or everything edited: one run, silver built once
        context.log.info("every Notion database changed: one sync run for all of them")
        yield _every_database(names, "all:" + ",".join(cursor.newest_edit[n] or "empty" for n in names))
    else:
        context.log.info(f"changed Notion databases: {', '.join(changed)}{detail}")
        for name in changed:
            # Only the database's own silver table: the others did not change.
            yield dg.RunRequest(
                partition_key=name,
                run_key=f"{name}:{cursor.newest_edit[name] or 'empty'}",
                asset_selection=[BRONZE_KEY, WATERMARKS_KEY, silver_key(mapping, name)],
                tags={"ppm/trigger": "notion_change"},
            )
    cursor.run_requested_at = now
    context.update_cursor(cursor.dumps())


def silver_key(mapping: NotionMapping, name: str) -> dg.AssetKey:
    return dg.AssetKey(["silver", mapping.database(name).silver_table])


def _every_database(names: list[str], run_key: str, trigger: str = "notion_change") -> dg.RunRequest:
    """One run over every partition (the bronze asset's single-run backfill), then every silver table."""
    return dg.RunRequest(run_key=run_key, tags={**range_tags(names[0], names[-1]), "ppm/trigger": trigger})
