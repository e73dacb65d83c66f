"""New High-impact Advisor recommendations become `create_notion_action` runs: one per recommendation (run key =
its Source ID, then `<source id>#<failures>` after failed write-backs), never one for a recommendation the
write-back ledger shows with a page nor for one requested earlier that is still pending, at most
`MAX_RUNS_PER_TICK` per tick."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest

from ppm_assets.definitions import defs
from ppm_assets.tables import ADVISOR_RECOMMENDATIONS, NOTION_WRITEBACKS
from ppm_assets.writeback.ledger import ledger_rows
from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.writeback.drafts import ActionDraft
from ppm_resources.writeback.writer import ActionResult, Outcome
from ppm_sensors.azure.advisor_actions import advisor_action_drafts, advisor_high_impact_to_actions
from ppm_sensors.writeback.jobs import JOB_NAME, writeback_config
from ppm_sensors.writeback.requests import MAX_RUNS_PER_TICK, key_digest

TABLE = ADVISOR_RECOMMENDATIONS.name
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


def _digest(run_key: str) -> str:
    return hashlib.sha256(run_key.encode()).hexdigest()[:16]


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


@pytest.fixture
def lakehouse(tmp_path: Path) -> LocalLakehouse:
    return LocalLakehouse(root=str(tmp_path / "lakehouse"))


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


def _tick(lakehouse: LocalLakehouse, cursor: str | None) -> dg.SensorExecutionData:
    with dg.build_sensor_context(
        cursor=cursor, resources={"lakehouse": lakehouse}, repository_def=defs.get_repository_def()
    ) as context:
        return advisor_high_impact_to_actions.evaluate_tick(context)


def _requested(result: dg.SensorExecutionData, job: dg.JobDefinition) -> list[str]:
    """The run keys of the tick's requests, after checking each is a valid write-back run of one Source ID (the
    run key without its `#<failures>` suffix)."""
    for request in result.run_requests:
        assert request.job_name == JOB_NAME
        source_id = re.sub(r"#[1-9][0-9]*$", "", request.run_key)
        assert request.run_config == writeback_config(source_ids=[source_id])
        assert request.tags["ppm/action_source"] == "advisor"
        dg.validate_run_config(job, request.run_config)
    if result.run_requests:
        assert result.skip_message is None
    return [request.run_key for request in result.run_requests]


def _skipped(result: dg.SensorExecutionData) -> str:
    assert not result.run_requests
    assert result.skip_message
    return result.skip_message


def _cursor(version: int, run_keys: list[str], backlog: bool = False) -> dict:
    """The cursor after a tick: the digests of the run keys requested for drafts still pending."""
    return {"version": version, "requested": sorted(_digest(k) for k in run_keys), "backlog": backlog}


def _loaded(result: dg.SensorExecutionData) -> dict:
    assert result.cursor is not None
    return json.loads(result.cursor)


def _unchanged(version: int) -> str:
    return f"{TABLE} unchanged since the last check (version {version})"


def _nothing_to_send(version: int, open_count: int, done: int, waiting: int) -> str:
    return (
        f"version {version}: no High-impact recommendation to send ({open_count} open: {done} have an Action, "
        f"{waiting} requested earlier)"
    )


def test_cursor_entries_are_run_key_digests() -> None:
    assert _digest(_source("a")) == key_digest(_source("a"))
    assert _digest(f"{_source('a')}#1") == key_digest(f"{_source('a')}#1")


def test_before_the_table_exists_the_sensor_skips(lakehouse: LocalLakehouse) -> None:
    result = _tick(lakehouse, None)
    assert _skipped(result) == f"{TABLE} does not exist yet"
    assert result.cursor is None


def test_each_high_impact_recommendation_is_requested(
    lakehouse: LocalLakehouse, job: dg.JobDefinition
) -> None:
    version = _write(lakehouse, [_row("b"), _row("a"), _row("m", "Medium"), _row("l", "Low")])
    result = _tick(lakehouse, None)
    assert _requested(result, job) == [_source("a"), _source("b")]  # sorted by Source ID; Medium/Low ignored
    assert _loaded(result) == _cursor(version, [_source("a"), _source("b")])


def test_an_unchanged_table_skips_and_keeps_the_cursor(
    lakehouse: LocalLakehouse, job: dg.JobDefinition
) -> None:
    version = _write(lakehouse, [_row("a")])
    first = _tick(lakehouse, None)
    assert _requested(first, job) == [_source("a")]

    again = _tick(lakehouse, first.cursor)
    assert _skipped(again) == _unchanged(version)
    assert again.cursor == first.cursor


def test_a_recommendation_requested_earlier_and_still_pending_is_not_requested_again(
    lakehouse: LocalLakehouse, job: dg.JobDefinition
) -> None:
    _write(lakehouse, [_row("a")])
    first = _tick(lakehouse, None)
    assert _requested(first, job) == [_source("a")]

    # a rebuild with the same rows: a new version; a's run has not written the ledger yet
    rebuilt = _write(lakehouse, [_row("a")])
    same = _tick(lakehouse, first.cursor)
    assert _skipped(same) == _nothing_to_send(rebuilt, 1, 0, 1)
    assert _loaded(same) == _cursor(rebuilt, [_source("a")])

    # the next version adds one High-impact recommendation: only it is requested
    version = _write(lakehouse, [_row("a"), _row("b"), _row("c", "Medium")])
    second = _tick(lakehouse, same.cursor)
    assert _requested(second, job) == [_source("b")]
    assert _loaded(second) == _cursor(version, [_source("a"), _source("b")])


def test_a_recommendation_whose_action_is_in_the_ledger_is_not_requested(lakehouse: LocalLakehouse) -> None:
    _ledger(lakehouse, _source("a"), "created")
    _ledger(lakehouse, _source("b"), "failed")  # a failure then a page: done
    _ledger(lakehouse, _source("b"), "existed")
    version = _write(lakehouse, [_row("a"), _row("b")])
    result = _tick(lakehouse, None)
    assert _skipped(result) == _nothing_to_send(version, 2, 2, 0)
    assert _loaded(result) == _cursor(version, [])
    assert _skipped(_tick(lakehouse, result.cursor)) == _unchanged(version)


def test_a_failed_write_back_is_requested_again_under_a_new_run_key(
    lakehouse: LocalLakehouse, job: dg.JobDefinition
) -> None:
    a = _source("a")
    version = _write(lakehouse, [_row("a")])
    first = _tick(lakehouse, None)
    assert _requested(first, job) == [a]
    assert _loaded(first) == _cursor(version, [a])
    _ledger(lakehouse, a, "failed")

    # the same version: nothing is requested until the next one
    assert _skipped(_tick(lakehouse, first.cursor)) == _unchanged(version)

    version = _write(lakehouse, [_row("a")])
    second = _tick(lakehouse, first.cursor)
    assert _requested(second, job) == [f"{a}#1"]
    assert _loaded(second) == _cursor(version, [f"{a}#1"])

    # the retry has not written the ledger yet: waiting
    version = _write(lakehouse, [_row("a")])
    third = _tick(lakehouse, second.cursor)
    assert _skipped(third) == _nothing_to_send(version, 1, 0, 1)
    assert _loaded(third) == _cursor(version, [f"{a}#1"])

    _ledger(lakehouse, a, "failed")  # the retry failed too
    version = _write(lakehouse, [_row("a")])
    fourth = _tick(lakehouse, third.cursor)
    assert _requested(fourth, job) == [f"{a}#2"]
    assert _loaded(fourth) == _cursor(version, [f"{a}#2"])

    _ledger(lakehouse, a, "created")  # the third run made the page
    version = _write(lakehouse, [_row("a")])
    fifth = _tick(lakehouse, fourth.cursor)
    assert _skipped(fifth) == _nothing_to_send(version, 1, 1, 0)
    assert _loaded(fifth) == _cursor(version, [])


def test_a_failed_ledger_row_before_the_first_tick_gives_a_suffixed_run_key(
    lakehouse: LocalLakehouse, job: dg.JobDefinition
) -> None:
    _ledger(lakehouse, _source("a"), "failed")
    _ledger(lakehouse, _source("b"), "created")
    version = _write(lakehouse, [_row("a"), _row("b")])
    result = _tick(lakehouse, None)
    assert _requested(result, job) == [f"{_source('a')}#1"]
    assert _loaded(result) == _cursor(version, [f"{_source('a')}#1"])


def test_a_resolved_recommendation_that_comes_back_keeps_its_action(
    lakehouse: LocalLakehouse, job: dg.JobDefinition
) -> None:
    _write(lakehouse, [_row("a"), _row("b")])
    first = _tick(lakehouse, None)
    assert _requested(first, job) == [_source("a"), _source("b")]
    _ledger(lakehouse, _source("a"), "created")  # a's run made its page; b's run failed
    _ledger(lakehouse, _source("b"), "failed")

    # Azure resolved both (a Medium row stays so the table is not empty): the cursor forgets them
    resolved_version = _write(lakehouse, [_row("m", "Medium")])
    resolved = _tick(lakehouse, first.cursor)
    assert _skipped(resolved) == _nothing_to_send(resolved_version, 0, 0, 0)
    assert _loaded(resolved) == _cursor(resolved_version, [])

    # both back: a has its Action (closed or not, it is not reopened); b is sent again
    back_version = _write(lakehouse, [_row("a"), _row("b")])
    back = _tick(lakehouse, resolved.cursor)
    assert _requested(back, job) == [f"{_source('b')}#1"]
    assert _loaded(back) == _cursor(back_version, [f"{_source('b')}#1"])

    # only a resolved and back again, with its page in the ledger: nothing to request, the skip reason says why
    gone_version = _write(lakehouse, [])
    gone = _tick(lakehouse, back.cursor)
    assert _skipped(gone) == _nothing_to_send(gone_version, 0, 0, 0)
    assert _loaded(gone) == _cursor(gone_version, [])
    again_version = _write(lakehouse, [_row("a")])
    again = _tick(lakehouse, gone.cursor)
    assert _skipped(again) == _nothing_to_send(again_version, 1, 1, 0)
    assert _loaded(again) == _cursor(again_version, [])


def test_a_burst_of_recommendations_is_requested_over_several_ticks(
    lakehouse: LocalLakehouse, job: dg.JobDefinition
) -> None:
    assert MAX_RUNS_PER_TICK == 10
    names = [f"rec-{i:02d}" for i in range(MAX_RUNS_PER_TICK + 2)]
    expected = [_source(name) for name in names]
    version = _write(lakehouse, [_row(name) for name in names])

    first = _tick(lakehouse, None)
    assert _requested(first, job) == expected[:MAX_RUNS_PER_TICK]
    assert _loaded(first) == _cursor(version, expected[:MAX_RUNS_PER_TICK], backlog=True)

    # the same version: the backlog is sent; the first tick's runs are waiting, one of them already done
    _ledger(lakehouse, expected[0], "created")
    second = _tick(lakehouse, first.cursor)
    assert _requested(second, job) == expected[MAX_RUNS_PER_TICK:]
    assert _loaded(second) == _cursor(version, expected[1:], backlog=False)

    third = _tick(lakehouse, second.cursor)
    assert _skipped(third) == _unchanged(version)
    assert third.cursor == second.cursor


def test_a_recommendation_with_an_invalid_source_id_is_skipped_without_failing_the_tick(
    lakehouse: LocalLakehouse, job: dg.JobDefinition, caplog: pytest.LogCaptureFixture
) -> None:
    bad = _row("bad name")  # a space: the Source ID cannot be stored
    assert list(advisor_action_drafts([bad, _row("a")])) == [_source("a")]

    version = _write(lakehouse, [_row("b"), bad, _row("a")])
    with caplog.at_level(logging.WARNING, logger="ppm_resources.writeback"):
        result = _tick(lakehouse, None)
    assert _requested(result, job) == [_source("a"), _source("b")]
    assert _loaded(result) == _cursor(version, [_source("a"), _source("b")])
    assert f"no Action draft for {_source('bad name')}" in caplog.text

    # a version with only the invalid recommendation: nothing to send, and it is not counted
    only_bad = _write(lakehouse, [bad])
    skipped = _tick(lakehouse, result.cursor)
    assert _skipped(skipped) == _nothing_to_send(only_bad, 0, 0, 0)
    assert _loaded(skipped) == _cursor(only_bad, [])


@pytest.mark.parametrize(
    "cursor",
    [None, "", "nope", "[]", '{"requested": "x"}', '{"version": "0", "requested": [1], "backlog": "yes"}'],
)
def test_an_unreadable_cursor_starts_over(
    lakehouse: LocalLakehouse, job: dg.JobDefinition, cursor: str | None
) -> None:
    version = _write(lakehouse, [_row("a"), _row("b")])
    result = _tick(lakehouse, cursor)
    assert _requested(result, job) == [_source("a"), _source("b")]
    assert _loaded(result) == _cursor(version, [_source("a"), _source("b")])
