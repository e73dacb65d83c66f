"""Ranges: numbers within bounds (amounts not negative), dates in order (an end not before its start)."""

from __future__ import annotations

from ppm_checks.rules import RowRule
from ppm_checks.sql import quote


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def bounds_rule(table: str, column: str, minimum: float | None, maximum: float | None) -> RowRule:
    """Live rows whose `column` is below `minimum` or above `maximum` (inclusive bounds; NULL passes)."""
    name = f"t.{quote(column)}"
    conditions = []
    if minimum is not None:
        conditions.append(f"{name} < {_number(minimum)}")
    if maximum is not None:
        conditions.append(f"{name} > {_number(maximum)}")
    if not conditions:
        raise ValueError(f"range on {table}.{column}: give a minimum or a maximum")
    if minimum == 0 and maximum is None:
        rule, words = f"{column}_not_negative", "not negative"
    else:
        limits = [f">= {_number(minimum)}"] if minimum is not None else []
        limits += [f"<= {_number(maximum)}"] if maximum is not None else []
        rule, words = f"{column}_in_range", " and ".join(limits)
    return RowRule(
        name=rule,
        family="ranges",
        table=table,
        column=column,
        description=f"{column} is {words} (or empty).",
        condition=" OR ".join(conditions),
        value=f"CAST({name} AS STRING)",
    )


def not_before_rule(table: str, column: str, earlier: str) -> RowRule:
    """Live rows whose `column` is before `earlier` (an end before its start); a NULL on either side passes."""
    late, early = f"t.{quote(column)}", f"t.{quote(earlier)}"
    return RowRule(
        name=f"{column}_not_before_{earlier}",
        family="ranges",
        table=table,
        column=column,
        description=f"{column} is not before {earlier} (when both are set).",
        condition=f"{late} < {early}",
        value=f"concat('{earlier} ', CAST({early} AS STRING), ', {column} ', CAST({late} AS STRING))",
    )
