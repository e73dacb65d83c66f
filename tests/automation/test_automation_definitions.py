"""Jobs, schedules, sensors and freshness policies load into the real code location."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

import ppm_sensors
from ppm_assets.definitions import defs
from ppm_assets.policies import apply_policies
from ppm_resources.notion.mapping import load_notion_mapping
from ppm_sensors.notion.schedules import build_daily_reconciliation
from ppm_sensors.retries import RETRY_TAGS

notion_daily_reconciliation = build_daily_reconciliation(load_notion_mapping())

NOTION_ASSETS = {
    "bronze/notion_raw_pages",
    "bronze/notion_sync_watermarks",
    *(f"silver/{name}" for name in ["programs", "projects", "budget_lines", "risks", "actions"]),
}


@pytest.fixture(scope="module")
def repository() -> dg.RepositoryDefinition:
    dg.Definitions.validate_loadable(defs)
    return defs.get_repository_def()


def test_sensors_package_defs_load_merged_into_the_code_location(repository: dg.RepositoryDefinition) -> None:
    assert {s.name for s in ppm_sensors.build_defs(load_notion_mapping()).sensors or []} <= {
        s.name for s in repository.sensor_defs
    }
    assert {s.name for s in repository.schedule_defs} >= {
        "notion_daily_reconciliation",
        "gold_hourly",
        "reference_data_daily",
        "budget_vs_actual_hourly",
        "control_room_every_15_min",
    }
    for name in ["notion_change_sensor", "run_failure_alert", "automation"]:
        assert repository.get_sensor_def(name).default_status == dg.DefaultSensorStatus.RUNNING
    for schedule in repository.schedule_defs:
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    reconciliation = repository.get_schedule_def("notion_daily_reconciliation")
    assert (reconciliation.cron_schedule, reconciliation.execution_timezone) == ("0 2 * * *", "UTC")


@pytest.mark.parametrize("name", ["notion_sync", "notion_full_resync", "notion_dry_run"])
def test_notion_jobs_are_partitioned_by_database(repository: dg.RepositoryDefinition, name: str) -> None:
    job = repository.get_job(name)
    assert {k.to_user_string() for k in job.asset_layer.selected_asset_keys} == NOTION_ASSETS
    assert job.partitions_def is not None
    assert job.partitions_def.get_partition_keys() == load_notion_mapping().names
    assert {k: job.tags[k] for k in RETRY_TAGS} == RETRY_TAGS


@pytest.mark.parametrize(
    ("name", "config"),
    [("notion_sync", {}), ("notion_full_resync", {"full_sync": True}), ("notion_dry_run", {"dry_run": True})],
)
def test_notion_job_presets(repository: dg.RepositoryDefinition, name: str, config: dict) -> None:
    job = repository.get_job(name)
    run_config = job.partitioned_config.get_run_config_for_partition_key("budget_lines")
    assert run_config.get("ops", {}).get("bronze__notion_raw_pages", {}).get("config", {}) == config


def test_dq_checks_job_materializes_nothing(repository: dg.RepositoryDefinition) -> None:
    job = repository.get_job("dq_checks")
    assert job.asset_layer.selected_asset_keys == set()
    assert (
        len(
            job.asset_layer.selected_asset_check_keys
            if hasattr(job.asset_layer, "selected_asset_check_keys")
            else job.asset_layer.asset_graph.asset_check_keys
        )
        > 0
    )
    assert {k: job.tags[k] for k in RETRY_TAGS} == RETRY_TAGS


def test_gold_hourly_job_holds_only_unpartitioned_gold(repository: dg.RepositoryDefinition) -> None:
    job = repository.get_job("gold_hourly")
    keys = {k.to_user_string() for k in job.asset_layer.selected_asset_keys}
    assert keys == {"gold/project_health", "gold/forecast", "gold/data_quality_issues"}
    graph = repository.asset_graph
    assert all(graph.get(dg.AssetKey.from_user_string(k)).partitions_def is None for k in keys)


def test_daily_reconciliation_is_one_run_over_every_database() -> None:
    names = load_notion_mapping().names
    at = datetime(2026, 3, 1, 2, tzinfo=UTC)
    request = notion_daily_reconciliation(dg.build_schedule_context(scheduled_execution_time=at))
    assert request.tags["dagster/asset_partition_range_start"] == names[0]
    assert request.tags["dagster/asset_partition_range_end"] == names[-1]
    assert request.run_key == "reconciliation:2026-03-01"
    # explicit: a partition-range run gets no per-partition config from the job's preset
    assert request.run_config == {"ops": {"bronze__notion_raw_pages": {"config": {"full_sync": True}}}}


EXPECTED_FRESHNESS = {
    "bronze/notion_raw_pages": timedelta(minutes=30),
    "bronze/notion_sync_watermarks": timedelta(minutes=30),
    "silver/programs": timedelta(minutes=45),
    "silver/projects": timedelta(minutes=45),
    "silver/budget_lines": timedelta(minutes=45),
    "silver/risks": timedelta(minutes=45),
    "silver/actions": timedelta(minutes=45),
    "gold/project_health": timedelta(hours=2),
    "gold/forecast": timedelta(hours=2),
    "gold/data_quality_issues": timedelta(hours=2),
    "gold/budget_vs_actual": timedelta(hours=2),
    "gold/control_room_status": timedelta(minutes=30),
    "bronze/azure_resources": timedelta(hours=26),
    "bronze/azure_advisor": timedelta(hours=26),
    "silver/azure_resources": timedelta(hours=26),
    "silver/advisor_recommendations": timedelta(hours=26),
    "gold/advisor_summary": timedelta(hours=26),
}


def test_apply_policies_attaches_design_policies_to_the_real_assets() -> None:
    assets = list(defs.assets or [])
    fresh = dg.Definitions(
        assets=apply_policies(assets), asset_checks=defs.asset_checks, resources=defs.resources
    )
    dg.Definitions.validate_loadable(fresh)
    graph = fresh.resolve_asset_graph()
    windows = {}
    for key in graph.get_all_asset_keys():
        policy = graph.get(key).freshness_policy
        if policy is not None:
            windows[key.to_user_string()] = policy.fail_window.to_timedelta()
    assert windows == EXPECTED_FRESHNESS  # reference fx_rates has none
    assert len(apply_policies(assets)) == len(assets)


def test_explicit_policy_is_kept() -> None:
    own = dg.FreshnessPolicy.time_window(fail_window=timedelta(minutes=5))
    spec = dg.AssetSpec(["silver", "x"], group_name="notion", freshness_policy=own)
    [kept] = apply_policies([spec])
    assert kept.freshness_policy == own
