"""Table shape: schema changes and live-row counts, each compared with the table's previous version."""

from __future__ import annotations

import pyarrow as pa

from ppm_checks.config import RowCountBounds
from ppm_checks.rules import RuleResult, Sample, Severity
from ppm_resources.lakehouse import Lakehouse, LakehouseError, parse_table_name

SCHEMA_RULE = "schema_unchanged"
ROW_COUNT_RULE = "row_count_within_bounds"


def previous_version(lakehouse: Lakehouse, table: str) -> int | None:
    """The version before the current one (the previous write), or None for a table written once."""
    history = lakehouse.history(table, limit=2)
    return history[1].version if len(history) > 1 else None


def schema_sql(table: str, version: int | None = None) -> str:
    parse_table_name(table)
    travel = f" VERSION AS OF {int(version)}" if version is not None else ""
    return f"SELECT * FROM {table}{travel} LIMIT 0"


def live_rows_sql(table: str, version: int | None = None) -> str:
    parse_table_name(table)
    travel = f" VERSION AS OF {int(version)}" if version is not None else ""
    return f"SELECT count_if(NOT coalesce(is_archived, false)) AS live_rows FROM {table}{travel}"


def schema_changes(previous: pa.Schema, current: pa.Schema) -> list[Sample]:
    """Columns added, removed or retyped between two schemas (key = column, value = what changed)."""
    before = {f.name: str(f.type) for f in previous}
    after = {f.name: str(f.type) for f in current}
    changes = [Sample(name, None, f"added ({after[name]})") for name in after if name not in before]
    changes += [Sample(name, None, f"removed (was {before[name]})") for name in before if name not in after]
    changes += [
        Sample(name, None, f"type {before[name]} -> {after[name]}")
        for name in after
        if name in before and before[name] != after[name]
    ]
    return changes


def evaluate_schema_change(lakehouse: Lakehouse, table: str, severity: Severity) -> RuleResult:
    """WARN when the last write changed the table's columns (downstream SQL and consumers may break)."""
    description = f"The columns of {table} (names and types) are the same as in its previous version."
    previous = previous_version(lakehouse, table)
    current = lakehouse.query(schema_sql(table)).schema
    changes: list[Sample] = []
    unreadable = None
    if previous is not None:
        try:
            changes = schema_changes(lakehouse.query(schema_sql(table, previous)).schema, current)
        except LakehouseError as error:  # e.g. its files were vacuumed
            unreadable = f"version {previous} of {table} cannot be read ({error}); nothing compared"
    return RuleResult(
        rule=SCHEMA_RULE,
        family="schema_change",
        table=table,
        severity=severity,
        failing_rows=len(changes),
        total_rows=len(current),
        description=description,
        samples=tuple(changes),
        details={"previous_version": previous},
        message=(
            f"{table} changed since version {previous}: "
            + "; ".join(f"{c.key} {c.value}" for c in changes)
            + ". Check the SQL and consumers that read these columns."
            if changes
            else unreadable
        ),
    )


def row_count_problems(live_rows: int, previous_live_rows: int | None, bounds: RowCountBounds) -> list[str]:
    """What is wrong with a live-row count, in words (empty when within bounds)."""
    problems = []
    if live_rows < bounds.min_rows:
        problems.append(f"{live_rows} live rows, fewer than the minimum {bounds.min_rows}")
    if bounds.max_drop_pct is not None and previous_live_rows:
        drop = previous_live_rows - live_rows
        if drop * 100 > bounds.max_drop_pct * previous_live_rows:
            problems.append(
                f"live rows dropped from {previous_live_rows} to {live_rows} "
                f"(-{drop * 100 / previous_live_rows:.1f} %, more than {bounds.max_drop_pct:g} %)"
            )
    return problems


def evaluate_row_count(
    lakehouse: Lakehouse, table: str, bounds: RowCountBounds, severity: Severity
) -> RuleResult:
    """WARN when the live rows are fewer than the minimum or dropped too much since the previous version."""
    previous = previous_version(lakehouse, table)
    live = int(lakehouse.query(live_rows_sql(table)).to_pylist()[0]["live_rows"] or 0)
    before = None
    if previous is not None:
        try:
            before = int(lakehouse.query(live_rows_sql(table, previous)).to_pylist()[0]["live_rows"] or 0)
        except LakehouseError:
            before = None  # vacuumed: only the minimum can be checked
    problems = row_count_problems(live, before, bounds)
    drop = (
        f", at most {bounds.max_drop_pct:g} % fewer than the previous version" if bounds.max_drop_pct else ""
    )
    return RuleResult(
        rule=ROW_COUNT_RULE,
        family="row_counts",
        table=table,
        severity=severity,
        failing_rows=len(problems),
        total_rows=live,
        description=f"{table} has at least {bounds.min_rows} live rows{drop}.",
        samples=tuple(Sample(table, None, problem) for problem in problems),
        details={"live_rows": live, "previous_live_rows": before, "previous_version": previous},
        message="; ".join(problems) or None,
    )
