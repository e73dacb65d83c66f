"""New critical DQ issues become `create_notion_action` runs: one per issue (run key = its Source ID, then
`<source id>#<failures>` after failed write-backs), never one for an issue the write-back ledger shows with a page
nor for one requested earlier that is still pending, at most `MAX_RUNS_PER_TICK` per tick."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest

from ppm_assets.definitions import defs
from ppm_assets.quality.data_quality_issues import ISSUES_SCHEMA, TABLE
from ppm_assets.tables import NOTION_WRITEBACKS
from ppm_assets.writeback.ledger import ledger_rows
from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.writeback.drafts import ActionDraft
from ppm_resources.writeback.writer import ActionResult, Outcome
from ppm_sensors.quality.dq_actions import DqActionsCursor, action_drafts, dq_critical_issues_to_actions
from ppm_sensors.writeback.jobs import JOB_NAME, writeback_config
from ppm_sensors.writeback.requests import MAX_RUNS_PER_TICK, key_digest

START = datetime(2026, 11, 1, tzinfo=UTC)
NO_NEW_EVALUATION = "no new data-quality evaluation since the last check"
KEYS = "dq:key_unique:silver/projects"
SCORE = "dq:dq_score_meets_threshold:gold/data_quality_issues"


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


def _digests(*run_keys: str) -> tuple[str, ...]:
    """The cursor's `requested`: sha256[:16] of each run key, sorted."""
    return tuple(sorted(hashlib.sha256(key.encode()).hexdigest()[:16] for key in run_keys))


def _nothing_to_send(evaluation: int, open_count: int, done: int, waiting: int) -> str:
    return (
        f"evaluation run-{evaluation}: no critical issue to send ({open_count} open: {done} have an Action, "
        f"{waiting} requested earlier)"
    )


@pytest.fixture
def lakehouse(tmp_path: Path) -> LocalLakehouse:
    return LocalLakehouse(root=str(tmp_path / "lakehouse"))


@pytest.fixture(scope="module")
def job() -> dg.JobDefinition:
    return defs.resolve_job_def(JOB_NAME)


def _tick(lakehouse: LocalLakehouse, cursor: str | None) -> dg.SensorExecutionData:
    with dg.build_sensor_context(
        cursor=cursor, resources={"lakehouse": lakehouse}, repository_def=defs.get_repository_def()
    ) as context:
        return dq_critical_issues_to_actions.evaluate_tick(context)


def _requested(result: dg.SensorExecutionData, job: dg.JobDefinition) -> list[str]:
    """The run keys of the tick's requests, after checking each is a valid write-back run of one Source ID (the
    run key without its `#<failures>` suffix)."""
    for request in result.run_requests:
        assert request.job_name == JOB_NAME
        source_id = re.sub(r"#[1-9][0-9]*$", "", request.run_key)
        assert request.run_config == writeback_config(source_ids=[source_id])
        assert request.tags["ppm/action_source"] == "dq"
        dg.validate_run_config(job, request.run_config)
    if result.run_requests:
        assert result.skip_message is None
    return [request.run_key for request in result.run_requests]


def _skipped(result: dg.SensorExecutionData) -> str:
    assert not result.run_requests
    assert result.skip_message
    return result.skip_message


def _cursor(result: dg.SensorExecutionData) -> DqActionsCursor:
    """The tick's cursor, checked to be exactly what `DqActionsCursor.dumps` writes."""
    assert result.cursor is not None
    cursor = DqActionsCursor.loads(result.cursor)
    assert json.loads(result.cursor) == json.loads(cursor.dumps())
    return cursor


def _append(lakehouse: LocalLakehouse, rows: list[dict]) -> None:
    lakehouse.append(TABLE, pa.Table.from_pylist(rows, schema=ISSUES_SCHEMA))


def _ledger(lakehouse: LocalLakehouse, source_id: str, outcome: Outcome) -> None:
    """A write-back run's ledger row for ``source_id``."""
    draft = ActionDraft(source="dq", source_id=source_id, title=f"Fix {source_id}", requested_by="sensor")
    page = "0123456789abcdef0123456789abcdef" if outcome != "failed" else None
    result = ActionResult(
        draft, outcome, page_id=page, error="HTTP 400" if outcome == "failed" else None, create_requests=1
    )
    lakehouse.append(NOTION_WRITEBACKS.name, ledger_rows([result], run_id="run-x", api_version="2025-09-03"))


def test_cursor_entries_are_run_key_digests() -> None:
    assert _digests(KEYS, f"{KEYS}#1") == tuple(sorted((key_digest(KEYS), key_digest(f"{KEYS}#1"))))
    assert len(key_digest(KEYS)) == 16


def test_before_any_evaluation_the_sensor_skips(lakehouse: LocalLakehouse) -> None:
    result = _tick(lakehouse, None)
    assert _skipped(result) == NO_NEW_EVALUATION
    assert result.cursor is None


def test_each_critical_issue_of_a_first_evaluation_is_requested(
    lakehouse: LocalLakehouse, job: dg.JobDefinition
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
    result = _tick(lakehouse, None)
    assert _requested(result, job) == [SCORE, KEYS]  # sorted by Source ID
    assert result.cursor is not None
    assert json.loads(result.cursor) == {
        "evaluation_id": "run-1",
        "requested": list(_digests(SCORE, KEYS)),
        "backlog": False,
    }
    assert _cursor(result) == DqActionsCursor("run-1", _digests(SCORE, KEYS), backlog=False)


def test_an_unchanged_evaluation_skips_and_keeps_the_cursor(
    lakehouse: LocalLakehouse, job: dg.JobDefinition
) -> None:
    _append(lakehouse, [_keys_issue(1)])
    first = _tick(lakehouse, None)
    assert _requested(first, job) == [KEYS]

    again = _tick(lakehouse, first.cursor)
    assert _skipped(again) == NO_NEW_EVALUATION
    assert again.cursor == first.cursor


def test_an_issue_requested_earlier_and_still_pending_is_not_requested_again(
    lakehouse: LocalLakehouse, job: dg.JobDefinition
) -> None:
    _append(lakehouse, [_keys_issue(1)])
    first = _tick(lakehouse, None)
    assert _requested(first, job) == [KEYS]

    # the next evaluation: the same key issue (its run has not written the ledger yet) plus the DQ score
    _append(lakehouse, [_keys_issue(2), _score_issue(2)])
    second = _tick(lakehouse, first.cursor)
    assert _requested(second, job) == [SCORE]
    assert _cursor(second) == DqActionsCursor("run-2", _digests(SCORE, KEYS))

    # a third evaluation with both still open and no ledger row: both are waiting for their runs
    _append(lakehouse, [_keys_issue(3), _score_issue(3)])
    third = _tick(lakehouse, second.cursor)
    assert _skipped(third) == _nothing_to_send(3, 2, 0, 2)
    assert _cursor(third) == DqActionsCursor("run-3", _digests(SCORE, KEYS))


def test_an_issue_whose_action_is_in_the_ledger_is_not_requested(lakehouse: LocalLakehouse) -> None:
    _ledger(lakehouse, KEYS, "created")
    _ledger(lakehouse, SCORE, "failed")  # a failure then a page: done
    _ledger(lakehouse, SCORE, "existed")
    _append(lakehouse, [_keys_issue(1), _score_issue(1)])
    result = _tick(lakehouse, None)
    assert _skipped(result) == _nothing_to_send(1, 2, 2, 0)
    assert _cursor(result) == DqActionsCursor("run-1", ())
    assert _skipped(_tick(lakehouse, result.cursor)) == NO_NEW_EVALUATION


def test_a_failed_write_back_is_requested_again_under_a_new_run_key(
    lakehouse: LocalLakehouse, job: dg.JobDefinition
) -> None:
    _append(lakehouse, [_keys_issue(1)])
    first = _tick(lakehouse, None)
    assert _requested(first, job) == [KEYS]
    assert _cursor(first) == DqActionsCursor("run-1", _digests(KEYS))
    _ledger(lakehouse, KEYS, "failed")

    # the same evaluation: nothing is requested until the next one
    assert _skipped(_tick(lakehouse, first.cursor)) == NO_NEW_EVALUATION

    _append(lakehouse, [_keys_issue(2)])
    second = _tick(lakehouse, first.cursor)
    assert _requested(second, job) == [f"{KEYS}#1"]
    assert _cursor(second) == DqActionsCursor("run-2", _digests(f"{KEYS}#1"))

    # the retry has not written the ledger yet: waiting
    _append(lakehouse, [_keys_issue(3)])
    third = _tick(lakehouse, second.cursor)
    assert _skipped(third) == _nothing_to_send(3, 1, 0, 1)
    assert _cursor(third) == DqActionsCursor("run-3", _digests(f"{KEYS}#1"))

    _ledger(lakehouse, KEYS, "failed")  # the retry failed too
    _append(lakehouse, [_keys_issue(4)])
    fourth = _tick(lakehouse, third.cursor)
    assert _requested(fourth, job) == [f"{KEYS}#2"]
    assert _cursor(fourth) == DqActionsCursor("run-4", _digests(f"{KEYS}#2"))

    _ledger(lakehouse, KEYS, "created")  # the third run made the page
    _append(lakehouse, [_keys_issue(5)])
    fifth = _tick(lakehouse, fourth.cursor)
    assert _skipped(fifth) == _nothing_to_send(5, 1, 1, 0)
    assert _cursor(fifth) == DqActionsCursor("run-5", ())


def test_a_failed_ledger_row_before_the_first_tick_gives_a_suffixed_run_key(
    lakehouse: LocalLakehouse, job: dg.JobDefinition
) -> None:
    _ledger(lakehouse, KEYS, "failed")
    _ledger(lakehouse, SCORE, "created")
    _append(lakehouse, [_keys_issue(1), _score_issue(1)])
    result = _tick(lakehouse, None)
    assert _requested(result, job) == [f"{KEYS}#1"]
    assert _cursor(result) == DqActionsCursor("run-1", _digests(f"{KEYS}#1"))


def test_a_resolved_issue_that_comes_back_keeps_its_action(
    lakehouse: LocalLakehouse, job: dg.JobDefinition
) -> None:
    _append(lakehouse, [_keys_issue(1), _score_issue(1)])
    first = _tick(lakehouse, None)
    assert _requested(first, job) == [SCORE, KEYS]
    _ledger(lakehouse, KEYS, "created")  # the key issue's run made its page; the score's run failed
    _ledger(lakehouse, SCORE, "failed")

    # both resolved: the cursor forgets them
    _append(lakehouse, [_keys_issue(2, passed=True), _score_issue(2, passed=True)])
    resolved = _tick(lakehouse, first.cursor)
    assert _skipped(resolved) == _nothing_to_send(2, 0, 0, 0)
    assert _cursor(resolved) == DqActionsCursor("run-2", ())

    # both back: the key issue has its Action (closed or not, it is not reopened); the score is sent again
    _append(lakehouse, [_keys_issue(3), _score_issue(3)])
    back = _tick(lakehouse, resolved.cursor)
    assert _requested(back, job) == [f"{SCORE}#1"]
    assert _cursor(back) == DqActionsCursor("run-3", _digests(f"{SCORE}#1"))

    # only the key issue resolved and back, with its page in the ledger: nothing to request, the skip says why
    _append(lakehouse, [_keys_issue(4, passed=True)])
    gone = _tick(lakehouse, back.cursor)
    assert _skipped(gone) == _nothing_to_send(4, 0, 0, 0)
    assert _cursor(gone) == DqActionsCursor("run-4", ())
    _append(lakehouse, [_keys_issue(5)])
    again = _tick(lakehouse, gone.cursor)
    assert _skipped(again) == _nothing_to_send(5, 1, 1, 0)
    assert _cursor(again) == DqActionsCursor("run-5", ())


def test_a_burst_of_issues_is_requested_over_several_ticks(
    lakehouse: LocalLakehouse, job: dg.JobDefinition
) -> None:
    assert MAX_RUNS_PER_TICK == 10
    count = MAX_RUNS_PER_TICK + 3
    assets = [f"silver/table_{i:02d}" for i in range(count)]
    expected = [f"dq:key_unique:{asset}" for asset in assets]
    _append(lakehouse, [_issue(1, "key_unique", asset, "ERROR") for asset in assets])

    first = _tick(lakehouse, None)
    assert _requested(first, job) == expected[:MAX_RUNS_PER_TICK]
    assert _cursor(first) == DqActionsCursor("run-1", _digests(*expected[:MAX_RUNS_PER_TICK]), backlog=True)

    # the same evaluation: the backlog is sent; the first tick's runs are waiting, one of them already done
    _ledger(lakehouse, expected[0], "created")
    second = _tick(lakehouse, first.cursor)
    assert _requested(second, job) == expected[MAX_RUNS_PER_TICK:]
    assert _cursor(second) == DqActionsCursor("run-1", _digests(*expected[1:]), backlog=False)

    third = _tick(lakehouse, second.cursor)
    assert _skipped(third) == NO_NEW_EVALUATION
    assert third.cursor == second.cursor


def test_drafts_carry_the_source_id_and_notion_links() -> None:
    [draft] = action_drafts([_issue(1, "key_not_null", "silver/budget_lines", "ERROR")]).values()
    assert draft.source_id == "dq:key_not_null:silver/budget_lines"
    assert draft.sample_urls == ("https://www.notion.so/k1",)
    assert draft.title == "Fix data quality: key_not_null on silver/budget_lines (2 rows)"


def test_an_issue_with_an_invalid_source_id_is_skipped_without_failing_the_tick(
    lakehouse: LocalLakehouse, job: dg.JobDefinition, caplog: pytest.LogCaptureFixture
) -> None:
    bad = _issue(1, "key_unique", "silver/my projects", "ERROR")  # a space: the Source ID cannot be stored
    assert list(action_drafts([bad, _keys_issue(1)])) == [KEYS]

    _append(lakehouse, [bad, _keys_issue(1), _score_issue(1)])
    with caplog.at_level(logging.WARNING, logger="ppm_resources.writeback"):
        result = _tick(lakehouse, None)
    assert _requested(result, job) == [SCORE, KEYS]
    assert _cursor(result) == DqActionsCursor("run-1", _digests(SCORE, KEYS))
    assert "no Action draft for dq:key_unique:silver/my projects" in caplog.text

    # an evaluation with only the invalid issue open: nothing to send, and it is not counted
    _append(lakehouse, [_issue(2, "key_unique", "silver/my projects", "ERROR")])
    only_bad = _tick(lakehouse, result.cursor)
    assert _skipped(only_bad) == _nothing_to_send(2, 0, 0, 0)
    assert _cursor(only_bad) == DqActionsCursor("run-2", ())


@pytest.mark.parametrize(
    "cursor",
    [
        None,
        "",
        "nope",
        "[]",
        '{"requested": "x"}',
        '{"evaluation_id": 1, "requested": "x", "backlog": "yes"}',
    ],
)
def test_unreadable_cursor_starts_over(cursor: str | None) -> None:
    assert DqActionsCursor.loads(cursor) == DqActionsCursor()


@pytest.mark.parametrize("cursor", ["nope", "[]", '{"evaluation_id": 1, "requested": "x", "backlog": "yes"}'])
def test_a_tick_with_an_unreadable_cursor_requests_the_open_issues(
    lakehouse: LocalLakehouse, job: dg.JobDefinition, cursor: str
) -> None:
    _append(lakehouse, [_keys_issue(1)])
    result = _tick(lakehouse, cursor)
    assert _requested(result, job) == [KEYS]
    assert _cursor(result) == DqActionsCursor("run-1", _digests(KEYS))
