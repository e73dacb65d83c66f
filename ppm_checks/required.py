"""Required fields: a required column is NULL, blank text or an empty list (Notion keeps blank titles)."""

from __future__ import annotations

from ppm_checks.rules import RowRule
from ppm_checks.sql import quote
from ppm_resources.notion.mapping import ColumnMapping, DatabaseMapping


def missing_condition(column: ColumnMapping) -> str:
    """SQL (alias `t`) true when the column has no value, by its type."""
    name = f"t.{quote(column.column_name)}"
    if column.column_type == "string":
        return f"{name} IS NULL OR trim({name}) = ''"
    if column.kind.multi_valued and not column.kind.single_item:
        return f"{name} IS NULL OR size({name}) = 0"
    return f"{name} IS NULL"


def required_rule(database: DatabaseMapping, column: ColumnMapping) -> RowRule:
    return RowRule(
        name=f"{column.column_name}_present",
        family="required",
        table=database.silver_table_name,
        column=column.column_name,
        description=(
            f"{column.column_name} (Notion property {column.notion_property!r}) is set on every live row: "
            "not NULL, not blank, not an empty list."
        ),
        condition=missing_condition(column),
    )


def required_rules(database: DatabaseMapping, extra_columns: list[str]) -> list[RowRule]:
    """The mapping's `required: true` columns plus `extra_columns` (from config/dq_rules.yaml)."""
    columns = [c for c in database.columns if c.required or c.column_name in extra_columns]
    return [required_rule(database, column) for column in columns]
