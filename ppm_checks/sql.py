"""SQL (Databricks dialect) for set-based data-quality rules. Pure functions: text in, text out."""

from __future__ import annotations

from ppm_resources.lakehouse import parse_table_name


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
