"""Silver SQL for a Notion database, generated from its mapping (Databricks dialect). Pure functions.

The statement reads `bronze.notion_raw_pages`, keeps each page's latest observation (bronze is append-only),
types every mapped property with TRY_CAST (an unparseable value becomes NULL and a `dq_flags` entry, never a
failure), and marks trashed/deleted pages `is_archived`.
"""

from __future__ import annotations

from ppm_assets.notion.bronze_rows import LATEST_PAGE_VERSION
from ppm_assets.tables import NOTION_RAW_PAGES
from ppm_resources.lakehouse import sql_string
from ppm_resources.notion.mapping import ColumnMapping, DatabaseMapping


def raw_value_sql(column: ColumnMapping) -> str:
    """The bronze value: text from `properties`, or the array from `property_lists`."""
    source = "property_lists" if column.kind.multi_valued else "properties"
    return f"{source}[{sql_string(column.notion_property)}]"


def typed_value_sql(column: ColumnMapping) -> str:
    raw = raw_value_sql(column)
    kind = column.column_type
    if kind == "string":
        return raw
    if kind == "date":  # "start" or "start/end"; a date-time start keeps its calendar date
        return f"TRY_CAST(left(split_part({raw}, '/', 1), 10) AS DATE)"
    if kind == "date_end":
        return f"TRY_CAST(left(nullif(split_part({raw}, '/', 2), ''), 10) AS DATE)"
    if column.kind.sql_type is not None:
        return f"TRY_CAST({raw} AS {column.kind.sql_type})"
    if column.kind.single_item:
        return f"try_element_at({raw}, 1)"
    return f"coalesce({raw}, CAST(array() AS ARRAY<STRING>))"  # relations, people, multi_select, files


def dq_flag_sqls(column: ColumnMapping) -> list[str]:
    """Row-level defects of one column, each a CASE yielding a flag or NULL."""
    raw, typed, name = raw_value_sql(column), typed_value_sql(column), column.column_name
    flags = []
    if column.required:
        if column.kind.single_item:
            missing = f"{typed} IS NULL"
        elif column.kind.multi_valued:
            missing = f"{raw} IS NULL OR size({raw}) = 0"
        else:  # a blank text counts as missing: Notion keeps whitespace-only titles
            missing = f"{raw} IS NULL OR trim({raw}) = ''"
        flags.append(f"CASE WHEN {missing} THEN 'missing:{name}' END")
    if column.kind.parsed:
        flags.append(f"CASE WHEN {raw} IS NOT NULL AND {typed} IS NULL THEN 'unparseable:{name}' END")
    return flags


def notion_url_sql() -> str:
    return "concat('https://www.notion.so/', replace(page_id, '-', ''))"


def silver_select_sql(database_name: str, database: DatabaseMapping) -> str:
    """SELECT producing `silver.<table>` from bronze: one row per page, latest observation, typed."""
    columns = ",\n  ".join(f"{typed_value_sql(c)} AS `{c.column_name}`" for c in database.columns)
    flags = [flag for c in database.columns for flag in dq_flag_sqls(c)]
    dq_flags = (
        "filter(array(\n    " + ",\n    ".join(flags) + "\n  ), flag -> flag IS NOT NULL)"
        if flags
        else "CAST(array() AS ARRAY<STRING>)"
    )
    return f"""-- silver.{database.silver_table}: generated from config/notion_mapping.yaml (database {database_name!r})
WITH latest AS (
  SELECT *
  FROM {NOTION_RAW_PAGES.name}
  WHERE database_name = {sql_string(database_name)}
  {LATEST_PAGE_VERSION}
)
SELECT
  page_id,
  {columns},
  {notion_url_sql()} AS notion_url,
  created_time,
  last_edited_time,
  coalesce(in_trash, false) OR coalesce(deleted, false) AS is_archived,
  {dq_flags} AS dq_flags,
  synced_at
FROM latest
"""
