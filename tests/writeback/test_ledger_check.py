"""The ledger's check: every Source ID shown as created or existed names exactly one page."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from ppm_assets.tables import NOTION_WRITEBACKS
from ppm_assets.writeback.ledger import ledger_rows
from ppm_checks.writeback.rules import one_page_per_source_id
from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.writeback.writer import ActionResult, Outcome
from tests.writeback.conftest import draft

PAGE_A = "0123456789abcdef0123456789abcdef"
PAGE_B = "fedcba9876543210fedcba9876543210"


def _append(lakehouse: LocalLakehouse, source_id: str, outcome: Outcome, page: str | None) -> None:
    result = ActionResult(draft(source_id), outcome, page_id=page)
    lakehouse.append(NOTION_WRITEBACKS.name, ledger_rows([result], run_id="r", api_version="2022-06-28"))


def _evaluate(lakehouse: LocalLakehouse) -> dg.AssetCheckResult:
    return one_page_per_source_id(lakehouse)  # type: ignore[return-value]


def test_the_check_passes_before_any_write_back_and_for_one_page_per_item(tmp_path: Path) -> None:
    lakehouse = LocalLakehouse(root=str(tmp_path))
    assert _evaluate(lakehouse).passed
    _append(lakehouse, "dq:a:b", "failed", None)
    _append(lakehouse, "dq:a:b", "created", PAGE_A)
    _append(lakehouse, "dq:a:b", "existed", PAGE_A)
    result = _evaluate(lakehouse)
    assert result.passed and result.metadata["total_rows"].value == 1


def test_the_check_fails_naming_an_item_with_two_pages(tmp_path: Path) -> None:
    lakehouse = LocalLakehouse(root=str(tmp_path))
    _append(lakehouse, "dq:a:b", "created", PAGE_A)
    _append(lakehouse, "advisor:x", "created", PAGE_A)
    _append(lakehouse, "advisor:x", "existed", PAGE_B)
    result = _evaluate(lakehouse)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    assert result.metadata["sample_keys"].value == ["advisor:x"]
    assert result.metadata["failing_rows"].value == 1
