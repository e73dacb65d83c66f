"""New critical DQ issues become Action drafts once per appearance; the write-back is not built (skip reason)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest

from ppm_assets.definitions import defs
from ppm_assets.quality.data_quality_issues import ISSUES_SCHEMA, TABLE
from ppm_resources.lakehouse import LocalLakehouse
from ppm_sensors.quality.dq_actions import DqActionsCursor, action_drafts, dq_critical_issues_to_actions

START = datetime(2026, 11, 1, tzinfo=UTC)


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


@pytest.fixture
def lakehouse(tmp_path: Path) -> LocalLakehouse:
    return LocalLakehouse(root=str(tmp_path / "lakehouse"))


def _tick(lakehouse: LocalLakehouse, cursor: str | None) -> tuple[str, str | None]:
    with dg.build_sensor_context(
        cursor=cursor, resources={"lakehouse": lakehouse}, repository_def=defs.get_repository_def()
    ) as context:
        result = dq_critical_issues_to_actions.evaluate_tick(context)
    assert not result.run_requests
    return result.skip_message or "", result.cursor


def _append(lakehouse: LocalLakehouse, rows: list[dict]) -> None:
    lakehouse.append(TABLE, pa.Table.from_pylist(rows, schema=ISSUES_SCHEMA))


def test_each_critical_issue_is_reported_once_per_appearance(lakehouse: LocalLakehouse) -> None:
    message, cursor = _tick(lakehouse, None)
    assert message == "no new data-quality evaluation since the last check" and cursor is None

    _append(
        lakehouse,
        [
            _issue(1, "key_unique", "silver/projects", "ERROR"),
            _issue(1, "required_name", "silver/risks", "WARN"),  # not critical
            _issue(1, "dq_score_meets_threshold", "gold/data_quality_issues", "INFO", passed=True),
        ],
    )
    message, cursor = _tick(lakehouse, cursor)
    assert "1 new critical issues" in message and "key_unique on silver/projects" in message
    assert "Notion write-back not built yet" in message
    assert DqActionsCursor.loads(cursor).open_issues == ("dq:key_unique:silver/projects",)

    again, same = _tick(lakehouse, cursor)
    assert again == "no new data-quality evaluation since the last check" and same == cursor  # cursor kept

    # the next evaluation: the same key issue (already reported) plus the DQ score under the threshold
    _append(
        lakehouse,
        [
            _issue(2, "key_unique", "silver/projects", "ERROR"),
            _issue(2, "dq_score_meets_threshold", "gold/data_quality_issues", "ERROR"),
        ],
    )
    message, cursor = _tick(lakehouse, cursor)
    assert "1 new critical issues" in message and "dq_score_meets_threshold" in message
    assert "key_unique" not in message

    # resolved, then back: reported again
    _append(
        lakehouse, [_issue(3, "dq_score_meets_threshold", "gold/data_quality_issues", "INFO", passed=True)]
    )
    message, cursor = _tick(lakehouse, cursor)
    assert "no new critical issue (0 still open" in message
    _append(lakehouse, [_issue(4, "key_unique", "silver/projects", "ERROR")])
    message, cursor = _tick(lakehouse, cursor)
    assert "1 new critical issues" in message and "key_unique" in message


def test_drafts_carry_the_source_id_and_notion_links() -> None:
    [draft] = action_drafts([_issue(1, "key_not_null", "silver/budget_lines", "ERROR")]).values()
    assert draft.source_id == "dq:key_not_null:silver/budget_lines"
    assert draft.sample_urls == ("https://www.notion.so/k1",)
    assert draft.title == "Fix data quality: key_not_null on silver/budget_lines (2 rows)"


@pytest.mark.parametrize("cursor", [None, "", "nope", "[]", '{"open_issues": "x"}'])
def test_unreadable_cursor_starts_over(cursor: str | None) -> None:
    assert DqActionsCursor.loads(cursor) == DqActionsCursor()
