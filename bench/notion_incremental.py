"""Benchmark: requests an incremental Notion sync makes per database (DESIGN §9).

Runs the real sync engine (`NotionBronzeSync`, what `bronze/notion_raw_pages` runs) against the emulator:
a first full sync of the five demo databases, then (a) an incremental sync with no change, then (b) k pages
of Budget Lines edited and an incremental sync of that database. Counts the emulator's query requests.
Then one change-sensor cycle's Notion requests per database: the probe (newest edit) and the id listing that
finds deletions, with the listing interval and the share of a 3 requests/s token it spends at the default
NOTION_LISTING_SHARE. Prints one JSON object. Targets: 1 per database without changes, ceil(k/100) + 1 with
k changes; a listing costs ceil(live pages / 100).

    .venv/bin/python bench/notion_incremental.py [--k 250]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import tempfile
import uuid

from ppm_assets.notion.sync import NotionBronzeSync
from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.notion import NotionClient
from ppm_resources.settings import NotionSettings
from ppm_sandbox import FaultSpec, SandboxConfig, SandboxServer
from ppm_sensors.notion.deletions import CYCLE, listing_interval

QUERY = "POST /notion/v1/databases/{id}/query"


def sync(sandbox: SandboxServer, lakehouse: LocalLakehouse, ids: dict[str, str]) -> int:
    """One sync; returns the query requests the emulator served for it."""

    async def run() -> None:
        async with NotionClient(token="secret_bench_incremental", base_url=sandbox.notion_url, rate_limit_rps=500,
                                rate_limit_burst=100) as client:  # fmt: skip
            await NotionBronzeSync(client, lakehouse, ids, run_id=uuid.uuid4().hex).run()

    sandbox.stats.reset()
    asyncio.run(run())
    return sandbox.stats.snapshot()["by_endpoint"].get(QUERY, 0)


def sensor_cycle(sandbox: SandboxServer, ids: dict[str, str]) -> dict[str, dict[str, int]]:
    """Query requests of one sensor cycle per database: the probe and the id listing; and the pages listed."""

    async def run() -> dict[str, dict[str, int]]:
        result: dict[str, dict[str, int]] = {}
        async with NotionClient(token="secret_bench_listing", base_url=sandbox.notion_url, rate_limit_rps=500,
                                rate_limit_burst=100) as client:  # fmt: skip
            for name, database_id in ids.items():
                sandbox.stats.reset()
                await client.newest_edit(database_id)
                probe = sandbox.stats.snapshot()["by_endpoint"].get(QUERY, 0)
                sandbox.stats.reset()
                pages = len(await client.list_page_ids(database_id))
                listing = sandbox.stats.snapshot()["by_endpoint"].get(QUERY, 0)
                result[name] = {"probe": probe, "listing": listing, "live_pages": pages}
        return result

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--k", type=int, default=250, help="pages edited before the second incremental sync")
    args = parser.parse_args()
    with (
        SandboxServer(SandboxConfig(faults=FaultSpec.unlimited())) as sandbox,
        tempfile.TemporaryDirectory() as root,
    ):
        store = sandbox.notion
        names = ["programs", "projects", "budget_lines", "risks", "actions"]
        ids = {name: store.database(name).id for name in names}
        lakehouse = LocalLakehouse(root=root)
        first = sync(sandbox, lakehouse, ids)
        no_change = sync(sandbox, lakehouse, ids)
        for index, page in enumerate(store.truth("budget_lines")[: args.k]):
            store.edit_page(page["id"], {"Amount": 1_000 + index})
        k_changes = sync(sandbox, lakehouse, {"budget_lines": ids["budget_lines"]})
        cycle = sensor_cycle(sandbox, ids)
    share, rps = NotionSettings.model_fields["listing_share"].default, 3.0
    pages = {name: counts["live_pages"] for name, counts in cycle.items()}
    interval = listing_interval(pages, names, share=share, rate_limit_rps=rps, cycle=CYCLE).total_seconds()
    listing_total = sum(counts["listing"] for counts in cycle.values())
    print(
        json.dumps(
            {
                "requests_no_change_per_db": no_change / len(names),
                "requests_k_changes_per_db": k_changes,
                "k": args.k,
                "target_k_changes": math.ceil(args.k / 100) + 1,
                "requests_first_full_sync": first,
                "databases": len(names),
                "sensor_cycle_requests_per_db": cycle,
                "listing_requests_per_cycle": listing_total,
                "listing_interval_s": round(interval, 1),
                "listing_share_of_3_rps": round(listing_total / interval / rps, 3),
                "listing_share_setting": share,
            }
        )
    )


if __name__ == "__main__":
    main()
