"""`gold/control_room_status`: per job, asset, schedule and sensor, what last happened and what happens next.

Everything is read from the Dagster instance (run storage, event log, schedule storage) and the code location's
definitions, so the table answers the on-call questions without opening the UI: did the last run of each job
succeed, when did it start and how long did it take, when is its next scheduled tick, and why did it fail.
`collect_status` is shared by the asset and `ppm status`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime

import dagster as dg
import pyarrow as pa

from ppm_assets.partitions import partition_statuses
from ppm_resources.dagster_internals import (
    InstigatorState,
    InstigatorStatus,
    InstigatorType,
    cron_string_iterator,
)
from ppm_resources.run_errors import root_cause_message, run_error, step_errors
from ppm_resources.run_tags import DRY_RUN_TAG

NEVER_RUN = "NEVER_RUN"


@dataclass(frozen=True)
class StatusRow:
    object_type: str  # job | asset | schedule | sensor
    name: str
    status: (
        str  # a run status (SUCCESS, FAILURE, STARTED, QUEUED, CANCELED, ...), NEVER_RUN, or a tick status
    )
    last_run_id: str | None
    started_at: datetime | None
    ended_at: datetime | None
    duration_s: float | None
    next_tick_at: datetime | None
    schedules: str | None  # running schedules that will run it, comma-separated
    error: str | None
    detail: str | None  # schedules/sensors: the last tick's skip reason (e.g. why nothing ran)
    last_materialized_at: datetime | None  # assets only
    failed_partitions: int | None  # partitioned assets only: partitions whose latest attempt failed
    checked_at: datetime


SCHEMA = pa.schema(
    [
        pa.field("object_type", pa.string(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        ("last_run_id", pa.string()),
        ("started_at", pa.timestamp("us", tz="UTC")),
        ("ended_at", pa.timestamp("us", tz="UTC")),
        ("duration_s", pa.float64()),
        ("next_tick_at", pa.timestamp("us", tz="UTC")),
        ("schedules", pa.string()),
        ("error", pa.string()),
        ("detail", pa.string()),
        ("last_materialized_at", pa.timestamp("us", tz="UTC")),
        ("failed_partitions", pa.int64()),
        pa.field("checked_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)
assert [f.name for f in SCHEMA] == [f.name for f in fields(StatusRow)]


def to_arrow(rows: Iterable[StatusRow]) -> pa.Table:
    return pa.Table.from_pylist([asdict(row) for row in rows], schema=SCHEMA)


def _utc(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, tz=UTC)


def next_tick(schedule: dg.ScheduleDefinition, now: datetime) -> datetime:
    """The first cron tick strictly after `now`, in UTC."""
    cron = schedule.cron_schedule if isinstance(schedule.cron_schedule, str) else schedule.cron_schedule[0]
    for tick in cron_string_iterator(now.timestamp(), cron, schedule.execution_timezone or "UTC"):
        if tick.timestamp() > now.timestamp():
            return tick.astimezone(UTC)
    raise ValueError(f"schedule {schedule.name} has no future tick")


def _states(instance: dg.DagsterInstance, kind: InstigatorType) -> dict[str, InstigatorState]:
    if instance.schedule_storage is None:  # an ephemeral instance (tests) stores no schedule state
        return {}
    return {state.instigator_name: state for state in instance.all_instigator_state(instigator_type=kind)}


def _is_running(state: InstigatorState | None, default_running: bool) -> bool:
    if state is None or state.status == InstigatorStatus.DECLARED_IN_CODE:
        return default_running
    return state.status == InstigatorStatus.RUNNING


class _Runs:
    """Run records and errors, each looked up once."""

    def __init__(self, instance: dg.DagsterInstance) -> None:
        self.instance = instance
        self._records: dict[str, dg.RunRecord | None] = {}
        self._steps: dict[str, dict[str, str]] = {}

    def record(self, run_id: str) -> dg.RunRecord | None:
        if run_id not in self._records:
            self._records[run_id] = self.instance.get_run_record_by_id(run_id)
        return self._records[run_id]

    def latest(self, job_name: str, exclude_run_id: str | None) -> dg.RunRecord | None:
        records = self.instance.get_run_records(dg.RunsFilter(job_name=job_name), limit=2)
        record = next((r for r in records if r.dagster_run.run_id != exclude_run_id), None)
        if record is not None:
            self._records[record.dagster_run.run_id] = record
        return record

    def step_errors(self, run_id: str) -> dict[str, str]:
        if run_id not in self._steps:
            self._steps[run_id] = step_errors(self.instance, run_id)
        return self._steps[run_id]


def _is_dry_run(record: dg.RunRecord | None) -> bool:
    return record is not None and record.dagster_run.tags.get(DRY_RUN_TAG) == "true"


def _last_real_run(
    instance: dg.DagsterInstance, runs: _Runs, key: dg.AssetKey, look_back: int = 50
) -> str | None:
    """The newest run that set out to materialize `key` and was not a dry run (a dry run writes nothing: a
    successful one must not hide the failed sync before it)."""
    planned = instance.fetch_planned_materializations(key, limit=look_back).records
    return next(
        (
            record.run_id
            for record in planned
            if record.run_id and not _is_dry_run(runs.record(record.run_id))
        ),
        None,
    )


def _run_fields(runs: _Runs, record: dg.RunRecord | None) -> dict:
    if record is None:
        return {"status": NEVER_RUN, "last_run_id": None, "started_at": None, "ended_at": None,
                "duration_s": None, "error": None}  # fmt: skip
    run = record.dagster_run
    start, end = record.start_time, record.end_time
    error = None
    if run.status == dg.DagsterRunStatus.FAILURE:
        error = run_error(runs.instance, run.run_id) or "failed (no error recorded)"
    return {
        "status": run.status.value,
        "last_run_id": run.run_id,
        "started_at": _utc(start),
        "ended_at": _utc(end),
        "duration_s": round(end - start, 3) if start is not None and end is not None else None,
        "error": error,
    }


def _asset_outcome(
    runs: _Runs, run_fields: dict, step_key: str, materialization: dg.EventLogEntry | None
) -> dict:
    """An asset's status in its last run: its own step's outcome, not the run's.

    A run that fails in one step still materializes the others (SUCCESS), and skips what is downstream of
    the failure (SKIPPED, with the failed step's error).
    """
    run_id, status = run_fields["last_run_id"], run_fields["status"]
    if run_id is None or status != dg.DagsterRunStatus.FAILURE.value:
        return {}
    own_error = runs.step_errors(run_id).get(step_key)
    if own_error:
        return {"status": "FAILURE", "error": own_error}
    if materialization is not None and materialization.run_id == run_id:
        return {"status": dg.DagsterRunStatus.SUCCESS.value, "error": None}
    return {"status": "SKIPPED"}  # keeps the run's error: which step failed upstream


def _failed_partitions(
    instance: dg.DagsterInstance, key: dg.AssetKey, partitions_def: dg.PartitionsDefinition
) -> int:
    statuses = partition_statuses(instance, key, partitions_def).values()
    return sum(1 for status in statuses if status == dg.AssetPartitionStatus.FAILED)


def collect_status(
    instance: dg.DagsterInstance,
    repository: dg.RepositoryDefinition,
    now: datetime | None = None,
    *,
    exclude_run_id: str | None = None,
) -> list[StatusRow]:
    """One row per job, asset, schedule and sensor of `repository`, from what `instance` recorded.

    `exclude_run_id`: the run taking this snapshot, which is still in progress; its job and asset report the
    run before it instead.
    """
    now = now or datetime.now(UTC)
    runs = _Runs(instance)
    schedule_states = _states(instance, InstigatorType.SCHEDULE)
    sensor_states = _states(instance, InstigatorType.SENSOR)

    running_schedules = [
        s
        for s in repository.schedule_defs
        if _is_running(schedule_states.get(s.name), s.default_status == dg.DefaultScheduleStatus.RUNNING)
    ]
    ticks = {s.name: next_tick(s, now) for s in running_schedules}
    schedules_by_job: dict[str, list[str]] = {}
    schedules_by_asset: dict[dg.AssetKey, list[str]] = {}
    for schedule in running_schedules:
        schedules_by_job.setdefault(schedule.job_name, []).append(schedule.name)
        for key in repository.get_job(schedule.job_name).asset_layer.selected_asset_keys:
            schedules_by_asset.setdefault(key, []).append(schedule.name)

    def scheduled(names: list[str]) -> dict:
        return {
            "next_tick_at": min((ticks[n] for n in names), default=None),
            "schedules": ", ".join(sorted(names)) or None,
        }

    rows: list[StatusRow] = []
    for job in sorted(repository.get_all_jobs(), key=lambda j: j.name):
        rows.append(
            StatusRow(
                object_type="job",
                name=job.name,
                **_run_fields(runs, runs.latest(job.name, exclude_run_id)),
                **scheduled(schedules_by_job.get(job.name, [])),
                detail=None,
                last_materialized_at=None,
                failed_partitions=None,
                checked_at=now,
            )
        )

    asset_graph = repository.asset_graph
    keys = sorted(asset_graph.materializable_asset_keys, key=lambda k: k.to_user_string())
    records = {
        record.asset_entry.asset_key: record.asset_entry for record in instance.get_asset_records(keys)
    }
    for key in keys:
        entry = records.get(key)
        materialization = entry.last_materialization if entry else None
        run_id = entry.last_run_id if entry else None
        if run_id is not None and run_id == exclude_run_id:
            run_id = materialization.run_id if materialization else None  # the previous snapshot's run
        if run_id is not None and _is_dry_run(runs.record(run_id)):
            run_id = _last_real_run(instance, runs, key)
        step_key = asset_graph.get(key).assets_def.get_op_def_for_asset_key(key).name
        fields_ = _run_fields(runs, runs.record(run_id) if run_id else None)
        fields_.update(_asset_outcome(runs, fields_, step_key, materialization))
        partitions_def = asset_graph.get(key).partitions_def
        rows.append(
            StatusRow(
                object_type="asset",
                name=key.to_user_string(),
                **fields_,
                **scheduled(schedules_by_asset.get(key, [])),
                detail=None,
                last_materialized_at=_utc(materialization.timestamp) if materialization else None,
                failed_partitions=_failed_partitions(instance, key, partitions_def)
                if partitions_def
                else None,
                checked_at=now,
            )
        )

    for schedule in sorted(repository.schedule_defs, key=lambda s: s.name):
        running = schedule.name in ticks
        rows.append(
            _instigator_row(
                instance, "schedule", schedule.name, schedule_states.get(schedule.name), running, now,
                next_tick_at=ticks.get(schedule.name),
            )
        )  # fmt: skip
    for sensor in sorted(repository.sensor_defs, key=lambda s: s.name):
        state = sensor_states.get(sensor.name)
        running = _is_running(state, sensor.default_status == dg.DefaultSensorStatus.RUNNING)
        rows.append(_instigator_row(instance, "sensor", sensor.name, state, running, now, next_tick_at=None))
    return rows


def _instigator_row(
    instance: dg.DagsterInstance,
    object_type: str,
    name: str,
    state: InstigatorState | None,
    running: bool,
    now: datetime,
    *,
    next_tick_at: datetime | None,
) -> StatusRow:
    """A schedule or sensor: RUNNING/STOPPED plus its last tick (status, time, error or skip reason)."""
    tick = None
    if state is not None:
        latest = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1)
        tick = latest[0] if latest else None
    status = "RUNNING" if running else "STOPPED"
    error = detail = None
    if tick is not None:
        status = f"{status}, last tick {tick.status.value}"
        error = root_cause_message(tick.error) if tick.error else None
        detail = tick.skip_reason
    return StatusRow(
        object_type=object_type,
        name=name,
        status=status,
        last_run_id=(tick.run_ids[-1] if tick is not None and tick.run_ids else None),
        started_at=_utc(tick.timestamp) if tick is not None else None,
        ended_at=_utc(tick.end_timestamp) if tick is not None and tick.end_timestamp else None,
        duration_s=None,
        next_tick_at=next_tick_at,
        schedules=None,
        error=error,
        detail=detail,
        last_materialized_at=None,
        failed_partitions=None,
        checked_at=now,
    )
