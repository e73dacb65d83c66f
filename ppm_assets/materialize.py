"""Headless materialization of the whole graph (or a selection), recorded in the Dagster instance."""

from __future__ import annotations

import logging
import time
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MaterializeSummary:
    run_id: str
    success: bool
    assets: int
    checks_passed: int
    checks_failed: int
    seconds: float
    errors: tuple[str, ...] = ()


def partition_range_tags(
    asset_graph: BaseAssetGraph, keys: AbstractSet[dg.AssetKey], only: str | None = None
) -> dict[str, str]:
    """Run tags selecting every partition (or `only` one) of the partitioned assets, in one run."""
    partitions_defs = {
        asset_graph.get(key).partitions_def for key in keys if asset_graph.get(key).partitions_def is not None
    }
    if not partitions_defs:
        return {}
    if len(partitions_defs) > 1:
        raise ValueError(
            "the selection mixes partitioned assets with different partitions; select fewer assets"
        )
    partition_keys = next(iter(partitions_defs)).get_partition_keys()
    if only is not None:
        if only not in partition_keys:
            raise ValueError(f"no partition {only!r}; partitions are: {', '.join(partition_keys)}")
        partition_keys = [only]
    return {
        "dagster/asset_partition_range_start": partition_keys[0],
        "dagster/asset_partition_range_end": partition_keys[-1],
    }


def materialize_all(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    selection: str | None = None,
    log_level: str = "INFO",
    *,
    partition: str | None = None,
    op_config: dict[str, dict] | None = None,
    tags: dict[str, str] | None = None,
) -> MaterializeSummary:
    """Run every asset (and its checks) once in process, recorded in `instance`.

    `selection` is a Dagster asset-selection string; `partition` narrows partitioned assets to one key;
    `op_config` is run config per op (e.g. {"bronze__notion_raw_pages": {"full_sync": True}}).
    """
    job = defs.resolve_implicit_global_asset_job_def()
    asset_graph = defs.resolve_asset_graph()
    keys = (dg.AssetSelection.from_string(selection) if selection else dg.AssetSelection.all()).resolve(
        asset_graph
    )
    if not keys:
        raise ValueError(f"selection {selection!r} matches no asset")
    asset_selection = sorted(keys) if selection else None
    started = time.monotonic()
    result = job.execute_in_process(
        instance=instance,
        asset_selection=asset_selection,
        tags={**partition_range_tags(asset_graph, keys, partition), **(tags or {})},
        raise_on_error=False,
        run_config={
            "loggers": {"console": {"config": {"log_level": log_level}}},
            "ops": {name: {"config": config} for name, config in (op_config or {}).items()},
        },
    )
    checks = [
        event.asset_check_evaluation_data
        for event in result.all_events
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    materialized = [e for e in result.all_events if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION]
    return MaterializeSummary(
        run_id=result.run_id,
        success=result.success,
        assets=len(materialized),
        checks_passed=sum(1 for c in checks if c.passed),
        checks_failed=sum(1 for c in checks if not c.passed),
        seconds=time.monotonic() - started,
        errors=tuple(
            f"{event.step_key}: {event.step_failure_data.error.message.strip()}"
            for event in result.all_events
            if event.event_type == dg.DagsterEventType.STEP_FAILURE and event.step_failure_data.error
        ),
    )
