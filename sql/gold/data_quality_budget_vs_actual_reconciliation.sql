-- Data-quality rule `totals_reconcile_across_dimensions` on gold.budget_vs_actual. Databricks SQL, no parameters.
-- For every period and every additive metric (budget, actual, variance) the totals over programs, projects and
-- categories must be equal: every line in the mart has one program, one project and one category, and amounts
-- are rounded per line before they are summed (docs/data-dictionary.md (Gold finance marts)). One row per (period, metric), with the
-- three totals and whether they agree. variance_pct is a ratio, not additive, so it is not compared.
WITH totals AS (
  SELECT
    period,
    metric_name,
    coalesce(sum(CASE WHEN dimension = 'program' THEN value END), 0) AS program_total,
    coalesce(sum(CASE WHEN dimension = 'project' THEN value END), 0) AS project_total,
    coalesce(sum(CASE WHEN dimension = 'category' THEN value END), 0) AS category_total
  FROM gold.budget_vs_actual
  WHERE metric_name IN ('budget', 'actual', 'variance')
  GROUP BY period, metric_name
)
SELECT
  period,
  metric_name,
  program_total,
  project_total,
  category_total,
  program_total = project_total AND project_total = category_total AS reconciles
FROM totals
ORDER BY period, metric_name
