"""NotionClient reads and `scan_databases` against the emulator over real HTTP: pagination, slicing,
watermarks, the newest-edit probe. (Pages as bronze rows: test_client_to_bronze.py, which needs ppm_assets;
these tests do not.)"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from ppm_resources.notion import DatabaseScan, NotionClient, PageBatch, scan_databases
from ppm_resources.notion.times import parse_time
from ppm_sandbox import SandboxServer

DEMO = ("programs", "projects", "budget_lines", "risks", "actions")
MakeClient = Callable[..., NotionClient]
DbId = Callable[[str], str]
TruthIds = Callable[[str], set[str]]


async def collect(batches: AsyncIterator[PageBatch]) -> list[PageBatch]:
    return [batch async for batch in batches]


def pages_of(batches: list[PageBatch]) -> list[dict[str, Any]]:
    return [page for batch in batches for page in batch.pages]


def test_pagination_across_many_cursors(
    sandbox: SandboxServer, make_client: MakeClient, db: DbId, truth_ids: TruthIds
) -> None:
    async def main() -> tuple[list[dict[str, Any]], int]:
        async with make_client(page_size=7) as client:
            batches = await collect(scan_databases(client, [DatabaseScan(db("budget_lines"))], split=False))
            return pages_of(batches), client.stats.requests

    pages, requests = asyncio.run(main())
    ids = [page["id"] for page in pages]
    assert len(ids) == len(set(ids)) == 1500
    assert set(ids) == truth_ids("budget_lines")
    assert requests == -(-1500 // 7)  # one request per page of 7: 215 cursors followed
    edited = [page["last_edited_time"] for page in pages]
    assert edited == sorted(edited)  # one slice: ascending by last_edited_time


def test_time_sliced_scan_equals_plain_scan_even_with_crowded_minutes(
    clean_sandbox: SandboxServer, make_client: MakeClient, db: DbId, truth_ids: TruthIds
) -> None:
    sandbox = clean_sandbox
    # 230 pages edited within one frozen minute: more than a response holds, and a minute cannot be split.
    sandbox.clock.freeze(datetime(2026, 6, 1, 12, 0, 30, tzinfo=UTC))
    lines = sandbox.notion.truth("budget_lines")
    for page in lines[::6][:230]:
        sandbox.notion.edit_page(page["id"], {"Vendor": "Same minute"})
    expected = truth_ids("budget_lines")

    async def scan(split: bool, page_size: int) -> tuple[list[str], int]:
        async with make_client(page_size=page_size, max_concurrency=6) as client:
            batches = await collect(scan_databases(client, [DatabaseScan(db("budget_lines"))], split=split))
            assert batches[-1].complete and not batches[-1].pages
            return [p["id"] for p in pages_of(batches)], client.stats.slices

    plain, _ = asyncio.run(scan(split=False, page_size=100))
    for page_size in (100, 37):
        sliced, slices = asyncio.run(scan(split=True, page_size=page_size))
        assert slices > 1
        assert len(sliced) == len(set(sliced)) == len(expected)
        assert set(sliced) == set(plain) == expected


def test_sliced_scan_keeps_requests_in_flight(
    clean_sandbox: SandboxServer, make_client: MakeClient, db: DbId
) -> None:
    """The point of slicing: a single database is read with several requests in flight, not one."""
    clean_sandbox.faults.set(latency_ms=40)

    class CountingTransport(httpx.AsyncHTTPTransport):
        def __init__(self) -> None:
            super().__init__()
            self.in_flight = self.peak = 0

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            try:
                return await super().handle_async_request(request)
            finally:
                self.in_flight -= 1

    async def peak(split: bool) -> int:
        transport = CountingTransport()
        async with make_client(max_concurrency=6, transport=transport) as client:
            scan = scan_databases(client, [DatabaseScan(db("budget_lines"))], split=split)
            pages = pages_of(await collect(scan))
            assert len(pages) == 1500
        return transport.peak

    assert asyncio.run(peak(split=False)) == 1
    assert asyncio.run(peak(split=True)) >= 5


def test_concurrent_scan_of_several_databases(
    sandbox: SandboxServer, make_client: MakeClient, db: DbId, truth_ids: TruthIds
) -> None:
    scans = [DatabaseScan(db(key), name=key) for key in DEMO]

    async def main() -> list[Any]:
        async with make_client(max_concurrency=4) as client:
            return await collect(scan_databases(client, scans))

    batches = asyncio.run(main())
    by_name: dict[str, list[str]] = {key: [] for key in DEMO}
    for batch in batches:
        by_name[batch.name].extend(p["id"] for p in batch.pages)
    for key in DEMO:
        assert len(by_name[key]) == len(set(by_name[key]))
        assert set(by_name[key]) == truth_ids(key)
    assert Counter(b.name for b in batches if b.complete) == Counter(DEMO)


def test_incremental_scan_and_safe_watermark(
    clean_sandbox: SandboxServer, make_client: MakeClient, db: DbId
) -> None:
    sandbox = clean_sandbox
    sandbox.clock.freeze(datetime(2026, 11, 2, 9, 30, tzinfo=UTC))
    changed = [p["id"] for p in sandbox.notion.truth("risks")[:3]]
    for page_id in changed:
        sandbox.notion.edit_page(page_id, {"Status": "Closed"})
    watermark = datetime(2026, 11, 2, 9, 30, tzinfo=UTC) - timedelta(minutes=2)

    async def main() -> tuple[list[Any], int]:
        async with make_client() as client:
            batches = await collect(scan_databases(client, [DatabaseScan(db("risks"), since=watermark)]))
            return batches, client.stats.requests

    batches, requests = asyncio.run(main())
    assert {p["id"] for p in pages_of(batches)} == set(changed)
    assert requests == 1  # few changes: one request, no probe, no slicing
    assert all(b.complete_before is None or b.complete_before >= watermark for b in batches)

    async def full() -> list[Any]:
        async with make_client(max_concurrency=4, page_size=20) as client:
            return await collect(scan_databases(client, [DatabaseScan(db("budget_lines"))]))

    # complete_before is a safe watermark: nothing edited before it is still to come.
    to_come = Counter(parse_time(p["last_edited_time"]) for p in sandbox.notion.truth("budget_lines"))
    guarantees = 0
    for batch in asyncio.run(full()):
        to_come.subtract(parse_time(p["last_edited_time"]) for p in batch.pages)
        if batch.complete_before is not None:
            guarantees += 1
            assert all(t >= batch.complete_before for t, n in to_come.items() if n > 0)
    assert guarantees > 0 and not +to_come


def test_scan_from_sync_code_and_stopping_early(
    sandbox: SandboxServer, make_client: MakeClient, db: DbId, truth_ids: TruthIds
) -> None:
    """Sync code runs a scan with asyncio.run; leaving a scan early (closing it) stops its slices."""

    async def main() -> tuple[list[str], PageBatch, int, int]:
        async with make_client() as c:
            scan = scan_databases(c, [DatabaseScan(db("actions"), name="actions")])
            ids = [page["id"] for batch in await collect(scan) for page in batch.pages]
            async with aclosing(scan_databases(c, [DatabaseScan(db("budget_lines"))])) as batches:
                first = await anext(batches)  # stopping early closes the scan
            running = len(asyncio.all_tasks() - {asyncio.current_task()})
            return ids, first, c.stats.requests, running

    ids, first, requests, running = asyncio.run(main())
    assert requests >= 4
    assert set(ids) == truth_ids("actions")
    assert first.pages
    assert running == 0  # no slice or probe left behind


def test_newest_edit_is_none_for_an_empty_database(
    clean_sandbox: SandboxServer, make_client: MakeClient, db: DbId
) -> None:
    for page in clean_sandbox.notion.truth("programs"):
        clean_sandbox.notion.trash_page(page["id"])

    async def newest(version: str) -> tuple[datetime | None, int]:
        async with make_client(api_version=version) as client:
            return await client.newest_edit(db("programs")), client.stats.requests

    assert asyncio.run(newest("2022-06-28")) == (None, 1)  # one query per target
    assert asyncio.run(newest("2025-09-03")) == (None, 2)  # + the retrieve that lists its data sources


def test_newest_edit_follows_an_edit(clean_sandbox: SandboxServer, make_client: MakeClient, db: DbId) -> None:
    sandbox = clean_sandbox

    def truth_newest() -> datetime:
        return max(t for p in sandbox.notion.truth("risks") if (t := parse_time(p["last_edited_time"])))

    async def newest(version: str) -> datetime | None:
        async with make_client(api_version=version) as client:
            return await client.newest_edit(db("risks"))

    before = truth_newest()
    assert asyncio.run(newest("2022-06-28")) == asyncio.run(newest("2025-09-03")) == before

    # An edit well after every page, 42 s into a minute: Notion (and the emulator) round edits to the minute.
    edited_at = before.replace(second=0, microsecond=0) + timedelta(hours=3)
    sandbox.clock.freeze(edited_at + timedelta(seconds=42))
    risk = sandbox.notion.truth("risks")[57]["id"]
    sandbox.notion.edit_page(risk, {"Status": "Closed"})
    assert truth_newest() == edited_at
    assert asyncio.run(newest("2022-06-28")) == asyncio.run(newest("2025-09-03")) == edited_at
