"""A page edited again while an incremental scan runs keeps its newest version in bronze (no lost edit).

The reproduction: an incremental scan hands out page P; P is edited again while the scan runs; minutes later
another page Q is edited; the scan finishes. Dropping P's second read by its id (already delivered) would lose
P's new version while the watermark moves to Q's edit time, so the next sync would start after it.
The edits happen right after the response holding P, through a transport that wraps httpx's own (real HTTP).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable

import httpx

from ppm_assets.notion.sync import NotionBronzeSync
from ppm_resources.notion import NotionClient

from .conftest import Pipeline


class AfterPageRead(httpx.AsyncBaseTransport):
    """Real HTTP; runs `hook` once, right after the first query response that holds `page_id` has arrived."""

    def __init__(self, page_id: str, hook: Callable[[], None]) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._page_id = page_id
        self._hook: Callable[[], None] | None = hook

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if self._hook is not None and request.url.path.endswith("/query"):
            body = await response.aread()
            if self._page_id in {page["id"] for page in json.loads(body).get("results") or []}:
                hook, self._hook = self._hook, None
                hook()
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def latest_titles(pipeline: Pipeline, page_ids: list[str]) -> dict[str, str]:
    listed = ", ".join(f"'{page_id}'" for page_id in page_ids)
    rows = pipeline.lakehouse.query(
        f"""SELECT page_id, properties['Title'] AS title FROM bronze.notion_raw_pages
        WHERE page_id IN ({listed})
        QUALIFY row_number() OVER (PARTITION BY page_id ORDER BY synced_at DESC, last_edited_time DESC) = 1"""
    )
    return {row["page_id"]: row["title"] for row in rows.to_pylist()}


def test_a_page_edited_during_an_incremental_scan_keeps_its_new_version(pipeline: Pipeline) -> None:
    pipeline.sync(["risks"])
    store, clock = pipeline.sandbox.notion, pipeline.sandbox.clock
    clock.freeze()
    p, a, q = (page["id"] for page in store.truth("risks")[:3])
    store.edit_page(p, {"Title": "P first edit"})
    clock.advance(60)
    store.edit_page(a, {"Title": "A edit"})

    def edit_while_scanning() -> None:
        store.edit_page(p, {"Title": "P second edit"})
        clock.advance(240)  # more than the sync's 2-minute overlap
        store.edit_page(q, {"Title": "Q edit"})

    async def incremental() -> None:
        config = pipeline.resource.client_config(page_size=1)  # one page per response
        async with NotionClient(config, transport=AfterPageRead(p, edit_while_scanning)) as client:
            ids = await pipeline.resource.resolve_database_ids(client, pipeline.mapping, ["risks"])
            await NotionBronzeSync(client, pipeline.lakehouse, ids, run_id=uuid.uuid4().hex).run()

    asyncio.run(incremental())
    pipeline.sync(["risks"])  # the next run starts from the watermark the first one left

    assert latest_titles(pipeline, [p, a, q]) == {p: "P second edit", a: "A edit", q: "Q edit"}
    pipeline.build_silver(["risks"])
    pipeline.assert_silver_matches_truth("risks")
