"""NotionClient reads against the emulator over real HTTP: shapes, pagination, slicing, both API versions."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from ppm_resources.notion import BlockingNotionClient, DatabaseScan, NotionClient, PageBatch, bronze_row
from ppm_resources.notion.rows import parse_time
from ppm_sandbox import SandboxServer

DEMO = ("programs", "projects", "budget_lines", "risks", "actions")
MakeClient = Callable[..., NotionClient]
DbId = Callable[[str], str]
TruthIds = Callable[[str], set[str]]


async def collect(batches: AsyncIterator[PageBatch]) -> list[PageBatch]:
    return [batch async for batch in batches]


def pages_of(batches: list[PageBatch]) -> list[dict[str, Any]]:
    return [page for batch in batches for page in batch.pages]


def _matches(kind: str, flat: Any, truth: Any, schema: dict[str, Any]) -> bool:
    """Whether a flattened value says what the emulator's plain "truth" value says."""
    if kind in ("multi_select", "relation", "people", "files"):
        return flat == list(truth or [])
    if kind in ("created_by", "last_edited_by"):
        return [flat] == truth
    if truth is None or truth == "":
        return flat is None
    if isinstance(truth, bool):
        return flat == ("true" if truth else "false")
    if kind == "unique_id":
        return flat == f"{schema['unique_id']['prefix']}-{truth}"
    if isinstance(truth, int | float):
        return flat is not None and float(flat) == truth
    if isinstance(truth, list):  # rollup arrays
        return flat == [str(v) for v in truth]
    if kind == "date" and "/" in flat:  # ranges: truth keeps the start only
        return flat.split("/")[0].startswith(truth)
    return flat == truth


@pytest.mark.parametrize("key", DEMO)
def test_every_property_flattens_to_the_truth(
    sandbox: SandboxServer, make_client: MakeClient, key: str, db: DbId
) -> None:
    async def main() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        async with make_client() as client:
            schema = await client.retrieve_database(db(key))
            rows = [row for batch in await collect(client.iter_pages(db(key))) for row in batch.rows()]
            return schema["properties"], rows

    schema, rows = asyncio.run(main())
    truth = {page["id"]: page for page in sandbox.notion.truth(key)}
    assert {row["page_id"] for row in rows} == set(truth)
    seen_types = set()
    for row in rows:
        expected = truth[row["page_id"]]
        assert row["last_edited_time"] == parse_time(expected["last_edited_time"])
        flat = {**row["properties"], **row["property_lists"]}
        assert set(flat) == set(schema)
        for name, value in expected["properties"].items():
            kind = schema[name]["type"]
            seen_types.add(kind)
            if kind == "rich_text" and name == "Description":  # truth drops mention text; see unit tests
                continue
            assert _matches(kind, flat[name], value, schema[name]), (key, name, flat[name], value)
    if key == "programs":
        assert {
            "files",
            "verification",
            "created_by",
            "last_edited_time",
            "multi_select",
            "rollup",
        } <= seen_types


def test_pagination_across_many_cursors(
    sandbox: SandboxServer, make_client: MakeClient, db: DbId, truth_ids: TruthIds
) -> None:
    async def main() -> tuple[list[dict[str, Any]], int]:
        async with make_client(page_size=7) as client:
            batches = await collect(client.iter_pages(db("budget_lines"), split=False))
            return pages_of(batches), client.stats.requests

    pages, requests = asyncio.run(main())
    ids = [page["id"] for page in pages]
    assert len(ids) == len(set(ids)) == 1500
    assert set(ids) == truth_ids("budget_lines")
    assert requests == -(-1500 // 7)  # one request per page of 7: 215 cursors followed
    edited = [page["last_edited_time"] for page in pages]
    assert edited == sorted(edited)  # one slice: ascending by last_edited_time


def test_sixty_item_relation_is_completed(sandbox: SandboxServer, make_client: MakeClient) -> None:
    flagship = sandbox.notion.truth("projects")[0]
    full = flagship["properties"]["Budget Lines"]
    assert len(full) == 60

    async def main() -> tuple[dict[str, Any], list[dict[str, Any]], int]:
        async with make_client() as client:
            raw = await client.retrieve_page(flagship["id"])
            assert raw is not None
            truncated = raw["properties"]["Budget Lines"]
            assert truncated["has_more"] is True and len(truncated["relation"]) == 25
            items = await client.property_items(flagship["id"], truncated["id"])
            completed = await client.complete_truncated(raw)
            return completed, items, client.stats.truncated_properties_completed

    page, items, completed = asyncio.run(main())
    assert [item["relation"]["id"] for item in items] == full
    row = bronze_row(page, database_name="projects")
    assert row["property_lists"]["Budget Lines"] == full
    assert page["properties"]["Budget Lines"]["has_more"] is False
    assert completed == 1


def test_people_over_25_are_completed_without_a_has_more_flag(
    clean_sandbox: SandboxServer, make_client: MakeClient, db: DbId
) -> None:
    people = clean_sandbox.notion.model.people_ids
    program = clean_sandbox.notion.truth("programs")[0]["id"]
    owners = (people * 3)[:30]
    clean_sandbox.notion.edit_page(program, {"Owner": owners})

    async def main() -> list[PageBatch]:
        async with make_client() as client:
            return await collect(client.iter_pages(db("programs")))

    rows = {r["page_id"]: r for b in asyncio.run(main()) for r in b.rows()}
    assert rows[program]["property_lists"]["Owner"] == owners


@pytest.mark.parametrize("key", ["projects", "budget_lines"])
def test_both_api_versions_return_the_same_pages(
    sandbox: SandboxServer, make_client: MakeClient, key: str, db: DbId, truth_ids: TruthIds
) -> None:
    async def rows(version: str) -> list[dict[str, Any]]:
        async with make_client(api_version=version) as client:
            return [r for b in await collect(client.iter_pages(db(key), name=key)) for r in b.rows()]

    old, new = asyncio.run(rows("2022-06-28")), asyncio.run(rows("2025-09-03"))
    data_source = sandbox.notion.database(key).data_source_id
    assert {r["data_source_id"] for r in old} == {None}
    assert {r["data_source_id"] for r in new} == {data_source}
    assert {r["database_id"] for r in old + new} == {db(key)}
    assert {(r["page_id"], r["content_hash"]) for r in old} == {
        (r["page_id"], r["content_hash"]) for r in new
    }
    assert len(old) == len(truth_ids(key))


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
            batches = await collect(client.iter_pages(db("budget_lines"), split=split))
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
            pages = pages_of(await collect(client.iter_pages(db("budget_lines"), split=split)))
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
            return await collect(client.iter_many(scans))

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
            batches = await collect(client.iter_pages(db("risks"), since=watermark))
            return batches, client.stats.requests

    batches, requests = asyncio.run(main())
    assert {p["id"] for p in pages_of(batches)} == set(changed)
    assert requests == 1  # few changes: one request, no probe, no slicing
    assert all(b.complete_before is None or b.complete_before >= watermark for b in batches)

    async def full() -> list[Any]:
        async with make_client(max_concurrency=4, page_size=20) as client:
            return await collect(client.iter_pages(db("budget_lines")))

    # complete_before is a safe watermark: nothing edited before it is still to come.
    to_come = Counter(parse_time(p["last_edited_time"]) for p in sandbox.notion.truth("budget_lines"))
    guarantees = 0
    for batch in asyncio.run(full()):
        to_come.subtract(parse_time(p["last_edited_time"]) for p in batch.pages)
        if batch.complete_before is not None:
            guarantees += 1
            assert all(t >= batch.complete_before for t, n in to_come.items() if n > 0)
    assert guarantees > 0 and not +to_come


def test_page_ids_trash_and_deletion(clean_sandbox: SandboxServer, make_client: MakeClient, db: DbId) -> None:
    sandbox = clean_sandbox
    risks = [p["id"] for p in sandbox.notion.truth("risks")]
    trashed, deleted = risks[0], risks[1]
    sandbox.notion.trash_page(trashed)
    sandbox.notion.delete_page(deleted)

    async def main() -> tuple[set[str], dict[str, Any] | None, dict[str, Any] | None]:
        async with make_client() as client:
            ids = await client.list_page_ids(db("risks"))
            return (
                ids,
                await client.retrieve_page(trashed),
                await client.retrieve_page(deleted, missing_ok=True),
            )

    ids, trashed_page, deleted_page = asyncio.run(main())
    assert ids == set(risks) - {trashed, deleted}
    assert trashed_page is not None and trashed_page["in_trash"] is True
    assert bronze_row(trashed_page, database_name="risks")["in_trash"] is True
    assert deleted_page is None


def test_write_back_create_and_update(
    clean_sandbox: SandboxServer, make_client: MakeClient, db: DbId
) -> None:
    async def main(version: str) -> dict[str, Any]:
        async with make_client(api_version=version) as client:
            created = await client.create_page(
                db("actions"),
                {
                    "Title": {"title": [{"text": {"content": f"Right-size VMs ({version})"}}]},
                    "Source ID": {"rich_text": [{"text": {"content": f"advisor:{version}"}}]},
                },
            )
            await client.update_page(created["id"], properties={"Priority": {"select": {"name": "High"}}})
            page = await client.retrieve_page(created["id"])
            assert page is not None
            return page

    for version in ("2022-06-28", "2025-09-03"):
        row = bronze_row(asyncio.run(main(version)), database_name="actions")
        assert row["properties"]["Title"] == f"Right-size VMs ({version})"
        assert row["properties"]["Source ID"] == f"advisor:{version}"
        assert row["properties"]["Priority"] == "High"


def test_blocking_client_for_sync_code(
    sandbox: SandboxServer, token: str, db: DbId, truth_ids: TruthIds
) -> None:
    with BlockingNotionClient(
        token=token, base_url=sandbox.notion_url, rate_limit_rps=1000, rate_limit_burst=100
    ) as c:
        rows = [row for batch in c.iter_pages(db("actions"), name="actions") for row in batch.rows()]
        first = next(iter(c.iter_pages(db("budget_lines"))))  # stopping early closes the scan
        assert c.stats.requests >= 4
    assert {r["page_id"] for r in rows} == truth_ids("actions")
    assert first.pages
