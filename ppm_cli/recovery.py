"""On-call recovery from the command line: re-execute a failed run from failure, backfill failed/missing partitions.

Both do what the UI's "Re-execute from failure" and "Materialize → Failed and missing" do, in this process
(the code location's in-process executor) and recorded in the same Dagster instance: a re-execution appears as
a child of the failed run, a backfill as ordinary runs tagged `ppm/trigger=backfill_failed_and_missing`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import dagster as dg

from ppm_assets.partitions import RANGE_END, RANGE_START, partition_statuses, range_tags
from ppm_cli.materialize import INFO_LOGS, MaterializeSummary, add_result, cli_run_tags
from ppm_resources.dagster_internals import ReconstructableRepository
from ppm_resources.paths import project_root

DEFINITIONS_MODULE = "ppm_assets.definitions"
RESUMABLE = {dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
# Tags a re-execution keeps from its parent: which partitions it covered (others are the parent's own).
PARTITION_TAGS = ("dagster/partition", RANGE_START, RANGE_END)


def reexecute_from_failure(instance: dg.DagsterInstance, run_id: str) -> MaterializeSummary:
    """Re-run the failed, skipped and unfinished steps of a failed or canceled run (same job, partitions and
    config) in process."""
    parent = instance.get_run_by_id(run_id)
    if parent is None:
        raise ValueError(f"no run {run_id!r} in the Dagster instance; list runs with `ppm status`")
    if parent.status not in RESUMABLE:
        raise ValueError(
            f"run {run_id} is {parent.status.value}: only a failed or canceled run can be re-executed from failure"
        )
    repository = ReconstructableRepository.for_module(
        DEFINITIONS_MODULE, "defs", working_directory=str(project_root())
    )
    job = repository.get_reconstructable_job(parent.job_name)
    tags = {
        **{k: v for k, v in parent.tags.items() if not k.startswith("dagster/") or k in PARTITION_TAGS},
        "ppm/trigger": "reexecute_from_failure",
        **cli_run_tags(),
    }
    summary = MaterializeSummary()
    started = time.monotonic()
    result = dg.execute_job(
        job,
        instance=instance,
        run_config={**INFO_LOGS, **parent.run_config},
        tags=tags,
        reexecution_options=dg.ReexecutionOptions.from_failure(run_id, instance),
    )
    add_result(summary, result)
    summary.seconds = time.monotonic() - started
    return summary


def failed_and_missing_partitions(
    instance: dg.DagsterInstance, asset_graph: dg.AssetGraph, key: dg.AssetKey
) -> list[str]:
    """Partition keys of `key` that never materialized or whose latest attempt failed (in-progress excluded)."""
    statuses = partition_statuses(instance, key, _partitions_def(asset_graph, key))
    return [k for k, status in statuses.items() if status in (None, dg.AssetPartitionStatus.FAILED)]


def _partitions_def(asset_graph: dg.AssetGraph, key: dg.AssetKey) -> dg.PartitionsDefinition:
    partitions_def = asset_graph.get(key).partitions_def
    if partitions_def is None:
        raise ValueError(f"{key.to_user_string()} is not partitioned: use `ppm materialize --select` instead")
    return partitions_def


def contiguous_ranges(all_keys: Sequence[str], chosen: Sequence[str]) -> list[tuple[str, str]]:
    """`chosen` as (first, last) runs of consecutive keys in `all_keys` order: one Dagster run per range."""
    wanted = set(chosen)
    ranges: list[tuple[str, str]] = []
    start: str | None = None
    previous: str | None = None
    for key in all_keys:
        if key in wanted:
            start = start or key
            previous = key
        elif start is not None and previous is not None:
            ranges.append((start, previous))
            start = None
    if start is not None and previous is not None:
        ranges.append((start, previous))
    return ranges


def backfill_partitions(
    defs: dg.Definitions, instance: dg.DagsterInstance, key: dg.AssetKey, partition_keys: Sequence[str]
) -> MaterializeSummary:
    """Materialize `partition_keys` of `key` (and its checks): one in-process run per contiguous range when the
    asset runs ranges in one run (single-run backfill policy), else one run per partition (Azure subscriptions:
    each fails alone)."""
    asset_graph = defs.resolve_asset_graph()
    partitions_def = _partitions_def(asset_graph, key)
    all_keys = partitions_def.get_partition_keys(dynamic_partitions_store=instance)
    unknown = sorted(set(partition_keys) - set(all_keys))
    if unknown:
        raise ValueError(f"{key.to_user_string()} has no partitions {', '.join(unknown)}")
    policy = asset_graph.get(key).backfill_policy
    single_run = policy is not None and policy.max_partitions_per_run is None
    runs = (
        contiguous_ranges(all_keys, partition_keys)
        if single_run
        else [(k, k) for k in all_keys if k in set(partition_keys)]
    )
    job = defs.resolve_implicit_global_asset_job_def()
    summary = MaterializeSummary()
    started = time.monotonic()
    for first, last in runs:
        partition = range_tags(first, last) if single_run else {"dagster/partition": first}
        tags = {**partition, "ppm/trigger": "backfill_failed_and_missing", **cli_run_tags()}
        result = job.execute_in_process(
            instance=instance, asset_selection=[key], tags=tags, raise_on_error=False, run_config=INFO_LOGS
        )
        add_result(summary, result)
    summary.seconds = time.monotonic() - started
    return summary
