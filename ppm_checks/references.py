"""Referential integrity ("orphan records"): a relation id that is not a live page of the parent table."""

from __future__ import annotations

from ppm_checks.rules import RowRule
from ppm_checks.sql import quote


def orphan_rule(table: str, column: str, parent_table: str) -> RowRule:
    """Live rows of `table` whose `column` names a page that is missing from `parent_table` or archived there.

    A NULL relation passes here (the required-field rule reports it where the relation is required).
    """
    name = f"t.{quote(column)}"
    return RowRule(
        name=f"{column}_not_orphan",
        family="references",
        table=table,
        column=column,
        description=(
            f"{column} points at a live (not trashed, not deleted) page of {parent_table} (or is empty)."
        ),
        condition=f"{name} IS NOT NULL AND parent.page_id IS NULL",
        value=name,
        joins=(
            f"LEFT JOIN (SELECT DISTINCT page_id FROM {parent_table} WHERE NOT coalesce(is_archived, false)) "
            f"parent ON parent.page_id = {name}"
        ),
        reads=(parent_table,),
    )
