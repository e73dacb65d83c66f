"""Benchmark: peak memory of syncing 1,000,000 Notion pages into bronze (DESIGN §9: <= 1 GB).

The emulator runs in a child process (rate limit lifted) so the peak RSS measured here is the sync's own:
the real engine (`NotionBronzeSync`) reading one 1M-page database with time slices, flattening every page,
and appending Delta commits of 5,000 rows. Prints one JSON object:
{"pages": ..., "peak_rss_mb": ..., "seconds": ..., ...}. Takes a few minutes on 2 cores.

    .venv/bin/python bench/sync_memory.py [--pages 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import tempfile
import time
import uuid

from ppm_assets.notion.sync import NotionBronzeSync
from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.notion import NotionClient
from ppm_sandbox import SandboxProcess


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=1_000_000)
    parser.add_argument("--batch-rows", type=int, default=5_000)
    args = parser.parse_args()
    with SandboxProcess(rate="unlimited", bench_pages=args.pages, bench_databases=1) as sandbox, \
            tempfile.TemporaryDirectory() as root:  # fmt: skip
        database_id = sandbox.databases["bench_1"]["database_id"]
        lakehouse = LocalLakehouse(root=root)

        async def run():
            async with NotionClient(token="secret_bench_memory", base_url=sandbox.notion_url, rate_limit_rps=10_000,
                                    rate_limit_burst=1_000, max_concurrency=8) as client:  # fmt: skip
                return await NotionBronzeSync(
                    client, lakehouse, {"bench_1": database_id}, run_id=uuid.uuid4().hex, batch_rows=args.batch_rows,
                    progress=lambda line: None,
                ).run()  # fmt: skip

        started = time.perf_counter()
        report = asyncio.run(run())
        seconds = time.perf_counter() - started
        stored = lakehouse.info("bronze.notion_raw_pages").num_rows
        server_rss = sandbox.rss_bytes()
    print(
        json.dumps(
            {
                "pages": report.databases["bench_1"].written,
                "bronze_rows": stored,
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "seconds": round(seconds, 1),
                "pages_per_s": round(report.databases["bench_1"].written / seconds, 1),
                "delta_commits": report.commits,
                "requests": report.client_stats.get("notion_requests"),
                "emulator_rss_mb": round(server_rss / 2**20, 1) if server_rss else None,
            }
        )
    )


if __name__ == "__main__":
    main()
