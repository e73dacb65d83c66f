"""Headless materialization of the whole graph (or a selection), recorded in the Dagster instance.

Assets with different partitions (Notion databases, months) cannot share a run, so the selection is cut
into consecutive runs in dependency order: each run holds one partitions definition (all of its partitions,
as a single-run backfill would) plus the unpartitioned assets that come before the next one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import dagster as dg

from ppm_assets.partitions import RANGE_START, range_tags
from ppm_resources.run_liveness import owner_tags

if TYPE_CHECKING:
    from ppm_resources.dagster_internals import BaseAssetGraph

log = logging.getLogger(__name__)


INFO_LOGS = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
# In-process runs are retried by whoever started them, not by the daemon (it cannot relaunch a run it did not
# launch, and would only log that it tried).
NO_AUTOMATIC_RETRY = {"dagster/max_retries": "0"}


def cli_run_tags() -> dict[str, str]:
    """Tags of every run a `ppm` command executes: no automatic retry, and this process as its owner (a run
    whose process dies is then found and released: `ppm_resources.run_liveness`)."""
    return {**NO_AUTOMATIC_RETRY, **owner_tags()}


@dataclass
class MaterializeSummary:
    run_ids: list[str] = field(default_factory=list)
    success: bool = True
    asset_keys: set[dg.AssetKey] = field(default_factory=set)
    materializations: int = 0  # one per asset partition
    checks_passed: int = 0
    checks_failed: int = 0
    checks_failed_warn: int = 0  # of checks_failed: WARN severity (row-level defects, drift)
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return ", ".join(self.run_ids)


@dataclass(frozen=True)
class RunPlan:
    keys: tuple[dg.AssetKey, ...]
    partitions_def: dg.PartitionsDefinition | None


def plan_runs(asset_graph: BaseAssetGraph, keys: AbstractSet[dg.AssetKey]) -> list[RunPlan]:
    """Consecutive runs, in dependency order, each with at most one partitions definition."""
    plans: list[RunPlan] = []
    current: list[dg.AssetKey] = []
    current_def: dg.PartitionsDefinition | None = None
    for key in asset_graph.toposorted_asset_keys:
        if key not in keys:
            continue
        partitions_def = asset_graph.get(key).partitions_def
        if partitions_def is not None and current_def is not None and partitions_def != current_def:
            plans.append(RunPlan(tuple(current), current_def))
            current, current_def = [], None
        current.append(key)
        current_def = current_def or partitions_def
    if current:
        plans.append(RunPlan(tuple(current), current_def))
    return plans


def partition_range_tags(
    partitions_def: dg.PartitionsDefinition | None, only: str | None = None
) -> dict[str, str]:
    """Run tags selecting every partition (or `only` one) of the run's partitioned assets."""
    if partitions_def is None:
        return {}
    partition_keys = partitions_def.get_partition_keys()
    if only is not None:
        if only not in partition_keys:
            raise ValueError(f"no partition {only!r}; partitions are: {', '.join(partition_keys)}")
        partition_keys = [only]
    return range_tags(partition_keys[0], partition_keys[-1])


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
    """Run every selected asset (and its checks) once in process, recorded in `instance`.

    `selection` is a Dagster asset-selection string; `partition` narrows partitioned assets to one key;
    `op_config` is run config per op (e.g. {"bronze__notion_raw_pages": {"full_sync": True}}). Stops at the
    first failed run.
    """
    job = defs.resolve_implicit_global_asset_job_def()
    asset_graph = defs.resolve_asset_graph()
    keys = (dg.AssetSelection.from_string(selection) if selection else dg.AssetSelection.all()).resolve(
        asset_graph
    )
    if not keys:
        raise ValueError(f"selection {selection!r} matches no asset")
    plans = plan_runs(asset_graph, keys)
    run_tags = [
        {**partition_range_tags(plan.partitions_def, partition), **(tags or {}), **cli_run_tags()}
        for plan in plans
    ]
    summary = MaterializeSummary()
    started = time.monotonic()
    for plan, plan_tags in zip(plans, run_tags, strict=True):
        op_names = {asset_graph.get(key).assets_def.get_op_def_for_asset_key(key).name for key in plan.keys}
        result = job.execute_in_process(
            instance=instance,
            asset_selection=list(plan.keys),
            tags=plan_tags,
            raise_on_error=False,
            run_config={
                "loggers": {"console": {"config": {"log_level": log_level}}},
                "ops": {name: {"config": c} for name, c in (op_config or {}).items() if name in op_names},
            },
        )
        add_result(summary, result)
        if not result.success:
            break
    summary.seconds = time.monotonic() - started
    return summary


def add_result(
    summary: MaterializeSummary, result: dg.ExecuteInProcessResult | dg.JobExecutionResult
) -> None:
    """Fold one run's events into `summary`."""
    events = result.all_events
    checks = [
        e.asset_check_evaluation_data
        for e in events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    summary.run_ids.append(result.run_id)
    summary.success = summary.success and result.success
    materialized = [e for e in events if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION]
    summary.asset_keys.update(e.asset_key for e in materialized if e.asset_key is not None)
    summary.materializations += len(materialized)
    summary.checks_passed += sum(1 for c in checks if c.passed)
    summary.checks_failed += sum(1 for c in checks if not c.passed)
    summary.checks_failed_warn += sum(
        1 for c in checks if not c.passed and c.severity == dg.AssetCheckSeverity.WARN
    )
    summary.errors += [
        f"{e.step_key}: {e.step_failure_data.error.message.strip()}"
        for e in events
        if e.event_type == dg.DagsterEventType.STEP_FAILURE and e.step_failure_data.error
    ]


def run_job_in_process(
    defs: dg.Definitions, instance: dg.DagsterInstance, name: str, *, partition: str | None = None
) -> MaterializeSummary:
    """Run a job of the code location in process, as Jobs → Launchpad does; ValueError for a bad name/partition.

    A partitioned job runs over all its partitions (one range run) unless `partition` names one.
    """
    names = sorted(j.name for j in defs.get_repository_def().get_all_jobs() if not j.name.startswith("__"))
    if name not in names:
        raise ValueError(f"no job {name!r}; jobs are: {', '.join(names)}")
    job = defs.resolve_job_def(name)
    if partition is not None and job.partitions_def is None:
        raise ValueError(f"job {name} is not partitioned: run it without --partition")
    tags = partition_range_tags(job.partitions_def, partition)
    preset = (
        job.partitioned_config.get_run_config_for_partition_key(tags[RANGE_START])
        if job.partitioned_config is not None and tags
        else {}
    )
    started = time.monotonic()
    result = job.execute_in_process(
        instance=instance,
        run_config={**preset, **INFO_LOGS},
        tags={**tags, "ppm/trigger": "cli", **cli_run_tags()},
        raise_on_error=False,
    )
    summary = MaterializeSummary(seconds=time.monotonic() - started)
    add_result(summary, result)
    return summary
