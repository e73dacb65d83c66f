"""The real jobs run the way their triggers request them: the nightly range run and a sensor's partition run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from ppm_resources.notion.mapping import load_notion_mapping
from ppm_sandbox import SandboxServer
from ppm_sensors.notion.jobs import notion_dry_run_job, notion_full_resync_job, notion_sync_job
from ppm_sensors.notion.schedules import build_daily_reconciliation

notion_daily_reconciliation = build_daily_reconciliation(load_notion_mapping())


@pytest.fixture
def local_job(local_defs: Callable) -> Callable[[dg.UnresolvedAssetJobDefinition], dg.JobDefinition]:
    """A real job on the sandbox and a temporary lakehouse."""
    return lambda definition: local_defs([definition]).resolve_job_def(definition.name)


def _materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def test_nightly_reconciliation_request_runs_full_sync_of_every_database(
    clean_sandbox: SandboxServer, local_job: Callable
) -> None:
    request = notion_daily_reconciliation(
        dg.build_schedule_context(scheduled_execution_time=datetime(2026, 3, 1, 2, tzinfo=UTC))
    )
    job = local_job(notion_full_resync_job)
    result = job.execute_in_process(run_config=request.run_config, tags=request.tags)
    assert result.success
    assert {"bronze/notion_raw_pages", "silver/budget_lines", "silver/actions"} <= _materialized(result)
    [raw] = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(["bronze", "notion_raw_pages"])
    ][:1]
    assert raw.materialization.metadata["full_sync"].value is True


def test_sensor_partition_run_syncs_one_database(clean_sandbox: SandboxServer, local_job: Callable) -> None:
    names = load_notion_mapping().names
    tags = {"dagster/asset_partition_range_start": names[0], "dagster/asset_partition_range_end": names[-1]}
    job = local_job(notion_sync_job)
    assert job.execute_in_process(tags=tags).success
    # what notion_change_sensor requests for a change in one database
    selection = [
        dg.AssetKey(["bronze", "notion_raw_pages"]),
        dg.AssetKey(["bronze", "notion_sync_watermarks"]),
        dg.AssetKey(["silver", "risks"]),
    ]
    result = job.execute_in_process(partition_key="risks", asset_selection=selection)
    assert result.success
    raws = [e for e in result.get_asset_materialization_events() if e.asset_key.path[0] == "bronze"]
    assert {e.partition for e in raws if e.asset_key.path[1] == "notion_raw_pages"} == {"risks"}
    assert _materialized(result) == {
        "bronze/notion_raw_pages",
        "bronze/notion_sync_watermarks",
        "silver/risks",
    }


def test_first_partition_run_on_an_empty_lakehouse(clean_sandbox: SandboxServer, local_job: Callable) -> None:
    # one database synced, the other silver tables built over no rows of theirs (count_if gives 0, not NULL)
    assert local_job(notion_sync_job).execute_in_process(partition_key="risks").success


def test_dry_run_writes_nothing(clean_sandbox: SandboxServer, local_job: Callable, tmp_path: Path) -> None:
    result = local_job(notion_dry_run_job).execute_in_process(partition_key="risks")
    assert result.success
    assert "bronze/notion_raw_pages" not in _materialized(result)
    assert not (tmp_path / "lakehouse" / "bronze" / "notion_raw_pages").exists()
