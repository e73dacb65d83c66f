-- gold.budget_vs_actual for a range of months: budget, actual, variance and variance % by program, project
-- and category, per month (`period`), in the reporting currency. Databricks SQL.
-- Parameters: :period_start, :period_end (first days of months, 'YYYY-MM-01', inclusive),
-- :reporting_currency (e.g. 'USD'). One statement for the whole range: a backfill reads silver once.
-- Budget = amount by committed month; actual = actual_amount by paid month, else invoice month. Lines with
-- an exclusion reason (sql/gold/budget_vs_actual_exclusions.sql) are left out of every dimension, so the
-- totals over programs, projects and categories are equal. Formulas: docs/data-dictionary.md (Gold finance marts).
WITH
-- include: gold/fragments/line_facts.sql
,
facts AS (
  SELECT budget_period AS period, program_page_id, program_name, project_page_id, project_name, category,
    budget_converted AS budget, CAST(0 AS DECIMAL(18, 2)) AS actual
  FROM line_facts
  WHERE exclusion_reason IS NULL AND budget_converted IS NOT NULL
    AND budget_period BETWEEN CAST(:period_start AS DATE) AND CAST(:period_end AS DATE)
  UNION ALL
  SELECT actual_period AS period, program_page_id, program_name, project_page_id, project_name, category,
    CAST(0 AS DECIMAL(18, 2)) AS budget, actual_converted AS actual
  FROM line_facts
  WHERE exclusion_reason IS NULL AND actual_converted IS NOT NULL
    AND actual_period BETWEEN CAST(:period_start AS DATE) AND CAST(:period_end AS DATE)
),
by_dimension AS (
  SELECT period, 'program' AS dimension, program_page_id AS dimension_key, program_name AS dimension_value,
    sum(budget) AS budget, sum(actual) AS actual
  FROM facts
  GROUP BY period, program_page_id, program_name
  UNION ALL
  SELECT period, 'project' AS dimension, project_page_id AS dimension_key, project_name AS dimension_value,
    sum(budget) AS budget, sum(actual) AS actual
  FROM facts
  GROUP BY period, project_page_id, project_name
  UNION ALL
  SELECT period, 'category' AS dimension, category AS dimension_key, category AS dimension_value,
    sum(budget) AS budget, sum(actual) AS actual
  FROM facts
  GROUP BY period, category
),
metrics AS (
  SELECT period, dimension, dimension_key, dimension_value, 'budget' AS metric_name, 1 AS metric_order,
    CAST(budget AS DECIMAL(18, 2)) AS value
  FROM by_dimension
  UNION ALL
  SELECT period, dimension, dimension_key, dimension_value, 'actual' AS metric_name, 2 AS metric_order,
    CAST(actual AS DECIMAL(18, 2)) AS value
  FROM by_dimension
  UNION ALL
  SELECT period, dimension, dimension_key, dimension_value, 'variance' AS metric_name, 3 AS metric_order,
    CAST(budget - actual AS DECIMAL(18, 2)) AS value
  FROM by_dimension
  UNION ALL
  SELECT period, dimension, dimension_key, dimension_value, 'variance_pct' AS metric_name, 4 AS metric_order,
    CAST(
      CASE WHEN budget <> 0 THEN round(CAST(budget - actual AS DOUBLE) / CAST(budget AS DOUBLE) * 100, 2) END
      AS DECIMAL(18, 2)
    ) AS value
  FROM by_dimension
)
SELECT
  concat_ws(':', metric_name, dimension, dimension_key, date_format(period, 'yyyy-MM')) AS metric_id,
  metric_name,
  dimension,
  dimension_key,
  dimension_value,
  period,
  value,
  CASE WHEN metric_name = 'variance_pct' THEN '%' ELSE :reporting_currency END AS unit
FROM metrics
ORDER BY period, dimension, dimension_value, dimension_key, metric_order
