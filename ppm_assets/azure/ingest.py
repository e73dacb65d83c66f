"""Reading one subscription from Azure into bronze snapshot rows (the assets' work, without Dagster)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

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


def _snapshot(
    client: AzureClient,
    subscription_id: str,
    run_id: str,
    progress: Progress,
    what: str,
    pages: Callable[[str], Iterable[list[dict[str, Any]]]],
    to_records: Callable[..., list[dict[str, Any]]],
    to_table: Callable[[list[dict[str, Any]]], pa.Table],
    first: Callable[[datetime], list[dict[str, Any]]] = lambda _: [],
) -> Snapshot:
    """One snapshot: the marker, the `first` records (read before any page), then every page as records; with
    the requests, 429s and pacing waits it cost."""
    started = datetime.now(UTC)
    before = (client.stats.requests, client.stats.throttled, client.stats.waited_s)
    head = first(started)
    records = [snapshot_marker(subscription_id, started, run_id), *head]
    count = 0
    for number, page in enumerate(pages(subscription_id), start=1):
        page_records = to_records(page, subscription_id, started, run_id)
        records.extend(page_records)
        count += len(page_records)
        progress(f"subscription {subscription_id}: {count:,} {what} read (page {number})")
    return Snapshot(
        subscription_id=subscription_id,
        table=to_table(records),
        rows=count,
        resource_groups=len(head),
        requests=client.stats.requests - before[0],
        throttled=client.stats.throttled - before[1],
        waited_s=round(client.stats.waited_s - before[2], 3),
        seconds=round((datetime.now(UTC) - started).total_seconds(), 3),
    )


def inventory_snapshot(
    client: AzureClient, subscription_id: str, run_id: str, progress: Progress = lambda _: None
) -> Snapshot:
    """The subscription's resource groups and resources as one bronze snapshot (one atomic append later).

    The resource groups are read first: a subscription the principal cannot see fails here, before anything
    is written.
    """
    return _snapshot(
        client,
        subscription_id,
        run_id,
        progress,
        "resources",
        client.resource_pages,
        inventory_records,
        resources_table,
        first=lambda started: inventory_records(
            client.containers(subscription_id), subscription_id, started, run_id
        ),
    )


def advisor_snapshot(
    client: AzureClient, subscription_id: str, run_id: str, progress: Progress = lambda _: None
) -> Snapshot:
    """The subscription's Advisor recommendations (raw pages, flattened) as one bronze snapshot."""
    return _snapshot(
        client,
        subscription_id,
        run_id,
        progress,
        "Advisor recommendations",
        client.recommendation_pages,
        advisor_records,
        advisor_table,
    )
