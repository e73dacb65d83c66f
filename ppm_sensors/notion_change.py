"""Notion change sensor: one cheap probe per database, runs only for the databases that changed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import dagster as dg

from ppm_resources.notion import NotionClient
from ppm_resources.notion_mapping import load_notion_mapping
from ppm_resources.notion_resource import NotionResource
from ppm_sensors.jobs import notion_sync_job

# The newest edit of a database, as an ISO timestamp, or EMPTY when the database has no pages.
EMPTY = ""
PROBE_BODY = {"page_size": 1, "sorts": [{"timestamp": "last_edited_time", "direction": "descending"}]}


def parse_cursor(cursor: str | None) -> dict[str, str]:
    """The sensor cursor: {database: newest last_edited_time}; unreadable cursors start over."""
    if not cursor:
        return {}
    try:
        value = json.loads(cursor)
    except json.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


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
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Probes each mapped Notion database (one page, newest edit first) and requests a sync of "
    "exactly the databases whose newest edit moved since the last tick.",
)
def notion_change_sensor(
    context: dg.SensorEvaluationContext, notion: NotionResource
) -> Iterator[dg.RunRequest | dg.SkipReason]:
    names = load_notion_mapping().names
    previous = parse_cursor(context.cursor)
    observed = asyncio.run(probe(notion, names))

    cursor = dict(previous)
    changed: list[str] = []
    failed: list[str] = []
    for name in names:
        newest = observed[name]
        if isinstance(newest, BaseException):
            failed.append(name)
            context.log.warning(f"notion probe of {name} failed: {type(newest).__name__}: {newest}")
            continue
        if name not in previous or previous[name] != newest:
            changed.append(name)
            cursor[name] = newest

    if not changed:
        detail = f"; probe failed for {', '.join(failed)}" if failed else ""
        yield dg.SkipReason(f"no Notion database changed since the last check ({len(names)} probed){detail}")
        return
    context.log.info(f"changed Notion databases: {', '.join(changed)}")
    for name in changed:
        yield dg.RunRequest(
            partition_key=name,
            run_key=f"{name}:{cursor[name] or 'empty'}",
            tags={"ppm/trigger": "notion_change"},
        )
    context.update_cursor(json.dumps(cursor, sort_keys=True))
