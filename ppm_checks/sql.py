"""SQL (Databricks dialect) for set-based data-quality rules. Pure functions: text in, text out."""

from __future__ import annotations

from collections.abc import Sequence

from ppm_checks.rules import RowRule
from ppm_resources.lakehouse import parse_table_name, sql_string


def _quote(column: str) -> str:
    if not column.replace("_", "").isalnum():
        raise ValueError(f"invalid column name {column!r}")
    return f"`{column}`"


def key_violations_sql(table: str, key_columns: list[str], sample_limit: int = 10) -> str:
    """Rows whose key is null or shared with another row: `failing_rows` (total) and up to N sample keys."""
    parse_table_name(table)
    if not key_columns:
        raise ValueError("a key needs at least one column")
    keys = [_quote(c) for c in key_columns]
    key_text = "concat_ws('|', " + ", ".join(f"coalesce(CAST({k} AS STRING), '<null>')" for k in keys) + ")"
    any_null = " OR ".join(f"{k} IS NULL" for k in keys)
    return f"""
WITH keyed AS (
  SELECT {key_text} AS key_text, ({any_null}) AS has_null_key
  FROM {table}
),
grouped AS (
  SELECT key_text, count(*) AS row_count, max(CAST(has_null_key AS INT)) AS has_null_key
  FROM keyed
  GROUP BY key_text
),
failing AS (
  SELECT key_text, row_count FROM grouped WHERE row_count > 1 OR has_null_key = 1
)
SELECT
  (SELECT coalesce(sum(row_count), 0) FROM failing) AS failing_rows,
  (SELECT count(*) FROM keyed) AS total_rows,
  (SELECT collect_list(key_text) FROM (SELECT key_text FROM failing ORDER BY key_text LIMIT {int(sample_limit)})) AS sample_keys
"""


def quote(column: str) -> str:
    """A column name as a quoted identifier (snake case only: names come from config files)."""
    return _quote(column)


#: Pseudo-rules of `row_rules_sql`'s result carrying the table's totals.
LIVE_ROWS = "__live_rows__"
FAILING_ANY = "__failing_any_rule__"


def _live_rows_cte(table: str) -> str:
    parse_table_name(table)
    return f"live AS (\n  SELECT * FROM {table} WHERE NOT coalesce(is_archived, false)\n)"


def _failures_select(rule: RowRule) -> str:
    """The failing live rows of one rule (over the `live` CTE): rule, page_id, notion_url, value."""
    joins = f" {rule.joins}" if rule.joins else ""
    return (
        f"  SELECT {sql_string(rule.name)} AS rule, t.page_id, t.notion_url, CAST({rule.value} AS STRING) AS value\n"
        f"  FROM live t{joins}\n"
        f"  WHERE {rule.condition}"
    )


def rule_failures_sql(rule: RowRule) -> str:
    """Every live row of `rule.table` that breaks `rule` (page_id, notion_url, value), by page id."""
    return f"WITH {_live_rows_cte(rule.table)}\n{_failures_select(rule)}\nORDER BY page_id\n"


def row_rules_sql(table: str, rules: Sequence[RowRule], sample_limit: int = 10) -> str:
    """One statement evaluating every row-level rule of `table` over its live rows (not archived).

    Result columns `rule, failing_rows, page_id, notion_url, value`: per failing rule, up to `sample_limit`
    rows (lowest page ids first) each carrying the rule's failing-row count; plus a `__live_rows__` row (live
    rows of the table) and a `__failing_any_rule__` row (live rows breaking at least one rule).
    """
    failing = (
        "\n  UNION ALL\n".join(_failures_select(rule) for rule in rules)
        if rules
        else "  SELECT CAST(NULL AS STRING) AS rule, page_id, notion_url, CAST(NULL AS STRING) AS value\n"
        "  FROM live WHERE false"
    )
    return f"""
WITH {_live_rows_cte(table)},
failing AS (
{failing}
),
ranked AS (
  SELECT rule, page_id, notion_url, value,
    count(*) OVER (PARTITION BY rule) AS failing_rows,
    row_number() OVER (PARTITION BY rule ORDER BY page_id) AS sample_rank
  FROM failing
)
SELECT rule, failing_rows, page_id, notion_url, value FROM ranked WHERE sample_rank <= {int(sample_limit)}
UNION ALL
SELECT '{LIVE_ROWS}' AS rule, count(*) AS failing_rows, NULL AS page_id, NULL AS notion_url, NULL AS value FROM live
UNION ALL
SELECT '{FAILING_ANY}' AS rule, count(DISTINCT page_id) AS failing_rows, NULL AS page_id, NULL AS notion_url,
  NULL AS value
FROM failing
"""
