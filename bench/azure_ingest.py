"""Benchmark: Azure Resource Graph ingestion against the quota ceiling (DESIGN §9).

The sandbox runs in its own process with 100,000 resources in one subscription and Resource Graph's real quota
(15 requests per 5-second window per principal, 429 `RateLimiting` beyond it). The product's ingestion of that
subscription (`inventory_snapshot`, what `bronze/azure_resources` runs: the resource groups, then every resource
in `$top` 1000 pages through the `$skipToken` loop, paced by the client's quota pacer) is timed, then appended to a
temporary lakehouse. Ceiling: 15 requests / 5 s x 1,000 rows = 3,000 rows/s; ratio = rows_per_s / ceiling over
the paging (the part the quota bounds); pct_429 = 429 answers / requests. The sandbox is warmed up first (its
first query over a fresh 100,000-resource inventory builds the inventory) and the quota window left to reset.
Prints one JSON object. Target: ratio >= 0.9 with pct_429 < 1.

    .venv/bin/python bench/azure_ingest.py [--resources 100000]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid

from ppm_assets.azure.ingest import inventory_snapshot
from ppm_assets.tables import AZURE_RESOURCES_RAW
from ppm_resources.azure.resource import AzureResource
from ppm_resources.lakehouse import LocalLakehouse
from ppm_sandbox import SandboxProcess

QUOTA, WINDOW_S, PAGE_ROWS = 15, 5.0, 1000
CEILING_ROWS_PER_S = QUOTA / WINDOW_S * PAGE_ROWS


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resources", type=int, default=100_000)
    args = parser.parse_args()
    extra = ["--azure-bench-resources", str(args.resources), "--azure-quota", str(QUOTA)]
    extra += ["--azure-quota-window", str(WINDOW_S)]
    with SandboxProcess(rate=None, extra_args=extra) as sandbox:
        principal = sandbox.info["azure"]
        url = sandbox.service_url("azure")
        azure = AzureResource(
            tenant_id=principal["tenant_id"],
            client_id=principal["client_id"],
            client_secret=principal["client_secret"],
            authority_url=url,
            arm_url=url,
            credential_scope="https://management.azure.com/.default",
            ca_bundle=str(sandbox.ca_cert),
            quota_requests=QUOTA,
            quota_window_s=WINDOW_S,
        )
        subscription = sorted(principal["subscriptions"])[0]
        with azure.client() as client:
            started = time.perf_counter()
            next(iter(client.resource_pages(subscription)))  # warm-up: token, TLS, the sandbox's inventory
            log(f"warm-up {time.perf_counter() - started:.1f} s; waiting for the quota window to reset")
            time.sleep(WINDOW_S + 1)
            client.stats.__init__()  # count the measured ingestion only
            paging = {"started": 0.0, "ended": 0.0, "rows": 0}
            pages = client.resource_pages

            def timed_pages(subscription_id: str):  # the quota-bound part: resource pages only
                paging["started"] = time.perf_counter()
                for page in pages(subscription_id):
                    paging["rows"] += len(page)
                    yield page
                paging["ended"] = time.perf_counter()

            client.resource_pages = timed_pages  # type: ignore[method-assign]
            started = time.perf_counter()
            snapshot = inventory_snapshot(client, subscription, uuid.uuid4().hex, log)
            ingest_s = time.perf_counter() - started
            stats = client.stats
        lakehouse = LocalLakehouse(root=tempfile.mkdtemp(prefix="bench-azure-"))
        started = time.perf_counter()
        lakehouse.append(AZURE_RESOURCES_RAW.name, snapshot.table)
        append_s = time.perf_counter() - started
    rows = int(paging["rows"])
    seconds = paging["ended"] - paging["started"]
    rows_per_s = rows / seconds
    print(
        json.dumps(
            {
                "rows": rows,
                "seconds": round(seconds, 2),
                "rows_per_s": round(rows_per_s, 1),
                "ceiling_rows_per_s": int(CEILING_ROWS_PER_S),
                "ratio": round(rows_per_s / CEILING_ROWS_PER_S, 3),
                "pct_429": round(100 * stats.throttled / max(1, stats.requests), 2),
                "requests": stats.requests,
                "throttled": stats.throttled,
                "pacing_wait_s": round(stats.waited_s, 2),
                "snapshot_s": round(ingest_s, 2),
                "resource_groups": snapshot.resource_groups,
                "append_s": round(append_s, 2),
                "target": {"ratio": 0.9, "pct_429_below": 1.0},
            }
        )
    )


if __name__ == "__main__":
    main()
