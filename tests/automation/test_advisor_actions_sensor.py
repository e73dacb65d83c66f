"""New High-impact Advisor recommendations become `create_notion_action` runs: one per recommendation (run key =
its Source ID, then `<source id>#<earlier runs>` once earlier runs for it ended without a page), none for a
recommendation the write-back ledger shows with a page nor for one whose run is in flight in the Dagster instance,
at most `MAX_RUNS_PER_TICK` per tick."""

from __future__ import annotations

import json
import logging
from decimal import Decimal

import dagster as dg
import pyarrow as pa
import pytest

from ppm_assets.definitions import defs
from ppm_assets.tables import ADVISOR_RECOMMENDATIONS
from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.writeback.drafts import advisor_action_drafts
from ppm_sensors.azure.advisor_actions import advisor_high_impact_to_actions
from ppm_sensors.writeback.requests import MAX_RUNS_PER_TICK
from tests.automation.writeback_sensor_runs import FINISHED, IN_FLIGHT, SensorRuns, skipped

TABLE = ADVISOR_RECOMMENDATIONS.name
SENSOR = "advisor_high_impact_to_actions"
RUNS = SensorRuns("advisor", SENSOR)
_requested, _run, _retry, _launch, _ledger = RUNS.requested, RUNS.run, RUNS.retry, RUNS.launch, RUNS.ledger
_skipped = skipped
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


def _write(lakehouse: LocalLakehouse, rows: list[dict]) -> int:
    """A rebuild of the silver table with ``rows``; its new version."""
    lakehouse.replace(TABLE, pa.Table.from_pylist(rows, schema=SCHEMA))
    version = lakehouse.version(TABLE)
    assert version is not None
    return version


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


def _loaded(result: dg.SensorExecutionData) -> dict:
    assert result.cursor is not None
    return json.loads(result.cursor)


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
