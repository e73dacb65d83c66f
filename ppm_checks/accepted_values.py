"""Accepted values: a text column holds one of a fixed list of values (Notion select/status options)."""

from __future__ import annotations

from collections.abc import Sequence

from ppm_checks.rules import RowRule
from ppm_checks.sql import quote
from ppm_resources.lakehouse import sql_string


def accepted_values_rule(table: str, column: str, values: Sequence[str]) -> RowRule:
    """Live rows whose non-blank `column` is not exactly one of `values` (NULL and blank pass)."""
    if not values:
        raise ValueError(f"accepted values of {table}.{column}: the list is empty")
    name = f"t.{quote(column)}"
    listed = ", ".join(sql_string(v) for v in values)
    return RowRule(
        name=f"{column}_accepted_values",
        family="accepted_values",
        table=table,
        column=column,
        description=f"{column} is one of: {', '.join(values)} (or empty).",
        condition=f"{name} IS NOT NULL AND trim({name}) <> '' AND {name} NOT IN ({listed})",
        value=name,
    )
