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

from ppm_assets.partitions import RANGE_START, azure_subscriptions, range_tags
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
    # One run per partition instead of one run over the range: assets that read `context.partition_key` (no
    # single-run backfill policy), such as the Azure subscriptions, where each partition must fail alone.
    per_partition: bool = False


def plan_runs(asset_graph: BaseAssetGraph, keys: AbstractSet[dg.AssetKey]) -> list[RunPlan]:
    """Consecutive runs, in dependency order, each with at most one partitions definition."""
    plans: list[RunPlan] = []
    current: list[dg.AssetKey] = []
    current_def: dg.PartitionsDefinition | None = None
    per_partition = False
    for key in asset_graph.toposorted_asset_keys:
        if key not in keys:
            continue
        node = asset_graph.get(key)
        partitions_def = node.partitions_def
        # Unpartitioned assets after per-partition ones run once, after all of them, not in each run.
        leaves_per_partition = per_partition and partitions_def is None
        if leaves_per_partition or (
            partitions_def is not None and current_def is not None and partitions_def != current_def
        ):
            plans.append(RunPlan(tuple(current), current_def, per_partition))
            current, current_def, per_partition = [], None, False
        current.append(key)
        current_def = current_def or partitions_def
        if partitions_def is not None:
            policy = node.backfill_policy
            per_partition = per_partition or policy is None or policy.max_partitions_per_run is not None
    if current:
        plans.append(RunPlan(tuple(current), current_def, per_partition and current_def is not None))
    return plans


def selected_partitions(
    partitions_def: dg.PartitionsDefinition,
    only: str | None = None,
    instance: dg.DagsterInstance | None = None,
) -> list[str]:
    """Every partition key (or `only` one, checked to exist); dynamic partitions are read from `instance`."""
    partition_keys = partitions_def.get_partition_keys(dynamic_partitions_store=instance)
    if only is not None:
        if only not in partition_keys:
            raise ValueError(f"no partition {only!r}; partitions are: {', '.join(partition_keys) or 'none'}")
        partition_keys = [only]
    return partition_keys


def partition_range_tags(
    partitions_def: dg.PartitionsDefinition | None,
    only: str | None = None,
    instance: dg.DagsterInstance | None = None,
) -> dict[str, str]:
    """Run tags selecting every partition (or `only` one) of the run's partitioned assets."""
    if partitions_def is None:
        return {}
    partition_keys = selected_partitions(partitions_def, only, instance)
    if not partition_keys:
        raise ValueError("the partitioned assets have no partitions yet")
    return range_tags(partition_keys[0], partition_keys[-1])


def plan_run_tags(plan: RunPlan, only: str | None, instance: dg.DagsterInstance) -> list[dict[str, str]]:
    """The partition tags of each run of `plan`: one range, one run per partition, or none (unpartitioned).

    A per-partition plan with no partitions yet (no Azure subscription discovered) has no run at all."""
    if plan.partitions_def is None:
        return [{}]
    if plan.per_partition:
        return [
            {"dagster/partition": key} for key in selected_partitions(plan.partitions_def, only, instance)
        ]
    return [partition_range_tags(plan.partitions_def, only, instance)]


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
    `op_config` is run config per op (e.g. {"bronze__notion_raw_pages": {"full_sync": True}}). A failed run
    stops what depends on it (reported in `errors`), not the rest: Azure down does not hold up Notion.
    """
    job = defs.resolve_implicit_global_asset_job_def()
    asset_graph = defs.resolve_asset_graph()
    keys = (dg.AssetSelection.from_string(selection) if selection else dg.AssetSelection.all()).resolve(
        asset_graph
    )
    if not keys:
        raise ValueError(f"selection {selection!r} matches no asset")
    plans = plan_runs(asset_graph, keys)
    if any(isinstance(plan.partitions_def, dg.DynamicPartitionsDefinition) for plan in plans):
        refresh_azure_partitions(defs, instance)
    runs = [
        (
            plan,
            [
                {**partition_tags, **(tags or {}), **cli_run_tags()}
                for partition_tags in plan_run_tags(plan, partition, instance)
            ],
        )
        for plan in plans
    ]
    summary = MaterializeSummary()
    started = time.monotonic()
    failed: set[dg.AssetKey] = set()  # assets of failed plans and everything downstream of them
    for plan, plan_tags in runs:
        blocked = failed.intersection(plan.keys)
        if blocked:
            # Downstream of a failure: not run (it would read stale or missing inputs); the rest still runs.
            names = ", ".join(sorted(k.to_user_string() for k in blocked))
            summary.errors.append(f"not run, downstream of a failure: {names}")
            summary.success = False
            failed.update(plan.keys)
            continue
        op_names = {asset_graph.get(key).assets_def.get_op_def_for_asset_key(key).name for key in plan.keys}
        succeeded = 0
        for run_tags in plan_tags:
            result = job.execute_in_process(
                instance=instance,
                asset_selection=list(plan.keys),
                tags=run_tags,
                raise_on_error=False,
                run_config={
                    "loggers": {"console": {"config": {"log_level": log_level}}},
                    "ops": {name: {"config": c} for name, c in (op_config or {}).items() if name in op_names},
                },
            )
            add_result(summary, result)
            succeeded += int(result.success)
        # A failed range run fails its assets and what depends on them; per-partition runs fail alone (an
        # unreadable Azure subscription), and what depends on them still runs while one partition succeeded.
        if plan_tags and not succeeded:
            failed |= dg.AssetSelection.assets(*plan.keys).downstream().resolve(asset_graph)
    summary.seconds = time.monotonic() - started
    return summary


def refresh_azure_partitions(defs: dg.Definitions, instance: dg.DagsterInstance) -> None:
    """Before materializing the Azure bronze assets, the subscription partitions are brought up to date, as the
    discovery sensor would (the first `ppm materialize` has no sensor tick behind it). Azure unreachable: the
    known partitions are used, with a warning."""
    from ppm_resources.azure import AzureError
    from ppm_sensors.azure.discovery import apply_changes, discover, plan_partitions

    azure = defs.resources.get("azure")
    if azure is None:
        return
    try:
        found, source = discover(azure, max_retries=1, connect_timeout_s=5.0)
    except (AzureError, OSError) as error:
        log.warning("Azure subscription discovery failed, using the known partitions: %s", error)
        return
    current = set(instance.get_dynamic_partitions(azure_subscriptions.name))
    # Resource Graph's list only adds here; removing a subscription it stopped listing is the sensor's, after its
    # grace period (a lost role hides a subscription too). A configured list is followed exactly.
    changes = plan_partitions(current, found if azure.subscription_ids else found | current)
    if changes.refused:
        log.warning(changes.refused)
        return
    apply_changes(instance, changes)
    if changes.add or changes.remove:
        log.info(
            "Azure subscriptions (%s): added %s; removed %s",
            source,
            ", ".join(changes.add) or "none",
            ", ".join(changes.remove) or "none",
        )


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

    A partitioned job runs over all its partitions (one range run; one run per partition for dynamic partitions)
    unless `partition` names one.
    """
    names = sorted(j.name for j in defs.get_repository_def().get_all_jobs() if not j.name.startswith("__"))
    if name not in names:
        raise ValueError(f"no job {name!r}; jobs are: {', '.join(names)}")
    job = defs.resolve_job_def(name)
    if partition is not None and job.partitions_def is None:
        raise ValueError(f"job {name} is not partitioned: run it without --partition")
    if isinstance(job.partitions_def, dg.DynamicPartitionsDefinition):
        # Dynamic partitions (Azure subscriptions) run one per run, each failing alone.
        partition_tags = [
            {"dagster/partition": key} for key in selected_partitions(job.partitions_def, partition, instance)
        ]
        if not partition_tags:
            raise ValueError(
                f"job {name} has no partitions yet (sensor azure_subscription_discovery adds them)"
            )
    else:
        partition_tags = [partition_range_tags(job.partitions_def, partition, instance)]
    summary = MaterializeSummary()
    started = time.monotonic()
    for tags in partition_tags:
        first = tags.get(RANGE_START) or tags.get("dagster/partition")
        preset = (
            job.partitioned_config.get_run_config_for_partition_key(first)
            if job.partitioned_config is not None and first
            else {}
        )
        result = job.execute_in_process(
            instance=instance,
            run_config={**preset, **INFO_LOGS},
            tags={**tags, "ppm/trigger": "cli", **cli_run_tags()},
            raise_on_error=False,
        )
        add_result(summary, result)
    summary.seconds = time.monotonic() - started
    return summary
