"""New critical DQ issues become `create_notion_action` runs: one per issue (run key = its Source ID, then
`<source id>#<earlier runs>` once earlier runs for it ended without a page), none for an issue the write-back
ledger shows with a page nor for one whose run is in flight in the Dagster instance, at most `MAX_RUNS_PER_TICK`
per tick."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import dagster as dg
import pyarrow as pa
import pytest

from ppm_assets.definitions import defs
from ppm_assets.quality.data_quality_issues import ISSUES_SCHEMA, TABLE
from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.writeback.drafts import dq_action_drafts
from ppm_sensors.quality.dq_actions import DqActionsCursor, dq_critical_issues_to_actions
from ppm_sensors.writeback.requests import MAX_RUNS_PER_TICK
from tests.automation.writeback_sensor_runs import FINISHED, IN_FLIGHT, SensorRuns, skipped

START = datetime(2026, 11, 1, tzinfo=UTC)
NO_NEW_EVALUATION = "no new data-quality evaluation since the last check"
KEYS = "dq:key_unique:silver/projects"
SCORE = "dq:dq_score_meets_threshold:gold/data_quality_issues"
SENSOR = "dq_critical_issues_to_actions"
RUNS = SensorRuns("dq", SENSOR)
_requested, _run, _retry, _launch, _ledger = RUNS.requested, RUNS.run, RUNS.retry, RUNS.launch, RUNS.ledger
_skipped = skipped


def _issue(evaluation: int, rule: str, asset: str, severity: str, passed: bool = False) -> dict:
    return {
        "evaluation_id": f"run-{evaluation}",
        "detected_at": START + timedelta(hours=evaluation),
        "rule": rule,
        "rule_family": "keys",
        "asset": asset,
        "table_name": asset.replace("/", "."),
        "severity": severity,
        "row_level": True,
        "passed": passed,
        "failing_rows": 2,
        "total_rows": 100,
        "sample_keys": ["k1"],
        "sample_urls": ["https://www.notion.so/k1"],
        "sample_values": ["x"],
        "message": f"{rule} failed",
        "dq_score": None,
    }


def _keys_issue(evaluation: int, passed: bool = False) -> dict:
    return _issue(evaluation, "key_unique", "silver/projects", "ERROR", passed=passed)


def _score_issue(evaluation: int, passed: bool = False) -> dict:
    return _issue(evaluation, "dq_score_meets_threshold", "gold/data_quality_issues", "ERROR", passed=passed)


def _nothing_to_send(evaluation: int, open_count: int, done: int, in_flight: int) -> str:
    return (
        f"evaluation run-{evaluation}: no critical issue to send ({open_count} open: {done} have an Action, "
        f"{in_flight} being sent)"
    )


def _cursor(evaluation: int, backlog: bool = False) -> dict:
    return {"evaluation_id": f"run-{evaluation}", "backlog": backlog}


def _tick(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, cursor: str | None
) -> dg.SensorExecutionData:
    with dg.build_sensor_context(
        cursor=cursor,
        instance=instance,
        resources={"lakehouse": lakehouse},
        repository_def=defs.get_repository_def(),
    ) as context:
        return dq_critical_issues_to_actions.evaluate_tick(context)


def _loaded(result: dg.SensorExecutionData) -> dict:
    """The tick's cursor, checked to read back as what `DqActionsCursor.dumps` writes."""
    assert result.cursor is not None
    value = json.loads(result.cursor)
    assert json.loads(DqActionsCursor.loads(result.cursor).dumps()) == value
    return value


def _append(lakehouse: LocalLakehouse, rows: list[dict]) -> None:
    lakehouse.append(TABLE, pa.Table.from_pylist(rows, schema=ISSUES_SCHEMA))


def test_the_cursor_is_the_evaluation_and_the_backlog_flag() -> None:
    assert json.loads(DqActionsCursor("run-1", True).dumps()) == {"evaluation_id": "run-1", "backlog": True}
    assert DqActionsCursor.loads(DqActionsCursor("run-1", True).dumps()) == DqActionsCursor("run-1", True)
    assert DqActionsCursor.loads('{"evaluation_id": "run-1", "backlog": false}') == DqActionsCursor("run-1")


def test_before_any_evaluation_the_sensor_skips(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance
) -> None:
    result = _tick(lakehouse, instance, None)
    assert _skipped(result) == NO_NEW_EVALUATION
    assert result.cursor is None


def test_each_critical_issue_of_a_first_evaluation_is_requested(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition
) -> None:
    _append(
        lakehouse,
        [
            _keys_issue(1),
            _score_issue(1),
            _issue(1, "required_name", "silver/risks", "WARN"),  # not critical
            _issue(1, "name_length", "silver/risks", "INFO"),  # not critical
            _issue(1, "key_not_null", "silver/projects", "ERROR", passed=True),  # passed
        ],
    )
    result = _tick(lakehouse, instance, None)
    assert _requested(result, job) == [SCORE, KEYS]  # sorted by Source ID
    assert _loaded(result) == _cursor(1)


def test_an_unchanged_evaluation_skips_and_keeps_the_cursor(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition
) -> None:
    _append(lakehouse, [_keys_issue(1)])
    first = _tick(lakehouse, instance, None)
    assert _requested(first, job) == [KEYS]

    again = _tick(lakehouse, instance, first.cursor)
    assert _skipped(again) == NO_NEW_EVALUATION
    assert again.cursor == first.cursor


@pytest.mark.parametrize("state", IN_FLIGHT)
def test_an_issue_whose_run_is_in_flight_is_not_requested_again(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition, state: str
) -> None:
    _append(lakehouse, [_keys_issue(1)])
    first = _tick(lakehouse, instance, None)
    assert _requested(first, job) == [KEYS]
    _launch(instance, job, first, state)

    # the next evaluation: the same key issue (its run has not written the ledger yet) plus the DQ score
    _append(lakehouse, [_keys_issue(2), _score_issue(2)])
    second = _tick(lakehouse, instance, first.cursor)
    assert _requested(second, job) == [SCORE]
    assert _loaded(second) == _cursor(2)
    _launch(instance, job, second)

    # a third evaluation with both still open and no ledger row: both are being sent
    _append(lakehouse, [_keys_issue(3), _score_issue(3)])
    third = _tick(lakehouse, instance, second.cursor)
    assert _skipped(third) == _nothing_to_send(3, 2, 0, 2)
    assert _loaded(third) == _cursor(3)


@pytest.mark.parametrize("state", FINISHED)
def test_an_issue_whose_run_ended_without_a_page_is_requested_under_a_new_run_key(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition, state: str
) -> None:
    _append(lakehouse, [_keys_issue(1)])
    first = _tick(lakehouse, instance, None)
    assert _requested(first, job) == [KEYS]
    _launch(instance, job, first, state)

    # the same evaluation: nothing is requested until the next one
    assert _skipped(_tick(lakehouse, instance, first.cursor)) == NO_NEW_EVALUATION

    _append(lakehouse, [_keys_issue(2)])
    second = _tick(lakehouse, instance, first.cursor)
    assert _requested(second, job) == [f"{KEYS}#1"]
    assert _loaded(second) == _cursor(2)


def test_each_run_that_ended_without_a_page_moves_the_run_key_on(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition
) -> None:
    _append(lakehouse, [_keys_issue(1)])
    first = _tick(lakehouse, instance, None)
    assert _requested(first, job) == [KEYS]
    _launch(instance, job, first, "failed")
    _ledger(lakehouse, KEYS, "failed")

    _append(lakehouse, [_keys_issue(2)])
    second = _tick(lakehouse, instance, first.cursor)
    assert _requested(second, job) == [f"{KEYS}#1"]
    _launch(instance, job, second)

    # the second run has not started yet: being sent
    _append(lakehouse, [_keys_issue(3)])
    third = _tick(lakehouse, instance, second.cursor)
    assert _skipped(third) == _nothing_to_send(3, 1, 0, 1)
    assert _loaded(third) == _cursor(3)

    # it was canceled: a third run
    [run] = instance.get_runs(dg.RunsFilter(tags={"dagster/run_key": f"{KEYS}#1"}))
    instance.report_run_canceled(run)
    _append(lakehouse, [_keys_issue(4)])
    fourth = _tick(lakehouse, instance, third.cursor)
    assert _requested(fourth, job) == [f"{KEYS}#2"]
    assert _loaded(fourth) == _cursor(4)
    _launch(instance, job, fourth, "succeeded")
    _ledger(lakehouse, KEYS, "created")  # the third run made the page

    _append(lakehouse, [_keys_issue(5)])
    fifth = _tick(lakehouse, instance, fourth.cursor)
    assert _skipped(fifth) == _nothing_to_send(5, 1, 1, 0)
    assert _loaded(fifth) == _cursor(5)


def test_a_failed_run_that_will_be_retried_is_in_flight(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition
) -> None:
    _append(lakehouse, [_keys_issue(1)])
    first = _tick(lakehouse, instance, None)
    assert _requested(first, job) == [KEYS]
    _launch(instance, job, first, "will_retry")

    _append(lakehouse, [_keys_issue(2)])
    second = _tick(lakehouse, instance, first.cursor)
    assert _skipped(second) == _nothing_to_send(2, 1, 0, 1)
    assert _loaded(second) == _cursor(2)

    # Dagster made the retry: it is in flight in its turn
    [failed] = instance.get_runs(dg.RunsFilter(tags={"ppm/source_id": KEYS}))
    _retry(instance, job, failed, "started")
    _append(lakehouse, [_keys_issue(3)])
    assert _skipped(_tick(lakehouse, instance, second.cursor)) == _nothing_to_send(3, 1, 0, 1)


def test_an_issue_whose_retries_all_failed_is_requested_again(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition
) -> None:
    _append(lakehouse, [_keys_issue(1)])
    first = _tick(lakehouse, instance, None)
    assert _requested(first, job) == [KEYS]
    _launch(instance, job, first, "will_retry")
    [failed] = instance.get_runs(dg.RunsFilter(tags={"ppm/source_id": KEYS}))
    _retry(instance, job, failed, "retries_exhausted")  # the retry failed too, with no retry left

    _append(lakehouse, [_keys_issue(2)])
    second = _tick(lakehouse, instance, first.cursor)
    assert _requested(second, job) == [f"{KEYS}#1"]
    assert _loaded(second) == _cursor(2)


def test_earlier_runs_before_the_first_tick_give_a_suffixed_run_key(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition
) -> None:
    _run(instance, job, KEYS, KEYS, "failed")
    _run(instance, job, SCORE, SCORE, "canceled")
    _run(instance, job, SCORE, f"{SCORE}#1", "failed")
    _append(lakehouse, [_keys_issue(1), _score_issue(1)])
    result = _tick(lakehouse, instance, None)
    assert _requested(result, job) == [f"{SCORE}#2", f"{KEYS}#1"]
    assert _loaded(result) == _cursor(1)


def test_runs_of_other_issues_or_other_jobs_do_not_count(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition
) -> None:
    _run(instance, job, f"{KEYS}_2", f"{KEYS}_2", "not_started")  # another issue, in flight
    _run(instance, job, f"{KEYS}_2", f"{KEYS}_2#1", "failed")
    other = defs.resolve_job_def("notion_sync")  # another job, tagged with the issue's Source ID
    instance.create_run_for_job(job_def=other, tags={"ppm/source_id": KEYS})
    _append(lakehouse, [_keys_issue(1)])
    result = _tick(lakehouse, instance, None)
    assert _requested(result, job) == [KEYS]


def test_an_issue_whose_action_is_in_the_ledger_is_not_requested(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition
) -> None:
    _ledger(lakehouse, KEYS, "created")
    _ledger(lakehouse, SCORE, "failed")  # a failure then a page: done
    _ledger(lakehouse, SCORE, "existed")
    _run(instance, job, SCORE, SCORE, "failed")
    _run(instance, job, SCORE, f"{SCORE}#1", "not_started")  # a run still in flight: the ledger wins
    _append(lakehouse, [_keys_issue(1), _score_issue(1)])
    result = _tick(lakehouse, instance, None)
    assert _skipped(result) == _nothing_to_send(1, 2, 2, 0)
    assert _loaded(result) == _cursor(1)
    assert _skipped(_tick(lakehouse, instance, result.cursor)) == NO_NEW_EVALUATION


def test_a_resolved_issue_that_comes_back_keeps_its_action(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition
) -> None:
    _append(lakehouse, [_keys_issue(1), _score_issue(1)])
    first = _tick(lakehouse, instance, None)
    assert _requested(first, job) == [SCORE, KEYS]
    _launch(instance, job, first, "succeeded")
    _ledger(lakehouse, KEYS, "created")  # the key issue's run made its page; the score's run failed
    _ledger(lakehouse, SCORE, "failed")

    # both resolved: nothing open
    _append(lakehouse, [_keys_issue(2, passed=True), _score_issue(2, passed=True)])
    resolved = _tick(lakehouse, instance, first.cursor)
    assert _skipped(resolved) == _nothing_to_send(2, 0, 0, 0)
    assert _loaded(resolved) == _cursor(2)

    # both back: the key issue has its Action (closed or not, it is not reopened); the score is sent again
    _append(lakehouse, [_keys_issue(3), _score_issue(3)])
    back = _tick(lakehouse, instance, resolved.cursor)
    assert _requested(back, job) == [f"{SCORE}#1"]
    assert _loaded(back) == _cursor(3)
    _launch(instance, job, back, "succeeded")
    _ledger(lakehouse, SCORE, "created")

    # resolved and back once more, with both pages in the ledger: nothing to request, the skip says why
    _append(lakehouse, [_keys_issue(4, passed=True), _score_issue(4, passed=True)])
    gone = _tick(lakehouse, instance, back.cursor)
    assert _skipped(gone) == _nothing_to_send(4, 0, 0, 0)
    _append(lakehouse, [_keys_issue(5), _score_issue(5)])
    again = _tick(lakehouse, instance, gone.cursor)
    assert _skipped(again) == _nothing_to_send(5, 2, 2, 0)
    assert _loaded(again) == _cursor(5)


def test_a_burst_of_issues_is_requested_over_several_ticks(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition
) -> None:
    assert MAX_RUNS_PER_TICK == 10
    count = MAX_RUNS_PER_TICK + 3
    assets = [f"silver/table_{i:02d}" for i in range(count)]
    expected = [f"dq:key_unique:{asset}" for asset in assets]
    _append(lakehouse, [_issue(1, "key_unique", asset, "ERROR") for asset in assets])

    first = _tick(lakehouse, instance, None)
    assert _requested(first, job) == expected[:MAX_RUNS_PER_TICK]
    assert _loaded(first) == _cursor(1, backlog=True)
    _launch(instance, job, first)

    # the same evaluation: the backlog is sent; the first tick's runs are in flight, one of them already done
    _ledger(lakehouse, expected[0], "created")
    second = _tick(lakehouse, instance, first.cursor)
    assert _requested(second, job) == expected[MAX_RUNS_PER_TICK:]
    assert _loaded(second) == _cursor(1)
    _launch(instance, job, second)

    third = _tick(lakehouse, instance, second.cursor)
    assert _skipped(third) == NO_NEW_EVALUATION
    assert third.cursor == second.cursor

    # the next evaluation: every issue has a page or a run in flight
    _append(lakehouse, [_issue(2, "key_unique", asset, "ERROR") for asset in assets])
    fourth = _tick(lakehouse, instance, third.cursor)
    assert _skipped(fourth) == _nothing_to_send(2, count, 1, count - 1)
    assert _loaded(fourth) == _cursor(2)


def test_a_backlog_whose_runs_were_not_made_yet_is_requested_under_the_same_run_keys(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition
) -> None:
    assets = [f"silver/table_{i:02d}" for i in range(MAX_RUNS_PER_TICK + 1)]
    _append(lakehouse, [_issue(1, "key_unique", asset, "ERROR") for asset in assets])
    first = _tick(lakehouse, instance, None)
    second = _tick(lakehouse, instance, first.cursor)  # Dagster skips a run key it has seen
    assert _requested(second, job) == _requested(first, job)
    assert _loaded(second) == _cursor(1, backlog=True)


def test_drafts_carry_the_source_id_and_notion_links() -> None:
    [draft] = dq_action_drafts([_issue(1, "key_not_null", "silver/budget_lines", "ERROR")]).values()
    assert draft.source_id == "dq:key_not_null:silver/budget_lines"
    assert draft.sample_urls == ("https://www.notion.so/k1",)
    assert draft.title == "Fix data quality: key_not_null on silver/budget_lines (2 rows)"


def test_an_issue_with_an_invalid_source_id_is_skipped_without_failing_the_tick(
    lakehouse: LocalLakehouse,
    instance: dg.DagsterInstance,
    job: dg.JobDefinition,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bad = _issue(1, "key_unique", "silver/my projects", "ERROR")  # a space: the Source ID cannot be stored
    assert list(dq_action_drafts([bad, _keys_issue(1)])) == [KEYS]

    _append(lakehouse, [bad, _keys_issue(1), _score_issue(1)])
    with caplog.at_level(logging.WARNING, logger="ppm_resources.writeback"):
        result = _tick(lakehouse, instance, None)
    assert _requested(result, job) == [SCORE, KEYS]
    assert _loaded(result) == _cursor(1)
    assert "no Action draft for dq:key_unique:silver/my projects" in caplog.text

    # an evaluation with only the invalid issue open: nothing to send, and it is not counted
    _append(lakehouse, [_issue(2, "key_unique", "silver/my projects", "ERROR")])
    only_bad = _tick(lakehouse, instance, result.cursor)
    assert _skipped(only_bad) == _nothing_to_send(2, 0, 0, 0)
    assert _loaded(only_bad) == _cursor(2)


@pytest.mark.parametrize(
    "cursor",
    [
        None,
        "",
        "nope",
        "[]",
        '{"requested": "x"}',
        '{"evaluation_id": 1, "backlog": "yes"}',
    ],
)
def test_unreadable_cursor_starts_over(cursor: str | None) -> None:
    assert DqActionsCursor.loads(cursor) == DqActionsCursor()


@pytest.mark.parametrize("cursor", ["nope", "[]", '{"evaluation_id": 1, "backlog": "yes"}'])
def test_a_tick_with_an_unreadable_cursor_requests_the_open_issues(
    lakehouse: LocalLakehouse, instance: dg.DagsterInstance, job: dg.JobDefinition, cursor: str
) -> None:
    _append(lakehouse, [_keys_issue(1)])
    result = _tick(lakehouse, instance, cursor)
    assert _requested(result, job) == [KEYS]
    assert _loaded(result) == _cursor(1)
