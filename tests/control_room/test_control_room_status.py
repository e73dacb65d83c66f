"""`gold/control_room_status` reflects what the Dagster instance recorded: a failed run and successful ones."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from ppm_assets.control_room import NEVER_RUN, next_tick
from ppm_assets.definitions import defs
from ppm_resources.lakehouse import LocalLakehouse
from ppm_sandbox import SandboxServer

RISKS_ONLY = [dg.AssetKey(["bronze", "notion_raw_pages"]), dg.AssetKey(["silver", "risks"])]


@pytest.fixture
def local(local_defs: Callable) -> dg.Definitions:
    """The real assets, checks and jobs, on a temporary lakehouse and the sandbox."""
    return local_defs(defs.jobs)


def _run(
    local: dg.Definitions, job: str, dagster_instance: dg.DagsterInstance, **kwargs
) -> dg.ExecuteInProcessResult:
    return local.resolve_job_def(job).execute_in_process(
        instance=dagster_instance, raise_on_error=False, **kwargs
    )


def _status(
    local: dg.Definitions, dagster_instance: dg.DagsterInstance, tmp_path: Path
) -> tuple[dict[tuple[str, str], dict], str]:
    """The snapshot's rows by (object_type, name), and the id of the run that took it."""
    result = _run(local, "control_room", dagster_instance)
    assert result.success
    rows = LocalLakehouse(root=str(tmp_path / "lakehouse")).query("SELECT * FROM gold.control_room_status")
    return {(row["object_type"], row["name"]): row for row in rows.to_pylist()}, result.run_id


def test_status_reflects_a_failed_and_a_successful_run(
    local: dg.Definitions, dagster_instance: dg.DagsterInstance, clean_sandbox: SandboxServer, tmp_path: Path
) -> None:
    reference = _run(local, "reference_data", dagster_instance)
    assert reference.success
    clean_sandbox.faults.fail_next(1, status=401)  # the sync's first Notion call: an invalid token
    failed = _run(local, "notion_sync", dagster_instance, partition_key="risks", asset_selection=RISKS_ONLY)
    assert not failed.success

    status, first_snapshot = _status(local, dagster_instance, tmp_path)

    job = status[("job", "reference_data")]
    assert (job["status"], job["last_run_id"], job["error"]) == ("SUCCESS", reference.run_id, None)
    assert job["duration_s"] > 0 and job["ended_at"] >= job["started_at"]
    assert job["next_tick_at"] is not None and job["schedules"] == "reference_data_daily"

    sync = status[("job", "notion_sync")]
    assert (sync["status"], sync["last_run_id"]) == ("FAILURE", failed.run_id)
    assert sync["error"].startswith("bronze__notion_raw_pages: ") and "401" in sync["error"]

    bronze = status[("asset", "bronze/notion_raw_pages")]
    assert (bronze["status"], bronze["last_run_id"]) == ("FAILURE", failed.run_id)
    assert "401" in bronze["error"] and bronze["failed_partitions"] == 1
    skipped = status[("asset", "silver/risks")]
    assert skipped["status"] == "SKIPPED" and "bronze__notion_raw_pages" in skipped["error"]
    fx = status[("asset", "silver/fx_rates")]
    assert (fx["status"], fx["last_run_id"]) == ("SUCCESS", reference.run_id)
    assert fx["last_materialized_at"] is not None and fx["failed_partitions"] is None

    assert status[("job", "dq_checks")]["status"] == NEVER_RUN
    assert status[("job", "control_room")]["status"] == NEVER_RUN  # the snapshot's own run is left out
    assert status[("asset", "gold/forecast")]["status"] == NEVER_RUN
    schedule = status[("schedule", "control_room_every_15_min")]
    assert schedule["status"] == "RUNNING" and schedule["next_tick_at"].minute % 15 == 0
    assert {name for kind, name in status if kind == "sensor"} == {s.name for s in defs.sensors or []}

    # on-call fixes the token and syncs again: the same rows turn green
    fixed = _run(local, "notion_sync", dagster_instance, partition_key="risks", asset_selection=RISKS_ONLY)
    assert fixed.success
    status, _ = _status(local, dagster_instance, tmp_path)
    sync = status[("job", "notion_sync")]
    assert (sync["status"], sync["last_run_id"], sync["error"]) == ("SUCCESS", fixed.run_id, None)
    bronze = status[("asset", "bronze/notion_raw_pages")]
    assert (bronze["status"], bronze["error"], bronze["failed_partitions"]) == ("SUCCESS", None, 0)
    assert status[("asset", "silver/risks")]["status"] == "SUCCESS"
    # the snapshot in progress reports the one before it, not itself as STARTED
    for key in [("job", "control_room"), ("asset", "gold/control_room_status")]:
        assert (status[key]["status"], status[key]["last_run_id"]) == ("SUCCESS", first_snapshot), key


def test_materialization_metadata_counts_failures(
    local: dg.Definitions, dagster_instance: dg.DagsterInstance, clean_sandbox: SandboxServer
) -> None:
    clean_sandbox.faults.fail_next(1, status=401)
    assert not _run(
        local, "notion_sync", dagster_instance, partition_key="risks", asset_selection=RISKS_ONLY
    ).success
    result = _run(local, "control_room", dagster_instance)
    [event] = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["failed_jobs"].value == 1 and metadata["failed_assets"].value == 1
    assert "401" in metadata["problems"].value


@pytest.mark.parametrize(
    ("schedule", "now", "expected"),
    [
        (
            "control_room_every_15_min",
            datetime(2026, 11, 22, 2, 30, tzinfo=UTC),
            datetime(2026, 11, 22, 2, 45),
        ),
        (
            "control_room_every_15_min",
            datetime(2026, 11, 22, 2, 31, tzinfo=UTC),
            datetime(2026, 11, 22, 2, 45),
        ),
        (
            "notion_daily_reconciliation",
            datetime(2026, 11, 22, 2, 0, 1, tzinfo=UTC),
            datetime(2026, 11, 23, 2),
        ),
        ("gold_hourly", datetime(2026, 12, 31, 23, 59, tzinfo=UTC), datetime(2027, 1, 1, 0, 0)),
    ],
)
def test_next_tick_is_strictly_after_now(schedule: str, now: datetime, expected: datetime) -> None:
    definition = defs.get_repository_def().get_schedule_def(schedule)
    assert next_tick(definition, now) == expected.replace(tzinfo=UTC)


def _instigator_state(name: str, kind: str, status: str):  # -> InstigatorState, as the daemon stores it
    from dagster._core.remote_origin import (
        InProcessCodeLocationOrigin,
        RemoteInstigatorOrigin,
        RemoteRepositoryOrigin,
    )
    from dagster._core.scheduler.instigation import (
        InstigatorState,
        InstigatorStatus,
        InstigatorType,
        ScheduleInstigatorData,
        SensorInstigatorData,
    )
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

    location = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(module_name="ppm_assets.definitions", attribute="defs"),
        location_name="finance_ppm",
    )
    origin = RemoteInstigatorOrigin(RemoteRepositoryOrigin(location, "__repository__"), name)
    if kind == "schedule":
        return InstigatorState(
            origin, InstigatorType.SCHEDULE, InstigatorStatus[status], ScheduleInstigatorData("0 * * * *")
        )
    return InstigatorState(origin, InstigatorType.SENSOR, InstigatorStatus[status], SensorInstigatorData())


def test_stopped_schedules_and_failed_sensor_ticks(
    local: dg.Definitions, dagster_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    from dagster._core.scheduler.instigation import InstigatorType, TickData, TickStatus
    from dagster._utils.error import SerializableErrorInfo

    dagster_instance.add_instigator_state(_instigator_state("gold_hourly", "schedule", "STOPPED"))
    sensor = dagster_instance.add_instigator_state(
        _instigator_state("notion_change_sensor", "sensor", "RUNNING")
    )
    cause = SerializableErrorInfo(
        "NotionAuthError: invalid token: check NOTION_TOKEN\n", [], "NotionAuthError"
    )
    wrapper = SerializableErrorInfo(
        "Error occurred during the evaluation of sensor\n", [], "Error", cause=cause
    )
    started = datetime(2026, 11, 22, 3, 0, tzinfo=UTC).timestamp()
    for status, error, skip in [
        (TickStatus.SKIPPED, None, "no Notion database changed"),
        (TickStatus.FAILURE, wrapper, None),
    ]:
        dagster_instance.create_tick(
            TickData(
                instigator_origin_id=sensor.instigator_origin_id,
                instigator_name=sensor.instigator_name,
                instigator_type=InstigatorType.SENSOR,
                status=status,
                timestamp=started,
                selector_id=sensor.selector_id,
                error=error,
                skip_reason=skip,
            )
        )
        started += 30

    dq = dagster_instance.add_instigator_state(
        _instigator_state("dq_critical_issues_to_actions", "sensor", "RUNNING")
    )
    dagster_instance.create_tick(
        TickData(
            instigator_origin_id=dq.instigator_origin_id,
            instigator_name=dq.instigator_name,
            instigator_type=InstigatorType.SENSOR,
            status=TickStatus.SKIPPED,
            timestamp=started,
            selector_id=dq.selector_id,
            skip_reason="evaluation run-1: 1 new critical issues (Fix data quality: key_unique on silver/projects)",
        )
    )

    status, _ = _status(local, dagster_instance, tmp_path)
    reported = status[("sensor", "dq_critical_issues_to_actions")]
    assert reported["status"] == "RUNNING, last tick SKIPPED" and reported["error"] is None
    assert "key_unique on silver/projects" in reported["detail"]
    stopped = status[("schedule", "gold_hourly")]
    assert (stopped["status"], stopped["next_tick_at"]) == ("STOPPED", None)
    assert status[("job", "gold_hourly")]["next_tick_at"] is None  # no running schedule launches it
    assert status[("asset", "gold/forecast")]["schedules"] is None
    failing = status[("sensor", "notion_change_sensor")]
    assert failing["status"] == "RUNNING, last tick FAILURE"
    assert (
        failing["error"] == "NotionAuthError: invalid token: check NOTION_TOKEN"
    )  # the cause, not the wrapper
    assert failing["started_at"] == datetime(2026, 11, 22, 3, 0, 30, tzinfo=UTC)
    assert status[("schedule", "control_room_every_15_min")]["status"] == "RUNNING"  # no state: as in code
