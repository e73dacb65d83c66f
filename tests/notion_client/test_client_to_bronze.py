"""Pages read by the client, as bronze rows: every property flattened to the emulator's truth, completed
relation/people lists, both API versions, trash and deletion, write-back.

Bronze rows are built in `ppm_assets.notion.bronze_rows`, so unlike the other client tests (and like
test_flatten.py) this module needs `ppm_assets` to import.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from ppm_assets.notion.bronze_rows import batch_rows, bronze_row
from ppm_resources.notion import DatabaseScan, NotionClient, PageBatch, scan_databases
from ppm_resources.notion.times import parse_time
from ppm_sandbox import SandboxServer

DEMO = ("programs", "projects", "budget_lines", "risks", "actions")
MakeClient = Callable[..., NotionClient]
DbId = Callable[[str], str]
TruthIds = Callable[[str], set[str]]


async def collect(batches: AsyncIterator[PageBatch]) -> list[PageBatch]:
    return [batch async for batch in batches]


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
        prefix = schema["unique_id"]["prefix"]
        return flat == (f"{prefix}-{truth}" if prefix else str(truth))
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
            batches = await collect(scan_databases(client, [DatabaseScan(db(key))]))
            rows = [row for batch in batches for row in batch_rows(batch)]
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
            return await collect(scan_databases(client, [DatabaseScan(db("programs"))]))

    rows = {r["page_id"]: r for b in asyncio.run(main()) for r in batch_rows(b)}
    assert rows[program]["property_lists"]["Owner"] == owners


@pytest.mark.parametrize("key", ["projects", "budget_lines"])
def test_both_api_versions_return_the_same_pages(
    sandbox: SandboxServer, make_client: MakeClient, key: str, db: DbId, truth_ids: TruthIds
) -> None:
    async def rows(version: str) -> list[dict[str, Any]]:
        async with make_client(api_version=version) as client:
            batches = await collect(scan_databases(client, [DatabaseScan(db(key), name=key)]))
            return [r for b in batches for r in batch_rows(b)]

    old, new = asyncio.run(rows("2022-06-28")), asyncio.run(rows("2025-09-03"))
    data_source = sandbox.notion.database(key).data_source_id
    assert {r["data_source_id"] for r in old} == {None}
    assert {r["data_source_id"] for r in new} == {data_source}
    assert {r["database_id"] for r in old + new} == {db(key)}
    assert {(r["page_id"], r["content_hash"]) for r in old} == {
        (r["page_id"], r["content_hash"]) for r in new
    }
    assert len(old) == len(truth_ids(key))


def test_page_ids_trash_and_deletion(clean_sandbox: SandboxServer, make_client: MakeClient, db: DbId) -> None:
    sandbox = clean_sandbox
    risks = [p["id"] for p in sandbox.notion.truth("risks")]
    trashed, deleted = risks[0], risks[1]
    sandbox.notion.trash_page(trashed)
    sandbox.notion.delete_page(deleted)

    async def main() -> tuple[set[str], dict[str, Any] | None, dict[str, Any] | None]:
        async with make_client() as client:
            # What a reconciliation reads: every live page id, title only, no relation completion.
            scan = scan_databases(
                client, [DatabaseScan(db("risks"))], complete_truncated=False, filter_properties=["title"]
            )
            ids = {page["id"] for batch in await collect(scan) for page in batch.pages}
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
