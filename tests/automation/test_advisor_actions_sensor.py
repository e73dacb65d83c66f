"""New High-impact Advisor recommendations become `create_notion_action` runs: one per recommendation (run key =
its Source ID, then `<source id>#<earlier runs>` once earlier runs for it ended without a page), none for a
recommendation the write-back ledger shows with a page nor for one whose run is in flight in the Dagster instance,
at most `MAX_RUNS_PER_TICK` per tick."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest
from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin

from ppm_assets.definitions import defs
from ppm_assets.tables import ADVISOR_RECOMMENDATIONS, NOTION_WRITEBACKS
from ppm_assets.writeback.ledger import ledger_rows
from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.writeback.drafts import ActionDraft
from ppm_resources.writeback.writer import ActionResult, Outcome
from ppm_sensors.azure.advisor_actions import advisor_action_drafts, advisor_high_impact_to_actions
from ppm_sensors.writeback.jobs import JOB_NAME, writeback_config
from ppm_sensors.writeback.requests import MAX_RUNS_PER_TICK

TABLE = ADVISOR_RECOMMENDATIONS.name
SENSOR = "advisor_high_impact_to_actions"
#: The columns `high_impact_sql` selects, typed as in silver.
SCHEMA = pa.schema(
    [
        pa.field("recommendation_id", pa.string()),
        pa.field("category", pa.string()),
        pa.field("impact", pa.string()),
        pa.field("impacted_field", pa.string()),
        pa.field("impacted_value", pa.string()),
        pa.field("problem", pa.string()),
        pa.field("solution", pa.string()),
        pa.field("monthly_savings_reporting", pa.decimal128(18, 2)),
        pa.field("reporting_currency", pa.string()),
        pa.field("project_code", pa.string()),
        pa.field("project_page_id", pa.string()),
    ]
)
#: A queued run needs the origin of its job in a code location (the run queue launches it from there).
ORIGIN = RemoteJobOrigin(
    RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("finance_ppm"), "__repository__"), JOB_NAME
)
#: Where an earlier run for a recommendation is: in flight (the sensor waits for it) or finished without a page.
IN_FLIGHT = ["not_started", "queued", "started", "canceling", "will_retry"]
FINISHED = ["failed", "canceled", "retries_exhausted", "succeeded"]
#: The run events that take a new (NOT_STARTED) run to each state, and the run status they leave.
EVENTS: dict[str, tuple[tuple[str, ...], dg.DagsterRunStatus]] = {
    "not_started": ((), dg.DagsterRunStatus.NOT_STARTED),
    "queued": ((), dg.DagsterRunStatus.QUEUED),
    "started": (("PIPELINE_START",), dg.DagsterRunStatus.STARTED),
    "canceling": (("PIPELINE_START", "PIPELINE_CANCELING"), dg.DagsterRunStatus.CANCELING),
    "will_retry": (("PIPELINE_START", "PIPELINE_FAILURE"), dg.DagsterRunStatus.FAILURE),
    "failed": (("PIPELINE_START", "PIPELINE_FAILURE"), dg.DagsterRunStatus.FAILURE),
    "retries_exhausted": (("PIPELINE_START", "PIPELINE_FAILURE"), dg.DagsterRunStatus.FAILURE),
    "canceled": (("PIPELINE_START", "PIPELINE_CANCELED"), dg.DagsterRunStatus.CANCELED),
    "succeeded": (("PIPELINE_START", "PIPELINE_SUCCESS"), dg.DagsterRunStatus.SUCCESS),
}
#: The `dagster/will_retry` tag Dagster's run retries put on a failed run.
WILL_RETRY = {"will_retry": "true", "retries_exhausted": "false"}


def _rec_id(name: str) -> str:
    return f"/subscriptions/s1/resourcegroups/rg/providers/microsoft.advisor/recommendations/{name}"


def _source(name: str) -> str:
    return f"advisor:{_rec_id(name)}"


A = _source("a")
B = _source("b")


def _row(name: str, impact: str = "High") -> dict:
    return {
        "recommendation_id": _rec_id(name),
        "category": "Cost",
        "impact": impact,
        "impacted_field": "microsoft.compute/virtualmachines",
        "impacted_value": f"vm-{name}",
        "problem": "Right-size or shutdown underutilized virtual machines",
        "solution": "Right-size or shutdown underutilized virtual machines",
        "monthly_savings_reporting": Decimal("12.50"),
        "reporting_currency": "USD",
        "project_code": "PRJ-1",
        "project_page_id": None,
    }


def _cursor(version: int, backlog: bool = False) -> dict:
    return {"version": version, "backlog": backlog}


def _unchanged(version: int) -> str:
    return f"{TABLE} unchanged since the last check (version {version})"


def _nothing_to_send(version: int, open_count: int, done: int, in_flight: int) -> str:
    return (
        f"version {version}: no High-impact recommendation to send ({open_count} open: {done} have an Action, "
        f"{in_flight} being sent)"
    )


@pytest.fixture
def lakehouse(tmp_path: Path) -> LocalLakehouse:
    return LocalLakehouse(root=str(tmp_path / "lakehouse"))


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture(scope="module")
def job() -> dg.JobDefinition:
    return defs.resolve_job_def(JOB_NAME)


def _write(lakehouse: LocalLakehouse, rows: list[dict]) -> int:
    """A rebuild of the silver table with ``rows``; its new version."""
    lakehouse.replace(TABLE, pa.Table.from_pylist(rows, schema=SCHEMA))
    version = lakehouse.version(TABLE)
    assert version is not None
    return version


def _ledger(lakehouse: LocalLakehouse, source_id: str, outcome: Outcome) -> None:
    """A write-back run's ledger row for ``source_id``."""
    draft = ActionDraft(
        source="advisor", source_id=source_id, title=f"Fix {source_id}", requested_by="sensor"
    )
    page = "0123456789abcdef0123456789abcdef" if outcome != "failed" else None
    result = ActionResult(
        draft, outcome, page_id=page, error="HTTP 400" if outcome == "failed" else None, create_requests=1
    )
    lakehouse.append(NOTION_WRITEBACKS.name, ledger_rows([result], run_id="run-x", api_version="2025-09-03"))


def _tick(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, cursor: str | None
) -> dg.SensorExecutionData:
    with dg.build_sensor_context(
        cursor=cursor,
        instance=instance,
        resources={"lakehouse": lakehouse},
        repository_def=defs.get_repository_def(),
    ) as context:
        return advisor_high_impact_to_actions.evaluate_tick(context)


def _requested(result: dg.SensorExecutionData, job: dg.JobDefinition) -> list[str]:
    """The run keys of the tick's requests, after checking each is a valid write-back run of one Source ID (the
    run key, without its `#<earlier runs>` suffix) with exactly the sensor's tags."""
    for request in result.run_requests:
        source_id = request.tags["ppm/source_id"]
        assert request.job_name == JOB_NAME
        assert request.run_key is not None
        assert request.run_key.split("#")[0] == source_id
        assert request.tags == {
            "ppm/source_id": source_id,
            "ppm/action_source": "advisor",
            "dagster/sensor_name": SENSOR,
        }
        assert request.run_config == writeback_config(source_ids=[source_id])
        dg.validate_run_config(job, request.run_config)
    if result.run_requests:
        assert result.skip_message is None
    return [request.run_key for request in result.run_requests]


def _skipped(result: dg.SensorExecutionData) -> str:
    assert not result.run_requests
    assert result.skip_message
    return result.skip_message


def _loaded(result: dg.SensorExecutionData) -> dict:
    assert result.cursor is not None
    return json.loads(result.cursor)


def _run(
    instance: dg.DagsterInstance, job: dg.JobDefinition, source_id: str, run_key: str, state: str
) -> dg.DagsterRun:
    """A write-back run for ``source_id`` as the sensor requests it (its tags, run key and config), in ``state``."""
    events, status = EVENTS[state]
    queued = state == "queued"
    run = instance.create_run_for_job(
        job_def=job,
        run_config=writeback_config(source_ids=[source_id]),
        tags={
            "ppm/source_id": source_id,
            "ppm/action_source": "advisor",
            "dagster/sensor_name": SENSOR,
            "dagster/run_key": run_key,
        },
        status=dg.DagsterRunStatus.QUEUED if queued else None,
        remote_job_origin=ORIGIN if queued else None,
    )
    for event in events:
        instance.report_dagster_event(
            dg.DagsterEvent(event_type_value=dg.DagsterEventType[event].value, job_name=JOB_NAME),
            run_id=run.run_id,
        )
    if state in WILL_RETRY:
        instance.add_run_tags(run.run_id, {"dagster/will_retry": WILL_RETRY[state]})
    stored = instance.get_run_by_id(run.run_id)
    assert stored is not None
    assert stored.status == status
    return stored


def _retry(
    instance: dg.DagsterInstance, job: dg.JobDefinition, failed: dg.DagsterRun, state: str
) -> dg.DagsterRun:
    """Dagster's automatic retry of ``failed``, in ``state``: a new run with the failed run's tags (its Source ID
    and run key) but its retry tags; the failed run keeps `dagster/will_retry=true` and names its retry."""
    assert failed.tags["dagster/will_retry"] == "true"
    retry = _run(instance, job, failed.tags["ppm/source_id"], failed.tags["dagster/run_key"], state)
    instance.add_run_tags(retry.run_id, {"dagster/retry_number": "1"})
    instance.add_run_tags(failed.run_id, {"dagster/auto_retry_run_id": retry.run_id})
    return retry


def _launch(
    instance: dg.DagsterInstance,
    job: dg.JobDefinition,
    result: dg.SensorExecutionData,
    state: str = "not_started",
) -> None:
    """The runs the daemon makes of the tick's requests, in ``state``."""
    for request in result.run_requests:
        assert request.run_key is not None
        _run(instance, job, request.tags["ppm/source_id"], request.run_key, state)


def test_before_the_table_exists_the_sensor_skips(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance
) -> None:
    result = _tick(lakehouse, instance, None)
    assert _skipped(result) == f"{TABLE} does not exist yet"
    assert result.cursor is None


def test_each_high_impact_recommendation_is_requested(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition
) -> None:
    version = _write(lakehouse, [_row("b"), _row("a"), _row("m", "Medium"), _row("l", "Low")])
    result = _tick(lakehouse, instance, None)
    assert _requested(result, job) == [A, B]  # sorted by Source ID; Medium/Low ignored
    assert _loaded(result) == _cursor(version)


def test_an_unchanged_table_skips_and_keeps_the_cursor(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition
) -> None:
    version = _write(lakehouse, [_row("a")])
    first = _tick(lakehouse, instance, None)
    assert _requested(first, job) == [A]

    again = _tick(lakehouse, instance, first.cursor)
    assert _skipped(again) == _unchanged(version)
    assert again.cursor == first.cursor


@pytest.mark.parametrize("state", IN_FLIGHT)
def test_a_recommendation_whose_run_is_in_flight_is_not_requested_again(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition, state: str
) -> None:
    _write(lakehouse, [_row("a")])
    first = _tick(lakehouse, instance, None)
    assert _requested(first, job) == [A]
    _launch(instance, job, first, state)

    # a rebuild with the same rows: a new version; a's run has not written the ledger yet
    rebuilt = _write(lakehouse, [_row("a")])
    same = _tick(lakehouse, instance, first.cursor)
    assert _skipped(same) == _nothing_to_send(rebuilt, 1, 0, 1)
    assert _loaded(same) == _cursor(rebuilt)

    # the next version adds one High-impact recommendation: only it is requested
    version = _write(lakehouse, [_row("a"), _row("b"), _row("c", "Medium")])
    second = _tick(lakehouse, instance, same.cursor)
    assert _requested(second, job) == [B]
    assert _loaded(second) == _cursor(version)


@pytest.mark.parametrize("state", FINISHED)
def test_a_recommendation_whose_run_ended_without_a_page_is_requested_under_a_new_run_key(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition, state: str
) -> None:
    version = _write(lakehouse, [_row("a")])
    first = _tick(lakehouse, instance, None)
    assert _requested(first, job) == [A]
    _launch(instance, job, first, state)

    # the same version: nothing is requested until the next one
    assert _skipped(_tick(lakehouse, instance, first.cursor)) == _unchanged(version)

    version = _write(lakehouse, [_row("a")])
    second = _tick(lakehouse, instance, first.cursor)
    assert _requested(second, job) == [f"{A}#1"]
    assert _loaded(second) == _cursor(version)


def test_each_run_that_ended_without_a_page_moves_the_run_key_on(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition
) -> None:
    _write(lakehouse, [_row("a")])
    first = _tick(lakehouse, instance, None)
    assert _requested(first, job) == [A]
    _launch(instance, job, first, "failed")
    _ledger(lakehouse, A, "failed")

    _write(lakehouse, [_row("a")])
    second = _tick(lakehouse, instance, first.cursor)
    assert _requested(second, job) == [f"{A}#1"]
    _launch(instance, job, second)

    # the second run has not started yet: being sent
    version = _write(lakehouse, [_row("a")])
    third = _tick(lakehouse, instance, second.cursor)
    assert _skipped(third) == _nothing_to_send(version, 1, 0, 1)
    assert _loaded(third) == _cursor(version)

    # it was canceled: a third run
    [run] = instance.get_runs(dg.RunsFilter(tags={"dagster/run_key": f"{A}#1"}))
    instance.report_run_canceled(run)
    version = _write(lakehouse, [_row("a")])
    fourth = _tick(lakehouse, instance, third.cursor)
    assert _requested(fourth, job) == [f"{A}#2"]
    assert _loaded(fourth) == _cursor(version)
    _launch(instance, job, fourth, "succeeded")
    _ledger(lakehouse, A, "created")  # the third run made the page

    version = _write(lakehouse, [_row("a")])
    fifth = _tick(lakehouse, instance, fourth.cursor)
    assert _skipped(fifth) == _nothing_to_send(version, 1, 1, 0)
    assert _loaded(fifth) == _cursor(version)


def test_a_failed_run_that_will_be_retried_is_in_flight(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition
) -> None:
    _write(lakehouse, [_row("a")])
    first = _tick(lakehouse, instance, None)
    assert _requested(first, job) == [A]
    _launch(instance, job, first, "will_retry")

    version = _write(lakehouse, [_row("a")])
    second = _tick(lakehouse, instance, first.cursor)
    assert _skipped(second) == _nothing_to_send(version, 1, 0, 1)
    assert _loaded(second) == _cursor(version)

    # Dagster made the retry: it is in flight in its turn
    [failed] = instance.get_runs(dg.RunsFilter(tags={"ppm/source_id": A}))
    _retry(instance, job, failed, "started")
    version = _write(lakehouse, [_row("a")])
    assert _skipped(_tick(lakehouse, instance, second.cursor)) == _nothing_to_send(version, 1, 0, 1)


def test_a_recommendation_whose_retries_all_failed_is_requested_again(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition
) -> None:
    _write(lakehouse, [_row("a")])
    first = _tick(lakehouse, instance, None)
    assert _requested(first, job) == [A]
    _launch(instance, job, first, "will_retry")
    [failed] = instance.get_runs(dg.RunsFilter(tags={"ppm/source_id": A}))
    _retry(instance, job, failed, "retries_exhausted")  # the retry failed too, with no retry left

    version = _write(lakehouse, [_row("a")])
    second = _tick(lakehouse, instance, first.cursor)
    assert _requested(second, job) == [f"{A}#1"]
    assert _loaded(second) == _cursor(version)


def test_earlier_runs_before_the_first_tick_give_a_suffixed_run_key(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition
) -> None:
    _run(instance, job, A, A, "failed")
    _run(instance, job, B, B, "canceled")
    _run(instance, job, B, f"{B}#1", "failed")
    version = _write(lakehouse, [_row("a"), _row("b")])
    result = _tick(lakehouse, instance, None)
    assert _requested(result, job) == [f"{A}#1", f"{B}#2"]
    assert _loaded(result) == _cursor(version)


def test_runs_of_other_recommendations_or_other_jobs_do_not_count(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition
) -> None:
    _run(instance, job, f"{A}2", f"{A}2", "not_started")  # another recommendation, in flight
    _run(instance, job, f"{A}2", f"{A}2#1", "failed")
    other = defs.resolve_job_def("notion_sync")  # another job, tagged with the recommendation's Source ID
    instance.create_run_for_job(job_def=other, tags={"ppm/source_id": A})
    _write(lakehouse, [_row("a")])
    assert _requested(_tick(lakehouse, instance, None), job) == [A]


def test_a_recommendation_whose_action_is_in_the_ledger_is_not_requested(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition
) -> None:
    _ledger(lakehouse, A, "created")
    _ledger(lakehouse, B, "failed")  # a failure then a page: done
    _ledger(lakehouse, B, "existed")
    _run(instance, job, B, B, "failed")
    _run(instance, job, B, f"{B}#1", "not_started")  # a run still in flight: the ledger wins
    version = _write(lakehouse, [_row("a"), _row("b")])
    result = _tick(lakehouse, instance, None)
    assert _skipped(result) == _nothing_to_send(version, 2, 2, 0)
    assert _loaded(result) == _cursor(version)
    assert _skipped(_tick(lakehouse, instance, result.cursor)) == _unchanged(version)


def test_a_resolved_recommendation_that_comes_back_keeps_its_action(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition
) -> None:
    _write(lakehouse, [_row("a"), _row("b")])
    first = _tick(lakehouse, instance, None)
    assert _requested(first, job) == [A, B]
    _launch(instance, job, first, "succeeded")
    _ledger(lakehouse, A, "created")  # a's run made its page; b's run failed
    _ledger(lakehouse, B, "failed")

    # Azure resolved both (a Medium row stays so the table is not empty): nothing open
    resolved_version = _write(lakehouse, [_row("m", "Medium")])
    resolved = _tick(lakehouse, instance, first.cursor)
    assert _skipped(resolved) == _nothing_to_send(resolved_version, 0, 0, 0)
    assert _loaded(resolved) == _cursor(resolved_version)

    # both back: a has its Action (closed or not, it is not reopened); b is sent again
    back_version = _write(lakehouse, [_row("a"), _row("b")])
    back = _tick(lakehouse, instance, resolved.cursor)
    assert _requested(back, job) == [f"{B}#1"]
    assert _loaded(back) == _cursor(back_version)
    _launch(instance, job, back, "succeeded")
    _ledger(lakehouse, B, "created")

    # resolved and back once more, with both pages in the ledger: nothing to request, the skip says why
    gone_version = _write(lakehouse, [])
    gone = _tick(lakehouse, instance, back.cursor)
    assert _skipped(gone) == _nothing_to_send(gone_version, 0, 0, 0)
    again_version = _write(lakehouse, [_row("a"), _row("b")])
    again = _tick(lakehouse, instance, gone.cursor)
    assert _skipped(again) == _nothing_to_send(again_version, 2, 2, 0)
    assert _loaded(again) == _cursor(again_version)


def test_a_burst_of_recommendations_is_requested_over_several_ticks(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition
) -> None:
    assert MAX_RUNS_PER_TICK == 10
    names = [f"rec-{i:02d}" for i in range(MAX_RUNS_PER_TICK + 2)]
    expected = [_source(name) for name in names]
    version = _write(lakehouse, [_row(name) for name in names])

    first = _tick(lakehouse, instance, None)
    assert _requested(first, job) == expected[:MAX_RUNS_PER_TICK]
    assert _loaded(first) == _cursor(version, backlog=True)
    _launch(instance, job, first)

    # the same version: the backlog is sent; the first tick's runs are in flight, one of them already done
    _ledger(lakehouse, expected[0], "created")
    second = _tick(lakehouse, instance, first.cursor)
    assert _requested(second, job) == expected[MAX_RUNS_PER_TICK:]
    assert _loaded(second) == _cursor(version)
    _launch(instance, job, second)

    third = _tick(lakehouse, instance, second.cursor)
    assert _skipped(third) == _unchanged(version)
    assert third.cursor == second.cursor

    # the next version: every recommendation has a page or a run in flight
    version = _write(lakehouse, [_row(name) for name in names])
    fourth = _tick(lakehouse, instance, third.cursor)
    assert _skipped(fourth) == _nothing_to_send(version, len(names), 1, len(names) - 1)
    assert _loaded(fourth) == _cursor(version)


def test_a_backlog_whose_runs_were_not_made_yet_is_requested_under_the_same_run_keys(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition
) -> None:
    version = _write(lakehouse, [_row(f"rec-{i:02d}") for i in range(MAX_RUNS_PER_TICK + 1)])
    first = _tick(lakehouse, instance, None)
    second = _tick(lakehouse, instance, first.cursor)  # Dagster skips a run key it has seen
    assert _requested(second, job) == _requested(first, job)
    assert _loaded(second) == _cursor(version, backlog=True)


def test_a_recommendation_with_an_invalid_source_id_is_skipped_without_failing_the_tick(
    lakehouse: LocalLakehouse,
    instance: dg.DagsterInstance,
    job: dg.JobDefinition,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bad = _row("bad name")  # a space: the Source ID cannot be stored
    assert list(advisor_action_drafts([bad, _row("a")])) == [A]

    version = _write(lakehouse, [_row("b"), bad, _row("a")])
    with caplog.at_level(logging.WARNING, logger="ppm_resources.writeback"):
        result = _tick(lakehouse, instance, None)
    assert _requested(result, job) == [A, B]
    assert _loaded(result) == _cursor(version)
    assert f"no Action draft for {_source('bad name')}" in caplog.text

    # a version with only the invalid recommendation: nothing to send, and it is not counted
    only_bad = _write(lakehouse, [bad])
    skipped = _tick(lakehouse, instance, result.cursor)
    assert _skipped(skipped) == _nothing_to_send(only_bad, 0, 0, 0)
    assert _loaded(skipped) == _cursor(only_bad)


@pytest.mark.parametrize(
    "cursor",
    [None, "", "nope", "[]", '{"requested": "x"}', '{"version": "0", "backlog": "yes"}', '{"backlog": true}'],
)
def test_an_unreadable_cursor_starts_over(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition, cursor: str | None
) -> None:
    version = _write(lakehouse, [_row("a"), _row("b")])
    result = _tick(lakehouse, instance, cursor)
    assert _requested(result, job) == [A, B]
    assert _loaded(result) == _cursor(version)
