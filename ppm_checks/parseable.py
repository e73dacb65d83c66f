"""Parseable values: a Notion value that does not convert to its column's type (silver's `unparseable:` flags)."""

from __future__ import annotations

from ppm_checks.rules import RowRule

_UNPARSEABLE = "filter(t.dq_flags, flag -> startswith(flag, 'unparseable:'))"


def parseable_rule(table: str) -> RowRule:
    """Live rows whose `dq_flags` has an `unparseable:<column>` entry (the silver value became NULL)."""
    return RowRule(
        name="values_parseable",
        family="parseable",
        table=table,
        column=None,
        description="Every number and date converts to its column's type (no unparseable:<column> in dq_flags).",
        condition=f"size({_UNPARSEABLE}) > 0",
        value=f"array_join({_UNPARSEABLE}, ', ')",
    )
