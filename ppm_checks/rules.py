"""What a data-quality rule is and what evaluating one yields; shared by the checks and gold/data_quality_issues."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["ERROR", "WARN", "INFO"]

#: The row-level rule families: a live silver row that breaks one of them counts against the DQ score.
ROW_LEVEL_FAMILIES = ("required", "accepted_values", "ranges", "references", "parseable")

#: Shown with sample keys; at most this many per rule.
SAMPLE_LIMIT = 10


def notion_url(page_id: str) -> str:
    """The page's URL, as silver builds `notion_url` (`https://www.notion.so/<id without dashes>`)."""
    return "https://www.notion.so/" + page_id.replace("-", "")


def asset_path(table: str) -> str:
    """`silver.budget_lines` -> `silver/budget_lines` (the asset key as the UI writes it)."""
    return table.replace(".", "/")


@dataclass(frozen=True)
class RowRule:
    """A row-level rule on a silver Notion table, as SQL over the table's live rows aliased `t`.

    `condition` is true for a failing row; `value` is what the sample shows (the offending value); `joins`
    may join other tables (the parent of a relation) that `reads` names.
    """

    name: str
    family: str
    table: str
    column: str | None
    description: str
    condition: str
    value: str = "CAST(NULL AS STRING)"
    joins: str = ""
    reads: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sample:
    """One failing row (or column, period...): its key, the Notion page when it is one, the offending value."""

    key: str
    url: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class RuleResult:
    """One rule evaluated once.

    `failing_rows` counts what fails: rows for row-level rules, keys and reconciliation; changed columns for
    a schema change; violated bounds for row counts; (period, metric) pairs for the gold reconciliation.
    """

    rule: str
    family: str
    table: str
    severity: Severity
    failing_rows: int
    total_rows: int
    description: str
    samples: tuple[Sample, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    message: str | None = None  # why it failed, in words, when counts alone do not say it
    verdict: bool | None = None  # set when passing is not "nothing fails" (the DQ score, exclusions)

    @property
    def passed(self) -> bool:
        return self.failing_rows == 0 if self.verdict is None else self.verdict

    @property
    def asset(self) -> str:
        return asset_path(self.table)

    @property
    def row_level(self) -> bool:
        return self.family in ROW_LEVEL_FAMILIES
