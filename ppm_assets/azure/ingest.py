"""Reading one subscription from Azure into bronze snapshot rows (the assets' work, without Dagster)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa

from ppm_assets.azure.bronze_rows import (
    advisor_records,
    advisor_table,
    inventory_records,
    resources_table,
    snapshot_marker,
)
from ppm_resources.azure.client import AzureClient

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Snapshot:
    subscription_id: str
    table: pa.Table
    rows: int  # resources (or recommendations), not counting the marker
    resource_groups: int
    requests: int
    throttled: int
    waited_s: float
    seconds: float


def inventory_snapshot(
    client: AzureClient, subscription_id: str, run_id: str, progress: Progress = lambda _: None
) -> Snapshot:
    """The subscription's resource groups and resources as one bronze snapshot (one atomic append later).

    The resource groups are read first: a subscription the principal cannot see fails here, before anything
    is written.
    """
    started = datetime.now(UTC)
    before = (client.stats.requests, client.stats.throttled, client.stats.waited_s)
    containers = inventory_records(client.containers(subscription_id), subscription_id, started, run_id)
    records = [snapshot_marker(subscription_id, started, run_id), *containers]
    resources = 0
    for number, page in enumerate(client.resource_pages(subscription_id), start=1):
        page_records = inventory_records(page, subscription_id, started, run_id)
        records.extend(page_records)
        resources += len(page_records)
        progress(f"subscription {subscription_id}: {resources:,} resources read (page {number})")
    return Snapshot(
        subscription_id=subscription_id,
        table=resources_table(records),
        rows=resources,
        resource_groups=len(containers),
        requests=client.stats.requests - before[0],
        throttled=client.stats.throttled - before[1],
        waited_s=round(client.stats.waited_s - before[2], 3),
        seconds=round((datetime.now(UTC) - started).total_seconds(), 3),
    )


def advisor_snapshot(
    client: AzureClient, subscription_id: str, run_id: str, progress: Progress = lambda _: None
) -> Snapshot:
    """The subscription's Advisor recommendations (raw pages, flattened) as one bronze snapshot."""
    started = datetime.now(UTC)
    before = (client.stats.requests, client.stats.throttled, client.stats.waited_s)
    records = [snapshot_marker(subscription_id, started, run_id)]
    count = 0
    for number, page in enumerate(client.recommendation_pages(subscription_id), start=1):
        page_records = advisor_records(page, subscription_id, started, run_id)
        records.extend(page_records)
        count += len(page_records)
        progress(f"subscription {subscription_id}: {count:,} Advisor recommendations read (page {number})")
    return Snapshot(
        subscription_id=subscription_id,
        table=advisor_table(records),
        rows=count,
        resource_groups=0,
        requests=client.stats.requests - before[0],
        throttled=client.stats.throttled - before[1],
        waited_s=round(client.stats.waited_s - before[2], 3),
        seconds=round((datetime.now(UTC) - started).total_seconds(), 3),
    )
