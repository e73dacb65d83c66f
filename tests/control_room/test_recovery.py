"""Recovery helpers: which partitions failed or are missing, and backfilling exactly those."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import dagster as dg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ppm_cli.recovery import backfill_partitions, contiguous_ranges, failed_and_missing_partitions
from ppm_resources.notion.mapping import load_notion_mapping
from ppm_sandbox import SandboxServer

BRONZE = dg.AssetKey(["bronze", "notion_raw_pages"])


@given(st.lists(st.booleans(), max_size=30))
def test_contiguous_ranges_cover_exactly_the_chosen_keys(flags: list[bool]) -> None:
    keys = [f"k{i:02d}" for i in range(len(flags))]
    chosen = [k for k, wanted in zip(keys, flags, strict=True) if wanted]
    ranges = contiguous_ranges(keys, chosen)
    covered = [k for first, last in ranges for k in keys[keys.index(first) : keys.index(last) + 1]]
    assert covered == chosen
    # maximal: two ranges never touch
    for (_, last), (first, _) in itertools.pairwise(ranges):
        assert keys.index(first) > keys.index(last) + 1


@pytest.fixture
def local(local_defs: Callable) -> dg.Definitions:
    return local_defs()


def test_backfill_runs_only_the_failed_and_missing_partitions(
    local: dg.Definitions, dagster_instance: dg.DagsterInstance, clean_sandbox: SandboxServer
) -> None:
    graph = local.resolve_asset_graph()
    names = load_notion_mapping().names
    assert failed_and_missing_partitions(dagster_instance, graph, BRONZE) == names  # nothing materialized yet

    job = local.resolve_implicit_global_asset_job_def()
    for name in ("programs", "projects"):
        assert job.execute_in_process(
            instance=dagster_instance, asset_selection=[BRONZE], partition_key=name
        ).success
    clean_sandbox.faults.fail_next(1, status=401)
    failed = job.execute_in_process(
        instance=dagster_instance,
        asset_selection=[BRONZE],
        partition_key="risks",
        raise_on_error=False,
    )
    assert not failed.success
    todo = failed_and_missing_partitions(dagster_instance, graph, BRONZE)
    assert todo == [n for n in names if n not in {"programs", "projects"}]  # risks failed, the rest missing

    summary = backfill_partitions(local, dagster_instance, BRONZE, todo)
    assert summary.success
    assert len(summary.run_ids) == len(contiguous_ranges(names, todo))
    assert failed_and_missing_partitions(dagster_instance, graph, BRONZE) == []
    runs = [dagster_instance.get_run_by_id(run_id) for run_id in summary.run_ids]
    assert all(run and run.tags["ppm/trigger"] == "backfill_failed_and_missing" for run in runs)


def test_unpartitioned_and_unknown_partitions_are_refused(
    local: dg.Definitions, dagster_instance: dg.DagsterInstance
) -> None:
    graph = local.resolve_asset_graph()
    with pytest.raises(ValueError, match="is not partitioned"):
        failed_and_missing_partitions(dagster_instance, graph, dg.AssetKey(["silver", "risks"]))
    with pytest.raises(ValueError, match="has no partitions nope"):
        backfill_partitions(local, dagster_instance, BRONZE, ["nope"])
