"""Benchmark: Notion full sync against the emulator at 30 req/s, burst 10, 200 ms latency (DESIGN §9).

Cases: (a) 30,000 pages in one database (time-sliced scan), (b) 30,000 pages over five databases
(concurrent scans). Each case runs in its own child process, which starts the emulator as a grandchild
(`ppm-sandbox serve` via SandboxProcess), so `peak_rss_mb` is the client's own peak. Pages are flattened
to bronze rows (and dropped) as a real sync would. Prints one JSON object.

    .venv/bin/python bench/notion_sync.py [--pages 30000] [--rate 30] [--latency-ms 200]

achieved_rps = requests the emulator served (its stats, 429s included) / wall time of the scan.
Targets: ratio >= 0.90 and pct_429 < 1 in both cases.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from typing import Any

CASES = {"one_database": 1, "five_databases": 5}
TOKEN = "secret_bench_notion_sync"


def run_case(name: str, pages: int, rate: float, burst: int, latency_ms: float) -> dict[str, Any]:
    """One case, in this process: emulator in a child process, client here."""
    from ppm_assets.notion.bronze_rows import batch_rows
    from ppm_resources.notion import DatabaseScan, NotionClient, scan_databases
    from ppm_sandbox import SandboxProcess

    databases = CASES[name]
    with SandboxProcess(
        rate=rate, burst=burst, latency_ms=latency_ms, bench_pages=pages, bench_databases=databases
    ) as sandbox:
        ids = [sandbox.databases[f"bench_{i + 1}"]["database_id"] for i in range(databases)]

        async def sync() -> tuple[int, int, dict[str, Any]]:
            # Sizing: 30 req/s x ~0.25 s latency needs ~8 requests in flight; 12 leaves room for latency
            # spikes without letting a server stall queue more requests than its burst absorbs. The client's
            # burst stays below the server's so arrival jitter does not turn into 429s (each one costs a
            # >= 1 s Retry-After pause for every request of the token).
            async with NotionClient(
                token=TOKEN,
                base_url=sandbox.notion_url,
                rate_limit_rps=rate,
                rate_limit_burst=max(1, burst // 2),
                max_concurrency=12,
            ) as client:
                rows = 0
                scans = [DatabaseScan(db, name=f"bench_{i + 1}") for i, db in enumerate(ids)]
                async for batch in scan_databases(client, scans):
                    rows += len(batch_rows(batch))
                return rows, client.stats.requests, client.stats.as_metadata()

        sandbox.reset_stats()
        started = time.perf_counter()
        rows, client_requests, client_meta = asyncio.run(sync())
        wall = time.perf_counter() - started
        stats = sandbox.stats()

    served = stats["total_requests"]
    achieved = served / wall
    return {
        "databases": databases,
        "pages": rows,
        "wall_s": round(wall, 2),
        "rate_limit_rps": rate,
        "achieved_rps": round(achieved, 2),
        "ratio": round(achieved / rate, 3),
        "pages_per_s": round(rows / wall, 1),
        "requests": served,
        "pct_429": round(100.0 * stats["rate_limited"] / max(served, 1), 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "client_requests": client_requests,
        "slices": client_meta["notion_slices"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=30_000)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--case", choices=sorted(CASES), help="run one case in this process (internal)")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.pages, args.rate, args.burst, args.latency_ms)))
        return
    result: dict[str, Any] = {
        "benchmark": "notion_sync",
        "latency_ms": args.latency_ms,
        "sandbox_burst": args.burst,
    }
    for name in CASES:
        child = subprocess.run(
            [
                sys.executable,
                __file__,
                "--case",
                name,
                "--pages",
                str(args.pages),
                "--rate",
                str(args.rate),
                "--burst",
                str(args.burst),
                "--latency-ms",
                str(args.latency_ms),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        result[name] = json.loads(child.stdout.strip().splitlines()[-1])
    cases = [result[name] for name in CASES]
    result["meets_target"] = all(c["ratio"] >= 0.9 and c["pct_429"] < 1 for c in cases)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
