"""Notion webhook sensor: syncs the pages Notion's webhooks named, seconds after the receiver stored the events.

An optional accelerator: `ppm serve-webhooks` stores each signed event in the inbox; every 10 s this sensor reads
the events after its cursor (the last sequence number it handled) and asks, per mapped database, for a sync run
that retrieves each named page and stores its current state (new version, trashed, deleted, moved). The change
and deletion sensors and the nightly reconciliation still run, so an event Notion never delivered loses nothing.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import dagster as dg

from ppm_assets.tables import NOTION_RAW_PAGES, NOTION_SYNC_WATERMARKS, notion_silver_table
from ppm_resources.lakehouse import Lakehouse
from ppm_resources.notion.ids import InvalidNotionIdError, normalize_id
from ppm_resources.notion.mapping import NotionMapping
from ppm_resources.notion.resource import NotionResource
from ppm_resources.notion.webhook_resource import NotionWebhookInbox
from ppm_resources.notion.webhooks import PAGE_EVENT_TYPES, InvalidEventError, StoredEvent
from ppm_sensors.notion.jobs import SENSOR_CLIENT, notion_sync_job, sync_config

WEBHOOK_TRIGGER = "notion_webhook"
#: Events handled per tick; more wait for the next tick (10 s later), so one tick stays short.
BATCH = 500
#: The API version whose databases list their data sources (webhook parents may name a data source).
DATA_SOURCE_VERSION = "2025-09-03"


def _normal(value: str | None) -> str | None:
    try:
        return normalize_id(value) if value else None
    except InvalidNotionIdError:
        return None


def parse_cursor(cursor: str | None) -> int:
    """The last sequence handled; an unreadable cursor starts from the first stored event."""
    return int(cursor) if cursor and cursor.strip().isdigit() else 0


def parent_ids(event: StoredEvent) -> list[str]:
    """The normalized ids an event's parent names (its own id, and a data source or database id if given)."""
    try:
        parent = event.event().parent
    except InvalidEventError:
        parent = None
    ids = parent.ids() if parent else [event.parent_id] if event.parent_id else []
    return [normal for normal in (_normal(i) for i in ids) if normal]


def page_events(events: Sequence[StoredEvent]) -> list[StoredEvent]:
    return [e for e in events if e.type in PAGE_EVENT_TYPES and e.entity_type == "page"]


def needs_data_sources(events: Sequence[StoredEvent], database_ids: Mapping[str, str]) -> bool:
    """Whether some page's parent is a data source the database ids alone do not resolve (API 2025-09-03)."""
    return any(
        e.parent_type == "data_source" and not any(i in database_ids for i in parent_ids(e))
        for e in page_events(events)
    )


@dataclass
class WebhookPlan:
    """What one tick asks for: page ids per database, and what it skipped on purpose."""

    pages: dict[str, set[str]] = field(default_factory=dict)
    last_sequence: dict[str, int] = field(default_factory=dict)  # database -> newest event of its run
    ignored: Counter[str] = field(default_factory=Counter)  # event type -> events the sync has no use for
    unmapped: int = 0  # page events of databases outside the mapping
    cursor: int = 0


def plan_syncs(
    events: Sequence[StoredEvent],
    parents: Mapping[str, str],
    moved_from: Mapping[str, set[str]],
    after: int,
) -> WebhookPlan:
    """Page ids per mapped database; `parents`: normalized database or data source id -> database name.

    Every event is either in a run or skipped on purpose, so the cursor passes them all.
    """
    plan = WebhookPlan(cursor=after)
    for event in events:
        plan.cursor = max(plan.cursor, event.sequence)
        page = _normal(event.entity_id)
        if event.type not in PAGE_EVENT_TYPES or event.entity_type != "page" or page is None:
            plan.ignored[event.type] += 1
            continue
        names = {parents[i] for i in parent_ids(event) if i in parents}
        if event.type == "page.moved":
            # The event names the new parent only. The database the page left is known when silver holds it
            # there (`moved_from`); that run stores its tombstone. Otherwise (never synced there, no silver yet)
            # the deletion sensor's id listing of that database finds the page gone (`deletions.py`).
            names |= moved_from.get(page, set())
        if not names:
            plan.unmapped += 1
            continue
        for name in names:
            plan.pages.setdefault(name, set()).add(page)
            plan.last_sequence[name] = max(plan.last_sequence.get(name, 0), event.sequence)
    return plan


async def resolve_parents(
    notion: NotionResource, mapping: NotionMapping, *, data_sources: bool
) -> dict[str, str]:
    """Normalized database ids (and, when asked, their data source ids) -> mapping name."""
    async with notion.client(**SENSOR_CLIENT) as client:
        database_ids = await notion.resolve_database_ids(client, mapping, mapping.names)
    parents = {normalize_id(database_id): name for name, database_id in database_ids.items()}
    if data_sources:
        # Whatever version the resource reads with: the webhook subscription's version decides what a parent is.
        async with notion.client(api_version=DATA_SOURCE_VERSION) as client:
            for name, database_id in database_ids.items():
                for target in await client.query_targets(database_id):
                    if target.data_source_id:
                        parents[normalize_id(target.data_source_id)] = name
    return parents


def silver_holders(lakehouse: Lakehouse, mapping: NotionMapping, page_ids: set[str]) -> dict[str, set[str]]:
    """Page id -> the mapped databases whose silver table shows it live (where a moved page was before)."""
    holders: dict[str, set[str]] = {}
    if not page_ids:
        return holders
    # Normalized UUIDs (hex digits and dashes only): safe as SQL literals.
    listed = ", ".join(f"'{page_id}'" for page_id in sorted(page_ids))
    for name in mapping.names:
        table = notion_silver_table(name, mapping).name
        if not lakehouse.exists(table):
            continue
        rows = lakehouse.query(
            f"SELECT page_id FROM {table} WHERE page_id IN ({listed}) AND NOT coalesce(is_archived, false)"
        )
        for page_id in rows.column("page_id").to_pylist():
            holders.setdefault(str(page_id), set()).add(name)
    return holders


def build_notion_webhook_sensor(mapping: NotionMapping) -> dg.SensorDefinition:
    """The webhook sensor for the databases of `mapping`."""

    @dg.sensor(
        name="notion_webhook_sensor",
        job=notion_sync_job,
        minimum_interval_seconds=10,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Reads the Notion webhook events `ppm serve-webhooks` stored since the last tick and syncs "
        "the named pages (created, edited, trashed, restored, deleted, moved), one run per mapped database. "
        "Optional: skips while no event store exists; the change and deletion sensors and the nightly "
        "reconciliation still run.",
    )
    def notion_webhook_sensor(
        context: dg.SensorEvaluationContext,
        notion: NotionResource,
        lakehouse: Lakehouse,
        notion_webhook_inbox: NotionWebhookInbox,
    ) -> Iterator[dg.RunRequest | dg.SkipReason]:
        inbox = notion_webhook_inbox.inbox()
        if not inbox.exists():
            yield dg.SkipReason(
                f"no Notion webhook event store at {inbox.path.resolve()}: webhooks are optional; "
                "`ppm serve-webhooks` creates it with the first event (the change sensor syncs meanwhile)"
            )
            return
        after = parse_cursor(context.cursor)
        newest = inbox.last_sequence()
        if after > newest:
            # A new store (the old file deleted) numbers from 1 again: read it from its start.
            context.log.info(
                f"the webhook event store ends at sequence {newest}, before the cursor {after}: restarting"
            )
            after = 0
        events = inbox.read_after(after, BATCH)
        if not events:
            yield dg.SkipReason(f"no Notion webhook event after sequence {after}")
            return

        pages = page_events(events)
        parents: dict[str, str] = {}
        moved_from: dict[str, set[str]] = {}
        if pages:
            try:
                parents = asyncio.run(resolve_parents(notion, mapping, data_sources=False))
                if needs_data_sources(pages, parents):
                    parents = asyncio.run(resolve_parents(notion, mapping, data_sources=True))
                moved = {p for e in pages if e.type == "page.moved" and (p := _normal(e.entity_id))}
                moved_from = silver_holders(lakehouse, mapping, moved)
            except Exception as error:
                # The cursor stays: the same events are read again next tick.
                yield dg.SkipReason(
                    f"{len(events)} webhook events after sequence {after} wait: cannot map their parents to "
                    f"databases ({type(error).__name__}: {error}); retried next tick"
                )
                return

        plan = plan_syncs(events, parents, moved_from, after)
        if plan.unmapped:
            context.log.info(f"skipped {plan.unmapped} page events of databases outside {mapping.source}")
        if plan.ignored:
            counts = ", ".join(f"{kind}: {n}" for kind, n in sorted(plan.ignored.items()))
            context.log.info(f"skipped events the sync has no use for ({counts})")
        for name in (n for n in mapping.names if n in plan.pages):
            page_ids = sorted(plan.pages[name])
            context.log.info(f"{name}: {len(page_ids)} pages named by webhooks")
            yield dg.RunRequest(
                partition_key=name,
                run_key=f"{name}:webhook:{plan.last_sequence[name]}",
                run_config=sync_config(page_ids=page_ids),
                asset_selection=[
                    NOTION_RAW_PAGES.key,
                    NOTION_SYNC_WATERMARKS.key,
                    notion_silver_table(name, mapping).key,
                ],
                tags={"ppm/trigger": WEBHOOK_TRIGGER},
            )
        if not plan.pages:
            yield dg.SkipReason(
                f"{len(events)} webhook events after sequence {after}, none naming a page of a mapped database"
            )
        context.update_cursor(str(plan.cursor))

    return notion_webhook_sensor
